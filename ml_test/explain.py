"""The explanation of a failed task, as a unit-test failure reads: verdict line, then reasons."""

from __future__ import annotations

from .report.format import score_text
from .results import TaskResult

__all__ = ["explain"]


def explain(result: TaskResult, metric: str, comparator: str = ">=") -> str:
    """``task 17 failed: mAP 0.412, needs >= 0.5`` followed by one ``- reason`` line each."""
    lines = [f"task {result.name} {result.status}: {metric} {score_text(result.score, result.threshold)}, needs {comparator} {result.threshold:g}"]
    lines.extend(f"  - {r}" for r in result.reasons)
    if len(result.controls) > 1:
        lines.append("  per control: " + ", ".join(f"{c.control} {score_text(c.score)}" for c in result.controls))
    return "\n".join(lines)
