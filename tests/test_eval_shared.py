"""Paths shared by the evaluation tests (tests/test_eval_*.py). Their fixtures (the session's embedder
`shared_embedder`, `eval_settings`) live in tests/conftest.py."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "eval"
TINY = FIXTURES / "tiny.jsonl"
