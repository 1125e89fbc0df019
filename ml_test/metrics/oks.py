"""``oks_mAP``: COCO keypoint AP, objects being a parent rectangle and the keypoints whose ``parentID`` names it.

Objects: keypoints are grouped by their parent rectangle (``parentID``, resolved by
``regions.parse_result`` among the rectangles of the same annotation or prediction, any control).
The object's category is the parent rectangle's (first) label; a keypoint's identity is its own
(first) label. Keypoints without a parent rectangle (no ``parentID``, or one naming no rectangle)
take no part; the reasons of a failing task count them.

Similarity (COCO's OKS with one constant): for a ground-truth object with keypoints ``p_i`` and
box area ``s²`` in pixels, and a predicted object of the same category,
``OKS = mean_i exp(-d_i² / (2 s² k²))``, ``d_i`` being the pixel distance from ``p_i`` to the
nearest predicted keypoint of the same label (a label the prediction lacks contributes 0).
``k`` is one falloff constant for every keypoint, ``DEFAULT_OKS_K = 0.1`` (COCO's per-keypoint
``k = 2 σ`` range from 0.05 for eyes to 0.18 for hips); ``OksKeypointFamily(k=...)`` changes it
(API only). As in pycocotools, ``s²`` is the ground-truth area plus ``np.spacing(1)``.

Scoring: COCO AP at OKS .50:.05:.95 through ``coco.match`` (``pair_iou`` returns OKS), 101 recall
points, 100 objects per category and task, exactly as ``mAP`` for boxes (``matched``): per task,
mean AP over the categories on either side (a perfect task is exactly 1.0); dataset, the 12
pycocotools statistics, the size ranges applying to the parent box area in pixels. A predicted
object's score is its rectangle's score, else the mean of its keypoints' scores, else 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..geometry.shapes import box_xywh_px
from ..regions import Region
from ..results import ControlScore, RegionOutcome
from . import coco
from .base import ControlItem, MetricSpec, Params
from .columns import NO_SCORE
from .matched import MatchedFamily, MatchedState, _ap_per_task_label, _coco_aggregate
from .reasons import MAX_REASONS

__all__ = ["OksKeypointFamily", "DEFAULT_OKS_K", "oks"]

DEFAULT_OKS_K = 0.1


@dataclass(frozen=True, slots=True)
class KeypointObject:
    """A parent rectangle and its keypoints: pixel points (n, 2) and their label codes (n,)."""

    image: int
    label: str
    box: Region
    area: float  # pixels
    score: float
    points: np.ndarray
    codes: np.ndarray


def oks(gt: KeypointObject, pred: KeypointObject, k: float = DEFAULT_OKS_K) -> float:
    """Object keypoint similarity of a predicted object to a ground-truth one (see the module docstring)."""
    if len(gt.points) == 0:
        return 0.0
    d2 = ((gt.points[:, None, :] - pred.points[None, :, :]) ** 2).sum(axis=-1)  # (g, p)
    sim = np.exp(-d2 / (2.0 * (gt.area + np.spacing(1)) * k * k))
    sim = np.where(gt.codes[:, None] == pred.codes[None, :], sim, 0.0)
    best = sim.max(axis=1) if sim.shape[1] else np.zeros(len(gt.points))
    return float(best.mean())


def build_objects(
    items: Sequence[ControlItem], side: str, codes: dict[str, int]
) -> tuple[list[KeypointObject], list[int]]:
    """The objects of one side, in task then file order of their first keypoint, and per item the keypoints left out."""
    objects: list[KeypointObject] = []
    ignored = []
    for item in items:
        groups: dict[str, list[Region]] = {}
        n_ignored = 0
        for r in getattr(item, side):
            if isinstance(r.parent, Region):
                groups.setdefault(r.parent.id, []).append(r)
            else:
                n_ignored += 1
        ignored.append(n_ignored)
        for members in groups.values():
            box = members[0].parent
            size = item.image_size or box.image_size or members[0].image_size
            if size is None:
                raise InputError(
                    f"{item.where}: {'ground truth' if side == 'gt' else 'prediction'}: result {members[0].id!r}: "
                    "OKS is measured in pixels and needs the image size: add original_width/original_height or pass --image-size WxH"
                )
            w, h = size
            xy = np.array([m.geometry for m in members], dtype=np.float64).reshape(-1, 2) * np.array([w, h]) / 100.0
            bw, bh = box_xywh_px(np.array([box.geometry], dtype=np.float64), np.array([w]), np.array([h]))[0, 2:4]
            scores = [m.score for m in members if m.score is not None]
            score = box.score if box.score is not None else (float(np.mean(scores)) if scores else NO_SCORE)
            point_codes = np.array([codes.setdefault(m.label, len(codes)) for m in members], dtype=np.int64)
            objects.append(KeypointObject(item.image, box.label, box, float(abs(bw * bh)), score, xy, point_codes))
    return objects, ignored


class OksKeypointFamily(MatchedFamily):
    """The keypoint family, plus ``oks_mAP`` over objects grouped by parent rectangle."""

    def __init__(self, k: float = DEFAULT_OKS_K) -> None:
        super().__init__("keypoint")
        self.k = k

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], MatchedState]:
        """``oks_mAP`` here; every other keypoint metric as ``MatchedFamily``."""
        if metric.name.lower() != "oks_map":
            return super().score(metric, items, params)
        codes: dict[str, int] = {}
        gts, gt_ignored = build_objects(items, "gt", codes)
        dts, dt_ignored = build_objects(items, "pred", codes)
        labels = sorted({o.label for o in gts} | {o.label for o in dts})
        index = {k: i for i, k in enumerate(labels)}
        arr = lambda objs, f, t: np.array([f(o) for o in objs], dtype=t)  # noqa: E731
        k = self.k

        def pair_iou(d: np.ndarray, g: np.ndarray) -> np.ndarray:
            return np.array([oks(gts[gi], dts[di], k) for di, gi in zip(d.tolist(), g.tolist())], dtype=np.float64)

        cp = coco.CocoParams()
        m = coco.match(
            arr(gts, lambda o: o.image, np.int64), arr(gts, lambda o: index[o.label], np.int64), arr(gts, lambda o: o.area, np.float64),
            arr(dts, lambda o: o.image, np.int64), arr(dts, lambda o: index[o.label], np.int64), arr(dts, lambda o: o.score, np.float64),
            arr(dts, lambda o: o.area, np.float64), pair_iou, cp, n_images=len(items),
        )  # fmt: skip
        state = MatchedState()
        state.matches.append((m, labels))
        ap = _ap_per_task_label(m, cp, None)
        ti = int(np.flatnonzero(cp.iou_thresholds == 0.5)[0])  # outcomes and reasons at OKS 0.5
        # objects are in item order and an item's image is its position (as for every matched family)
        gt_bounds = np.searchsorted(m.gt_image, np.arange(len(items) + 1))
        dt_bounds = np.searchsorted(m.dt_image, np.arange(len(items) + 1))
        out = []
        for i, item in enumerate(items):
            g_rows, d_rows = range(gt_bounds[i], gt_bounds[i + 1]), range(dt_bounds[i], dt_bounds[i + 1])
            present = sorted({gts[r].label for r in g_rows} | {dts[r].label for r in d_rows})
            per_label = {lab: ap.get((i, index[lab]), 0.0) for lab in present}
            score = float(np.mean(list(per_label.values()))) if per_label else 1.0
            outcomes = []
            for d in d_rows:
                g = int(m.dt_matched[ti, 0, d])
                if g >= 0:
                    outcomes.append(RegionOutcome("TP", dts[d].label, dts[d].box.id, gts[g].box.id, float(m.dt_match_iou[ti, d]), dts[d].score))
                else:
                    outcomes.append(RegionOutcome("FP", dts[d].label, dts[d].box.id, None, None, dts[d].score))
            outcomes += [RegionOutcome("FN", gts[g].label, gts[g].box.id) for g in g_rows if m.gt_matched[ti, g] < 0]
            reasons: list[str] = []
            if not metric.passes(score, params.threshold):
                reasons += [f"{lab}: AP over OKS .50:.95 {v:.2f}" for lab, v in per_label.items() if v < 1.0]
                reasons += [f"missed {o.label} object {o.box.id!r}: no same-label predicted object within OKS 0.5"
                            for o in (gts[g] for g in g_rows if m.gt_matched[ti, g] < 0)]  # fmt: skip
            if (gt_ignored[i] or dt_ignored[i]) and (reasons or not per_label):
                reasons.append(
                    f"keypoints without a parent box are ignored by oks_mAP: {gt_ignored[i]} in the ground truth, {dt_ignored[i]} predicted"
                )
            if len(reasons) > MAX_REASONS:
                reasons = reasons[:MAX_REASONS] + [f"... and {len(reasons) - MAX_REASONS} more"]
            out.append(ControlScore("", self.kind, score, per_label, tuple(outcomes), tuple(reasons)))
        return out, state

    def compute(self, metric: MetricSpec, state: MatchedState) -> tuple[dict, dict]:
        """The 12 COCO statistics for ``oks_mAP``; other metrics as ``MatchedFamily``."""
        if metric.name.lower() == "oks_map":
            return _coco_aggregate(state)
        return super().compute(metric, state)
