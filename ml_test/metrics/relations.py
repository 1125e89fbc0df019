"""``relation_f1``: F1 over (from region, to region, label) triples of the ``relation`` results.

A predicted region stands for the ground-truth region it is matched to by its own control's
one-to-one matching, the one precision/recall/F1 use (IoU >= ``iou``, default 0.5; spans exact
unless ``iou`` is given; keypoints within ``distance``; same label). Regions of other kinds
(masks: matching them would decode every mask) stand for the ground-truth region with the same id. A
relation is the triple ``(from, to, label)``, once per label (``""`` when it has none);
``direction: left`` is the reversed ``right`` relation and ``bi`` is unordered. Relations on a
side form a set. A predicted relation with an endpoint matched to no ground-truth region is a
false positive.

Per task: F1 of the triples (both sides without relations: 1.0; one side only: 0.0). Dataset:
micro and macro precision/recall/F1 over relation labels, as ``counts`` computes them.
"""

from __future__ import annotations

from typing import Sequence

from ..regions import Region
from ..results import ControlScore, RegionOutcome
from .base import ControlItem, MetricSpec, Params
from .counts import LabelCounts, prf_task
from .matched import region_matches
from .reasons import MAX_REASONS, describe

__all__ = ["RelationFamily", "MATCHABLE_KINDS"]

# kinds whose regions the matched family pairs one-to-one
MATCHABLE_KINDS = frozenset({"box", "polygon", "ellipse", "span", "keypoint"})

Triple = tuple[str, str, bool, str]


def _triples(relations: Sequence[Region], id_map: dict[str, str] | None) -> dict[Triple, Region]:
    """Normalised triples -> the relation they come from; predicted ids mapped to ground-truth ids."""
    out: dict[Triple, Region] = {}
    for r in relations:
        a, b, direction = r.geometry
        if id_map is not None:
            # an unmatched endpoint keeps a name no ground-truth region has
            a, b = id_map.get(a, f"\0{a}"), id_map.get(b, f"\0{b}")
        if direction == "left":
            a, b = b, a
        bi = direction == "bi"
        if bi:
            a, b = sorted((a, b))
        for label in r.labels or ("",):
            out.setdefault((a, b, bi, label), r)
    return out


def _side_regions(regions: Sequence[Region]) -> dict[str, Region]:
    out: dict[str, Region] = {}
    for r in regions:
        if r.kind != "relation":
            out.setdefault(r.id, r)
    return out


def _show(relation: Region, regions: dict[str, Region], label: str, id_map: dict[str, str] | None = None) -> str:
    a, b, direction = relation.geometry
    arrow = {"right": "->", "left": "<-", "bi": "<->"}[direction]

    def end(rid: str) -> str:
        r = regions.get(rid)
        if r is None:
            return f"{rid!r} (no such region)"
        unmatched = ", matched no ground-truth region" if id_map is not None and rid not in id_map else ""
        return f"{rid!r} ({describe(r.kind, r, r.label)}{unmatched})"

    return f"{label + ' ' if label else ''}{end(a)} {arrow} {end(b)}"


def _id_maps(items: Sequence[ControlItem], params: Params) -> list[dict[str, str]]:
    """Per item, predicted region id -> ground-truth region id, through each control's matching."""
    kinds: dict[str, str] = {}
    for item in items:
        for r in (*item.gt, *item.pred):
            if r.kind != "relation":
                kinds.setdefault(r.control, r.kind)
    maps: list[dict[str, str]] = [{} for _ in items]
    for control, kind in kinds.items():
        sub = [
            ControlItem(i, item.where, tuple(r for r in item.gt if r.control == control),
                        tuple(r for r in item.pred if r.control == control), item.image_size)
            for i, item in enumerate(items)
        ]  # fmt: skip
        found = region_matches(kind, sub, params, by_geometry=MATCHABLE_KINDS)
        for target, pairs in zip(maps, found):
            for dt_id, gt_id in pairs.items():
                target.setdefault(dt_id, gt_id)
    return maps


class RelationFamily:
    """Scores the relations pseudo-control: items hold every region of both sides plus the relations."""

    kind = "relation"

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], LabelCounts]:
        """Map predicted endpoints to ground-truth regions, then compare the triples of each task."""
        state = LabelCounts()
        out = []
        for item, id_map in zip(items, _id_maps(items, params)):
            gt = _triples([r for r in item.gt if r.kind == "relation"], None)
            pred = _triples([r for r in item.pred if r.kind == "relation"], id_map)
            labels = sorted({t[3] for t in (*gt, *pred)})
            per_label = {}
            for label in labels:
                g = {t for t in gt if t[3] == label}
                p = {t for t in pred if t[3] == label}
                tp, fp, fn = len(g & p), len(p - g), len(g - p)
                state.add(label, tp, fp, fn)
                per_label[label] = prf_task(tp, fp, fn)[2]
            score = prf_task(len(gt.keys() & pred.keys()), len(pred.keys() - gt.keys()), len(gt.keys() - pred.keys()))[2]
            regions = tuple(
                RegionOutcome("TP" if t in gt else "FP", t[3], r.id, None, None, None) for t, r in pred.items()
            ) + tuple(RegionOutcome("FN", t[3], r.id) for t, r in gt.items() if t not in pred)
            reasons: tuple[str, ...] = ()
            if not metric.passes(score, params.threshold):
                gt_regions, pred_regions = _side_regions(item.gt), _side_regions(item.pred)
                missed = [f"missed relation {_show(r, gt_regions, t[3])}" for t, r in gt.items() if t not in pred]
                extra = [f"extra relation {_show(r, pred_regions, t[3], id_map)}" for t, r in pred.items() if t not in gt]
                shown = (missed + extra)[:MAX_REASONS]
                more = len(missed) + len(extra) - len(shown)
                reasons = tuple(shown) + ((f"... and {more} more",) if more else ())
            out.append(ControlScore("", self.kind, score, per_label, regions, reasons))
        return out, state

    def merge(self, states: Sequence[LabelCounts]) -> LabelCounts:
        """Add the counts."""
        merged = LabelCounts()
        for s in states:
            merged = merged.merge(s)
        return merged

    def compute(self, metric: MetricSpec, state: LabelCounts) -> tuple[dict, dict]:
        """Micro and macro precision/recall/F1 over relation labels."""
        return state.aggregate()
