"""Score every slice of a series with a loaded model: batched, through a bounded queue, cancellable, cached.

A reader thread decodes batches (``feed.batches``: a thread pool, slices in order, stored values) and preprocesses
them on the inference device (a side stream on CUDA) while the calling thread runs the network, so decoding,
preprocessing and inference overlap; the queue between them holds at most ``queue_size`` batches, which bounds
memory however long the series. Each
slice's result is cached under (model sha256, slice identity). Mixed precision (autocast, float16) is used on CUDA
when the bundle allows it. ``timings`` splits the time into host decoding, device preprocessing and the network.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.core.parallel import io_threads
from medstation.inference import feed, preprocess
from medstation.inference.bundles import LoadedModel
from medstation.inference.cache import RESULTS, ResultCache

_DONE = object()


@dataclass(frozen=True)
class SliceScore:
    index: int
    probabilities: tuple[float, ...]  # one per label
    label: str  # the most probable label
    score: float  # probability of the model's positive label ("lesion")

    def as_dict(self) -> dict:
        return asdict(self)


def probabilities(model: LoadedModel, logits) -> np.ndarray:
    """Network outputs -> probabilities (n, labels) as the bundle declares (softmax, sigmoid or already)."""
    import torch

    logits = logits.float()
    if model.output == "softmax":
        probs = torch.softmax(logits, dim=1)
    elif model.output == "sigmoid":
        probs = torch.sigmoid(logits)
        if probs.shape[1] == 1 and len(model.labels) == 2:
            probs = torch.cat([1 - probs, probs], dim=1)
    else:
        probs = logits
    return probs.detach().cpu().numpy()


def autocast(model: LoadedModel):
    """float16 autocast on CUDA where the bundle allows it; nothing on the CPU."""
    if model.mixed_precision:
        import torch

        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def run_batch(model: LoadedModel, batch) -> np.ndarray:
    """One forward pass of a prepared (n, 1, H, W) tensor (moved to the model's device if it is not there);
    probabilities (n, labels)."""
    import torch

    with model.lock, torch.inference_mode(), autocast(model):
        logits = model.module(batch.to(model.device.torch_device, non_blocking=True))
    return probabilities(model, logits)


def score_of(model: LoadedModel, z: int, probs: np.ndarray) -> SliceScore:
    labels = model.labels
    best = int(np.argmax(probs))
    return SliceScore(z, tuple(round(float(p), 6) for p in probs), labels[best] if best < len(labels) else str(best),
                      float(probs[model.positive_index]))


def _put(out: queue.Queue, item, stop: threading.Event) -> bool:
    """Queue ``item`` unless the consumer stopped first (then False): a full queue never holds the reader."""
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


@dataclass
class Timings:
    """Where a series' time went: host decoding (summed over the decoding threads), the network's thread waiting
    for prepared batches, preprocessing on the device (overlapping the network; on CUDA its launch time unless the
    predictor is ``timed``) and the network."""
    slices: int = 0
    decode_s: float = 0.0
    wait_s: float = 0.0
    preprocess_s: float = 0.0
    model_s: float = 0.0
    wall_s: float = 0.0

    def per_slice_ms(self) -> dict[str, float]:
        n = max(self.slices, 1)
        return {k: getattr(self, k) * 1000.0 / n for k in ("decode_s", "wait_s", "preprocess_s", "model_s", "wall_s")}


class SlicePredictor:
    """Per-slice predictions of one model over volumes (medstation.core.imaging.model.Volume) or slice sources
    (``feed.FileSlices``: one file per slice, decoded on ``workers`` threads while the device works)."""

    def __init__(self, model: LoadedModel, batch_size: int | None = None, queue_size: int = 3,
                 cache: ResultCache | None = RESULTS, workers: int | None = None, timed: bool = False):
        self.model = model
        self.batch_size = batch_size or (64 if model.device.kind == "cuda" else 8)
        self.queue_size = queue_size
        self.cache = cache
        self.workers = workers or io_threads()
        self.timed = timed  # CUDA: wait for each batch's preprocessing so that ``timings`` splits the stages
        self.timings = Timings()
        self.failures: list[tuple[int, str]] = []  # (slice index, sentence naming its file) of slices not scored
        self._stream = None  # CUDA: the side stream that preprocessing runs on

    def _key(self, identity: str) -> tuple[str, str, bool, str]:
        """(model sha256, device, autocast, input identity): float16 on a GPU is not bit-identical to the CPU."""
        return (self.model.sha256, self.model.device.torch_device, self.model.mixed_precision, identity)

    def _cached(self, identity: str):
        return self.cache.get(self._key(identity)) if self.cache is not None else None

    def _reader(self, source, indices: Sequence[int], out: queue.Queue, stop: threading.Event) -> None:
        """Reader thread: decode, move to the device and preprocess each batch (``_prepare``), then put it on
        ``out`` in order; finally _DONE (or the exception, which the consumer raises in the job)."""
        try:
            pin = self.model.device.kind == "cuda"
            cached = self._cached if self.cache is not None else None
            for batch in feed.batches(source, indices, self.batch_size, self.workers, pin, cached):
                self._prepare(batch)
                if not _put(out, batch, stop):
                    return
        except BaseException as exc:  # reported to the consumer, which raises it in the job
            _put(out, exc, stop)
            return
        _put(out, _DONE, stop)

    def _prepare(self, batch: feed.Batch) -> None:
        """The batch's network input, made on the device from its stored values. On CUDA this runs on a side
        stream and records an event, so the copy and the preprocessing of batch k+1 overlap the network's work on
        batch k; on the CPU it overlaps too, in this thread (in the network's thread it slowed both down)."""
        if not batch.todo:
            return
        started = time.perf_counter()
        args = (self.model.preprocess, self.model.input_shape, self.model.device.torch_device, batch.rescale)
        if self.model.device.kind == "cuda":
            import torch

            if self._stream is None:
                self._stream = torch.cuda.Stream(device=self.model.device.torch_device)
            with torch.cuda.stream(self._stream):
                batch.prepared = preprocess.prepare(batch.host, *args)
                batch.ready = torch.cuda.Event()
                batch.ready.record(self._stream)
            if self.timed:
                batch.ready.synchronize()
        else:
            batch.prepared = preprocess.prepare(batch.host, *args)
        batch.host = None
        batch.preprocess_s = time.perf_counter() - started

    def _forward(self, batch: feed.Batch) -> dict[int, np.ndarray]:
        """Run the network on one prepared batch: {slice index: probabilities}."""
        if batch.ready is not None:  # CUDA: the network's stream waits for the side stream's preprocessing
            import torch

            stream = torch.cuda.current_stream()
            stream.wait_event(batch.ready)
            batch.prepared.record_stream(stream)
        started = time.perf_counter()
        probs = run_batch(self.model, batch.prepared)  # ends by copying the probabilities back: synchronised
        self.timings.model_s += time.perf_counter() - started
        self.timings.preprocess_s += batch.preprocess_s
        return dict(zip(batch.todo, probs))

    def iter_scores(self, volume, indices: Sequence[int] | None = None,
                    ctx: JobContext | None = None) -> Iterator[SliceScore]:
        """Scores in slice order as they are computed (slices that could not be decoded are left out and listed in
        ``failures``; a MedStationError when none could); stops promptly when ``ctx`` is cancelled."""
        ctx = ctx or null_context()
        source = feed.as_source(volume)
        self.failures = []
        indices = list(range(len(source))) if indices is None else list(indices)
        out: queue.Queue = queue.Queue(maxsize=self.queue_size)
        stop = threading.Event()
        reader = threading.Thread(target=self._reader, args=(source, indices, out, stop), daemon=True,
                                  name="medstation-inference-reader")
        began = time.perf_counter()
        reader.start()
        done = 0
        try:
            while True:
                waited = time.perf_counter()
                item = out.get()
                self.timings.wait_s += time.perf_counter() - waited
                if item is _DONE:
                    if self.failures and len(self.failures) == len(indices):
                        raise MedStationError(f"no slice could be scored: {self.failures[0][1].rstrip('.')}"
                                              + (f" (and {len(indices) - 1} more)" if len(indices) > 1 else ""))
                    return
                if isinstance(item, BaseException):
                    raise item
                ctx.check()
                yield from self._scores_of(item)
                done += len(item.indices)
                ctx.progress(done, len(indices), f"{self.model.name}: slice {done} of {len(indices)}")
        finally:
            stop.set()
            reader.join(timeout=5)
            self.timings.wall_s += time.perf_counter() - began

    def _scores_of(self, batch: feed.Batch) -> Iterator[SliceScore]:
        fresh = self._forward(batch) if batch.todo else {}
        self.timings.decode_s += batch.seconds
        self.timings.slices += len(batch.indices)
        for z in batch.indices:
            item = batch.loaded[z]
            if item.error:
                self.failures.append((z, item.error))
                continue
            if z not in fresh:
                yield item.cached
                continue
            score = score_of(self.model, z, fresh[z])
            if self.cache is not None:
                self.cache.put(self._key(item.identity), score)
            yield score

    def predict(self, volume, indices: Sequence[int] | None = None, ctx: JobContext | None = None) -> list[SliceScore]:
        return list(self.iter_scores(volume, indices, ctx))
