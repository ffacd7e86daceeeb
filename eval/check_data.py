"""The draft-check datasets (`eval/datasets/check-dev.jsonl`, `check-heldout.jsonl`): draft sentences
labelled supported / contradicted / unsupported with their evidence span; load, validate, resolve spans.

Schema (one JSON object a line, exactly these keys; `eval/datasets/README.md`):

    {"id", "sentence", "label": "supported|contradicted|unsupported",
     "slot": "number|year|name|role|organisation|polarity" for contradicted, "" otherwise,
     "evidence": [{"doc", "quote"}] (>= 1 for supported/contradicted, [] for unsupported), "note"}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .dataset import DatasetError, GoldQuote, ValidationReport, _expect, _nonempty_str, check_fields, corpus_path_for, iter_jsonl, load_corpus, load_unique

LABELS = ("supported", "contradicted", "unsupported")
SLOTS = ("number", "year", "name", "role", "organisation", "polarity")
FIELDS = ("id", "sentence", "label", "slot", "evidence", "note")


@dataclass(frozen=True)
class CheckItem:
    id: str
    sentence: str
    label: str
    slot: str
    evidence: tuple[GoldQuote, ...]
    note: str = ""
    line: int = 0


def parse_check_item(obj: Any, where: str) -> CheckItem:
    check_fields(obj, where, FIELDS)
    _expect(_nonempty_str(obj["id"]), where, "id", "a non-empty string", obj["id"])
    _expect(_nonempty_str(obj["sentence"]), where, "sentence", "a non-empty string", obj["sentence"])
    _expect(obj["label"] in LABELS, where, "label", " | ".join(LABELS), obj["label"])
    _expect(isinstance(obj["note"], str), where, "note", "a string", obj["note"])
    if obj["label"] == "contradicted":
        _expect(obj["slot"] in SLOTS, where, "slot", "one of " + ", ".join(SLOTS) + " for a contradicted item", obj["slot"])
    else:
        _expect(obj["slot"] == "", where, "slot", '"" for a supported or unsupported item', obj["slot"])
    ev = obj["evidence"]
    _expect(isinstance(ev, list), where, "evidence", 'a list of {"doc", "quote"} objects', ev)
    quotes = []
    for i, g in enumerate(ev):
        _expect(isinstance(g, dict) and set(g) == {"doc", "quote"}, where, f"evidence[{i}]", 'an object with exactly "doc" and "quote"', g)
        _expect(_nonempty_str(g["doc"]) and _nonempty_str(g["quote"]) and "\n" not in g["quote"], where, f"evidence[{i}]",
                "a doc key and a one-line quote", g)
        quotes.append(GoldQuote(g["doc"], g["quote"]))
    if obj["label"] == "unsupported":
        _expect(not ev, where, "evidence", "[] for an unsupported item", ev)
    else:
        _expect(bool(ev), where, "evidence", "at least one quote for a supported or contradicted item", ev)
    line = where.rsplit(":", 1)[-1]
    return CheckItem(obj["id"], obj["sentence"], obj["label"], obj["slot"], tuple(quotes), obj["note"],
                     int(line) if line.isdigit() else 0)


def load_check_dataset(path: str | Path) -> list[CheckItem]:
    return load_unique(path, "check dataset", lambda obj, where, lineno: parse_check_item(obj, where))


def is_check_dataset(path: str | Path) -> bool:
    """A JSONL file whose first object has the check schema's `evidence` and `label` keys."""
    try:
        for _, _, obj in iter_jsonl(Path(path), "dataset"):
            return isinstance(obj, dict) and "evidence" in obj and "sentence" in obj
    except DatasetError:
        return False
    return False


@dataclass
class CheckValidation(ValidationReport):
    """The QA datasets' validation report plus the count of each label."""
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "counts": self.counts}


def validate_check_dataset(path: str | Path, corpus_path: str | Path | None = None) -> CheckValidation:
    """Schema (DatasetError) plus: every evidence quote is an exact span of its document file and of the
    text the readers store; no sentence is a verbatim copy of its evidence for a contradicted item."""
    from dossier.ingest.readers import read_bytes
    from dossier.ingest.settings import IngestSettings

    path = Path(path)
    items = load_check_dataset(path)
    corpus = load_corpus(corpus_path or corpus_path_for(path))
    rep = CheckValidation(path, corpus.path, len(items), sum(len(it.evidence) for it in items))
    raw, stored = {}, {}
    for d in corpus.documents:
        data = d.path.read_bytes()
        raw[d.key] = data.decode("utf-8", errors="replace")
        stored[d.key] = read_bytes(data, d.path.name, IngestSettings()).text
    for it in items:
        rep.counts[it.label] = rep.counts.get(it.label, 0) + 1
        if it.slot:
            rep.counts[f"slot:{it.slot}"] = rep.counts.get(f"slot:{it.slot}", 0) + 1
        where = f"{path}:{it.line}"
        for i, g in enumerate(it.evidence):
            if g.doc not in raw:
                rep.problems.append(f"{where}: evidence[{i}].doc: expected one of {', '.join(sorted(raw))}, got {g.doc!r}")
            elif g.quote not in raw[g.doc]:
                rep.problems.append(f"{where}: evidence[{i}].quote: expected an exact span of {g.doc!r}, got {g.quote[:60]!r} (not in the file)")
            elif g.quote not in stored[g.doc]:
                rep.problems.append(f"{where}: evidence[{i}].quote: expected an exact span of the stored text of {g.doc!r}, got {g.quote[:60]!r}")
            elif it.label == "contradicted" and it.sentence.strip() in g.quote:
                rep.problems.append(f"{where}: sentence: a contradicted sentence cannot be a verbatim part of its evidence")
    return rep


def gold_spans(items: list[CheckItem], doc_texts: Mapping[str, str], doc_ids: Mapping[str, str]) -> dict[str, list[tuple[str, int, int]]]:
    """item id -> every (doc_id, start, end) where one of its evidence quotes occurs in the stored text."""
    out: dict[str, list[tuple[str, int, int]]] = {}
    for it in items:
        spans = []
        for g in it.evidence:
            text = doc_texts.get(g.doc, "")
            i = text.find(g.quote)
            while i >= 0:
                spans.append((doc_ids.get(g.doc, g.doc), i, i + len(g.quote)))
                i = text.find(g.quote, i + 1)
        out[it.id] = spans
    return out
