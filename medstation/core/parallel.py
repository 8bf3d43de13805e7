"""Work done ahead on a bounded thread pool, handed back in order.

``ordered_map(fn, items, workers, ahead)`` runs ``fn`` on ``items`` on ``workers`` threads, keeps at most ``ahead``
calls submitted and not yet handed back (so memory stays bounded), and yields the results in the order of ``items``
whatever order the calls finish in. A call that raised raises at its place in the order, as a plain loop would.
When the consumer stops early (it raised, was cancelled, or closed the generator), calls not yet started are
dropped and the running ones are waited for, so no thread outlives the loop. With ``workers`` 0 the calls run one
by one in the consumer's thread, nothing ahead.

The series loader decodes a compressed series with it and ``medstation infer`` loads the next series with it. The
inference feed (``inference/feed.py``) keeps ``Executor.map`` per batch: its reader thread already runs ahead of
the network by a bounded queue of batches, and memory there is bounded to those batches.

``host_threads()`` is the number of threads host-side work (decoding, reading) may use: ``MEDSTATION_THREADS``
when set, else the cores this process may run on.
"""
from __future__ import annotations

import logging
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def host_threads() -> int:
    """The cores this process may use (respecting affinity), or ``MEDSTATION_THREADS``; at least 1."""
    override = os.environ.get("MEDSTATION_THREADS", "").strip()
    if override:
        try:
            return max(1, int(override))
        except ValueError:  # a typo in the environment must not stop the workstation: the cores are used
            logging.getLogger(__name__).warning(
                "MEDSTATION_THREADS=%r is not a whole number; using the cores this process may run on", override)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def io_threads() -> int:
    """Threads for reading and decoding files or slices: ``host_threads()`` kept between 2 (reads wait on the disk)
    and 8 (more only contend for the same cores and memory bandwidth)."""
    return max(2, min(8, host_threads()))


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int, ahead: int | None = None,
                name: str = "medstation-ahead") -> Iterator[R]:
    """``fn(item)`` for each item, in order, computed on ``workers`` threads up to ``ahead`` items ahead of the
    consumer (default twice the workers)."""
    if workers <= 0:
        for item in items:
            yield fn(item)
        return
    limit = max(1, ahead if ahead is not None else 2 * workers)
    source = iter(items)
    pending: deque = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
    try:
        def fill() -> None:
            while len(pending) < limit:
                try:
                    item = next(source)
                except StopIteration:
                    return
                pending.append(pool.submit(fn, item))

        fill()
        while pending:
            future = pending.popleft()
            result = future.result()  # raises the call's exception at its place in the order
            fill()  # the next call starts before this result is handed over
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # calls not started are dropped, running ones waited for
