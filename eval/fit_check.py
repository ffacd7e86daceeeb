"""Fit the draft checker's verdict model (`app/check_model.py`) on labelled check sets, with grouped
cross-validation: each set is held out in turn (a set was written at one time by one writer, so its
sentences are not independent of each other), the model and its thresholds fitted on the others, and the
held-out set's verdicts scored. The figures to quote are those cross-validated ones; the final model is
then fitted on every set given (its in-sample figures are reported too, labelled as such).

Training data, from the checker's own candidate signals (`DraftChecker.judge`) on every sentence:
- match: every candidate source sentence of a supported or contradicted sentence, 1 where it holds a gold
  evidence span, 0 otherwise; every candidate of an unsupported sentence, 0;
- support: the best clean candidate (by match) of each sentence, 1 for supported sentences;
- contradict: the best conflicting candidate of each sentence, 1 for contradicted sentences.
Thresholds: the most accurate pair whose training data has at most `max_danger` of its non-supported
sentences marked supported (the command's default 0.004, at most one of the seven sets' 272: the issue's target is
1 in 50, fitted tighter so as to keep it on new data; with none at all the support threshold rose to 0.95 and the
issue's own example, the cameras sentence of tests/test_check.py, fell to "not found", with the same CV figures).

The data sets are named explicitly (never globbed): a set still being written must not be read.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .check_data import load_check_dataset, gold_spans
from .check_draft import _holds, _open

DEFAULT_SETS = ("check-dev", "check-heldout", "check-heldout2", "check-heldout3", "check-heldout4", "check-heldout5",
                "check-heldout6")
MATCH = ("reader", "similarity", "clause", "own", "topical", "coverage")
SUPPORT = ("match", "reader", "similarity", "clause", "coverage", "own")
CONTRADICT = ("match", "reader", "similarity", "clause", "topical")
# the entailment model's probabilities (app/nli.py; the larger of source sentence and window as premise), read by
# the support and contradict regressions (not by match: at run time it is read only for the candidates the verdict
# reads). Chosen by the grouped CV among four sets of these features (sentence and window apart or their maximum,
# entailment only or both): pooled 3-way 0.746 against 0.734 / 0.729 / 0.739 (app/models/MODEL_CARD.md)
SUPPORT_NLI = SUPPORT + ("entail", "contra")
CONTRADICT_NLI = CONTRADICT + ("contra", "entail")


def collect(datasets: list[Path], *, work: Path, progress: Callable[[str, int, int], None] | None = None,
            nli: bool = True) -> list[dict]:
    """Per sentence: its set, label and every candidate's features, slot status and gold flag."""
    from dossier.app.check import DraftChecker
    from dossier.app.check_model import Logistic, VerdictModel

    from .squad_bench import open_store

    flat = Logistic((), (), 0.0, (), ())
    placeholder = VerdictModel(flat, flat, flat, 1.0, 1.0)  # the features do not depend on the model
    rows = []
    checker = None
    for path in datasets:
        items = load_check_dataset(path)
        app, corpus = _open(path, work, None, None, open_store)
        svc = app.index
        keys = {d.key: row["doc_id"] for d in corpus.documents if (row := svc.catalog.by_source(str(d.path))) is not None}
        gold = gold_spans(items, {k: svc.catalog.doc_text(v) or "" for k, v in keys.items()}, keys)
        checker = DraftChecker(svc.retriever, svc.embedder.embed, app.settings.check, model=placeholder)
        name = path.name[: -len(".jsonl")]
        for i, it in enumerate(items, 1):
            sentence = " ".join(it.sentence.split())
            judged = checker.judge(sentence)
            verdict = checker._verdict(sentence, judged)
            cands = [{**j.features(), "clean": j.clean, "conflict": bool(j.conflicts), "text": j.cand.text, "window": j.cand.window,
                      "gold": bool(it.evidence) and it.label != "unsupported" and _holds(
                          {"doc_id": j.cand.hit.chunk.doc_id, "start": j.cand.start, "end": j.cand.end}, gold[it.id])}
                     for j in judged]
            # the verbatim route does not depend on the model: with the placeholder (thresholds 1.0) only it says supported
            rows.append({"set": name, "id": it.id, "label": it.label, "sentence": sentence,
                         "verbatim": verdict.verdict == "supported", "cands": cands})
            if progress:
                progress(name, i, len(items))
    if nli:
        add_nli(rows)
    return rows


def add_nli(rows: list[dict], scorer=None, progress: Callable[[str, int, int], None] | None = None) -> None:
    """The entailment model's probabilities for every candidate (the run time reads only the candidates the
    verdict reads, `DraftChecker.read_nli`: the same numbers for those)."""
    if scorer is None:
        from dossier.app.nli import NliScorer

        scorer = NliScorer()
    for i, r in enumerate(rows, 1):
        for cd in r["cands"]:
            e, _, c = scorer.probs(cd["text"], r["sentence"])
            ew, _, cw = scorer.probs(cd["window"], r["sentence"]) if cd["window"] != cd["text"] else (e, 0.0, c)
            cd.update({"entail_s": e, "entail_w": ew, "contra_s": c, "contra_w": cw, "entail": max(e, ew), "contra": max(c, cw)})
        r["nli"] = True
        if progress:
            progress("nli", i, len(rows))


def _logistic(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], c: float):
    from sklearn.linear_model import LogisticRegression

    from dossier.app.check_model import Logistic

    mean, scale = x.mean(0), x.std(0) + 1e-9
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return Logistic(features, tuple(float(w) for w in lr.coef_[0]), float(lr.intercept_[0]),
                    tuple(float(v) for v in mean), tuple(float(v) for v in scale))


def _best(cands: list[dict], match, which: str):
    pool = [c for c in cands if (c["clean"] if which == "clean" else c["conflict"])]
    if not pool:
        return None
    scored = [(match.prob(c), c) for c in pool]
    m, c = max(scored, key=lambda t: t[0])
    return {**c, "match": m}


def _probs(rows: list[dict], model) -> np.ndarray:
    out = []
    for r in rows:
        s = _best(r["cands"], model.match, "clean")
        c = _best(r["cands"], model.match, "conflict")
        out.append((model.support.prob(s) if s else 0.0, model.contradict.prob(c) if c else 0.0, float(r["verbatim"])))
    return np.array(out).reshape(-1, 3)


def decide(p: np.ndarray, ts: float, tc: float) -> np.ndarray:
    """The run-time rule (`DraftChecker._verdict`): verbatim, else supported over ts and not under
    contradicted, else contradicted over tc, else unsupported."""
    s, c, v = p[:, 0], p[:, 1], p[:, 2]
    return np.where(v > 0, "supported", np.where((s >= ts) & (s >= c), "supported",
                                                 np.where(c >= tc, "contradicted", "unsupported")))


def metrics(labels: list[str], verdicts: np.ndarray) -> dict[str, Any]:
    lab = np.array(labels)
    con = lab == "contradicted"
    flagged = verdicts == "contradicted"
    return {"n": int(len(lab)), "accuracy": round(float(np.mean(verdicts == lab)), 4),
            "contradicted_recall": round(float(np.mean(flagged[con])), 4) if con.any() else None,
            "contradicted_precision": round(float(np.mean(con[flagged])), 4) if flagged.any() else None,
            "nonsupported_marked_supported": int(np.sum(verdicts[lab != "supported"] == "supported")),
            "nonsupported": int(np.sum(lab != "supported"))}


def fit(rows: list[dict], *, c: float = 0.3, max_danger: float = 0.0, fitted_on: str = "", nli: bool = True):
    """The verdict model fitted on these sentences (with `nli`, the support and contradict regressions also
    read the entailment model's probabilities)."""
    from dossier.app.check_model import VerdictModel

    support_f, contradict_f = (SUPPORT_NLI, CONTRADICT_NLI) if nli else (SUPPORT, CONTRADICT)

    xm = np.array([[cd[f] for f in MATCH] for r in rows for cd in r["cands"]], dtype=float)
    ym = np.array([int(cd["gold"]) for r in rows for cd in r["cands"]])
    match = _logistic(xm, ym, MATCH, c)
    xs, ys, xc, yc = [], [], [], []
    for r in rows:
        s, k = _best(r["cands"], match, "clean"), _best(r["cands"], match, "conflict")
        if s:
            xs.append([s[f] for f in support_f])
            ys.append(int(r["label"] == "supported"))
        if k:
            xc.append([k[f] for f in contradict_f])
            yc.append(int(r["label"] == "contradicted"))
    support = _logistic(np.array(xs, dtype=float), np.array(ys), support_f, c)
    contradict = _logistic(np.array(xc, dtype=float), np.array(yc), contradict_f, c)
    model = VerdictModel(match, support, contradict, 1.0, 1.0, fitted_on)
    p = _probs(rows, model)
    labels = [r["label"] for r in rows]
    grid = np.round(np.arange(0.05, 0.991, 0.02), 2)
    best = None
    for ts in grid:
        for tc in grid:
            m = metrics(labels, decide(p, ts, tc))
            if m["nonsupported_marked_supported"] > max_danger * m["nonsupported"]:
                continue
            key = (m["accuracy"], m["contradicted_recall"] or 0.0, -abs(ts - 0.5) - abs(tc - 0.5))
            if best is None or key > best[0]:
                best = (key, float(ts), float(tc))
    if best is None:
        raise ValueError("no thresholds keep the non-supported sentences marked supported under the limit")
    return VerdictModel(match, support, contradict, best[1], best[2], fitted_on)


def cross_validate(rows: list[dict], **kw) -> dict[str, Any]:
    """Leave one set out: each set's verdicts from the model fitted on the others."""
    sets = list(dict.fromkeys(r["set"] for r in rows))
    verdicts: dict[str, str] = {}
    per_set = {}
    for held in sets:
        train = [r for r in rows if r["set"] != held]
        test = [r for r in rows if r["set"] == held]
        model = fit(train, **kw)
        v = decide(_probs(test, model), model.support_threshold, model.contradict_threshold)
        verdicts.update({r["id"]: str(x) for r, x in zip(test, v)})
        per_set[held] = {**metrics([r["label"] for r in test], v), "thresholds": [model.support_threshold, model.contradict_threshold]}
    allv = np.array([verdicts[r["id"]] for r in rows])
    return {"per_set": per_set, "pooled": metrics([r["label"] for r in rows], allv), "verdicts": verdicts}


def run_fit(datasets: list[Path], *, work: Path, out: Path, c: float = 0.3, max_danger: float = 0.0,
            progress: Callable[[str, int, int], None] | None = None, nli: bool = True, rows_cache: Path | None = None) -> dict[str, Any]:
    """Collect the candidates' signals (or read them from `rows_cache`, written by an earlier run on the same
    sets), cross-validate, fit on all sets and write the model to `out`."""
    t0 = time.perf_counter()
    names = [p.name[: -len(".jsonl")] for p in datasets]
    rows = None
    if rows_cache and Path(rows_cache).exists():
        cached = json.loads(Path(rows_cache).read_text())
        if cached.get("datasets") == names:
            rows = cached["rows"]
    if rows is None:
        rows = collect(datasets, work=work, progress=progress, nli=False)
    if nli and not all(r.get("nli") for r in rows):
        add_nli(rows, progress=progress)
    if rows_cache:
        Path(rows_cache).parent.mkdir(parents=True, exist_ok=True)
        Path(rows_cache).write_text(json.dumps({"datasets": names, "rows": rows}))
    cv = cross_validate(rows, c=c, max_danger=max_danger, nli=nli)
    model = fit(rows, c=c, max_danger=max_danger, fitted_on=", ".join(names), nli=nli)
    insample = metrics([r["label"] for r in rows], decide(_probs(rows, model), model.support_threshold, model.contradict_threshold))
    report = {"datasets": names, "sentences": len(rows), "c": c, "max_danger": max_danger, "nli": nli,
              "cross_validated": {"per_set": cv["per_set"], "pooled": cv["pooled"]},
              "in_sample": insample, "seconds": round(time.perf_counter() - t0, 1)}
    model.save(out, {"fit": {k: report[k] for k in ("datasets", "sentences", "c", "max_danger", "nli", "cross_validated", "in_sample")}})
    return {"report": report, "model": model, "cv_verdicts": cv["verdicts"], "rows": rows}


def main(argv: list[str] | None = None) -> int:
    import argparse

    from dossier.app.check_model import MODEL_PATH, NLI_MODEL_PATH

    here = Path(__file__).parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="*", help="check dataset JSONL files (default: the seven sets of eval/datasets named in DEFAULT_SETS)")
    ap.add_argument("--out", type=Path, default=None, help="default: app/models/check-verdict-nli.json; with --no-nli eval/runs/check-verdict.json (the bundled default is replaced only by naming it)")
    ap.add_argument("--work", type=Path, default=here / "runs" / "check-stores")
    ap.add_argument("--c", type=float, default=0.3, help="inverse regularisation of the three regressions (0.3: best of 0.3, 1, 3 in the grouped CV)")
    ap.add_argument("--max-danger", type=float, default=0.004, help="share of the training data's non-supported sentences the thresholds may mark supported (0.004: at most one of the seven sets' 272)")
    ap.add_argument("--no-nli", dest="nli", action="store_false", help="leave the entailment model's probabilities out (the earlier verdict)")
    ap.add_argument("--rows", type=Path, default=None, help="cache of the collected signals (read when it holds the same sets)")
    a = ap.parse_args(argv)
    paths = [Path(p) for p in a.datasets] or [here / "datasets" / f"{n}.jsonl" for n in DEFAULT_SETS]
    res = run_fit(paths, work=a.work, out=a.out or (NLI_MODEL_PATH if a.nli else here / "runs" / MODEL_PATH.name), c=a.c, max_danger=a.max_danger, nli=a.nli, rows_cache=a.rows)
    print(json.dumps(res["report"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
