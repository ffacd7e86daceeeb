"""SQuAD 2.0 (open book) for the answer-sentence scorer: the article-level split, training pairs, and
conversion of held-out articles into this project's eval dataset format.

Source: SQuAD 2.0, Rajpurkar, Jia and Liang, "Know What You Don't Know: Unanswerable Questions for SQuAD"
(ACL 2018), CC BY-SA 4.0; the files are `shared/external/squad2-*.json` (see that folder's README).

The split is by article, never by question. TRAIN articles give the scorer's training pairs; DEV
articles fit the abstention model and its threshold; TEST articles are touched by nothing but
`dossier eval run`.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from dossier.ingest.sentences import sentence_spans

DEV_OPEN = "squad2-dev-open.json"
TRAIN_PART = "squad2-train-part.json"
DEV_ARTICLES = ("Steam_engine", "Force")
TEST_ARTICLES = ("Normans", "Immune_system")
# every other article of the two files is a training article
SPLITS = ("train", "dev", "test")

_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset("""a an the of in on at to for from by with and or but is are was were be been being what which who whom whose
when where why how did do does done had has have that this these those it its as into than then there their they he she his her
him them not no many much most more also can could would should will may might one two""".split())


@dataclass(frozen=True)
class Question:
    id: str
    article: str
    paragraph: int
    question: str
    answers: tuple[str, ...]
    answer_starts: tuple[int, ...]
    impossible: bool
    plausible_starts: tuple[int, ...]


@dataclass
class Article:
    title: str
    paragraphs: list[str]
    questions: list[Question]


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_articles(path: Path) -> list[Article]:
    """Articles of one SQuAD 2.0 JSON file; a file that is not SQuAD 2.0 is a clear error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a SQuAD 2.0 JSON file ({e})") from None
    out = []
    for a in data:
        paras, qs = [], []
        for pi, p in enumerate(a["paragraphs"]):
            paras.append(p["context"])
            for q in p["qas"]:
                imp = bool(q.get("is_impossible"))
                qs.append(Question(
                    id=q["id"], article=a["title"], paragraph=pi, question=q["question"].strip(),
                    answers=tuple(x["text"] for x in q.get("answers", [])),
                    answer_starts=tuple(int(x["answer_start"]) for x in q.get("answers", [])),
                    impossible=imp, plausible_starts=tuple(int(x["answer_start"]) for x in q.get("plausible_answers", []))))
        out.append(Article(a["title"], paras, qs))
    return out


def split_of(title: str) -> str:
    if title in TEST_ARTICLES:
        return "test"
    if title in DEV_ARTICLES:
        return "dev"
    return "train"


def articles(external: Path, split: str) -> list[Article]:
    """The articles of one split, from both files of `external` (shared/external)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {SPLITS}")
    out = []
    for name in (TRAIN_PART, DEV_OPEN):
        path = Path(external) / name
        if not path.exists():
            raise FileNotFoundError(f"{path}: SQuAD 2.0 file missing (see shared/external/README.md)")
        out += [a for a in load_articles(path) if split_of(a.title) == split]
    return out


def _containing(spans: list[tuple[int, int]], pos: int) -> int | None:
    for i, (a, b) in enumerate(spans):
        if a <= pos < b:
            return i
    return None


def key_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 1}


def training_pairs(arts: list[Article], *, seed: int = 13, same_paragraph_negatives: int = 2,
                   max_questions: int | None = None, hard: bool = False) -> list[tuple[str, str, float]]:
    """(question, sentence, label) pairs. Answerable questions: the sentence holding the answer (1), up to
    `same_paragraph_negatives` other sentences of its paragraph (0), and the sentence of another paragraph
    of the article sharing most key words with the question (0: what retrieval brings next to the answer).
    Unanswerable questions: the sentence holding the "plausible answer" (0, the hard negative), one other
    sentence of the paragraph and the closest sentence of another paragraph (0). `hard`: the other
    sentences of the paragraph are those sharing most key words with the question, not random ones, and
    an unanswerable question gets two of them."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str, float]] = []
    for art in arts:
        spans = [sentence_spans(p) for p in art.paragraphs]
        sents = [[p[a:b] for a, b in s] for p, s in zip(art.paragraphs, spans)]
        words = [[key_words(s) for s in ps] for ps in sents]
        qs = art.questions if max_questions is None else art.questions[:max_questions]
        for q in qs:
            ps, sp = sents[q.paragraph], spans[q.paragraph]
            if not ps:
                continue
            starts = q.plausible_starts if q.impossible else q.answer_starts
            hit = _containing(sp, starts[0]) if starts else None
            if hit is not None:
                pairs.append((q.question, ps[hit], 0.0 if q.impossible else 1.0))
            qw = key_words(q.question)
            others = [i for i in range(len(ps)) if i != hit]
            rng.shuffle(others)
            if hard:
                others.sort(key=lambda i: -len(qw & words[q.paragraph][i]))
            for i in others[: (same_paragraph_negatives if hard or not q.impossible else 1)]:
                pairs.append((q.question, ps[i], 0.0))
            best, best_n = None, 0
            for pi, pw in enumerate(words):
                if pi == q.paragraph:
                    continue
                for si, w in enumerate(pw):
                    n = len(qw & w)
                    if n > best_n:
                        best, best_n = (pi, si), n
            if best is not None:
                pairs.append((q.question, sents[best[0]][best[1]], 0.0))
    rng.shuffle(pairs)
    return pairs


def article_document(art: Article) -> str:
    """One article as one document: its title, then its paragraphs separated by blank lines."""
    return art.title.replace("_", " ") + "\n\n" + "\n\n".join(p.strip() for p in art.paragraphs) + "\n"


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def dataset_items(arts: list[Article]) -> list[dict]:
    """Eval dataset items (eval/datasets/README.md schema) for these articles: every question, answerable or
    not; the answer keys are SQuAD's gold answers (any one matches), the gold quote the sentence holding
    the first one."""
    items = []
    for art in arts:
        doc = slug(art.title)
        spans = [sentence_spans(p) for p in art.paragraphs]
        for q in art.questions:
            item = {"id": f"sq-{q.id}", "question": q.question, "answerable": not q.impossible, "reference_answer": "",
                    "answer_keys": [], "gold": [], "tags": ["squad", doc]}
            if q.impossible:
                item["tags"].append("unanswerable")
            else:
                para = art.paragraphs[q.paragraph]
                hit = _containing(spans[q.paragraph], q.answer_starts[0])
                quote = para[spans[q.paragraph][hit][0]:spans[q.paragraph][hit][1]] if hit is not None else ""
                item["reference_answer"] = q.answers[0].strip()
                item["answer_keys"] = [list(dict.fromkeys(a.strip() for a in q.answers if a.strip()))]
                if quote and "\n" not in quote:
                    item["gold"] = [{"doc": doc, "quote": quote}]
                item["tags"].append("fact")
            items.append(item)
    return items


def write_dataset(external: Path, split: str, out_dir: Path) -> tuple[Path, int]:
    """`squad-SPLIT.jsonl`, its corpus sidecar and one text file per article (under out_dir/squad/)."""
    arts = articles(external, split)
    docs_dir = Path(out_dir) / "squad"
    docs_dir.mkdir(parents=True, exist_ok=True)
    toml = [f"# SQuAD 2.0 {split} articles (shared/external, CC BY-SA 4.0): one article = one document.",
            "# Written by `dossier eval squad-convert`; split by article (eval/squad.py)."]
    for art in arts:
        path = docs_dir / f"{slug(art.title)}.txt"
        path.write_text(article_document(art), encoding="utf-8")
        toml += ["", "[[documents]]", f'key = "{slug(art.title)}"', f'path = "squad/{path.name}"',
                 f'title = "{art.title.replace("_", " ")}"', 'publisher = "Wikipedia (via SQuAD 2.0)"', 'kind = "other"',
                 f'url = "https://en.wikipedia.org/wiki/{art.title}"']
    items = dataset_items(arts)
    out = Path(out_dir) / f"squad-{split}.jsonl"
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    (Path(out_dir) / f"squad-{split}.corpus.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")
    return out, len(items)


def write_smoke(out_dir: Path, every: int = 10) -> tuple[Path, int]:
    """`squad-smoke.jsonl`: every `every`-th item of squad-test.jsonl (picked by position, not by score), for
    the suite's regression check; its corpus is the test split's."""
    lines = (Path(out_dir) / "squad-test.jsonl").read_text(encoding="utf-8").splitlines()
    picked = [line for i, line in enumerate(lines, 1) if i % every == 0]
    out = Path(out_dir) / "squad-smoke.jsonl"
    out.write_text("".join(line + "\n" for line in picked), encoding="utf-8")
    (Path(out_dir) / "squad-smoke.corpus.toml").write_text(
        f"# squad-smoke.jsonl is every {every}th item of squad-test.jsonl (the test articles), so it uses the same documents.\n"
        'same_as = "squad-test.corpus.toml"\n', encoding="utf-8")
    return out, len(picked)
