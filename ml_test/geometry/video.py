"""Video tracks (``videorectangle``): keyframe parsing, interpolation to every frame, per-frame IoU.

Label Studio stores a track as sparse keyframes ``{frame (1-based), time, x, y, width, height,
rotation, enabled}`` in percent of the frame, plus ``framesCount``. The editor's rules (reference
§2.1, SDK ``label_studio_tools.postprocessing.video.extract_key_frames``):

- between a keyframe and the next one, when the earlier is enabled, x, y, width, height and
  rotation are interpolated linearly, frame by frame;
- a keyframe with ``enabled: false`` is shown on its own frame and ends the track there
  (its lifespan); the next enabled keyframe starts a new segment;
- the last keyframe, when enabled, lasts to ``framesCount`` (without ``framesCount``, to its own
  frame only).

A track becomes a ``Track``: the sorted frames where it exists and one box per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from ..errors import InputError
from .boxes import box_iou_pairs_exact
from .shapes import shape_iou_pairs

__all__ = ["Track", "parse_track", "interpolate", "track_iou"]

_FIELDS = ("x", "y", "width", "height", "rotation")


@dataclass(frozen=True, slots=True, eq=False)
class Track:
    """A track on every frame where it exists: ``frames`` (n,) sorted int64, ``boxes`` (n, 5) ``x, y, w, h, rotation``.

    Boxes are in percent with the top-left corner at ``x, y``, rotation in degrees in [0, 360),
    clockwise about that corner; unrotated boxes have non-negative sizes (rotated ones keep the
    signed sizes, whose corners are still right). ``shown`` describes the frame ranges.
    """

    frames: np.ndarray
    boxes: np.ndarray
    shown: str

    def __len__(self) -> int:
        """Number of frames the track exists on."""
        return len(self.frames)


def _finite(holder: dict, key: str, where: str, prefix: str, default: float | None = None) -> float:
    """``holder[key]`` as a finite float; errors read ``where: value.sequence[3].x must be finite``."""
    v = holder.get(key, default)
    if v is None:
        raise InputError(f"{where}: {prefix}{key} is missing")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"{where}: {prefix}{key} must be a number, got {v!r:.40}")
    if not math.isfinite(v):
        raise InputError(f"{where}: {prefix}{key} must be finite, got {v}")
    return float(v)


def _ranges(frames: np.ndarray) -> str:
    """``frames 1-5, 33-57`` from sorted unique frame numbers."""
    if len(frames) == 0:
        return "no frames"
    breaks = np.flatnonzero(np.diff(frames) != 1)
    starts = np.concatenate([[frames[0]], frames[breaks + 1]])
    ends = np.concatenate([frames[breaks], [frames[-1]]])
    return "frames " + ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts.tolist(), ends.tolist()))


def interpolate(keyframes: np.ndarray, enabled: np.ndarray, frames_count: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Every frame of a track from keyframes sorted by frame: (frames, boxes) as described in the module docstring.

    ``keyframes`` is (k, 6): frame, x, y, width, height, rotation (raw degrees, so that -5 to 5
    passes through 0, not 180). Vectorised: one ``np.repeat`` over keyframe segments.
    """
    k = len(keyframes)
    if k == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 5))
    f = keyframes[:, 0].astype(np.int64)
    vals = keyframes[:, 1:]
    has_next = np.arange(k) < k - 1
    # an enabled keyframe runs up to the frame before the next keyframe (which starts its own segment),
    # the last enabled one to framesCount; a disabled one covers its own frame only
    nxt = np.append(f[1:], f[-1])
    end = np.where(enabled & has_next, nxt - 1, f)
    if frames_count is not None and enabled[-1]:
        end[-1] = max(frames_count, f[-1])
    lengths = end - f + 1
    seg = np.repeat(np.arange(k), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    frames = f[seg] + offset
    # interpolate toward the next keyframe only inside an enabled keyframe's segment
    span = np.where(enabled & has_next, nxt - f, 0)
    t = np.where(span[seg] > 0, offset / np.maximum(span[seg], 1), 0.0)
    after = np.minimum(seg + 1, k - 1)
    boxes = vals[seg] + t[:, None] * (vals[after] - vals[seg])
    boxes[:, 4] %= 360.0
    # Konva draws a negative size towards the other side: normalise unrotated boxes to positive sizes
    flat = boxes[:, 4] == 0.0
    for dim in (0, 1):
        neg = flat & (boxes[:, 2 + dim] < 0)
        boxes[neg, dim] += boxes[neg, 2 + dim]
        boxes[neg, 2 + dim] *= -1.0
    return frames, boxes


def parse_track(value: dict, where: str) -> Track:
    """Validate a ``videorectangle`` value and interpolate it; errors name the region and the field."""
    seq = value.get("sequence")
    if not isinstance(seq, list) or not all(isinstance(kf, dict) for kf in seq):
        raise InputError(f"{where}: value.sequence must be a list of keyframes ({{frame, x, y, width, height, ...}})")
    frames_count = value.get("framesCount")
    if frames_count is not None:
        n = _finite(value, "framesCount", where, "value.")
        if n < 0 or n != int(n):
            raise InputError(f"{where}: value.framesCount must be a whole number of frames >= 0, got {frames_count!r:.40}")
        frames_count = int(n)
    rows, enabled = [], []
    for i, kf in enumerate(seq):
        prefix = f"value.sequence[{i}]."
        frame = _finite(kf, "frame", where, prefix)
        if frame < 1 or frame != int(frame):
            raise InputError(f"{where}: {prefix}frame must be a frame number (an integer >= 1, frames start at 1), got {kf['frame']!r:.40}")
        rows.append([frame] + [_finite(kf, key, where, prefix, 0.0 if key == "rotation" else None) for key in _FIELDS])
        on = kf.get("enabled", True)
        if not isinstance(on, bool):
            raise InputError(f"{where}: {prefix}enabled must be true or false, got {on!r:.40}")
        enabled.append(on)
    keyframes = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    on = np.asarray(enabled, dtype=bool)
    if len(keyframes):
        # the editor keeps one keyframe per frame; for a repeated frame the later entry wins
        order = np.argsort(keyframes[:, 0], kind="stable")
        keyframes, on = keyframes[order], on[order]
        last = np.append(keyframes[1:, 0] != keyframes[:-1, 0], True)
        keyframes, on = keyframes[last], on[last]
    frames, boxes = interpolate(keyframes, on, frames_count)
    return Track(frames, boxes, _ranges(frames))


def _corners_px(boxes: np.ndarray, size: tuple[float, float]) -> np.ndarray:
    """(n, 4, 2) pixel corners of boxes rotated clockwise about their top-left corner (as ``box_corners_px``)."""
    w, h = size
    x0, y0 = boxes[:, 0] / 100.0 * w, boxes[:, 1] / 100.0 * h
    bw, bh = boxes[:, 2] / 100.0 * w, boxes[:, 3] / 100.0 * h
    theta = np.deg2rad(boxes[:, 4])
    c, s = np.cos(theta), np.sin(theta)
    p0 = np.stack([x0, y0], axis=-1)
    p1 = p0 + np.stack([bw * c, bw * s], axis=-1)
    p3 = p0 + np.stack([-bh * s, bh * c], axis=-1)
    return np.stack([p0, p1, p1 + p3 - p0, p3], axis=1)


def frame_ious(a: np.ndarray, b: np.ndarray, size: tuple[float, float] | None) -> np.ndarray:
    """Elementwise IoU of (n, 5) boxes: in percent when both are upright, else polygons in pixels (needs ``size``)."""
    out = np.zeros(len(a))
    upright = (a[:, 4] == 0.0) & (b[:, 4] == 0.0)
    if upright.any():
        # IoU is scale-invariant for upright boxes, so percent space gives the pixel IoU
        out[upright] = box_iou_pairs_exact(a[upright, :4], b[upright, :4])
    rot = ~upright
    if rot.any():
        if size is None:
            raise ValueError("rotated boxes need the image size")
        pa = shapely.polygons(_corners_px(a[rot], size))
        pb = shapely.polygons(_corners_px(b[rot], size))
        out[rot] = shape_iou_pairs(pa, pb)
    return out


def track_iou(a: Track, b: Track, size: tuple[float, float] | None) -> float:
    """IoU over time: per-frame IoU summed over frames both tracks exist on / frames either exists on."""
    union = len(a) + len(b)
    if union == 0:
        return 1.0
    common, ia, ib = np.intersect1d(a.frames, b.frames, assume_unique=True, return_indices=True)
    union -= len(common)
    if len(common) == 0:
        return 0.0
    return float(frame_ious(a.boxes[ia], b.boxes[ib], size).sum() / union)
