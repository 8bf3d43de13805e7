"""Loading series into ``Volume``s: geometry-checked stacks of slices, and multi-frame objects.

Uncompressed little-endian greyscale slices are read straight from disk at the byte offset the index remembered
(numpy, several files at once), which is as fast as reading the bytes; everything else is decoded by pydicom
(``decode.py``). A series splits into one Volume per consistent stack, largest first, each saying why it was split.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medstation.core import parallel
from medstation.core.errors import MedStationError
from medstation.core.imaging import decode, display, geometry
from medstation.core.imaging.header import HeaderError, read_header
from medstation.core.imaging.model import Volume
from medstation.core.jobs import JobContext

_TIME_MODALITIES = {"US", "XA", "RF", "ES", "XC", "IVUS"}


def load_series(series_uid: str, ctx: JobContext | None = None) -> list[Volume]:
    """All images of an indexed series as Volumes (one per consistent stack, one per multi-frame object)."""
    from medstation.core.imaging import index

    rows = index.series_files(series_uid)
    if not rows:
        raise MedStationError(f"no indexed images for series {series_uid}; import its files first")
    return _load_rows(rows, ctx or JobContext(), _meta(index.series_info(series_uid)))


def load_files(paths: list[str | Path], ctx: JobContext | None = None) -> list[Volume]:
    """Load files (or the files under folders) without the study index: one or more Volumes per series."""
    ctx = ctx or JobContext()
    plans = plan_files(paths)
    volumes: list[Volume] = []
    for n, plan in enumerate(plans):
        volumes.extend(load_plan(plan, ctx.sub(n / len(plans), (n + 1) / len(plans))))
    return volumes


@dataclass
class SeriesPlan:
    """One series found by ``plan_files`` (headers only): its instance rows and what the Volumes say about it."""
    series_uid: str
    rows: list[dict]
    meta: dict


def plan_files(paths: list[str | Path]) -> list[SeriesPlan]:
    """The series under files or folders, from their headers only, in series-number order: what ``load_plan``
    loads one at a time. An error naming the paths when none holds an image."""
    from medstation.core.imaging.index import instance_row_dict
    from medstation.core.imaging.sources import Expansion, expand

    expansion = Expansion()
    by_series: dict[str, list[dict]] = {}
    headers = {}
    for path in expand(list(paths), expansion):
        try:
            h = read_header(path)
        except HeaderError as exc:
            expansion.skipped.append((path, str(exc)))
            continue
        if h.has_pixels:
            by_series.setdefault(h.series_uid, []).append(instance_row_dict(h))
            headers.setdefault(h.series_uid, h)
    if not by_series:
        reasons = "; ".join(f"{p}: {r}" for p, r in expansion.skipped[:3])
        raise MedStationError(f"no DICOM images in {', '.join(map(str, paths))}" + (f" ({reasons})" if reasons else ""))
    plans = []
    for series_uid in sorted(by_series, key=lambda s: (headers[s].series_number or 0, s)):
        h = headers[series_uid]
        meta = {"modality": h.modality, "description": h.series_description, "study_uid": h.study_uid,
                "series_uid": series_uid, "patient": {"name": h.patient_name, "id": h.patient_id,
                                                       "birth_date": h.birth_date, "sex": h.sex,
                                                       "study_date": h.study_date,
                                                       "study_description": h.study_description}}
        plans.append(SeriesPlan(series_uid, by_series[series_uid], meta))
    return plans


def load_plan(plan: SeriesPlan, ctx: JobContext | None = None) -> list[Volume]:
    """The Volumes of one planned series (one per consistent stack, one per multi-frame object)."""
    return _load_rows(plan.rows, ctx or JobContext(), plan.meta)


def load_first_slice(series_uid: str, which: str = "first") -> Volume:
    """One image of the series' main stack, fast (``which``: "first" or "middle"), for the first display."""
    from medstation.core.imaging import index

    rows = index.series_files(series_uid)
    if not rows:
        raise MedStationError(f"no indexed images for series {series_uid}; import its files first")
    meta = _meta(index.series_info(series_uid))
    singles, multis = _split_kinds(rows)
    if singles:
        stack = _stacks(singles)[0]
        refs = [singles[s.key] for s in stack.slices]
        pick = refs[len(refs) // 2] if which == "middle" else refs[0]
        return _load_stack([pick], geometry.Stack([stack.slices[refs.index(pick)]]), JobContext(), meta)
    row = multis[0]
    decoded = decode.decode_file(row["path"], frame=0 if which == "first" else max(row["frames"] // 2, 0))
    return _volume_from_decoded(decoded, row, meta, warnings=[])


# --- shared machinery -------------------------------------------------------------------------------------------

def _meta(info: dict | None) -> dict:
    if not info:
        return {}
    return {"modality": info["modality"], "description": info["description"], "study_uid": info["study_uid"],
            "series_uid": info["series_uid"],
            "patient": {"name": info["patient_name"], "id": info["patient_id"], "birth_date": info["birth_date"],
                        "sex": info["sex"], "study_date": info["study_date"],
                        "study_description": info["study_description"], "accession": info["accession"]}}


def _split_kinds(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    singles = [r for r in rows if (r["frames"] or 1) <= 1]
    multis = [r for r in rows if (r["frames"] or 1) > 1]
    return singles, multis


def _stacks(singles: list[dict]) -> list[geometry.Stack]:
    infos = [geometry.SliceInfo(i, r["rows"], r["cols"], r["orientation"], r["position"], r["instance_number"] or 0)
             for i, r in enumerate(singles)]
    return sorted(geometry.assemble(infos), key=lambda s: -len(s.slices))


def _load_rows(rows: list[dict], ctx: JobContext, meta: dict) -> list[Volume]:
    singles, multis = _split_kinds(rows)
    stacks = _stacks(singles) if singles else []
    total = max(len(singles) + sum(r["frames"] for r in multis), 1)
    volumes, done = [], 0
    for stack in stacks:
        refs = [singles[s.key] for s in stack.slices]
        sub = ctx.sub(done / total, (done + len(refs)) / total)
        volumes.append(_load_stack(refs, stack, sub, meta))
        done += len(refs)
    for row in multis:
        ctx.progress(done, total, f"decoding {Path(row['path']).name} ({row['frames']} frames)")
        decoded = decode.decode_file(row["path"])
        volumes.append(_volume_from_decoded(decoded, row, meta, warnings=[]))
        done += row["frames"]
    ctx.progress(1.0, None, f"loaded {len(volumes)} volume(s)")
    return volumes


def _load_stack(refs: list[dict], stack: geometry.Stack, ctx: JobContext, meta: dict) -> Volume:
    ds0 = decode.read_dataset_header(refs[0]["path"])
    with decode.interpreting(refs[0]["path"]):
        return _assemble_stack(refs, stack, ctx, meta, ds0)


def _assemble_stack(refs: list[dict], stack: geometry.Stack, ctx: JobContext, meta: dict, ds0) -> Volume:
    if all(r["raw_readable"] for r in refs) and len({(r["bits_allocated"], r["pixel_rep"]) for r in refs}) == 1:
        pixels = _read_raw(refs, ctx)
        overlays: dict[int, np.ndarray] = {}
        windows, luts, photometric = decode.file_windows(ds0), decode.file_voi_luts(ds0), refs[0]["photometric"]
        frame_time = 0.0
    else:
        pixels, overlays, windows, luts, photometric, frame_time = _decode_all(refs, ctx)
    first = refs[0]
    orientation = first["orientation"] or (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    info = display.display_info(ds0)
    spacing_rc = info.calibration.display_spacing or (1.0, 1.0)
    warnings = list(stack.warnings) + _calibration_warning(info)
    volume = Volume(
        pixels=pixels, spacing=(abs(stack.spacing) or 1.0, spacing_rc[0], spacing_rc[1]),
        origin=tuple(first["position"]) if first["position"] else (0.0, 0.0, 0.0),
        row_dir=tuple(orientation[:3]), col_dir=tuple(orientation[3:6]), slice_dir=tuple(stack.normal),
        windows=windows, overlays=overlays, warnings=warnings, voi_luts=luts, frame_time_ms=frame_time,
        photometric=photometric, sop_uids=[r["sop_uid"] for r in refs], files=[r["path"] for r in refs],
        positions=[tuple(r["position"]) for r in refs if r["position"]], rescale=(first["slope"], first["intercept"]),
        display=info)
    _apply_meta(volume, meta, ds0)
    return volume


def _calibration_warning(info: display.DisplayInfo) -> list[str]:
    """What the status strip says about distances when they are not millimetres in the patient."""
    return [] if info.calibration.kind == display.PATIENT else [info.calibration.describe()]


def _apply_meta(volume: Volume, meta: dict, ds0=None) -> None:
    volume.modality = meta.get("modality") or (str(ds0.get("Modality", "")) if ds0 is not None else "")
    volume.units = display.value_unit(volume.modality, volume.display, volume.is_color)
    volume.description = meta.get("description", "")
    volume.study_uid = meta.get("study_uid", "")
    volume.series_uid = meta.get("series_uid", "")
    volume.patient = dict(meta.get("patient", {}))


def _integer_rescale(refs: list[dict]) -> bool:
    """True when every slice's rescale is slope 1 and a whole-number intercept: values stay integers."""
    return all(float(r["slope"]) == 1.0 and float(r["intercept"]).is_integer() for r in refs)


def _read_raw(refs: list[dict], ctx: JobContext, as_float: bool = False) -> np.ndarray:
    """Read uncompressed slices straight from their files into one array of modality values, several files at
    once. Integer rescales (slope 1, whole intercept: nearly all CT) keep the values as int16 - half the memory of
    float32, no copy - unless a value does not fit, when the volume is widened to float32 once; any other rescale
    gives float32."""
    first = refs[0]
    rows, cols = first["rows"], first["cols"]
    if not rows or not cols:
        raise MedStationError(f"{first['path']}: the image is {rows or 0}x{cols or 0} pixels (Rows (0028,0010) or "
                              "Columns (0028,0011) missing or zero)", kept="the file was not loaded")
    dtype = np.dtype(f"<{'i' if first['pixel_rep'] else 'u'}{first['bits_allocated'] // 8}")
    integer = not as_float and _integer_rescale(refs) and dtype.itemsize <= 2
    out = np.empty((len(refs), rows, cols), dtype=np.int16 if integer else np.float32)
    overflow = threading.Event()
    local = threading.local()

    def read(i: int) -> None:
        r = refs[i]
        buf = getattr(local, "buf", None)
        if buf is None:
            buf = local.buf = np.empty(rows * cols, dtype=dtype)
        try:
            with open(r["path"], "rb") as handle:
                handle.seek(r["pixel_offset"])
                got = handle.readinto(memoryview(buf).cast("B"))
        except OSError as exc:
            raise MedStationError(f"cannot read {r['path']} ({exc.strerror or exc}); re-import the folder if the "
                                  "files moved") from None
        if got != buf.nbytes:
            raise MedStationError(f"{r['path']}: pixel data is shorter than {rows}x{cols} (file truncated or "
                                  "changed since it was imported)")
        _mask_unused_bits(buf, r["bits_allocated"], r["bits_stored"] or r["bits_allocated"], r["pixel_rep"])
        dst = out[i].reshape(-1)
        if integer:
            intercept = int(float(r["intercept"]))
            low, high = int(buf.min()) + intercept, int(buf.max()) + intercept
            if low < -32768 or high > 32767:
                overflow.set()
                return
            np.add(buf, np.int32(intercept), out=dst, casting="unsafe")
            return
        slope, intercept = np.float32(r["slope"]), np.float32(r["intercept"])
        if slope != 1.0:
            np.multiply(buf, slope, out=dst)
            if intercept:
                dst += intercept
        else:
            np.add(buf, intercept, out=dst)  # one pass: integer -> float32 with the intercept

    chunk = 32
    with ThreadPoolExecutor(parallel.io_threads()) as pool:
        for start in range(0, len(refs), chunk):
            ctx.progress(start, len(refs), f"reading slice {start + 1} of {len(refs)}")
            list(pool.map(read, range(start, min(start + chunk, len(refs)))))
            if overflow.is_set():  # a value outside int16: read the series again as float32
                return _read_raw(refs, ctx, as_float=True)
    return out


def _mask_unused_bits(raw: np.ndarray, allocated: int, stored: int, signed: int) -> None:
    """Keep only the stored bits (high bits may hold overlays or noise); sign-extend signed values.
    Well-formed data (the usual case) is only checked, not rewritten."""
    shift = allocated - stored
    if shift <= 0:
        return
    if signed:
        low, high = -(1 << (stored - 1)), (1 << (stored - 1)) - 1
        if raw.min() < low or raw.max() > high:
            np.left_shift(raw, shift, out=raw)
            np.right_shift(raw, shift, out=raw)
    elif raw.max() >= (1 << stored):
        np.bitwise_and(raw, (1 << stored) - 1, out=raw)


def _decode_all(refs: list[dict], ctx: JobContext):
    """Decode every slice with pydicom on ``parallel.host_threads()`` threads (its decoders release the GIL for
    much of their work), a few slices ahead of the loop, which takes them in slice order; a slice that cannot be
    decoded stops the load with its message, as the first failing slice in order."""
    frames, overlays = [], {}
    windows, luts, photometric, frame_time = [], [], "MONOCHROME2", 0.0
    decoded = parallel.ordered_map(lambda r: decode.decode_file(r["path"]), refs, parallel.host_threads(),
                                   name="medstation-load")
    try:
        for i in range(len(refs)):
            ctx.progress(i, len(refs), f"decoding slice {i + 1} of {len(refs)}")
            d = next(decoded)
            if i == 0:
                windows, luts, photometric, frame_time = d.windows, d.voi_luts, d.photometric, d.frame_time_ms
            frames.append(d.pixels[0])
            if 0 in d.overlays:
                overlays[i] = d.overlays[0]
    finally:
        decoded.close()  # cancelled or failed: slices not started are dropped, running ones finish
    kinds = {f.dtype for f in frames}
    if len(kinds) > 1:  # a colour image among greyscale ones cannot share an array
        frames = [f if f.ndim == 2 else f.mean(axis=-1).astype(np.float32) for f in frames]
    return np.stack(frames), overlays, windows, luts, photometric, frame_time


def _volume_from_decoded(d: decode.Decoded, row: dict, meta: dict, warnings: list[str]) -> Volume:
    pixels, order, spacing_z, normal = d.pixels, list(range(d.pixels.shape[0])), 1.0, (0.0, 0.0, 1.0)
    warnings = list(warnings)
    orientation = d.orientation or row.get("orientation")
    positions = d.positions if d.positions and all(p is not None for p in d.positions) else []
    if len(positions) == pixels.shape[0] > 1 and orientation:
        infos = [geometry.SliceInfo(i, 1, 1, orientation, positions[i], i) for i in range(len(positions))]
        stacks = geometry.assemble(infos)
        if len(stacks) == 1 and not any(w.startswith("geometry:") for w in stacks[0].warnings):
            order = [s.key for s in stacks[0].slices]
            spacing_z, normal = abs(stacks[0].spacing) or 1.0, stacks[0].normal
            pixels = pixels[order] if order != sorted(order) else pixels
        else:
            warnings.append("geometry: the frames do not form one evenly spaced stack; shown in frame order")
    elif pixels.shape[0] > 1:
        modality = meta.get("modality") or ""
        if d.frame_time_ms or modality in _TIME_MODALITIES:
            warnings.append("geometry: frames are a time series (cine), not slices")
        else:
            warnings.append("geometry: frames have no positions; shown in frame order")
    spacing_rc = d.pixel_spacing or (1.0, 1.0)
    warnings += _calibration_warning(d.display)
    orientation = orientation or (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    overlays = {order.index(z): m for z, m in d.overlays.items() if z in order}
    ordered_pos = [positions[i] for i in order] if positions else ([row["position"]] if row.get("position") else [])
    volume = Volume(
        pixels=pixels, spacing=(spacing_z, spacing_rc[0], spacing_rc[1]),
        origin=tuple(ordered_pos[0]) if ordered_pos else (0.0, 0.0, 0.0), row_dir=tuple(orientation[:3]),
        col_dir=tuple(orientation[3:6]), slice_dir=tuple(normal), photometric=d.photometric, windows=d.windows,
        sop_uids=[row["sop_uid"]] * pixels.shape[0], files=[row["path"]] * pixels.shape[0], overlays=overlays,
        warnings=warnings, voi_luts=d.voi_luts, frame_time_ms=d.frame_time_ms,
        positions=[tuple(p) for p in ordered_pos], rescale=d.rescale, display=d.display)
    _apply_meta(volume, meta)
    return volume
