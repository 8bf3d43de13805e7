"""PACS nodes the user configured: where a PACS listens, which AE titles to use, TLS, DICOMweb.

Stored in the settings under ``"pacs_nodes"`` as plain data::

    {"version": 1,
     "nodes": [{"name": "Radiology PACS", "ae_title": "ORTHANC", "host": "pacs.local", "port": 4242, ...}],
     "local": {"ae_title": "MEDSTATION", "bind": "127.0.0.1", "port": 11113}}

``local`` describes the Storage SCP that MedStation runs only while a C-MOVE lasts: the PACS must know this AE
title, host and port (as a "modality") to send the moved instances to it.
"""
from __future__ import annotations

import ssl
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from medstation.core.errors import MedStationError

SETTINGS_KEY = "pacs_nodes"
SCHEMA_VERSION = 1
DEFAULT_CALLING_AE = "MEDSTATION"
DEFAULT_SCP_PORT = 11113


def _check_ae(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise MedStationError(f"{what} is empty: an AE title has 1 to 16 characters")
    if len(value) > 16:
        raise MedStationError(f"{what} {value!r} is longer than 16 characters")
    if "\\" in value or any(ord(c) < 32 or ord(c) > 126 for c in value):
        raise MedStationError(f"{what} {value!r} may hold only printable ASCII without backslashes")
    return value


def _check_port(value: Any, what: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise MedStationError(f"{what} {value!r} is not a number") from None
    if not 0 < port < 65536:
        raise MedStationError(f"{what} {port} is outside 1-65535")
    return port


@dataclass(frozen=True)
class LocalAE:
    """MedStation's own AE: the calling AE title and the Storage SCP address used for C-MOVE."""
    ae_title: str = DEFAULT_CALLING_AE
    bind: str = "127.0.0.1"
    port: int = DEFAULT_SCP_PORT
    tls_cert: str = ""  # certificate and key of MedStation's Storage SCP, for C-MOVE from a node that uses TLS
    tls_key: str = ""

    def validated(self) -> "LocalAE":
        return LocalAE(_check_ae(self.ae_title, "MedStation's AE title"), (self.bind or "127.0.0.1").strip(),
                       _check_port(self.port, "the local storage port"), self.tls_cert, self.tls_key)


@dataclass(frozen=True)
class PacsNode:
    """One remote PACS (DIMSE and/or DICOMweb)."""
    name: str
    ae_title: str = ""  # the called AE title
    host: str = ""
    port: int = 104
    calling_ae: str = ""  # empty: MedStation's own AE title
    tls: bool = False
    tls_ca: str = ""  # CA bundle that signed the PACS's certificate (empty: system store)
    tls_cert: str = ""  # client certificate, when the PACS asks for one
    tls_key: str = ""
    tls_verify_host: bool = True
    dicomweb_url: str = ""  # e.g. https://pacs/dicom-web
    timeout: float = 10.0  # seconds for connecting, association and each DIMSE response
    notes: str = field(default="", compare=False)

    @property
    def has_dimse(self) -> bool:
        return bool(self.host and self.ae_title)

    @property
    def has_dicomweb(self) -> bool:
        return bool(self.dicomweb_url)

    def label(self) -> str:
        if self.has_dimse:
            return f"{self.name} ({self.ae_title}@{self.host}:{self.port})"
        return f"{self.name} ({self.dicomweb_url})"

    def validated(self) -> "PacsNode":
        """This node with its fields checked; a MedStationError names the first bad field."""
        name = (self.name or "").strip()
        if not name:
            raise MedStationError("a PACS node needs a name")
        node = replace(self, name=name, host=(self.host or "").strip(), dicomweb_url=(self.dicomweb_url or "").strip())
        if node.ae_title and not node.host:
            raise MedStationError(f"node {name!r} has an AE title but no host")
        if not node.has_dimse and not node.has_dicomweb:
            raise MedStationError(f"node {name!r} has neither a host and AE title (DIMSE) nor a DICOMweb URL")
        if node.host or node.ae_title:
            _check_ae(node.ae_title, f"node {name!r}: the called AE title")
            node = replace(node, port=_check_port(node.port, f"node {name!r}: port"))
        if node.calling_ae:
            _check_ae(node.calling_ae, f"node {name!r}: the calling AE title")
        if node.dicomweb_url and not node.dicomweb_url.startswith(("http://", "https://")):
            raise MedStationError(f"node {name!r}: the DICOMweb URL {node.dicomweb_url!r} must start with "
                                  "http:// or https://")
        if node.tls_cert and not node.tls_key:
            raise MedStationError(f"node {name!r}: a TLS client certificate needs its key file")
        if float(node.timeout) <= 0:
            raise MedStationError(f"node {name!r}: the timeout must be positive")
        return node

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PacsNode":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "port" in values:
            values["port"] = int(values["port"])
        return cls(**values)


def ssl_context(node: PacsNode) -> ssl.SSLContext | None:
    """The TLS client context for ``node`` (None without TLS); a clear error naming a missing or bad file."""
    if not node.tls:
        return None
    for what, path in (("CA bundle", node.tls_ca), ("client certificate", node.tls_cert), ("key", node.tls_key)):
        if path and not Path(path).is_file():
            raise MedStationError(f"node {node.name!r}: the TLS {what} {path} does not exist")
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=node.tls_ca or None)
        context.check_hostname = bool(node.tls_verify_host)
        if node.tls_cert:
            context.load_cert_chain(node.tls_cert, node.tls_key or None)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise MedStationError(f"node {node.name!r}: the TLS files could not be loaded ({exc})") from exc
    return context


def server_ssl_context(node: PacsNode, local: LocalAE) -> ssl.SSLContext | None:
    """The TLS server context of MedStation's Storage SCP while ``node`` sends a C-MOVE (None when the node does
    not use TLS). The node must present a certificate its CA bundle signed when one is configured."""
    if not node.tls:
        return None
    if not local.tls_cert or not local.tls_key:
        raise MedStationError(f"node {node.name!r} uses TLS, so a C-MOVE needs a TLS certificate and key for "
                              "MedStation's storage port (PACS Nodes, local settings); or retrieve with C-GET",
                              kept="nothing was requested from the PACS")
    try:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=node.tls_ca or None)
        context.verify_mode = ssl.CERT_REQUIRED if node.tls_ca else ssl.CERT_NONE
        context.load_cert_chain(local.tls_cert, local.tls_key)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise MedStationError(f"MedStation's TLS certificate for the storage port could not be loaded ({exc})",
                              kept="nothing was requested from the PACS") from exc
    return context


# settings ---------------------------------------------------------------------------------------------------
def _stored(settings) -> dict[str, Any]:
    data = settings.get(SETTINGS_KEY) or {}
    return data if isinstance(data, dict) else {}


def load_nodes(settings) -> list[PacsNode]:
    """The configured nodes, skipping (and not losing) entries that cannot be read."""
    nodes = []
    for item in _stored(settings).get("nodes", []):
        try:
            nodes.append(PacsNode.from_dict(item))
        except (TypeError, ValueError):
            continue
    return nodes


def save_nodes(settings, nodes: list[PacsNode]) -> None:
    names = [n.name for n in nodes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MedStationError(f"two PACS nodes are named {duplicates[0]!r}; names must be unique")
    data = _stored(settings)
    data.update(version=SCHEMA_VERSION, nodes=[n.validated().to_dict() for n in nodes])
    settings.set(SETTINGS_KEY, data)


def load_local(settings) -> LocalAE:
    raw = _stored(settings).get("local", {})
    try:
        return LocalAE(**{k: raw[k] for k in ("ae_title", "bind", "port", "tls_cert", "tls_key") if k in raw})
    except TypeError:
        return LocalAE()


def save_local(settings, local: LocalAE) -> None:
    data = _stored(settings)
    data.update(version=SCHEMA_VERSION, local=asdict(local.validated()))
    data.setdefault("nodes", [])
    settings.set(SETTINGS_KEY, data)


def find_node(settings, name: str) -> PacsNode:
    for node in load_nodes(settings):
        if node.name == name:
            return node
    known = ", ".join(repr(n.name) for n in load_nodes(settings)) or "none are configured"
    raise MedStationError(f"no PACS node named {name!r} (known: {known})")
