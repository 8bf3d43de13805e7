"""What the workstation and ``medstation serve`` agree on over the Open Inference Protocol (KServe v2).

One request carries the slices of a series in modality units (``PIXELS``, n x rows x cols: FP32, or INT16 - half
the bytes - for integer values such as CT in HU when the server lists INT16 in its ``ACCEPTS``); the server runs
the bundle's own preprocessing, so a remote result is the local one. The response carries ``PROBABILITIES``
(FP32, n x labels) and, when an explanation was asked for, ``HEATMAP`` (FP32, n x rows x cols, 0..1) as a second
output tensor; its parameters name the model, version and the weights' sha256 that ran, and the server's device.

Addresses: ``grpc://host:port`` (the default for a bare ``host:port``), ``grpcs://``, ``http://`` and ``https://``.
Plain connections are allowed only to loopback; anything else must use TLS. Pure Python, no network.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from medstation.core.errors import MedStationError

PIXELS = "PIXELS"
PROBABILITIES = "PROBABILITIES"
HEATMAP = "HEATMAP"

# request parameters
EXPLAIN = "explain"  # "gradcam" | "gradcampp": also return HEATMAP for every slice of the request
CLASS_INDEX = "class_index"
IDENTIFY = "identify"  # no pixels: answer with the model's identity only
# response parameters
SHA256 = "sha256"
VERSION = "version"
DEVICE = "device"
LABELS = "labels"
DATATYPES = {"FP32": "float32", "INT16": "int16"}  # PIXELS datatypes medstation serve takes, as numpy types
ACCEPTS = "accepts"  # the PIXELS datatypes the server takes, comma-separated ("FP32,INT16"); FP32 when absent
COMPUTE_US = "compute_us"  # microseconds the server spent on the request, batch queueing included
# request headers (gRPC metadata keys are the same, lower case)
AUTHORIZATION = "authorization"
WORKSTATION = "x-medstation-workstation"
USER = "x-medstation-user"

DEFAULT_GRPC_PORT = 8081
DEFAULT_HTTP_PORT = 8080
SCHEMES = {"grpc": ("grpc", False), "grpcs": ("grpc", True), "http": ("http", False), "https": ("http", True)}


@dataclass(frozen=True)
class ServerAddress:
    host: str
    port: int
    protocol: str  # "grpc" | "http"
    tls: bool

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def label(self) -> str:
        return self.target

    def url(self) -> str:
        scheme = {("grpc", False): "grpc", ("grpc", True): "grpcs", ("http", False): "http",
                  ("http", True): "https"}[(self.protocol, self.tls)]
        return f"{scheme}://{self.target}"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_address(text: str) -> ServerAddress:
    """``grpcs://ct-ai.hospital:8001`` -> ServerAddress; MedStationError naming what is wrong otherwise."""
    text = (text or "").strip()
    if not text:
        raise MedStationError("no inference server is configured (give --server URL or set it in Settings)")
    parts = urlsplit(text if "://" in text else f"grpc://{text}")
    if parts.scheme not in SCHEMES:
        raise MedStationError(f"inference server address {text!r} has an unknown scheme {parts.scheme!r}; "
                              "use grpc://, grpcs://, http:// or https://")
    protocol, tls = SCHEMES[parts.scheme]
    try:
        port = parts.port
    except ValueError as exc:
        raise MedStationError(f"inference server address {text!r} has an invalid port") from exc
    if not parts.hostname:
        raise MedStationError(f"inference server address {text!r} names no host")
    default = DEFAULT_GRPC_PORT if protocol == "grpc" else DEFAULT_HTTP_PORT
    return ServerAddress(parts.hostname, port or default, protocol, tls)


def require_tls_off_loopback(address: ServerAddress) -> None:
    """Pixel data leaves the workstation only encrypted, except to a server on this machine."""
    if not address.tls and not is_loopback(address.host):
        scheme = "grpcs" if address.protocol == "grpc" else "https"
        raise MedStationError(f"the inference server {address.target} is not on this machine, so its connection "
                              f"must use TLS ({scheme}://{address.target})",
                              kept="no pixel data was sent")
