"""Reports of a run: `report.json` (everything), `report.md` (tables) and a self-contained `report.html`
(inline CSS and SVG, no external assets). The HTML comes from Jinja2 templates (string constants below)
with autoescape on, so every piece of source text is HTML-escaped."""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import jinja2

from dossier.app.templating import Markup, environment

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


_ENV = environment()


@functools.lru_cache(maxsize=None)
def _compiled(template: str) -> jinja2.Template:
    return _ENV.from_string(template)


def _render(template: str, **values: Any) -> str:
    return _compiled(template).render(**values)


_TABLE = (
    "<table><thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>"
    "{% for row in rows %}<tr>{% for c in row %}"
    '{% if loop.index0 >= numeric_from %}<td class="num">{{ c }}</td>{% else %}<td>{{ c }}</td>{% endif %}'
    "{% endfor %}</tr>{% endfor %}</tbody></table>"
)
_BAR_CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{{ width }}" height="{{ height }}" '
    'viewBox="0 0 {{ width }} {{ height }}" font-family="system-ui,sans-serif" font-size="12">'
    '<title>{{ title }}</title><text x="0" y="14" font-weight="bold">{{ title }}</text>'
    '{% for x in grid %}<line x1="{{ x }}" y1="20" x2="{{ x }}" y2="{{ height }}" stroke="#dde" />{% endfor %}'
    '{% for b in bars %}<text x="{{ b.label_x }}" y="{{ b.text_y }}" text-anchor="end">{{ b.label }}</text>'
    '<rect x="{{ left }}" y="{{ b.y }}" width="{{ b.width }}" height="{{ bar_h }}" fill="{{ b.color }}"><title>{{ b.label }}: '
    '{{ b.value }} (n={{ b.n }})</title></rect>'
    '<text x="{{ b.value_x }}" y="{{ b.text_y }}">{{ b.short }} (n={{ b.n }})</text>{% endfor %}</svg>'
)
_HIGHLIGHT = "{% if found %}{{ before }}<mark>{{ quote }}</mark>{{ after }}{% else %}{{ passage }}{% endif %}"
_DRILLDOWN = (
    '<details id="{{ id }}"><summary><b>{{ id }}</b> <span class="{{ cls }}">[{{ status }}]</span> '
    '{{ question }} {% for t in tags %}<span class="tag">{{ t }}</span>{% endfor %}</summary>'
    '{% for h in history %}<p class="small">earlier turn: {{ h.question }} → {{ h.answer }}</p>{% endfor %}'
    '{% if answerable %}<p class="small">reference: {{ reference }}; keys: {{ keys }}</p>{% endif %}'
    '{% if failed %}<p class="bad">error: {{ error }}</p></details>{% else %}'
    "<p><b>Answer:</b> {{ answer }}</p>"
    '{% if notice %}<p class="warn">notice: {{ notice }}</p>{% endif %}'
    '{% if sentences %}<ol class="small">{% for s in sentences %}'
    '<li><span class="{{ s.cls }}">{{ s.support }} ({{ s.score }})</span> cites {{ s.citations }}{{ s.detail }}'
    "{% if s.missing %} — missing: {{ s.missing }}{% endif %}</li>{% endfor %}</ol>{% endif %}"
    '{% for c in citations %}<p class="small">[{{ c.n }}] {{ c.title }} — {{ c.source }} [{{ c.start }}:{{ c.end }}]</p>'
    '<div class="passage">{{ c.passage }}</div>{% endfor %}'
    '{% if closest %}<p class="small">closest passages:</p>'
    '{% for p in closest %}<div class="passage">{{ p }}</div>{% endfor %}{% endif %}'
    '{% if gold %}<p class="small"><b>Gold:</b></p><ul class="small">'
    "{% for g in gold %}<li>{{ g.doc }}: “{{ g.quote }}”</li>{% endfor %}</ul>{% endif %}"
    '<p class="small">query: {{ query }}<br>scores: {{ scores }}</p></details>{% endif %}'
)
# the page's parts are separated by newlines, as the report files have always been written
_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">\n'
    "<title>{{ title }}</title><style>{{ css }}</style></head><body>\n"
    "<h1>{{ title }}</h1>\n"
    '<p class="meta">dataset {{ m.dataset }} · {{ c["items"] }} items ({{ c.answerable }} answerable, '
    "{{ c.unanswerable }} not) · failed {{ c.failed }} · abstained {{ c.abstained }} · k={{ m.k }} · "
    "embedder {{ m.embedder }} · verifier thresholds support {{ support }} / "
    "partial {{ partial }} · finished {{ m.finished_at }} "
    "in {{ m.seconds }} s · commit {{ commit }}</p>\n"
    '<p class="small">Means with 95% bootstrap CIs. n counts applicable items, failures included (scored as the worst value). '
    "Citation recall/precision use the run's own verifier as the support judge.</p>\n"
    "<h2>Metrics</h2>\n{{ metrics_table }}\n"
    "<h2>Latency (ms)</h2>\n{{ latency_table }}\n"
    "<h2>By tag</h2>\n{{ tag_chart }}\n{{ tag_table }}\n"
    "<h2>Verifier calibration</h2>\n"
    '{% if cal %}<p class="small">source {{ cal.source }}; {{ cal.n }} hand labels, '
    "{{ cal.n_train }} train / {{ cal.n_heldout }} held out (seed {{ cal.seed }}); "
    "figures on the held-out split.</p>\n{{ cal_table }}\n"
    "{% else %}<p>(no calibration figures)</p>\n{% endif %}"
    "{% if failures %}<h2>Failed items</h2><ul>"
    '{% for f in failures %}<li><a href="#{{ f.id }}">{{ f.id }}</a>: {{ f.error }}</li>{% endfor %}</ul>\n{% endif %}'
    "<h2>Questions</h2>\n"
    "{% for d in drilldowns %}{{ d }}\n{% endfor %}"
    "</body></html>"
)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 99) -> Markup:
    return Markup(_render(_TABLE, header=header, rows=rows, numeric_from=numeric_from))


def bar_chart_svg(values: Sequence[tuple[str, float | None, int]], title: str) -> str:
    """A horizontal bar chart (label, value in [0, 1] or None, n) as inline SVG."""
    rows = [(lab, v, n) for lab, v, n in values if v is not None]
    bar_h, gap, left, width = 18, 6, 150, 360
    height = 30 + len(rows) * (bar_h + gap)
    bars = []
    for i, (lab, v, n) in enumerate(rows):
        y = 24 + i * (bar_h + gap)
        w = max(0.0, min(1.0, float(v))) * width
        bars.append({"label": lab, "n": n, "y": y, "text_y": y + 13, "label_x": left - 6, "width": f"{w:.1f}",
                     "value_x": f"{left + w + 4:.1f}", "value": f"{v:.3f}", "short": f"{v:.2f}",
                     "color": "#2f7d4a" if v >= 0.75 else "#c28a00" if v >= 0.5 else "#b3261e"})
    return _render(_BAR_CHART, width=left + width + 90, height=height, title=title, left=left, bar_h=bar_h, bars=bars,
                   grid=[f"{left + frac * width:.1f}" for frac in (0.0, 0.5, 1.0)])


def highlight_quote(passage: str, quote: str) -> str:
    """The passage HTML-escaped, with the (first occurrence of the) quote inside <mark>."""
    i = passage.find(quote) if quote else -1
    return _render(_HIGHLIGHT, found=i >= 0, passage=passage, before=passage[:max(i, 0)], quote=quote,
                   after=passage[i + len(quote):] if i >= 0 else "")


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


def _sentence_rows(ans: Mapping[str, Any], verdicts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, s in enumerate(ans.get("sentences") or []):
        v = verdicts[i] if i < len(verdicts) else {}
        rows.append({
            "cls": _SUPPORT_CLASS.get(s.get("support"), ""), "support": s.get("support"), "score": _f(s.get("score"), 2),
            "citations": s.get("citations"),
            "detail": f" coverage {_f(v.get('coverage'), 2)}, similarity {_f(v.get('similarity'), 2)}" if v else "",
            "missing": ", ".join(str(x) for x in (v.get("missing_numbers") or []) + (v.get("missing_names") or [])),
        })
    return rows


def _drilldown(r: Mapping[str, Any]) -> str:
    status, cls = _status(r)
    ans = r.get("answer") or {}
    scores = r.get("scores") or {}
    return _render(
        _DRILLDOWN, id=r["id"], status=status, cls=cls, question=r["question"], tags=r.get("tags") or [],
        history=r.get("history") or [], answerable=r.get("answerable"), reference=r.get("reference_answer"),
        keys=r.get("answer_keys"), failed=r.get("failed"), error=r.get("error"),
        answer=ans.get("answer"), notice=ans.get("notice"), sentences=_sentence_rows(ans, r.get("verdicts") or []),
        citations=[{"n": c.get("n"), "title": c.get("title"), "source": c.get("source"), "start": c.get("start"), "end": c.get("end"),
                    "passage": Markup(highlight_quote(c.get("passage") or "", c.get("quote") or ""))}
                   for c in ans.get("citations") or []],
        closest=[(c.get("passage") or "")[:600] for c in ans["closest"][:3]] if ans.get("abstained") and ans.get("closest") else [],
        gold=r.get("gold") or [], query=r.get("query"),
        scores=", ".join(f"{k} {_f(v, 2)}" for k, v in scores.items() if v is not None))


def render_html(report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    m, c = report["meta"], report["counts"]
    title = f"Evaluation: {m.get('dataset_name')} — {m.get('engine')}{' (strict)' if m.get('strict') else ''}"
    tag_corr = [(t, per["correct"]["mean"], per["correct"]["n"]) for t, per in report["by_tag"].items() if "correct" in per]
    thresholds = m.get("thresholds") or {}
    cal = report.get("calibration")
    return _render(
        _PAGE, title=title, css=Markup(_CSS), m={key: m.get(key) for key in ("dataset", "k", "embedder", "finished_at", "seconds")},
        c=c, support=thresholds.get("support"), partial=thresholds.get("partial"), commit=str(m.get("git_commit") or "-")[:12],
        metrics_table=_html_table(["group", "metric", "mean", "95% CI", "n", "failed"], summary_rows(report), numeric_from=2),
        latency_table=_html_table(["stage", "p50", "p95", "mean"], _latency_rows(report), numeric_from=1),
        tag_chart=Markup(bar_chart_svg(tag_corr, "Correctness by tag (answerable items)")),
        tag_table=_html_table(*_tag_rows(report)),
        cal={key: cal.get(key) for key in ("n", "n_train", "n_heldout", "seed")} | {"source": cal.get("source", "-")} if cal else None,
        cal_table=_html_table(["figure", "fitted thresholds", "configured thresholds"], _calibration_rows(cal)) if cal else "",
        failures=report["failures"], drilldowns=[Markup(_drilldown(r)) for r in records])


def write_all(out_dir: str | Path, report: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["html"].write_text(render_html(report, records), encoding="utf-8")
    return paths
