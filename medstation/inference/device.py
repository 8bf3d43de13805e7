"""Pick where inference runs: CUDA when present (unless overridden), else the CPU with a sensible thread count."""
from __future__ import annotations

from dataclasses import dataclass

from medstation.core.parallel import host_threads

VALID = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" or "cpu"
    name: str  # GPU name, or CPU description
    threads: int
    torch_version: str
    mixed_precision: bool  # autocast available for this device

    @property
    def torch_device(self) -> str:
        return "cuda:0" if self.kind == "cuda" else "cpu"

    def label(self) -> str:
        return f"CUDA: {self.name}" if self.kind == "cuda" else f"CPU ({self.threads} threads)"


def cpu_threads() -> int:
    """Threads for intra-op parallelism: the cores this process may use (respecting affinity), at least 1, or
    MEDSTATION_THREADS (the same count the host's decoding uses)."""
    return host_threads()


_configured: DeviceInfo | None = None


def select(preference: str = "auto") -> DeviceInfo:
    """Resolve ``auto|cpu|cuda`` to a device. Asking for CUDA where there is none is an error, not a silent CPU."""
    global _configured
    if preference not in VALID:
        raise ValueError(f"unknown device {preference!r}; choose one of {', '.join(VALID)}")
    import torch

    has_cuda = torch.cuda.is_available()
    if preference == "cuda" and not has_cuda:
        raise RuntimeError("CUDA was requested but no CUDA device is available to this torch build "
                           f"(torch {torch.__version__}); use --device cpu or auto")
    threads = cpu_threads()
    if preference in ("auto", "cuda") and has_cuda:
        info = DeviceInfo("cuda", torch.cuda.get_device_name(0), threads, torch.__version__, True)
    else:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        info = DeviceInfo("cpu", "CPU", threads, torch.__version__, False)
    _configured = info
    return info


def current(preference: str = "auto") -> DeviceInfo:
    return _configured if _configured is not None else select(preference)
