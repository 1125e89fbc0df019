"""GitHub-flavoured Markdown of a Report: the action's job summary and its pull-request comment.

Every piece of user text (file names, task ids, labels, reasons quoting labels) goes through
:func:`escape_markdown`, so a label cannot add HTML, links, images, mentions or table cells.
Output is bounded: lists of tasks and labels stop at a byte budget with a line saying how many
rows were left out and where the full list is.
"""

from __future__ import annotations

from typing import Callable, Iterable

from ..results import Report, TaskResult
from .format import score_text

__all__ = ["escape_markdown", "render_summary", "render_comment", "render_error", "SUMMARY_BUDGET", "COMMENT_BUDGET"]

# The step summary may not exceed 1 MiB; leave room for what the runner or a later step adds.
SUMMARY_BUDGET = 1_000_000
# A comment body may hold 65,536 characters; the comment is a digest that links to the summary.
COMMENT_BUDGET = 60_000
MAX_REASONS = 5
MAX_REASON_CHARS = 300
COMMENT_TASKS = 10

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Backslash-escaped ASCII punctuation is always literal in CommonMark. These are the characters
# that start Markdown syntax inside a line; escaping ':' and '.' also stops GFM's autolinks
# (https://…, www.…) and :emoji: codes, and '$' GitHub's math.
_BACKSLASHED = set("\\`*_{}[]()#+-.!|~:$")

TaskLink = Callable[[TaskResult], "str | None"]


def escape_markdown(text: object) -> str:
    """User text made inert in Markdown and HTML, on one line (safe inside a table cell)."""
    out = []
    for ch in str(text):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch == "@":
            out.append("@\u200b")  # breaks @mentions and e-mail autolinks
        elif ch in "\r\n\t\v\f":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _value(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return score_text(float(v))  # type: ignore[arg-type]


def _size(lines: Iterable[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


def _bounded(rows: list[str], budget: int) -> tuple[list[str], int]:
    """As many rows as fit in ``budget`` bytes, and how many were left out."""
    kept, used = [], 0
    for row in rows:
        used += len(row.encode("utf-8")) + 1
        if used > budget:
            break
        kept.append(row)
    return kept, len(rows) - len(kept)


def _task_cell(t: TaskResult, link: TaskLink | None) -> str:
    url = link(t) if link else None
    name = escape_markdown(t.name)
    return f"[{name}]({url})" if url else name


def _reasons_cell(t: TaskResult) -> str:
    shown = [
        escape_markdown(r if len(r) <= MAX_REASON_CHARS else r[: MAX_REASON_CHARS - 1] + "…")
        for r in t.reasons[:MAX_REASONS]
    ]
    if len(t.reasons) > MAX_REASONS:
        shown.append(f"… and {len(t.reasons) - MAX_REASONS} more")
    return "<br>".join(shown) or "—"


def _headline(report: Report, fail_on: str) -> str:
    tested = report.passed + report.failed
    if report.failed:
        verdict = f"{report.failed} of {tested} tasks failed"
        return (
            f"❌ ML unit tests: {verdict}"
            if fail_on == "tasks"
            else f"⚠️ ML unit tests: {verdict} (not failing the job: `fail-on: none`)"
        )
    if tested == 0:
        return f"⚠️ ML unit tests: no task could be tested ({report.skipped} skipped)"
    return f"✅ ML unit tests: all {tested} tasks passed"


def _header(report: Report, data_path: str, fail_on: str, level: str = "##") -> list[str]:
    rate = "n/a" if report.pass_rate is None else f"{100 * report.pass_rate:.1f}%"
    return [
        f"{level} {_headline(report, fail_on)}",
        "",
        f"**{escape_markdown(data_path)}** · metric **{escape_markdown(report.metric)}** · "
        f"a task passes when its score {'≥' if report.higher_is_better else '≤'} {report.threshold:g}",
        "",
        f"| passed | failed | skipped | total | pass rate | {escape_markdown(report.headline)} (dataset) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {report.passed} | {report.failed} | {report.skipped} | {report.total} | {rate} | {_value(report.score)} |",
        "",
    ]


def _failing(
    report: Report, link: TaskLink | None, budget: int, limit: int | None, more: str, level: str = "###"
) -> list[str]:
    failing = report.failing()
    if not failing:
        return []
    head = [
        f"{level} Failing tasks, worst first",
        "",
        f"| task | line | {escape_markdown(report.metric)} | why |",
        "|---|---:|---:|---|",
    ]
    rows = [
        f"| {_task_cell(t, link)} | {t.line} | {score_text(t.score, t.threshold)} | {_reasons_cell(t)} |"
        for t in failing[:limit]
    ]
    kept, omitted = _bounded(rows, budget - _size(head) - 200)
    omitted += len(failing) - len(rows)
    tail = ["", f"… {omitted} more failing tasks not listed; {more}"] if omitted else []
    return head + kept + tail + [""]


def _table(title: str, first: str, data: dict[str, dict[str, object]], budget: int, more: str) -> list[str]:
    if not data:
        return []
    columns = list(dict.fromkeys(k for v in data.values() for k in v))
    head = [
        f"### {title}",
        "",
        f"| {first} | " + " | ".join(escape_markdown(c) for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    rows = [
        f"| {escape_markdown(name)} | " + " | ".join(_value(v.get(c)) for c in columns) + " |"
        for name, v in data.items()
    ]
    kept, omitted = _bounded(rows, budget - _size(head) - 200)
    tail = ["", f"… {omitted} more rows not shown; {more}"] if omitted else []
    return head + kept + tail + [""]


def _dataset(report: Report) -> list[str]:
    if not report.aggregate:
        return []
    return [
        "### Dataset metrics",
        "",
        "| " + " | ".join(escape_markdown(k) for k in report.aggregate) + " |",
        "|" + "---:|" * len(report.aggregate),
        "| " + " | ".join(_value(v) for v in report.aggregate.values()) + " |",
        "",
    ]


def _all_tasks(report: Report, link: TaskLink | None, budget: int, more: str) -> list[str]:
    head = [
        f"<details><summary>All {report.total} tasks</summary>",
        "",
        f"| task | line | status | {escape_markdown(report.metric)} |",
        "|---|---:|---|---:|",
    ]
    icon = {"passed": "✅ passed", "failed": "❌ failed", "skipped": "⏭️ skipped"}
    rows = [
        f"| {_task_cell(t, link)} | {t.line} | {icon.get(t.status, t.status)} | {score_text(t.score, t.threshold)} |"
        for t in report.tasks
    ]
    kept, omitted = _bounded(rows, budget - _size(head) - 300)
    tail = ["", f"… {omitted} more tasks not listed; {more}"] if omitted else []
    return head + kept + tail + ["", "</details>", ""]


def _warnings(report: Report) -> list[str]:
    if not report.warnings:
        return []
    return ["### Warnings", ""] + [f"- {escape_markdown(w)}" for w in report.warnings] + [""]


def render_summary(
    report: Report,
    *,
    data_path: str,
    link: TaskLink | None = None,
    fail_on: str = "tasks",
    report_note: str = "set the `report` input to get every task in a JSON file.",
    budget: int = SUMMARY_BUDGET,
) -> str:
    """The job summary: verdict, counts, failing tasks, dataset and per-label metrics, all tasks.

    ``report_note`` says where the full results are when a list had to be cut to ``budget``
    bytes (the whole text stays within it).
    """
    header, warnings, dataset = _header(report, data_path, fail_on), _warnings(report), _dataset(report)
    room = budget - _size(header + warnings + dataset)
    # the other lists get bounded shares first; the failing tasks, which matter most, get all the rest
    per_label = _table("Per label", "label", report.per_label, room * 15 // 100, report_note)
    per_control = _table("Per control", "control", report.controls, room * 5 // 100, report_note)
    everything = _all_tasks(report, link, room * 40 // 100, report_note)
    failing = _failing(report, link, room - _size(per_label + per_control + everything), None, report_note)
    return "\n".join(header + failing + warnings + dataset + per_label + per_control + everything)


def render_comment(
    report: Report,
    *,
    data_path: str,
    marker: str,
    link: TaskLink | None = None,
    run_url: str | None = None,
    fail_on: str = "tasks",
    budget: int = COMMENT_BUDGET,
) -> str:
    """The pull-request comment: verdict, counts, the worst failing tasks, a link to the run; ``marker`` last."""
    more = f"see the [job summary]({run_url})." if run_url else "see the job summary."
    lines = _header(report, data_path, fail_on, level="###")
    lines += _failing(report, link, budget - _size(lines) - 500, COMMENT_TASKS, more, level="####")
    if run_url:
        lines.append(f"Full report: [job summary of this run]({run_url})")
    lines += ["", marker]
    return "\n".join(lines)


def render_error(message: str, data_path: str | None = None) -> str:
    """The job summary when the action could not run: what went wrong and how to fix it."""
    lines = ["## ⛔ ML unit tests could not run", ""]
    if data_path:
        lines += [f"Test data: **{escape_markdown(data_path)}**", ""]
    lines += [f"> {escape_markdown(line)}" if line.strip() else ">" for line in message.splitlines()]
    lines += ["", "Fix the inputs of the step (or the test data) and run the job again. Exit code 2.", ""]
    return "\n".join(lines)
