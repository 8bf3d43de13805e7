"""Attributes that no Table E.1-1 row names and that MedStation keeps because they are known to be safe.

PS3.15 E.1.1 leaves attributes outside the table to the implementer. MedStation removes every standard attribute
that is neither in the table nor here (as CTP and dicognito do), so a new or rare attribute never carries identity
into a copy by default. This list keeps what an image needs to stay valid and viewable (the image pixel module,
geometry, rescale, windows, multi-frame functional groups), the acquisition physics, and the structure of SR,
segmentation and presentation-state content (their free text and dates are governed by the table). Unlisted
attributes whose VR holds only numbers or binary words are kept too: they cannot spell a name, an identifier or a
date in a way a reader would see.
"""
from __future__ import annotations

from functools import lru_cache

NUMERIC_VRS = frozenset({"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "OF", "OD", "OL", "OV", "AT"})

SAFE_KEYWORDS = """
SpecificCharacterSet ImageType SOPClassUID Modality Manufacturer ConversionType PixelData FloatPixelData
DoubleFloatPixelData Rows Columns BitsAllocated BitsStored HighBit PixelRepresentation SamplesPerPixel
PhotometricInterpretation PlanarConfiguration NumberOfFrames FrameIncrementPointer FrameTime FrameTimeVector
PixelAspectRatio SmallestImagePixelValue LargestImagePixelValue PixelPaddingValue PixelPaddingRangeLimit
RedPaletteColorLookupTableDescriptor GreenPaletteColorLookupTableDescriptor BluePaletteColorLookupTableDescriptor
RedPaletteColorLookupTableData GreenPaletteColorLookupTableData BluePaletteColorLookupTableData ICCProfile
ColorSpace LossyImageCompression LossyImageCompressionRatio LossyImageCompressionMethod BurnedInAnnotation
RecognizableVisualFeatures PresentationLUTShape PixelPresentation VolumetricProperties
VolumeBasedCalculationTechnique ContentQualification QualityControlImage PixelSpacing ImagerPixelSpacing
NominalScannedPixelSpacing PixelSpacingCalibrationType ImagePositionPatient ImageOrientationPatient SliceThickness
SpacingBetweenSlices SliceLocation PatientOrientation PatientPosition AnatomicalOrientationType
PositionReferenceIndicator ImageLaterality Laterality BodyPartExamined ViewPosition RescaleIntercept RescaleSlope
RescaleType WindowCenter WindowWidth VOILUTFunction ModalityLUTSequence VOILUTSequence LUTDescriptor LUTData
LUTExplanation ModalityLUTType InstanceNumber SeriesNumber AcquisitionNumber TemporalPositionIdentifier
NumberOfTemporalPositions TemporalPositionIndex ImagesInAcquisition KVP ExposureTime XRayTubeCurrent Exposure
ExposureInuAs ConvolutionKernel DataCollectionDiameter ReconstructionDiameter GantryDetectorTilt TableHeight
RotationDirection FilterType GeneratorPower FocalSpots CTDIvol SpiralPitchFactor ExposureModulationType
RevolutionTime SingleCollimationWidth TotalCollimationWidth TableSpeed TableFeedPerRotation ScanOptions
ScanningSequence SequenceVariant MRAcquisitionType SequenceName AngioFlag EchoTime RepetitionTime InversionTime
FlipAngle EchoNumbers EchoTrainLength MagneticFieldStrength ImagingFrequency ImagedNucleus NumberOfAverages
PercentSampling PercentPhaseFieldOfView PixelBandwidth AcquisitionMatrix InPlanePhaseEncodingDirection
NumberOfPhaseEncodingSteps DiffusionBValue DiffusionGradientOrientation ReceiveCoilName TransmitCoilName
Units CorrectedImage DecayCorrection SeriesType CountsSource RandomsCorrectionMethod AttenuationCorrectionMethod
ReconstructionMethod DecayFactor DoseCalibrationFactor ScatterFractionFactor DeadTimeFactor FrameReferenceTime
ActualFrameDuration PhotometricInterpretation SharedFunctionalGroupsSequence PerFrameFunctionalGroupsSequence
PixelMeasuresSequence PlanePositionSequence PlaneOrientationSequence PixelValueTransformationSequence
FrameVOILUTSequence FrameContentSequence DimensionIndexValues StackID InStackPositionNumber
DimensionOrganizationSequence DimensionIndexSequence DimensionIndexPointer FunctionalGroupPointer
DimensionOrganizationType TemporalPositionIndex CTImageFrameTypeSequence MRImageFrameTypeSequence FrameType
SegmentSequence SegmentNumber SegmentAlgorithmType SegmentationType SegmentedPropertyCategoryCodeSequence
SegmentedPropertyTypeCodeSequence SegmentedPropertyTypeModifierCodeSequence AnatomicRegionSequence
SegmentIdentificationSequence ReferencedSegmentNumber MaximumFractionalValue SegmentationFractionalType
RecommendedDisplayCIELabValue RecommendedDisplayGrayscaleValue ReferencedSeriesSequence
ReferencedInstanceSequence ReferencedSOPClassUID ReferencedFrameNumber DerivationImageSequence
PurposeOfReferenceCodeSequence DerivationCodeSequence
CodeValue CodingSchemeDesignator CodingSchemeVersion CodeMeaning LongCodeValue URNCodeValue ContextIdentifier
MappingResource ValueType RelationshipType ContinuityOfContent ConceptNameCodeSequence ConceptCodeSequence
MeasuredValueSequence NumericValue FloatingPointValue MeasurementUnitsCodeSequence ContentTemplateSequence
TemplateIdentifier ReferencedSOPSequence CompletionFlag VerificationFlag PreliminaryFlag GraphicType
GraphicData PixelOriginInterpretation CurrentRequestedProcedureEvidenceSequence
PertinentOtherEvidenceSequence GraphicAnnotationUnits BoundingBoxAnnotationUnits AnchorPointAnnotationUnits
BoundingBoxTopLeftHandCorner BoundingBoxBottomRightHandCorner AnchorPoint AnchorPointVisibility
BoundingBoxTextHorizontalJustification GraphicObjectSequence TextObjectSequence GraphicLayer GraphicLayerOrder
GraphicLayerSequence GraphicDimensions NumberOfGraphicPoints GraphicFilled DisplayedAreaSelectionSequence
DisplayedAreaTopLeftHandCorner DisplayedAreaBottomRightHandCorner PresentationSizeMode PresentationPixelSpacing
PresentationPixelAspectRatio SoftcopyVOILUTSequence ImageRotation ImageHorizontalFlip
SequenceOfUltrasoundRegions RegionSpatialFormat RegionDataType RegionFlags RegionLocationMinX0
RegionLocationMinY0 RegionLocationMaxX1 RegionLocationMaxY1 ReferencePixelX0 ReferencePixelY0
PhysicalUnitsXDirection PhysicalUnitsYDirection ReferencePixelPhysicalValueX ReferencePixelPhysicalValueY
PhysicalDeltaX PhysicalDeltaY TransducerFrequency NumberOfSlices EncapsulatedPixelDataValueTotalLength
ExtendedOffsetTable ExtendedOffsetTableLengths
"""


@lru_cache(maxsize=1)
def safe_tags() -> frozenset[int]:
    from pydicom.datadict import tag_for_keyword

    tags = set()
    for keyword in SAFE_KEYWORDS.split():
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise ValueError(f"safe list: {keyword} is not a DICOM keyword")
        tags.add(tag)
    return frozenset(tags)


def is_safe(tag: int, vr: str) -> bool:
    """Whether an attribute that no table row names may stay in a de-identified copy."""
    tag = int(tag)
    if tag in safe_tags() or vr in NUMERIC_VRS:
        return True
    group, element = tag >> 16, tag & 0xFFFF
    # overlay planes (60xx): the table governs Overlay Data and Comments; the rest describes the plane's geometry
    return 0x6000 <= group <= 0x60FF and element in (0x0010, 0x0011, 0x0015, 0x0022, 0x0040, 0x0045, 0x0050,
                                                      0x0051, 0x0052, 0x0100, 0x0102)
