"""Readable reasons for a failing control: what was missed, what was extra, and why they did not match."""

from __future__ import annotations

import numpy as np

from ..regions import Region

__all__ = ["describe", "region_reasons", "MAX_REASONS"]

MAX_REASONS = 10


def _pct(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def describe(kind: str, region: Region, label: str) -> str:
    """``Car at x=12% y=40% 30×20%`` for a box; ``ORG [10:17]`` for a span; each kind in its own units."""
    g = region.geometry
    if kind == "box":
        x, y, w, h, rot = g
        where = f"{label} at x={_pct(x)}% y={_pct(y)}% {_pct(w)}×{_pct(h)}%"
        return where + (f" rotated {_pct(rot)}°" if rot else "")
    if kind == "polygon":
        if len(g) == 0:
            return f"{label} (empty polygon)"
        x0, y0 = g.min(axis=0)
        x1, y1 = g.max(axis=0)
        return f"{label} polygon at x={_pct(x0)}% y={_pct(y0)}% {_pct(x1 - x0)}×{_pct(y1 - y0)}% ({len(g)} points)"
    if kind == "ellipse":
        cx, cy, rx, ry, rot = g
        where = f"{label} ellipse at x={_pct(cx)}% y={_pct(cy)}% radii {_pct(rx)}×{_pct(ry)}%"
        return where + (f" rotated {_pct(rot)}°" if rot else "")
    if kind == "mask":
        return f"{label} mask {region.id!r}"
    if kind == "video":
        return f"{label} track {region.id!r} ({g.shown})"
    if kind == "keypoint":
        return f"{label} point at x={_pct(g[0])}% y={_pct(g[1])}%"
    if kind == "span":
        shown = g[4] if len(g) > 4 else None
        return f"{label} {shown}" if shown else f"{label} [{g[0]:.15g}:{g[1]:.15g}]"
    return label


def _closeness(kind: str, cols, similarity: float, g: int) -> str:
    """``IoU 0.42``, or for keypoints the distance in pixels that the similarity stands for."""
    if kind == "keypoint":
        r = cols.gt_radius[g]
        return f"{r * (1.0 - similarity) / similarity:.1f} px away" if similarity > 0 else "far away"
    return f"IoU {similarity:.2f}"


def region_reasons(
    kind: str,
    cols,
    gs: slice,
    ds: slice,
    tp_det: np.ndarray,
    fn_gt: np.ndarray,
    counted: np.ndarray,
    threshold: float,
    cap: int | None,
) -> tuple[str, ...]:
    """Reasons for one task's control: missed regions (with their best IoU), wrong labels, extras."""
    gt_rows = np.arange(gs.start, gs.stop)
    dt_rows = np.arange(ds.start, ds.stop)
    missed = gt_rows[fn_gt[gs]]
    extra = dt_rows[counted[ds] & ~tp_det[ds]]
    if len(missed) == 0 and len(extra) == 0:
        return ()
    ious = cols.iou_matrix(missed, dt_rows)  # (missed, all predictions of the task)
    same = cols.gt_label[missed][:, None] == cols.dt_label[dt_rows][None, :]
    strict = threshold >= 1.0  # exact boundaries (spans): any overlap short of identical is a near miss
    needed = min(threshold, 1 - 1e-10)
    explained: set[int] = set()
    reasons = []
    is_extra = np.isin(dt_rows, extra)
    in_cap = counted[dt_rows]
    for a, g in enumerate(missed[:MAX_REASONS]):
        label = cols.labels[cols.gt_label[g]]
        shown = describe(kind, cols.gt_regions[g], label)
        other = np.where(~same[a] & is_extra, ious[a], -1.0)
        best = np.where(same[a] & in_cap, ious[a], 0.0)
        capped = np.where(same[a] & ~in_cap, ious[a], 0.0)
        near = lambda v: _closeness(kind, cols, float(v), g)  # noqa: E731
        if capped.size and capped.max() >= needed and capped.max() > best.max():
            text = (
                f"missed {shown}: its prediction ({near(capped.max())}) ranks beyond COCO's "
                f"{cap} detections per label and task"
            )
        elif other.size and other.max() >= needed:
            d = dt_rows[int(np.argmax(other))]
            explained.add(int(d))
            text = f"{shown} predicted as {cols.labels[cols.dt_label[d]]} ({near(other.max())})"
        elif best.size and best.max() > 0 and strict:
            d = dt_rows[int(np.argmax(best))]
            text = f"missed {shown}: closest prediction {describe(kind, cols.dt_regions[d], label)}"
        elif best.size and best.max() >= needed:
            text = f"missed {shown}: the {'nearest' if kind == 'keypoint' else 'overlapping'} {label} prediction ({near(best.max())}) matched another region"
        elif best.size and best.max() > 0 and kind == "keypoint":
            text = f"missed {shown}: nearest {label} prediction {near(best.max())}, more than {cols.gt_radius[g]:.1f} px"
        elif best.size and best.max() > 0:
            text = f"missed {shown}: best IoU {best.max():.2f} < {threshold:.2f}"
        else:
            text = f"missed {shown}"
        reasons.append(text)
    # extras worst (most confident) first; only the shown ones are described
    unexplained = [d for d in extra if int(d) not in explained]
    unexplained.sort(key=lambda d: -(cols.dt_regions[d].score or 0.0))
    total = len(missed) + len(unexplained)
    for d in unexplained[: max(MAX_REASONS - len(reasons), 0)]:
        r = cols.dt_regions[d]
        score = f" score {r.score:.2f}" if r.score is not None else ""
        reasons.append(f"extra {describe(kind, r, cols.labels[cols.dt_label[d]])}{score}")
    if total > len(reasons):
        reasons.append(f"... and {total - len(reasons)} more")
    return tuple(reasons)
