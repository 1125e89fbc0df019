"""Video tracks: ``video_iou``, IoU over time of one-to-one matched tracks.

For a ground-truth and a predicted track of the same label, the pair score is the per-frame box
IoU summed over the frames both exist on, divided by the frames either exists on
(``geometry.video.track_iou``; label-studio-evalme's ``iou_over_time``). Tracks are matched
one-to-one, label by label, greedily by descending pair score (pairs scoring 0 never match); ties
are broken by a canonical order of the tracks (first frame, then first box), so the result does
not depend on the order of the results in the file. Per task:
``sum of matched pair scores / (matched + unmatched ground-truth + unmatched predicted tracks)``;
both sides empty 1.0, one side empty 0.0. Dataset: the same ratio pooled over all tasks
(``video_iou``), and per label.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from ..errors import InputError
from ..geometry.video import track_iou
from ..regions import Region
from ..results import ControlScore, RegionOutcome
from .base import ControlItem, MetricSpec, Params
from .matched import MAP_METRICS, MatchedFamily, MatchedState, _coco_aggregate
from .reasons import MAX_REASONS, describe
from .video_map import score_video_map

__all__ = ["VideoFamily", "match_tracks"]


@dataclass
class VideoState:
    """Per label: matched pair scores, units (matched pairs + unmatched tracks) and ground-truth tracks; merged by concatenation/addition."""

    # the scores themselves, summed with math.fsum at the end: exact, so chunked runs equal serial ones
    scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    units: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    support: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # ground-truth tracks


def _canonical(tracks: Sequence[Region]) -> list[int]:
    """Positions of the tracks in an order that does not depend on the file: first frame, first box, length."""
    def key(i: int) -> tuple:
        t = tracks[i].geometry
        return (t.frames[0], *t.boxes[0].tolist(), len(t)) if len(t) else (0,)
    return sorted(range(len(tracks)), key=key)


def _pair_score(g: Region, p: Region, size: tuple[float, float] | None, where: str) -> float:
    try:
        return track_iou(g.geometry, p.geometry, g.image_size or p.image_size or size)
    except ValueError:
        rotated = g if (g.geometry.boxes[:, 4] != 0).any() else p
        side = "ground truth" if rotated is g else "prediction"
        raise InputError(
            f"{where}: {side}: result {rotated.id!r}: a rotated video box needs the frame size: "
            "add original_width/original_height or pass --image-size WxH"
        ) from None


def match_tracks(
    gt: Sequence[Region], pred: Sequence[Region], size: tuple[float, float] | None, where: str = ""
) -> tuple[list[tuple[int, int, float]], list[int], list[int]]:
    """Greedy one-to-one matching of same-label tracks by descending ``track_iou``: (pairs, unmatched gt, unmatched pred)."""
    go, po = _canonical(gt), _canonical(pred)
    candidates = []
    for gi in go:
        for pi in po:
            if gt[gi].label != pred[pi].label:
                continue
            # frames never shared: skip the IoU work (score 0, never matched)
            a, b = gt[gi].geometry, pred[pi].geometry
            if not len(a) or not len(b) or a.frames[-1] < b.frames[0] or b.frames[-1] < a.frames[0]:
                continue
            s = _pair_score(gt[gi], pred[pi], size, where)
            if s > 0:
                candidates.append((s, gi, pi))
    rank_g, rank_p = {g: k for k, g in enumerate(go)}, {p: k for k, p in enumerate(po)}
    candidates.sort(key=lambda c: (-c[0], rank_g[c[1]], rank_p[c[2]]))
    used_g, used_p, pairs = set(), set(), []
    for s, gi, pi in candidates:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi, s))
    return pairs, [g for g in go if g not in used_g], [p for p in po if p not in used_p]


def _describe(r: Region) -> str:
    return describe("video", r, r.label or "(no label)")


class VideoFamily:
    """Scores ``videorectangle`` controls: ``video_iou`` here, per-frame box ``mAP`` in ``video_map``."""

    kind = "video"

    def score(self, metric: MetricSpec, items: Sequence[ControlItem], params: Params) -> tuple[list[ControlScore], VideoState | MatchedState]:
        """Match the tracks of each task and score them."""
        if metric.name.lower() in MAP_METRICS:
            return score_video_map(metric, items, params)
        state = VideoState()
        out = []
        for item in items:
            pairs, missed, extra = match_tracks(item.gt, item.pred, item.image_size, item.where)
            total: dict[str, float] = defaultdict(float)
            units: dict[str, int] = defaultdict(int)
            outcomes = []
            for gi, pi, s in pairs:
                g, p = item.gt[gi], item.pred[pi]
                total[g.label] += s
                state.scores[g.label].append(s)
                units[g.label] += 1
                state.support[g.label] += 1
                outcomes.append(RegionOutcome("TP", g.label, p.id, g.id, s, p.score))
            for gi in missed:
                units[item.gt[gi].label] += 1
                state.support[item.gt[gi].label] += 1
                outcomes.append(RegionOutcome("FN", item.gt[gi].label, item.gt[gi].id))
            for pi in extra:
                units[item.pred[pi].label] += 1
                outcomes.append(RegionOutcome("FP", item.pred[pi].label, item.pred[pi].id, score=item.pred[pi].score))
            n = sum(units.values())
            score = sum(total.values()) / n if n else 1.0
            per_label = {label: total[label] / units[label] for label in sorted(units)}
            for label in units:
                state.units[label] += units[label]
            reasons: list[str] = []
            if not metric.passes(score, params.threshold):
                for gi, pi, s in sorted(pairs, key=lambda x: x[2]):
                    reasons.append(f"{_describe(item.gt[gi])}: predicted track {item.pred[pi].geometry.shown} scores IoU over time {s:.2f}")
                reasons += [f"missed {_describe(item.gt[gi])}: no predicted track of that label overlaps it" for gi in missed]
                reasons += [f"extra {_describe(item.pred[pi])}: it overlaps no ground-truth track of that label" for pi in extra]
                if len(reasons) > MAX_REASONS:
                    reasons = reasons[:MAX_REASONS] + [f"... and {len(reasons) - MAX_REASONS} more"]
            out.append(ControlScore("", self.kind, score, per_label, tuple(outcomes), tuple(reasons)))
        return out, state

    def merge(self, states: Sequence[VideoState | MatchedState]) -> VideoState | MatchedState:
        """Add the per-label sums and counts (per-frame mAP: concatenate the matches)."""
        if states and isinstance(states[0], MatchedState):
            return MatchedFamily("box").merge(states)
        merged = VideoState()
        for s in states:
            for label, v in s.scores.items():
                merged.scores[label] += v
            for label, n in s.units.items():
                merged.units[label] += n
            for label, n in s.support.items():
                merged.support[label] += n
        return merged

    def compute(self, metric: MetricSpec, state: VideoState) -> tuple[dict, dict]:
        """Pooled ``video_iou`` and per label ``video_iou`` and ``support`` (ground-truth tracks); per-frame mAP: the 12 COCO stats."""
        if isinstance(state, MatchedState):
            return _coco_aggregate(state)
        n = sum(state.units.values())
        every = [s for label in sorted(state.scores) for s in state.scores[label]]
        aggregate = {"video_iou": math.fsum(every) / n if n else None}
        per_label = {
            label: {"video_iou": math.fsum(state.scores.get(label, ())) / state.units[label], "support": state.support.get(label, 0)}
            for label in sorted(state.units)
        }
        return aggregate, per_label
