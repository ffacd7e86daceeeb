"""`dossier eval ...` commands (registered on the `dossier` CLI through the `dossier.cli` entry point)."""
from __future__ import annotations

import contextlib

import json
from datetime import datetime
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

eval_app = typer.Typer(no_args_is_help=True, help="Evaluate answer faithfulness and citation accuracy.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)

_EVAL_DIR = Path(__file__).resolve().parent


def _user_error(msg: str) -> Exception:
    from dossier.app.cli import UserError

    return UserError(msg)


def _settings(ctx: typer.Context):
    """The root command's settings (--data-dir, env), or the environment's when run on its own."""
    from dossier.app.settings import DossierSettings

    root = ctx.find_root().obj if ctx is not None else None
    settings = getattr(root, "settings", None)
    if settings is None:
        try:
            settings = DossierSettings()
        except Exception as exc:
            raise _user_error(f"invalid settings: {str(exc).splitlines()[0]}") from exc
    return settings


def _emit(obj) -> None:
    import sys

    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _progress(label: str, disable: bool) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                    TextColumn("{task.description}"), console=err, transient=True, disable=disable)


def _fmt(x, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


@eval_app.command("run")
def run_cmd(
    ctx: typer.Context,
    dataset: Path = typer.Argument(..., help="Dataset JSONL (its NAME.corpus.toml sidecar lists the documents)."),
    engine: str = typer.Option("extractive", "--engine", help="Answer engine: extractive, rules or llm."),
    strict: bool = typer.Option(False, "--strict/--no-strict", help="Strict mode: drop unsupported sentences."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Run folder (default eval/runs/NAME-ENGINE-TIMESTAMP)."),
    subset: Optional[int] = typer.Option(None, "--subset", min=1, help="Only the first N (selected) items."),
    tags: List[str] = typer.Option([], "--tags", help="Only items with this tag (repeatable; any of them)."),
    ids: List[str] = typer.Option([], "--id", help="Only this item id (repeatable)."),
    k: Optional[int] = typer.Option(None, "--k", min=1, max=50, help="Passages retrieved per question (default: settings)."),
    store: Optional[Path] = typer.Option(None, "--store", help="Use this existing data dir instead of a fresh OUT/store (nothing is ingested)."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus TOML (default: NAME.corpus.toml next to the dataset)."),
    as_json: bool = typer.Option(False, "--json", help="Print report.json to stdout (no progress bar)."),
    local_llm: bool = typer.Option(False, "--local-llm", help="Start a llama.cpp server with the bundled SmolLM2 on loopback for this run."),
):
    """Evaluate an engine on a dataset (fresh store, every question answered and scored).

    Writes records.jsonl, run.json, report.json, report.md and report.html under the run folder."""
    from .check_data import is_check_dataset
    from .dataset import DatasetError
    from .runner import run_eval

    name = dataset.name[: -len(".jsonl")] if dataset.name.endswith(".jsonl") else dataset.stem
    if is_check_dataset(dataset):  # a draft-check set (check-dev, check-heldout): the draft checker is scored
        return _run_check(ctx, dataset, name, out_dir, k, as_json)
    if out_dir is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out_dir = _EVAL_DIR / "runs" / f"{name}-{engine}{'-strict' if strict else ''}-{stamp}"
    settings = _settings(ctx)
    stack = contextlib.ExitStack()
    if local_llm:
        from dossier.app.local_llm import LLMServerError, running_llm_server

        try:
            settings.llm.base_url = stack.enter_context(running_llm_server())
        except LLMServerError as exc:
            raise _user_error(f"local LLM server: {exc}") from exc
        settings.llm.provider = "openai-like"
    with stack, _progress("eval", as_json) as bar:
        task = bar.add_task("ingesting the corpus", total=None)

        def progress(done: int, total: int, item_id: str) -> None:
            bar.update(task, completed=done, total=total, description=item_id)

        try:
            result = run_eval(dataset, engine=engine, strict=strict, out_dir=out_dir, settings=settings, store=store,
                              corpus_path=corpus, subset=subset, tags=tags, ids=ids, k=k, progress=progress)
        except DatasetError as exc:
            raise _user_error(str(exc)) from exc
    if as_json:
        _emit(result.report)
        return 0
    rep = result.report
    table = Table(title=f"{name} · {engine}{' · strict' if strict else ''} · {rep['counts']['items']} items")
    for col in ("metric", "mean", "95% CI", "n", "failed"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m in rep["metrics"].values():
        ci = "–" if m["ci_low"] is None else f"[{m['ci_low']:.3f}, {m['ci_high']:.3f}]"
        table.add_row(f"{m['label']} {'↑' if m['higher_is_better'] else '↓'}", _fmt(m["mean"]), ci, str(m["n"]), str(m["n_failed"]))
    out.print(table)
    total = rep["latency_ms"].get("total") or {}
    out.print(f"latency total: p50 {_fmt(total.get('p50'), 0)} ms, p95 {_fmt(total.get('p95'), 0)} ms")
    if rep["failures"]:
        out.print(f"[red]{len(rep['failures'])} item(s) failed[/red]: " + ", ".join(f["id"] for f in rep["failures"][:10]))
    out.print(f"reports: {result.out_dir / 'report.html'} (and report.md, report.json, records.jsonl)")
    return 0


def _run_check(ctx: typer.Context, dataset: Path, name: str, out_dir: Optional[Path], k: Optional[int], as_json: bool) -> int:
    """`eval run` on a draft-check dataset: every sentence checked against a store of its corpus (built once
    under eval/runs/check-stores), metrics with bootstrap CIs; report.md, report.json, records.jsonl."""
    from .check_draft import markdown, run_check_eval, write
    from .dataset import DatasetError

    out_dir = out_dir or _EVAL_DIR / "runs" / f"{name}-checker-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    with _progress("check", as_json) as bar:
        task = bar.add_task("building the store", total=None)
        try:
            result = run_check_eval(dataset, work=_EVAL_DIR / "runs" / "check-stores", settings=_settings(ctx), k=k,
                                    progress=lambda d, t, i: bar.update(task, completed=d, total=t, description=i))
        except DatasetError as exc:
            raise _user_error(str(exc)) from exc
    write(result, out_dir)
    if as_json:
        _emit(result["report"])
    else:
        out.print(markdown(result["report"]), markup=False)
        out.print(f"reports: {out_dir / 'report.md'} (and report.json, records.jsonl)")
    return 0


@eval_app.command("validate")
def validate_cmd(
    dataset: Path = typer.Argument(..., help="Dataset JSONL."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus TOML (default: NAME.corpus.toml next to the dataset)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Check a dataset's schema and that every gold quote is an exact span of its document.

    Quotes are checked against the file and against the text stored after reading; answer keys must
    occur in the reference answer. Exit 1 on any problem."""
    from .check_data import is_check_dataset, validate_check_dataset
    from .dataset import DatasetError, validate_dataset
    from .quotes_eval import is_quote_dataset, validate_quote_dataset

    try:
        validate = (validate_quote_dataset if is_quote_dataset(dataset) else
                    validate_check_dataset if is_check_dataset(dataset) else validate_dataset)
        rep = validate(dataset, corpus)
    except DatasetError as exc:
        raise _user_error(str(exc)) from exc
    if as_json:
        _emit(rep.to_dict())
    else:
        for p in rep.problems:
            out.print(f"[red]problem:[/red] {escape(p)}")
        for w in rep.warnings:
            out.print(f"[yellow]warning:[/yellow] {escape(w)}")
        state = "[green]ok[/green]" if rep.ok else f"[red]{len(rep.problems)} problem(s)[/red]"
        out.print(f"{dataset}: {rep.n_items} items, {rep.n_quotes} gold quotes checked against {rep.corpus.name}: {state}")
    raise typer.Exit(0 if rep.ok else 1)


@eval_app.command("calibrate")
def calibrate_cmd(
    ctx: typer.Context,
    labels: Path = typer.Option(_EVAL_DIR / "datasets" / "support-labels.jsonl", "--labels", help="Hand-labelled (sentence, passage) pairs."),
    out_path: Path = typer.Option(_EVAL_DIR / "calibration.json", "--out", help="Where to write the fitted thresholds and figures."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/held-out split."),
    train_frac: float = typer.Option(0.7, "--train-frac", min=0.1, max=0.9, help="Fraction of labels used to fit."),
    objective: str = typer.Option("balanced_accuracy", "--objective", help="balanced_accuracy or macro_f1 (3-way)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=10, help="Use only the first N labels (quick check)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result JSON."),
):
    """Fit the verifier thresholds on hand labels and report held-out agreement.

    Seeded, label-stratified 70/30 split; the labels are never changed."""
    from .calibrate import calibrate, summary_rows, write_calibration
    from .dataset import DatasetError

    if objective not in ("balanced_accuracy", "macro_f1"):
        raise _user_error(f"--objective: expected balanced_accuracy or macro_f1, got {objective!r}")
    settings = _settings(ctx)
    with _progress("calibrate", as_json) as bar:
        task = bar.add_task("loading the embedder", total=None)
        try:
            result = calibrate(labels, settings=settings, seed=seed, train_frac=train_frac, objective=objective, limit=limit,
                               progress=lambda d, t, i: bar.update(task, completed=d, total=t, description=i))
        except DatasetError as exc:
            raise _user_error(str(exc)) from exc
    write_calibration(result, out_path)
    if as_json:
        _emit(result)
        return 0
    table = Table(title=f"verifier vs {result['n']} hand labels — held-out split ({result['n_heldout']} pairs, seed {seed})")
    for col in ("figure", "fitted thresholds", "configured thresholds"):
        table.add_column(col)
    for row in summary_rows(result):
        table.add_row(*row)
    out.print(table)
    f = result["fitted"]
    out.print(f"fitted on {result['n_train']} pairs ({objective} {f['train_objective']:.3f}); written to {out_path}")
    out.print(f"to use them: DOSSIER_ANSWER__SUPPORT_THRESHOLD={f['support_threshold']:.2f} "
              f"DOSSIER_ANSWER__PARTIAL_THRESHOLD={f['partial_threshold']:.2f}")
    return 0


@eval_app.command("compare")
def compare_cmd(
    run_a: Path = typer.Argument(..., help="Run folder A."),
    run_b: Path = typer.Argument(..., help="Run folder B."),
    metric: List[str] = typer.Option([], "--metric", help="Only these metrics (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
):
    """Paired per-item differences A - B for each metric, with bootstrap CIs."""
    from .compare import compare_runs
    from .dataset import DatasetError

    try:
        res = compare_runs(run_a, run_b, names=metric or None)
    except (DatasetError, ValueError) as exc:
        raise _user_error(str(exc)) from exc
    if as_json:
        _emit(res)
        return 0
    for w in res["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}")
    table = Table(title=f"A = {run_a.name} ({res['a']['engine']})  vs  B = {run_b.name} ({res['b']['engine']})")
    for col in ("metric", "A", "B", "A - B", "95% CI", "n", "wins/losses/ties", "verdict"):
        table.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
    for r in res["metrics"]:
        digits = 0 if r["metric"] == "latency_ms" else 3
        ci = "–" if r["ci_low"] is None else f"[{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"
        table.add_row(f"{r['label']} {'↑' if r['higher_is_better'] else '↓'}", _fmt(r["mean_a"], digits), _fmt(r["mean_b"], digits),
                      _fmt(r["mean_diff"], digits), ci, str(r["n"]), f"{r['wins']}/{r['losses']}/{r['ties']}", r["verdict"])
    out.print(table)
    return 0


@eval_app.command("check")
def check_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    baseline: Path = typer.Option(_EVAL_DIR / "baselines.toml", "--baseline", help="Baselines TOML."),
    section: Optional[str] = typer.Option(None, "--section", help="Baseline section (default DATASET.ENGINE[-strict] of the run)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Exit 1 naming each metric worse than its recorded baseline by more than the tolerance."""
    from .check import check_run
    from .dataset import DatasetError

    try:
        res = check_run(run, baseline, section=section)
    except DatasetError as exc:
        raise _user_error(str(exc)) from exc
    if as_json:
        _emit(res.to_dict())
    else:
        for line in res.passed:
            out.print(f"[green]ok[/green]    {escape(line)}")
        for line in res.failures:
            out.print(f"[red]FAIL[/red]  {escape(line)}")
        out.print(escape(f"[{res.section}]: ") + ("[green]all within tolerance[/green]" if res.ok else f"[red]{len(res.failures)} regression(s)[/red]"))
    raise typer.Exit(0 if res.ok else 1)


@eval_app.command("export")
def export_cmd(
    run: Path = typer.Argument(..., help="Run folder."),
    fmt: str = typer.Option(..., "--format", help="ragas (SingleTurnSample fields) or deepeval (LLMTestCase fields)."),
    out_path: Optional[Path] = typer.Option(None, "--out", help="Write JSONL here (default: stdout)."),
):
    """Export the run's records as RAGAS or DeepEval test-case dicts, one JSON object per line."""
    from .adapters import FORMATS, export_records
    from .dataset import DatasetError
    from .runner import load_records

    if fmt not in FORMATS:
        raise _user_error(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        rows, skipped = export_records(load_records(run), fmt)
    except DatasetError as exc:
        raise _user_error(str(exc)) from exc
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if out_path is None:
        import sys

        sys.stdout.write(text)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
        err.print(f"{len(rows)} rows written to {out_path}")
    if skipped:
        err.print(f"[yellow]{skipped} failed item(s) skipped[/yellow]")
    return 0


@eval_app.command("judge")
def judge_cmd(
    ctx: typer.Context,
    run: Path = typer.Argument(..., help="Run folder."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name (default: settings llm.model)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible base URL (default: settings llm.base_url)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N records."),
    max_claims: int = typer.Option(8, "--max-claims", min=1, help="Most claims judged per answer."),
    retries: int = typer.Option(2, "--retries", min=0, max=5, help="Retries of a reply that is not valid JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary JSON."),
):
    """Optional LLM judge: claims of each answer checked against its cited passages (cached, temperature 0).

    Writes judge.jsonl and judge.json into the run folder; parse failures are counted, never guessed."""
    from .dataset import DatasetError
    from .judge import judge_run, openai_like_judge

    settings = _settings(ctx)
    judge = openai_like_judge(settings.llm, model=model, base_url=base_url, cache_dir=run / "judge-cache", retries=retries)
    with _progress("judge", as_json) as bar:
        task = bar.add_task("", total=None)
        try:
            summary = judge_run(run, judge, limit=limit, max_claims=max_claims,
                                progress=lambda d, t, i: bar.update(task, completed=d, total=t, description=i))
        except DatasetError as exc:
            raise _user_error(str(exc)) from exc
    if as_json:
        _emit(summary)
        return 0
    cs = summary["claim_support"]
    st = summary["stats"]
    out.print(f"judge {summary['model']}: {summary['answered']} answered items, {summary['claims']} claims; "
              f"claim support {_fmt(cs['mean'])} (n={cs['n']}); unjudged {summary['unjudged']}")
    out.print(f"calls {st['calls']}, cache hits {st['cache_hits']}, retries {st['retries']}, "
              f"parse failures {st['parse_failures']}, endpoint errors {st['errors']}")
    return 0


# --- the learned answer scorer and the SQuAD benchmark -------------------------------------------------
_EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"


@eval_app.command("squad-convert")
def squad_convert_cmd(
    external: Path = typer.Option(_EXTERNAL, "--external", help="Folder with the SQuAD 2.0 files (shared/external)."),
    out_dir: Path = typer.Option(_EVAL_DIR / "datasets", "--out", help="Dataset folder."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON."),
):
    """Write the SQuAD dev and test articles as eval datasets (squad-dev/test.jsonl, corpus sidecars, article
    texts). Training articles are never written: they are the answer scorer's."""
    from . import squad

    written = {}
    for split in ("dev", "test"):
        try:
            path, n = squad.write_dataset(external, split, out_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise _user_error(str(exc)) from exc
        written[split] = {"dataset": str(path), "items": n}
    path, n = squad.write_smoke(out_dir)
    written["smoke"] = {"dataset": str(path), "items": n}
    _emit(written) if as_json else out.print("\n".join(f"{s}: {w['items']} items -> {w['dataset']}" for s, w in written.items()))


def _run_training(train, cfg, as_json: bool) -> None:
    """A training command's run: progress lines on stderr (none with --json), missing or bad data as one-line
    errors, the training record printed with --json."""
    try:
        record = train(cfg, progress=(lambda m: None) if as_json else (lambda m: err.print(m)))
    except (FileNotFoundError, ValueError) as exc:
        raise _user_error(str(exc)) from exc
    if as_json:
        _emit(record)


@eval_app.command("train-reader")
def train_reader_cmd(
    external: Path = typer.Option(_EXTERNAL, "--external", help="Folder with the SQuAD 2.0 files (shared/external)."),
    out_dir: Path = typer.Option(Path("app/models/reader"), "--out", help="Where the int8 ONNX scorer goes."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.01, help="Training epochs."),
    seed: int = typer.Option(13, "--seed", help="Random seed (pairs, shuffling, initialisation)."),
    max_pairs: Optional[int] = typer.Option(None, "--max-pairs", min=1, help="Only the first N training pairs (a quick check)."),
    lr: float = typer.Option(5e-5, "--lr", min=1e-7, help="Learning rate."),
    init: Optional[Path] = typer.Option(None, "--init", help="Continue from this fine-tuned model folder (a second stage) instead of the bundled MiniLM."),
    hard: bool = typer.Option(False, "--hard-negatives/--random-negatives", help="Same-paragraph negatives: the lexically closest sentences, or random ones."),
    keep_hf: Optional[Path] = typer.Option(None, "--keep-torch", help="Also keep the fine-tuned torch model here (for --init or a re-export)."),
    as_json: bool = typer.Option(False, "--json", help="Print the training record as JSON."),
):
    """Fine-tune the answer-sentence scorer (a cross-encoder from the bundled MiniLM) on the SQuAD training
    articles, export it to ONNX and quantize it to int8. Reproduces the committed weights (about 20 min on
    2 CPU cores); then run `dossier eval fit-abstain`."""
    from .train_reader import TrainConfig, train

    cfg = TrainConfig(external=external, out=out_dir, epochs=epochs, seed=seed, max_pairs=max_pairs, lr=lr, init=init, hard=hard,
                      keep_hf=keep_hf)
    _run_training(train, cfg, as_json)


@eval_app.command("train-nli")
def train_nli_cmd(
    external: Path = typer.Option(_EXTERNAL, "--external", help="Folder with the SQuAD 2.0 files (shared/external): the synthetic pairs' text."),
    out_dir: Path = typer.Option(Path("app/models/nli"), "--out", help="Where the int8 ONNX entailment model goes."),
    epochs: float = typer.Option(1.0, "--epochs", min=0.01, help="Training epochs."),
    seed: int = typer.Option(13, "--seed", help="Random seed (pairs, shuffling, initialisation)."),
    max_pairs: Optional[int] = typer.Option(None, "--max-pairs", min=1, help="Only the first N training pairs (a quick check)."),
    max_dev: Optional[int] = typer.Option(None, "--max-dev", min=1, help="Only the first N held-out pairs of each source."),
    work: Optional[Path] = typer.Option(None, "--work", help="Keep checkpoints and the torch model here (default: a temp folder, removed)."),
    as_json: bool = typer.Option(False, "--json", help="Print the training record as JSON."),
):
    """Fine-tune the draft checker's entailment model (a 3-class cross-encoder from the bundled MiniLM) on
    SNLI, SICK and synthetic pairs from the SQuAD training articles, export it to ONNX and quantize it to
    int8. Reproduces the committed weights (see app/models/nli/MODEL_CARD.md); then run `dossier eval fit-check`."""
    from .train_nli import NliTrainConfig, train

    cfg = NliTrainConfig(external=external, out=out_dir, epochs=epochs, seed=seed, max_pairs=max_pairs, max_dev=max_dev, work=work)
    _run_training(train, cfg, as_json)


@eval_app.command("fit-abstain")
def fit_abstain_cmd(
    ctx: typer.Context,
    work: Path = typer.Option(_EVAL_DIR / "runs" / "squad", "--work", help="Folder for the dev stores (reused)."),
    subset: Optional[int] = typer.Option(None, "--subset", min=1, help="Only the first N dev questions."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Where abstain.json goes (default: the scorer's folder)."),
    as_json: bool = typer.Option(False, "--json", help="Print the fit's figures as JSON."),
):
    """Fit the extractive engine's abstention model and threshold on the dev data (SQuAD dev articles and
    seed-dev, equal weight; never the test articles, seed-probe or seed-heldout)."""
    from dossier.app.reader import MODEL_DIR

    from . import fit_abstain

    settings = _settings(ctx)
    with _progress("fit-abstain", as_json) as bar:
        task = bar.add_task("", total=None)
        rows = []
        for name in fit_abstain.DEV_SETS:
            rows += fit_abstain.collect(name, work, settings=settings, subset=subset,
                                        progress=lambda what, d, t: bar.update(task, completed=d, total=t, description=what))
    model, stats = fit_abstain.fit(rows, fitted_on="dev data: SQuAD 2.0 dev articles (Steam_engine, Force) and seed-dev, equal weight")
    fit_abstain.write(model, stats, out_dir or settings.answer.reader_dir or MODEL_DIR)
    if as_json:
        _emit(stats)
        return
    out.print(f"{stats['n']} dev questions: threshold {stats['threshold']:.3f}, dev overall {stats['dev_overall_at_threshold']:.3f}, "
              f"AUC confidence {_fmt(stats['auc_confidence'])} (top score alone {_fmt(stats['auc_top_score_alone'])})")


@eval_app.command("fit-check")
def fit_check_cmd(
    datasets: Optional[list[Path]] = typer.Argument(None, help="Check datasets to fit on (default: the seven named in eval/fit_check.py DEFAULT_SETS; never globbed)."),
    work: Path = typer.Option(_EVAL_DIR / "runs" / "check-stores", "--work", help="Folder for the corpus store (reused)."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Where the model JSON goes (default: app/models/check-verdict-nli.json; with --no-nli eval/runs/check-verdict.json, so the bundled default is replaced only by naming it)."),
    c: float = typer.Option(0.3, "--c", help="Inverse regularisation of the three logistic regressions."),
    max_danger: float = typer.Option(0.004, "--max-danger", help="Share of the training data's non-supported sentences the thresholds may mark supported (0.004: at most one of the seven sets' 272)."),
    nli: bool = typer.Option(True, "--nli/--no-nli", help="Whether the support and contradict regressions read the entailment model (app/models/nli)."),
    rows: Optional[Path] = typer.Option(None, "--rows", help="Cache of the collected signals (JSON; read when it holds the same sets, else written)."),
    as_json: bool = typer.Option(False, "--json", help="Print the fit's figures as JSON."),
):
    """Fit the draft checker's verdict model on labelled check sets, with leave-one-set-out cross-validation
    (the figures to quote), then on all of them (written with its CV figures)."""
    from dossier.app.check_model import MODEL_PATH, NLI_MODEL_PATH

    from . import fit_check

    paths = list(datasets or [_EVAL_DIR / "datasets" / f"{n}.jsonl" for n in fit_check.DEFAULT_SETS])
    with _progress("fit-check", as_json) as bar:
        task = bar.add_task("", total=None)
        res = fit_check.run_fit(paths, work=work, out=out_file or (NLI_MODEL_PATH if nli else _EVAL_DIR / "runs" / MODEL_PATH.name), c=c, max_danger=max_danger, nli=nli, rows_cache=rows,
                                progress=lambda what, d, t: bar.update(task, completed=d, total=t, description=what))
    rep = res["report"]
    if as_json:
        _emit(rep)
        return
    for name, m in rep["cross_validated"]["per_set"].items():
        out.print(f"{name} (held out): accuracy {m['accuracy']:.3f}, contradicted recall {_fmt(m['contradicted_recall'])}, "
                  f"{m['nonsupported_marked_supported']} of {m['nonsupported']} non-supported marked supported")
    p, i = rep["cross_validated"]["pooled"], rep["in_sample"]
    out.print(f"pooled cross-validated: accuracy {p['accuracy']:.3f}, recall {_fmt(p['contradicted_recall'])}, "
              f"{p['nonsupported_marked_supported']} of {p['nonsupported']}; in-sample (not evidence): {i['accuracy']:.3f}")


@eval_app.command("squad")
def squad_cmd(
    ctx: typer.Context,
    split: str = typer.Option("test", "--split", help="dev or test (test: articles no training or tuning touched)."),
    engines: List[str] = typer.Option(["extractive", "rules"], "--engine", help="Engines to score (repeatable)."),
    baselines: List[str] = typer.Option(["always-abstain", "best-cosine", "llama-index"], "--baseline",
                                        help="Baselines (repeatable; 'none' for none)."),
    subset: Optional[int] = typer.Option(None, "--subset", min=1, help="Only the first N questions."),
    k: int = typer.Option(6, "--k", min=1, max=50, help="Passages retrieved per question."),
    work: Path = typer.Option(_EVAL_DIR / "runs" / "squad", "--work", help="Folder for the store (reused) and the report."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """SQuAD 2.0 open book: engines and baselines side by side on one store (has_ans, cited, no_ans, overall,
    median answer words, bootstrap CIs). Writes squad-report.{md,json} and squad-records.json under --work."""
    from . import squad_bench

    if split not in ("dev", "test"):
        raise _user_error(f"--split: expected dev or test, got {split!r}")
    settings = _settings(ctx)
    with _progress("squad", as_json) as bar:
        task = bar.add_task("", total=None)
        try:
            report = squad_bench.run_squad(split, engines=tuple(engines), baselines=tuple(b for b in baselines if b != "none"), subset=subset, k=k,
                                           work=work, settings=settings,
                                           progress=lambda what, d, t: bar.update(task, completed=d, total=t, description=what))
        except (FileNotFoundError, ValueError) as exc:
            raise _user_error(str(exc)) from exc
    squad_bench.write(report, work / split)
    if as_json:
        _emit({k2: v for k2, v in report.items() if k2 != "records"})
        return
    out.print(squad_bench.markdown(report))
    out.print(f"report: {work / split / 'squad-report.md'}")


@eval_app.command("quotes")
def quotes_cmd(
    datasets: List[Path] = typer.Argument(None, help="Labelled quote datasets (default: every eval/datasets/quotes-*.jsonl)."),
    show: bool = typer.Option(False, "--show", help="Also list the misses and the unlabelled predictions."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
):
    """Quote attribution: precision and recall of direct quotes and reported speech found with the right
    speaker, and the speaker list's recall, precision and accuracy, per labelled dataset (dev or held-out)."""
    from .dataset import DatasetError
    from .quotes_eval import default_datasets, evaluate, report_lines, to_json

    try:
        results = [evaluate(p) for p in (datasets or default_datasets())]
    except DatasetError as exc:
        raise _user_error(str(exc)) from exc
    if as_json:
        out.print(to_json(results), markup=False)
        return
    for line in report_lines(results):
        out.print(line, markup=False)
    if show:
        for r in results:
            for m in r.misses:
                out.print(f"{r.dataset}: miss {m['id']} ({m['kind']}, {m['speaker']}): {m['why']}: {m['quote']}", markup=False)
            for x in r.extras:
                out.print(f"{r.dataset}: unlabelled {x['kind']} by {x['speaker']} in {x['doc']}: {x['quote']}", markup=False)
            for p in r.speakers["problems"]:
                out.print(f"{r.dataset}: speaker {p['speaker']}: {p['why']}", markup=False)
