"""Misbehaving PACS for the robustness tests (inside the private network namespace only).

Small pynetdicom servers that reject, refuse a search, drop the association after N instances, or stall, and a
TCP listener that never answers. Each runs on 127.0.0.1 for the length of a ``with`` block.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FAKE_AET = "FAKEPACS"


@contextmanager
def silent_listener(port: int) -> Iterator[int]:
    """Accepts TCP connections and never says a word: a hung PACS."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


class FakePacs:
    """A pynetdicom Q/R SCP over a list of files, with configurable faults."""

    def __init__(self, files: list[Path], *, abort_after: int | None = None, stall_after: int | None = None,
                 find_status: int | None = None, store_abort_after: int | None = None,
                 require_calling_aet: list[str] | None = None, ssl_context=None):
        self.files = list(files)
        self.abort_after, self.stall_after = abort_after, stall_after
        self.find_status, self.store_abort_after = find_status, store_abort_after
        self.require_calling_aet = require_calling_aet or []
        self.ssl_context = ssl_context
        self.sent = 0
        self.stored: list[str] = []
        self.saw_abort = False
        self.release = threading.Event()
        self.server = None

    # handlers ---------------------------------------------------------------------------------------------
    def handle_find(self, event):
        from pydicom import dcmread

        if self.find_status is not None:
            yield self.find_status, None
            return
        for path in self.files:
            ds = dcmread(path, stop_before_pixels=True)
            ds.QueryRetrieveLevel = event.identifier.QueryRetrieveLevel
            yield 0xFF00, ds

    def handle_get(self, event):
        from pydicom import dcmread

        yield len(self.files)
        for i, path in enumerate(self.files):
            if self.abort_after is not None and i == self.abort_after:
                event.assoc.abort()
                return
            if self.stall_after is not None and i == self.stall_after:
                while not self.release.wait(0.05):
                    if event.assoc.acse.is_aborted() or not event.assoc.dul.is_alive():
                        self.saw_abort = True
                        return
            if event.is_cancelled:
                yield 0xFE00, None
                return
            self.sent += 1
            yield 0xFF00, dcmread(path)

    def handle_store(self, event):
        if self.store_abort_after is not None and len(self.stored) >= self.store_abort_after:
            event.assoc.abort()
            return 0xA700
        self.stored.append(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    # lifetime ---------------------------------------------------------------------------------------------
    @contextmanager
    def running(self, port: int) -> Iterator["FakePacs"]:
        from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts, evt
        from pynetdicom.sop_class import (StudyRootQueryRetrieveInformationModelFind,
                                          StudyRootQueryRetrieveInformationModelGet, Verification)

        ae = AE(ae_title=FAKE_AET)
        ae.require_called_aet = True
        ae.require_calling_aet = self.require_calling_aet
        for uid in (Verification, StudyRootQueryRetrieveInformationModelFind,
                    StudyRootQueryRetrieveInformationModelGet):
            ae.add_supported_context(uid)
        for cx in AllStoragePresentationContexts:
            ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES, scp_role=True, scu_role=True)
        handlers = [(evt.EVT_C_FIND, self.handle_find), (evt.EVT_C_GET, self.handle_get),
                    (evt.EVT_C_STORE, self.handle_store)]
        self.server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=handlers,
                                      ssl_context=self.ssl_context)
        try:
            yield self
        finally:
            self.release.set()
            time.sleep(0.05)
            self.server.shutdown()
