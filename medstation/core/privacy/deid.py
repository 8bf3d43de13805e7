"""De-identify one DICOM dataset in place per PS3.15 Annex E (Basic Profile and the chosen options).

Every attribute listed in Table E.1-1 gets its action wherever it occurs, in the main dataset and inside sequence
items. Attributes the table does not list are handled by their VR as a safety net (Note 4 of E.1.1): person names
become a dummy, dates are shifted or emptied, and UIDs that are not registered DICOM UIDs (SOP classes, transfer
syntaxes, coding schemes stay) are replaced like instance UIDs, so references inside SR, SEG and presentation
states keep pointing at the replaced instances. Private attributes go unless they are on the safe list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from medstation.core.privacy import profile, values
from medstation.core.privacy.keys import Keys
from medstation.core.privacy.profile import Options

# Private attributes known to carry acquisition physics only (PS3.15 E.3.10 examples: diffusion b-values and
# gradient directions), as (private creator, group, element offset)
SAFE_PRIVATE = {
    ("SIEMENS MR HEADER", 0x0019, 0x0C), ("SIEMENS MR HEADER", 0x0019, 0x0D), ("SIEMENS MR HEADER", 0x0019, 0x0E),
    ("SIEMENS MR HEADER", 0x0019, 0x27), ("GEMS_PARM_01", 0x0043, 0x39), ("GEMS_ACQU_01", 0x0019, 0xBB),
    ("GEMS_ACQU_01", 0x0019, 0xBC), ("GEMS_ACQU_01", 0x0019, 0xBD), ("Philips Imaging DD 001", 0x2001, 0x03),
    ("Philips MR Imaging DD 001", 0x2005, 0xB0), ("Philips MR Imaging DD 001", 0x2005, 0xB1),
    ("Philips MR Imaging DD 001", 0x2005, 0xB2),
}
BURNED_IN_MODALITIES = {"US": "ultrasound", "SC": "secondary capture", "XA": "X-ray angiography",
                        "OT": "secondary capture (OT)", "ES": "endoscopy", "XC": "external camera photo"}
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
PATIENT_ID, PATIENT_NAME = 0x00100020, 0x00100010
_PATIENT_KEYS = (0x00100020, 0x00100010, 0x0020000D)
_NAME_SOURCES = ("PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames", "PatientBirthName",
                 "PatientMotherBirthName", "ReferringPhysicianName", "PerformingPhysicianName",
                 "NameOfPhysiciansReadingStudy", "OperatorsName", "PhysiciansOfRecord", "AccessionNumber",
                 "InstitutionName", "PatientAddress", "PatientBirthDate", "StationName")
TEXT_VALUE = 0x0040A160
DEID_TAGS = (0x00120062, 0x00120063, 0x00120064, 0x00280303)  # written by MedStation, never re-processed


@dataclass
class DatasetResult:
    warnings: list[str] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)  # action code -> attributes it was applied to
    patient_key: str = ""


def registered_uid(value: str) -> bool:
    from pydicom.uid import UID

    uid = UID(value)
    return uid.name != str(uid) or str(uid).startswith("1.2.840.10008.")


def _notes_scrubber() -> Callable[[str], str]:
    """The notes' PHI scrubber (core/notes/phi.py), reused for DICOM free text."""
    from medstation.core.notes.phi import scrub

    return lambda text: scrub(text)[0]


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]


def patient_key(ds) -> str:
    for tag in _PATIENT_KEYS:
        elem = ds.get(tag)
        if elem is not None and str(elem.value or "").strip():
            return f"{tag:08X}:{str(elem.value).strip()}"
    return "unknown-patient"


class Deidentifier:
    """Applies the profile to datasets; one instance per export keeps UIDs and pseudonyms consistent."""

    def __init__(self, keys: Keys, options: Options):
        self.keys, self.options = keys, options
        self._scrubber = _notes_scrubber() if options.clean_descriptors or options.patient_characteristics else None

    # entry point ---------------------------------------------------------------------------------------------
    def dataset(self, ds, source: str = "") -> DatasetResult:
        result = DatasetResult(patient_key=patient_key(ds))
        result.warnings += burned_in_warnings(ds, source)
        pid = self.keys.pseudonym(result.patient_key)
        shift = self.keys.shift_days(result.patient_key)
        identifiers = [str(v) for k in _NAME_SOURCES if k in ds for v in _as_list(ds.get(k))]
        clean = values.make_cleaner(identifiers, self._scrubber)
        self._walk(ds, _Run(pid, shift, clean, result))
        self._mark(ds, pid)
        return result

    # the walk -----------------------------------------------------------------------------------------------
    def _walk(self, ds, run: "_Run") -> None:
        self._drop_private(ds, run)
        for elem in list(ds):
            tag = int(elem.tag)
            if tag in DEID_TAGS or tag not in ds:
                continue
            row = profile.row_for(tag)
            if row is not None:
                action = profile.action_for_row(row, self.options)
            else:
                action = self._unlisted_action(elem)
            run.count(action)
            self._apply(ds, elem, action, run)
        _drop_orphan_overlays(ds)

    def _unlisted_action(self, elem) -> str:
        vr = elem.VR
        if int(elem.tag) == TEXT_VALUE:
            return "C"  # SR free text: identifiers, dates and numbers are removed (the table does not list it)
        if vr == "SQ":
            return "K"
        if vr == "PN":
            return "D"
        if vr == "UI":
            return "U"
        if vr in ("DA", "DT"):
            return "C" if self.options.modified_dates else "Z"
        return "K"

    def _apply(self, ds, elem, action: str, run: "_Run") -> None:
        tag = int(elem.tag)
        if action == "X":
            del ds[tag]
        elif elem.VR == "SQ":
            self._sequence(ds, elem, action, run)
        elif action == "K":
            return
        elif tag in (PATIENT_ID, PATIENT_NAME):
            elem.value = run.pseudonym  # Z permits a dummy: a stable pseudonym keeps patients apart
        elif action == "Z":
            elem.value = values.empty(elem.VR)
        elif action == "D":
            elem.value = self.keys.uid(str(elem.value)) if elem.VR == "UI" else values.dummy(elem.VR)
        elif action == "U":
            self._uid(elem)
        elif action == "C":
            self._clean(ds, elem, run)

    def _sequence(self, ds, elem, action: str, run: "_Run") -> None:
        if action == "Z":
            elem.value = []
            return
        # K, C, D and U keep the items and apply the profile inside them (D: items hold only dummies after that)
        for item in elem.value:
            self._walk(item, run)

    def _uid(self, elem) -> None:
        if elem.value is None or elem.value == "":
            return
        if elem.VM > 1:
            elem.value = [v if registered_uid(str(v)) else self.keys.uid(str(v)) for v in elem.value]
        elif not registered_uid(str(elem.value)):
            elem.value = self.keys.uid(str(elem.value))

    def _clean(self, ds, elem, run: "_Run") -> None:
        vr = elem.VR
        if vr == "DA":
            elem.value = values.shift_da(str(elem.value or ""), run.shift) or None
        elif vr == "DT":
            elem.value = values.shift_dt(str(elem.value or ""), run.shift) or None
        elif vr == "TM":
            return  # dates move by whole days; the time of day stays
        elif int(elem.tag) == 0x00080201:
            elem.value = "+0000"  # Timezone Offset From UTC reveals where; UTC has the same meaning
        elif vr in ("LO", "SH", "LT", "ST", "UT", "UC", "PN", "CS"):
            if elem.value is not None:
                if elem.VM > 1:
                    elem.value = [run.clean(str(v)) for v in elem.value]
                else:
                    elem.value = run.clean(str(elem.value))

    # private attributes ---------------------------------------------------------------------------------------
    def _drop_private(self, ds, run: "_Run") -> None:
        creators: dict[tuple[int, int], str] = {}
        for elem in ds:
            if elem.tag.is_private and 0x10 <= elem.tag.element <= 0xFF:
                creators[(elem.tag.group, elem.tag.element)] = str(elem.value).strip()
        keep_creators = set()
        for elem in list(ds):
            if not elem.tag.is_private or elem.tag.element <= 0xFF:
                continue
            block = (elem.tag.group, elem.tag.element >> 8)
            key = (creators.get(block, ""), elem.tag.group, elem.tag.element & 0xFF)
            if self.options.safe_private and key in SAFE_PRIVATE:
                keep_creators.add(block)
                run.count("K")
            else:
                del ds[elem.tag]
                run.count("X")
        for elem in list(ds):
            if elem.tag.is_private and elem.tag.element <= 0xFF and \
                    (elem.tag.group, elem.tag.element) not in keep_creators:
                del ds[elem.tag]

    # attributes MedStation adds ------------------------------------------------------------------------------
    def _mark(self, ds, pid: str) -> None:
        from pydicom.dataset import Dataset

        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = ["MedStation"] + [meaning[:64] for _code, meaning in self.options.codes()]
        codes = []
        for value, meaning in self.options.codes():
            item = Dataset()
            item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
            codes.append(item)
        ds.DeidentificationMethodCodeSequence = codes
        ds.LongitudinalTemporalInformationModified = "MODIFIED" if self.options.modified_dates else "REMOVED"
        if "PatientID" not in ds:
            ds.PatientID = pid
        if "PatientName" not in ds:
            ds.PatientName = pid


def _drop_orphan_overlays(ds) -> None:
    """An overlay plane whose Overlay Data the profile removed is meaningless: the rest of its group goes too."""
    for group in {e.tag.group for e in ds if 0x6000 <= e.tag.group <= 0x60FF and not e.tag.is_private}:
        if (group << 16 | 0x3000) not in ds:
            for elem in [e for e in ds if e.tag.group == group]:
                del ds[elem.tag]


@dataclass
class _Run:
    pseudonym: str
    shift: int
    clean: Callable[[str], str]
    result: DatasetResult

    def count(self, action: str) -> None:
        self.result.actions[action] = self.result.actions.get(action, 0) + 1


def burned_in_warnings(ds, source: str = "") -> list[str]:
    """Warnings for pixel data that may show the patient's identity burned into the image."""
    where = f"{source}: " if source else ""
    warnings = []
    burned = str(ds.get("BurnedInAnnotation", "") or "").upper()
    modality = str(ds.get("Modality", "") or "").upper()
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if burned == "YES":
        warnings.append(f"{where}Burned In Annotation is YES: the pixels show identifying text that this "
                        "de-identification does not remove; review or exclude the image")
    elif burned != "NO" and "PixelData" in ds:
        kind = BURNED_IN_MODALITIES.get(modality)
        if kind is None and sop_class.startswith(SECONDARY_CAPTURE_PREFIX):
            kind = "secondary capture"
        if kind:
            warnings.append(f"{where}{kind} images often carry burned-in patient text; check the pixels "
                            "before sharing")
    return warnings
