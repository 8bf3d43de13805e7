"""Where retrieved instances land: one file per SOP instance, written atomically, under the data folder.

``InstanceWriter`` is the C-STORE handler for C-GET (instances arrive on MedStation's own association) and for
the Storage SCP that MedStation runs while a C-MOVE lasts. Each instance is written byte for byte as it arrived
(file meta + dataset), to ``<data>/pacs/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm``, so a dropped association
never leaves a half-written file and a second retrieve of the same study replaces rather than duplicates. Only a
valid UID becomes a path part (``safe_part``): anything else a peer sends (``..``, slashes, long or odd text) gets a
hashed name and a warning, so no retrieve can write outside the PACS folder.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from medstation.core import atomic, paths
from medstation.core.errors import MedStationError

log = logging.getLogger(__name__)

STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_CANNOT_UNDERSTAND = 0xC210


def retrieve_root() -> Path:
    """The folder under the data dir that holds every retrieved study."""
    root = paths.data_dir() / "pacs"
    root.mkdir(parents=True, exist_ok=True)
    return root


_VALID_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))+")


def safe_part(uid: str, what: str, warnings: list[str] | None = None) -> str:
    """``uid`` itself when it is a valid UID (digits and dots, at most 64 characters), else ``x-<sha256 prefix>``
    with a warning naming what was renamed: a path part can never be ``..``, empty or contain a separator."""
    value = (uid or "").strip().rstrip("\x00")
    if len(value) <= 64 and _VALID_UID.fullmatch(value):
        return value
    name = "x-" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    message = f"{what} {value[:40]!r} is not a valid UID; stored under the folder or file name {name}"
    log.warning(message)
    if warnings is not None:
        warnings.append(message)
    return name


class InstanceWriter:
    """Counts and stores instances as they arrive (called from pynetdicom's threads)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else retrieve_root()
        self.files: list[Path] = []
        self.failures: list[str] = []
        self.warnings: list[str] = []  # instances stored under a hashed name (their UIDs were not valid)
        self._lock = threading.Lock()

    @property
    def received(self) -> int:
        with self._lock:
            return len(self.files)

    def target(self, ds, sop_uid: str) -> Path:
        with self._lock:
            study = safe_part(str(ds.get("StudyInstanceUID", "")), "Study Instance UID", self.warnings)
            series = safe_part(str(ds.get("SeriesInstanceUID", "")), "Series Instance UID", self.warnings)
            sop = safe_part(sop_uid, "SOP Instance UID", self.warnings)
        path = self.root / study / series / f"{sop}.dcm"
        if not path.resolve().is_relative_to(self.root.resolve()):  # a symlinked folder inside the PACS root
            raise OSError(f"{path} would lie outside {self.root}")
        return path

    def handle_store(self, event) -> int:
        """pynetdicom EVT_C_STORE handler: write the instance, answer the peer with a status."""
        sop_uid = str(event.request.AffectedSOPInstanceUID or "")
        try:
            ds = event.dataset
            path = self.target(ds, sop_uid or str(ds.get("SOPInstanceUID", "")))
            atomic.write_bytes(path, event.encoded_dataset())
        except OSError as exc:
            with self._lock:
                self.failures.append(f"{sop_uid}: could not be written ({exc})")
            log.error("could not store instance %s: %s", sop_uid, exc)
            return STATUS_OUT_OF_RESOURCES
        except Exception as exc:  # an undecodable dataset must not kill the association
            with self._lock:
                self.failures.append(f"{sop_uid}: could not be read ({exc})")
            log.error("could not decode instance %s: %s", sop_uid, exc)
            return STATUS_CANNOT_UNDERSTAND
        self.add(path)
        return STATUS_SUCCESS

    def refuse(self, message: str) -> None:
        """Log and report a peer the Storage SCP turned away (thread-safe)."""
        log.warning(message)
        with self._lock:
            self.failures.append(message)

    def add(self, path: Path) -> None:
        """Count a file written for this transfer (thread-safe)."""
        with self._lock:
            self.files.append(path)

    def folders(self) -> list[Path]:
        """The series folders that received instances, in arrival order."""
        with self._lock:
            return list(dict.fromkeys(p.parent for p in self.files))


def storage_contexts():
    """Presentation contexts a Storage SCP offers: every storage SOP class, every transfer syntax we decode."""
    from pynetdicom import AllStoragePresentationContexts
    from pynetdicom.presentation import build_context

    syntaxes = transfer_syntaxes()
    return [build_context(cx.abstract_syntax, syntaxes) for cx in AllStoragePresentationContexts]


def transfer_syntaxes() -> list[str]:
    """Uncompressed first (what every PACS can send), then the compressed syntaxes pydicom's handlers decode."""
    from pydicom import uid

    return [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.DeflatedExplicitVRLittleEndian,
            uid.ExplicitVRBigEndian, uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless,
            uid.JPEGLosslessSV1, uid.JPEGLSLossless, uid.JPEGLSNearLossless, uid.JPEG2000Lossless, uid.JPEG2000,
            uid.RLELossless]


# Image storage classes offered for C-GET once per transfer syntax family: a PACS that cannot transcode (Orthanc
# cannot during C-GET) sends each instance only on a context whose transfer syntax matches how it was stored.
GET_IMAGE_CLASSES = (
    "CTImageStorage", "EnhancedCTImageStorage", "MRImageStorage", "EnhancedMRImageStorage",
    "ComputedRadiographyImageStorage", "DigitalXRayImageStorageForPresentation",
    "DigitalXRayImageStorageForProcessing", "DigitalMammographyXRayImageStorageForPresentation",
    "UltrasoundImageStorage", "UltrasoundMultiFrameImageStorage", "SecondaryCaptureImageStorage",
    "XRayAngiographicImageStorage", "NuclearMedicineImageStorage", "PositronEmissionTomographyImageStorage",
    "XRayRadiofluoroscopicImageStorage")
# Everything else MedStation reads or writes (results, documents, RT), offered uncompressed only.
GET_OTHER_CLASSES = (
    "BasicTextSRStorage", "EnhancedSRStorage", "ComprehensiveSRStorage", "Comprehensive3DSRStorage",
    "KeyObjectSelectionDocumentStorage", "XRayRadiationDoseSRStorage", "EncapsulatedPDFStorage",
    "SegmentationStorage", "RTStructureSetStorage", "RTDoseStorage", "RTPlanStorage", "RTImageStorage",
    "GrayscaleSoftcopyPresentationStateStorage", "MultiFrameGrayscaleByteSecondaryCaptureImageStorage",
    "MultiFrameGrayscaleWordSecondaryCaptureImageStorage", "MultiFrameTrueColorSecondaryCaptureImageStorage",
    "MultiFrameSingleBitSecondaryCaptureImageStorage", "DigitalMammographyXRayImageStorageForProcessing",
    "EnhancedXAImageStorage", "VLPhotographicImageStorage", "ParametricMapStorage")


def get_contexts():
    """Storage contexts requested (as SCP) for a C-GET: at most 127, leaving room for the Get model."""
    from pydicom import uid
    from pynetdicom import sop_class
    from pynetdicom.presentation import build_context

    plain = [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian]
    families = [plain, [uid.JPEGBaseline8Bit], [uid.JPEGLosslessSV1], [uid.JPEG2000Lossless], [uid.JPEG2000],
                [uid.JPEGLSLossless], [uid.RLELossless]]
    contexts = [build_context(getattr(sop_class, name), family)
                for name in GET_IMAGE_CLASSES for family in families]
    contexts += [build_context(getattr(sop_class, name), plain) for name in GET_OTHER_CLASSES]
    return contexts


HANDSHAKE_SECONDS = 10.0  # a peer that opens the port and sends no TLS handshake is dropped after this


class RefusalLoggingTls:
    """The Storage SCP's TLS server context, as pynetdicom uses it (``wrap_socket`` on each accepted connection),
    with every failed handshake logged and reported by peer address and reason: a peer without TLS, with a
    certificate the node's CA bundle did not sign, or with none when one is required. The handshake is bounded by
    ``HANDSHAKE_SECONDS`` so a silent connection cannot hold the port."""

    def __init__(self, context, writer: InstanceWriter, node):
        self.context, self.writer, self.node = context, writer, node

    def wrap_socket(self, sock, server_side: bool = True, **kwargs):
        import socket
        import ssl

        try:
            host, port = sock.getpeername()[:2]
        except OSError:
            host, port = "?", "?"
        previous = sock.gettimeout()
        sock.settimeout(HANDSHAKE_SECONDS)
        try:
            wrapped = self.context.wrap_socket(sock, server_side=server_side, **kwargs)
        except (ssl.SSLError, OSError) as exc:
            if isinstance(exc, (socket.timeout, TimeoutError)):
                reason = f"it sent no TLS handshake within {HANDSHAKE_SECONDS:g} s"
            else:
                reason = _handshake_failure(exc, self.node)
            self.writer.refuse(f"refused a TLS connection to the storage port from {host}:{port}: {reason}")
            sock.close()
            raise
        wrapped.settimeout(previous)
        return wrapped


def _handshake_failure(exc: Exception, node) -> str:
    """Why a peer's TLS handshake with the Storage SCP failed, in words."""
    code = str(getattr(exc, "reason", "") or "").upper()
    if code in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "RECORD_LAYER_FAILURE",
                "UNEXPECTED_EOF_WHILE_READING", "PACKET_LENGTH_TOO_LONG"):
        return f"it did not speak TLS ({code.lower()})"
    if code == "PEER_DID_NOT_RETURN_A_CERTIFICATE":
        return f"it presented no certificate, and node {node.name!r} requires one signed by {node.tls_ca}"
    if code == "CERTIFICATE_VERIFY_FAILED" or "certificate verify failed" in str(exc):
        detail = getattr(exc, "verify_message", "") or "not trusted"
        return f"its certificate was not accepted ({detail}; trusted: the CA bundle {node.tls_ca} of node " \
               f"{node.name!r})"
    return f"the TLS handshake failed ({code.lower() or exc})"


@contextmanager
def storage_scp(local, writer: InstanceWriter, node=None) -> Iterator[object]:
    """Run MedStation's Storage SCP on ``local.bind:local.port`` while the block lasts (for a C-MOVE from
    ``node``). Only the node being moved from may store: its AE title must be the calling AE and MedStation's
    own the called AE; any other association is refused and the refusal is logged and reported. When the node
    uses TLS, so does the SCP (``nodes.server_ssl_context``): with the node's CA bundle set, the peer must present
    a certificate it signed; a failed handshake (no TLS, an untrusted or missing certificate) is refused, logged
    and reported the same way."""
    from pynetdicom import AE, evt

    from medstation.core.pacs.association import no_delay
    from medstation.core.pacs.nodes import server_ssl_context

    ae = AE(ae_title=local.ae_title)
    ae.supported_contexts = storage_contexts()
    ae.maximum_associations = 4
    ae.require_called_aet = True
    if node is not None:
        ae.require_calling_aet = [node.ae_title]
    tls = server_ssl_context(node, local) if node is not None else None
    expected = f"calling AE {node.ae_title!r}, " if node is not None else ""
    if tls is not None:
        tls = RefusalLoggingTls(tls, writer, node)

    def refused(event) -> None:
        peer = event.assoc.requestor
        request = peer.primitive
        calling = str(getattr(request, "calling_ae_title", peer.ae_title)).strip()
        called = str(getattr(request, "called_ae_title", "")).strip()
        message = (f"refused a storage association from {peer.address}:{peer.port} with calling AE "
                   f"{calling!r} and called AE {called!r} "
                   f"(expected {expected}called AE {local.ae_title!r})")
        writer.refuse(message)

    try:
        server = ae.start_server((local.bind, int(local.port)), block=False, ssl_context=tls,
                                 evt_handlers=[(evt.EVT_C_STORE, writer.handle_store), (evt.EVT_CONN_OPEN, no_delay),
                                               (evt.EVT_REJECTED, refused)])
    except OSError as exc:
        reason = "the port is in use by another program" if getattr(exc, "errno", None) == 98 else str(exc)
        raise MedStationError(f"MedStation could not listen on {local.bind}:{local.port} for the C-MOVE "
                              f"transfer: {reason}; choose another local port in PACS Nodes",
                              kept="nothing was requested from the PACS") from exc
    try:
        yield server
    finally:
        server.shutdown()
