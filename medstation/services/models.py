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
