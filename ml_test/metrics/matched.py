"""Metrics over one-to-one matched regions: boxes, rotated boxes, polygons, ellipses, masks (detection), spans, keypoints.

Matching is COCO's: within a label, predictions in descending score order (ties in file order)
each take the unmatched ground-truth region of highest IoU >= the IoU threshold. One matching
kernel (``coco.match``) serves every metric here:

* ``mAP`` / ``mAP50`` / ``mAP75``: COCO AP per label (IoU .50:.05:.95 or one of them, 101
  recall points, 100 detections per label and task). Per task: mean AP over labels on either
  side, a label predicted but absent from the ground truth scoring 0, precision taken as
  tp / (tp + fp) so that a perfect task is exactly 1.0 (pycocotools adds an eps that makes it
  0.9999999999999998). Dataset: pycocotools' 12 statistics, bit for bit, eps included.
* ``precision`` / ``recall`` / ``f1`` at ``iou`` (0.5; spans: exact boundaries). Per task from
  its TP/FP/FN; dataset micro and macro (see ``counts``).
* ``iou``: sum of IoU over matched pairs / (matched + missed + extra), matching at any overlap.
* ``dice``: the same with each pair's Dice coefficient ``2 |A & B| / (|A| + |B|)``, which is
  ``2 IoU / (1 + IoU)`` for areas and lengths alike (so it matches as ``iou`` does).
* ``pck`` (keypoints): recall when matching within ``distance`` (``columns``): matched ground-truth
  points / ground-truth points; ``precision``/``recall``/``f1`` of keypoints match the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from ..geometry.masks import dice_from_iou
from ..results import ControlScore, RegionOutcome
from . import coco
from .base import ControlItem, MetricSpec, Params
from .columns import Columns, build_columns
from .counts import LabelCounts, prf_task
from .reasons import MAX_REASONS, describe, region_reasons

__all__ = ["MatchedFamily", "MAP_METRICS", "STAT_NAMES", "region_matches"]

MAP_METRICS = {"map": None, "map50": 0.5, "map75": 0.75}
STAT_NAMES = coco.STAT_NAMES
_SIZE_STATS = ("mAP_small", "mAP_medium", "mAP_large", "AR_small", "AR_medium", "AR_large")
# Spans match on exact boundaries by default: their IoU is 1.0 only for identical offsets.
_STRICT = 1.0
# "Any overlap" for the iou metric: the smallest positive IoU still matches.
_ANY_OVERLAP = float(np.nextafter(0.0, 1.0))
_ALL_AREAS = ((-np.inf, np.inf),)
_PRF_INDEX = {"precision": 0, "recall": 1, "f1": 2, "pck": 1}
# metrics that average a per-pair overlap over matched + missed + extra regions, matching at any overlap
_OVERLAP_MEANS = ("iou", "dice")
# keypoint similarity r / (r + d) is 0.5 exactly at the matching distance
_WITHIN_DISTANCE = 0.5


@dataclass
class MatchedState:
    """Mergeable dataset state: COCO matches (mAP), label counts (P/R/F1) and IoU sums (iou)."""

    matches: list[tuple[coco.Matches, list[str]]] = field(default_factory=list)
    counts: LabelCounts = field(default_factory=LabelCounts)
    # matched IoUs per label, kept whole so that a sharded run sums them in the serial order
    ious: dict[str, list[np.ndarray]] = field(default_factory=dict)
    sizes_known: bool = True


def _match_params(metric: MetricSpec, kind: str, params: Params) -> tuple[coco.CocoParams, int]:
    """COCO parameters for the metric and the index of the threshold that decides TP/FP."""
    name = metric.name.lower()
    if name in MAP_METRICS:
        cp = coco.CocoParams()
        report_at = MAP_METRICS[name] or 0.5
        return cp, int(np.flatnonzero(cp.iou_thresholds == report_at)[0])
    t = _ANY_OVERLAP if name in _OVERLAP_MEANS and kind != "keypoint" else _match_threshold(kind, params)
    return coco.CocoParams(iou_thresholds=np.array([t]), area_ranges=_ALL_AREAS, max_dets=(None,)), 0


def _match_threshold(kind: str, params: Params) -> float:
    """The IoU (or keypoint similarity) a pair needs to match for precision/recall/F1."""
    if kind == "keypoint":
        return _WITHIN_DISTANCE
    return params.iou if params.iou is not None else (_STRICT if kind == "span" else 0.5)


# Kinds whose regions are matched by geometry; any other kind (video tracks, unknown shapes) by region id.
GEOMETRY_MATCHED = frozenset({"box", "polygon", "ellipse", "span", "mask", "keypoint"})


def region_matches(
    kind: str, items: Sequence[ControlItem], params: Params, *, by_geometry: frozenset[str] = GEOMETRY_MATCHED
) -> list[dict[str, str]]:
    """Per item, predicted region id -> ground-truth region id, matched one-to-one as for precision/recall/F1."""
    if kind not in by_geometry:
        return [{r.id: r.id for r in it.pred if any(g.id == r.id for g in it.gt)} for it in items]
    cols = build_columns(kind, items, distance=params.distance)
    cp = coco.CocoParams(iou_thresholds=np.array([_match_threshold(kind, params)]), area_ranges=_ALL_AREAS, max_dets=(None,))
    m = coco.match(
        cols.gt_image, cols.gt_label, cols.gt_area,
        cols.dt_image, cols.dt_label, cols.dt_score, cols.dt_area,
        cols.pair_iou, cp, n_images=len(items),
    )  # fmt: skip
    out: list[dict[str, str]] = [{} for _ in items]
    for d in np.flatnonzero(m.dt_matched[0, 0] >= 0):
        # a region with several labels is several rows: its first match identifies it
        out[cols.dt_image[d]].setdefault(cols.dt_regions[d].id, cols.gt_regions[m.dt_matched[0, 0, d]].id)
    return out


class MatchedFamily:
    """Scores controls whose regions are matched one-to-one by IoU (box, polygon, ellipse, mask, span) or distance (keypoint)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], MatchedState]:
        """Match every item of the batch at once, then score each task."""
        name = metric.name.lower()
        cols = build_columns(self.kind, items, coco_arithmetic=name in MAP_METRICS, distance=params.distance)
        cp, ti = _match_params(metric, self.kind, params)
        m = coco.match(
            cols.gt_image, cols.gt_label, cols.gt_area,
            cols.dt_image, cols.dt_label, cols.dt_score, cols.dt_area,
            cols.pair_iou, cp, n_images=len(items),
        )  # fmt: skip
        tp_det = m.dt_matched[ti, 0] >= 0  # (D,)
        counted = _counted(m, cp)  # (D,) detections inside the per-label cap
        fp_det = counted & ~tp_det
        fn_gt = m.gt_matched[ti] < 0  # (G,)
        # pycocotools' box arithmetic can put identical boxes a few ulps above 1
        ious = np.where(tp_det, np.minimum(m.dt_match_iou[ti], 1.0), 0.0)
        if name == "dice":
            ious = dice_from_iou(ious)  # the pair values averaged below are Dice coefficients

        state = MatchedState(sizes_known=cols.sizes_known)
        if name in MAP_METRICS:
            state.matches.append((m, cols.labels))
            task_label_values = _ap_per_task_label(m, cp, MAP_METRICS[name])
        else:
            task_label_values = None
        k = max(len(cols.labels), 1)
        n = len(items)
        per = lambda img, lab, w=None: np.bincount(img * k + lab, weights=w, minlength=n * k).reshape(n, k)  # noqa: E731
        tp = per(cols.dt_image[tp_det], cols.dt_label[tp_det])
        fp = per(cols.dt_image[fp_det], cols.dt_label[fp_det])
        fn = per(cols.gt_image[fn_gt], cols.gt_label[fn_gt])
        iou_sum = per(cols.dt_image[tp_det], cols.dt_label[tp_det], ious[tp_det])
        for j, label in enumerate(cols.labels):
            state.counts.add(label, tp[:, j].sum(), fp[:, j].sum(), fn[:, j].sum())
            state.ious.setdefault(label, []).append(ious[tp_det & (cols.dt_label == j)])

        threshold = cp.iou_thresholds[ti]
        which = _PRF_INDEX.get(name)  # position in prf_task's (precision, recall, f1)
        gt_bounds = np.searchsorted(cols.gt_image, np.arange(n + 1))
        dt_bounds = np.searchsorted(cols.dt_image, np.arange(n + 1))
        out = []
        for i, item in enumerate(items):
            present = np.flatnonzero(tp[i] + fp[i] + fn[i])
            per_label = {}
            for j in present:
                label = cols.labels[j]
                if task_label_values is not None:
                    per_label[label] = task_label_values.get((i, j), 0.0)
                elif name in _OVERLAP_MEANS:
                    per_label[label] = float(iou_sum[i, j] / (tp[i, j] + fp[i, j] + fn[i, j]))
                else:
                    per_label[label] = prf_task(tp[i, j], fp[i, j], fn[i, j])[which]
            if task_label_values is not None:
                score = float(np.mean(list(per_label.values()))) if per_label else 1.0
            elif name in _OVERLAP_MEANS:
                total = tp[i].sum() + fp[i].sum() + fn[i].sum()
                score = float(iou_sum[i].sum() / total) if total else 1.0
            else:
                score = prf_task(tp[i].sum(), fp[i].sum(), fn[i].sum())[which]
            gs, ds = slice(gt_bounds[i], gt_bounds[i + 1]), slice(dt_bounds[i], dt_bounds[i + 1])
            regions = _outcomes(cols, m, ti, gs, ds, tp_det, counted)
            reasons: tuple[str, ...] = ()
            if not metric.passes(score, params.threshold):
                reasons = region_reasons(self.kind, cols, gs, ds, tp_det, fn_gt, counted, threshold, cp.max_dets[-1])
                if name in _OVERLAP_MEANS:
                    reasons += _weak_matches(self.kind, cols, m, ti, ds, tp_det, ious, name, params.threshold)
            out.append(ControlScore(control="", kind=self.kind, score=score, per_label=per_label, regions=regions, reasons=reasons))
        return out, state

    def merge(self, states: Sequence[MatchedState]) -> MatchedState:
        """Concatenate matches and add counts, in task order."""
        merged = MatchedState()
        for s in states:
            merged.matches.extend(s.matches)
            merged.counts = merged.counts.merge(s.counts)
            for k, v in s.ious.items():
                merged.ious.setdefault(k, []).extend(v)
            merged.sizes_known &= s.sizes_known
        return merged

    def compute(self, metric: MetricSpec, state: MatchedState) -> tuple[dict, dict]:
        """Dataset-level values: the 12 COCO stats, micro/macro P/R/F1, or pooled IoU (Dice)."""
        name = metric.name.lower()
        if name in MAP_METRICS:
            return _coco_aggregate(state)
        aggregate, per_label = state.counts.aggregate()
        if name == "pck":
            aggregate = {"pck": aggregate["recall_micro"], "pck_macro": aggregate["recall_macro"]}
            per_label = {k: {"pck": v["recall"], "support": v["support"]} for k, v in per_label.items()}
        elif name in _OVERLAP_MEANS:
            labels, tp, fp, fn = state.counts.arrays()
            per_label_ious = [np.concatenate(state.ious.get(k) or [np.zeros(0)]) for k in labels]
            sums = np.array([v.sum() for v in per_label_ious])
            totals = tp + fp + fn
            everything = np.concatenate(per_label_ious) if labels else np.zeros(0)
            aggregate = {name: float(everything.sum() / totals.sum()) if totals.sum() else None}
            per_label = {k: {name: float(sums[i] / totals[i]) if totals[i] else None} for i, k in enumerate(labels)}
        return aggregate, per_label


def _weak_matches(kind: str, cols: Columns, m: coco.Matches, ti: int, ds: slice, tp_det: np.ndarray,
                  values: np.ndarray, name: str, threshold: float) -> tuple[str, ...]:
    """Matched pairs whose overlap is below the task threshold, worst first: why an iou/dice score is low."""
    rows = [d for d in range(ds.start, ds.stop) if tp_det[d] and values[d] < threshold]
    rows.sort(key=lambda d: values[d])
    out = []
    for d in rows[:MAX_REASONS]:
        g = m.dt_matched[ti, 0, d]
        label = cols.labels[cols.gt_label[g]]
        out.append(f"{describe(kind, cols.gt_regions[g], label)} matched with {name} {values[d]:.2f}")
    if len(rows) > MAX_REASONS:
        out.append(f"... and {len(rows) - MAX_REASONS} more weak matches")
    return tuple(out)


def _counted(m: coco.Matches, cp: coco.CocoParams) -> np.ndarray:
    """Detections that take part in matching (COCO keeps the top 100 per label and task)."""
    cap = cp.max_dets[-1]
    return np.ones(len(m.dt_rank), dtype=bool) if cap is None else m.dt_rank < cap


def _ap_per_task_label(m: coco.Matches, cp: coco.CocoParams, at: float | None) -> dict[tuple[int, int], float]:
    """AP of each (task, label) from that task alone: mean over IoU thresholds, or at one of them."""
    # without pycocotools' eps in tp / (tp + fp + eps), so that a perfect task scores exactly 1.0
    image, label, ap = coco.per_image_label_ap(m, cp, eps=0.0)  # ap: (T, P)
    values = ap.mean(axis=0) if at is None else ap[int(np.flatnonzero(cp.iou_thresholds == at)[0])]
    return {(int(i), int(j)): float(v) for i, j, v in zip(image, label, values)}


def _outcomes(cols: Columns, m: coco.Matches, ti: int, gs: slice, ds: slice, tp_det: np.ndarray, counted: np.ndarray) -> tuple[RegionOutcome, ...]:
    out = []
    for d in range(ds.start, ds.stop):
        r = cols.dt_regions[d]
        if tp_det[d]:
            g = m.dt_matched[ti, 0, d]
            iou = min(float(m.dt_match_iou[ti, d]), 1.0)
            out.append(RegionOutcome("TP", cols.labels[cols.dt_label[d]], r.id, cols.gt_regions[g].id, iou, r.score))
        elif counted[d]:
            out.append(RegionOutcome("FP", cols.labels[cols.dt_label[d]], r.id, None, None, r.score))
    for g in range(gs.start, gs.stop):
        if m.gt_matched[ti, g] < 0:
            out.append(RegionOutcome("FN", cols.labels[cols.gt_label[g]], cols.gt_regions[g].id))
    return tuple(out)


def _coco_aggregate(state: MatchedState) -> tuple[dict, dict]:
    """Merge the chunks' matches under one sorted label list and summarise as pycocotools does."""
    labels = sorted({k for _, names in state.matches for k in names})
    index = {k: i for i, k in enumerate(labels)}
    parts = []
    for m, names in state.matches:
        remap = np.array([index[k] for k in names], dtype=np.int64)
        if len(remap):
            m = replace(m, dt_label=remap[m.dt_label], gt_label=remap[m.gt_label])
        parts.append(m)
    cp = coco.CocoParams()
    merged = coco.concat_matches(parts) if parts else None
    if merged is None or not labels:
        return {name: None for name in STAT_NAMES}, {}
    precision, recall = coco.accumulate(merged, len(labels), cp)
    stats = coco.summarize(precision, recall, cp)
    if not state.sizes_known:
        # area ranges are in pixels: without image sizes they would be meaningless
        stats.update({name: None for name in _SIZE_STATS})
    per_label = {}
    for k, label in enumerate(labels):
        entry = {}
        for key, t in (("AP", None), ("AP50", 0.5), ("AP75", 0.75)):
            p = precision[:, :, k, 0, -1] if t is None else precision[cp.iou_thresholds == t, :, k, 0, -1]
            valid = p[p > -1]
            entry[key] = float(np.mean(valid)) if valid.size else None
        r = recall[:, k, 0, -1]
        entry["AR100"] = float(np.mean(r[r > -1])) if (r > -1).any() else None
        per_label[label] = entry
    return dict(stats), per_label
