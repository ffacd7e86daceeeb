"""Evaluation datasets: load and validate a JSONL dataset and its `<name>.corpus.toml` sidecar, and
resolve gold quotes to exact `(doc_id, start, end)` spans of the stored document text.

The schema is the one described in `eval/datasets/README.md`. Every error names where it is:
``FILE:LINE: field: expected X, got Y``.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

from dossier.ingest.models import DOC_KINDS

from .metrics import Span, answer_correct

REQUIRED_FIELDS = ("id", "question", "answerable", "reference_answer", "answer_keys", "gold", "tags")
OPTIONAL_FIELDS = ("history",)
T = TypeVar("T")
CORPUS_FIELDS = ("key", "path", "title", "publisher", "date", "kind", "url")


class DatasetError(ValueError):
    """The dataset or its corpus file is unusable (a configuration error: nothing is run)."""


@dataclass(frozen=True)
class GoldQuote:
    doc: str  # corpus key
    quote: str


@dataclass(frozen=True)
class HistoryTurn:
    question: str
    answer: str


@dataclass(frozen=True)
class DatasetItem:
    id: str
    question: str
    answerable: bool
    reference_answer: str
    answer_keys: tuple[tuple[str, ...], ...]
    gold: tuple[GoldQuote, ...]
    tags: tuple[str, ...]
    history: tuple[HistoryTurn, ...] = ()
    line: int = 0  # 1-based line in the dataset file (for messages)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "question": self.question, "answerable": self.answerable,
            "reference_answer": self.reference_answer, "answer_keys": [list(g) for g in self.answer_keys],
            "gold": [{"doc": g.doc, "quote": g.quote} for g in self.gold], "tags": list(self.tags),
        }
        if self.history:
            d["history"] = [{"question": h.question, "answer": h.answer} for h in self.history]
        return d


@dataclass(frozen=True)
class CorpusDoc:
    key: str
    path: Path  # resolved, absolute
    title: str = ""
    publisher: str = ""
    date: str = ""
    kind: str = ""
    url: str = ""

    def overrides(self) -> dict[str, str]:
        """Metadata for the ingest pipeline (empty values are left to the readers)."""
        return {k: v for k, v in (("title", self.title), ("publisher", self.publisher), ("date", self.date),
                                  ("kind", self.kind), ("url", self.url)) if v}


@dataclass(frozen=True)
class Corpus:
    path: Path
    documents: tuple[CorpusDoc, ...]

    def by_key(self) -> dict[str, CorpusDoc]:
        return {d.key: d for d in self.documents}


# --------------------------------------------------------------------------- dataset


def _tname(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return f"{_tname(v)} {text if len(text) <= 60 else text[:57] + '...'}"


def _expect(cond: bool, where: str, fieldname: str, expected: str, got: Any) -> None:
    if not cond:
        raise DatasetError(f"{where}: {fieldname}: expected {expected}, got {_show(got)}")


def _nonempty_str(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def check_fields(obj: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """A JSON object holding every required field and no field outside required + optional, else a
    DatasetError naming the first offending field (shared by every dataset schema here)."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: line: expected a JSON object, got {_show(obj)}")
    missing = [f for f in required if f not in obj]
    if missing:
        raise DatasetError(f"{where}: {missing[0]}: expected a value, got nothing (missing field)")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise DatasetError(f"{where}: {unknown[0]}: expected one of {', '.join(required + optional)}, got an unknown field")


def load_unique(path: str | Path, what: str, parse: Callable[[Any, str, int], T]) -> list[T]:
    """The items of a JSONL file of `what`, each parsed by parse(obj, where, lineno) (an object with an
    `id`), ids unique; an empty file is an error."""
    path = Path(path)
    items: list[T] = []
    seen: dict[str, int] = {}
    for lineno, where, obj in iter_jsonl(path, what):
        item = parse(obj, where, lineno)
        if item.id in seen:
            raise DatasetError(f"{where}: id: expected a unique id, got {item.id!r} again (first on line {seen[item.id]})")
        seen[item.id] = lineno
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: expected at least one item, got an empty file")
    return items


def parse_item(obj: Any, where: str) -> DatasetItem:
    """Validate one decoded JSON line; raise DatasetError naming the field."""
    check_fields(obj, where, REQUIRED_FIELDS, OPTIONAL_FIELDS)
    _expect(_nonempty_str(obj["id"]), where, "id", "a non-empty string", obj["id"])
    _expect(_nonempty_str(obj["question"]), where, "question", "a non-empty string", obj["question"])
    _expect(isinstance(obj["answerable"], bool), where, "answerable", "a bool", obj["answerable"])
    _expect(isinstance(obj["reference_answer"], str), where, "reference_answer", "a string", obj["reference_answer"])
    keys = obj["answer_keys"]
    _expect(isinstance(keys, list), where, "answer_keys", "a list of lists of strings", keys)
    for i, group in enumerate(keys):
        _expect(isinstance(group, list) and bool(group), where, f"answer_keys[{i}]", "a non-empty list of strings", group)
        for j, alt in enumerate(group):
            _expect(_nonempty_str(alt), where, f"answer_keys[{i}][{j}]", "a non-empty string", alt)
    gold = obj["gold"]
    _expect(isinstance(gold, list), where, "gold", 'a list of {"doc", "quote"} objects', gold)
    quotes = []
    for i, g in enumerate(gold):
        _expect(isinstance(g, dict) and set(g) == {"doc", "quote"}, where, f"gold[{i}]", 'an object with exactly "doc" and "quote"', g)
        _expect(_nonempty_str(g["doc"]), where, f"gold[{i}].doc", "a non-empty doc key", g["doc"])
        _expect(_nonempty_str(g["quote"]), where, f"gold[{i}].quote", "a non-empty string", g["quote"])
        _expect("\n" not in g["quote"], where, f"gold[{i}].quote", "a quote without line breaks", g["quote"])
        quotes.append(GoldQuote(g["doc"], g["quote"]))
    tags = obj["tags"]
    _expect(isinstance(tags, list), where, "tags", "a list of strings", tags)
    for i, t in enumerate(tags):
        _expect(_nonempty_str(t), where, f"tags[{i}]", "a non-empty string", t)
    history = obj.get("history", [])
    _expect(isinstance(history, list), where, "history", 'a list of {"question", "answer"} objects', history)
    turns = []
    for i, h in enumerate(history):
        _expect(isinstance(h, dict) and set(h) == {"question", "answer"}, where, f"history[{i}]",
                'an object with exactly "question" and "answer"', h)
        _expect(_nonempty_str(h["question"]), where, f"history[{i}].question", "a non-empty string", h["question"])
        _expect(isinstance(h["answer"], str), where, f"history[{i}].answer", "a string", h["answer"])
        turns.append(HistoryTurn(h["question"], h["answer"]))
    if obj["answerable"]:
        _expect(bool(keys), where, "answer_keys", "at least one group for an answerable item", keys)
        _expect(bool(gold), where, "gold", "at least one quote for an answerable item", gold)
    else:
        _expect(not keys, where, "answer_keys", "[] for an unanswerable item", keys)
        _expect(not gold, where, "gold", "[] for an unanswerable item", gold)
        _expect(obj["reference_answer"] == "", where, "reference_answer", '"" for an unanswerable item', obj["reference_answer"])
    return DatasetItem(
        id=obj["id"], question=obj["question"], answerable=obj["answerable"], reference_answer=obj["reference_answer"],
        answer_keys=tuple(tuple(g) for g in keys), gold=tuple(quotes), tags=tuple(tags), history=tuple(turns),
        line=int(where.rsplit(":", 1)[-1]) if where.rsplit(":", 1)[-1].isdigit() else 0,
    )


def iter_jsonl(path: Path, what: str):
    """(lineno, "FILE:LINE", object) for each non-blank line of a JSONL file; clear errors otherwise."""
    if not path.is_file():
        raise DatasetError(f"{path}: {what} not found")
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: line: expected valid JSON, got a parse error ({exc.msg} at column {exc.colno})") from exc
        yield lineno, where, obj


def load_dataset(path: str | Path) -> list[DatasetItem]:
    """Load and validate a dataset JSONL file (blank lines are ignored)."""
    return load_unique(path, "dataset", lambda obj, where, lineno: parse_item(obj, where))


def select_items(items: list[DatasetItem], *, subset: int | None = None, tags: Iterable[str] = (),
                 ids: Iterable[str] = ()) -> list[DatasetItem]:
    """Items having any of ``tags`` (all if none) and any of ``ids`` (all if none), then the first ``subset``."""
    tagset, idset = set(tags), set(ids)
    out = [it for it in items if (not tagset or tagset & set(it.tags)) and (not idset or it.id in idset)]
    if subset is not None:
        if subset < 1:
            raise DatasetError(f"--subset: expected a positive number, got {subset}")
        out = out[:subset]
    return out


# --------------------------------------------------------------------------- corpus


def corpus_path_for(dataset_path: str | Path) -> Path:
    """The sidecar of ``NAME.jsonl`` is ``NAME.corpus.toml`` in the same folder."""
    p = Path(dataset_path)
    name = p.name[: -len(".jsonl")] if p.name.endswith(".jsonl") else p.stem
    return p.with_name(name + ".corpus.toml")


def _resolve_doc_path(raw: str, toml_path: Path, where: str) -> Path:
    """Relative paths are tried against the toml's folder, then each folder above it (the repo root)."""
    p = Path(raw)
    if p.is_absolute():
        candidates = [p]
    else:
        base = toml_path.resolve().parent
        candidates = [base / p] + [anc / p for anc in base.parents]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise DatasetError(f"{where}: path: expected a file relative to the repository root or {toml_path.parent}, got {raw!r} (not found)")


def load_corpus(path: str | Path) -> Corpus:
    """Load ``NAME.corpus.toml``: ``[[documents]]`` tables with key, path, title, publisher, date, kind, url.

    A corpus file may instead hold only ``same_as = "OTHER.corpus.toml"`` (relative to itself): the
    documents of that file are used (so a subset dataset shares its parent's corpus).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: corpus file not found (expected a sidecar NAME.corpus.toml next to the dataset)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DatasetError(f"{path}: expected valid TOML, got a parse error ({exc})") from exc
    if "same_as" in data:
        if set(data) != {"same_as"} or not _nonempty_str(data["same_as"]):
            raise DatasetError(f"{path}: same_as: expected only same_as = \"OTHER.corpus.toml\", got {sorted(data)}")
        target = (path.parent / data["same_as"]).resolve()
        if target == path.resolve():
            raise DatasetError(f"{path}: same_as: expected another file, got itself")
        return load_corpus(target)
    docs = data.get("documents")
    if not isinstance(docs, list) or not docs:
        raise DatasetError(f"{path}: documents: expected one or more [[documents]] tables, got {_show(docs)}")
    out: list[CorpusDoc] = []
    seen: set[str] = set()
    for i, d in enumerate(docs):
        where = f"{path}: documents[{i}]"
        if not isinstance(d, dict):
            raise DatasetError(f"{where}: expected a table, got {_show(d)}")
        unknown = sorted(set(d) - set(CORPUS_FIELDS))
        if unknown:
            raise DatasetError(f"{where}: {unknown[0]}: expected one of {', '.join(CORPUS_FIELDS)}, got an unknown key")
        for f in ("key", "path"):
            if not _nonempty_str(d.get(f)):
                raise DatasetError(f"{where}: {f}: expected a non-empty string, got {_show(d.get(f))}")
        for f in CORPUS_FIELDS[2:]:
            if not isinstance(d.get(f, ""), str):
                raise DatasetError(f"{where}: {f}: expected a string, got {_show(d.get(f))}")
        if d["key"] in seen:
            raise DatasetError(f"{where}: key: expected a unique key, got {d['key']!r} again")
        seen.add(d["key"])
        kind = d.get("kind", "")
        if kind and kind not in DOC_KINDS:
            raise DatasetError(f"{where}: kind: expected one of {', '.join(DOC_KINDS)}, got {kind!r}")
        out.append(CorpusDoc(key=d["key"], path=_resolve_doc_path(d["path"], path, where), title=d.get("title", ""),
                             publisher=d.get("publisher", ""), date=d.get("date", ""), kind=kind, url=d.get("url", "")))
    return Corpus(path=path.resolve(), documents=tuple(out))


# --------------------------------------------------------------------------- gold spans


@dataclass
class GoldResolution:
    spans: dict[str, list[Span]] = field(default_factory=dict)  # item id -> gold spans
    problems: list[str] = field(default_factory=list)  # "ITEM: gold[i]: ..." for quotes not found
    loose: list[str] = field(default_factory=list)  # quotes found only after whitespace/Unicode normalization


def _find_all(text: str, needle: str) -> list[tuple[int, int]]:
    out, i = [], text.find(needle)
    while i >= 0:
        out.append((i, i + len(needle)))
        i = text.find(needle, i + 1)
    return out


def _loose_pattern(quote: str) -> re.Pattern[str]:
    import unicodedata

    words = unicodedata.normalize("NFC", quote).split()
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def resolve_gold(items: Iterable[DatasetItem], doc_texts: Mapping[str, str],
                 doc_ids: Mapping[str, str] | None = None) -> GoldResolution:
    """Turn each item's ``{doc, quote}`` gold into ``(doc_id, start, end)`` spans.

    ``doc_texts`` maps a corpus key to the stored (normalized) document text that offsets refer to;
    ``doc_ids`` maps a corpus key to its doc_id (the key itself when omitted). A quote occurring
    several times yields every occurrence (citing any of them is correct). A quote that is not an
    exact substring is looked for again with flexible whitespace and NFC (recorded in ``loose``);
    one not found at all is recorded in ``problems`` and contributes no span.
    """
    res = GoldResolution()
    for it in items:
        spans: list[Span] = []
        for i, g in enumerate(it.gold):
            text = doc_texts.get(g.doc)
            doc_id = (doc_ids or {}).get(g.doc, g.doc)
            if text is None:
                res.problems.append(f"{it.id}: gold[{i}].doc: expected a corpus key ({', '.join(sorted(doc_texts))}), got {g.doc!r}")
                continue
            found = _find_all(text, g.quote)
            if not found:
                found = [m.span() for m in _loose_pattern(g.quote).finditer(text)]
                if found:
                    res.loose.append(f"{it.id}: gold[{i}] matched only after whitespace/Unicode normalization")
            if not found:
                res.problems.append(f"{it.id}: gold[{i}].quote: expected an exact span of {g.doc!r}, got {g.quote[:60]!r} (not found)")
                continue
            spans.extend((doc_id, a, b) for a, b in found)
        res.spans[it.id] = list(dict.fromkeys(spans))
    return res


# --------------------------------------------------------------------------- validator


@dataclass
class ValidationReport:
    dataset: Path
    corpus: Path
    n_items: int
    n_quotes: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": str(self.dataset), "corpus": str(self.corpus), "items": self.n_items, "quotes": self.n_quotes,
                "ok": self.ok, "problems": self.problems, "warnings": self.warnings}


def validate_dataset(dataset_path: str | Path, corpus_path: str | Path | None = None) -> ValidationReport:
    """Schema (raises DatasetError) plus content checks (collected): every gold quote is an exact span of
    its document file *and* of the text the ingest readers store for it; every answer-key group occurs
    in the reference answer; follow-ups (and only they) carry history."""
    from dossier.ingest.readers import read_bytes
    from dossier.ingest.settings import IngestSettings

    dataset_path = Path(dataset_path)
    items = load_dataset(dataset_path)
    corpus = load_corpus(corpus_path or corpus_path_for(dataset_path))
    raw_texts: dict[str, str] = {}
    stored: dict[str, str] = {}
    report = ValidationReport(dataset_path, corpus.path, len(items), sum(len(it.gold) for it in items))
    for d in corpus.documents:
        data = d.path.read_bytes()
        try:
            raw_texts[d.key] = data.decode("utf-8")
        except UnicodeDecodeError:
            raw_texts[d.key] = data.decode("utf-8", errors="replace")
            report.warnings.append(f"{d.path}: not UTF-8; compared after replacing undecodable bytes")
        try:
            stored[d.key] = read_bytes(data, d.path.name, IngestSettings()).text
        except Exception as exc:  # a reader error is a problem of this corpus, reported with the rest
            report.problems.append(f"{d.path}: expected a readable document, got {exc.__class__.__name__}: {exc}")
    for it in items:
        where = f"{dataset_path}:{it.line}"
        for i, g in enumerate(it.gold):
            if g.doc not in raw_texts:
                report.problems.append(f"{where}: gold[{i}].doc: expected one of {', '.join(sorted(raw_texts))}, got {g.doc!r}")
                continue
            if g.quote not in raw_texts[g.doc]:
                report.problems.append(f"{where}: gold[{i}].quote: expected an exact span of {g.doc!r}, got {g.quote[:60]!r} (not in the file)")
            elif g.doc in stored and g.quote not in stored[g.doc]:
                report.problems.append(f"{where}: gold[{i}].quote: expected an exact span of the stored text of {g.doc!r}, "
                                       f"got {g.quote[:60]!r} (changed by reading/normalization)")
        for i, group in enumerate(it.answer_keys):
            if not answer_correct(it.reference_answer, [group]):
                report.problems.append(f"{where}: answer_keys[{i}]: expected a key occurring in reference_answer, "
                                       f"got {list(group)!r} for {it.reference_answer!r}")
        if it.history and "follow-up" not in it.tags:
            report.warnings.append(f"{where}: tags: an item with history is usually tagged follow-up")
        if "follow-up" in it.tags and not it.history:
            report.problems.append(f"{where}: history: expected the earlier turns of a follow-up, got none")
    return report
