"""Rows for fitting and cross-validating the cross-language answer decision (#16): every question of the given
datasets retrieved once from one store, the English engine's draft on the English passages and every
cross-language candidate sentence (its text, so that scorers can be tried on the rows without retrieving again).

    python -m dossier.eval.xlang_rows --store DIR --mode all --out rows.jsonl DATASET.jsonl ...

The store must hold the datasets' corpus (ingested with the same multilingual mode). Nothing is fitted here.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .dataset import load_corpus, load_dataset, corpus_path_for
from .metrics import answer_correct


def collect(datasets: list[Path], store: Path, mode: str, corpus: Path | None = None) -> list[dict]:
    from dossier.app.context import AppContext, extractive_engine
    from dossier.app.engines.crosslingual import CrossCalibration, CrossLingualEngine, passage_language
    from dossier.app.settings import DossierSettings
    from dossier.index.multilingual import shared_encoder
    from dossier.ingest.language import question_language

    from .runner import prepare_store

    fresh = not (store / "catalog.sqlite").exists()  # before AppContext, which creates the catalog
    settings = DossierSettings()
    settings.index.multilingual = mode
    settings.data_dir = store
    settings.chroma_url = ""
    app = AppContext(settings)
    svc = app.index
    mapping, _ = prepare_store(load_corpus(corpus or corpus_path_for(datasets[0])), svc, ingest=fresh)
    base = extractive_engine(settings.answer)
    eng = CrossLingualEngine(base, shared_encoder(1), CrossCalibration(type_weight=0.0, name_weight=0.0))
    eng.fit_mode = True
    key_of = {v: k for k, v in mapping.items()}
    rows = []
    for path in datasets:
        for item in load_dataset(path):
            q = item.question
            passages = svc.retriever.search(q, k=settings.answer.k)
            qlang = question_language(q)
            english = [i for i, h in enumerate(passages) if qlang == "en" and passage_language(h) == "en"]
            en = base.draft(q, [passages[i] for i in english]) if english else None
            gold = [(mapping.get(g.doc), g.quote) for g in item.gold]
            cands = []
            for c in eng.rank(q, passages, set(english)):
                doc_id = c.sent.hit.chunk.doc_id
                cands.append({"text": c.sent.text, "lang": passage_language(c.sent.hit), "sim": c.similarity,
                              "doc": key_of.get(doc_id, doc_id), "passage": c.sent.passage,
                              "correct": bool(answer_correct(c.sent.text, item.answer_keys)) if item.answerable else False,
                              "gold": any(d == doc_id and (quote in c.sent.text or c.sent.text in quote) for d, quote in gold)})
            en_row = None
            if en is not None:
                text = " ".join(s.text for s in en.sentences)
                en_row = {"abstained": en.abstained, "confidence": en.confidence, "text": text,
                          "correct": bool(not en.abstained and item.answerable and answer_correct(text, item.answer_keys))}
            rows.append({"dataset": path.stem, "id": item.id, "question": q, "qlang": qlang, "answerable": item.answerable,
                         "pair": item.tags[0] if "cross-language" in item.tags else "en-en",
                         "docs": sorted({g.doc for g in item.gold}), "en": en_row, "cands": cands,
                         "passages": [{"doc": key_of.get(h.chunk.doc_id, h.chunk.doc_id), "lang": passage_language(h), "text": h.chunk.text}
                                      for h in passages]})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=None, help="the corpus sidecar (default: the first dataset's)")
    ap.add_argument("--mode", default="all", choices=("all", "foreign"))
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    rows = collect(a.datasets, a.store, a.mode, a.corpus)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} rows -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
