"""Header-only reading of DICOM files, fast: just the elements the study index stores, and where pixels start.

``read_header(path)`` walks the data set element by element over the first bytes of the file (no pixel decoding,
no value conversion for elements it does not keep), skipping sequences, and stops at Pixel Data, whose byte offset
it records so the loader can read uncompressed frames straight from disk. Little-endian files (implicit and explicit
VR, the vast majority) take this path; big-endian and deflated files go through pydicom. A file that is not DICOM
or is damaged raises ``HeaderError`` with one reason.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
NATIVE_LE = {IMPLICIT_LE, EXPLICIT_LE}
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
_UNDEFINED = 0xFFFFFFFF
_FIRST_READ = 16384
_MAX_HEADER = 64 * 1024 * 1024

# (group, element) -> (field name, kind); kinds: s string, u16 unsigned short, i integer string, f decimal string(s)
_KEEP: dict[int, tuple[str, str]] = {
    0x00020010: ("transfer_syntax", "s"), 0x00020002: ("media_class", "s"),
    0x00080016: ("sop_class", "s"), 0x00080018: ("sop_uid", "s"), 0x00080020: ("study_date", "s"),
    0x00080021: ("series_date", "s"), 0x00080030: ("study_time", "s"), 0x00080050: ("accession", "s"),
    0x00080060: ("modality", "s"), 0x00081030: ("study_description", "s"),
    0x0008103E: ("series_description", "s"), 0x00100010: ("patient_name", "s"), 0x00100020: ("patient_id", "s"),
    0x00100030: ("birth_date", "s"), 0x00100040: ("sex", "s"), 0x0020000D: ("study_uid", "s"),
    0x0020000E: ("series_uid", "s"), 0x00200011: ("series_number", "i"), 0x00200013: ("instance_number", "i"),
    0x00200032: ("position", "f"), 0x00200037: ("orientation", "f"), 0x00280002: ("samples", "u16"),
    0x00280004: ("photometric", "s"), 0x00280006: ("planar", "u16"), 0x00280008: ("frames", "i"),
    0x00280010: ("rows", "u16"), 0x00280011: ("cols", "u16"), 0x00280030: ("pixel_spacing", "f"),
    0x00280100: ("bits_allocated", "u16"), 0x00280101: ("bits_stored", "u16"),
    0x00280103: ("pixel_rep", "u16"), 0x00281052: ("intercept", "f"), 0x00281053: ("slope", "f"),
}
_FLAGS = {0x00283000: "modality_lut", 0x00283010: "voi_lut", 0x00281201: "palette", 0x52009229: "enhanced",
          0x3004000E: "dose_scaling"}
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}


class HeaderError(Exception):
    """The file is not DICOM, or its header cannot be read; the message is the reason shown to the user."""


class TruncatedError(HeaderError):
    """The file ends before an element (or the pixel data) it declares."""


@dataclass
class Header:
    path: str
    transfer_syntax: str = IMPLICIT_LE
    media_class: str = ""
    sop_class: str = ""
    sop_uid: str = ""
    study_uid: str = ""
    series_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    series_date: str = ""
    accession: str = ""
    modality: str = ""
    study_description: str = ""
    series_description: str = ""
    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""
    series_number: int | None = None
    instance_number: int | None = None
    position: tuple[float, ...] | None = None
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, ...] | None = None
    samples: int = 1
    photometric: str = ""
    planar: int = 0
    frames: int = 1
    rows: int = 0
    cols: int = 0
    bits_allocated: int = 0
    bits_stored: int = 0
    pixel_rep: int = 0
    intercept: tuple[float, ...] | None = None
    slope: tuple[float, ...] | None = None
    pixel_offset: int = -1  # byte offset of the Pixel Data value; -1 when the file has none
    pixel_length: int = 0  # its length in bytes (0xFFFFFFFF when encapsulated)
    flags: set[str] = field(default_factory=set)  # modality_lut, voi_lut, palette, overlay, enhanced

    @property
    def has_pixels(self) -> bool:
        return self.pixel_offset >= 0

    @property
    def raw_readable(self) -> bool:
        """True when the loader can read the frames straight from the file with numpy."""
        return (self.transfer_syntax in NATIVE_LE and self.pixel_length not in (0, _UNDEFINED)
                and self.samples == 1 and self.photometric in ("MONOCHROME1", "MONOCHROME2")
                and self.bits_allocated in (8, 16, 32) and 0 < self.bits_stored <= self.bits_allocated
                and not self.flags & {"modality_lut", "overlay", "palette", "enhanced", "dose_scaling"})

    @property
    def rescale(self) -> tuple[float, float]:
        slope = self.slope[0] if self.slope else 1.0
        return (slope if slope else 1.0, self.intercept[0] if self.intercept else 0.0)


class _Buffer:
    """The file's leading bytes, grown on demand (headers are rarely more than a few kB)."""

    def __init__(self, path: str):
        self.path = path
        self.handle = open(path, "rb")
        self.size = os.fstat(self.handle.fileno()).st_size
        self.data = self.handle.read(_FIRST_READ)
        self.eof = len(self.data) < _FIRST_READ

    def need(self, end: int) -> bool:
        """Make sure bytes up to ``end`` are loaded; False when the file is shorter."""
        while end > len(self.data) and not self.eof:
            if end > _MAX_HEADER:
                raise HeaderError(f"header larger than {_MAX_HEADER // 2**20} MB before the pixel data")
            more = self.handle.read(max(end - len(self.data), len(self.data)))
            self.eof = not more
            self.data += more
        return end <= len(self.data)

    def close(self) -> None:
        self.handle.close()


def read_header(path: str | os.PathLike) -> Header:
    """Read the indexed elements of one file; raise ``HeaderError`` (with the reason) for non-DICOM/damaged files."""
    path = str(path)
    try:
        buf = _Buffer(path)
    except OSError as exc:
        raise HeaderError(f"cannot read the file ({exc.strerror or exc})") from None
    try:
        header = Header(path)
        pos = _start(buf, header)
        if header.transfer_syntax in (EXPLICIT_BE, DEFLATED):
            return _read_with_pydicom(path)
        _walk(buf, header, pos, header.transfer_syntax != IMPLICIT_LE)
        return header
    except (HeaderError, struct.error) as exc:
        if isinstance(exc, TruncatedError) or str(exc).startswith("not a DICOM file"):
            raise
        reason = str(exc) if isinstance(exc, HeaderError) else "truncated or damaged header"
        return _read_with_pydicom(path, reason)  # pydicom tolerates more (e.g. a wrong VR encoding)
    finally:
        buf.close()


def _start(buf: _Buffer, header: Header) -> int:
    """Parse the preamble and File Meta group; return where the data set starts."""
    data = buf.data
    if len(data) >= 132 and data[128:132] == b"DICM":
        end = _walk(buf, header, 132, True, meta_only=True)
        return end
    if len(data) >= 8 and data[:2] in (b"\x08\x00", b"\x02\x00", b"\x10\x00", b"\x20\x00", b"\x28\x00"):
        header.transfer_syntax = EXPLICIT_LE if data[4:6].isalpha() and data[4:6].isupper() else IMPLICIT_LE
        return 0
    raise HeaderError("not a DICOM file (no DICM marker and no DICOM elements at the start)")


def _walk(buf: _Buffer, header: Header, pos: int, explicit: bool, meta_only: bool = False) -> int:
    """Read elements from ``pos`` until Pixel Data (or the end of group 2 when ``meta_only``); return the stop."""
    unpack_from, size, keep, long_vrs = struct.unpack_from, buf.size, _KEEP, _LONG_VRS
    data = buf.data
    while True:
        if pos >= size and not meta_only:
            return pos  # the data set ends with the file: an object without pixel data
        if pos + 12 > len(data):
            if not buf.need(pos + 8):
                raise TruncatedError(f"file truncated at byte {size} (inside the element at byte {pos})")
            buf.need(pos + 12)
            data = buf.data
        group, elem, vr, short = unpack_from("<HH2sH", data, pos)
        if meta_only and group != 2:
            return pos
        if explicit or group == 2:
            if vr in long_vrs:
                length, value_at = unpack_from("<I", data, pos + 8)[0], pos + 12
            elif vr.isalpha():
                length, value_at = short, pos + 8
            else:
                raise HeaderError(f"damaged element ({group:04X},{elem:04X}) at byte {pos}: invalid VR")
        else:
            vr, length, value_at = b"", unpack_from("<I", data, pos + 4)[0], pos + 8
        tag = (group << 16) | elem
        if tag in _PIXEL_TAGS:
            if length != _UNDEFINED and value_at + length > size:
                raise TruncatedError(f"pixel data truncated: the file has {size - value_at} of its "
                                     f"{length} bytes")
            header.pixel_offset, header.pixel_length = value_at, length
            return value_at
        if length == _UNDEFINED:
            pos = _skip_undefined(buf, value_at, explicit and vr != b"UN")
            data = buf.data
            if tag in _FLAGS:
                header.flags.add(_FLAGS[tag])
            continue
        end = value_at + length
        if end > size:
            raise TruncatedError(f"file truncated: element ({group:04X},{elem:04X}) at byte {pos} runs past "
                                 f"the end of the file ({size} bytes)")
        if tag in keep:
            if end > len(data):
                buf.need(end)
                data = buf.data
            _store(header, tag, data[value_at:end])
        elif tag in _FLAGS:
            header.flags.add(_FLAGS[tag])
        elif 0x6000 <= group <= 0x601E and elem == 0x3000 and not group & 1:
            header.flags.add("overlay")
        pos = end


def _skip_undefined(buf: _Buffer, pos: int, explicit: bool) -> int:
    """Skip a sequence of undefined length (items of either length); return the position after its delimiter."""
    unpack_from = struct.unpack_from
    while True:
        if not buf.need(pos + 8):
            raise TruncatedError("file truncated inside a sequence")
        group, elem, length = unpack_from("<HHI", buf.data, pos)
        pos += 8
        if group != 0xFFFE:
            raise HeaderError(f"damaged sequence: unexpected element ({group:04X},{elem:04X}) at byte {pos - 8}")
        if elem == 0xE0DD:  # sequence delimitation
            return pos
        if elem == 0xE000:
            pos = _skip_item(buf, pos, explicit) if length == _UNDEFINED else pos + length
        # an item delimiter at this level is tolerated and skipped


def _skip_item(buf: _Buffer, pos: int, explicit: bool) -> int:
    unpack_from = struct.unpack_from
    while True:
        if not buf.need(pos + 8):
            raise TruncatedError("file truncated inside a sequence item")
        data = buf.data
        group, elem = unpack_from("<HH", data, pos)
        if group == 0xFFFE and elem == 0xE00D:
            return pos + 8
        if explicit:
            vr = data[pos + 4:pos + 6]
            if vr in _LONG_VRS:
                buf.need(pos + 12)
                length, value_at = unpack_from("<I", buf.data, pos + 8)[0], pos + 12
            else:
                length, value_at = unpack_from("<H", data, pos + 6)[0], pos + 8
        else:
            vr, length, value_at = b"", unpack_from("<I", data, pos + 4)[0], pos + 8
        if length == _UNDEFINED:
            pos = _skip_undefined(buf, value_at, explicit and vr != b"UN")
        else:
            pos = value_at + length


def _store(header: Header, tag: int, raw: bytes) -> None:
    name, kind = _KEEP[tag]
    if kind == "u16":
        setattr(header, name, struct.unpack_from("<H", raw)[0] if len(raw) >= 2 else 0)
        return
    text = raw.decode("latin-1").strip("\x00 ")
    if kind == "s":
        setattr(header, name, text)
    elif kind == "i":
        try:
            setattr(header, name, int(float(text.split("\\")[0]))) if text else None
        except ValueError:
            pass
    else:
        try:
            setattr(header, name, tuple(float(v) for v in text.split("\\")) if text else None)
        except ValueError:
            pass


def _read_with_pydicom(path: str, reason: str = "") -> Header:
    """Big-endian, deflated and irregular files: pydicom reads the header (slower, but these files are rare)."""
    import warnings

    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, defer_size=4096, force=True)  # large values (pixels) are not read
            return _from_dataset(path, ds)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise HeaderError(reason or f"damaged header ({exc})") from None


def _from_dataset(path: str, ds) -> Header:
    meta = getattr(ds, "file_meta", None) or {}
    h = Header(path, transfer_syntax=str(meta.get("TransferSyntaxUID", IMPLICIT_LE)))
    for _tag, (name, kind) in _KEEP.items():
        keyword = _KEYWORDS.get(name)
        value = ds.get(keyword) if keyword else None
        if value is None or value == "":
            continue
        try:
            if kind in ("u16", "i"):
                setattr(h, name, int(float(value)))
            elif kind == "f":
                many = hasattr(value, "__iter__") and not isinstance(value, str)
                setattr(h, name, tuple(float(v) for v in (value if many else [value])))
            else:
                setattr(h, name, str(value))
        except (TypeError, ValueError):
            continue  # an unreadable value is left out, as the fast path does
    h.media_class = str(meta.get("MediaStorageSOPClassUID", ""))
    if "PixelData" in ds or "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        h.pixel_offset, h.pixel_length = 0, _UNDEFINED  # not readable raw; decoded by pydicom
    for kw, flag in (("ModalityLUTSequence", "modality_lut"), ("VOILUTSequence", "voi_lut"),
                     ("RedPaletteColorLookupTableData", "palette"),
                     ("PerFrameFunctionalGroupsSequence", "enhanced"), ("DoseGridScaling", "dose_scaling")):
        if kw in ds:
            h.flags.add(flag)
    if any(0x6000 <= t.group <= 0x601E and t.element == 0x3000 for t in ds.keys()):
        h.flags.add("overlay")
    return h


_KEYWORDS = {
    "sop_class": "SOPClassUID", "sop_uid": "SOPInstanceUID", "study_date": "StudyDate", "series_date": "SeriesDate",
    "study_time": "StudyTime", "accession": "AccessionNumber", "modality": "Modality",
    "study_description": "StudyDescription", "series_description": "SeriesDescription",
    "patient_name": "PatientName", "patient_id": "PatientID", "birth_date": "PatientBirthDate",
    "sex": "PatientSex", "study_uid": "StudyInstanceUID", "series_uid": "SeriesInstanceUID",
    "series_number": "SeriesNumber", "instance_number": "InstanceNumber", "position": "ImagePositionPatient",
    "orientation": "ImageOrientationPatient", "samples": "SamplesPerPixel", "photometric": "PhotometricInterpretation",
    "planar": "PlanarConfiguration", "frames": "NumberOfFrames", "rows": "Rows", "cols": "Columns",
    "pixel_spacing": "PixelSpacing", "bits_allocated": "BitsAllocated", "bits_stored": "BitsStored",
    "pixel_rep": "PixelRepresentation", "intercept": "RescaleIntercept", "slope": "RescaleSlope",
}


def is_dicomdir(path: str | os.PathLike) -> bool:
    """A DICOMDIR: named so, or a Part 10 file whose media storage class is the Media Storage Directory."""
    p = Path(path)
    if p.name.upper() == "DICOMDIR":
        return True
    try:
        with open(p, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return False
    return head[128:132] == b"DICM" and DICOMDIR_CLASS.encode() in head
