"""Sending instances to a PACS (C-STORE): selected series, and the Secondary Capture / SR results of inference.

Each file is sent as stored (no re-encoding, so pixel data arrive byte for byte). The report gives a status per
instance, so a clinician sees which of the 40 slices the PACS refused and why; a dropped connection marks the
rest "not sent" instead of losing track of them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, null_context
from medstation.core.pacs.association import MAX_CONTEXTS, open_association, status_text
from medstation.core.pacs.nodes import LocalAE, PacsNode

log = logging.getLogger(__name__)


@dataclass
class InstanceStatus:
    path: Path
    sop_uid: str = ""
    series_uid: str = ""
    ok: bool = False
    status: str = ""  # "0x0000 Success", "not a DICOM file: ...", "not sent: ..."


@dataclass
class SendReport:
    node: str
    method: str = "C-STORE"
    results: list[InstanceStatus] = field(default_factory=list)
    error: str | None = None  # what stopped the send early (connection lost, cancelled)

    @property
    def sent(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.sent

    def summary(self) -> str:
        text = f"{self.method} to {self.node}: {self.sent} of {len(self.results)} instance(s) stored"
        if self.error:
            text += f"; {self.error}"
        return text

    def to_dict(self) -> dict:
        return {"node": self.node, "method": self.method, "sent": self.sent, "failed": self.failed,
                "error": self.error, "instances": [
                    {"path": str(r.path), "sop_instance_uid": r.sop_uid, "series_instance_uid": r.series_uid,
                     "ok": r.ok, "status": r.status} for r in self.results]}


@dataclass(frozen=True)
class _Header:
    path: Path
    sop_class: str
    sop_uid: str
    series_uid: str
    syntax: str


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, with folders expanded recursively (hidden files and DICOMDIR left out)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                            and p.name.upper() != "DICOMDIR")
        elif path.exists():
            files.append(path)
        else:
            raise MedStationError(f"{path} does not exist", kept="nothing was sent")
    return files


def _read_header(path: Path) -> _Header:
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    try:
        ds = dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"not a DICOM file ({exc})") from exc
    meta = getattr(ds, "file_meta", None)
    sop_class = str(ds.get("SOPClassUID", "") or (meta.get("MediaStorageSOPClassUID", "") if meta else ""))
    sop_uid = str(ds.get("SOPInstanceUID", "") or "")
    syntax = str(meta.get("TransferSyntaxUID", "") if meta else "")
    if not sop_class or not sop_uid:
        raise ValueError("not a storable DICOM instance (no SOP Class or SOP Instance UID)")
    if not syntax:
        raise ValueError("no transfer syntax in the file meta information")
    return _Header(path, sop_class, sop_uid, str(ds.get("SeriesInstanceUID", "") or ""), syntax)


def _contexts(headers: list[_Header]):
    """One context per (SOP class, transfer syntax) sent, plus an uncompressed fallback per SOP class."""
    from pydicom import uid
    from pynetdicom.presentation import build_context

    pairs: dict[tuple[str, str], None] = {}
    for h in headers:
        pairs[(h.sop_class, h.syntax)] = None
        pairs[(h.sop_class, "")] = None
    plain = [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian]
    return [build_context(sop, [syntax] if syntax else plain) for sop, syntax in pairs]


def _batches(headers: list[_Header]) -> list[list[_Header]]:
    """Split the files so that no association asks for more than 128 presentation contexts."""
    batches: list[list[_Header]] = [[]]
    for h in headers:
        if len(_contexts(batches[-1] + [h])) > MAX_CONTEXTS:
            batches.append([])
        batches[-1].append(h)
    return [b for b in batches if b]


def send(node: PacsNode, local: LocalAE, paths: Iterable[str | Path],
         ctx: JobContext | None = None) -> SendReport:
    """C-STORE every DICOM file in ``paths`` (files or folders) to ``node``; status per instance."""
    ctx = ctx or null_context()
    report = SendReport(node.name)
    headers: list[_Header] = []
    for path in collect_files(paths):
        try:
            headers.append(_read_header(path))
        except ValueError as exc:
            report.results.append(InstanceStatus(path, status=str(exc)))
    if not headers:
        raise MedStationError(f"none of the {len(report.results)} file(s) given is a DICOM instance",
                              kept="nothing was sent")
    statuses = {h.path: InstanceStatus(h.path, h.sop_uid, h.series_uid, status="not sent") for h in headers}
    report.results = [statuses[h.path] for h in headers] + report.results
    done = 0
    try:
        for batch in _batches(headers):
            with open_association(node, local, _contexts(batch), ctx=ctx) as assoc:
                for header in batch:
                    if not _store_one(node, assoc, header, statuses[header.path], report):
                        return report
                    done += 1
                    ctx.progress(done, len(headers), f"{done} of {len(headers)} instances sent")
    except Cancelled:
        report.error = f"cancelled after {report.sent} instance(s) were stored"
    except MedStationError as exc:
        if not done:
            raise MedStationError(exc.message, kept="nothing was sent") from exc
        report.error = exc.message
    finally:
        for status in statuses.values():
            if status.status == "not sent" and report.error:
                status.status = f"not sent: {report.error}"
    return report


def _store_one(node: PacsNode, assoc, header: _Header, result: InstanceStatus, report: SendReport) -> bool:
    """Send one file; False when the association is gone and the rest cannot be sent."""
    asked = time.monotonic()
    try:
        status = assoc.send_c_store(header.path)
    except ValueError as exc:  # no accepted presentation context for this SOP class / transfer syntax
        result.status = f"not accepted by the PACS: {exc}"
        return True
    except (OSError, AttributeError, KeyError) as exc:
        result.status = f"could not be read: {exc}"
        return True
    if "Status" not in status:
        timed_out = time.monotonic() - asked >= float(node.timeout) * 0.95
        lost = f"no answer within {node.timeout:g} s" if timed_out else "the connection was lost"
        result.status = f"not sent: {lost}"
        report.error = f"{lost} after {report.sent} instance(s) were stored"
        return False
    code = int(status.Status)
    result.ok = code == 0x0000 or 0xB000 <= code <= 0xBFFF
    result.status = status_text(status, "store")
    return True
