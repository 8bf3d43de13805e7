"""``medstation serve`` (a department inference server) and ``medstation remote`` (this workstation's use of one).

``serve`` runs the installed, verified imaging bundles over the Open Inference Protocol (HTTP and gRPC) with
KServe's model server; it needs the ``server`` extra. ``remote enable|disable|status`` is the explicit switch that
lets this workstation send pixel data to such a server.
"""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the installed imaging models over the Open Inference Protocol")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                       "address needs --tls-cert and --tls-key)")
    serve.add_argument("--port", type=int, default=8081, help="gRPC port (default 8081)")
    serve.add_argument("--http-port", type=int, default=8080, help="HTTP/REST port (default 8080)")
    serve.add_argument("--models", nargs="*", default=[], metavar="NAME", help="bundles to serve (default: all)")
    serve.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    serve.add_argument("--tls-cert", default="", help="server certificate (PEM)")
    serve.add_argument("--tls-key", default="", help="server private key (PEM)")
    serve.add_argument("--client-ca", default="", help="require client certificates signed by this CA (mTLS)")
    serve.add_argument("--tokens", default="", help="JSON file {workstation: token}; requests must carry theirs")
    serve.add_argument("--batch-window-ms", type=float, default=5.0,
                       help="gather concurrent requests this long into one forward pass (default 5)")
    serve.set_defaults(func=_serve)

    remote = sub.add_parser("remote", help="let this workstation use an inference server (sends pixel data)")
    actions = remote.add_subparsers(dest="action", metavar="ACTION", required=True)
    enable = actions.add_parser("enable", help="turn remote inference on and make it the default backend")
    enable.add_argument("--server", required=True, help="e.g. grpcs://ct-ai.hospital:8001")
    enable.add_argument("--token-file", default="", help="file holding this workstation's token")
    enable.add_argument("--workstation", default="", help="the name the server knows this workstation by")
    enable.add_argument("--ca", default="", help="CA certificate that signed the server's certificate")
    enable.add_argument("--cert", default="", help="this workstation's certificate (servers requiring mTLS)")
    enable.add_argument("--key", default="", help="this workstation's private key (servers requiring mTLS)")
    enable.add_argument("--keep-local", action="store_true", help="enable, but keep local as the default backend")
    enable.set_defaults(func=_remote_enable)
    actions.add_parser("disable", help="turn remote inference off (local only)").set_defaults(func=_remote_disable)
    actions.add_parser("status", help="print the inference backend settings").set_defaults(func=_remote_status)


def _serve(args: argparse.Namespace) -> int:
    import sys

    from medstation.services import serving

    sys.argv = sys.argv[:1]  # KServe reads its own options from the command line at import
    config = serving.ServeConfig(host=args.host, http_port=args.http_port, grpc_port=args.port,
                                 models=list(args.models), device=args.device, certfile=args.tls_cert,
                                 keyfile=args.tls_key, client_ca=args.client_ca,
                                 tokens=serving.read_tokens(args.tokens) if args.tokens else {},
                                 batch_window_ms=args.batch_window_ms)

    def ready(loaded) -> None:
        scheme = "s" if config.tls else ""
        names = ", ".join(f"{m.name} {m.version} (sha256 {m.sha256[:12]}...) on {m.device.label()}" for m in loaded)
        print(f"serving {names} at grpc{scheme}://{config.host}:{config.grpc_port} and "
              f"http{scheme}://{config.host}:{config.http_port}", flush=True)

    serving.serve(config, ready)
    return 0


def _update(**changes) -> dict:
    from medstation.core.settings import Settings
    from medstation.services import imaging as service

    settings = Settings()
    conf = {**service.inference_settings(settings), **changes}
    settings.set("inference", conf)
    return conf


def _remote_enable(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medstation.core.errors import MedStationError
    from medstation.inference import protocol

    address = protocol.parse_address(args.server)
    protocol.require_tls_off_loopback(address)
    token = ""
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MedStationError(f"token file {args.token_file} could not be read ({exc.strerror})",
                                  kept="the settings are unchanged") from exc
    conf = _update(remote_enabled=True, server=address.url(), token=token, workstation=args.workstation,
                   ca_file=args.ca, cert_file=args.cert, key_file=args.key,
                   **({} if args.keep_local else {"backend": "remote"}))
    print(f"remote inference enabled: {conf['server']} (default backend: {conf['backend']})")
    return 0


def _remote_disable(_args: argparse.Namespace) -> int:
    _update(remote_enabled=False, backend="local")
    print("remote inference disabled: models run on this workstation")
    return 0


def _remote_status(_args: argparse.Namespace) -> int:
    from medstation.services import imaging as service

    conf = service.inference_settings()
    state = "enabled" if conf["remote_enabled"] else "disabled"
    print(f"backend: {conf['backend']}; remote inference {state}; server: {conf['server'] or 'none'}; "
          f"token: {'set' if conf['token'] else 'none'}")
    return 0
