"""The bounded embedding cache (app/embed_cache.py) shared by the verifier and the engines."""
import numpy as np
import pytest

from dossier.app.embed_cache import EmbeddingCache


def _counting_embed():
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return [[float(len(t)), 1.0] for t in texts]

    return embed, calls


def test_rows_in_order_with_repeats_and_one_batch_per_call():
    embed, calls = _counting_embed()
    cache = EmbeddingCache(embed, max_items=10)
    m = cache.vectors(["aa", "b", "aa"])
    assert m.dtype == np.float32 and m.shape == (3, 2)
    assert m[:, 0].tolist() == [2.0, 1.0, 2.0]
    assert calls == [["aa", "b"]]
    cache.vectors(["b", "ccc"])
    assert calls == [["aa", "b"], ["ccc"]]  # "b" came from the cache
    assert cache.vectors([]).shape == (0, 0)


def test_evicts_least_recently_used_not_everything():
    embed, calls = _counting_embed()
    cache = EmbeddingCache(embed, max_items=2)
    cache.vectors(["a", "bb"])
    cache.vectors(["a"])  # "a" is now the most recent
    cache.vectors(["ccc"])  # evicts "bb", keeps "a"
    assert len(cache) == 2 and "a" in cache and "ccc" in cache and "bb" not in cache
    calls.clear()
    cache.vectors(["a", "ccc"])
    assert calls == []


def test_a_batch_larger_than_the_cache_still_gets_all_its_rows():
    embed, _ = _counting_embed()
    cache = EmbeddingCache(embed, max_items=1)
    assert cache.vectors(["a", "bb", "ccc"])[:, 0].tolist() == [1.0, 2.0, 3.0]
    assert len(cache) == 1


def test_rejects_a_size_below_one():
    with pytest.raises(ValueError, match="max_items"):
        EmbeddingCache(lambda t: [], max_items=0)
