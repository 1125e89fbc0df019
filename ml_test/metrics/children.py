"""Per-region children: a perRegion TextArea (Choices, Taxonomy, Number...) scored through its parent's matching.

OCR is the typical case: a box or polygon with ``labels`` and a ``textarea`` child sharing its
region id. Such a child control (kind ``region_textarea``, ``region_choices`` ...) is scored in
two steps:

1. Its parent regions are matched one-to-one by their own control's matching, the one
   precision/recall/F1 use (IoU >= ``iou``, default 0.5; same label; keypoints within
   ``distance``). Only parents that carry a child of this control take part; parents of several
   controls (a Rectangle and a Polygon sharing one TextArea) are matched control by control.
2. Each *unit* is then scored with the answer metric (``answers``): a matched pair compares the
   two children's answers; a ground-truth parent left unmatched or a predicted parent matching
   nothing scores the worst value (0.0, or an error of 1.0 for ``cer``/``wer``).

Per task: the mean over units (no unit on either side: 1.0, or 0.0 for an error). Dataset: the
mean over every unit of every task; for ``cer``/``wer`` the corpus rate (total edits / total
reference length, a missed region counting all its text as deleted and an extra one all its
text as inserted) and ``*_mean``, the mean unit rate.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..regions import Region, child_regions
from ..results import ControlScore
from .answers import _SCORERS, AnswerState, Scored, _show, answer_aggregate, answer_of, merge_answer_states
from .base import ControlItem, MetricSpec, Params
from .matched import region_matches
from .reasons import MAX_REASONS, describe

__all__ = ["ChildFamily"]


def _answer(kind: str, children: Sequence[Region]) -> Any:
    # a choices child keeps its choices as labels
    return frozenset(k for r in children for k in r.labels) if kind == "choices" else answer_of(kind, children)


def _pairs(item: ControlItem, params: Params) -> list[tuple[Region | None, Region | None]]:
    """(ground-truth parent, predicted parent) units: matched pairs, then missed, then extra parents."""
    groups: dict[tuple[str, str], tuple[list[Region], list[Region]]] = {}
    for side, regions in ((0, item.gt), (1, item.pred)):
        for r in regions:
            groups.setdefault((r.control, r.kind), ([], []))[side].append(r)
    units: list[tuple[Region | None, Region | None]] = []
    for (_, kind), (gt, pred) in groups.items():
        sub = ControlItem(0, item.where, tuple(gt), tuple(pred), item.image_size)
        matched = region_matches(kind, [sub], params)[0]  # predicted id -> ground-truth id
        by_id = {r.id: r for r in gt}
        used, extra = set(), []
        for p in pred:
            g = by_id.get(matched.get(p.id, "\0"))
            if g is not None and g.id not in used:
                used.add(g.id)
                units.append((g, p))
            else:
                extra.append((None, p))
        units += [(g, None) for g in gt if g.id not in used] + extra
    return units


class ChildFamily:
    """Scores one kind of per-region child control; items hold the parent regions that carry it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.answer_kind = kind.removeprefix("region_")

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], AnswerState]:
        """Match the parents of each task, then score each unit's answers."""
        name = metric.name.lower()
        scorer = _SCORERS[name]
        worst = 0.0 if metric.higher_is_better else 1.0
        state = AnswerState()
        out = []
        for item in items:
            control = item.control
            values, reasons = [], []
            for g, p in _pairs(item, params):
                ga = _answer(self.answer_kind, child_regions(g, control, f"{item.where}: ground truth") if g else ())
                pa = _answer(self.answer_kind, child_regions(p, control, f"{item.where}: prediction") if p else ())
                s: Scored = scorer(self.answer_kind, item, ga, pa)
                if g is None or p is None:
                    s = Scored(worst, s.num, s.den, "no matching region")
                values.append(s.score)
                state.scores.append(s.score)
                state.num.append(s.num)
                state.den.append(s.den)
                if not metric.passes(s.score, params.threshold) and len(reasons) < MAX_REASONS:
                    reasons.append(self._reason(g, p, ga, pa, s))
            score = sum(values) / len(values) if values else metric.best
            if not metric.passes(score, params.threshold) and not reasons:
                reasons.append(f"{metric.name} {score:.3g} over {len(values)} regions")
            out.append(ControlScore("", self.kind, score, {}, (), tuple(reasons)))
        return out, state

    def _reason(self, g: Region | None, p: Region | None, ga: Any, pa: Any, s: Scored) -> str:
        k = self.answer_kind
        if p is None:
            return f"missed {describe(g.kind, g, g.label)} ({g.id!r}): expected {_show(k, ga)}, no predicted region matches it"
        if g is None:
            return f"extra {describe(p.kind, p, p.label)} ({p.id!r}) with {_show(k, pa)}: it matches no ground-truth region"
        detail = f" ({s.detail})" if s.detail else ""
        return f"{describe(g.kind, g, g.label)} ({g.id!r}): expected {_show(k, ga)}, got {_show(k, pa)}{detail}"

    def merge(self, states: Sequence[AnswerState]) -> AnswerState:
        """Concatenate the unit lists, in task order."""
        return merge_answer_states(states)

    def compute(self, metric: MetricSpec, state: AnswerState) -> tuple[dict, dict]:
        """Mean over all units; for cer/wer the corpus rate and the mean unit rate."""
        return answer_aggregate(metric, state), {}
