"""Remote inference and cohort runs: the remote backend's overhead per 512x512 slice over loopback (gRPC and HTTP,
against local scoring in the same process), ``medstation serve`` throughput with 1 and 4 concurrent clients, and a
cohort run on local Ray with 1 and 2 workers (the scaling ratio). Real CT (pyradiomics lung2), the shipped
lesion_ct model. Needs the server and cluster extras; figures are skipped with the reason where they are missing.
On a machine whose cores are shared, the server and its clients compete for the same CPUs: the overhead figure is
what the protocol adds here, not a property of a separate GPU server."""
from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.bench_inference import _ct_slices, _series

BATCH = 8


def _per_slice(score, volume, repeats: int = 3) -> float:
    """Median seconds per slice of scoring ``volume`` ``repeats`` times (after one warm-up run)."""
    score(volume)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        score(volume)
        times.append((time.perf_counter() - start) / volume.shape[0])
    return statistics.median(times)


def _remote(report, slices, home: Path) -> None:
    from medstation.core.settings import Settings
    from medstation.inference import bundles, device, registry
    from medstation.inference.predictor import SlicePredictor
    from medstation.inference.remote import RemoteModel, RemoteSettings
    from tests.server.helpers import ServerProcess

    server = ServerProcess(home / "server")
    try:
        Settings()  # the benchmark's own home
        local = bundles.load(registry.find("lesion_ct"), device.select("cpu"))
        volume = _series(slices, 32)
        local_s = _per_slice(lambda v: SlicePredictor(local, batch_size=BATCH, cache=None).predict(v), volume)
        report("local: 512x512 slice scored (batch 8)", local_s * 1000, "ms/slice", None, "reference, same process")
        hu16 = replace(volume, pixels=np.round(volume.pixels).astype(np.int16))  # CT as the loader keeps it
        for scheme, port, series in (("grpc", server.grpc_port, volume), ("grpc", server.grpc_port, hu16),
                                     ("http", server.http_port, volume)):
            model = RemoteModel(registry.find("lesion_ct"), RemoteSettings(f"{scheme}://127.0.0.1:{port}")).connect()
            remote_s = _per_slice(lambda v: list(model.iter_scores(v, batch_size=BATCH)), series)
            server_s = model.server_ms / 1000 / (4 * series.shape[0])  # warm-up + 3 timed runs
            wire = "INT16" if series.pixels.dtype == np.int16 else "FP32"
            report(f"remote {scheme} over loopback ({wire} pixels): overhead per slice", (remote_s - server_s) * 1000,
                   "ms/slice", "< 20 ms",
                   f"round trip {remote_s * 1000:.1f} ms less server compute {server_s * 1000:.1f} ms; "
                   f"{model.sent_bytes / (4 * series.shape[0]) / 1e6:.2f} MB sent per slice; "
                   f"local scoring {local_s * 1000:.1f} ms (ratio remote/local {remote_s / local_s:.2f})")
        _throughput(report, server, slices)
    finally:
        server.stop()


def _throughput(report, server, slices) -> None:
    from medstation.inference import registry
    from medstation.inference.remote import RemoteModel, RemoteSettings

    volume = _series(slices, 24)
    rates = {}
    for clients in (1, 4):
        models = [RemoteModel(registry.find("lesion_ct"), RemoteSettings(f"grpc://127.0.0.1:{server.grpc_port}"))
                  .connect() for _ in range(clients)]
        start = time.perf_counter()
        threads = [threading.Thread(target=lambda m=m: list(m.iter_scores(volume, batch_size=4))) for m in models]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        rates[clients] = clients * volume.shape[0] / (time.perf_counter() - start)
        report(f"server throughput, {clients} concurrent gRPC client(s)", rates[clients], "slices/s", None,
               f"requests of 4 slices, {volume.shape[0]} slices per client" +
               (f"; {rates[4] / rates[1]:.2f}x one client (server batching)" if clients == 4 else ""))


def _ray(report, slices, home: Path) -> None:
    from medstation.services import cohort as service
    from medstation.services.cohort import CohortOptions
    from tests.inference.helpers import write_ct_series

    import ray

    source, warm = home / "cohort", home / "warm-up"
    for i in range(8):
        write_ct_series(source / f"s{i}", list(_series(slices, 8).pixels + i))
    for i in range(2):
        write_ct_series(warm / f"s{i}", list(_series(slices, 2).pixels + 100 + i))
    rates = {}
    for workers in (1, 2):
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:  # workers start and load the model once; the timed run measures the steady state
            service.run_cohort(warm, CohortOptions("lesion_ct", home / f"warm{workers}", explain="none", dicom=False))
            runs = [service.run_cohort(source, CohortOptions("lesion_ct", home / f"out{workers}-{i}", explain="none",
                                                             dicom=False)) for i in range(2)]
        finally:
            ray.shutdown()
        seconds = min(r.seconds for r in runs)  # the better of two: the machine's other load only slows runs down
        rates[workers] = runs[0].scored / seconds
        report(f"cohort on local Ray, {workers} worker(s): 8 series x 8 slices", rates[workers], "series/s", None,
               f"{seconds:.1f} s (best of 2), workers warm, load average {os.getloadavg()[0]:.1f}" +
               (f"; scaling {rates[2] / rates[1]:.2f}x of 1 worker on this 2-core machine" if workers == 2 else ""))


def run(report) -> None:
    home = Path(tempfile.mkdtemp(prefix="ms-bench-server-"))
    os.environ.setdefault("MEDSTATION_HOME", str(home / "client"))
    slices = _ct_slices()
    if importlib.util.find_spec("kserve") and importlib.util.find_spec("tritonclient"):
        _remote(report, slices, home)
    else:
        print("  server extra not installed: remote overhead and server throughput not measured")
    if importlib.util.find_spec("ray"):
        _ray(report, slices, home)
    else:
        print("  cluster extra not installed: Ray scaling not measured")
    print("  GPU: not measured in this run (no GPU); see docs/scaling.md for the model built on the GPU figures")
