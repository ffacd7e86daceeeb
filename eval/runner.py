"""`run_eval`: ingest a dataset's corpus, answer every question with models loaded once, score each item,
write `records.jsonl`, `run.json` and the reports.

The store is fresh (`OUT/store`, embedded Chroma) unless an existing data dir is given; corpus keys are
mapped to doc_ids through the catalog (by source path, then by content hash). An item whose pipeline
raises is recorded as failed with the error, never dropped.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .dataset import Corpus, DatasetError, DatasetItem, corpus_path_for, load_corpus, load_dataset, resolve_gold, select_items
from .scoring import failure_scores, score_item

ProgressFn = Callable[[int, int, str], None]


class EvalError(DatasetError):
    """The run cannot start (corpus not ingestible, store without the corpus, bad options)."""


class _RecordingRetriever:
    """Wraps the answerer's retriever to record what the pipeline itself retrieved (query and hits)."""

    def __init__(self, inner):
        self._inner = inner
        self.calls: list[tuple[str, list]] = []

    def search(self, query, k=8, filters=None, mode="hybrid"):
        hits = self._inner.search(query, k=k, filters=filters, mode=mode)
        self.calls.append((query, hits))
        return hits

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _DocTexts:
    """doc_id -> stored text, read from the catalog on first use."""

    def __init__(self, catalog):
        self.catalog = catalog
        self._cache: dict[str, str | None] = {}

    def get(self, doc_id: str, default=None):
        if doc_id not in self._cache:
            self._cache[doc_id] = self.catalog.doc_text(doc_id)
        value = self._cache[doc_id]
        return default if value is None else value


@dataclass
class RunResult:
    out_dir: Path
    records: list[dict]
    report: dict
    meta: dict

    @property
    def n_failed(self) -> int:
        return sum(1 for r in self.records if r.get("failed"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _git(where: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, timeout=5)
        return out.stdout if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def prepare_store(corpus: Corpus, svc, *, ingest: bool) -> tuple[dict[str, str], dict]:
    """Ingest the corpus (when ``ingest``) and map each corpus key to its doc_id via the catalog."""
    from dossier.index.indexer import Ingestor

    results: list[dict] = []
    if ingest:
        for d in corpus.documents:
            rep = Ingestor(svc, overrides=d.overrides()).run([str(d.path)])
            results += [r.to_dict() for r in rep.results]
            failed = rep.failed
            if failed:
                raise EvalError(f"{d.path}: expected an ingestible document (corpus key {d.key!r}), got {failed[0].code}: {failed[0].reason}")
    mapping: dict[str, str] = {}
    for d in corpus.documents:
        row = svc.catalog.by_source(str(d.path)) or svc.catalog.by_sha(_sha256(d.path))
        if row is None:
            raise EvalError(f"{svc.data_dir}: expected the corpus document {d.key!r} ({d.path}) in the store, got none; "
                            "ingest it there or run without --store (a fresh store is built)")
        mapping[d.key] = row["doc_id"]
    return mapping, {"results": results}


def run_eval(dataset_path: str | Path, *, engine: str = "extractive", strict: bool = False, out_dir: str | Path,
             settings=None, store: str | Path | None = None, corpus_path: str | Path | None = None,
             subset: int | None = None, tags: Iterable[str] = (), ids: Iterable[str] = (), k: int | None = None,
             embedder=None, calibration: dict | None = None, progress: ProgressFn | None = None,
             write_reports: bool = True) -> RunResult:
    """Evaluate ``engine`` on the dataset; write records.jsonl, run.json, report.{json,md,html} under ``out_dir``.

    ``settings``: a DossierSettings (defaults from the environment); its data_dir is replaced by
    ``store`` (an existing data dir: nothing is ingested) or by the fresh ``out_dir/store``.
    ``embedder``: an already loaded `index.embedder.Embedder` to reuse (tests share one per session).
    ``calibration``: verifier calibration figures to include; when None, ``calibration.json`` from the
    out dir or eval/ is used, or the calibration is computed on the labels.
    """
    from dossier.app.answer_models import Turn
    from dossier.app.context import AppContext, build_answerer
    from dossier.app.settings import DossierSettings

    t_start = time.perf_counter()
    dataset_path = Path(dataset_path)
    out_dir = Path(out_dir)
    all_items = load_dataset(dataset_path)
    items = select_items(all_items, subset=subset, tags=tags, ids=ids)
    if not items:
        raise EvalError(f"{dataset_path}: expected items matching the selection, got none (tags={list(tags)}, ids={list(ids)})")
    corpus = load_corpus(corpus_path or corpus_path_for(dataset_path))
    settings = (settings or DossierSettings()).model_copy(deep=True)
    if k is not None:
        settings.answer.k = k
    k = settings.answer.k
    out_dir.mkdir(parents=True, exist_ok=True)
    fresh = store is None
    _choose_store(settings, out_dir, store)
    app = AppContext(settings)
    svc = app.index
    if embedder is not None:
        svc.embedder = embedder
    mapping, ingest_info = prepare_store(corpus, svc, ingest=fresh)
    doc_texts_by_key = {key: svc.catalog.doc_text(doc_id) or "" for key, doc_id in mapping.items()}
    gold = resolve_gold(items, doc_texts_by_key, mapping)
    if gold.problems:
        raise EvalError(f"{dataset_path}: gold quotes not found in the stored text: " + "; ".join(gold.problems[:5]))
    answerer = build_answerer(app)
    recorder = _RecordingRetriever(answerer.retriever)
    answerer.retriever = recorder
    verifier = answerer.verifier
    doc_texts = _DocTexts(svc.catalog)
    records: list[dict] = []
    with (out_dir / "records.jsonl").open("w", encoding="utf-8") as fh:
        for i, item in enumerate(items, 1):
            rec = _run_item(item, answerer, recorder, verifier, doc_texts, gold.spans.get(item.id, []), engine=engine,
                            strict=strict, k=k, turn_cls=Turn)
            records.append(rec)
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            if progress:
                progress(i, len(items), item.id)
    meta = _run_meta(dataset_path, corpus, mapping, items, all_items, records, settings, svc, gold, ingest_info,
                     selection={"subset": subset, "tags": list(tags), "ids": list(ids)}, engine=engine, strict=strict, k=k,
                     fresh=fresh, t_start=t_start)
    if calibration is None:
        calibration = _find_or_compute_calibration(out_dir, settings, svc.embedder)
    meta["seconds_with_calibration"] = round(time.perf_counter() - t_start, 2)
    (out_dir / "run.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    from .report import build_report, write_all

    report = build_report(records, meta, calibration)
    if write_reports:
        write_all(out_dir, report, records)
    return RunResult(out_dir, records, report, meta)


def _choose_store(settings, out_dir: Path, store: str | Path | None) -> None:
    """Point `settings` at the store to use: an existing data dir, or a fresh embedded one under `out_dir`
    (a store left there by an earlier run is removed; any other content is an error)."""
    if store is None:
        data_dir = out_dir / "store"
        if data_dir.exists():
            if any(data_dir.iterdir()) and not (data_dir / "catalog.sqlite").exists():
                raise EvalError(f"{data_dir}: expected a store left by an earlier run (or nothing), got other files; choose another --out")
            shutil.rmtree(data_dir)
        settings.data_dir = data_dir
        settings.chroma_url = ""  # a fresh store is always embedded, so runs never collide on a server
    else:
        settings.data_dir = Path(store)
        if not (settings.data_dir / "catalog.sqlite").exists():
            raise EvalError(f"{settings.data_dir}: expected an existing data dir (catalog.sqlite), got none")


def _run_meta(dataset_path: Path, corpus: Corpus, mapping: dict[str, str], items: Sequence[DatasetItem],
              all_items: Sequence[DatasetItem], records: Sequence[dict], settings, svc, gold, ingest_info: dict, *,
              selection: dict, engine: str, strict: bool, k: int, fresh: bool, t_start: float) -> dict:
    """run.json: what was run, on what, with which settings and code, and how long it took."""
    here = Path(__file__).resolve().parent
    return {
        "dataset": str(dataset_path),
        "dataset_name": dataset_path.name[: -len(".jsonl")] if dataset_path.name.endswith(".jsonl") else dataset_path.stem,
        "dataset_sha256": _sha256(dataset_path),
        "corpus": str(corpus.path),
        "corpus_doc_ids": mapping,
        "n_items": len(items),
        "n_dataset_items": len(all_items),
        "selection": selection,
        "engine": engine,
        "strict": strict,
        "k": k,
        "store": str(settings.data_dir),
        "fresh_store": fresh,
        "embedder": svc.embedder.id,
        "thresholds": {"support": settings.answer.support_threshold, "partial": settings.answer.partial_threshold},
        "settings": json.loads(settings.model_dump_json()),
        "ingest": ingest_info,
        "gold_loose_matches": gold.loose,
        "git_commit": (_git(here, "rev-parse", "HEAD") or "").strip(),
        "git_dirty": bool((_git(here, "status", "--porcelain", "--untracked-files=no") or "").strip()),
        "finished_at": _now(),
        "seconds": round(time.perf_counter() - t_start, 2),
        "n_failed": sum(1 for r in records if r["failed"]),
    }


def _find_or_compute_calibration(out_dir: Path, settings, embedder) -> dict:
    """calibration.json from the out dir or eval/, or the calibration computed on the labels now."""
    from .calibrate import calibrate, find_calibration

    found = find_calibration(out_dir)
    if found is not None:
        return dict(found[0], source=str(found[1]))
    return dict(calibrate(settings=settings, embedder=embedder), source="computed during the run")


def _run_item(item: DatasetItem, answerer, recorder: _RecordingRetriever, verifier, doc_texts: _DocTexts,
              gold_spans: Sequence[tuple[str, int, int]], *, engine: str, strict: bool, k: int, turn_cls) -> dict:
    rec: dict[str, Any] = {
        "id": item.id, "question": item.question, "tags": list(item.tags), "answerable": item.answerable,
        "reference_answer": item.reference_answer, "answer_keys": [list(g) for g in item.answer_keys],
        "history": [asdict(h) for h in item.history], "gold": [{"doc": g.doc, "quote": g.quote} for g in item.gold],
        "gold_spans": [list(s) for s in gold_spans], "failed": False, "error": "",
        "query": None, "retrieved": [], "answer": None, "abstained": None, "verdicts": [], "scores": {},
    }
    recorder.calls.clear()
    t0 = time.perf_counter()
    try:
        history = [turn_cls(h.question, h.answer) for h in item.history]
        ans = answerer.ask(item.question, engine=engine, history=history or None, strict=strict, k=k, qid=item.id)
        answer = json.loads(ans.model_dump_json())
        rec["wall_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        if recorder.calls:
            query, hits = recorder.calls[-1]
            rec["query"] = query
            rec["retrieved"] = [{"doc_id": h.chunk.doc_id, "start": h.chunk.start, "end": h.chunk.end,
                                 "chunk_id": h.chunk.chunk_id, "score": round(float(h.score), 6)} for h in hits]
        rec["answer"] = answer
        rec["abstained"] = bool(answer["abstained"])
        by_n = {c["n"]: c for c in answer.get("citations") or []}
        for s in answer.get("sentences") or []:
            v = verifier.check(s["text"], [by_n[n]["passage"] for n in s.get("citations") or [] if n in by_n])
            rec["verdicts"].append({"text": s["text"], "citations": s.get("citations") or [], "label": v.label,
                                    "score": v.score, "coverage": v.coverage, "similarity": v.similarity,
                                    "missing_numbers": v.missing_numbers, "missing_names": v.missing_names,
                                    "negation_flip": v.negation_flip, "verbatim": v.verbatim})
        retrieved = [(h["doc_id"], h["start"], h["end"]) for h in rec["retrieved"]]
        rec["scores"] = score_item(rec, answer, retrieved, doc_texts, verifier.supports, k)
    except Exception as exc:  # recorded, never dropped: the item scores the worst value where it applies
        rec["failed"] = True
        rec["error"] = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
        rec["traceback"] = traceback.format_exc(limit=6)[-2000:]
        rec["wall_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        rec["scores"] = failure_scores(rec, k)
    return rec


def load_records(run: str | Path) -> list[dict]:
    """Records of a run folder (or a records.jsonl path)."""
    p = Path(run)
    path = p / "records.jsonl" if p.is_dir() else p
    if not path.is_file():
        raise EvalError(f"{p}: expected a run folder with records.jsonl, got none")
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise EvalError(f"{path}:{lineno}: expected valid JSON, got a parse error ({exc.msg})") from exc
    return out


def load_run_meta(run: str | Path) -> dict:
    p = Path(run)
    path = p / "run.json" if p.is_dir() else p.with_name("run.json")
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def load_report(run: str | Path) -> dict:
    p = Path(run)
    path = p / "report.json" if p.is_dir() else p
    if not path.is_file():
        raise EvalError(f"{p}: expected a run folder with report.json, got none")
    return json.loads(path.read_text(encoding="utf-8"))
