"""Check a run against recorded baselines (`eval/baselines.toml`): every listed metric must not be worse
than its recorded value by more than its tolerance.

Layout of the baselines file::

    [seed-dev.extractive]              # <dataset name>.<engine>[-strict]
    n_items = 129                      # the run must cover the same items
    max_failed = 0                     # most failed items allowed
    [seed-dev.extractive.metrics]
    correct = { value = 0.71, tolerance = 0.05 }

For a higher-is-better metric the run fails when ``mean < value - tolerance``; for a lower-is-better
one (over_abstention, broken_markers, faithful_unsupported) when ``mean > value + tolerance``.
Values are only ever written from a real run (see the comments in the file).
"""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .dataset import DatasetError
from .runner import load_report, load_run_meta

DEFAULT_BASELINES = Path(__file__).resolve().parent / "baselines.toml"


@dataclass
class CheckResult:
    section: str
    ok: bool
    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def section_name(meta: Mapping[str, Any]) -> str:
    return f"{meta.get('dataset_name')}.{meta.get('engine')}{'-strict' if meta.get('strict') else ''}"


def load_baselines(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: baselines file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DatasetError(f"{path}: expected valid TOML, got a parse error ({exc})") from exc


def _section(data: Mapping[str, Any], name: str, path: Path) -> Mapping[str, Any]:
    node: Any = data
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise DatasetError(f"{path}: [{name}]: expected a baseline section for this run, got none "
                               f"(sections: {', '.join(_sections(data)) or 'none'})")
        node = node[part]
    if not isinstance(node, Mapping) or "metrics" not in node:
        raise DatasetError(f"{path}: [{name}]: expected a table with a [{name}.metrics] sub-table, got none")
    return node


def _sections(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            name = f"{prefix}.{key}" if prefix else key
            out += [name] if "metrics" in value else _sections(value, name)
    return out


def check_report(report: Mapping[str, Any], baselines: Mapping[str, Any], *, section: str | None = None,
                 path: Path = DEFAULT_BASELINES) -> CheckResult:
    name = section or section_name(report.get("meta") or {})
    sec = _section(baselines, name, path)
    res = CheckResult(section=name, ok=True)
    counts = report.get("counts") or {}
    if "n_items" in sec and counts.get("items") != sec["n_items"]:
        res.failures.append(f"n_items: the baseline covers {sec['n_items']} items, this run {counts.get('items')}")
    if "max_failed" in sec:
        if (counts.get("failed") or 0) > sec["max_failed"]:
            res.failures.append(f"failed items: {counts.get('failed')} > max_failed {sec['max_failed']}")
        else:
            res.passed.append(f"failed items: {counts.get('failed')} <= {sec['max_failed']}")
    metrics = report.get("metrics") or {}
    for metric, spec in sec["metrics"].items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("value"), (int, float)):
            raise DatasetError(f"{path}: [{name}.metrics] {metric}: expected {{ value = X, tolerance = Y }}, got {spec!r}")
        tol = float(spec.get("tolerance", 0.0))
        if metric not in metrics:
            raise DatasetError(f"{path}: [{name}.metrics] {metric}: expected one of {', '.join(metrics)}, got an unknown metric")
        m = metrics[metric]
        mean = m.get("mean")
        value = float(spec["value"])
        if mean is None:
            res.failures.append(f"{metric}: no value in this run (baseline {value:.3f})")
            continue
        if m.get("higher_is_better", True):
            bad, bound, op = mean < value - tol, value - tol, ">="
        else:
            bad, bound, op = mean > value + tol, value + tol, "<="
        line = f"{metric}: {mean:.3f} (baseline {value:.3f}, tolerance {tol:.3f}, must be {op} {bound:.3f})"
        (res.failures if bad else res.passed).append(line)
    res.ok = not res.failures
    return res


def check_run(run: str | Path, baselines_path: str | Path = DEFAULT_BASELINES, *, section: str | None = None) -> CheckResult:
    report = load_report(run)
    if not report.get("meta"):
        report = dict(report, meta=load_run_meta(run))
    return check_report(report, load_baselines(baselines_path), section=section, path=Path(baselines_path))
