"""Grading tab: evaluators judge each (answer sentence, cited passage) pair; labels are appended to
`<data_dir>/grading/labels.jsonl` in the format of `eval/datasets/support-labels.jsonl`
(id, sentence, passage, label, note, source) plus where the pair came from (question, doc_id,
chunk_id, start, end, grader, at). The passage is the cited chunk: what the verifier checks."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from dossier.app.answer_models import Answer, Citation

LABELS = ("supports", "partly", "doesnt")
LABEL_TEXT = {"supports": "supports", "partly": "partly supports", "doesnt": "doesn't support"}
_append_lock = threading.Lock()


def load_questions(path: Path | None, limit: int = 1000) -> list[dict]:
    """{"id", "question", "history"} items of a seed-dev style JSONL file (read directly; malformed
    lines are skipped). Missing file: no items."""
    if path is None or not Path(path).is_file():
        return []
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("question"), str) and obj["question"].strip():
            hist = [h for h in obj.get("history") or [] if isinstance(h, dict) and "question" in h and "answer" in h]
            out.append({"id": str(obj.get("id", len(out) + 1)), "question": obj["question"].strip(), "history": hist})
        if len(out) >= limit:
            break
    return out


@dataclass(frozen=True)
class Pair:
    sentence_index: int  # 1-based
    sentence: str
    support: str  # the verifier's verdict
    citation: Citation


def pairs(answer: Answer | None) -> list[Pair]:
    """Every (sentence, citation) pair of an answer, in reading order."""
    if answer is None or answer.abstained:
        return []
    by_n = {c.n: c for c in answer.citations}
    return [Pair(i, s.text, s.support, by_n[n]) for i, s in enumerate(answer.sentences, 1) for n in s.citations if n in by_n]


def label_records(answer: Answer, labels: Sequence[str | None], notes: Sequence[str | None], grader: str,
                  at: str | None = None) -> list[dict]:
    """One record per pair that got a label (unlabelled pairs are skipped). `labels[i]`/`notes[i]`
    belong to `pairs(answer)[i]`."""
    at = at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    grader = (grader or "").strip() or "anonymous"
    out = []
    for i, p in enumerate(pairs(answer)):
        label = labels[i] if i < len(labels) else None
        if not label:
            continue
        if label not in LABELS:
            raise ValueError(f"label: expected one of {', '.join(LABELS)}, got {label!r}")
        c = p.citation
        key = "|".join([answer.question, p.sentence, c.chunk_id, str(c.start), str(c.end), grader, at])
        out.append({
            "id": "gt-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12],
            "sentence": p.sentence,
            "passage": c.passage,
            "label": label,
            "note": ((notes[i] if i < len(notes) else "") or "").strip(),
            "source": "grading-tab",
            "question": answer.question,
            "doc_id": c.doc_id,
            "chunk_id": c.chunk_id,
            "start": c.start,
            "end": c.end,
            "grader": grader,
            "at": at,
        })
    return out


def append_labels(path: Path, records: Sequence[dict]) -> int:
    """Append records as JSONL lines (one write per call, serialized across sessions)."""
    if not records:
        return 0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with _append_lock, path.open("a", encoding="utf-8") as fh:
        fh.write(data)
    return len(records)


def count_labels(path: Path) -> int:
    path = Path(path)
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
