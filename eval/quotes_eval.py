"""Quote attribution evaluation (#13): the hand-labelled quotations of `eval/datasets/quotes-*.jsonl` against what
the ingest extractor (`dossier.ingest.quotes`) finds in the same documents' stored text.

A labelled quotation is **found** when the extractor reports a quotation of the same kind (direct or
reported) whose span overlaps it by at least half of the longer of the two (one prediction per label), and
**attributed** when that quotation also has the right speaker (the labelled name or one of its aliases; for a
person, the same surname). Precision is attributed quotations over all quotations the extractor reports in
the corpus' documents (a prediction no label matches, or one with the wrong speaker, counts against it);
recall is attributed over labelled. The **speaker list** compares the labelled speakers with the speakers
the extractor lists: recall and precision of names, and accuracy (labelled speakers listed with the right
type and organisation, over labelled speakers).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dataset import ValidationReport, _expect, _nonempty_str, check_fields, corpus_path_for, load_corpus, load_unique

FIELDS = ("id", "doc", "kind", "quote", "speaker", "speaker_type", "role", "org", "aliases")
KINDS = ("direct", "reported")
SPEAKER_TYPES = ("person", "organisation")
DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
# what each set is to the extractor: the rules were written while reading the seed and the fixtures; the court
# ruling and its labels were written (and committed, 66dac61) before the extractor existed and were not used to
# change it after its first run
ROLES = {"quotes-seed": "dev", "quotes-fixtures": "dev", "quotes-court": "held-out", "quotes-hearing": "held-out"}


@dataclass(frozen=True)
class LabelledQuote:
    id: str
    doc: str
    kind: str
    quote: str
    speaker: str
    speaker_type: str
    role: str
    org: str
    aliases: tuple[str, ...]
    line: int = 0


def is_quote_dataset(path: str | Path) -> bool:
    return Path(path).name.startswith("quotes-")


def parse_label(obj: Any, where: str, line: int = 0) -> LabelledQuote:
    check_fields(obj, where, FIELDS)
    for f in ("id", "doc", "quote", "speaker"):
        _expect(_nonempty_str(obj[f]), where, f, "a non-empty string", obj[f])
    _expect(obj["kind"] in KINDS, where, "kind", " or ".join(KINDS), obj["kind"])
    _expect(obj["speaker_type"] in SPEAKER_TYPES, where, "speaker_type", " or ".join(SPEAKER_TYPES), obj["speaker_type"])
    for f in ("role", "org"):
        _expect(isinstance(obj[f], str), where, f, "a string", obj[f])
    _expect(isinstance(obj["aliases"], list) and all(_nonempty_str(a) for a in obj["aliases"]), where, "aliases",
            "a list of non-empty strings", obj["aliases"])
    return LabelledQuote(obj["id"], obj["doc"], obj["kind"], obj["quote"], obj["speaker"], obj["speaker_type"], obj["role"],
                         obj["org"], tuple(obj["aliases"]), line)


def load_labels(path: str | Path) -> list[LabelledQuote]:
    return load_unique(path, "quote dataset", parse_label)


def stored_texts(corpus) -> dict[str, str]:
    """The text the ingest readers store for each corpus document (what offsets and extraction refer to)."""
    from dossier.ingest.readers import read_bytes
    from dossier.ingest.settings import IngestSettings

    return {d.key: read_bytes(d.path.read_bytes(), d.path.name, IngestSettings()).text for d in corpus.documents}


def validate_quote_dataset(dataset_path: str | Path, corpus_path: str | Path | None = None) -> ValidationReport:
    """Schema (raises DatasetError) plus content: every quote is one exact span of its document's file and of its
    stored text; a speaker's type, role, organisation and aliases are the same on every line."""
    dataset_path = Path(dataset_path)
    labels = load_labels(dataset_path)
    corpus = load_corpus(corpus_path or corpus_path_for(dataset_path))
    report = ValidationReport(dataset_path, corpus.path, len(labels), len(labels))
    raw = {d.key: d.path.read_text(encoding="utf-8") for d in corpus.documents}
    stored = stored_texts(corpus)
    speakers: dict[str, tuple] = {}
    for lab in labels:
        where = f"{dataset_path}:{lab.line}"
        if lab.doc not in raw:
            report.problems.append(f"{where}: doc: expected one of {', '.join(sorted(raw))}, got {lab.doc!r}")
            continue
        for what, text in (("the file", raw[lab.doc]), ("the stored text", stored[lab.doc])):
            n = text.count(lab.quote)
            if n != 1:
                report.problems.append(f"{where}: quote: expected one exact span of {what} of {lab.doc!r}, got {n} for {lab.quote[:60]!r}")
        info = (lab.speaker_type, lab.role, lab.org, lab.aliases)
        if speakers.setdefault(lab.speaker, info) != info:
            report.problems.append(f"{where}: speaker: expected the same type/role/org/aliases for {lab.speaker!r} on every line, "
                                   f"got {info} after {speakers[lab.speaker]}")
    return report


# --------------------------------------------------------------------------- scoring


def _norm(name: str) -> str:
    from dossier.index.quotes import fold

    words = fold(name).replace("’", "'").split()
    while words and words[0] in ("the", "a", "an"):
        words.pop(0)
    return " ".join(words)


def same_speaker(predicted: str, lab: LabelledQuote) -> bool:
    p = _norm(predicted)
    names = {_norm(lab.speaker)} | {_norm(a) for a in lab.aliases}
    if p in names:
        return True
    return lab.speaker_type == "person" and bool(p) and p.split()[-1] == _norm(lab.speaker).split()[-1]


def same_org(predicted: str, wanted: str) -> bool:
    p, w = _norm(predicted), _norm(wanted)
    if not w:
        return True  # no organisation given in the text: whatever the extractor adds is not held against it
    return bool(p) and (p in w or w in p)


@dataclass
class KindScore:
    labelled: int = 0
    predicted: int = 0
    found: int = 0
    attributed: int = 0

    def to_dict(self) -> dict:
        rec = self.attributed / self.labelled if self.labelled else None
        prec = self.attributed / self.predicted if self.predicted else None
        return {"labelled": self.labelled, "predicted": self.predicted, "found": self.found, "attributed": self.attributed,
                "recall": rec, "precision": prec,
                "span_recall": self.found / self.labelled if self.labelled else None}


@dataclass
class QuoteEval:
    dataset: str
    role: str
    docs: list[str]
    kinds: dict[str, KindScore] = field(default_factory=dict)
    speakers: dict[str, Any] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)  # labelled quotations not attributed, and why
    extras: list[dict] = field(default_factory=list)  # predictions no label matches

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "role": self.role, "docs": self.docs,
                "direct": self.kinds["direct"].to_dict(), "reported": self.kinds["reported"].to_dict(),
                "all": self.kinds["all"].to_dict(), "speakers": self.speakers, "misses": self.misses, "extras": self.extras}


def evaluate(dataset_path: str | Path) -> QuoteEval:
    """Run the extractor on every document of the dataset's corpus and score it against the labels."""
    from dossier.ingest.quotes import extract_quotes

    dataset_path = Path(dataset_path)
    labels = load_labels(dataset_path)
    corpus = load_corpus(corpus_path_for(dataset_path))
    texts = stored_texts(corpus)
    name = dataset_path.name.removesuffix(".jsonl")
    res = QuoteEval(name, ROLES.get(name, "dev"), sorted(texts), {k: KindScore() for k in (*KINDS, "all")})
    predicted = []
    for key, text in texts.items():
        for q in extract_quotes(text):
            predicted.append((key, q))
    _match(res, labels, texts, predicted)
    res.speakers = _speaker_list(labels, [q for _, q in predicted])
    return res


def _match(res: QuoteEval, labels: list[LabelledQuote], texts: dict[str, str], predicted: list) -> None:
    used: set[int] = set()
    for _, q in predicted:
        res.kinds[q.kind].predicted += 1
        res.kinds["all"].predicted += 1
    for lab in labels:
        a = texts[lab.doc].find(lab.quote)
        b = a + len(lab.quote)
        best, best_ov = None, 0.0
        for i, (key, q) in enumerate(predicted):
            if i in used or key != lab.doc or q.kind != lab.kind:
                continue
            ov = (min(b, q.end) - max(a, q.start)) / max(b - a, q.end - q.start)
            if ov >= 0.5 and ov > best_ov:
                best, best_ov = i, ov
        for k in (lab.kind, "all"):
            res.kinds[k].labelled += 1
        if best is None:
            res.misses.append({"id": lab.id, "kind": lab.kind, "speaker": lab.speaker, "why": "not found", "quote": lab.quote[:100]})
            continue
        used.add(best)
        q = predicted[best][1]
        ok = same_speaker(q.speaker, lab)
        for k in (lab.kind, "all"):
            res.kinds[k].found += 1
            res.kinds[k].attributed += ok
        if not ok:
            res.misses.append({"id": lab.id, "kind": lab.kind, "speaker": lab.speaker, "why": f"attributed to {q.speaker}",
                               "quote": lab.quote[:100]})
    res.extras = [{"doc": key, "kind": q.kind, "speaker": q.speaker, "quote": q.text[:100]}
                  for i, (key, q) in enumerate(predicted) if i not in used]


def _speaker_list(labels: list[LabelledQuote], quotes: list) -> dict:
    """Labelled speakers vs the speakers the extractor lists (name, type, organisation)."""
    gold: dict[str, LabelledQuote] = {}
    for lab in labels:
        gold.setdefault(lab.speaker, lab)
    listed: dict[str, tuple[str, str]] = {}
    for q in quotes:
        listed.setdefault(q.speaker, (q.speaker_type, q.org))
    matched, correct, wrong = set(), 0, []
    for g in gold.values():
        hit = next((p for p in listed if same_speaker(p, g)), None)
        if hit is None:
            wrong.append({"speaker": g.speaker, "why": "not listed"})
            continue
        matched.add(hit)
        typ, org = listed[hit]
        if typ == g.speaker_type and same_org(org, g.org):
            correct += 1
        else:
            wrong.append({"speaker": g.speaker, "why": f"listed as {typ}, org {org!r} (labelled {g.speaker_type}, {g.org!r})"})
    n = len(gold)
    return {"labelled": n, "listed": len(listed), "recall": len(matched) / n if n else None,
            "precision": len(matched) / len(listed) if listed else None, "accuracy": correct / n if n else None,
            "problems": wrong, "unlabelled": sorted(p for p in listed if p not in matched)}


def default_datasets() -> list[Path]:
    """Every labelled quote set, the dev sets first and the held-out ones last."""
    found = sorted(DATASETS_DIR.glob("quotes-*.jsonl"), key=lambda p: (ROLES.get(p.stem) == "held-out", p.name != "quotes-seed.jsonl", p.name))
    return found


def report_lines(results: list[QuoteEval]) -> list[str]:
    """A markdown table of the results, one row per dataset and kind."""
    def f(x):
        return "–" if x is None else f"{x:.3f}"

    lines = ["| data | role | kind | labelled | predicted | recall | precision | speakers R / P / acc |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        sp = r.speakers
        for k in ("direct", "reported", "all"):
            d = r.kinds[k].to_dict()
            spk = f"{f(sp['recall'])} / {f(sp['precision'])} / {f(sp['accuracy'])}" if k == "all" else ""
            lines.append(f"| {r.dataset} ({', '.join(r.docs)}) | {r.role} | {k} | {d['labelled']} | {d['predicted']} | "
                         f"{f(d['recall'])} | {f(d['precision'])} | {spk} |")
    return lines


def to_json(results: list[QuoteEval]) -> str:
    return json.dumps([r.to_dict() for r in results], ensure_ascii=False)
