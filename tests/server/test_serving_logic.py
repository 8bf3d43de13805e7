"""Serving logic that needs no server extra: request batching and per-workstation tokens."""
from __future__ import annotations

import asyncio

import numpy as np


def test_batcher_runs_concurrent_requests_as_one_forward_pass():
    from medstation.services.serving import Batcher

    calls = []

    def run(stacked):
        calls.append(stacked.shape)
        return stacked.reshape(len(stacked), -1).sum(1, keepdims=True)

    async def three_clients():
        batcher = Batcher(run, window=0.05)
        parts = [np.full((n, 8, 8), float(n)) for n in (1, 2, 3)]
        return await asyncio.gather(*(batcher.submit(p) for p in parts)), batcher.batches

    answers, batches = asyncio.run(three_clients())
    assert calls == [(6, 8, 8)] and batches == 1
    assert [a[0].ravel().tolist() for a in answers] == [[64.0], [128.0, 128.0], [192.0] * 3]
    assert [a[1] for a in answers] == [3, 3, 3]


def test_batcher_keeps_16_bit_and_float_requests_apart():
    from medstation.services.serving import Batcher

    calls = []

    def run(stacked):
        calls.append((stacked.dtype.name, len(stacked)))
        return stacked.reshape(len(stacked), -1).astype(np.float64).sum(1, keepdims=True)

    async def clients():
        batcher = Batcher(run, window=0.05)
        parts = [np.full((2, 8, 8), -1000, np.int16), np.full((1, 8, 8), 0.5, np.float32),
                 np.full((3, 8, 8), 40, np.int16)]
        return await asyncio.gather(*(batcher.submit(p) for p in parts))

    answers = asyncio.run(clients())
    assert sorted(calls) == [("float32", 1), ("int16", 5)]  # no int16 widened to float, no float cut to int16
    assert [a[0].ravel().tolist() for a in answers] == [[-64000.0] * 2, [32.0], [2560.0] * 3]


def test_tokens_belong_to_their_workstation():
    from medstation.services.serving import token_ok

    tokens = {"ws-1": "alpha", "ws-2": "beta"}
    assert token_ok(tokens, "ws-1", "Bearer alpha")
    assert not token_ok(tokens, "ws-1", "Bearer beta") and not token_ok(tokens, "ws-3", "Bearer alpha")
    assert not token_ok(tokens, "ws-1", "") and token_ok({}, "", "")
