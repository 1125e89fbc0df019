"""Classification metrics on ``choices``: exact match, accuracy, set precision/recall/F1.

A control's selected choices form a set (order and repeats do not matter). Per task:
``exact_match``/``accuracy`` is 1.0 when the sets are equal; ``precision``/``recall``/``f1``
compare the sets (both empty: 1.0). Dataset: ``accuracy`` is the mean exact match; micro and
macro precision/recall/F1 equal scikit-learn's ``precision_recall_fscore_support`` on the
multilabel indicator matrix with ``zero_division=0``, labels being every choice seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..results import ControlScore, RegionOutcome
from .base import ControlItem, MetricSpec, Params
from .counts import LabelCounts, prf_task

__all__ = ["ChoicesFamily"]


@dataclass
class ChoicesState:
    """Exact-match tally and per-choice counts, mergeable by addition."""

    exact: int = 0
    tasks: int = 0
    counts: LabelCounts = field(default_factory=LabelCounts)


def _selected(regions: Sequence) -> set[str]:
    return {label for r in regions for label in r.labels}


def _fmt(values: set[str]) -> str:
    return ", ".join(sorted(values)) if values else "nothing"


class ChoicesFamily:
    """Scores ``choices`` controls."""

    kind = "choices"

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], ChoicesState]:
        """Compare the selected sets of each task."""
        name = metric.name.lower()
        state = ChoicesState()
        out = []
        for item in items:
            gt, pred = _selected(item.gt), _selected(item.pred)
            for label in gt | pred:
                state.counts.add(label, tp=label in gt and label in pred, fp=label not in gt, fn=label not in pred)
            exact = float(gt == pred)
            state.exact += int(exact)
            state.tasks += 1
            p, r, f = prf_task(len(gt & pred), len(pred - gt), len(gt - pred))
            score = {"precision": p, "recall": r, "f1": f}.get(name, exact)
            per_label = {label: float(label in gt and label in pred) for label in sorted(gt | pred)}
            regions = tuple(
                RegionOutcome("TP" if label in gt and label in pred else ("FN" if label in gt else "FP"), label)
                for label in sorted(gt | pred)
            )
            reasons = () if metric.passes(score, params.threshold) else (f"expected {_fmt(gt)}, got {_fmt(pred)}",)
            out.append(ControlScore("", self.kind, score, per_label, regions, reasons))
        return out, state

    def merge(self, states: Sequence[ChoicesState]) -> ChoicesState:
        """Add the tallies."""
        merged = ChoicesState()
        for s in states:
            merged.exact += s.exact
            merged.tasks += s.tasks
            merged.counts = merged.counts.merge(s.counts)
        return merged

    def compute(self, metric: MetricSpec, state: ChoicesState) -> tuple[dict, dict]:
        """Accuracy, or micro/macro precision/recall/F1 with per-choice values."""
        aggregate, per_label = state.counts.aggregate()
        if metric.name.lower() in ("exact_match", "accuracy"):
            aggregate = {"accuracy": state.exact / state.tasks if state.tasks else None}
        return aggregate, per_label
