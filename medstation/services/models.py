"""The model service: which model bundles are installed, whether their weights match their sha256, and loading one
onto the selected device - for Tools > Models, the Imaging pane's "why" panel, ``medstation models`` and
``medstation infer``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from medstation.core.jobs import JobContext


@dataclass
class Verification:
    passed: list[tuple[str, str, str]] = field(default_factory=list)  # name, version, sha256
    failed: list[str] = field(default_factory=list)  # one sentence per bundle that failed or is missing

    @property
    def ok(self) -> bool:
        return not self.failed


def installed(extra_dirs: Iterable[str] = ()):
    """(bundles, sentences for folders that could not be read as bundles)."""
    from medstation.inference import registry

    return registry.discover(extra_dirs)


def verify(names: Iterable[str] = (), extra_dirs: Iterable[str] = (), ctx: JobContext | None = None) -> Verification:
    """Check the weights of the named bundles (all when ``names`` is empty) against their recorded sha256."""
    from medstation.inference import registry

    bundles, errors = installed(extra_dirs)
    names = list(names)
    if names:
        bundles = [b for b in bundles if b.name in names or b.root.name in names]
        missing = set(names) - {b.name for b in bundles} - {b.root.name for b in bundles}
        errors = errors + [f"no model named {m!r}" for m in sorted(missing)]
    result = Verification(failed=list(errors))
    for i, bundle in enumerate(bundles):
        if ctx is not None:
            ctx.progress(i, len(bundles), f"verifying {bundle.name}")
        try:
            result.passed.append((bundle.name, bundle.version, bundle.verify()))
        except registry.BundleError as exc:
            result.failed.append(str(exc))
    return result


def load(name: str, preference: str = "auto", extra_dirs: Iterable[str] = ()):
    """The bundle ``name`` loaded (sha256 checked) onto the device chosen by ``preference`` (auto, cpu, cuda)."""
    from medstation.core.errors import MedStationError
    from medstation.inference import bundles, device

    try:
        dev = device.select(preference)
    except (RuntimeError, ValueError) as exc:
        raise MedStationError(str(exc)) from exc
    return bundles.load_named(name, dev, extra_dirs)


def trust_bundle(bundle) -> dict:
    """Record the sha256 of every weight file of ``bundle`` in the site trust store (``core.trust``); audited."""
    from medstation.core import audit, trust

    entry = trust.trust(bundle.root, bundle.name)
    audit.record("trust", str(bundle.root), model=bundle.name, model_version=bundle.version,
                 detail="; ".join(f"{rel} sha256 {digest}" for rel, digest in entry["files"].items()))
    return entry


def trusted(bundle) -> bool:
    """Whether ``bundle``'s weights may be loaded: shipped manifest or site trust store (``core.trust``)."""
    return bundle.trust()[0]


def run_notes(bundle) -> list[str]:
    """For a bundle published as MONAI config: its task, trust, MONAI version and what MedStation leaves out."""
    if not bundle.published:
        return []
    from importlib.metadata import PackageNotFoundError, version

    from medstation.inference import bundle_config

    state = "trusted" if trusted(bundle) else "NOT trusted yet (medstation models trust)"
    notes = [f"Task: {bundle.kind}; weights {state}"]
    try:
        installed_monai = version("monai")
    except PackageNotFoundError:
        installed_monai = "?"
    if bundle.monai_version and bundle.monai_version != installed_monai:
        notes.append(f"Written for MONAI {bundle.monai_version}; runs with the installed MONAI {installed_monai} "
                     "(renamed or removed arguments are migrated when it loads, or the bundle is refused)")
    try:
        notes += [f"Left out: {d}" for d in bundle_config.describe(bundle.root)["dropped"]]
    except bundle_config.ConfigError as exc:
        notes.append(f"Refused: {exc}")
    return notes
