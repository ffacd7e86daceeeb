"""tiktoken, offline: the encodings bundled with llama-index-core are used as tiktoken's cache."""
from __future__ import annotations

import functools
import os
from pathlib import Path


def _bundled_cache_dir() -> str | None:
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
    return str(path) if path.is_dir() else None


@functools.lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """Return a tiktoken encoding without touching the network."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        cache = _bundled_cache_dir()
        if cache:
            os.environ["TIKTOKEN_CACHE_DIR"] = cache
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
