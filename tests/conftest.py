"""Shared pytest fixtures."""
from __future__ import annotations

import pytest

from tests.llm_server import LLMServerError, running_llm_server


@pytest.fixture(scope="session")
def llm_server():
    """Base URL ("http://127.0.0.1:PORT/v1") of a real llama.cpp server running SmolLM2-135M-Instruct."""
    try:
        with running_llm_server() as base_url:
            yield base_url
    except LLMServerError as e:
        pytest.fail(f"llama.cpp server fixture: {e}", pytrace=False)
