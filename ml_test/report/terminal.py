"""Terminal text: failing tasks worst first with their reasons, then one summary line."""

from __future__ import annotations

from ..results import Report, TaskResult
from .format import score_text

__all__ = ["render_terminal", "summary_line"]

_COLORS = {"fail": "\033[31m", "pass": "\033[32m", "dim": "\033[2m", "end": "\033[0m"}


def summary_line(report: Report) -> str:
    """``mAP 0.734 · threshold >= 0.5 · 12 passed, 3 failed, 1 skipped``."""
    counts = f"{report.passed} passed, {report.failed} failed"
    if report.skipped:
        counts += f", {report.skipped} skipped"
    return f"{report.metric} {score_text(report.score)} (dataset) · task threshold {report.comparator} {report.threshold:g} · {counts}"


def _task_line(report: Report, t: TaskResult, paint) -> str:
    where = f"{report.source}:{t.line}" if t.line else report.source
    word = {"passed": paint("pass", "PASS"), "failed": paint("fail", "FAIL"), "skipped": paint("dim", "SKIP")}[t.status]
    return f"{word} task {t.name} ({where})  {report.metric} {score_text(t.score, t.threshold)}"


def render_terminal(report: Report, *, verbose: int = 0, color: bool = False) -> str:
    """Text for a terminal; ``verbose`` > 0 lists every task's score, < 0 prints the summary only."""
    paint = (lambda k, s: f"{_COLORS[k]}{s}{_COLORS['end']}") if color else (lambda k, s: s)
    lines: list[str] = []
    if verbose >= 0:
        for t in report.failing():
            lines.append(_task_line(report, t, paint))
            lines.extend(f"    - {r}" for r in t.reasons)
        if verbose > 0:
            lines.extend(_task_line(report, t, paint) for t in report.tasks if t.status != "failed")
        for w in report.warnings:
            lines.append(paint("dim", f"warning: {w}"))
        if report.aggregate and verbose > 0:
            stats = ", ".join(f"{k} {score_text(v)}" for k, v in report.aggregate.items())
            lines.append(f"dataset: {stats}")
    lines.append(summary_line(report))
    return "\n".join(lines)
