"""Opening a DICOM association to a configured node, and saying exactly why it failed when it does.

pynetdicom reports a failed association as a flag; a clinician needs the reason. When the association is not
established, MedStation looks again at what happened: a rejection carries the PACS's own result, source and
reason; otherwise a fresh TCP (and TLS) connection to the same address tells refused, timed out, unknown host and
TLS failures apart. Nothing here opens a socket until a caller asks for a node the user configured.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from medstation.core.errors import MedStationError
from medstation.core.pacs.nodes import LocalAE, PacsNode, ssl_context

log = logging.getLogger(__name__)

MAX_CONTEXTS = 128


def _reject_reason(node: PacsNode, assoc) -> str:
    rsp = getattr(assoc.acceptor, "primitive", None)
    if rsp is None:
        return f"{node.label()} rejected the association"
    text = (f"{node.label()} rejected the association: {rsp.reason_str.lower()} "
            f"({rsp.result_str.lower()}, by the {rsp.source_str.lower()})")
    if rsp.diagnostic == 3 and rsp.result_source == 1:
        text += f"; add MedStation's AE title {assoc.requestor.ae_title!r} to the PACS's known modalities"
    elif rsp.diagnostic == 7 and rsp.result_source == 1:
        text += f"; check the called AE title {node.ae_title!r}"
    return text


def probe(node: PacsNode, timeout: float) -> str | None:
    """Why a TCP (and TLS) connection to ``node`` fails, or None when it succeeds."""
    address = f"{node.host}:{node.port}"
    try:
        sock = socket.create_connection((node.host, int(node.port)), timeout=timeout)
    except ConnectionRefusedError:
        return f"connection to {address} refused: nothing listens there (is the PACS running, is the port right?)"
    except socket.gaierror as exc:
        return f"the host name {node.host!r} is unknown ({exc.strerror or exc})"
    except (socket.timeout, TimeoutError):
        return f"no answer from {address} within {timeout:g} s (the PACS is down, the address is wrong or a " \
               "firewall drops the connection)"
    except OSError as exc:
        return f"could not connect to {address}: {exc.strerror or exc}"
    try:
        context = ssl_context(node)
        if context is not None:
            try:
                with context.wrap_socket(sock, server_hostname=node.host):
                    pass
            except ssl.SSLCertVerificationError as exc:
                return f"TLS error with {address}: the PACS's certificate was not accepted ({exc.verify_message})"
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or str(exc) or exc.__class__.__name__
                hint = "; does this port speak TLS?" if isinstance(exc, (ConnectionError, ssl.SSLEOFError)) else ""
                return f"TLS error with {address}: the handshake failed ({reason}){hint}"
    finally:
        sock.close()
    return None


def why_not_associated(node: PacsNode, assoc, elapsed: float, acse_timeout: float) -> str:
    """One sentence naming the reason an association to ``node`` was not established."""
    if assoc.is_rejected:
        return _reject_reason(node, assoc)
    rsp = getattr(assoc.acceptor, "primitive", None)
    if rsp is not None and getattr(rsp, "result", None) == 0 and not assoc.accepted_contexts:
        return (f"{node.label()} accepted the association but none of the services MedStation asked for "
                "(it may not support this kind of query, retrieve or storage)")
    problem = probe(node, min(acse_timeout, 10.0))
    if problem:
        return problem
    if elapsed >= acse_timeout * 0.9:
        return (f"{node.label()} accepted the connection but did not answer the association request within "
                f"{acse_timeout:g} s")
    hint = " (does it expect TLS?)" if not node.tls else ""
    return f"{node.label()} closed the connection during the association request{hint}"


class CancelWatch:
    """Aborts an association as soon as the user cancels, so a blocked DIMSE wait returns at once."""

    def __init__(self, assoc, ctx):
        self.assoc, self.ctx = assoc, ctx
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pacs-cancel-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            if self.ctx.cancelled and self.assoc.is_established:
                self.fired = True
                self.assoc.abort()
                # wake a send_c_* generator that waits for the next response
                self.assoc.dimse.msg_queue.put((None, None))
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def no_delay(event) -> None:
    """EVT_CONN_OPEN handler: send each PDU at once. With Nagle's algorithm on, every C-STORE waits for the
    peer's delayed ACK (40 ms on Linux), which caps a transfer at about 20 instances a second."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def new_ae(node: PacsNode, local: LocalAE):
    from pynetdicom import AE

    ae = AE(ae_title=node.calling_ae or local.ae_title)
    timeout = float(node.timeout)
    ae.connection_timeout = timeout
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = max(timeout, 60.0)
    return ae


@contextmanager
def open_association(node: PacsNode, local: LocalAE, contexts, *, roles=(), handlers=(),
                     ctx=None) -> Iterator[object]:
    """An established association to ``node`` for the block, released (or aborted on cancel) afterwards."""
    if not node.has_dimse:
        raise MedStationError(f"node {node.name!r} has no DIMSE address (host, port and AE title)")
    ae = new_ae(node, local)
    for cx in contexts[:MAX_CONTEXTS]:
        ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
    from pynetdicom import evt

    tls = ssl_context(node)
    handlers = [(evt.EVT_CONN_OPEN, no_delay), *handlers]
    for attempt in (1, 2):
        start = time.monotonic()
        try:
            assoc = ae.associate(node.host, int(node.port), ae_title=node.ae_title, ext_neg=list(roles) or None,
                                 evt_handlers=list(handlers) or None, tls_args=(tls, node.host) if tls else None)
        except OSError as exc:  # the address could not even be resolved
            raise MedStationError(probe(node, float(node.timeout)) or f"could not reach {node.label()}: {exc}") \
                from exc
        if assoc.is_established:
            break
        reason = why_not_associated(node, assoc, time.monotonic() - start, ae.acse_timeout)
        # a PACS that rejects and closes at once can lose its A-ASSOCIATE-RJ to the close: ask once more
        if attempt == 2 or "closed the connection" not in reason:
            raise MedStationError(reason)
    watch = CancelWatch(assoc, ctx) if ctx is not None else None
    completed = False
    try:
        yield assoc
        completed = True
    finally:
        if watch:
            watch.stop()
        if assoc.is_established:
            # after a cancel or an error the peer may be mid-transfer and never answer a release: abort
            assoc.release() if completed else assoc.abort()
    if watch and watch.fired:
        ctx.check()


def status_text(status, service: str = "") -> str:
    """'0xA700 Failure (Refused: Out of Resources)' style text for a DIMSE response status."""
    from pynetdicom import status as statuses

    code = int(status.Status)
    table = {"store": statuses.STORAGE_SERVICE_CLASS_STATUS, "find": statuses.QR_FIND_SERVICE_CLASS_STATUS,
             "get": statuses.QR_GET_SERVICE_CLASS_STATUS, "move": statuses.QR_MOVE_SERVICE_CLASS_STATUS
             }.get(service, {})
    category, meaning = table.get(code) or statuses.GENERAL_STATUS.get(code) or (
        statuses.code_to_category(code), "")
    text = f"0x{code:04X} {category}" + (f" ({meaning})" if meaning else "")
    comment = str(status.get("ErrorComment", "") or "")
    return f"{text}: {comment}" if comment else text
