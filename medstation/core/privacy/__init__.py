"""Privacy: de-identification of DICOM studies (PS3.15 Annex E), VCF exports and notes. No Qt."""
