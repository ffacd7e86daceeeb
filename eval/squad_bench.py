"""SQuAD 2.0 open book, side by side: every article of a split is one document in one store, every question
(answerable or not) is asked of the whole store, and each engine and baseline is scored the same way.

Metrics (each a mean over its items, with a seeded bootstrap 95% CI):
- `has_ans`: answerable questions answered with a gold answer in the answer text;
- `cited`: answerable questions with a cited quote holding a gold answer;
- `no_ans`: unanswerable questions abstained;
- `overall`: has_ans on answerable and no_ans on unanswerable questions, over all;
- `answer_words`: median words of the answers given.
Gold answers match after SQuAD's normalisation (lower case, no punctuation, no articles).

Baselines: `always-abstain`; `best-cosine` (the sentence of the top 3 retrieved chunks closest to the
question by the embedder, never abstaining); `llama-index` (plain llama-index: SentenceSplitter ->
VectorStoreIndex with the same bundled embedder, the top-1 chunk as the answer).
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .dataset import DatasetItem, load_corpus, load_dataset, select_items
from .metrics import normalize_squad
from .stats import bootstrap_ci

DATASETS = Path(__file__).resolve().parent / "datasets"
ENGINES = ("extractive", "rules")
BASELINES = ("always-abstain", "best-cosine", "llama-index")
ProgressFn = Callable[[str, int, int], None]


@dataclass
class Outcome:
    id: str
    answerable: bool
    abstained: bool
    answer: str = ""
    quotes: list[str] = field(default_factory=list)
    confidence: float | None = None
    ms: float = 0.0

    def words(self) -> int:
        return len(self.answer.split())


def gold_in(text: str, golds) -> bool:
    hay = f" {normalize_squad(text)} "
    return any(n and f" {n} " in hay for n in (normalize_squad(g) for g in golds))


def golds_of(item: DatasetItem) -> list[str]:
    return [k for group in item.answer_keys for k in group]


def dataset_path(split: str) -> Path:
    path = DATASETS / f"squad-{split}.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found (run `dossier eval squad-convert`)")
    return path


def open_store(name: str, work: Path, settings=None, embedder=None):
    """An AppContext over a store holding the corpus of dataset NAME (eval/datasets/NAME.jsonl and its
    corpus sidecar), built once under `work` as store-NAME and reused."""
    from dossier.app.context import AppContext
    from dossier.app.settings import DossierSettings

    from .dataset import corpus_path_for
    from .runner import prepare_store

    settings = (settings or DossierSettings()).model_copy(deep=True)
    settings.data_dir = Path(work) / f"store-{name}"
    settings.chroma_url = ""
    app = AppContext(settings)
    if embedder is not None:
        app.index.embedder = embedder
    corpus = load_corpus(corpus_path_for(DATASETS / f"{name}.jsonl"))
    have = {r["source"] for r in app.index.catalog.db.execute("SELECT source FROM documents").fetchall()}
    prepare_store(corpus, app.index, ingest=any(str(d.path) not in have for d in corpus.documents))
    return app, corpus


def run_engine(answerer, engine: str, items: list[DatasetItem], k: int, progress: ProgressFn | None = None) -> list[Outcome]:
    out = []
    for i, it in enumerate(items, 1):
        t = time.perf_counter()
        a = answerer.ask(it.question, engine=engine, k=k, qid=it.id)
        out.append(Outcome(it.id, it.answerable, a.abstained, "" if a.abstained else a.answer,
                           [c.quote for c in a.citations], a.confidence, (time.perf_counter() - t) * 1000))
        if progress:
            progress(engine, i, len(items))
    return out


def run_always_abstain(items: list[DatasetItem]) -> list[Outcome]:
    return [Outcome(it.id, it.answerable, True) for it in items]


def run_best_cosine(retriever, embed, items: list[DatasetItem], progress: ProgressFn | None = None) -> list[Outcome]:
    from dossier.ingest.sentences import sentence_spans

    out = []
    for i, it in enumerate(items, 1):
        t = time.perf_counter()
        hits = retriever.search(it.question, k=3)
        sents = [h.chunk.text[a:b] for h in hits for a, b in sentence_spans(h.chunk.text)]
        if not sents:
            out.append(Outcome(it.id, it.answerable, True))
            continue
        vecs = np.asarray(embed([it.question] + sents), dtype=np.float32)
        best = sents[int(np.argmax(vecs[1:] @ vecs[0]))]
        out.append(Outcome(it.id, it.answerable, False, best, [best], None, (time.perf_counter() - t) * 1000))
        if progress:
            progress("best-cosine", i, len(items))
    return out


def run_llama_index(corpus, embedder, items: list[DatasetItem], progress: ProgressFn | None = None) -> list[Outcome]:
    """Plain llama-index: its default SentenceSplitter and an in-memory VectorStoreIndex, embed_model passed
    explicitly (never the global Settings); the top-1 node's text is the answer and its citation."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    from .bench.ingest_bench import llama_embedding

    class _Encoder:  # the sentence-transformers `encode` surface over dossier's embedder
        def encode(self, texts, **_):
            return np.asarray(embedder.embed(list(texts)), dtype=np.float32)

    embed_model = llama_embedding(_Encoder(), 32)
    docs = [Document(text=Path(d.path).read_text(encoding="utf-8"), metadata={"key": d.key}) for d in corpus.documents]
    index = VectorStoreIndex.from_documents(docs, embed_model=embed_model, transformations=[SentenceSplitter()])
    retriever = index.as_retriever(similarity_top_k=1)
    out = []
    for i, it in enumerate(items, 1):
        t = time.perf_counter()
        nodes = retriever.retrieve(it.question)
        text = nodes[0].node.get_content() if nodes else ""
        out.append(Outcome(it.id, it.answerable, not text, text, [text] if text else [], None, (time.perf_counter() - t) * 1000))
        if progress:
            progress("llama-index", i, len(items))
    return out


def _metric(values: list[float]) -> dict:
    lo, hi = bootstrap_ci(values, seed=0, n_boot=1000)
    return {"mean": float(np.mean(values)) if values else None, "ci_low": lo, "ci_high": hi, "n": len(values)}


def summarize(outcomes: list[Outcome], items: dict[str, DatasetItem]) -> dict:
    has, cited, no, overall, words = [], [], [], [], []
    for o in outcomes:
        it = items[o.id]
        if o.answerable:
            g = golds_of(it)
            h = float(not o.abstained and gold_in(o.answer, g))
            has.append(h)
            cited.append(float(not o.abstained and any(gold_in(q, g) for q in o.quotes)))
            overall.append(h)
        else:
            no.append(float(o.abstained))
            overall.append(float(o.abstained))
        if not o.abstained:
            words.append(o.words())
    ms = [o.ms for o in outcomes if o.ms]
    return {"has_ans": _metric(has), "cited": _metric(cited), "no_ans": _metric(no), "overall": _metric(overall),
            "answer_words_median": statistics.median(words) if words else None,
            "answered": sum(not o.abstained for o in outcomes) / max(1, len(outcomes)),
            "latency_ms_p50": statistics.median(ms) if ms else None}


def run_squad(split: str, *, engines=ENGINES, baselines=BASELINES, subset: int | None = None, tags=(), k: int = 6,
              work: Path, settings=None, embedder=None, progress: ProgressFn | None = None) -> dict:
    """Every engine and baseline over the same store and questions; returns the report (also records)."""
    from dossier.app.context import build_answerer

    items = select_items(load_dataset(dataset_path(split)), subset=subset, tags=tags)
    by_id = {it.id: it for it in items}
    app, corpus = open_store(f"squad-{split}", work, settings, embedder)
    answerer = build_answerer(app)
    runs: dict[str, list[Outcome]] = {}
    for name in engines:
        runs[name] = run_engine(answerer, name, items, k, progress)
    for name in baselines:
        if name == "always-abstain":
            runs[name] = run_always_abstain(items)
        elif name == "best-cosine":
            runs[name] = run_best_cosine(app.index.retriever, app.index.embedder.embed, items, progress)
        elif name == "llama-index":
            runs[name] = run_llama_index(corpus, app.index.embedder, items, progress)
        else:
            raise ValueError(f"unknown baseline {name!r}: expected one of {', '.join(BASELINES)}")
    return {"split": split, "dataset": str(dataset_path(split)), "n_items": len(items),
            "n_answerable": sum(it.answerable for it in items), "k": k,
            "articles": sorted({d.key for d in corpus.documents}),
            "results": {name: summarize(o, by_id) for name, o in runs.items()},
            "records": {name: [asdict(x) for x in o] for name, o in runs.items()}}


def markdown(report: dict) -> str:
    lines = [f"SQuAD 2.0 open book, split `{report['split']}` ({', '.join(report['articles'])}): {report['n_items']} questions, "
             f"{report['n_answerable']} answerable; k={report['k']}. Mean [95% bootstrap CI].", "",
             "| system | has_ans | cited | no_ans | overall | median answer words | p50 ms |", "|---|---|---|---|---|---|---|"]

    def cell(m):
        return "–" if m["mean"] is None else f"{m['mean']:.3f} [{m['ci_low']:.3f}, {m['ci_high']:.3f}]"

    for name, r in report["results"].items():
        w = r["answer_words_median"]
        lat = r["latency_ms_p50"]
        lines.append(f"| {name} | {cell(r['has_ans'])} | {cell(r['cited'])} | {cell(r['no_ans'])} | {cell(r['overall'])} | "
                     f"{'–' if w is None else f'{w:g}'} | {'–' if lat is None else f'{lat:.0f}'} |")
    return "\n".join(lines) + "\n"


def write(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "squad-report.json").write_text(json.dumps({k: v for k, v in report.items() if k != "records"}, indent=1) + "\n")
    (out_dir / "squad-records.json").write_text(json.dumps(report["records"]) + "\n")
    (out_dir / "squad-report.md").write_text(markdown(report))
