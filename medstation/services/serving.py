"""``medstation serve``: the installed, verified bundles over the Open Inference Protocol with KServe's model server.

Each imaging bundle becomes one ``kserve.Model`` named after the bundle. Requests carry slices in modality units and
the server applies the bundle's own preprocessing (``protocol`` describes the tensors), so a remote result equals
a local one. Concurrent scoring requests are gathered for a few milliseconds into one forward pass (``Batcher``).

On top of KServe's ``ModelServer`` this binds HTTP and gRPC to the host asked for (KServe listens on every
interface), serves both over TLS when a certificate is configured (mutual TLS when a client CA is given), and
checks a per-workstation bearer token on every model endpoint (health and readiness stay open for probes). Every
request is recorded in the server's audit log with the workstation and user name it sent.

Needs the ``server`` extra (``pip install medstation[server]``); only ``medstation serve`` imports this module.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.inference import explain as explainers
from medstation.inference import protocol

log = logging.getLogger(__name__)

OPEN_PATHS = ("/v2/health/", "/v1/models/", "/metrics")  # probes; v1 lists models only
OPEN_GRPC = ("ServerLive", "ServerReady", "ModelReady")


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    http_port: int = protocol.DEFAULT_HTTP_PORT
    grpc_port: int = protocol.DEFAULT_GRPC_PORT
    models: list[str] = field(default_factory=list)  # bundle names; empty: every imaging bundle
    device: str = "auto"
    certfile: str = ""
    keyfile: str = ""
    client_ca: str = ""  # mutual TLS: workstations present a certificate signed by this CA
    tokens: dict[str, str] = field(default_factory=dict)  # workstation -> token; empty: no token required
    batch_window_ms: float = 5.0
    max_batch: int = 64

    @property
    def tls(self) -> bool:
        return bool(self.certfile and self.keyfile)


def read_tokens(path: str | Path) -> dict[str, str]:
    """Per-workstation tokens from a JSON object ``{"workstation": "token", ...}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MedStationError(f"token file {path} could not be read ({exc})", kept="the server was not started")
    if not isinstance(data, dict) or not all(isinstance(v, str) and v for v in data.values()):
        raise MedStationError(f"token file {path} must be a JSON object of workstation names to token strings",
                              kept="the server was not started")
    return {str(k): v for k, v in data.items()}


def token_ok(tokens: dict[str, str], workstation: str, authorization: str) -> bool:
    """True when no tokens are configured, or the bearer token is the one issued to ``workstation``."""
    if not tokens:
        return True
    expected = tokens.get(workstation or "")
    given = authorization[7:] if authorization.lower().startswith("bearer ") else ""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


class Batcher:
    """Gather concurrent requests for ``window`` seconds (or ``max_slices``) and run them as one batch.

    ``run`` maps a stacked (n, rows, cols) array to per-slice rows (n, ...); requests of different slice sizes or
    pixel types run as separate batches. ``batches`` counts the calls to ``run`` (the server reports it in each
    response).
    """

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], window: float = 0.005, max_slices: int = 64):
        self.run, self.window, self.max_slices = run, window, max_slices
        self.pending: list[tuple[np.ndarray, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None
        self.batches = 0

    async def submit(self, pixels: np.ndarray) -> tuple[np.ndarray, int]:
        """Rows for ``pixels`` and how many requests shared the forward pass."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((pixels, future))
        if sum(len(p) for p, _f in self.pending) >= self.max_slices:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self.pending = self.pending, []
        groups: dict[tuple, list] = {}
        for pixels, future in batch:
            groups.setdefault((pixels.shape[1:], pixels.dtype.str), []).append((pixels, future))
        for group in groups.values():
            asyncio.ensure_future(self._run(group))

    async def _run(self, group) -> None:
        loop = asyncio.get_running_loop()
        self.batches += 1
        try:
            rows = await loop.run_in_executor(None, self.run, np.concatenate([p for p, _f in group]))
        except Exception as exc:  # each waiting request gets the error
            for _p, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for pixels, future in group:
            if not future.done():
                future.set_result((rows[start:start + len(pixels)], len(group)))
            start += len(pixels)


def _parameter(params, name: str, default=None):
    """A request parameter from REST (plain values) or gRPC (InferParameter messages)."""
    if not params or name not in params:
        return default
    value = params[name]
    if hasattr(value, "WhichOneof"):
        choice = value.WhichOneof("parameter_choice")
        return getattr(value, choice) if choice else default
    return value


def build_model(loaded, config: ServeConfig):
    """A ``kserve.Model`` serving one loaded bundle (imported lazily: kserve is an optional extra)."""
    import kserve
    from kserve.errors import InvalidInput
    from kserve.protocol.infer_type import InferOutput, InferResponse

    from medstation.inference import predictor, preprocess

    def score(pixels: np.ndarray) -> np.ndarray:
        tensor = preprocess.prepare(pixels, loaded.preprocess, loaded.input_shape, loaded.device.torch_device)
        return predictor.run_batch(loaded, tensor).astype(np.float32)

    class BundleModel(kserve.Model):
        def __init__(self):
            super().__init__(loaded.name)
            self.batcher = Batcher(score, config.batch_window_ms / 1000.0, config.max_batch)
            self.ready = True

        def load(self) -> bool:
            self.ready = True
            return True

        def identity(self, batched: int = 0) -> dict:
            return {protocol.SHA256: loaded.sha256, protocol.VERSION: loaded.version,
                    protocol.DEVICE: loaded.device.label(), protocol.LABELS: json.dumps(loaded.labels),
                    protocol.ACCEPTS: ",".join(protocol.DATATYPES),
                    "batched_requests": batched}

        async def predict(self, payload, headers=None, response_headers=None):
            headers = {k.lower(): v for k, v in (headers or {}).items()}
            params = payload.parameters
            if _parameter(params, protocol.IDENTIFY, False):
                empty = np.zeros((0, len(loaded.labels)), np.float32)
                return self._response(payload, [self._output(protocol.PROBABILITIES, empty)], self.identity())
            tensor = payload.get_input_by_name(protocol.PIXELS)
            if tensor is None:
                raise InvalidInput(f"request has no {protocol.PIXELS} input")
            wire = protocol.DATATYPES.get(str(tensor.datatype).upper(), "float32")
            pixels = np.asarray(tensor.as_numpy(), dtype=wire)
            if pixels.ndim == 2:
                pixels = pixels[None]
            if pixels.ndim != 3 or pixels.shape[0] == 0 or min(pixels.shape[1:]) < 8:
                raise InvalidInput(f"{protocol.PIXELS} must be (slices, rows, cols) with at least 8x8 pixels, "
                                   f"got {list(pixels.shape)}")
            method = str(_parameter(params, protocol.EXPLAIN, "") or "")
            started = time.perf_counter()
            if method:
                if method not in explainers.METHODS:
                    raise InvalidInput(f"unknown explanation method {method!r}")
                index = _parameter(params, protocol.CLASS_INDEX, None)
                index = None if index in (None, "", -1) else int(index)
                loop = asyncio.get_running_loop()
                results = [await loop.run_in_executor(None, explainers.explain_pixels, loaded, p, method, index)
                           for p in pixels]
                probs = np.asarray([r.probabilities for r in results], np.float32)
                heat = np.stack([r.heatmap for r in results]).astype(np.float32)
                outputs = [self._output(protocol.PROBABILITIES, probs), self._output(protocol.HEATMAP, heat)]
                extra = {"target_layer": results[0].target_layer, "refine_layer": results[0].refine_layer,
                         "class_index": results[0].class_index}
                shared = 1
            else:
                probs, shared = await self.batcher.submit(pixels)
                outputs, extra = [self._output(protocol.PROBABILITIES, probs)], {}
            seconds = time.perf_counter() - started
            record_served(loaded, len(pixels), headers.get(protocol.WORKSTATION, ""),
                                  headers.get(protocol.USER, ""), method, seconds)
            return self._response(payload, outputs, {**self.identity(shared), **extra,
                                                     protocol.COMPUTE_US: int(seconds * 1e6)})

        @staticmethod
        def _output(name: str, array: np.ndarray):
            out = InferOutput(name=name, shape=list(array.shape), datatype="FP32")
            out.set_data_from_numpy(np.ascontiguousarray(array, dtype=np.float32), binary_data=True)
            return out

        def _response(self, payload, outputs, parameters):
            return InferResponse(response_id=payload.id or "", model_name=loaded.name, infer_outputs=outputs,
                                 model_version=loaded.version, parameters=parameters,
                                 from_grpc=payload.from_grpc, use_binary_outputs=True)

    return BundleModel()


def record_served(model, slices: int, workstation: str, user: str, method: str,
                  seconds: float) -> None:
    """On the server: one answered request, with the workstation and the user name it sent."""
    what = f"{explainers.METHODS.get(method, method)} of" if method else "scored"
    audit.record("infer", f"request from {workstation or 'unnamed workstation'}", model=model.name,
                 model_version=model.version,
                 detail=f"served workstation {workstation or '?'} user {user or '?'}: {what} {slices} slice(s) "
                        f"on {model.device.label()} in {seconds * 1000:.0f} ms")



def load_models(config: ServeConfig):
    """Verified, loaded imaging bundles to serve (the registry's sha256 check is the trust test)."""
    from medstation.inference import bundles, device, registry

    found, _errors = registry.discover()
    chosen = [b for b in found if b.pane == "imaging" and (not config.models or b.name in config.models)]
    missing = sorted(set(config.models) - {b.name for b in chosen})
    if missing:
        known = ", ".join(sorted(b.name for b in found if b.pane == "imaging")) or "none"
        raise MedStationError(f"no imaging model named {', '.join(missing)} to serve; installed: {known}",
                              kept="the server was not started")
    if not chosen:
        raise MedStationError("no imaging model bundle is installed to serve", kept="the server was not started")
    dev = device.select(config.device)
    return [bundles.load(bundle, dev) for bundle in chosen]


def _auth_middleware(tokens: dict[str, str]):
    from starlette.responses import JSONResponse

    class TokenMiddleware:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            path = scope.get("path", "")
            guarded = scope["type"] == "http" and path.startswith("/v2/models") and not path.endswith("/ready")
            if guarded:
                headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
                if not token_ok(tokens, headers.get(protocol.WORKSTATION, ""),
                                headers.get(protocol.AUTHORIZATION, "")):
                    response = JSONResponse({"error": "token not accepted for this workstation"}, status_code=401)
                    await response(scope, receive, send)
                    return
            await self.app(scope, receive, send)

    return TokenMiddleware


def _grpc_server_class(config: ServeConfig):
    import grpc
    from grpc import aio
    from kserve.protocol.grpc import grpc_predict_v2_pb2_grpc
    from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
    from kserve.protocol.grpc.server import GRPCServer
    from kserve.protocol.grpc.servicer import InferenceServicer

    class TokenInterceptor(aio.ServerInterceptor):
        async def intercept_service(self, continuation, details):
            method = details.method.rsplit("/", 1)[-1]
            meta = {k.lower(): v for k, v in (details.invocation_metadata or ())}
            if method in OPEN_GRPC or token_ok(config.tokens, meta.get(protocol.WORKSTATION, ""),
                                               meta.get(protocol.AUTHORIZATION, "")):
                return await continuation(details)

            async def deny(_request, context):
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "token not accepted for this workstation")
            return grpc.unary_unary_rpc_method_handler(deny)

    class SiteGRPCServer(GRPCServer):
        async def start(self, max_workers):
            import concurrent.futures

            self._server = aio.server(
                concurrent.futures.ThreadPoolExecutor(max_workers=max_workers),
                interceptors=(TokenInterceptor(), LoggingInterceptor(), ExceptionToStatusInterceptor()),
                options=[("grpc.max_send_message_length", 256 << 20), ("grpc.max_receive_message_length", 256 << 20)])
            grpc_predict_v2_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(
                InferenceServicer(self._data_plane, self._model_repository_extension), self._server)
            address = f"{protocol.ServerAddress(config.host, self._port, 'grpc', False).target}"
            if config.tls:
                credentials = grpc.ssl_server_credentials(
                    [(Path(config.keyfile).read_bytes(), Path(config.certfile).read_bytes())],
                    root_certificates=Path(config.client_ca).read_bytes() if config.client_ca else None,
                    require_client_auth=bool(config.client_ca))
                self._server.add_secure_port(address, credentials)
            else:
                self._server.add_insecure_port(address)
            await self._server.start()
            await self._server.wait_for_termination()

    return SiteGRPCServer


def serve(config: ServeConfig, ready: Callable[[list], None] | None = None) -> None:
    """Load the models and run the HTTP and gRPC servers until SIGINT/SIGTERM."""
    if not config.tls and not protocol.is_loopback(config.host):
        raise MedStationError(f"serving on {config.host} needs TLS (--tls-cert and --tls-key); plain connections "
                              "are allowed only on loopback", kept="the server was not started")
    import importlib.util

    if importlib.util.find_spec("kserve") is None:
        raise MedStationError("medstation serve needs the server extra (pip install medstation[server])",
                              kept="the server was not started")
    loaded = load_models(config)
    from kserve import ModelServer
    from kserve.model_server import FASTAPI_APP_IMPORT_STRING, app
    from kserve.protocol.rest.server import RESTServer

    app.add_middleware(_auth_middleware(config.tokens))
    grpc_class = _grpc_server_class(config)

    class SiteModelServer(ModelServer):
        def start(self, models) -> None:
            self._register_and_check_atleast_one_model_is_ready(models)
            self._rest_server = RESTServer(FASTAPI_APP_IMPORT_STRING, self.dataplane, self.model_repository_extension,
                                           self.http_port, workers=1, grace_period=2,
                                           timeout_keep_alive=self.timeout_keep_alive,
                                           ssl_certfile=self.ssl_certfile, ssl_keyfile=self.ssl_keyfile)
            self._rest_server.config.host = config.host
            if config.tls and config.client_ca:
                import ssl

                self._rest_server.config.ssl_ca_certs = config.client_ca
                self._rest_server.config.ssl_cert_reqs = ssl.CERT_REQUIRED
            self.servers.append(self._rest_server.start())
            self._grpc_server = grpc_class(self.grpc_port, self.dataplane, self.model_repository_extension,
                                           kwargs={}, grace_period=2)
            self.servers.append(self._grpc_server.start(self.max_threads))
            self.setup_event_loop()
            self.register_signal_handler()
            if ready:
                ready(loaded)
            asyncio.run(self._serve())

    server = SiteModelServer(http_port=config.http_port, grpc_port=config.grpc_port, workers=1,
                             ssl_certfile=config.certfile or None, ssl_keyfile=config.keyfile or None,
                             grace_period=2)
    server.start([build_model(m, config) for m in loaded])
