"""``medstation info``, ``medstation audit ...`` and ``medstation models ...``."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    info = sub.add_parser("info", help="where settings, database and models live; the inference device")
    info.add_argument("--json", action="store_true")
    info.add_argument("--device", default=None, choices=("auto", "cpu", "cuda"))
    info.set_defaults(func=_info)

    audit = sub.add_parser("audit", help="read and verify the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    listing = audit_sub.add_parser("list", help="print entries")
    listing.add_argument("--action")
    listing.add_argument("--text", help="filter by object, detail, user or model")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_audit_list)
    verify = audit_sub.add_parser("verify", help="check the hash chain; exit 1 and name entries if tampered")
    verify.set_defaults(func=_audit_verify)

    models = sub.add_parser("models", help="list and verify model bundles")
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    mlist = models_sub.add_parser("list", help="installed model bundles")
    mlist.add_argument("--json", action="store_true")
    mlist.set_defaults(func=_models_list)
    mverify = models_sub.add_parser("verify", help="check each bundle's weights against its sha256")
    mverify.add_argument("name", nargs="*", help="bundle names (default: all)")
    mverify.set_defaults(func=_models_verify)
    mtrust = models_sub.add_parser(
        "trust", help="record a bundle's weight hashes in the site trust store (after showing its contents)",
        description="Show what the bundle holds (metadata, weight files, sizes, sha256), then record the sha256 "
                    "of every weight file in the site trust store so that MedStation may load it. Audited.")
    mtrust.add_argument("bundle", metavar="NAME|PATH", help="an installed bundle's name or a bundle folder")
    mtrust.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    mtrust.set_defaults(func=_models_trust)


def _info(args: argparse.Namespace) -> int:
    from medstation import __version__
    from medstation.commands._util import print_json
    from medstation.core import audit, paths, site, trust
    from medstation.core.settings import Settings
    from medstation.inference import device, registry

    settings = Settings()
    dev = device.select(args.device or settings.get("device", "auto"))
    info = {"version": __version__, "settings": str(paths.settings_path()),
            "database": str(paths.database_path()), "logs": str(paths.log_dir()),
            "models": [str(p) for p in registry.model_dirs()],
            "site": site.folder().describe(), "trust store": str(trust.store_path()),
            "audit key": str(audit.key_path()),
            "device": dev.label(), "torch": dev.torch_version}
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:>11}: {value}")
    return 0


def _audit_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from medstation.commands._util import print_json
    from medstation.core import audit

    rows = audit.entries(action=args.action, text=args.text, limit=args.limit)
    if args.json:
        print_json([asdict(r) for r in rows])
        return 0
    for r in rows:
        model = f"  [{r.model} {r.model_version}]" if r.model else ""
        print(f"{r.seq:>6}  {r.ts}  {r.os_user:<10} {r.action:<10} {r.object}{model}  {r.detail}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from medstation.core import audit

    result = audit.verify()
    print(result.summary())
    return 0 if result.ok else 1


def _models_list(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.services import models

    bundles, errors = models.installed()
    if args.json:
        print_json({"models": [b.summary() for b in bundles], "errors": errors})
        return 0
    if not bundles:
        print("no model bundles installed")
    for b in bundles:
        labels = ", ".join(b.labels[:6]) + (" ..." if len(b.labels) > 6 else "")
        print(f"{b.name:<28} {b.version:<8} {b.pane:<10} {'/'.join(b.modalities) or '-':<6} {labels}")
        for problem in b.problems:
            print(f"    warning: {problem}")
        trusted, reason = b.trust()
        if not trusted:
            print(f"    untrusted, never loaded: {reason}")
    for error in errors:
        print(f"error: {error}")
    return 0


def _models_verify(args: argparse.Namespace) -> int:
    from medstation.services import models

    result = models.verify(args.name or ())
    for name, version, digest in result.passed:
        print(f"OK      {name} {version}  sha256 {digest}")
    for sentence in result.failed:
        print(f"FAILED  {sentence}")
    return 0 if result.ok else 1


def _models_trust(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medstation.core import trust
    from medstation.core.errors import MedStationError
    from medstation.inference import registry

    try:
        bundle = registry.load_bundle(Path(args.bundle)) if Path(args.bundle).is_dir() else \
            registry.find(args.bundle)
    except registry.BundleError as exc:
        raise MedStationError(str(exc), kept="the trust store is unchanged") from exc
    files = trust.weight_files(bundle.root, bundle.config.get("weights"))
    print(f"bundle {bundle.name} {bundle.version} at {bundle.root}")
    print(f"  task: {bundle.task or '-'}; format: {bundle.config.get('format', '-')}; network: "
          f"{bundle.config.get('network', '-')}; licence: {bundle.metadata.get('license', '-')}")
    for rel, digest in files.items():
        print(f"  {rel}  {(bundle.root / rel).stat().st_size:,} bytes  sha256 {digest}")
    if not files:
        raise MedStationError(f"{bundle.root}: no weight files under models/; nothing to trust",
                              kept="the trust store is unchanged")
    if any(rel.endswith((".ts", ".pt", ".pth")) for rel in files):
        print("  note: TorchScript is code and a .pt file may be TorchScript; trust only a bundle you know")
    if not args.yes and input("trust these weight files? [y/N] ").strip().lower() not in ("y", "yes"):
        print("not trusted; the trust store is unchanged")
        return 1
    from medstation.services import models

    entry = models.trust_bundle(bundle)
    print(f"trusted {bundle.name}: {len(entry['files'])} weight file(s) recorded in {trust.store_path()}")
    return 0
