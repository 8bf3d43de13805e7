"""The PACS service: what the PACS dialogs and ``medstation pacs`` call to verify, search, retrieve (and import)
and send - audited.

Each function picks DIMSE or DICOMweb for the node, records the audit entry (search as "view", retrieve, send),
and for a retrieve hands what arrived to the normal imaging import - also when the transfer failed or was
cancelled half-way, so nothing received is lost.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, null_context
from medstation.core.pacs import dicomweb, dimse
from medstation.core.pacs.nodes import LocalAE, PacsNode
from medstation.core.pacs.query import Match, Query
from medstation.core.pacs.send import SendReport, collect_files
from medstation.core.pacs.storage import InstanceWriter

log = logging.getLogger(__name__)

METHODS = ("get", "move", "wado")


def _use_web(node: PacsNode, prefer_web: bool) -> bool:
    return node.has_dicomweb and (prefer_web or not node.has_dimse)


def verify(node: PacsNode, local: LocalAE, ctx: JobContext | None = None) -> list[str]:
    """C-ECHO and/or a QIDO-RS request, for whatever the node has; a MedStationError names the first failure."""
    node = node.validated()
    results = []
    if node.has_dimse:
        results.append(dimse.echo(node, local, ctx))
    if node.has_dicomweb:
        results.append(dicomweb.echo(node, ctx))
    return results


def search(node: PacsNode, local: LocalAE, query: Query, ctx: JobContext | None = None, *,
           web: bool = False, limit: int | None = None) -> list[Match]:
    """Matches of ``query`` on ``node`` (C-FIND, or QIDO-RS when ``web`` or the node has only DICOMweb)."""
    node, query = node.validated(), query.checked()
    if _use_web(node, web):
        matches, how = dicomweb.find(node, query, ctx, limit), "QIDO-RS"
    else:
        matches, how = dimse.find(node, local, query, ctx, limit), "C-FIND"
    keys = ", ".join(f"{k}={v}" for k, v in query.filters().items()) or "no filter"
    audit.record("view", f"pacs:{node.name}", detail=f"{how} {query.level} search ({keys}): {len(matches)} matches")
    return matches


def import_files(paths: list[Path], ctx: JobContext):
    """Hand retrieved files to the imaging import (an ImportReport); None when nothing arrived."""
    from medstation.services import imaging

    return imaging.import_paths(paths, ctx) if paths else None


def retrieve(node: PacsNode, local: LocalAE, match: Match, method: str = "get", ctx: JobContext | None = None,
             *, import_: bool = True, root: Path | None = None) -> dimse.RetrieveReport:
    """C-GET, C-MOVE or WADO-RS of ``match``, then the normal import of what arrived."""
    ctx = ctx or null_context()
    if method not in METHODS:
        raise MedStationError(f"unknown retrieve method {method!r}; expected get, move or wado")
    node = node.validated()
    writer = InstanceWriter(root)
    transfer = ctx.sub(0.0, 0.85) if import_ else ctx
    try:
        if method == "wado":
            report = dicomweb.retrieve(node, match, transfer, writer)
        elif method == "move":
            report = dimse.move(node, local, match, transfer, writer)
        else:
            report = dimse.get(node, local, match, transfer, writer)
    except Cancelled:
        _audit_retrieve(node, match, method, writer, "cancelled")
        raise
    except MedStationError as exc:
        _audit_retrieve(node, match, method, writer, exc.message)
        if import_ and writer.files:
            _import_partial(writer, ctx, exc)
        raise
    _audit_retrieve(node, match, method, writer, "; ".join(report.problems))
    if import_:
        report.imported = import_files(report.folders, ctx.sub(0.85, 1.0))
    return report


def retrieve_many(node: PacsNode, local: LocalAE, matches: list[Match], method: str = "get",
                  ctx: JobContext | None = None) -> list[dimse.RetrieveReport]:
    """Retrieve several selected matches one after the other (each imported as it completes)."""
    ctx = ctx or null_context()
    if not matches:
        raise MedStationError("select a patient, study or series to retrieve")
    reports = []
    for i, match in enumerate(matches):
        reports.append(retrieve(node, local, match, method, ctx.sub(i / len(matches), (i + 1) / len(matches))))
    return reports


def _import_partial(writer: InstanceWriter, ctx: JobContext, exc: MedStationError) -> None:
    try:
        import_files(writer.folders(), ctx)
    except Exception as err:  # noqa: BLE001 - the transfer error is what the user must see first
        log.error("importing the partially retrieved files failed: %s", err)
        return
    exc.kept = f"the {writer.received} instance(s) received before that are kept in {writer.root} and imported"


def _audit_retrieve(node: PacsNode, match: Match, method: str, writer: InstanceWriter, problem: str) -> None:
    how = {"get": "C-GET", "move": "C-MOVE", "wado": "WADO-RS"}[method]
    detail = f"{how} from {node.label()}: {writer.received} instance(s) into {writer.root}"
    if problem:
        detail += f"; {problem}"
    audit.record("retrieve", f"{match.level}:{match.uid}", detail=detail)


def send(node: PacsNode, local: LocalAE, paths: Iterable[str | Path], ctx: JobContext | None = None, *,
         web: bool = False) -> SendReport:
    """C-STORE (or STOW-RS) the DICOM files in ``paths`` to ``node``; per-instance status in the report."""
    node = node.validated()
    paths = collect_files(paths)
    try:
        report = dicomweb.send(node, paths, ctx) if _use_web(node, web) else dimse_send(node, local, paths, ctx)
    except MedStationError as exc:
        audit.record("send", f"pacs:{node.name}", detail=f"{len(paths)} file(s) not sent: {exc.message}")
        raise
    series = sorted({r.series_uid for r in report.results if r.ok and r.series_uid})
    detail = report.summary() + (f"; series {', '.join(series)}" if series else "")
    audit.record("send", f"pacs:{node.name}", detail=detail)
    return report


def dimse_send(node: PacsNode, local: LocalAE, paths: list[Path], ctx: JobContext | None) -> SendReport:
    from medstation.core.pacs.send import send as c_store

    return c_store(node, local, paths, ctx)
