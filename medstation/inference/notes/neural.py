"""The neural findings model: a bidirectional GRU over word embeddings trained here, read over the report's
findings and impression (negation-marked, as the linear model reads them), pooled, joined with the rule labeler's
states and mapped to present / uncertain / absent for every observation.

Words are hashed into ``buckets`` embedding rows (CRC32), so the weights hold no vocabulary and no report text.
Weights are a torch state dict (``model.pt``) loaded with ``weights_only=True``; the architecture's sizes and the
decision thresholds live in the bundle metadata (``medstation.network``).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any, Sequence

from medstation.inference.notes.classifier import (MODEL_NAME, RULE_STATES, STATES, TOKEN_PATTERN, FindingsModel,
                                                   mark_negation, model_texts, rule_features)

_TOKEN = re.compile(TOKEN_PATTERN)
MAX_TOKENS = 256
DEFAULT_NETWORK = {"buckets": 2 ** 14, "embedding": 64, "hidden": 64, "dense": 128, "dropout": 0.3}


def token_ids(text: str, buckets: int) -> list[int]:
    """Hashed word ids (1..buckets-1; 0 pads) of a negation-marked text, at most MAX_TOKENS."""
    words = _TOKEN.findall(mark_negation(text).lower())[:MAX_TOKENS]
    return [1 + zlib.crc32(w.encode()) % (buckets - 1) for w in words] or [1]


def build_network(n_labels: int, n_rule: int, buckets: int, embedding: int, hidden: int, dense: int,
                  dropout: float):
    """The torch module: embedding -> BiGRU -> max and mean pooling -> (+ rule states) -> dense -> logits."""
    import torch
    from torch import nn

    class FindingsGRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(buckets, embedding, padding_idx=0)
            self.gru = nn.GRU(embedding, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * hidden + n_rule, dense), nn.ReLU(),
                                      nn.Dropout(dropout), nn.Linear(dense, n_labels * len(STATES)))
            self.n_labels = n_labels

        def forward(self, ids, rules):
            mask = (ids > 0).unsqueeze(-1).float()
            out, _ = self.gru(self.embed(ids))
            pooled_max = (out - (1 - mask) * 1e4).max(dim=1).values
            pooled_mean = (out * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
            logits = self.head(torch.cat([pooled_max, pooled_mean, rules], dim=1))
            return logits.view(-1, self.n_labels, len(STATES))

    return FindingsGRU()


def batch_tensors(finding_texts: Sequence[str], buckets: int):
    """(token ids padded to the longest text, rule-state features) for texts already cut to their findings."""
    import torch

    ids = [token_ids(t, buckets) for t in finding_texts]
    padded = torch.zeros((len(ids), max(len(i) for i in ids)), dtype=torch.long)
    for row, seq in enumerate(ids):
        padded[row, :len(seq)] = torch.tensor(seq)
    return padded, torch.from_numpy(rule_features(finding_texts))


class SequenceClassifier(FindingsModel):
    """The trained network with its labels, sizes and thresholds."""

    family = "neural"

    def __init__(self, network, labels: Sequence[str], config: dict[str, Any], name: str = MODEL_NAME,
                 version: str = "dev", thresholds: dict[str, float] | None = None):
        self.network = network.eval()
        self.labels = list(labels)
        self.config = dict(config)
        self.name, self.version = name, version
        self.thresholds = dict(thresholds or {})

    @classmethod
    def new(cls, labels: Sequence[str], config: dict[str, Any] | None = None) -> "SequenceClassifier":
        config = {**DEFAULT_NETWORK, **(config or {})}
        from medstation.core.notes.lexicon import OBSERVATIONS

        network = build_network(len(labels), len(OBSERVATIONS) * len(RULE_STATES), **config)
        return cls(network, labels, config)

    def logits(self, finding_texts: Sequence[str]):
        ids, rules = batch_tensors(finding_texts, self.config["buckets"])
        return self.network(ids, rules)

    def predict_proba(self, texts: Sequence[str], batch: int = 256):
        """Array [n_texts, n_labels, 3] of P(present), P(uncertain), P(absent)."""
        import numpy as np
        import torch

        found = model_texts(texts)
        self.network.eval()
        parts = []
        with torch.inference_mode():
            for i in range(0, len(found), batch):
                parts.append(torch.softmax(self.logits(found[i:i + batch]), dim=-1).numpy())
        return np.concatenate(parts, axis=0).astype(float) if parts else np.zeros((0, len(self.labels), 3))

    def save(self, path: Path) -> None:
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(self.network.state_dict(), path)

    @classmethod
    def load_file(cls, path: Path, network_meta: dict[str, Any], name: str = MODEL_NAME,
                  version: str = "dev") -> "SequenceClassifier":
        """Rebuild the network from the metadata's sizes and load its weights (tensors only)."""
        import torch

        labels = network_meta["labels"]
        model = cls.new(labels, {k: network_meta[k] for k in DEFAULT_NETWORK})
        model.network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        model.network.eval()
        model.name, model.version = name, version
        model.thresholds = dict(network_meta.get("thresholds", {}))
        return model


def fit(model: SequenceClassifier, finding_texts: Sequence[str], targets, class_weights, epochs: int = 12,
        batch: int = 32, lr: float = 2e-3, seed: int = 0, on_epoch=None) -> None:
    """Train ``model`` in place with Adam on per-label weighted cross-entropy. ``targets`` is an int array
    [n_texts, n_labels] of state indices, ``class_weights`` a float array [n_labels, 3]; ``on_epoch(epoch,
    model)`` may return a score, and the weights of the best-scoring epoch are kept (early stopping)."""
    import copy

    import numpy as np
    import torch

    # one thread: a small GRU gains nothing from more, and on a busy 2-core machine OpenMP threads waiting on
    # each other made training tens of times slower
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    ids, rules = batch_tensors(finding_texts, model.config["buckets"])
    y = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    weights = torch.as_tensor(np.asarray(class_weights), dtype=torch.float32)
    optimiser = torch.optim.Adam(model.network.parameters(), lr=lr)
    best, best_state = -np.inf, None
    for epoch in range(epochs):
        model.network.train()
        order = torch.as_tensor(rng.permutation(len(y)))
        for start in range(0, len(y), batch):
            rows = order[start:start + batch]
            width = int((ids[rows] > 0).sum(dim=1).max())
            logits = model.network(ids[rows, :width], rules[rows])
            loss = sum(torch.nn.functional.cross_entropy(logits[:, j], y[rows, j], weight=weights[j])
                       for j in range(y.shape[1])) / y.shape[1]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        model.network.eval()
        score = on_epoch(epoch, model) if on_epoch else epoch
        if score is not None and score > best:
            best, best_state = score, copy.deepcopy(model.network.state_dict())
    if best_state is not None:
        model.network.load_state_dict(best_state)
    model.network.eval()
