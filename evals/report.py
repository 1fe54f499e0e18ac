"""Self-contained HTML reports for eval runs and comparisons (inline CSS and SVG, no scripts).

`render_run_html(run)`: a bar chart of the mean per dimension, a strip plot of every case's
score per dimension, a table of cases with pass/fail, and a drill-down per case (post, member,
draft, variants, citations, tone card with evidence, flags, failures, judge scores, prompt).
`render_compare_html(comparison)`: deltas with confidence intervals and the cases that moved.
Every piece of member or model text goes through `html.escape`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from copilot.tone import DIMENSIONS, HIGHER_IS_WORSE

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d232a;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#5b6570;font-size:13px}.meta code{background:#f1f3f5;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 6px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
th{background:#f6f7f9}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#176b35;font-weight:600}.fail{color:#b42318;font-weight:600}.miss{color:#8a6d00}
details{border:1px solid #e3e6ea;border-radius:6px;margin:8px 0;padding:6px 10px}
details[open]{background:#fcfcfd}summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;background:#f6f7f9;padding:8px;border-radius:4px;font:13px/1.4 ui-monospace,monospace;margin:4px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}.flag{background:#fde8e7;color:#b42318;border-radius:3px;padding:0 4px;margin-right:4px}
.sig{font-weight:700}.better{color:#176b35}.worse{color:#b42318}small{color:#5b6570}
svg text{font:11px system-ui,sans-serif;fill:#1d232a}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _label(dim: str) -> str:
    return dim + (" ↓" if dim in HIGHER_IS_WORSE else "")


def bar_chart(summary: dict[str, float], judge: dict[str, float] | None = None) -> str:
    """Horizontal bars: the mean per dimension (0..1); judge means (1..5 scaled) as ticks."""
    row, left, width = 20, 170, 420
    dims = [d for d in DIMENSIONS if d in summary]
    height = row * len(dims) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
        f'role="img" aria-label="mean score per dimension">'
    ]
    for x in (0, 0.25, 0.5, 0.75, 1.0):
        px = left + x * width
        parts.append(
            f'<line x1="{px:.1f}" y1="0" x2="{px:.1f}" y2="{height - 20}" stroke="#e3e6ea"/>'
            f'<text x="{px:.1f}" y="{height - 6}" text-anchor="middle">{x:g}</text>'
        )
    for i, dim in enumerate(dims):
        y = i * row + 4
        value = max(0.0, min(1.0, float(summary[dim])))
        colour = "#c4554d" if dim in HIGHER_IS_WORSE else "#3d7ea6"
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(_label(dim))}</text>'
            f'<rect x="{left}" y="{y}" width="{value * width:.1f}" height="{row - 6}" '
            f'fill="{colour}"><title>{_e(dim)} {value:.3f}</title></rect>'
            f'<text x="{left + value * width + 4:.1f}" y="{y + 12}">{value:.2f}</text>'
        )
        if judge and dim in judge:
            jx = left + (judge[dim] - 1) / 4 * width
            parts.append(
                f'<line x1="{jx:.1f}" y1="{y - 2}" x2="{jx:.1f}" y2="{y + row - 4}" '
                f'stroke="#111" stroke-width="2"><title>judge {judge[dim]:.2f}/5</title></line>'
            )
    parts.append("</svg>")
    return "".join(parts)


def strip_plot(cases: list[dict[str, Any]]) -> str:
    """One row per dimension, one dot per case (red = the case failed)."""
    row, left, width = 20, 170, 420
    dims = list(DIMENSIONS)
    height = row * len(dims) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" height="{height}" '
        f'role="img" aria-label="score distribution per dimension">'
    ]
    for x in (0, 0.5, 1.0):
        px = left + x * width
        parts.append(
            f'<line x1="{px:.1f}" y1="0" x2="{px:.1f}" y2="{height - 20}" stroke="#e3e6ea"/>'
            f'<text x="{px:.1f}" y="{height - 6}" text-anchor="middle">{x:g}</text>'
        )
    for i, dim in enumerate(dims):
        y = i * row + 10
        parts.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{_e(_label(dim))}</text>')
        for j, case in enumerate(cases):
            if dim not in case.get("scores", {}):
                continue
            value = max(0.0, min(1.0, float(case["scores"][dim])))
            jitter = ((j * 7) % 9 - 4) * 1.2
            colour = "#3d7ea6" if case.get("passed") else "#c4554d"
            parts.append(
                f'<circle cx="{left + value * width:.1f}" cy="{y + jitter:.1f}" r="3" '
                f'fill="{colour}" fill-opacity="0.6"><title>{_e(case["id"])}: {value:.2f}</title>'
                f"</circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _judge_means(cases: list[dict[str, Any]]) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for case in cases:
        judge = case.get("judge") or {}
        for dim, value in (judge.get("scores") or {}).items():
            sums.setdefault(dim, []).append(float(value))
    return {d: sum(v) / len(v) for d, v in sums.items() if v}


def _percent(value: Any) -> str:
    return "?" if value is None else f"{float(value):.0%}"


def _member(post: dict[str, Any]) -> str:
    m = post.get("member") or {}
    bits = [
        f"name: {m.get('name')}" if m.get("name") else "",
        f"@{m.get('handle')}" if m.get("handle") else "",
        f"joined {m.get('joined_at')}" if m.get("joined_at") else "",
        f"{m.get('post_count')} posts" if m.get("post_count") is not None else "",
        "roles: " + ", ".join(m.get("roles") or []) if m.get("roles") else "",
    ]
    return _e(" · ".join(b for b in bits if b) or "unknown member")


def _case_details(case: dict[str, Any]) -> str:
    post = case.get("post") or {}
    draft = case.get("draft") or {}
    tone = draft.get("tone") or {}
    status = (
        '<span class="pass">pass</span>' if case["passed"] else '<span class="fail">FAIL</span>'
    )
    out = [
        f'<details id="case-{_e(case["id"])}"><summary>{status} {_e(case["id"])} '
        f"<small>({_e(case['moment'])}"
        + (
            f", classified as {_e(case.get('classified_as'))}"
            if case.get("classified_as") and case.get("classified_as") != case["moment"]
            else ""
        )
        + f"{', cached' if case.get('cached') else ''})</small></summary>"
    ]
    if case.get("failures"):
        out.append(
            "<p><b>Failures:</b></p><ul>"
            + "".join(f'<li class="fail">{_e(f)}</li>' for f in case["failures"])
            + "</ul>"
        )
    thread = "".join(
        f"<pre><b>{_e(m.get('author') or 'member')}</b>: {_e(m.get('text'))}</pre>"
        for m in post.get("thread") or []
    )
    out.append(
        '<div class="grid"><div><p><b>Post</b> '
        f"<small>{_e(post.get('title'))}</small></p>{thread}<pre>{_e(post.get('text'))}</pre>"
        f"<p><b>Member</b>: {_member(post)}</p></div>"
        f"<div><p><b>Draft</b> <small>({len(case.get('text') or '')} chars)</small></p>"
        f"<pre>{_e(case.get('text'))}</pre>"
    )
    for i, variant in enumerate(draft.get("variants") or [], start=2):
        out.append(f"<p><b>Variant {i}</b></p><pre>{_e(variant)}</pre>")
    out.append("</div></div>")
    flags = tone.get("flags") or []
    if flags:
        out.append(
            "<p><b>Flags</b>: "
            + "".join(
                f'<span class="flag">{_e(f.get("code"))}</span>{_e(f.get("message"))} '
                f"<small>{_e('; '.join(f.get('evidence') or []))}</small> "
                for f in flags
            )
            + "</p>"
        )
    judge = case.get("judge")
    judge_scores = (judge or {}).get("scores") or {}
    rows = []
    for dim in DIMENSIONS:
        score = (tone.get("scores") or {}).get(dim) or {}
        value = case.get("scores", {}).get(dim)
        judge_cell = (
            f"<td class='num'>{_e(judge_scores.get(dim, ''))}</td>" if judge is not None else ""
        )
        rows.append(
            f"<tr><td>{_e(_label(dim))}</td><td class='num'>"
            f"{'' if value is None else f'{value:.2f}'}</td>{judge_cell}"
            f"<td>{_e('; '.join(score.get('evidence') or []))}</td></tr>"
        )
    judge_note = ""
    if judge is not None and judge.get("missing"):
        judge_note = f'<p class="miss">Judge missing: {_e(judge["missing"])}</p>'
    out.append(
        judge_note
        + "<table><tr><th>dimension</th><th>score</th>"
        + ("<th>judge (1–5)</th>" if judge is not None else "")
        + "<th>evidence</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    citations = draft.get("citations") or []
    if citations:
        out.append(
            "<p><b>Citations</b></p><ul>"
            + "".join(
                f"<li>{_e(c.get('kind'))}: {_e(c.get('source'))}"
                f"{' — ' + _e(c.get('heading')) if c.get('heading') else ''} "
                f"<small>({float(c.get('score') or 0):.2f})</small></li>"
                for c in citations
            )
            + "</ul>"
        )
    prompt = draft.get("prompt") or {}
    model = draft.get("model") or {}
    if prompt or model:
        out.append(
            f"<p><small>Prompt {_e(prompt.get('name'))} @ {_e(str(prompt.get('sha', ''))[:12])}; "
            f"model {_e(model.get('provider'))}/{_e(model.get('name'))}; "
            f"attempts {_e(draft.get('attempts'))}; "
            f"warnings: {_e('; '.join(draft.get('warnings') or []) or 'none')}</small></p>"
        )
    out.append("</details>")
    return "".join(out)


def render_run_html(run: dict[str, Any]) -> str:
    cases: list[dict[str, Any]] = run.get("cases") or []
    summary: dict[str, float] = run.get("summary") or {}
    judge_means = _judge_means(cases)
    passed = sum(1 for c in cases if c.get("passed"))
    rows = []
    for case in cases:
        status = "pass" if case.get("passed") else "fail"
        scores = case.get("scores") or {}
        rows.append(
            f'<tr><td><a href="#case-{_e(case["id"])}">{_e(case["id"])}</a></td>'
            f"<td>{_e(case.get('moment'))}</td><td class='{status}'>{status}</td>"
            + "".join(
                f"<td class='num'>{scores[d]:.2f}</td>" if d in scores else "<td></td>"
                for d in ("overall", "empathy", "politeness", "warmth", "clarity")
            )
            + f"<td>{_e(', '.join(case.get('flags') or []))}</td>"
            f"<td>{_e('; '.join(case.get('failures') or []))}</td></tr>"
        )
    judge_line = ""
    if run.get("judge"):
        missing = sum(1 for c in cases if (c.get("judge") or {}).get("missing"))
        judge_line = (
            f"<p>LLM judge: on (ticks on the bars, scaled from 1–5); "
            f"{missing} of {len(cases)} cases without a judge score.</p>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Eval run {_e(run.get('run_id'))}</title><style>{CSS}</style></head><body>"
        f"<h1>Eval run: {_e(run.get('suite'))} × {_e(run.get('model'))}</h1>"
        f"<p class='meta'>run <code>{_e(run.get('run_id'))}</code> · started "
        f"{_e(run.get('started_at'))} · {_e(run.get('seconds'))} s · prompt "
        f"<code>{_e(str(run.get('prompt_sha', ''))[:12])}</code> · suite "
        f"<code>{_e(str(run.get('suite_sha', ''))[:12])}</code> · scorer "
        f"{_e(run.get('scorer_version'))}</p>"
        f"<p><span class='{'pass' if passed == len(cases) else 'fail'}'>{passed} of "
        f"{len(cases)} cases passed</span>. ↓ = higher is worse. The moment classifier agreed "
        f"with the suite's label on {_e(_percent(run.get('classifier_agreement')))} of cases."
        f"</p>{judge_line}"
        f"<h2>Mean per dimension</h2>{bar_chart(summary, judge_means)}"
        f"<h2>Every case, per dimension</h2><p><small>blue = passed, red = failed</small></p>"
        f"{strip_plot(cases)}"
        "<h2>Cases</h2><table><tr><th>id</th><th>moment</th><th>result</th><th>overall</th>"
        "<th>empathy</th><th>polite</th><th>warm</th><th>clear</th><th>flags</th>"
        "<th>failures</th></tr>" + "".join(rows) + "</table>"
        "<h2>Drill-down</h2>" + "".join(_case_details(c) for c in cases) + "</body></html>"
    )


def render_compare_html(comparison: dict[str, Any]) -> str:
    rows = []
    for dim, d in comparison["dimensions"].items():
        cls = {"better": "better sig", "worse": "worse sig"}.get(d["direction"], "")
        rows.append(
            f"<tr><td>{_e(_label(dim))}</td><td class='num'>{d['mean_a']:.3f}</td>"
            f"<td class='num'>{d['mean_b']:.3f}</td><td class='num'>{d['delta']:+.3f}</td>"
            f"<td class='num'>[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]</td>"
            f"<td class='{cls}'>{_e(d['direction'])}</td></tr>"
        )

    def listing(items: list[dict[str, Any]]) -> str:
        if not items:
            return "<p>none</p>"
        return (
            "<ul>"
            + "".join(f"<li><b>{_e(i['id'])}</b>: {_e('; '.join(i['why']))}</li>" for i in items)
            + "</ul>"
        )

    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Compare {_e(comparison['run_a'])} vs {_e(comparison['run_b'])}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>A: {_e(comparison['run_a'])}<br>B: {_e(comparison['run_b'])}</h1>"
        f"<p class='meta'>{comparison['paired_cases']} paired cases · passed "
        f"{comparison['passed_a']} → {comparison['passed_b']} · 95% bootstrap CI, "
        f"{comparison['resamples']} resamples</p>"
        "<table><tr><th>dimension</th><th>mean A</th><th>mean B</th><th>B − A</th>"
        "<th>95% CI</th><th>change</th></tr>" + "".join(rows) + "</table>"
        f"<h2>Regressed ({len(comparison['regressed'])})</h2>{listing(comparison['regressed'])}"
        f"<h2>Improved ({len(comparison['improved'])})</h2>{listing(comparison['improved'])}"
        "</body></html>"
    )
