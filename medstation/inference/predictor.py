"""Score every slice of a series with a loaded model: batched, through a bounded queue, cancellable, cached.

A reader thread prepares batches (intensity mapping, resizing, input identity) while the calling thread runs the
network, so preparation and inference overlap; the queue between them holds at most ``queue_size`` batches, which
bounds memory however long the series. Each slice's result is cached under (model sha256, slice identity).
Mixed precision (autocast, float16) is used on CUDA when the bundle allows it.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import numpy as np

from medstation.core.jobs import JobContext, null_context
from medstation.inference import preprocess
from medstation.inference.bundles import LoadedModel
from medstation.inference.cache import RESULTS, ResultCache, slice_identity

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
    """One forward pass of a prepared (n, 1, H, W) tensor; probabilities (n, labels)."""
    import torch

    with model.lock, torch.inference_mode(), autocast(model):
        logits = model.module(batch.to(model.device.torch_device, non_blocking=True))
    return probabilities(model, logits)


def score_of(model: LoadedModel, z: int, probs: np.ndarray) -> SliceScore:
    labels = model.labels
    best = int(np.argmax(probs))
    return SliceScore(z, tuple(round(float(p), 6) for p in probs), labels[best] if best < len(labels) else str(best),
                      float(probs[model.positive_index]))


class SlicePredictor:
    """Per-slice predictions of one model over volumes (medstation.core.imaging.model.Volume)."""

    def __init__(self, model: LoadedModel, batch_size: int | None = None, queue_size: int = 3,
                 cache: ResultCache | None = RESULTS):
        self.model = model
        self.batch_size = batch_size or (64 if model.device.kind == "cuda" else 8)
        self.queue_size = queue_size
        self.cache = cache

    def _key(self, identity: str) -> tuple[str, str, bool, str]:
        """(model sha256, device, autocast, input identity): float16 on a GPU is not bit-identical to the CPU."""
        return (self.model.sha256, self.model.device.torch_device, self.model.mixed_precision, identity)

    def _batches(self, volume, indices: Sequence[int], out: queue.Queue, stop: threading.Event) -> None:
        """Reader thread: put (indices, tensor-or-None, identities, cached scores) batches on ``out``."""
        try:
            for start in range(0, len(indices), self.batch_size):
                chunk = list(indices[start:start + self.batch_size])
                ids = [slice_identity(volume, z) for z in chunk]
                cached = {z: self.cache.get(self._key(i)) for z, i in zip(chunk, ids)} if self.cache else {}
                todo = [z for z in chunk if cached.get(z) is None]
                tensor = None
                if todo:
                    pixels = np.stack([volume.pixels[z] for z in todo])
                    tensor = preprocess.prepare(pixels, self.model.preprocess, self.model.input_shape)
                while not stop.is_set():
                    try:
                        out.put((chunk, todo, tensor, ids, cached), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # reported to the consumer, which raises it in the job
            out.put(exc)
            return
        out.put(_DONE)

    def iter_scores(self, volume, indices: Sequence[int] | None = None,
                    ctx: JobContext | None = None) -> Iterator[SliceScore]:
        """Scores in slice order as they are computed; stops promptly when ``ctx`` is cancelled."""
        ctx = ctx or null_context()
        indices = list(range(volume.shape[0])) if indices is None else list(indices)
        out: queue.Queue = queue.Queue(maxsize=self.queue_size)
        stop = threading.Event()
        reader = threading.Thread(target=self._batches, args=(volume, indices, out, stop), daemon=True,
                                  name="medstation-inference-reader")
        reader.start()
        done = 0
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                chunk, todo, tensor, ids, cached = item
                ctx.check()
                fresh = dict(zip(todo, run_batch(self.model, tensor))) if todo else {}
                for z, identity in zip(chunk, ids):
                    score = cached.get(z) or score_of(self.model, z, fresh[z])
                    if z in fresh and self.cache is not None:
                        self.cache.put(self._key(identity), score)
                    yield score
                done += len(chunk)
                ctx.progress(done, len(indices), f"{self.model.name}: slice {done} of {len(indices)}")
        finally:
            stop.set()
            reader.join(timeout=5)

    def predict(self, volume, indices: Sequence[int] | None = None, ctx: JobContext | None = None) -> list[SliceScore]:
        return list(self.iter_scores(volume, indices, ctx))
