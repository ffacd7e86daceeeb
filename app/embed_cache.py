"""A bounded text -> vector cache in front of an embedding function, shared by the verifier and the
engines (passage sentences repeat across answers, so each is embedded once while it stays in use).

`EmbedFn` is the one definition of an embedding function's shape: a batch of texts in, one vector
per text out, in order.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterable

import numpy as np

EmbedFn = Callable[[list[str]], list[list[float]]]


class EmbeddingCache:
    """Vectors of texts, computed by `embed_fn` in one batch per call for the texts not cached yet.

    Holds at most `max_items` vectors; when full, the least recently used are evicted (a text looked
    up or added becomes the most recent), so a long session keeps the vectors it keeps using.
    """

    def __init__(self, embed_fn: EmbedFn, max_items: int = 20000):
        if max_items < 1:
            raise ValueError(f"expected max_items to be a positive int, got {max_items!r}")
        self.embed_fn = embed_fn
        self.max_items = max_items
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, text: object) -> bool:
        return text in self._vectors

    def vectors(self, texts: Iterable[str]) -> np.ndarray:
        """A float32 matrix with one row per text, in order (repeats allowed); shape (0, 0) for none."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        found: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            v = self._vectors.get(t)
            if v is not None:
                self._vectors.move_to_end(t)
                found[t] = v
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            for t, v in zip(todo, self.embed_fn(todo), strict=True):
                found[t] = self._vectors[t] = np.asarray(v, dtype=np.float32)
            while len(self._vectors) > self.max_items:  # evicted only after this call's rows are in hand
                self._vectors.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def clear(self) -> None:
        self._vectors.clear()
