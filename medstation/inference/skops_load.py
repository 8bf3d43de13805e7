"""Loading a skops model file with an exact list of trusted types.

skops refuses types it does not trust by default; what a caller passes as ``trusted`` is trusted completely, so a
prefix such as ``numpy.`` would also let ``numpy.testing._private.utils.runstring`` run code on load. Each model
names the exact types it needs (beyond skops's defaults); a file that asks for anything else is refused, naming
the types, before skops builds a single object.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from medstation.core.errors import MedStationError


def load(path: str | Path, allowed: Iterable[str], *, what: str, kept: str = ""):
    import skops.io as sio

    allowed = frozenset(allowed)
    try:
        untrusted = sio.get_untrusted_types(file=str(path))
    except Exception as exc:  # a damaged archive or schema
        raise MedStationError(f"{path}: not a readable skops file ({exc.__class__.__name__}: {exc})",
                              kept=kept) from exc
    unexpected = sorted(set(untrusted) - allowed)
    if unexpected:
        raise MedStationError(f"{path}: the {what} file asks for types MedStation does not trust "
                              f"({', '.join(unexpected[:5])}); it was not loaded", kept=kept)
    return sio.load(str(path), trusted=sorted(set(untrusted)))
