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
    """The header of one image (no pixels), for the tag browser (audited by the imaging service)."""
    from medstation.services import imaging

    ctx.check()
    return imaging.header(sop_uid_or_path)
