"""Reports of a run: `report.json` (everything), `report.md` (tables) and a self-contained `report.html`
(inline CSS and SVG, no external assets; every piece of source text is HTML-escaped)."""
from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .metrics import abstention_metrics, broken_markers
from .scoring import HEADLINE, aggregate_all, agg_dict, all_metrics, latency, per_tag

_META_KEYS = ("dataset", "dataset_name", "dataset_sha256", "corpus", "corpus_doc_ids", "n_items", "n_dataset_items",
              "selection", "engine", "strict", "k", "store", "fresh_store", "embedder", "thresholds", "git_commit", "git_dirty",
              "finished_at", "seconds", "n_failed")


def build_report(records: Sequence[Mapping[str, Any]], meta: Mapping[str, Any], calibration: Mapping[str, Any] | None) -> dict:
    k = int(meta.get("k") or 6)
    metrics = all_metrics(k)
    aggs = aggregate_all(records, metrics)
    table = {m.name: dict(agg_dict(aggs[m.name]), label=m.label, group=m.group, higher_is_better=m.higher_is_better,
                          help=m.help) for m in metrics}
    tag_names = [f"hit@{k}", *HEADLINE]
    tags = per_tag(records, tag_names)
    ok = [r for r in records if not r.get("failed")]
    return {
        "meta": {key: meta.get(key) for key in _META_KEYS},
        "counts": {
            "items": len(records),
            "failed": sum(1 for r in records if r.get("failed")),
            "answerable": sum(1 for r in records if r.get("answerable")),
            "unanswerable": sum(1 for r in records if not r.get("answerable")),
            "abstained": sum(1 for r in ok if r.get("abstained")),
            "sentences": sum(len((r.get("answer") or {}).get("sentences") or []) for r in ok),
            "citations": sum(len((r.get("answer") or {}).get("citations") or []) for r in ok),
            "broken_markers": sum(broken_markers(r["answer"]) for r in ok if r.get("answer")),
        },
        "metrics": table,
        "abstention": asdict(abstention_metrics(records)),
        "latency_ms": latency(records),
        "by_tag": {t: {n: agg_dict(a) for n, a in per.items()} for t, per in tags.items()},
        "tag_counts": _tag_counts(records),
        "calibration": _calibration_summary(calibration),
        "failures": [{"id": r["id"], "error": r.get("error", "")} for r in records if r.get("failed")],
    }


def _tag_counts(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        for t in dict.fromkeys(r.get("tags") or ["(untagged)"]):
            counts[t] = counts.get(t, 0) + 1
    return dict(sorted(counts.items()))


def _calibration_summary(cal: Mapping[str, Any] | None) -> dict | None:
    if not cal:
        return None
    keep = ("source", "labels", "labels_sha256", "n", "n_train", "n_heldout", "seed", "train_frac", "objective", "embedder",
            "fitted", "configured", "heldout", "heldout_configured", "created_at")
    return {k: cal.get(k) for k in keep if k in cal}


# --------------------------------------------------------------------------- formatting helpers


def _f(x: Any, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _ci(a: Mapping[str, Any]) -> str:
    if a.get("ci_low") is None:
        return "–"
    return f"[{a['ci_low']:.3f}, {a['ci_high']:.3f}]"


def _ms(x: Any) -> str:
    return "–" if x is None else f"{x:,.0f}"


def summary_rows(report: Mapping[str, Any]) -> list[tuple[str, str, str, str, str, str]]:
    """(group, metric, mean, CI, n, failed) for every metric."""
    rows = []
    for name, a in report["metrics"].items():
        arrow = "↑" if a["higher_is_better"] else "↓"
        rows.append((a["group"], f"{a['label']} {arrow}", _f(a["mean"]), _ci(a), str(a["n"]), str(a["n_failed"])))
    return rows


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _tag_rows(report: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    names = list(next(iter(report["by_tag"].values())).keys()) if report["by_tag"] else []
    labels = {n: report["metrics"][n]["label"] for n in names if n in report["metrics"]}
    header = ["tag", "items"] + [labels.get(n, n) for n in names]
    rows = []
    for tag, per in report["by_tag"].items():
        n_items = (report.get("tag_counts") or {}).get(tag, max((a["n"] for a in per.values()), default=0))
        rows.append([tag, str(n_items)] + [f"{_f(a['mean'])} (n={a['n']})" if a["mean"] is not None else "–" for a in per.values()])
    return header, rows


def _latency_rows(report: Mapping[str, Any]) -> list[list[str]]:
    lat = report["latency_ms"]
    return [[stage, _ms(v["p50"]), _ms(v["p95"]), _ms(v["mean"])] for stage, v in lat.items() if isinstance(v, dict)]


def _calibration_rows(cal: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    from .calibrate import summary_rows as cal_rows

    return cal_rows(cal)


# --------------------------------------------------------------------------- markdown


def render_markdown(report: Mapping[str, Any]) -> str:
    m, c = report["meta"], report["counts"]
    parts = [
        f"# Evaluation: {m.get('dataset_name')} — engine `{m.get('engine')}`{' (strict)' if m.get('strict') else ''}",
        "",
        f"- dataset: `{m.get('dataset')}` ({c['items']} items: {c['answerable']} answerable, {c['unanswerable']} not; "
        f"sha256 {str(m.get('dataset_sha256'))[:12]})",
        f"- store: `{m.get('store')}` ({'fresh' if m.get('fresh_store') else 'existing'}), embedder {m.get('embedder')}, k={m.get('k')}",
        f"- verifier thresholds in this run: support {(m.get('thresholds') or {}).get('support')}, partial {(m.get('thresholds') or {}).get('partial')}",
        f"- failed items: {c['failed']}; abstained: {c['abstained']}; broken markers: {c['broken_markers']}",
        f"- finished {m.get('finished_at')} in {m.get('seconds')} s; commit {str(m.get('git_commit') or '-')[:12]}",
        "",
        "Means with 95% bootstrap CIs (seed 0). n counts applicable items, failures included (scored as the worst value).",
        "Citation recall/precision use the run's own verifier as the support judge.",
        "",
        "## Metrics",
        "",
        _md_table(["group", "metric", "mean", "95% CI", "n", "failed"], summary_rows(report)),
        "",
        "## Latency (ms, items that did not fail)",
        "",
        _md_table(["stage", "p50", "p95", "mean"], _latency_rows(report)),
        "",
        "## By tag",
        "",
        _md_table(*_tag_rows(report)),
        "",
    ]
    cal = report.get("calibration")
    parts += ["## Verifier calibration (held-out split of the hand labels)", ""]
    if cal:
        parts += [f"Source: {cal.get('source', '-')}; {cal.get('n')} labels, {cal.get('n_train')} train / "
                  f"{cal.get('n_heldout')} held out (seed {cal.get('seed')}), objective {cal.get('objective')}.", "",
                  _md_table(["figure", "fitted thresholds", "configured thresholds"], _calibration_rows(cal)), ""]
    else:
        parts += ["(no calibration figures)", ""]
    if report["failures"]:
        parts += ["## Failed items", ""] + [f"- `{f['id']}`: {f['error']}" for f in report["failures"]] + [""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- html

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}th,td{border:1px solid #d5d9e2;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f3f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555;font-size:.9rem}.ok{color:#17703a}.bad{color:#b3261e}.warn{color:#8a5a00}
details{border:1px solid #d5d9e2;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}
.passage{white-space:pre-wrap;background:#fafbfd;border-left:3px solid #c9cfdc;padding:.4rem .6rem;margin:.3rem 0;font-size:.88rem}
mark{background:#ffe27a;padding:0 1px}.tag{display:inline-block;background:#eef1f7;border-radius:4px;padding:0 .35rem;margin-right:.2rem;font-size:.8rem}
.sup{color:#17703a}.par{color:#8a5a00}.uns{color:#b3261e}.small{font-size:.85rem;color:#555}
"""


def _e(s: Any) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 99) -> str:
    out = ["<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td class=\"num\">{_e(c)}</td>" if i >= numeric_from else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def bar_chart_svg(values: Sequence[tuple[str, float | None, int]], title: str) -> str:
    """A horizontal bar chart (label, value in [0, 1] or None, n) as inline SVG."""
    rows = [(lab, v, n) for lab, v, n in values if v is not None]
    bar_h, gap, left, width = 18, 6, 150, 360
    height = 30 + len(rows) * (bar_h + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{left + width + 90}" height="{height}" '
             f'viewBox="0 0 {left + width + 90} {height}" font-family="system-ui,sans-serif" font-size="12">',
             f"<title>{_e(title)}</title>",
             f'<text x="0" y="14" font-weight="bold">{_e(title)}</text>']
    for frac in (0.0, 0.5, 1.0):
        x = left + frac * width
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height}" stroke="#dde" />')
    for i, (lab, v, n) in enumerate(rows):
        y = 24 + i * (bar_h + gap)
        w = max(0.0, min(1.0, float(v))) * width
        color = "#2f7d4a" if v >= 0.75 else "#c28a00" if v >= 0.5 else "#b3261e"
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(lab)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"><title>{_e(lab)}: '
                     f'{v:.3f} (n={n})</title></rect>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}">{v:.2f} (n={n})</text>')
    parts.append("</svg>")
    return "".join(parts)


def highlight_quote(passage: str, quote: str) -> str:
    """The passage HTML-escaped, with the (first occurrence of the) quote inside <mark>."""
    i = passage.find(quote) if quote else -1
    if i < 0:
        return _e(passage)
    return _e(passage[:i]) + "<mark>" + _e(quote) + "</mark>" + _e(passage[i + len(quote):])


_SUPPORT_CLASS = {"supported": "sup", "partial": "par", "unsupported": "uns"}


def _status(r: Mapping[str, Any]) -> tuple[str, str]:
    if r.get("failed"):
        return "failed", "bad"
    s = r.get("scores") or {}
    if not r.get("answerable"):
        return ("abstained ✓", "ok") if r.get("abstained") else ("answered an unanswerable question", "bad")
    if r.get("abstained"):
        return "abstained on an answerable question", "bad"
    return ("correct", "ok") if s.get("correct") == 1.0 else ("incorrect", "bad")


def _drilldown(r: Mapping[str, Any]) -> str:
    status, cls = _status(r)
    tags = "".join(f'<span class="tag">{_e(t)}</span>' for t in r.get("tags") or [])
    out = [f'<details id="{_e(r["id"])}"><summary><b>{_e(r["id"])}</b> <span class="{cls}">[{_e(status)}]</span> '
           f"{_e(r['question'])} {tags}</summary>"]
    for h in r.get("history") or []:
        out.append(f'<p class="small">earlier turn: {_e(h["question"])} → {_e(h["answer"])}</p>')
    if r.get("answerable"):
        out.append(f'<p class="small">reference: {_e(r.get("reference_answer"))}; keys: {_e(r.get("answer_keys"))}</p>')
    if r.get("failed"):
        out.append(f'<p class="bad">error: {_e(r.get("error"))}</p></details>')
        return "".join(out)
    ans = r.get("answer") or {}
    out.append(f"<p><b>Answer:</b> {_e(ans.get('answer'))}</p>")
    if ans.get("notice"):
        out.append(f'<p class="warn">notice: {_e(ans["notice"])}</p>')
    if ans.get("sentences"):
        out.append("<ol class=\"small\">")
        verdicts = r.get("verdicts") or []
        for i, s in enumerate(ans["sentences"]):
            v = verdicts[i] if i < len(verdicts) else {}
            detail = f" coverage {_f(v.get('coverage'), 2)}, similarity {_f(v.get('similarity'), 2)}" if v else ""
            miss = ", ".join(str(x) for x in (v.get("missing_numbers") or []) + (v.get("missing_names") or []))
            out.append(f'<li><span class="{_SUPPORT_CLASS.get(s.get("support"), "")}">{_e(s.get("support"))} '
                       f'({_f(s.get("score"), 2)})</span> cites {_e(s.get("citations"))}{_e(detail)}'
                       f'{" — missing: " + _e(miss) if miss else ""}</li>')
        out.append("</ol>")
    for c in ans.get("citations") or []:
        out.append(f'<p class="small">[{_e(c.get("n"))}] {_e(c.get("title"))} — {_e(c.get("source"))} '
                   f'[{_e(c.get("start"))}:{_e(c.get("end"))}]</p>')
        out.append(f'<div class="passage">{highlight_quote(c.get("passage") or "", c.get("quote") or "")}</div>')
    if ans.get("abstained") and ans.get("closest"):
        out.append('<p class="small">closest passages:</p>')
        for c in ans["closest"][:3]:
            out.append(f'<div class="passage">{_e((c.get("passage") or "")[:600])}</div>')
    if r.get("gold"):
        out.append('<p class="small"><b>Gold:</b></p><ul class="small">')
        out += [f"<li>{_e(g['doc'])}: “{_e(g['quote'])}”</li>" for g in r["gold"]]
        out.append("</ul>")
    scores = r.get("scores") or {}
    shown = ", ".join(f"{k} {_f(v, 2)}" for k, v in scores.items() if v is not None)
    out.append(f'<p class="small">query: {_e(r.get("query"))}<br>scores: {_e(shown)}</p></details>')
    return "".join(out)


def render_html(report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    m, c = report["meta"], report["counts"]
    title = f"Evaluation: {m.get('dataset_name')} — {m.get('engine')}{' (strict)' if m.get('strict') else ''}"
    tag_corr = [(t, per["correct"]["mean"], per["correct"]["n"]) for t, per in report["by_tag"].items() if "correct" in per]
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">dataset {_e(m.get("dataset"))} · {c["items"]} items ({c["answerable"]} answerable, '
        f'{c["unanswerable"]} not) · failed {c["failed"]} · abstained {c["abstained"]} · k={_e(m.get("k"))} · '
        f'embedder {_e(m.get("embedder"))} · verifier thresholds support {_e((m.get("thresholds") or {}).get("support"))} / '
        f'partial {_e((m.get("thresholds") or {}).get("partial"))} · finished {_e(m.get("finished_at"))} '
        f'in {_e(m.get("seconds"))} s · commit {_e(str(m.get("git_commit") or "-")[:12])}</p>',
        "<p class=\"small\">Means with 95% bootstrap CIs. n counts applicable items, failures included (scored as the worst value). "
        "Citation recall/precision use the run's own verifier as the support judge.</p>",
        "<h2>Metrics</h2>",
        _html_table(["group", "metric", "mean", "95% CI", "n", "failed"], summary_rows(report), numeric_from=2),
        "<h2>Latency (ms)</h2>",
        _html_table(["stage", "p50", "p95", "mean"], _latency_rows(report), numeric_from=1),
        "<h2>By tag</h2>",
        bar_chart_svg(tag_corr, "Correctness by tag (answerable items)"),
        _html_table(*_tag_rows(report)),
    ]
    cal = report.get("calibration")
    parts.append("<h2>Verifier calibration</h2>")
    if cal:
        parts.append(f'<p class="small">source {_e(cal.get("source", "-"))}; {_e(cal.get("n"))} hand labels, '
                     f'{_e(cal.get("n_train"))} train / {_e(cal.get("n_heldout"))} held out (seed {_e(cal.get("seed"))}); '
                     f'figures on the held-out split.</p>')
        parts.append(_html_table(["figure", "fitted thresholds", "configured thresholds"], _calibration_rows(cal)))
    else:
        parts.append("<p>(no calibration figures)</p>")
    if report["failures"]:
        parts.append("<h2>Failed items</h2><ul>" + "".join(f"<li><a href=\"#{_e(f['id'])}\">{_e(f['id'])}</a>: {_e(f['error'])}</li>"
                                                          for f in report["failures"]) + "</ul>")
    parts.append("<h2>Questions</h2>")
    parts += [_drilldown(r) for r in records]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_all(out_dir: str | Path, report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report, records), encoding="utf-8")
    return paths
