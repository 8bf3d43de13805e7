"""DIMSE services against a configured PACS: C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE (pynetdicom).

Every function takes the node, MedStation's own AE (``LocalAE``) and a ``JobContext`` for progress and cancel.
Retrieves write each arriving instance atomically (``storage.InstanceWriter``); a cancel, a timeout or a dropped
association leaves everything that arrived in place, and the error says how many instances that is.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.core.pacs.association import open_association, status_text
from medstation.core.pacs.nodes import LocalAE, PacsNode
from medstation.core.pacs.query import Match, Query, retrieve_identifier
from medstation.core.pacs.storage import InstanceWriter, storage_scp

log = logging.getLogger(__name__)

PENDING = (0xFF00, 0xFF01)


def _models(level: str) -> dict[str, str]:
    from pynetdicom import sop_class as sc

    if level == "patient":
        return {"find": sc.PatientRootQueryRetrieveInformationModelFind,
                "get": sc.PatientRootQueryRetrieveInformationModelGet,
                "move": sc.PatientRootQueryRetrieveInformationModelMove}
    return {"find": sc.StudyRootQueryRetrieveInformationModelFind,
            "get": sc.StudyRootQueryRetrieveInformationModelGet,
            "move": sc.StudyRootQueryRetrieveInformationModelMove}


def _context(uid: str):
    from pynetdicom.presentation import build_context

    return build_context(uid)


def _lost(node: PacsNode, waited: float, what: str) -> str:
    """Why a response never came: the DIMSE timeout ran out, or the peer dropped the association."""
    if waited >= float(node.timeout) * 0.95:
        return f"{node.label()} did not answer the {what} within {node.timeout:g} s"
    return f"the connection to {node.label()} was lost during the {what}"


# C-ECHO -----------------------------------------------------------------------------------------------------
def echo(node: PacsNode, local: LocalAE, ctx: JobContext | None = None) -> str:
    """Verify a node with C-ECHO; returns a success sentence, raises MedStationError with the exact failure."""
    from pynetdicom.sop_class import Verification

    start = time.monotonic()
    with open_association(node, local, [_context(Verification)], ctx=ctx) as assoc:
        asked = time.monotonic()
        status = assoc.send_c_echo()
        if "Status" not in status:
            raise MedStationError(_lost(node, time.monotonic() - asked, "C-ECHO"))
        if int(status.Status) != 0:
            raise MedStationError(f"{node.label()} answered the C-ECHO with {status_text(status)}")
    return f"C-ECHO to {node.label()} succeeded in {(time.monotonic() - start) * 1000:.0f} ms"


# C-FIND -----------------------------------------------------------------------------------------------------
def find(node: PacsNode, local: LocalAE, query: Query, ctx: JobContext | None = None,
         limit: int | None = None) -> list[Match]:
    """Matches of ``query`` at its level; stops (and cancels the search) after ``limit`` matches."""
    ctx = ctx or null_context()
    model = _models(query.level)["find"]
    identifier = query.identifier()
    matches: list[Match] = []
    with open_association(node, local, [_context(model)], ctx=ctx) as assoc:
        last = time.monotonic()
        for status, found in assoc.send_c_find(identifier, model):
            if "Status" not in status:
                ctx.check()
                raise MedStationError(_lost(node, time.monotonic() - last, "search"))
            last = time.monotonic()
            code = int(status.Status)
            if code in PENDING and found is not None:
                if limit and len(matches) >= limit:
                    continue  # the PACS may go on after the C-CANCEL: drain, keep only ``limit``
                matches.append(Match.from_dataset(query.level, found))
                ctx.progress(0.5, None, f"{len(matches)} matches")
                if limit and len(matches) >= limit:
                    assoc.send_c_cancel(1, query_model=model)
            elif code not in (0x0000, 0xFE00):
                raise MedStationError(f"{node.label()} refused the search: {status_text(status, 'find')}")
    return matches


# C-GET / C-MOVE ---------------------------------------------------------------------------------------------
@dataclass
class RetrieveReport:
    """What a retrieve brought: the files written, the PACS's sub-operation counts and any problems."""
    node: str
    method: str  # "C-GET", "C-MOVE" or "WADO-RS"
    level: str
    uid: str
    files: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    warning: int = 0
    problems: list[str] = field(default_factory=list)
    imported: object = None  # the imaging import's report, when the import ran

    def summary(self) -> str:
        text = f"{self.method} from {self.node}: {len(self.files)} instance(s) received"
        if self.failed:
            text += f", {self.failed} failed"
        if self.warning:
            text += f", {self.warning} with warnings"
        return text

    def to_dict(self) -> dict:
        return {"node": self.node, "method": self.method, "level": self.level, "uid": self.uid,
                "received": len(self.files), "completed": self.completed, "failed": self.failed,
                "warning": self.warning, "folders": [str(p) for p in self.folders],
                "files": [str(p) for p in self.files], "problems": self.problems}


def _count(status, name: str) -> int:
    value = status.get(f"NumberOf{name}Suboperations")
    return int(value) if value not in (None, "") else 0


class _Transfer:
    """Follows the responses of a C-GET or C-MOVE, reporting progress and turning failures into sentences."""

    def __init__(self, node: PacsNode, report: RetrieveReport, writer: InstanceWriter, ctx: JobContext,
                 expected: int | None):
        self.node, self.report, self.writer, self.ctx = node, report, writer, ctx
        self.expected = expected

    def kept(self) -> str:
        n = self.writer.received
        return (f"the {n} instance(s) received before that are kept in {self.writer.root}" if n
                else "nothing had been received")

    def follow(self, assoc, responses, service: str) -> None:
        what = f"{self.report.method} of {self.report.level} {self.report.uid}"
        last = time.monotonic()
        for status, _identifier in responses:
            if "Status" not in status:
                self.ctx.check()  # a cancel aborted the association: report the cancel, not a lost connection
                raise MedStationError(_lost(self.node, time.monotonic() - last, what), kept=self.kept())
            last = time.monotonic()
            code = int(status.Status)
            self._counts(status)
            if code in PENDING:
                total = (self.report.completed + self.report.failed + self.report.warning +
                         _count(status, "Remaining")) or self.expected or 0
                done = self.report.completed + self.report.failed + self.report.warning
                self.ctx.progress(done, total or None, f"{self.writer.received} of {total or '?'} instances")
                continue
            self._final(code, status, service, what)

    def _counts(self, status) -> None:
        if "NumberOfCompletedSuboperations" in status:
            self.report.completed = _count(status, "Completed")
            self.report.failed = _count(status, "Failed")
            self.report.warning = _count(status, "Warning")

    def _final(self, code: int, status, service: str, what: str) -> None:
        if code == 0xFE00:
            self.report.problems.append(f"the PACS cancelled the {what}")
        elif 0xB000 <= code <= 0xBFFF:
            self.report.problems.append(f"{self.report.failed} sub-operation(s) failed "
                                        f"({status_text(status, service)})")
        elif code != 0x0000:
            raise MedStationError(f"{self.node.label()} refused the {what}: {status_text(status, service)}",
                                  kept=self.kept())


def _finish(report: RetrieveReport, writer: InstanceWriter) -> RetrieveReport:
    report.files = list(writer.files)
    report.folders = writer.folders()
    report.problems += writer.failures + writer.warnings
    return report


def get(node: PacsNode, local: LocalAE, match: Match, ctx: JobContext | None = None,
        writer: InstanceWriter | None = None) -> RetrieveReport:
    """C-GET ``match``: the PACS sends the instances back on MedStation's own association."""
    from pynetdicom import evt
    from pynetdicom.presentation import build_role

    from medstation.core.pacs.storage import get_contexts

    ctx = ctx or null_context()
    model = _models(match.level)["get"]
    writer = writer or InstanceWriter()
    report = RetrieveReport(node.name, "C-GET", match.level, match.uid)
    stores = get_contexts()
    roles = [build_role(uid, scp_role=True) for uid in dict.fromkeys(cx.abstract_syntax for cx in stores)]
    transfer = _Transfer(node, report, writer, ctx, match.instances)
    ctx.progress(0, None, f"connecting to {node.name}")
    with open_association(node, local, [_context(model), *stores], roles=roles,
                          handlers=[(evt.EVT_C_STORE, writer.handle_store)], ctx=ctx) as assoc:
        try:
            transfer.follow(assoc, assoc.send_c_get(retrieve_identifier(match), model), "get")
        finally:
            _finish(report, writer)
    return report


def move(node: PacsNode, local: LocalAE, match: Match, ctx: JobContext | None = None,
         writer: InstanceWriter | None = None) -> RetrieveReport:
    """C-MOVE ``match`` to MedStation's Storage SCP, which listens on ``local`` only while the move lasts."""
    ctx = ctx or null_context()
    local = local.validated()
    model = _models(match.level)["move"]
    writer = writer or InstanceWriter()
    report = RetrieveReport(node.name, "C-MOVE", match.level, match.uid)
    transfer = _Transfer(node, report, writer, ctx, match.instances)
    ctx.progress(0, None, f"listening on {local.bind}:{local.port} as {local.ae_title}")
    with storage_scp(local, writer, node):
        with open_association(node, local, [_context(model)], ctx=ctx) as assoc:
            try:
                responses = assoc.send_c_move(retrieve_identifier(match), local.ae_title, model)
                transfer.follow(assoc, responses, "move")
            except MedStationError as exc:
                if not writer.received and ("0xA801" in exc.message or "0xC000" in exc.message):
                    exc.message += (f"; check that the PACS knows MedStation's AE title {local.ae_title!r} "
                                    f"(host {local.bind}, port {local.port}) as a destination")
                raise
            finally:
                _finish(report, writer)
    return report


__all__ = ["echo", "find", "get", "move", "RetrieveReport"]
