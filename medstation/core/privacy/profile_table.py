"""DICOM PS3.15 Annex E, Table E.1-1: the Application Level Confidentiality Profile attributes, as data.

One row per attribute: tag, name, whether it is used in standard composite IODs (Y/N), the Basic Profile action,
then the option columns that override it. Option keys: ``priv`` Retain Safe Private, ``uids`` Retain UIDs,
``dev`` Retain Device Identity, ``inst`` Retain Institution Identity, ``chars`` Retain Patient Characteristics,
``full`` Retain Longitudinal Temporal Information Full Dates, ``mod`` ... Modified Dates, ``desc`` Clean
Descriptors, ``struct`` Clean Structured Content, ``graph`` Clean Graphics. Action codes: D dummy, Z zero length
(or dummy), X remove, K keep, C clean, U consistent replacement UID, and the compound codes of the table.
Tags with ``xx`` are repeating groups (curves 50xx, overlays 60xx); ``private`` stands for every odd group.
Edition: 2026c (Basic Profile codes from the dicom-anonymizer package's list of that edition;
regenerate with scripts/gen_profile_table.py)
"""

EDITION = "2026c"

TABLE = """\
(0008,0050)|Accession Number|Y|Z|
(0018,4000)|Acquisition Comments|N|X|desc=C
(0040,0555)|Acquisition Context Sequence|Y|X/Z|struct=C
(0008,0022)|Acquisition Date|Y|X/Z|full=K;mod=C
(0008,002A)|Acquisition DateTime|Y|X/Z/D|full=K;mod=C
(0018,1400)|Acquisition Device Processing Description|Y|X/D|desc=C
(0018,11BB)|Acquisition Field Of View Label|Y|D|desc=C
(0018,9424)|Acquisition Protocol Description|Y|X|desc=C
(0008,0032)|Acquisition Time|Y|X/Z|full=K;mod=C
(0040,4035)|Actual Human Performers Sequence|N|X|
(0010,21B0)|Additional Patient History|Y|X|desc=C
(0040,A353)|Address (Trial)|N|X|
(0038,0010)|Admission ID|Y|X|
(0038,0020)|Admitting Date|N|X|full=K;mod=C
(0008,1084)|Admitting Diagnoses Code Sequence|Y|X|desc=C
(0008,1080)|Admitting Diagnoses Description|Y|X|desc=C
(0038,0021)|Admitting Time|N|X|full=K;mod=C
(0000,1000)|Affected SOP Instance UID|N|X|uids=K
(0010,2110)|Allergies|N|X|chars=C;desc=C
(4000,0010)|Arbitrary|N|X|
(0040,A078)|Author Observer Sequence|Y|X|
(2200,0005)|Barcode Value|Y|X/Z|
(300A,00C3)|Beam Description|Y|X|desc=C
(300A,00DD)|Bolus Description|Y|X|desc=C
(0010,1081)|Branch of Service|N|X|
(0016,004D)|Camera Owner Name|Y|X|
(0018,1007)|Cassette ID|Y|X|dev=K
(0012,0060)|Clinical Trial Coordinating Center Name|Y|Z|inst=K
(0012,0082)|Clinical Trial Protocol Ethics Committee Approval Number|Y|X|
(0012,0081)|Clinical Trial Protocol Ethics Committee Name|Y|D|inst=K
(0012,0020)|Clinical Trial Protocol ID|Y|D|
(0012,0021)|Clinical Trial Protocol Name|Y|Z|
(0012,0072)|Clinical Trial Series Description|Y|X|desc=C
(0012,0071)|Clinical Trial Series ID|Y|X|
(0012,0030)|Clinical Trial Site ID|Y|Z|inst=K
(0012,0031)|Clinical Trial Site Name|Y|Z|inst=K
(0012,0010)|Clinical Trial Sponsor Name|Y|D|
(0012,0040)|Clinical Trial Subject ID|Y|D|
(0012,0042)|Clinical Trial Subject Reading ID|Y|D|
(0012,0051)|Clinical Trial Time Point Description|Y|X|desc=C
(0012,0050)|Clinical Trial Time Point ID|Y|Z|
(0040,0310)|Comments on Radiation Dose|Y|X|desc=C
(0040,0280)|Comments on the Performed Procedure Step|Y|X|desc=C
(300A,02EB)|Compensator Description|Y|X|desc=C
(0020,9161)|Concatenation UID|Y|U|uids=K
(3010,000F)|Conceptual Volume Combination Description|Y|Z|desc=C
(3010,0017)|Conceptual Volume Description|Y|Z|desc=C
(3010,0006)|Conceptual Volume UID|Y|U|uids=K
(0040,3001)|Confidentiality Constraint on Patient Data Description|N|X|
(3010,0013)|Constituent Conceptual Volume UID|Y|U|uids=K
(0008,009C)|Consulting Physician's Name|Y|Z|
(0008,009D)|Consulting Physician Identification Sequence|Y|X|
(0050,001B)|Container Component ID|Y|X|
(0040,051A)|Container Description|Y|X|desc=C
(0040,0512)|Container Identifier|Y|D|
(0070,0086)|Content Creator's Identification Code Sequence|Y|X|
(0070,0084)|Content Creator's Name|Y|Z/D|
(0008,0023)|Content Date|Y|Z/D|full=K;mod=C
(0040,A730)|Content Sequence|Y|D|struct=C
(0008,0033)|Content Time|Y|Z/D|full=K;mod=C
(0018,0010)|Contrast/Bolus Agent|Y|Z/D|desc=C
(0018,A003)|Contribution Description|Y|X|desc=C
(0010,2150)|Country of Residence|N|X|
(0040,A307)|Current Observer (Trial)|N|X|
(0038,0300)|Current Patient Location|N|X|
(50xx,xxxx)|Curve Data|N|X|graph=C
(0008,0025)|Curve Date|Y|X|full=K;mod=C
(0008,0035)|Curve Time|Y|X|full=K;mod=C
(0040,A07C)|Custodial Organization Sequence|Y|X|
(FFFC,FFFC)|Data Set Trailing Padding|Y|X|
(0018,937F)|Decomposition Description|Y|X|desc=C
(0008,2111)|Derivation Description|Y|X|desc=C
(0018,700A)|Detector ID|Y|X/D|dev=K
(3010,001B)|Device Alternate Identifier|Y|Z|
(0050,0020)|Device Description|Y|X|dev=K
(3010,002D)|Device Label|Y|D|dev=K
(0018,1000)|Device Serial Number|Y|X/Z/D|dev=K
(0016,004B)|Device Setting Description|Y|X|desc=C
(0018,1002)|Device UID|Y|U|uids=K;dev=K
(FFFA,FFFA)|Digital Signatures Sequence|Y|X|
(0400,0100)|Digital Signature UID|Y|U|
(0020,9164)|Dimension Organization UID|Y|U|uids=K
(0038,0040)|Discharge Diagnosis Description|N|X|desc=C
(4008,011A)|Distribution Address|N|X|
(4008,0119)|Distribution Name|N|X|
(300A,0016)|Dose Reference Description|Y|X|desc=C
(300A,0013)|Dose Reference UID|Y|U|uids=K
(3010,006E)|Dosimetric Objective UID|Y|U|uids=K
(0018,9517)|End Acquisition DateTime|Y|X/D|full=K;mod=C
(3010,0037)|Entity Description|Y|X|desc=C
(3010,0035)|Entity Label|Y|D|desc=C
(3010,0038)|Entity Long Label|Y|D|desc=C
(3010,0036)|Entity Name|Y|X|desc=C
(300A,0676)|Equipment Frame of Reference Description|Y|X|desc=C
(0010,2160)|Ethnic Group|Y|X|chars=K
(0040,4011)|Expected Completion DateTime|N|X|full=K;mod=C
(0008,0058)|Failed SOP Instance UID List|N|U|uids=K
(0070,031A)|Fiducial UID|Y|U|uids=K
(0040,2017)|Filler Order Number / Imaging Service Request|Y|Z|
(3008,0054)|First Treatment Date|Y|X/D|full=K;mod=C
(300A,0196)|Fixation Device Description|Y|X|desc=C
(0034,0002)|Flow Identifier|Y|D|
(0034,0001)|Flow Identifier Sequence|Y|D|
(3010,007F)|Fractionation Notes|Y|Z|desc=C
(300A,0072)|Fraction Group Description|Y|X|desc=C
(0020,9158)|Frame Comments|Y|X|desc=C
(0020,0052)|Frame of Reference UID|Y|U|uids=K
(0034,0007)|Frame Origin Timestamp|Y|D|full=K;mod=C
(0018,1008)|Gantry ID|Y|X|dev=K
(0018,1005)|Generator ID|Y|X|dev=K
(0016,0076)|GPS Altitude|Y|X|
(0016,0075)|GPS Altitude Ref|Y|X|
(0016,008C)|GPS Area Information|Y|X|
(0016,008D)|GPS Date Stamp|Y|X|full=K;mod=C
(0016,0088)|GPS Dest Bearing|Y|X|
(0016,0087)|GPS Dest Bearing Ref|Y|X|
(0016,008A)|GPS Dest Distance|Y|X|
(0016,0089)|GPS Dest Distance Ref|Y|X|
(0016,0084)|GPS Dest Latitude|Y|X|
(0016,0083)|GPS Dest Latitude Ref|Y|X|
(0016,0086)|GPS Dest Longitude|Y|X|
(0016,0085)|GPS Dest Longitude Ref|Y|X|
(0016,008E)|GPS Differential|Y|X|
(0016,007B)|GPS DOP|Y|X|
(0016,0081)|GPS Img Direction|Y|X|
(0016,0080)|GPS Img Direction Ref|Y|X|
(0016,0072)|GPS Latitude|Y|X|
(0016,0071)|GPS Latitude Ref|Y|X|
(0016,0074)|GPS Longitude|Y|X|
(0016,0073)|GPS Longitude Ref|Y|X|
(0016,0082)|GPS Map Datum|Y|X|
(0016,007A)|GPS Measure Mode|Y|X|
(0016,008B)|GPS Processing Method|Y|X|
(0016,0078)|GPS Satellites|Y|X|
(0016,007D)|GPS Speed|Y|X|
(0016,007C)|GPS Speed Ref|Y|X|
(0016,0079)|GPS Status|Y|X|
(0016,0077)|GPS Time Stamp|Y|X|
(0016,007F)|GPS Track|Y|X|
(0016,007E)|GPS Track Ref|Y|X|
(0016,0070)|GPS Version ID|Y|X|
(0070,0001)|Graphic Annotation Sequence|Y|D|graph=C
(0040,4037)|Human Performer's Name|N|X|
(0040,4036)|Human Performer's Organization|N|X|
(0088,0200)|Icon Image Sequence|Y|X|
(0008,4000)|Identifying Comments|N|X|desc=C
(0020,4000)|Image Comments|Y|X|desc=C
(0028,4000)|Image Presentation Comments|N|X|
(0040,2400)|Imaging Service Request Comments|N|X|desc=C
(003A,0314)|Impedance Measurement DateTime|Y|D|full=K;mod=C
(4008,0300)|Impressions|N|X|desc=C
(0008,0015)|Instance Coercion DateTime|Y|X|full=K;mod=C
(0008,0014)|Instance Creator UID|Y|U|uids=K
(0400,0600)|Instance Origin Status|Y|X|
(0008,0081)|Institution Address|Y|X|inst=K
(0008,1040)|Institutional Department Name|Y|X|inst=K
(0008,1041)|Institutional Department Type Code Sequence|Y|X|inst=K
(0008,0082)|Institution Code Sequence|Y|X/Z/D|inst=K
(0008,0080)|Institution Name|Y|X/Z/D|inst=K
(0010,1050)|Insurance Plan Identification|N|X|
(3010,004D)|Intended Phase End Date|Y|X/D|full=K;mod=C
(3010,004C)|Intended Phase Start Date|Y|X/D|full=K;mod=C
(0040,1011)|Intended Recipients of Results Identification Sequence|N|X|
(300A,0741)|Interlock DateTime|Y|D|full=K;mod=C
(300A,0742)|Interlock Description|Y|D|desc=C
(300A,0783)|Interlock Origin Description|Y|D|desc=C
(4008,0111)|Interpretation Approver Sequence|N|X|
(4008,010C)|Interpretation Author|N|X|
(4008,0115)|Interpretation Diagnosis Description|N|X|desc=C
(4008,0202)|Interpretation ID Issuer|N|X|
(4008,0102)|Interpretation Recorder|N|X|
(4008,010B)|Interpretation Text|N|X|desc=C
(4008,010A)|Interpretation Transcriber|N|X|
(0008,3010)|Irradiation Event UID|Y|U|uids=K
(0038,0011)|Issuer of Admission ID|Y|X|
(0038,0014)|Issuer of Admission ID Sequence|Y|X|
(0010,0021)|Issuer of Patient ID|Y|X|
(0038,0061)|Issuer of Service Episode ID|Y|X|
(0038,0064)|Issuer of Service Episode ID Sequence|Y|X|
(0040,0513)|Issuer of the Container Identifier Sequence|Y|Z|
(0040,0562)|Issuer of the Specimen Identifier Sequence|Y|Z|
(2200,0002)|Label Text|Y|X/Z|desc=C
(0028,1214)|Large Palette Color Lookup Table UID|N|U|uids=K
(0010,21D0)|Last Menstrual Date|N|X|full=K;mod=C
(0016,004F)|Lens Make|Y|X|dev=K
(0016,0050)|Lens Model|Y|X|dev=K
(0016,0051)|Lens Serial Number|Y|X|dev=K
(0016,004E)|Lens Specification|Y|X|dev=K
(0050,0021)|Long Device Description|Y|X|desc=C
(0400,0404)|MAC|Y|X|
(0016,002B)|Maker Note|Y|X|desc=C
(0018,100B)|Manufacturer's Device Class UID|Y|U|uids=K;dev=K
(3010,0043)|Manufacturer's Device Identifier|Y|Z|dev=K
(0002,0003)|Media Storage SOP Instance UID|N|U|uids=K
(0010,2000)|Medical Alerts|N|X|desc=C
(0010,1090)|Medical Record Locator|N|X|
(0010,1080)|Military Rank|N|X|
(0400,0550)|Modified Attributes Sequence|N|X|
(0020,3406)|Modified Image Description|N|X|
(0020,3401)|Modifying Device ID|N|X|
(3008,0056)|Most Recent Treatment Date|Y|X/D|full=K;mod=C
(0018,937B)|Multi-energy Acquisition Description|Y|X|desc=C
(003A,0310)|Multiplex Group UID|Y|U|uids=K
(0008,1060)|Name of Physician(s) Reading Study|Y|X|
(0040,1010)|Names of Intended Recipients of Results|N|X|
(0400,0551)|Nonconforming Modified Attributes Sequence|N|X|
(0400,0552)|Nonconforming Data Element Value|N|X|
(0040,A192)|Observation Date (Trial)|N|X|full=K;mod=C
(0040,A402)|Observation Subject UID (Trial)|N|U|uids=K
(0040,A193)|Observation Time (Trial)|N|X|full=K;mod=C
(0040,A171)|Observation UID|Y|U|uids=K
(0010,2180)|Occupation|Y|X|desc=C
(0008,1072)|Operator Identification Sequence|Y|X/D|
(0008,1070)|Operators' Name|Y|X/Z/D|
(0040,2010)|Order Callback Phone Number|N|X|
(0040,2011)|Order Callback Telecom Information|N|X|
(0040,2008)|Order Entered By|N|X|
(0040,2009)|Order Enterer's Location|N|X|
(0400,0561)|Original Attributes Sequence|Y|X|
(0010,1000)|Other Patient IDs|Y|X|
(0010,1002)|Other Patient IDs Sequence|Y|X|
(0010,1001)|Other Patient Names|Y|X|
(60xx,4000)|Overlay Comments|N|X|graph=C
(60xx,3000)|Overlay Data|Y|X|graph=C
(0008,0024)|Overlay Date|Y|X|full=K;mod=C
(0008,0034)|Overlay Time|Y|X|full=K;mod=C
(300A,0760)|Override DateTime|Y|D|full=K;mod=C
(0028,1199)|Palette Color Lookup Table UID|Y|U|uids=K
(0040,A07A)|Participant Sequence|Y|X|
(0010,1040)|Patient's Address|N|X|
(0010,1010)|Patient's Age|Y|X|chars=K
(0010,0030)|Patient's Birth Date|Y|Z|
(0010,1005)|Patient's Birth Name|N|X|
(0010,0032)|Patient's Birth Time|Y|X|
(0038,0400)|Patient's Institution Residence|N|X|
(0010,0050)|Patient's Insurance Plan Code Sequence|Y|X|
(0010,1060)|Patient's Mother's Birth Name|N|X|
(0010,0010)|Patient's Name|Y|Z|
(0010,0101)|Patient's Primary Language Code Sequence|Y|X|
(0010,0102)|Patient's Primary Language Modifier Code Sequence|Y|X|
(0010,21F0)|Patient's Religious Preference|N|X|
(0010,0040)|Patient's Sex|Y|Z|chars=K
(0010,2203)|Patient's Sex Neutered|Y|X/Z|chars=K
(0010,1020)|Patient's Size|Y|X|chars=K
(0010,2155)|Patient's Telecom Information|N|X|
(0010,2154)|Patient's Telephone Numbers|N|X|
(0010,1030)|Patient's Weight|Y|X|chars=K
(0010,4000)|Patient Comments|Y|X|desc=C
(0010,0020)|Patient ID|Y|Z/D|
(300A,0650)|Patient Setup UID|Y|U|uids=K
(0038,0500)|Patient State|N|X|chars=C;desc=C
(0040,1004)|Patient Transport Arrangements|N|X|
(0040,0243)|Performed Location|N|X|
(0040,0254)|Performed Procedure Step Description|Y|X|desc=C
(0040,0250)|Performed Procedure Step End Date|Y|X|full=K;mod=C
(0040,4051)|Performed Procedure Step End DateTime|N|X|full=K;mod=C
(0040,0251)|Performed Procedure Step End Time|Y|X|full=K;mod=C
(0040,0253)|Performed Procedure Step ID|Y|X|
(0040,0244)|Performed Procedure Step Start Date|Y|X|full=K;mod=C
(0040,4050)|Performed Procedure Step Start DateTime|N|X|full=K;mod=C
(0040,0245)|Performed Procedure Step Start Time|Y|X|full=K;mod=C
(0040,0241)|Performed Station AE Title|N|X|dev=K
(0040,4030)|Performed Station Geographic Location Code Sequence|N|X|dev=K
(0040,0242)|Performed Station Name|N|X|dev=K
(0040,4028)|Performed Station Name Code Sequence|N|X|dev=K
(0008,1050)|Performing Physician's Name|Y|X|
(0008,1052)|Performing Physician Identification Sequence|Y|X|
(0040,1102)|Person's Address|Y|X|
(0040,1104)|Person's Telecom Information|Y|X|
(0040,1103)|Person's Telephone Numbers|Y|X|
(0040,1101)|Person Identification Code Sequence|Y|D|
(0040,A123)|Person Name|Y|D|
(0008,1048)|Physician(s) of Record|Y|X|
(0008,1049)|Physician(s) of Record Identification Sequence|Y|X|
(0008,1062)|Physician(s) Reading Study Identification Sequence|Y|X|
(4008,0114)|Physician Approving Interpretation|N|X|
(0040,2016)|Placer Order Number / Imaging Service Request|Y|Z|
(0018,1004)|Plate ID|Y|X|dev=K
(0010,21C0)|Pregnancy Status|N|X|chars=K
(0040,0012)|Pre-Medication|N|X|chars=C
(300A,000E)|Prescription Description|Y|X|desc=C
(3010,007B)|Prescription Notes|Y|Z|desc=C
(3010,0081)|Prescription Notes Sequence|Y|Z|desc=C
(0070,1101)|Presentation Display Collection UID|Y|U|uids=K
(0070,1102)|Presentation Sequence Collection UID|Y|U|uids=K
(3010,0061)|Prior Treatment Dose Description|Y|X|desc=C
private|Private attributes|N|X|priv=C
(0040,4052)|Procedure Step Cancellation DateTime|N|X|full=K;mod=C
(0018,1030)|Protocol Name|Y|X/D|desc=C
(300A,0619)|Radiation Dose Identification Label|Y|D|desc=C
(300A,0623)|Radiation Dose In-Vivo Measurement Label|Y|D|desc=C
(300A,067D)|Radiation Generation Mode Description|Y|Z|desc=C
(300A,067C)|Radiation Generation Mode Label|Y|D|desc=C
(300C,0113)|Reason for Omission Description|Y|X|desc=C
(0040,100A)|Reason for Requested Procedure Code Sequence|Y|X|desc=C
(0032,1030)|Reason for Study|N|X|desc=C
(3010,005C)|Reason for Superseding|Y|Z|desc=C
(0040,2001)|Reason for the Imaging Service Request|N|X|desc=C
(0040,1002)|Reason for the Requested Procedure|Y|X|desc=C
(0032,1066)|Reason for Visit|Y|X|desc=C
(0032,1067)|Reason for Visit Code Sequence|Y|X|desc=C
(300A,073A)|Recorded RT Control Point DateTime|Y|D|full=K;mod=C
(3010,000B)|Referenced Conceptual Volume UID|Y|U|uids=K
(0400,0402)|Referenced Digital Signature Sequence|Y|X|
(300A,0083)|Referenced Dose Reference UID|Y|U|uids=K
(3010,006F)|Referenced Dosimetric Objective UID|Y|U|uids=K
(3010,0031)|Referenced Fiducials UID|Y|U|uids=K
(3006,0024)|Referenced Frame of Reference UID|Y|U|uids=K
(0040,4023)|Referenced General Purpose Scheduled Procedure Step Transaction UID|N|U|uids=K
(0008,1140)|Referenced Image Sequence|Y|X/Z/U*|uids=K
(0040,A172)|Referenced Observation UID (Trial)|N|U|uids=K
(0038,0004)|Referenced Patient Alias Sequence|N|X|
(0010,1100)|Referenced Patient Photo Sequence|Y|X|
(0008,1120)|Referenced Patient Sequence|Y|X|uids=X
(0008,1111)|Referenced Performed Procedure Step Sequence|Y|X/Z/D|uids=K
(0400,0403)|Referenced SOP Instance MAC Sequence|Y|X|
(0008,1155)|Referenced SOP Instance UID|Y|U|uids=K
(0004,1511)|Referenced SOP Instance UID in File|N|U|uids=K
(0008,1110)|Referenced Study Sequence|Y|X/Z|uids=K
(0008,0092)|Referring Physician's Address|N|X|
(0008,0090)|Referring Physician's Name|Y|Z|
(0008,0094)|Referring Physician's Telephone Numbers|N|X|
(0008,0096)|Referring Physician Identification Sequence|Y|X|
(0010,2152)|Region of Residence|N|X|
(3006,00C2)|Related Frame of Reference UID|N|U|uids=K
(0040,0275)|Request Attributes Sequence|Y|X|desc=C
(0032,1070)|Requested Contrast Agent|N|X|desc=C
(0040,1400)|Requested Procedure Comments|N|X|desc=C
(0032,1060)|Requested Procedure Description|Y|X/Z|desc=C
(0040,1001)|Requested Procedure ID|N|X|
(0040,1005)|Requested Procedure Location|N|X|
(0018,9937)|Requested Series Description|Y|X|desc=C
(0000,1001)|Requested SOP Instance UID|N|U|uids=K
(0032,1032)|Requesting Physician|N|X|
(0032,1033)|Requesting Service|N|X|
(0018,9185)|Respiratory Motion Compensation Technique Description|Y|X|desc=C
(0010,2299)|Responsible Organization|Y|X|
(0010,2297)|Responsible Person|Y|X|
(4008,4000)|Results Comments|N|X|desc=C
(4008,0118)|Results Distribution List Sequence|N|X|
(4008,0042)|Results ID Issuer|N|X|
(300E,0008)|Reviewer Name|Y|X/Z|
(3006,0028)|ROI Description|Y|X|desc=C
(3006,0038)|ROI Generation Description|Y|X|desc=C
(3006,00A6)|ROI Interpreter|Y|Z|
(3006,0026)|ROI Name|Y|Z|desc=C
(3006,0088)|ROI Observation Description|Y|X|desc=C
(3006,0085)|ROI Observation Label|Y|X|desc=C
(300A,0615)|RT Accessory Device Slot ID|Y|Z|
(300A,0611)|RT Accessory Holder Slot ID|Y|Z|
(3010,005A)|RT Physician Intent Narrative|Y|Z|desc=C
(300A,0006)|RT Plan Date|Y|X/D|full=K;mod=C
(300A,0004)|RT Plan Description|Y|X|desc=C
(300A,0002)|RT Plan Label|Y|D|desc=C
(300A,0003)|RT Plan Name|Y|X|desc=C
(300A,0007)|RT Plan Time|Y|X/D|full=K;mod=C
(3010,0054)|RT Prescription Label|Y|D|desc=C
(300A,062A)|RT Tolerance Set Label|Y|D|desc=C
(3010,0056)|RT Treatment Approach Label|Y|X/D|desc=C
(3010,003B)|RT Treatment Phase UID|Y|U|uids=K
(0040,4034)|Scheduled Human Performers Sequence|N|X|
(0038,001E)|Scheduled Patient Institution Residence|N|X|
(0040,0006)|Scheduled Performing Physician's Name|N|X|
(0040,000B)|Scheduled Performing Physician Identification Sequence|N|X|
(0040,0007)|Scheduled Procedure Step Description|Y|X|desc=C
(0040,0004)|Scheduled Procedure Step End Date|N|X|full=K;mod=C
(0040,0005)|Scheduled Procedure Step End Time|N|X|full=K;mod=C
(0040,4008)|Scheduled Procedure Step Expiration DateTime|N|X|full=K;mod=C
(0040,0009)|Scheduled Procedure Step ID|Y|X|
(0040,0011)|Scheduled Procedure Step Location|N|X|dev=K
(0040,4010)|Scheduled Procedure Step Modification DateTime|N|X|full=K;mod=C
(0040,0002)|Scheduled Procedure Step Start Date|N|X|full=K;mod=C
(0040,4005)|Scheduled Procedure Step Start DateTime|N|X|full=K;mod=C
(0040,0003)|Scheduled Procedure Step Start Time|N|X|full=K;mod=C
(0040,0001)|Scheduled Station AE Title|N|X|dev=K
(0040,4027)|Scheduled Station Geographic Location Code Sequence|N|X|dev=K
(0040,0010)|Scheduled Station Name|N|X|dev=K
(0040,4025)|Scheduled Station Name Code Sequence|N|X|dev=K
(0032,1020)|Scheduled Study Location|N|X|dev=K
(0032,1021)|Scheduled Study Location AE Title|N|X|dev=K
(0008,0021)|Series Date|Y|X/D|full=K;mod=C
(0008,103E)|Series Description|Y|X|desc=C
(0020,000E)|Series Instance UID|Y|U|uids=K
(0008,0031)|Series Time|Y|X/D|full=K;mod=C
(0038,0062)|Service Episode Description|Y|X|desc=C
(0038,0060)|Service Episode ID|Y|X|
(300A,01B2)|Setup Technique Description|Y|X|desc=C
(300A,01A6)|Shielding Device Description|Y|X|desc=C
(0040,06FA)|Slide Identifier|N|X|
(0010,21A0)|Smoking Status|N|X|chars=K
(0008,0018)|SOP Instance UID|Y|U|uids=K
(3010,0015)|Source Conceptual Volume UID|Y|U|uids=K
(0018,936A)|Source End DateTime|Y|D|full=K;mod=C
(0034,0005)|Source Identifier|Y|D|
(0008,2112)|Source Image Sequence|Y|X/Z/U*|uids=K
(300A,0216)|Source Manufacturer|Y|X|dev=K
(3008,0105)|Source Serial Number|Y|X/Z|dev=K
(0018,9369)|Source Start DateTime|Y|D|full=K;mod=C
(0038,0050)|Special Needs|N|X|chars=C
(0040,050A)|Specimen Accession Number|N|X|
(0040,0602)|Specimen Detailed Description|Y|X|desc=C
(0040,0551)|Specimen Identifier|Y|D|
(0040,0610)|Specimen Preparation Sequence|Y|Z|struct=C
(0040,0600)|Specimen Short Description|Y|X|desc=C
(0040,0554)|Specimen UID|Y|U|uids=K
(0018,9516)|Start Acquisition DateTime|Y|X/D|full=K;mod=C
(0008,1010)|Station Name|Y|X/Z/D|dev=K
(0088,0140)|Storage Media File-set UID|Y|U|uids=K
(3006,0008)|Structure Set Date|Y|Z|full=K;mod=C
(3006,0006)|Structure Set Description|Y|X|desc=C
(3006,0002)|Structure Set Label|Y|D|desc=C
(3006,0004)|Structure Set Name|Y|X|desc=C
(3006,0009)|Structure Set Time|Y|Z|full=K;mod=C
(0032,4000)|Study Comments|N|X|desc=C
(0008,0020)|Study Date|Y|Z|full=K;mod=C
(0008,1030)|Study Description|Y|X|desc=C
(0020,0010)|Study ID|Y|Z|
(0032,0012)|Study ID Issuer|N|X|
(0020,000D)|Study Instance UID|Y|U|uids=K
(0008,0030)|Study Time|Y|Z|full=K;mod=C
(0020,0200)|Synchronization Frame of Reference UID|Y|U|uids=K
(0018,2042)|Target UID|Y|U|uids=K
(0040,A354)|Telephone Number (Trial)|N|X|
(0040,DB0D)|Template Extension Creator UID|N|U|uids=K
(0040,DB0C)|Template Extension Organization UID|N|U|uids=K
(4000,4000)|Text Comments|N|X|
(2030,0020)|Text String|N|X|
(0008,0201)|Timezone Offset From UTC|Y|X|full=K;mod=C
(0088,0910)|Topic Author|N|X|
(0088,0912)|Topic Keywords|N|X|
(0088,0906)|Topic Subject|N|X|
(0088,0904)|Topic Title|N|X|
(0062,0021)|Tracking UID|Y|U|uids=K
(0008,1195)|Transaction UID|N|U|uids=K
(0018,5011)|Transducer Identification Sequence|Y|X|dev=K
(3008,0250)|Treatment Date|Y|X/D|full=K;mod=C
(300A,00B2)|Treatment Machine Name|Y|X/Z|dev=K
(300A,0608)|Treatment Position Group Label|Y|D|desc=C
(300A,0609)|Treatment Position Group UID|Y|U|uids=K
(300A,0700)|Treatment Session UID|Y|U|uids=K
(3010,0077)|Treatment Site|Y|X/D|desc=C
(3010,007A)|Treatment Technique Notes|Y|Z|desc=C
(3008,0251)|Treatment Time|Y|X/D|full=K;mod=C
(300A,0736)|Treatment Tolerance Violation DateTime|Y|D|full=K;mod=C
(300A,0734)|Treatment Tolerance Violation Description|Y|D|desc=C
(0018,100A)|UDI Sequence|Y|X|dev=K
(0040,A124)|UID|Y|U|
(0018,1009)|Unique Device Identifier|Y|X|dev=K
(3010,0033)|User Content Label|Y|D|desc=C
(3010,0034)|User Content Long Label|Y|D|desc=C
(0040,A352)|Verbal Source (Trial)|N|X|
(0040,A358)|Verbal Source Identifier Code Sequence (Trial)|N|X|
(0040,A088)|Verifying Observer Identification Code Sequence|Y|Z|
(0040,A075)|Verifying Observer Name|Y|D|
(0040,A073)|Verifying Observer Sequence|Y|D|
(0040,A027)|Verifying Organization|Y|D|
(0038,4000)|Visit Comments|N|X|desc=C
(0018,9371)|X-Ray Detector ID|Y|D|dev=K
(0018,9373)|X-Ray Detector Label|Y|X|dev=K
(0018,9367)|X-Ray Source ID|Y|D|dev=K
(0008,0012)|Instance Creation Date|Y|X/D|full=K;mod=C
(0008,0013)|Instance Creation Time|Y|X/Z/D|full=K;mod=C
(0008,0017)|Acquisition UID|Y|U|uids=K
(0008,0019)|Pyramid UID|Y|U|uids=K
(0008,0054)|Retrieve AE Title|Y|X|
(0008,0055)|Station AE Title|Y|X|
(0008,0106)|Context Group Version|Y|D|full=K;mod=C
(0008,0107)|Context Group Local Version|Y|D|full=K;mod=C
(0008,1000)|Network ID|Y|X|
(0008,1088)|Pyramid Description|Y|X|desc=C
(0008,1301)|Principal Diagnosis Code Sequence|Y|X|
(0008,1302)|Primary Diagnosis Code Sequence|Y|X|
(0008,1303)|Secondary Diagnoses Code Sequence|Y|X|
(0008,1304)|Histological Diagnoses Code Sequence|Y|X|
(0010,0011)|Person Names to Use Sequence|Y|X|
(0010,0012)|Name to Use|Y|X|
(0010,0013)|Name to Use Comment|Y|X|
(0010,0014)|Third Person Pronouns Sequence|Y|X|
(0010,0015)|Pronoun Code Sequence|Y|X|
(0010,0016)|Pronoun Comment|Y|X|
(0010,0041)|Gender Identity Sequence|Y|X|
(0010,0042)|Sex Parameters for Clinical Use Category Comment|Y|X|
(0010,0043)|Sex Parameters for Clinical Use Category Sequence|Y|X|
(0010,0044)|Gender Identity Code Sequence|Y|X|
(0010,0045)|Gender Identity Comment|Y|X|
(0010,0046)|Sex Parameters for Clinical Use Category Code Sequence|Y|X|
(0010,0047)|Sex Parameters for Clinical Use Category Reference|Y|X|
(0010,2161)|Ethnic Group Code Sequence|Y|X|
(0010,2162)|Ethnic Groups|Y|X|
(0012,0022)|Issuer of Clinical Trial Protocol ID|Y|X|desc=C
(0012,0023)|Other Clinical Trial Protocol IDs Sequence|Y|X|
(0012,0032)|Issuer of Clinical Trial Site ID|Y|X|desc=C
(0012,0041)|Issuer of Clinical Trial Subject ID|Y|X|desc=C
(0012,0043)|Issuer of Clinical Trial Subject Reading ID|Y|X|desc=C
(0012,0055)|Issuer of Clinical Trial Time Point ID|Y|X|desc=C
(0012,0073)|Issuer of Clinical Trial Series ID|Y|X|desc=C
(0012,0086)|Ethics Committee Approval Effectiveness Start Date|Y|X|full=K;mod=C
(0012,0087)|Ethics Committee Approval Effectiveness End Date|Y|X|full=K;mod=C
(0014,407C)|Calibration Time|Y|X|full=K;mod=C
(0014,407E)|Calibration Date|Y|X|full=K;mod=C
(0018,0027)|Intervention Drug Stop Time|Y|X|full=K;mod=C
(0018,0035)|Intervention Drug Start Time|Y|X|full=K;mod=C
(0018,1010)|Secondary Capture Device ID|Y|X|desc=C
(0018,1011)|Hardcopy Creation Device ID|Y|X|desc=C
(0018,1012)|Date of Secondary Capture|Y|X|full=K;mod=C
(0018,1014)|Time of Secondary Capture|Y|X|full=K;mod=C
(0018,1042)|Contrast/Bolus Start Time|Y|X|full=K;mod=C
(0018,1043)|Contrast/Bolus Stop Time|Y|X|full=K;mod=C
(0018,1072)|Radiopharmaceutical Start Time|Y|X|full=K;mod=C
(0018,1073)|Radiopharmaceutical Stop Time|Y|X|full=K;mod=C
(0018,1078)|Radiopharmaceutical Start DateTime|Y|X|full=K;mod=C
(0018,1079)|Radiopharmaceutical Stop DateTime|Y|X|full=K;mod=C
(0018,1200)|Date of Last Calibration|Y|X|full=K;mod=C
(0018,1201)|Time of Last Calibration|Y|X|full=K;mod=C
(0018,1202)|DateTime of Last Calibration|Y|X|full=K;mod=C
(0018,1203)|Calibration DateTime|Y|Z|full=K;mod=C
(0018,1204)|Date of Manufacture|Y|X|full=K;mod=C
(0018,1205)|Date of Installation|Y|X|full=K;mod=C
(0018,700C)|Date of Last Detector Calibration|Y|X/D|full=K;mod=C
(0018,700E)|Time of Last Detector Calibration|Y|X/D|full=K;mod=C
(0018,9074)|Frame Acquisition DateTime|Y|D|full=K;mod=C
(0018,9151)|Frame Reference DateTime|Y|D|full=K;mod=C
(0018,9623)|Functional Sync Pulse|Y|D|full=K;mod=C
(0018,9701)|Decay Correction DateTime|Y|D|full=K;mod=C
(0018,9804)|Exclusion Start DateTime|Y|D|full=K;mod=C
(0018,9919)|Instruction Performed DateTime|Y|Z/D|full=K;mod=C
(0018,A002)|Contribution DateTime|Y|X|full=K;mod=C
(0020,0027)|Pyramid Label|Y|X|desc=C
(0020,3403)|Modified Image Date|Y|X|full=K;mod=C
(0020,3405)|Modified Image Time|Y|X|full=K;mod=C
(0032,0032)|Study Verified Date|Y|X|full=K;mod=C
(0032,0033)|Study Verified Time|Y|X|full=K;mod=C
(0032,0034)|Study Read Date|Y|X|full=K;mod=C
(0032,0035)|Study Read Time|Y|X|full=K;mod=C
(0032,1000)|Scheduled Study Start Date|Y|X|full=K;mod=C
(0032,1001)|Scheduled Study Start Time|Y|X|full=K;mod=C
(0032,1010)|Scheduled Study Stop Date|Y|X|full=K;mod=C
(0032,1011)|Scheduled Study Stop Time|Y|X|full=K;mod=C
(0032,1040)|Study Arrival Date|Y|X|full=K;mod=C
(0032,1041)|Study Arrival Time|Y|X|full=K;mod=C
(0032,1050)|Study Completion Date|Y|X|full=K;mod=C
(0032,1051)|Study Completion Time|Y|X|full=K;mod=C
(0038,001A)|Scheduled Admission Date|Y|X|full=K;mod=C
(0038,001B)|Scheduled Admission Time|Y|X|full=K;mod=C
(0038,001C)|Scheduled Discharge Date|Y|X|full=K;mod=C
(0038,001D)|Scheduled Discharge Time|Y|X|full=K;mod=C
(0038,0030)|Discharge Date|Y|X|full=K;mod=C
(0038,0032)|Discharge Time|Y|X|full=K;mod=C
(003A,0020)|Multiplex Group Label|Y|X|desc=C
(003A,0203)|Channel Label|Y|X|desc=C
(003A,020C)|Channel Derivation Description|Y|X|desc=C
(003A,0329)|Waveform Filter Description|Y|X|desc=C
(003A,032B)|Filter Lookup Table Description|Y|X|desc=C
(0040,0556)|Acquisition Context Description|Y|X|desc=C
(0040,2004)|Issue Date of Imaging Service Request|Y|X|full=K;mod=C
(0040,2005)|Issue Time of Imaging Service Request|Y|X|full=K;mod=C
(0040,A023)|Findings Group Recording Date (Trial)|Y|X|full=K;mod=C
(0040,A024)|Findings Group Recording Time (Trial)|Y|X|full=K;mod=C
(0040,A030)|Verification DateTime|Y|D|full=K;mod=C
(0040,A032)|Observation DateTime|Y|X/D|full=K;mod=C
(0040,A033)|Observation Start DateTime|Y|X|full=K;mod=C
(0040,A034)|Effective Start DateTime|Y|X|
(0040,A035)|Effective Stop DateTime|Y|X|
(0040,A082)|Participation DateTime|Y|Z|full=K;mod=C
(0040,A110)|Date of Document or Verbal Transaction (Trial)|Y|X|full=K;mod=C
(0040,A112)|Time of Document Creation or Verbal Transaction (Trial)|Y|X|full=K;mod=C
(0040,A120)|DateTime|Y|D|full=K;mod=C
(0040,A121)|Date|Y|D|full=K;mod=C
(0040,A122)|Time|Y|D|full=K;mod=C
(0040,A13A)|Referenced DateTime|Y|D|full=K;mod=C
(0040,B020)|Waveform Annotation Sequence|Y|X/D|
(0040,B034)|Annotation DateTime|Y|X|
(0040,B036)|Segment Definition DateTime|Y|X|
(0040,B03B)|Montage Name|Y|X|
(0040,B03F)|Montage Channel Label|Y|X|
(0040,DB06)|Template Version|Y|X|full=K;mod=C
(0040,DB07)|Template Local Version|Y|X|full=K;mod=C
(0040,E004)|HL7 Document Effective Time|Y|X|full=K;mod=C
(0040,E012)|Display URI|Y|X|
(0042,0011)|Encapsulated Document|Y|D|
(0044,0004)|Approval Status DateTime|Y|X|full=K;mod=C
(0044,000B)|Product Expiration DateTime|Y|X|full=K;mod=C
(0044,0010)|Substance Administration DateTime|Y|X|full=K;mod=C
(0044,0104)|Assertion DateTime|Y|D|full=K;mod=C
(0044,0105)|Assertion Expiration DateTime|Y|X|full=K;mod=C
(0064,0003)|Source Frame of Reference UID|Y|U|uids=K
(0068,6226)|Effective DateTime|Y|D|full=K;mod=C
(0068,6270)|Information Issue DateTime|Y|D|full=K;mod=C
(006A,0003)|Annotation Group UID|Y|D|uids=K
(006A,0005)|Annotation Group Label|Y|D|desc=C
(006A,0006)|Annotation Group Description|Y|X|desc=C
(0070,0006)|Unformatted Text Value|Y|D|graph=C
(0070,0082)|Presentation Creation Date|Y|X|full=K;mod=C
(0070,0083)|Presentation Creation Time|Y|X|full=K;mod=C
(0072,000A)|Hanging Protocol Creation DateTime|Y|D|full=K;mod=C
(0072,005E)|Selector AE Value|Y|D|
(0072,005F)|Selector AS Value|Y|D|
(0072,0061)|Selector DA Value|Y|D|full=K;mod=C
(0072,0063)|Selector DT Value|Y|D|full=K;mod=C
(0072,0065)|Selector OB Value|Y|D|
(0072,0066)|Selector LO Value|Y|D|desc=C
(0072,0068)|Selector LT Value|Y|D|desc=C
(0072,006A)|Selector PN Value|Y|D|
(0072,006B)|Selector TM Value|Y|D|full=K;mod=C
(0072,006C)|Selector SH Value|Y|D|desc=C
(0072,006D)|Selector UN Value|Y|D|
(0072,006E)|Selector ST Value|Y|D|desc=C
(0072,0070)|Selector UT Value|Y|D|desc=C
(0072,0071)|Selector UR Value|Y|D|
(0074,1234)|Receiving AE|Y|X|
(0074,1236)|Requesting AE|Y|X|
(0100,0420)|SOP Authorization DateTime|Y|X|full=K;mod=C
(0400,0105)|Digital Signature DateTime|Y|D|full=K;mod=C
(0400,0115)|Certificate of Signer|Y|D|
(0400,0310)|Certified Timestamp|Y|X|
(0400,0562)|Attribute Modification DateTime|Y|D|full=K;mod=C
(0400,0563)|Modifying System|Y|D|desc=C
(0400,0564)|Source of Previous Values|Y|Z|desc=C
(0400,0565)|Reason for the Attribute Modification|Y|D|
(2100,0040)|Creation Date|Y|X|full=K;mod=C
(2100,0050)|Creation Time|Y|X|full=K;mod=C
(2100,0070)|Originator|Y|X|
(2100,0140)|Destination AE|Y|D|
(3002,0121)|Position Acquisition Template Name|Y|X|desc=C
(3002,0123)|Position Acquisition Template Description|Y|X|desc=C
(3006,002D)|ROI DateTime|Y|X|full=K;mod=C
(3006,002E)|ROI Observation DateTime|Y|X|full=K;mod=C
(3006,004D)|ROI Creator Sequence|Y|X|
(3006,004E)|ROI Interpreter Sequence|Y|X|
(3008,0024)|Treatment Control Point Date|Y|D|full=K;mod=C
(3008,0025)|Treatment Control Point Time|Y|D|full=K;mod=C
(3008,0162)|Safe Position Exit Date|Y|D|full=K;mod=C
(3008,0164)|Safe Position Exit Time|Y|D|full=K;mod=C
(3008,0166)|Safe Position Return Date|Y|D|full=K;mod=C
(3008,0168)|Safe Position Return Time|Y|D|full=K;mod=C
(300A,000B)|Treatment Sites|Y|X|desc=C
(300A,0054)|Table Top Position Alignment UID|Y|U|uids=K
(300A,022C)|Source Strength Reference Date|Y|D|full=K;mod=C
(300A,022E)|Source Strength Reference Time|Y|D|full=K;mod=C
(300A,0785)|Referenced Treatment Position Group UID|Y|U|uids=K
(300A,078E)|Patient Treatment Preparation Procedure Parameter Description|Y|X|desc=C
(300A,0792)|Patient Treatment Preparation Method Description|Y|X|desc=C
(300A,0794)|Patient Setup Photo Description|Y|X|desc=C
(300A,079A)|Displacement Reference Label|Y|X|desc=C
(300C,0127)|Beam Hold Transition DateTime|Y|D|full=K;mod=C
(300E,0004)|Review Date|Y|Z|full=K;mod=C
(300E,0005)|Review Time|Y|Z|full=K;mod=C
(3010,0085)|Intended Fraction Start Time|Y|X|full=K;mod=C
(4008,0040)|Results ID|Y|X|desc=C
(4008,0100)|Interpretation Recorded Date|Y|X|full=K;mod=C
(4008,0101)|Interpretation Recorded Time|Y|X|full=K;mod=C
(4008,0108)|Interpretation Transcription Date|Y|X|full=K;mod=C
(4008,0109)|Interpretation Transcription Time|Y|X|full=K;mod=C
(4008,0112)|Interpretation Approval Date|Y|X|full=K;mod=C
(4008,0113)|Interpretation Approval Time|Y|X|full=K;mod=C
(4008,0200)|Interpretation ID|Y|X|desc=C
"""
