"""The remote inference backend: a workstation's model runs on a server speaking the Open Inference Protocol.

The client is ``tritonclient`` (gRPC or HTTP, as the address says), so the server may be ``medstation serve``, or
any KServe/Triton deployment of the same bundle. The workstation keeps its own copy of the bundle's metadata
(labels, threshold, intended use, version and sha256): before any pixel leaves the machine the server is asked who
it is, and a different version or different weights stop the run. Each response is checked again, so results that
were not computed by the expected weights are never shown or written.

Needs the ``server`` extra for ``tritonclient``; imported only when the remote backend is chosen.
"""
from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.inference import protocol, registry
from medstation.inference.explain import METHODS, Explanation
from medstation.inference.predictor import SliceScore, score_of

KEPT = "no result was shown or written"


@dataclass
class RemoteSettings:
    server: str
    token: str = ""
    ca_file: str = ""  # CA that signed the server certificate (default: the system's)
    cert_file: str = ""  # this workstation's certificate, for servers that require mutual TLS
    key_file: str = ""
    workstation: str = ""  # the name the server's token list knows this workstation by
    timeout: float = 60.0


@dataclass(frozen=True)
class ServerDevice:
    """Where a remote model runs, shaped like ``device.DeviceInfo`` for labels and reports."""
    address: str
    name: str
    kind: str = "remote"

    def label(self) -> str:
        return f"Server: {self.address} ({self.name})" if self.name else f"Server: {self.address}"


def _short_device(label: str) -> str:
    """'CUDA: NVIDIA H200' -> 'H200'-like short names for the status bar; the CPU label as it is."""
    if label.startswith("CUDA: "):
        return label[6:].replace("NVIDIA ", "")
    return label


def _params(response) -> dict:
    """Response parameters as plain values, from a tritonclient HTTP or gRPC result."""
    raw = response.get_response()
    if isinstance(raw, dict):
        return dict(raw.get("parameters") or {})
    out = {}
    for key, value in raw.parameters.items():
        choice = value.WhichOneof("parameter_choice")
        out[key] = getattr(value, choice) if choice else None
    return out


class RemoteModel:
    """A bundle whose forward passes run on an inference server; duck-types ``bundles.LoadedModel`` for scoring."""

    def __init__(self, bundle: registry.Bundle, settings: RemoteSettings,
                 on_send: Callable[[str, int, str], None] | None = None):
        self.bundle = bundle
        self.settings = settings
        self.address = protocol.parse_address(settings.server)
        protocol.require_tls_off_loopback(self.address)
        self.on_send = on_send  # (object, slices, what) -> audit, called before each batch leaves
        self.sha256 = (bundle.expected_sha256 or "").lower()
        self.device = ServerDevice(self.address.label, "")
        self._client = None
        self._checked = False
        self.server_ms = 0.0  # compute time the server reported, summed over requests (benchmarks)
        self.accepts = {"FP32"}  # PIXELS datatypes the server takes (it says so when asked who it is)
        self.sent_bytes = 0  # pixel bytes sent, summed over requests

    # LoadedModel's face ---------------------------------------------------------------------------------------
    name = property(lambda self: self.bundle.name)
    version = property(lambda self: self.bundle.version)
    kind = property(lambda self: self.bundle.kind)
    labels = property(lambda self: self.bundle.labels or ["class 0", "class 1"])
    threshold = property(lambda self: float(self.bundle.config.get("threshold", 0.5)))

    @property
    def positive_index(self) -> int:
        wanted = self.bundle.config.get("positive_label")
        return self.labels.index(wanted) if wanted in self.labels else len(self.labels) - 1

    def identity(self) -> dict[str, str]:
        return {"model": self.name, "version": self.version, "sha256": self.sha256}

    # connection ------------------------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {protocol.WORKSTATION: self.settings.workstation or socket.gethostname(),
                   protocol.USER: _user()}
        if self.settings.token:
            headers[protocol.AUTHORIZATION] = f"Bearer {self.settings.token}"
        return headers

    def client(self):
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self):
        s, a = self.settings, self.address
        try:
            if a.protocol == "grpc":
                import tritonclient.grpc as tc

                return tc.InferenceServerClient(a.target, ssl=a.tls, root_certificates=s.ca_file or None,
                                                private_key=s.key_file or None,
                                                certificate_chain=s.cert_file or None)
            import tritonclient.http as tc

            factory = None
            if a.tls:
                import ssl

                def factory():
                    context = ssl.create_default_context(cafile=s.ca_file or None)
                    if s.cert_file:
                        context.load_cert_chain(s.cert_file, s.key_file or None)
                    return context
            return tc.InferenceServerClient(a.target, ssl=a.tls, ssl_context_factory=factory,
                                            connection_timeout=s.timeout, network_timeout=s.timeout)
        except ImportError as exc:
            raise MedStationError("remote inference needs the server extra (pip install medstation[server])",
                                  kept=KEPT) from exc

    def _call(self, inputs, outputs, parameters: dict):
        from tritonclient.utils import InferenceServerException

        kwargs = {"headers": self._headers(), "parameters": parameters}
        if self.address.protocol == "grpc":
            kwargs["client_timeout"] = self.settings.timeout
        try:
            return self.client().infer(self.name, inputs, outputs=outputs, **kwargs)
        except InferenceServerException as exc:
            raise self._explain_failure(exc) from exc
        except (OSError, ConnectionError) as exc:
            raise self._down(str(exc) or type(exc).__name__) from exc

    def _down(self, reason: str) -> MedStationError:
        hint = ""
        if self.address.tls and not self.settings.cert_file:
            hint = (" or, if it requires client certificates, give this workstation's (medstation remote enable "
                    "--cert --key)")
        return MedStationError(f"the inference server {self.address.url()} is not reachable ({reason[:120]}); "
                               f"switch the inference backend to local to run on this workstation{hint}", kept=KEPT)

    def _explain_failure(self, exc) -> MedStationError:
        status, text = str(exc.status() or ""), str(exc.message() or exc)
        low = (status + " " + text).lower()
        if "unauthenticated" in low or "401" in status or "token not accepted" in low:
            return MedStationError(f"the inference server {self.address.url()} did not accept this workstation's "
                                   "token; ask IT for a valid one", kept=KEPT)
        if "unavailable" in low or "connect" in low or "refused" in low or "deadline" in low:
            return self._down(text.splitlines()[0] if text else status)
        if "not found" in low or "notfound" in low:
            return MedStationError(f"the inference server {self.address.url()} does not serve a model named "
                                   f"{self.name}", kept=KEPT)
        return MedStationError(f"the inference server {self.address.url()} refused the request: "
                               f"{text.splitlines()[0][:200] if text else status}", kept=KEPT)

    def _check(self, params: dict, version: str) -> None:
        """The server must run this workstation's version and weights; otherwise nothing is used."""
        if version and version != self.version:
            raise MedStationError(f"the inference server {self.address.url()} serves {self.name} version "
                                  f"{version}, this workstation expects {self.version}", kept=KEPT)
        served = str(params.get(protocol.SHA256, "")).lower()
        if served != self.sha256:
            raise MedStationError(f"the inference server {self.address.url()} runs {self.name} weights with sha256 "
                                  f"{served[:12] or 'unknown'}... but this workstation's bundle has "
                                  f"{self.sha256[:12]}... (different weights)", kept=KEPT)

    def connect(self) -> "RemoteModel":
        """Ask the server who it is (no pixel data); raises when it is down or serves something else."""
        if self._checked:
            return self
        inputs, outputs = self._tensors(np.zeros((1, 8, 8), np.float32), explain=False)
        result = self._call(inputs, outputs, {protocol.IDENTIFY: True})
        params = _params(result)
        self._check(params, self._version_of(result))
        self.device = ServerDevice(self.address.label, _short_device(str(params.get(protocol.DEVICE, ""))))
        self.accepts = {t.strip().upper() for t in str(params.get(protocol.ACCEPTS) or "FP32").split(",")} & \
            set(protocol.DATATYPES)
        self._checked = True
        return self

    @staticmethod
    def _version_of(result) -> str:
        raw = result.get_response()
        return str(raw.get("model_version", "") if isinstance(raw, dict) else raw.model_version)

    def _tensors(self, pixels: np.ndarray, explain: bool):
        if self.address.protocol == "grpc":
            import tritonclient.grpc as tc
        else:
            import tritonclient.http as tc
        tensor = tc.InferInput(protocol.PIXELS, list(pixels.shape), "INT16" if pixels.dtype == np.int16 else "FP32")
        if self.address.protocol == "grpc":
            tensor.set_data_from_numpy(pixels)
        else:
            tensor.set_data_from_numpy(pixels, binary_data=True)
        names = [protocol.PROBABILITIES] + ([protocol.HEATMAP] if explain else [])
        if self.address.protocol == "grpc":
            outputs = [tc.InferRequestedOutput(n) for n in names]
        else:
            outputs = [tc.InferRequestedOutput(n, binary_data=True) for n in names]
        return [tensor], outputs

    def run(self, pixels: np.ndarray, what: str, explain: str = "", class_index: int | None = None):
        """One request: (probabilities (n, labels), heat maps (n, rows, cols) or None, parameters)."""
        self.connect()
        pixels = self.wire(pixels)
        if self.on_send:
            self.on_send(what, len(pixels), explain)
        params = {protocol.EXPLAIN: explain} if explain else {}
        if explain and class_index is not None:
            params[protocol.CLASS_INDEX] = int(class_index)
        inputs, outputs = self._tensors(pixels, bool(explain))
        self.sent_bytes += pixels.nbytes
        result = self._call(inputs, outputs, params)
        answer = _params(result)
        self._check(answer, self._version_of(result))
        self.server_ms += int(answer.get(protocol.COMPUTE_US, 0) or 0) / 1000.0
        probs = result.as_numpy(protocol.PROBABILITIES)
        heat = result.as_numpy(protocol.HEATMAP) if explain else None
        if probs is None or probs.shape[0] != len(pixels) or (explain and heat is None):
            raise MedStationError(f"the inference server {self.address.url()} answered without the expected "
                                  "outputs", kept=KEPT)
        return probs, heat, answer

    def wire(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels as they travel: 16-bit integers as they are (CT in HU) when the server takes INT16, else FP32."""
        if pixels.dtype == np.int16 and "INT16" in self.accepts:
            return np.ascontiguousarray(pixels)
        return np.ascontiguousarray(pixels, dtype=np.float32)

    # what the service calls ------------------------------------------------------------------------------------
    def iter_scores(self, volume, indices: Sequence[int] | None = None, ctx: JobContext | None = None,
                    batch_size: int | None = None, what: str = "") -> Iterator[SliceScore]:
        ctx = ctx or null_context()
        indices = list(range(volume.shape[0])) if indices is None else list(indices)
        size = max(1, batch_size or 16)
        for start in range(0, len(indices), size):
            ctx.check()
            chunk = indices[start:start + size]
            probs, _heat, _p = self.run(np.stack([np.asarray(volume.pixels[z]) for z in chunk]), what)
            yield from (score_of(self, z, p) for z, p in zip(chunk, probs))
            done = start + len(chunk)
            ctx.progress(done, len(indices), f"{self.name} on {self.address.label}: slice {done} of {len(indices)}")

    def explain(self, volume, z: int, method: str = "gradcam", class_index: int | None = None,
                what: str = "") -> Explanation:
        if method not in METHODS:
            raise MedStationError(f"unknown explanation method {method!r}; choose {' or '.join(METHODS)}")
        pixels = np.asarray(volume.pixels[z])[None]
        probs, heat, params = self.run(pixels, what, method, class_index)
        index = int(params.get("class_index", self.positive_index if class_index is None else class_index))
        labels = self.labels
        return Explanation(z, labels[index] if index < len(labels) else str(index), index, float(probs[0][index]),
                           tuple(round(float(p), 6) for p in probs[0]), method, str(params.get("target_layer", "")),
                           self.name, self.version, self.sha256, heat[0].astype(np.float32),
                           str(params.get("refine_layer", "")))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (services)
        return "unknown"
