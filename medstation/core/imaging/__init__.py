"""DICOM imaging: index, decode, assemble volumes. No Qt."""
