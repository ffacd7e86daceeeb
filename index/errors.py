"""Configuration and store errors: these stop a command with one clear line."""
from __future__ import annotations


class IndexError_(Exception):
    """Base class; named with a trailing underscore so it never shadows the builtin."""


class EmbedderMismatch(IndexError_):
    pass


class StoreUnavailable(IndexError_):
    pass


class StoreInUse(IndexError_):
    pass
