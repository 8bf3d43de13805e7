"""DICOMweb, the HTTP alternative to DIMSE: QIDO-RS to search, WADO-RS to retrieve, STOW-RS to send.

Used for nodes configured with a DICOMweb base URL (OHIF-style servers, Orthanc's DICOMweb plugin). Results are
the same ``Match``, ``RetrieveReport`` and ``SendReport`` as over DIMSE. WADO-RS asks for the stored transfer
syntax (``transfer-syntax=*``) so pixel data arrive as stored.
"""
from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Iterable

from medstation.core import atomic
from medstation.core.errors import MedStationError
from medstation.core.jobs import Cancelled, JobContext, null_context
from medstation.core.pacs.dimse import RetrieveReport
from medstation.core.pacs.nodes import PacsNode
from medstation.core.pacs.query import RETURN_KEYS, Match, Query
from medstation.core.pacs.send import InstanceStatus, SendReport, collect_files
from medstation.core.pacs.storage import InstanceWriter

log = logging.getLogger(__name__)

ORIGINAL_SYNTAX = (("application/dicom", "*"),)
STOW_BATCH = 16


def session(node: PacsNode):
    """An HTTP session for ``node`` carrying its TLS CA bundle and client certificate."""
    import requests

    if not node.has_dicomweb:
        raise MedStationError(f"node {node.name!r} has no DICOMweb URL")
    http = requests.Session()
    if node.tls_ca:
        http.verify = node.tls_ca
    if node.tls_cert:
        http.cert = (node.tls_cert, node.tls_key) if node.tls_key else node.tls_cert
    return http


def client(node: PacsNode):
    """A dicomweb-client for ``node`` with its TLS files, timeout and no retry loops hiding failures."""
    from dicomweb_client.api import DICOMwebClient

    web = DICOMwebClient(node.dicomweb_url.rstrip("/"), session=session(node), timeout=float(node.timeout))
    web.set_http_retry_params(retry=False)
    return web


def describe_http_error(node: PacsNode, exc: Exception) -> str:
    """One sentence for a failed DICOMweb request: refused, timeout, TLS or the server's HTTP status."""
    import requests

    url = node.dicomweb_url
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS error with {url}: {exc.args[0] if exc.args else exc}"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer from {url} within {node.timeout:g} s"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "refused" in text.lower():
            return f"connection to {url} refused: nothing listens there (is the server running?)"
        if "resolve" in text.lower() or "name or service" in text.lower():
            return f"the host in {url} is unknown"
        return f"could not connect to {url} ({text[:200]})"
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        code, reason = exc.response.status_code, exc.response.reason
        hint = {401: " (the server asks for credentials)", 403: " (access is forbidden to MedStation)",
                404: " (is the base URL right? it usually ends in /dicom-web)"}.get(code, "")
        return f"{url} answered HTTP {code} {reason}{hint}"
    return f"DICOMweb request to {url} failed: {exc}"


def _call(node: PacsNode, fn, *args, kept: str | None = None, **kwargs):
    import requests

    try:
        return fn(*args, **kwargs)
    except requests.exceptions.RequestException as exc:
        raise MedStationError(describe_http_error(node, exc), kept=kept) from exc


def qido(node: PacsNode, resource: str, filters: dict[str, str], fields=(), limit: int | None = None) -> list:
    """One QIDO-RS search. Wildcards ``*`` and ``?`` go unescaped: some servers (Orthanc's plugin) do not
    decode ``%2A`` back into a wildcard, so a percent-encoded query would silently match nothing."""
    from urllib.parse import quote

    parts = [f"{quote(k)}={quote(str(v), safe='*?')}" for k, v in filters.items()]
    parts += [f"includefield={quote(f)}" for f in fields] + ([f"limit={int(limit)}"] if limit else [])
    url = f"{node.dicomweb_url.rstrip('/')}/{resource}" + ("?" + "&".join(parts) if parts else "")

    def get():
        response = session(node).get(url, headers={"Accept": "application/dicom+json"}, timeout=node.timeout)
        response.raise_for_status()
        return response.json() if response.content.strip() else []

    return _call(node, get)


def echo(node: PacsNode, ctx: JobContext | None = None) -> str:
    """Verify a DICOMweb node with one QIDO-RS study search."""
    qido(node, "studies", {}, limit=1)
    return f"QIDO-RS search at {node.dicomweb_url} succeeded"


def _datasets(items: list[dict]):
    from pydicom.dataset import Dataset

    return [Dataset.from_json(item) for item in items]


def find(node: PacsNode, query: Query, ctx: JobContext | None = None, limit: int | None = None) -> list[Match]:
    """QIDO-RS search at study or series level; patient level groups the matching studies by patient."""
    level = query.checked().level
    filters = query.filters()
    if level == "series":
        items = qido(node, "series", filters, RETURN_KEYS["series"], limit)
        return [Match.from_dataset("series", ds) for ds in _datasets(items)]
    items = qido(node, "studies", filters, RETURN_KEYS["study"], None if level == "patient" else limit)
    studies = [Match.from_dataset("study", ds) for ds in _datasets(items)]
    if level == "study":
        return studies
    patients: dict[str, dict[str, str]] = {}
    for study in studies:
        row = patients.setdefault(study.patient_id, {k: study.get(k) for k in RETURN_KEYS["patient"]})
        row["NumberOfPatientRelatedStudies"] = str(int(row.get("NumberOfPatientRelatedStudies") or 0) + 1)
    return [Match("patient", values) for values in patients.values()][:limit]


def _series_of(node: PacsNode, match: Match) -> list[tuple[str, str]]:
    """(study UID, series UID) pairs that make up ``match``."""
    if match.level == "series":
        return [(match.study_uid, match.series_uid)]
    query = Query(level="series", study_uid=match.study_uid) if match.level == "study" else \
        Query(level="series", patient_id=match.patient_id)
    return [(m.study_uid, m.series_uid) for m in find(node, query)]


def retrieve(node: PacsNode, match: Match, ctx: JobContext | None = None,
             writer: InstanceWriter | None = None) -> RetrieveReport:
    """WADO-RS retrieve of ``match``, series by series, each instance written as it arrives."""
    import requests

    ctx = ctx or null_context()
    web, writer = client(node), writer or InstanceWriter()
    report = RetrieveReport(node.name, "WADO-RS", match.level, match.uid)
    series = _series_of(node, match)
    total = match.instances
    try:
        for study_uid, series_uid in series:
            for ds in web.iter_series(study_uid, series_uid, media_types=ORIGINAL_SYNTAX):
                _write(writer, ds)
                ctx.progress(writer.received, total, f"{writer.received} of {total or '?'} instances")
    except requests.exceptions.RequestException as exc:
        kept = f"the {writer.received} instance(s) received before that are kept in {writer.root}" \
            if writer.received else "nothing had been received"
        raise MedStationError(describe_http_error(node, exc), kept=kept) from exc
    finally:
        report.files, report.folders = list(writer.files), writer.folders()
        report.problems += writer.warnings
    report.completed = writer.received
    return report


def _write(writer: InstanceWriter, ds) -> None:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    path = writer.target(ds, str(ds.SOPInstanceUID))
    atomic.write_bytes(path, buffer.getvalue())
    writer.add(path)


def send(node: PacsNode, paths: Iterable[str | Path], ctx: JobContext | None = None) -> SendReport:
    """STOW-RS of every DICOM file in ``paths``, in small batches, with the server's status per instance."""
    from pydicom import dcmread

    ctx = ctx or null_context()
    web, report = client(node), SendReport(node.name, "STOW-RS")
    files = collect_files(paths)
    try:
        for start in range(0, len(files), STOW_BATCH):
            batch = []
            for path in files[start:start + STOW_BATCH]:
                try:
                    batch.append((path, dcmread(path)))
                except Exception as exc:  # noqa: BLE001 - any unreadable file is reported, the rest still go
                    report.results.append(InstanceStatus(path, status=f"not a DICOM file ({exc})"))
            if batch:
                _stow(node, web, batch, report)
            ctx.progress(min(start + STOW_BATCH, len(files)), len(files), f"{report.sent} instances stored")
    except Cancelled:
        report.error = f"cancelled after {report.sent} instance(s) were stored"
    except MedStationError as exc:
        if not report.sent:
            raise MedStationError(exc.message, kept="nothing was sent") from exc
        report.error = exc.message
    return report


def _stow(node: PacsNode, web, batch: list, report: SendReport) -> None:
    response = _call(node, web.store_instances, [ds for _p, ds in batch])
    failed = {str(item.get("ReferencedSOPInstanceUID", "")): int(item.get("FailureReason", 0xC000))
              for item in response.get("FailedSOPSequence", [])}
    for path, ds in batch:
        sop = str(ds.SOPInstanceUID)
        ok = sop not in failed
        status = "stored" if ok else f"failed (reason 0x{failed[sop]:04X})"
        report.results.append(InstanceStatus(path, sop, str(ds.get("SeriesInstanceUID", "")), ok, status))
