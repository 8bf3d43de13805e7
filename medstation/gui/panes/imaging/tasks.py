"""The Imaging pane's background work, as plain functions the job runner calls with a ``JobContext``."""
from __future__ import annotations


def index_paths(paths: list[str], ctx):
    """Import folders, DICOMDIRs, files and zips into the study index (headers only)."""
    from medstation.core.imaging import index

    return index.index_paths(paths, ctx=ctx)


def first_slice(series_uid: str, ctx):
    """One image of the series, decoded alone, so the reader sees something at once."""
    from medstation.core.imaging import loader

    ctx.check()
    return loader.load_first_slice(series_uid)


def load_series(series_uid: str, ctx):
    """Every image of the series, assembled into stacks (list of Volume)."""
    from medstation.core.imaging import loader

    return loader.load_series(series_uid, ctx=ctx)


def header(sop_uid_or_path: str, ctx):
    """The header of one image (no pixels), for the tag browser."""
    from medstation.core.imaging import index

    ctx.check()
    ds = index.instance_header(sop_uid_or_path)
    _audit_header(ds, sop_uid_or_path)
    return ds


_HEADERS_AUDITED: set[tuple[str, str]] = set()


def _audit_header(ds, key: str) -> None:
    """One "view" entry per series whose headers the tag browser shows in this session (patient data read)."""
    from medstation.core import audit, paths

    series = str(getattr(ds, "SeriesInstanceUID", "") or key) if ds is not None else key
    seen = (str(paths.database_path()), series)
    if seen in _HEADERS_AUDITED:
        return
    _HEADERS_AUDITED.add(seen)
    audit.record("view", series, detail=f"DICOM header (all attributes) shown in the tag browser, first {key}")
