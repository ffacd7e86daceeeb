"""Export run records in the shapes other evaluation tools read (field mapping only; neither is a dependency).

- RAGAS ``SingleTurnSample``: user_input, retrieved_contexts, response, reference (+ reference_contexts).
- DeepEval ``LLMTestCase``: input, actual_output, expected_output, retrieval_context (+ context).

``retrieved_contexts`` / ``retrieval_context`` are the passages the answer cites (the chunk texts), or the
closest passages shown when it abstained; the gold quotes go to ``reference_contexts`` / ``context``.
Failed items are skipped (they have no response); ``skipped`` counts them.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMATS = ("ragas", "deepeval")


def _contexts(record: Mapping[str, Any]) -> list[str]:
    ans = record.get("answer") or {}
    cites = ans.get("citations") or ans.get("closest") or []
    return list(dict.fromkeys(c.get("passage") or "" for c in cites if c.get("passage")))


def _response(record: Mapping[str, Any]) -> str:
    return (record.get("answer") or {}).get("answer") or ""


def _question(record: Mapping[str, Any]) -> str:
    history = record.get("history") or []
    if not history:
        return record["question"]
    turns = " ".join(f"Q: {h['question']} A: {h['answer']}" for h in history)
    return f"{turns} Q: {record['question']}"


def to_ragas(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "user_input": _question(record),
        "retrieved_contexts": _contexts(record),
        "response": _response(record),
        "reference": record.get("reference_answer") or "",
        "reference_contexts": [g["quote"] for g in record.get("gold") or []],
    }


def to_deepeval(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "input": _question(record),
        "actual_output": _response(record),
        "expected_output": record.get("reference_answer") or "",
        "retrieval_context": _contexts(record),
        "context": [g["quote"] for g in record.get("gold") or []],
        "name": record.get("id"),
        "tags": list(record.get("tags") or []),
    }


def export_records(records: Iterable[Mapping[str, Any]], fmt: str) -> tuple[list[dict[str, Any]], int]:
    """(exported rows, number of failed records skipped)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    conv = to_ragas if fmt == "ragas" else to_deepeval
    rows, skipped = [], 0
    for r in records:
        if r.get("failed") or not r.get("answer"):
            skipped += 1
            continue
        rows.append(conv(r))
    return rows, skipped
