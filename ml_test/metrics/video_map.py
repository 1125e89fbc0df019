"""Per-frame box ``mAP`` / ``mAP50`` / ``mAP75`` for video tracks.

Every (task, frame) is one COCO image. A track that exists on a frame (``geometry.video``: keyframes
interpolated, disabled keyframes ending it) contributes its interpolated box there, under the
track's label(s); a predicted box's score is its track's region score (1.0 without one). Boxes are
scored exactly as image boxes for ``mAP`` (``columns``' box geometry with pycocotools' arithmetic):
upright boxes by pycocotools' box IoU, rotated ones as polygons in pixels (they need the frame
size), area ranges in pixels when the frame size is known.

Per task: the task's frames form a small COCO dataset: ``coco.accumulate`` over them alone (without
pycocotools' eps, so a perfect task is exactly 1.0), then per label the mean precision over the
recall points and the IoU thresholds (or at 0.50 / 0.75); the task scores the mean over the labels on
either side, a label predicted but absent from the ground truth scoring 0; both sides empty 1.0.
Unlike image ``mAP`` (one AP per task and label from one image), a track's frames are pooled and
ranked together, which is what a per-video AP means. Dataset: pycocotools' 12 statistics over all
(task, frame) images.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from ..regions import Region
from ..results import ControlScore
from . import coco
from .base import ControlItem, MetricSpec, Params
from .columns import build_columns
from .matched import MAP_METRICS, MatchedState
from .reasons import MAX_REASONS

__all__ = ["score_video_map", "frame_items"]


def frame_items(items: Sequence[ControlItem]) -> tuple[list[ControlItem], np.ndarray]:
    """One box item per (task, frame) where a track exists, in task then frame order, and each one's task position."""
    out: list[ControlItem] = []
    task_of = []
    for i, item in enumerate(items):
        frames: dict[int, tuple[list[Region], list[Region]]] = {}
        for side, regions in ((0, item.gt), (1, item.pred)):
            for r in regions:
                t = r.geometry
                for f, box in zip(t.frames.tolist(), t.boxes.tolist()):
                    # a box of the track on that frame: its labels and score stay the track's
                    frames.setdefault(f, ([], []))[side].append(
                        Region(r.id, r.control, "box", "rectanglelabels", r.labels, r.score, tuple(box), r.image_size)
                    )
        for f in sorted(frames):
            gt, pred = frames[f]
            out.append(replace(item, image=len(out), where=f"{item.where}: frame {f}", gt=tuple(gt), pred=tuple(pred)))
            task_of.append(i)
    return out, np.array(task_of, dtype=np.int64)


def _slice(m: coco.Matches, gs: slice, ds: slice, images: slice) -> coco.Matches:
    """The matches of a contiguous run of images (their rows are contiguous too), indices made local."""
    dt_matched = m.dt_matched[..., ds]
    gt_matched = m.gt_matched[:, gs]
    return coco.Matches(
        dt_image=m.dt_image[ds] - images.start, dt_label=m.dt_label[ds], dt_score=m.dt_score[ds], dt_rank=m.dt_rank[ds],
        dt_matched=np.where(dt_matched >= 0, dt_matched - gs.start, -1), dt_ignore=m.dt_ignore[..., ds],
        dt_match_iou=m.dt_match_iou[:, ds], gt_image=m.gt_image[gs] - images.start, gt_label=m.gt_label[gs],
        gt_ignore=m.gt_ignore[:, gs], gt_matched=np.where(gt_matched >= 0, gt_matched - ds.start, -1),
        n_images=images.stop - images.start,
    )  # fmt: skip


def score_video_map(metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], MatchedState]:
    """Score each task's frames as a small COCO dataset; keep the matches for the dataset statistics."""
    name = metric.name.lower()
    frames, task_of = frame_items(items)
    cols = build_columns("box", frames, coco_arithmetic=True)
    cp = coco.CocoParams()
    m = coco.match(
        cols.gt_image, cols.gt_label, cols.gt_area,
        cols.dt_image, cols.dt_label, cols.dt_score, cols.dt_area,
        cols.pair_iou, cp, n_images=len(frames),
    )  # fmt: skip
    state = MatchedState(sizes_known=cols.sizes_known)
    state.matches.append((m, cols.labels))
    at = MAP_METRICS[name]
    t_rows = slice(None) if at is None else np.flatnonzero(cp.iou_thresholds == at)
    img_bounds = np.searchsorted(task_of, np.arange(len(items) + 1))
    gt_bounds = np.searchsorted(cols.gt_image, img_bounds)
    dt_bounds = np.searchsorted(cols.dt_image, img_bounds)
    out = []
    for i, item in enumerate(items):
        gs, ds = slice(gt_bounds[i], gt_bounds[i + 1]), slice(dt_bounds[i], dt_bounds[i + 1])
        present = sorted(set(cols.gt_label[gs].tolist()) | set(cols.dt_label[ds].tolist()))
        per_label: dict[str, float] = {}
        if present:
            task_m = _slice(m, gs, ds, slice(img_bounds[i], img_bounds[i + 1]))
            precision, _ = coco.accumulate(task_m, len(cols.labels), cp, eps=0.0)
            p = precision[t_rows, :, :, 0, -1]  # (T, R, K) at area 'all', 100 detections
            for j in present:
                # -1: the label has no ground truth in this task, so its predictions are all false
                per_label[cols.labels[j]] = float(p[:, :, j].mean()) if (p[:, :, j] > -1).all() else 0.0
        score = float(np.mean(list(per_label.values()))) if per_label else 1.0
        reasons: list[str] = []
        if not metric.passes(score, params.threshold):
            n_frames = img_bounds[i + 1] - img_bounds[i]
            for lab, v in per_label.items():
                j = cols.labels.index(lab)
                n_gt = int((cols.gt_label[gs] == j).sum())
                n_dt = int((cols.dt_label[ds] == j).sum())
                reasons.append(f"{lab}: AP {v:.2f} over {n_frames} frames ({n_gt} ground-truth boxes, {n_dt} predicted boxes)")
            reasons = reasons[:MAX_REASONS] + ([f"... and {len(reasons) - MAX_REASONS} more"] if len(reasons) > MAX_REASONS else [])
        out.append(ControlScore("", "video", score, per_label, (), tuple(reasons)))
    return out, state
