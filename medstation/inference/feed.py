"""Feeding slices to the inference device: the host only decodes, in a thread pool, batch by batch, in order.

A slice source says how many slices it has and loads one as stored values with its rescale (slope, intercept):
``VolumeSlices`` takes them from a loaded ``Volume`` (already modality values), ``FileSlices`` decodes one DICOM
file per slice. ``batches`` decodes each batch's slices on ``workers`` threads (pydicom's decoders and file reads
release the GIL for much of their work) and yields them in slice order as host tensors (pinned on CUDA) for the
device to rescale, map and resize (``preprocess.prepare``). A slice that cannot be loaded is reported with a
sentence naming its file; the others are scored.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from medstation.core.errors import MedStationError
from medstation.inference import preprocess
from medstation.inference.cache import pixels_identity, slice_identity


@dataclass
class Loaded:
    """One slice off the host: its stored values and rescale, its cache identity, or why it could not be read."""
    index: int
    pixels: np.ndarray | None = None
    rescale: tuple[float, float] = (1.0, 0.0)
    identity: str = ""
    error: str = ""
    seconds: float = 0.0  # time its decoding took on one thread
    cached: object = None  # its result from the cache, when it has one


@dataclass
class Batch:
    """Slices ``indices`` (in order) of which ``todo`` go to the device as ``host`` with ``rescale`` (or None when
    every slice is already in modality units); the rest were cached or failed (``loaded`` says which)."""
    indices: list[int]
    loaded: dict[int, Loaded]
    todo: list[int] = field(default_factory=list)
    host: object = None
    rescale: np.ndarray | None = None
    seconds: float = 0.0  # host time of the batch: decoding (summed over threads) and stacking
    prepared: object = None  # the network's input on the device, once made from ``host``
    ready: object = None  # CUDA: the event recorded when ``prepared`` is complete
    preprocess_s: float = 0.0


class VolumeSlices:
    """The slices of a loaded Volume (modality values; nothing left to decode)."""

    def __init__(self, volume):
        self.volume = volume

    def __len__(self) -> int:
        return int(self.volume.shape[0])

    def name(self, z: int) -> str:
        files = self.volume.files
        return files[z] if z < len(files) and files[z] else f"slice {z + 1}"

    def load(self, z: int) -> tuple[np.ndarray, float, float]:
        return self.volume.pixels[z], 1.0, 0.0

    def identity(self, z: int, pixels: np.ndarray, rescale: tuple[float, float]) -> str:
        return slice_identity(self.volume, z)


class FileSlices:
    """One DICOM file per slice, in the order given, decoded to stored values when the batch needs them."""

    def __init__(self, paths: Sequence[str]):
        self.paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self.paths)

    def name(self, z: int) -> str:
        return self.paths[z]

    def load(self, z: int) -> tuple[np.ndarray, float, float]:
        from medstation.core.imaging import decode

        return decode.stored_slice(self.paths[z])

    def identity(self, z: int, pixels: np.ndarray, rescale: tuple[float, float]) -> str:
        return pixels_identity(f"{self.paths[z]}#{z}", pixels, f"{rescale[0]!r},{rescale[1]!r}")


def as_source(source):
    """A slice source as it is, or a Volume wrapped as one."""
    return source if hasattr(source, "load") and hasattr(source, "identity") else VolumeSlices(source)


def load(source, z: int, identify: bool = True) -> Loaded:
    """Decode slice ``z`` (with its cache identity when ``identify``); a failure becomes a sentence naming the
    file."""
    started = time.perf_counter()
    try:
        pixels, slope, intercept = source.load(z)
        pixels = np.asarray(pixels)
        if pixels.ndim != 2:
            raise MedStationError(f"{source.name(z)}: {pixels.ndim}-dimensional pixels, not one greyscale slice")
        rescale = (float(slope), float(intercept))
        item = Loaded(z, pixels, rescale, source.identity(z, pixels, rescale) if identify else "")
    except MedStationError as exc:
        item = Loaded(z, error=exc.sentence())
    except Exception as exc:  # noqa: BLE001 - a decoder's own error stays with its file; the series goes on
        item = Loaded(z, error=f"cannot decode {source.name(z)} ({type(exc).__name__}: {str(exc)[:160]})")
    item.seconds = time.perf_counter() - started
    return item


def _consistent(source, items: list[Loaded], shape: list) -> None:
    """Slices must share the first decoded slice's size to travel in one batch; others fail with the reason."""
    for item in items:
        if item.error:
            continue
        if not shape:
            shape.append(item.pixels.shape)
        elif item.pixels.shape != shape[0]:
            rows, cols = item.pixels.shape
            item.error = (f"{source.name(item.index)}: {rows}x{cols} pixels where the series has "
                          f"{shape[0][0]}x{shape[0][1]}; this slice was not scored")
            item.pixels = None


def batches(source, indices: Sequence[int], size: int, workers: int, pin: bool = False,
            cached=None) -> Iterator[Batch]:
    """Decoded batches of ``indices`` in order; ``cached(identity)`` (a result or None) answers the slices that
    need no device work."""
    shape: list = []
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="medstation-decode") as pool:
        for start in range(0, len(indices), size):
            chunk = list(indices[start:start + size])
            items = list(pool.map(lambda z: load(source, z, cached is not None), chunk))
            began = time.perf_counter()
            _consistent(source, items, shape)
            batch = Batch(chunk, {item.index: item for item in items})
            for item in items:
                item.cached = cached(item.identity) if cached is not None and not item.error else None
            batch.todo = [i.index for i in items if not i.error and i.cached is None]
            if batch.todo:
                todo = [batch.loaded[z] for z in batch.todo]
                batch.host = preprocess.host_tensor([i.pixels for i in todo], pin)
                rescale = np.asarray([i.rescale for i in todo], dtype=np.float64)
                batch.rescale = None if (rescale == (1.0, 0.0)).all() else rescale
                for item in todo:
                    item.pixels = None  # the batch holds them now
            batch.seconds = sum(i.seconds for i in items) + time.perf_counter() - began
            yield batch
