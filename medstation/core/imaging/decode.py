"""Decoding one DICOM object's pixels into modality values, with everything the viewer needs to show them.

pydicom's pixel handlers (pylibjpeg, OpenJPEG, RLE, JPEG-LS and Pillow plug-ins; GDCM only in a child process, see
``plugins``) decode every transfer syntax; this module applies the modality transform (rescale slope/intercept, or a
Modality LUT Sequence; per frame for enhanced objects), turns palette colour and YBR into RGB, keeps MONOCHROME1
values as they are (the viewer inverts the display), and collects the file's windows, VOI LUTs, overlay planes and
per-frame geometry.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.imaging import plugins
from medstation.core.imaging.display import DisplayInfo, display_info
from medstation.core.imaging.model import VoiLut, WindowLevel


@dataclass
class Decoded:
    """One object's frames: float32 (n, rows, cols) in modality units, or uint8 (n, rows, cols, 3) for colour."""
    pixels: np.ndarray
    photometric: str
    rescale: tuple[float, float] = (1.0, 0.0)
    windows: list[WindowLevel] = field(default_factory=list)
    voi_luts: list[VoiLut] = field(default_factory=list)
    overlays: dict[int, np.ndarray] = field(default_factory=dict)
    positions: list[tuple[float, float, float] | None] = field(default_factory=list)  # per frame (enhanced)
    orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, float] | None = None
    frame_time_ms: float = 0.0
    warnings: list[str] = field(default_factory=list)
    display: DisplayInfo = field(default_factory=DisplayInfo)  # calibration, orientation source, VOI hints


def read_dataset(path: str):
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
    except Exception as exc:
        raise MedStationError(f"cannot read {path}: {exc}") from None
    _infer_transfer_syntax(ds)
    return ds


def _infer_transfer_syntax(ds) -> None:
    """Files without (0002,0010) (pre-Part 10, or broken meta): use the encoding pydicom found while reading."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        return
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    implicit, little = getattr(ds, "original_encoding", (True, True))
    meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else (
        ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def read_dataset_header(path: str):
    """The full header without pixel data (windows, LUTs, patient) of one file."""
    import pydicom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except Exception as exc:
        raise MedStationError(f"cannot read the header of {path}: {exc}") from None


def decode_file(path: str, frame: int | None = None) -> Decoded:
    """Decode all frames of ``path`` (or just ``frame``)."""
    return decode_dataset(read_dataset(path), path, frame)


@contextmanager
def interpreting(path: str):
    """Turn an error raised while reading a header's values into a MedStationError naming ``path``: pydicom
    converts each element when it is first read, so a damaged one (a wrong VR or length, e.g. ``(0020,0037)``
    read as FD from 42 bytes) raises only there, long after the file opened."""
    from medstation.core.jobs import Cancelled

    try:
        yield
    except (MedStationError, Cancelled):  # a cancelled load stays cancelled
        raise
    except Exception as exc:  # noqa: BLE001 - any failure here comes from the file's content
        raise MedStationError(f"cannot interpret the header of {path or 'the object'}: {_header_problem(exc)}",
                              kept="the file was not loaded") from None


def _header_problem(exc: Exception) -> str:
    """What is wrong in the header, in one clause: the damaged element by tag when pydicom names it."""
    import re

    text = _first_reason(exc)
    wrong = re.search(r"with length (\d+) .*parse \(([0-9A-Fa-f]{4},[0-9A-Fa-f]{4})\) according to VR '(\w+)'", text)
    if wrong:
        length, tag, vr = wrong.groups()
        return f"the element ({tag}) holds {length} bytes, not a whole number of {vr} values (damaged VR or length)"
    first = text.split(". ")[0].rstrip(".")
    return first[:200] + ("..." if len(first) > 200 else "")


def decode_dataset(ds, path: str = "", frame: int | None = None) -> Decoded:
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise MedStationError(f"{path or 'the object'} has no pixel data")
    with interpreting(path):
        return _decode_dataset(ds, path, frame)


def _decode_dataset(ds, path: str, frame: int | None) -> Decoded:
    raw = _pixel_array(ds, path, frame)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    samples = _int(ds.get("SamplesPerPixel"), 1)
    nframes = 1 if frame is not None else max(_int(ds.get("NumberOfFrames"), 1), 1)
    raw = _frames_first(raw, nframes, samples)
    out = Decoded(pixels=raw, photometric=photometric)
    if photometric == "PALETTE COLOR":
        out.pixels, out.photometric = _palette(raw, ds), "RGB"
    elif samples == 3:
        out.pixels, out.photometric = _to_uint8(raw, _int(ds.get("BitsStored"), 8)), "RGB"
    else:
        out.pixels, out.rescale = _modality(raw, ds, frame)
        out.windows = file_windows(ds)
        out.voi_luts = file_voi_luts(ds)
    out.overlays = overlays(ds, out.pixels.shape[0], frame)
    out.display = display_info(ds)
    _geometry(ds, out, frame)
    return out


def stored_pixels(ds, path: str = "") -> np.ndarray:
    """Every frame's stored values (YBR as RGB), decoded the safe way: pydicom first, GDCM only in a child process,
    a MedStationError naming ``path`` when neither can."""
    return _pixel_array(ds, path, None)


def stored_slice(path: str) -> tuple[np.ndarray, float, float]:
    """The first frame of a greyscale file as stored (integers, not yet rescaled) with its rescale (slope,
    intercept), for a device that applies the modality transform itself; a Modality LUT Sequence is applied here
    (float32 values, rescale (1, 0)). A MedStationError naming ``path`` for colour or unreadable files."""
    ds = read_dataset(path)
    if "PixelData" not in ds:
        raise MedStationError(f"{path} has no pixel data")
    with interpreting(path):
        return _stored_slice(ds, path)


def _stored_slice(ds, path: str) -> tuple[np.ndarray, float, float]:
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
    if _int(ds.get("SamplesPerPixel"), 1) != 1 or photometric == "PALETTE COLOR":
        raise MedStationError(f"{path} is a colour image ({photometric}), not a greyscale slice")
    multi = _int(ds.get("NumberOfFrames"), 1) > 1
    raw = _frames_first(_pixel_array(ds, path, 0 if multi else None), 1, 1)[0]
    if "ModalityLUTSequence" in ds:
        from pydicom.pixels import apply_modality_lut

        return apply_modality_lut(raw, ds).astype(np.float32), 1.0, 0.0
    slope, intercept = _rescale_of(ds, 0) or (1.0, 0.0)
    return raw, slope, intercept


def _pixel_array(ds, path: str, frame: int | None) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _decode_pixels(ds, frame)
    except Exception as exc:
        reason = _first_reason(exc)
        try:
            fallback = plugins.gdcm_pixels(path) if path else None  # GDCM reads files pydicom cannot
        except plugins.GdcmFailed as failed:
            fallback, reason = None, f"{reason}; {failed}"
        except Exception:  # no temporary folder, no interpreter to start: the first reason stands
            fallback = None
        multi = _int(ds.get("NumberOfFrames"), 1) > 1
        if fallback is not None and not (multi and frame is not None and not 0 <= frame < len(fallback)):
            return fallback[frame] if multi and frame is not None else fallback
        syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
        name = getattr(syntax, "name", str(syntax or "unknown transfer syntax"))
        raise MedStationError(f"cannot decode the pixels of {path or 'the object'} ({name}): {reason}") from None


def _first_reason(exc: BaseException) -> str:
    """The first line of ``exc`` that says something; pydicom's "exceptions were raised by all available
    plugins:" is followed by each plugin's own reason, and the first of those is given."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].endswith(":") and len(lines) > 1:
        return lines[1]
    return lines[0]


def _decode_pixels(ds, frame: int | None) -> np.ndarray:
    """pydicom's decoders; YBR_FULL(_422) 8-bit colour is converted to RGB here in fixed point, several times
    faster than pydicom's floating-point conversion on long ultrasound cines."""
    from pydicom.pixels import get_decoder

    plugins.confine()  # no decoder that can abort the process runs in it
    multi = _int(ds.get("NumberOfFrames"), 1) > 1
    index = frame if (frame is not None and multi) else None
    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    arr, meta = decoder.as_array(ds, as_rgb=False, index=index)
    if str(meta.get("photometric_interpretation", "")) in ("YBR_FULL", "YBR_FULL_422") and arr.dtype == np.uint8 \
            and arr.shape[-1] == 3:
        return ybr_full_to_rgb(arr)
    if str(meta.get("photometric_interpretation", "")).startswith("YBR"):
        from pydicom.pixels import convert_color_space

        return convert_color_space(arr, str(meta["photometric_interpretation"]), "RGB")
    return arr


def ybr_full_to_rgb(arr: np.ndarray) -> np.ndarray:
    """YBR_FULL to RGB (PS3.3 C.7.6.3.1.2, JPEG/JFIF coefficients, 8-bit fixed point) for uint8 (..., 3) arrays,
    frame by frame so the intermediates stay small."""
    frames = arr.reshape((-1,) + arr.shape[-3:]) if arr.ndim >= 3 else arr[np.newaxis, np.newaxis]
    out = np.empty(frames.shape, dtype=np.uint8)
    for src, dst in zip(frames, out):
        y = src[..., 0].astype(np.int32) << 8
        cb = src[..., 1].astype(np.int32) - 128
        cr = src[..., 2].astype(np.int32) - 128
        np.clip((y + 359 * cr + 128) >> 8, 0, 255, out=dst[..., 0], casting="unsafe")
        np.clip((y - 88 * cb - 183 * cr + 128) >> 8, 0, 255, out=dst[..., 1], casting="unsafe")
        np.clip((y + 454 * cb + 128) >> 8, 0, 255, out=dst[..., 2], casting="unsafe")
    return out.reshape(arr.shape)


def _frames_first(arr: np.ndarray, nframes: int, samples: int) -> np.ndarray:
    colour = samples > 1
    if (arr.ndim == 2 and not colour) or (arr.ndim == 3 and colour):
        arr = arr[np.newaxis]
    if arr.ndim == (4 if colour else 3) and arr.shape[0] != nframes and nframes == 1:
        return arr[:1]
    return arr


def _to_uint8(arr: np.ndarray, bits_stored: int) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "f":
        top = float(arr.max()) or 1.0
        return np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    shift = max(bits_stored - 8, 0)
    return (arr.astype(np.uint64) >> shift).clip(0, 255).astype(np.uint8)


def _palette(raw: np.ndarray, ds) -> np.ndarray:
    from pydicom.pixels import apply_color_lut

    rgb = apply_color_lut(raw, ds)
    if rgb.dtype == np.uint8:
        return rgb
    top = float(rgb.max())
    bits = 8 if top <= 255 else 16
    return _to_uint8(rgb, bits)


def _rescale_of(ds, frame_index: int) -> tuple[float, float] | None:
    """(slope, intercept) from the data set or, for enhanced objects, from the frame's functional groups."""
    for source in _frame_groups(ds, frame_index):
        seq = source.get("PixelValueTransformationSequence")
        if seq:
            item = seq[0]
            return float(item.get("RescaleSlope", 1) or 1), float(item.get("RescaleIntercept", 0) or 0)
    if str(ds.get("Modality", "")) == "RTDOSE" and ds.get("DoseGridScaling") not in (None, ""):
        return float(ds.DoseGridScaling), 0.0  # stored values x scaling = dose in DoseUnits (Gy)
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)
    return None


def _frame_groups(ds, frame_index: int) -> list:
    """Per-frame then shared functional group items that apply to ``frame_index`` (empty for classic objects)."""
    out = []
    per = ds.get("PerFrameFunctionalGroupsSequence")
    if per and frame_index < len(per):
        out.append(per[frame_index])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        out.append(shared[0])
    return out


def _modality(raw: np.ndarray, ds, frame: int | None) -> tuple[np.ndarray, tuple[float, float]]:
    if "ModalityLUTSequence" in ds:
        from pydicom.pixels import apply_modality_lut

        return apply_modality_lut(raw, ds).astype(np.float32), (1.0, 0.0)
    n = raw.shape[0]
    first = 0 if frame is None else frame
    rescales = [_rescale_of(ds, first + i) or (1.0, 0.0) for i in range(n)] if "PerFrameFunctionalGroupsSequence" \
        in ds else [_rescale_of(ds, 0) or (1.0, 0.0)] * n
    out = raw.astype(np.float32)
    if len(set(rescales)) == 1:
        slope, intercept = rescales[0]
        if (slope, intercept) != (1.0, 0.0):
            out *= np.float32(slope)
            out += np.float32(intercept)
    else:
        for i, (slope, intercept) in enumerate(rescales):
            out[i] = out[i] * np.float32(slope) + np.float32(intercept)
    return out, rescales[0]


def _int(value, default: int) -> int:
    """An integer element's value; ``default`` when absent or unreadable (e.g. "1A" in a damaged IS)."""
    try:
        return int(float(value)) if value not in (None, "") else default
    except (TypeError, ValueError):
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        return int(digits) if digits else default


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


def file_windows(ds) -> list[WindowLevel]:
    """The window centre/width pairs the file gives (top level or enhanced Frame VOI LUT), named "file ..."."""
    source = ds
    if "WindowCenter" not in ds:
        for group in _frame_groups(ds, 0):
            seq = group.get("FrameVOILUTSequence")
            if seq:
                source = seq[0]
                break
    centers, widths = _as_list(source.get("WindowCenter")), _as_list(source.get("WindowWidth"))
    names = _as_list(source.get("WindowCenterWidthExplanation"))
    out = []
    for i, (c, w) in enumerate(zip(centers, widths)):
        try:
            c, w = float(c), float(w)
        except (TypeError, ValueError):
            continue
        if w > 0:
            label = str(names[i]).strip() if i < len(names) and str(names[i]).strip() else ""
            out.append(WindowLevel(c, w, f"file {label}".strip() if label else ("file" if i == 0 else f"file {i + 1}")))
    return out


def file_voi_luts(ds) -> list[VoiLut]:
    out = []
    for i, item in enumerate(ds.get("VOILUTSequence") or []):
        try:
            desc = [int(v) for v in item.LUTDescriptor]
            data = np.asarray(_lut_data(item, desc[2]), dtype=np.float64)
        except Exception:
            continue
        explanation = str(item.get("LUTExplanation", "") or "").strip()
        out.append(VoiLut(float(desc[1]), data, int(desc[2]), f"file LUT {explanation or i + 1}"))
    return out


def _lut_data(item, bits: int):
    value = item.LUTData
    if isinstance(value, bytes):
        return np.frombuffer(value, dtype="<u2" if bits > 8 else "u1")
    return _as_list(value)


def overlays(ds, nframes: int, frame: int | None = None) -> dict[int, np.ndarray]:
    """Overlay planes (groups 6000-601E) as one bool mask per image frame, placed at their origin."""
    rows, cols = _int(ds.get("Rows"), 0), _int(ds.get("Columns"), 0)
    out: dict[int, np.ndarray] = {}
    for group in range(0x6000, 0x6020, 2):
        if (group, 0x3000) not in ds:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                planes = np.asarray(ds.overlay_array(group)).astype(bool)
        except Exception:
            continue
        if planes.ndim == 2:
            planes = planes[np.newaxis]
        origin = _as_list(ds.get((group, 0x0050)).value if (group, 0x0050) in ds else [1, 1]) or [1, 1]
        first_frame = int(ds[(group, 0x0051)].value) - 1 if (group, 0x0051) in ds else 0
        targets = range(nframes) if planes.shape[0] == 1 and frame is None else None
        for k, plane in enumerate(planes):
            for z in (targets if targets is not None else [first_frame + k - (frame or 0)]):
                if 0 <= z < nframes:
                    mask = out.setdefault(z, np.zeros((rows, cols), dtype=bool))
                    _place(mask, plane, int(origin[0]) - 1, int(origin[1]) - 1)
    return out


def _place(mask: np.ndarray, plane: np.ndarray, r0: int, c0: int) -> None:
    rs, cs = max(r0, 0), max(c0, 0)
    re, ce = min(r0 + plane.shape[0], mask.shape[0]), min(c0 + plane.shape[1], mask.shape[1])
    if re > rs and ce > cs:
        mask[rs:re, cs:ce] |= plane[rs - r0:re - r0, cs - c0:ce - c0]


def _floats(value) -> tuple[float, ...] | None:
    try:
        values = tuple(float(v) for v in _as_list(value))
    except (TypeError, ValueError):
        return None
    return values or None


def _geometry(ds, out: Decoded, frame: int | None) -> None:
    out.orientation = _floats(ds.get("ImageOrientationPatient"))
    n = out.pixels.shape[0]
    first = 0 if frame is None else frame
    if "PerFrameFunctionalGroupsSequence" in ds:
        out.positions = []
        for i in range(n):
            pos = orient = None
            for group in _frame_groups(ds, first + i):
                if pos is None and group.get("PlanePositionSequence"):
                    pos = _floats(group.PlanePositionSequence[0].get("ImagePositionPatient"))
                if orient is None and group.get("PlaneOrientationSequence"):
                    orient = _floats(group.PlaneOrientationSequence[0].get("ImageOrientationPatient"))
            out.positions.append(pos[:3] if pos and len(pos) >= 3 else None)
            out.orientation = out.orientation or orient
    else:
        pos = _floats(ds.get("ImagePositionPatient"))
        out.positions = [pos[:3] if pos and len(pos) >= 3 else None] * (1 if n == 1 else 0)
        offsets = _floats(ds.get("GridFrameOffsetVector"))  # RT Dose: frame positions along the normal
        if n > 1 and pos and out.orientation and offsets and len(offsets) >= first + n:
            normal = np.cross(out.orientation[:3], out.orientation[3:6])
            out.positions = [tuple(float(v) for v in np.add(pos[:3], off * normal))
                             for off in offsets[first:first + n]]
    out.pixel_spacing = out.display.calibration.display_spacing
    frame_time = _floats(ds.get("FrameTime"))
    rate = _floats(ds.get("CineRate")) or _floats(ds.get("RecommendedDisplayFrameRate"))
    if frame_time and frame_time[0] > 0:
        out.frame_time_ms = frame_time[0]
    elif rate and rate[0] > 0:
        out.frame_time_ms = 1000.0 / rate[0]
