"""COCO detection evaluation (bbox semantics, no crowd), vectorised and bit-identical to pycocotools.

Reference: pycocotools 2.0.11 ``COCOeval`` with ``iouType='bbox'`` and ``iscrowd=0`` on every GT.
Its ``eval['precision']`` [T, R, K, A, M], ``eval['recall']`` [T, K, A, M] and the 12 summary
statistics are reproduced bit for bit; only the order of operations is changed, never the
arithmetic.

The work is split in two steps so that matching can run on chunks of images:

``match`` (pycocotools' ``evaluateImg`` for every image, label and area range at once)
    Rows are grouped into (image, label) pairs with integer keys. One stable ``lexsort`` by
    (pair, -score) ranks detections as pycocotools' per-pair mergesort does (ties keep input
    order) and cuts each pair at ``max_dets[-1]``. The IoU of every (detection, GT) combination
    of every pair comes from one call of the caller's ``pair_iou``. Pairs with both sides are
    bucketed by padded (D, G) size; inside a bucket the greedy matching runs for all pairs and
    all IoU thresholds together, looping only over detection rank. pycocotools' scan ("take the
    unmatched GT with the highest IoU >= t, the later one on ties, a regular GT before any
    ignored one") becomes one ``argmax`` over integer keys: for IoU in [0, 2) the float64 bit
    pattern read as int64 orders like the IoU, bit 62 (never set by such a float) marks
    regular GTs, and the GT axis is stored reversed so ``argmax``'s first hit is the last GT.
    Area ranges only change the ignore pattern of the GTs; pairs whose pattern equals that of
    the first range (all-ignored and all-regular count as equal) reuse its matches.

``accumulate`` (pycocotools' ``accumulate``)
    Detections are ordered by (label, -score, image, rank), which is pycocotools' tie order
    (per-image lists concatenated in image order, then a stable sort by -score). Per (area
    range, max_det) and all labels at once: TP/FP flags, integer cumulative sums, precision
    ``tp / (fp + tp + eps)`` and recall ``tp / npig`` in the same float64 operations. The
    precision envelope (running max from the right) is only needed at the 101 recall points:
    each point r is reached at the c-th true positive, c being the smallest count with
    ``c / npig >= r``, and the envelope there is a max over true positives, computed with one
    ``maximum.reduceat`` over the blocks between consecutive points and a running max over at
    most 101 blocks.

Every GT is regular (``iscrowd=0``); GTs and detections are ignored only through area ranges,
whose bounds are inclusive as in pycocotools. ``max_dets`` caps detections per (image, label),
not per image. ``None`` in ``max_dets`` means no cap. Like pycocotools, a perfect result is not
always exactly 1: one true positive alone has precision 1 / (1 + eps) = 0.9999999999999998.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

__all__ = [
    "STAT_NAMES",
    "CocoParams",
    "Matches",
    "accumulate",
    "concat_matches",
    "match",
    "per_image_label_ap",
    "summarize",
]

STAT_NAMES = (
    "mAP", "mAP50", "mAP75", "mAP_small", "mAP_medium", "mAP_large",
    "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
)  # fmt: skip

PairIou = Callable[[np.ndarray, np.ndarray], np.ndarray]

# bit 62 is 0 in every float64 in [0, 2) (exponent <= 0x3FF), so it can rank regular GTs first
_REGULAR_BIT = np.int64(1) << np.int64(62)
# per_image_label_ap works on this many pairs at a time to bound its (T, pairs, R) arrays
_PAIR_CHUNK = 1024


def _iou_thresholds() -> np.ndarray:
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _rec_thresholds() -> np.ndarray:
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def _readonly(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64).reshape(-1)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class CocoParams:
    """pycocotools' detection parameters (defaults are ``Params('bbox')``'s, built the same way)."""

    iou_thresholds: np.ndarray = field(default_factory=_iou_thresholds)  # (T,)
    rec_thresholds: np.ndarray = field(default_factory=_rec_thresholds)  # (R,)
    max_dets: tuple[int | None, ...] = (1, 10, 100)  # (M,); None = no cap
    area_ranges: tuple[tuple[float, float], ...] = ((0, 1e5**2), (0, 32**2), (32**2, 96**2), (96**2, 1e5**2))  # (A,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "iou_thresholds", _readonly(self.iou_thresholds))
        object.__setattr__(self, "rec_thresholds", _readonly(self.rec_thresholds))
        # pycocotools sorts maxDets in evaluate(); None (no cap) sorts last
        max_dets = tuple(sorted(self.max_dets, key=lambda m: np.inf if m is None else m))
        if not max_dets or any(m is not None and m < 1 for m in max_dets):
            raise ValueError(f"max_dets must be positive ints or None; got {self.max_dets!r}")
        object.__setattr__(self, "max_dets", max_dets)
        object.__setattr__(self, "area_ranges", tuple((float(lo), float(hi)) for lo, hi in self.area_ranges))
        if not len(self.iou_thresholds) or not len(self.area_ranges):
            raise ValueError("iou_thresholds and area_ranges must not be empty")


@dataclass(frozen=True, slots=True, eq=False)
class Matches:
    """Matching of a set of images: per detection and per GT row, in input order; concatenable.

    Area index 0 is the first area range ('all' by default). Detections ranked at or beyond
    ``max_dets[-1]`` within their (image, label) take no part: unmatched and ignored everywhere.
    """

    dt_image: np.ndarray  # (N_dt,) int64
    dt_label: np.ndarray  # (N_dt,) int64
    dt_score: np.ndarray  # (N_dt,) float64
    dt_rank: np.ndarray  # (N_dt,) int64, rank within (image, label) by stable descending score
    dt_matched: np.ndarray  # (T, A, N_dt) int64, GT row or -1
    dt_ignore: np.ndarray  # (T, A, N_dt) bool
    dt_match_iou: np.ndarray  # (T, N_dt) float64 at area 0, nan if unmatched
    gt_image: np.ndarray  # (N_gt,) int64
    gt_label: np.ndarray  # (N_gt,) int64
    gt_ignore: np.ndarray  # (A, N_gt) bool
    gt_matched: np.ndarray  # (T, N_gt) int64 at area 0, detection row or -1
    n_images: int


def _outside(area: np.ndarray, ranges: Sequence[tuple[float, float]]) -> np.ndarray:
    """(A, n) area-range ignore flags, written as pycocotools writes them (nan is inside)."""
    lo = np.array([r[0] for r in ranges])[:, None]
    hi = np.array([r[1] for r in ranges])[:, None]
    return (area[None, :] < lo) | (area[None, :] > hi)


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For each element of a sorted array, the index where its run of equal keys starts."""
    n = len(sorted_keys)
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else np.zeros(0, np.int64)


def _pair_keys(gt_image: np.ndarray, gt_label: np.ndarray, dt_image: np.ndarray, dt_label: np.ndarray):
    """(gt_key, dt_key, n, labels): int64 keys ``image * n + label code`` ordered by (image, label)."""
    label = np.concatenate([gt_label, dt_label])
    lo, hi = int(label.min(initial=0)), int(label.max(initial=0))
    if hi - lo < 2**31:  # a plain offset keeps image * n far inside int64
        code, labels = label - lo, np.arange(lo, hi + 1)
    else:
        labels, code = np.unique(label, return_inverse=True)
    key = np.concatenate([gt_image, dt_image]) * len(labels) + code
    return key[: len(gt_image)], key[len(gt_image) :], len(labels), labels


def match(
    gt_image: np.ndarray,
    gt_label: np.ndarray,
    gt_area: np.ndarray,
    dt_image: np.ndarray,
    dt_label: np.ndarray,
    dt_score: np.ndarray,
    dt_area: np.ndarray,
    pair_iou: PairIou,
    params: CocoParams = CocoParams(),
    n_images: int | None = None,
) -> Matches:
    """Match detections to GT per (image, label, area range, IoU threshold) exactly as pycocotools' evaluateImg.

    ``pair_iou(dt_rows, gt_rows)`` returns the IoU of each (detection row, GT row) pair; it is
    called once, with every pair of the same (image, label) among the detections inside the cap.
    Its values must lie in [0, 2) (IoU plus rounding; pycocotools' box IoU can exceed 1 by an ulp).
    """
    gt_image, gt_label = np.asarray(gt_image, np.int64), np.asarray(gt_label, np.int64)
    dt_image, dt_label = np.asarray(dt_image, np.int64), np.asarray(dt_label, np.int64)
    gt_area, dt_area = np.asarray(gt_area, np.float64), np.asarray(dt_area, np.float64)
    dt_score = np.asarray(dt_score, np.float64)
    n_gt, n_dt = len(gt_image), len(dt_image)
    if not (len(gt_label) == len(gt_area) == n_gt and len(dt_label) == len(dt_score) == len(dt_area) == n_dt):
        raise ValueError("gt_* arrays must share one length and dt_* arrays another")
    if n_images is None:
        n_images = int(max(gt_image.max(initial=-1), dt_image.max(initial=-1))) + 1
    T, A = len(params.iou_thresholds), len(params.area_ranges)
    gt_key, dt_key, _, _ = _pair_keys(gt_image, gt_label, dt_image, dt_label)

    # detections by (pair, -score), ties in input order as pycocotools' mergesort
    dt_order = np.lexsort((-dt_score, dt_key))
    rank_sorted = np.arange(n_dt) - _group_starts(dt_key[dt_order])
    dt_rank = np.empty(n_dt, np.int64)
    dt_rank[dt_order] = rank_sorted
    cap = params.max_dets[-1]
    kept = dt_order if cap is None else dt_order[rank_sorted < cap]  # detection rows, by (pair, rank)
    gt_order = np.argsort(gt_key, kind="stable")  # GT rows, by (pair, input order)

    gt_ignore = _outside(gt_area, params.area_ranges)  # (A, N_gt)
    dt_matched = np.full((T, A, n_dt), -1, np.int64)
    dt_match_iou = np.full((T, n_dt), np.nan)
    gt_matched = np.full((T, n_gt), -1, np.int64)
    pairs = _pairs_with_both(dt_key[kept], gt_key[gt_order])
    if pairs is not None:
        thr = np.minimum(params.iou_thresholds, 1 - 1e-10).view(np.int64)  # pycocotools' min(t, 1-1e-10)
        redone = []
        for b in _buckets(pairs, kept, gt_order, pair_iou):
            redone += _match_bucket(b, thr, gt_ignore, dt_matched, dt_match_iou, gt_matched)
        # other area ranges differ from the first only where a pair was matched again
        dt_matched[:, 1:] = dt_matched[:, :1]
        for a, rows, gt_rows in redone:
            dt_matched[:, a, rows] = gt_rows

    # a matched detection inherits its GT's ignore flag, an unmatched one is ignored outside the range
    gt_ignore_pad = np.concatenate([gt_ignore, np.zeros((A, 1), bool)], axis=1)  # column -1: "no GT"
    dt_outside = _outside(dt_area, params.area_ranges)  # (A, N_dt)
    dt_ignore = np.empty((T, A, n_dt), bool)
    for a in range(A):  # per area: (T, N_dt) temporaries instead of (T, A, N_dt)
        gt = dt_matched[:, a]  # (T, N_dt)
        dt_ignore[:, a] = np.where(gt >= 0, np.take(gt_ignore_pad[a], gt), dt_outside[a])
    if cap is not None:
        dt_ignore[:, :, dt_rank >= cap] = True

    return Matches(
        dt_image=dt_image, dt_label=dt_label, dt_score=dt_score, dt_rank=dt_rank,
        dt_matched=dt_matched, dt_ignore=dt_ignore, dt_match_iou=dt_match_iou,
        gt_image=gt_image, gt_label=gt_label, gt_ignore=gt_ignore, gt_matched=gt_matched,
        n_images=int(n_images),
    )  # fmt: skip


def _pairs_with_both(dt_keys: np.ndarray, gt_keys: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """(d_start, d_count, g_start, g_count) of the pairs having both detections and GT, or None."""
    ud, d_start, d_count = np.unique(dt_keys, return_index=True, return_counts=True)
    ug, g_start, g_count = np.unique(gt_keys, return_index=True, return_counts=True)
    _, di, gi = np.intersect1d(ud, ug, assume_unique=True, return_indices=True)
    if not len(di):
        return None
    return d_start[di], d_count[di], g_start[gi], g_count[gi]


@dataclass(frozen=True, slots=True)
class _Bucket:
    """Pairs of similar (D, G) size: padded IoU keys and the rows behind each slot."""

    ikey: np.ndarray  # (P, D, G) int64 IoU bits, GT axis reversed; -1 = padding
    n_dt: np.ndarray  # (P,) detections per pair
    dt_rows: np.ndarray  # (P, D) detection row, -1 = padding
    gt_rows: np.ndarray  # (P, G) GT row in reversed slot order, -1 = padding


def _buckets(pairs: tuple[np.ndarray, ...], kept: np.ndarray, gt_order: np.ndarray, pair_iou: PairIou):
    """Yield buckets of pairs of equal padded (D, G) size, after one ``pair_iou`` call for all pairs."""
    d_start, d_count, g_start, g_count = pairs
    size_class = np.ceil(np.log2(d_count)).astype(np.int64) * 64 + np.ceil(np.log2(g_count)).astype(np.int64)
    by_class = np.argsort(size_class, kind="stable")
    d_start, d_count, g_start, g_count = d_start[by_class], d_count[by_class], g_start[by_class], g_count[by_class]
    size_class = size_class[by_class]

    # every (detection, GT) combination of every pair, pair by pair, detection-major
    sizes = d_count * g_count  # (P,)
    offsets = np.cumsum(sizes) - sizes
    pair = np.repeat(np.arange(len(sizes)), sizes)  # (E,)
    local = np.arange(len(pair)) - offsets[pair]
    d_local, g_local = local // g_count[pair], local % g_count[pair]
    iou = np.asarray(pair_iou(kept[d_start[pair] + d_local], gt_order[g_start[pair] + g_local]), np.float64)
    if iou.shape != pair.shape:
        raise ValueError(f"pair_iou must return one IoU per pair ({len(pair)}); got shape {iou.shape}")
    # the integer keys need IoU in [0, 2); pycocotools' own box IoU exceeds 1 by rounding only
    if not np.all((iou >= 0) & (iou < 2)):
        bad = iou[~((iou >= 0) & (iou < 2))][0]
        raise ValueError(f"pair_iou must return IoU in [0, 1] up to rounding; got {bad}")
    ibits = (iou + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0

    bounds = np.flatnonzero(np.diff(size_class)) + 1
    for p0, p1 in zip(np.r_[0, bounds], np.r_[bounds, len(sizes)]):
        D, G = int(d_count[p0:p1].max()), int(g_count[p0:p1].max())
        e0, e1 = offsets[p0], offsets[p1 - 1] + sizes[p1 - 1]
        ikey = np.full((p1 - p0, D, G), -1, np.int64)
        ikey[pair[e0:e1] - p0, d_local[e0:e1], G - 1 - g_local[e0:e1]] = ibits[e0:e1]
        d_slot = np.arange(D)
        g_orig = G - 1 - np.arange(G)  # reversed slot -> position within the pair
        nd, ng = d_count[p0:p1, None], g_count[p0:p1, None]
        dt_rows = np.where(d_slot < nd, kept[d_start[p0:p1, None] + np.minimum(d_slot, nd - 1)], -1)
        gt_rows = np.where(g_orig < ng, gt_order[g_start[p0:p1, None] + np.minimum(g_orig, ng - 1)], -1)
        yield _Bucket(ikey, d_count[p0:p1], dt_rows, gt_rows)


def _match_bucket(
    b: _Bucket,
    thr: np.ndarray,
    gt_ignore: np.ndarray,
    dt_matched: np.ndarray,
    dt_match_iou: np.ndarray,
    gt_matched: np.ndarray,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Match one bucket; write area 0 to the outputs, return (area, dt rows, GT rows) where other areas differ."""
    real_gt = b.gt_rows >= 0  # (P, G)
    ignored = gt_ignore[:, b.gt_rows] & real_gt  # (A, P, G)
    # an all-ignored pair matches exactly like an all-regular one
    uniform = (ignored == real_gt).all(axis=2) | ~ignored.any(axis=2)  # (A, P)
    pattern = ignored & ~uniform[:, :, None]  # (A, P, G)

    slot = _greedy(b.ikey, ~ignored[0], thr, int(b.n_dt.max()))  # (T, P, D)
    real_dt = b.dt_rows >= 0  # (P, D)
    dt_rows = b.dt_rows[real_dt]  # (n,)
    gt_row = _slot_rows(slot, b.gt_rows, real_dt)  # (T, n)
    dt_matched[:, 0, dt_rows] = gt_row
    t, j = np.nonzero(gt_row >= 0)
    gt_matched[t, gt_row[t, j]] = dt_rows[j]
    pi, di = np.arange(len(b.n_dt))[None, :, None], np.arange(b.ikey.shape[1])[None, None, :]
    iou = b.ikey[pi, di, np.maximum(slot, 0)].view(np.float64)[:, real_dt]  # (T, n)
    dt_match_iou[:, dt_rows] = np.where(gt_row >= 0, iou, np.nan)

    redone = []
    for a in range(1, len(gt_ignore)):
        redo = (pattern[a] != pattern[0]).any(axis=1)  # (P,)
        if redo.any():
            slot = _greedy(b.ikey[redo], ~ignored[a][redo], thr, int(b.n_dt[redo].max()))
            redone.append((a, b.dt_rows[redo][real_dt[redo]], _slot_rows(slot, b.gt_rows[redo], real_dt[redo])))
    return redone


def _slot_rows(slot: np.ndarray, gt_rows: np.ndarray, real_dt: np.ndarray) -> np.ndarray:
    """(T, n) GT row matched by each real detection slot, -1 if none."""
    matched = np.where(slot >= 0, gt_rows[np.arange(len(gt_rows))[None, :, None], np.maximum(slot, 0)], -1)
    return matched[:, real_dt]


def _greedy(ikey: np.ndarray, regular: np.ndarray, thr: np.ndarray, n_steps: int) -> np.ndarray:
    """pycocotools' greedy matching of a bucket at every IoU threshold: (T, P, D) reversed GT slot or -1."""
    T, (P, D, G) = len(thr), ikey.shape
    if G == 1:  # a lone GT goes to the first detection reaching the threshold: no scan needed
        ok = ikey[None, :, :, 0] >= thr[:, None, None]  # (T, P, D)
        first = ok.argmax(axis=2)
        slot = np.full((T, P, D), -1, np.int64)
        t, p = np.nonzero(ok.any(axis=2))
        slot[t, p, first[t, p]] = 0
        return slot
    key = ikey | np.where(regular, _REGULAR_BIT, 0)[:, None, :]  # (P, D, G); padding stays -1
    taken = np.zeros((T * P, G), dtype=bool)
    slot = np.full((T, P, D), -1, np.int64)
    rows = np.arange(T * P)
    for d in range(n_steps):
        open_ = (ikey[None, :, d, :] >= thr[:, None, None]) & ~taken.reshape(T, P, G)
        k = np.where(open_, key[None, :, d, :], -1).reshape(T * P, G)
        j = k.argmax(axis=1)  # first hit in reversed order = pycocotools' last GT among equals
        hit = k[rows, j] >= 0
        taken[rows[hit], j[hit]] = True
        slot[:, :, d] = np.where(hit, j, -1).reshape(T, P)
    return slot


def concat_matches(parts: Sequence[Matches]) -> Matches:
    """Concatenate the matches of consecutive image chunks, offsetting image and row indices."""
    if not parts:
        raise ValueError("concat_matches needs at least one Matches")
    img_off = np.cumsum([0] + [p.n_images for p in parts])
    gt_off = np.cumsum([0] + [len(p.gt_image) for p in parts])
    dt_off = np.cumsum([0] + [len(p.dt_image) for p in parts])

    def shifted(arrays: list[np.ndarray], offsets: np.ndarray) -> np.ndarray:
        return np.concatenate([np.where(x >= 0, x + o, -1) for x, o in zip(arrays, offsets)], axis=-1)

    cat = lambda name: np.concatenate([getattr(p, name) for p in parts], axis=-1)  # noqa: E731
    return Matches(
        dt_image=np.concatenate([p.dt_image + o for p, o in zip(parts, img_off)]),
        dt_label=cat("dt_label"), dt_score=cat("dt_score"), dt_rank=cat("dt_rank"),
        dt_matched=shifted([p.dt_matched for p in parts], gt_off),
        dt_ignore=cat("dt_ignore"), dt_match_iou=cat("dt_match_iou"),
        gt_image=np.concatenate([p.gt_image + o for p, o in zip(parts, img_off)]),
        gt_label=cat("gt_label"), gt_ignore=cat("gt_ignore"),
        gt_matched=shifted([p.gt_matched for p in parts], dt_off),
        n_images=int(img_off[-1]),
    )  # fmt: skip


def _kept_rows(m: Matches, params: CocoParams) -> np.ndarray:
    """Detection rows inside the per-(image, label) cap ``max_dets[-1]``."""
    cap = params.max_dets[-1]
    return np.arange(len(m.dt_rank)) if cap is None else np.flatnonzero(m.dt_rank < cap)


def accumulate(
    m: Matches, n_labels: int, params: CocoParams = CocoParams(), *, eps: float = float(np.spacing(1))
) -> tuple[np.ndarray, np.ndarray]:
    """pycocotools' eval['precision'] (T, R, K, A, M) and eval['recall'] (T, K, A, M); -1 where undefined.

    ``eps`` is pycocotools' ``tp / (tp + fp + eps)``; with ``eps=0`` a perfect label scores 1.0.
    """
    T, R, A, M = len(params.iou_thresholds), len(params.rec_thresholds), len(params.area_ranges), len(params.max_dets)
    K = int(n_labels)
    for name, labels in (("gt_label", m.gt_label), ("dt_label", m.dt_label)):
        if len(labels) and (labels.min() < 0 or labels.max() >= K):
            raise ValueError(f"{name} must lie in [0, n_labels={K}); got [{labels.min()}, {labels.max()}]")
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))

    rows = _kept_rows(m, params)
    # pycocotools' order: per label, stable by -score over per-image lists concatenated in image order
    # (image, rank) folded into one key: one pass less for lexsort
    image_rank = m.dt_image[rows] * (int(m.dt_rank.max(initial=0)) + 1) + m.dt_rank[rows]
    rows = rows[np.lexsort((image_rank, -m.dt_score[rows], m.dt_label[rows]))]
    counted = ~m.dt_ignore  # (T, A, N_dt)
    tp = m.dt_matched >= 0
    fp = counted > tp  # counted and unmatched
    tp &= counted
    del counted
    npig = np.stack([np.bincount(m.gt_label[~ig], minlength=K) for ig in m.gt_ignore])  # (A, K)
    for mi, max_det in enumerate(params.max_dets):
        rows_m = rows if max_det is None else rows[m.dt_rank[rows] < max_det]
        bounds = np.searchsorted(m.dt_label[rows_m], np.arange(K + 1))  # (K + 1,)
        for a in range(A):
            # np.take is several times faster than fancy indexing along the last axis
            tp_m, fp_m = np.take(tp[:, a], rows_m, axis=1), np.take(fp[:, a], rows_m, axis=1)  # (T, n)
            live, p, r = _interpolated_pr(bounds, tp_m, fp_m, npig[a], params.rec_thresholds, eps)
            precision[:, :, live, a, mi] = p.transpose(0, 2, 1)
            recall[:, :, a, mi] = r
    return precision, recall


def per_image_label_ap(
    m: Matches, params: CocoParams = CocoParams(), *, eps: float = float(np.spacing(1))
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AP of each (image, label) pair with GT or detections, from that image alone: (image (P,), label (P,), ap (T, P)).

    101-point AP at area range 0 and cap ``max_dets[-1]``, as pycocotools computes it on a
    one-image dataset; a pair without (non-ignored) GT, or without detections, gets 0.0.
    ``eps`` is pycocotools' ``tp / (tp + fp + eps)``; with ``eps=0`` a perfect pair scores 1.0.
    """
    gt_key, dt_key, n_codes, labels = _pair_keys(m.gt_image, m.gt_label, m.dt_image, m.dt_label)
    keys, inverse = np.unique(np.concatenate([gt_key, dt_key]), return_inverse=True)
    gt_pair, dt_pair = inverse[: len(gt_key)], inverse[len(gt_key) :]
    P = len(keys)

    rows = _kept_rows(m, params)
    rows = rows[np.lexsort((m.dt_rank[rows], dt_pair[rows]))]
    matched = np.take(m.dt_matched[:, 0] >= 0, rows, axis=1)  # (T, N)
    counted = ~np.take(m.dt_ignore[:, 0], rows, axis=1)
    tp, fp = matched & counted, ~matched & counted
    npig = np.bincount(gt_pair[~m.gt_ignore[0]], minlength=P)  # (P,)
    bounds = np.searchsorted(dt_pair[rows], np.arange(P + 1))  # (P + 1,)

    ap = np.zeros((len(params.iou_thresholds), P))  # pairs without GT keep 0.0
    starts = np.flatnonzero(npig > 0)[::_PAIR_CHUNK]
    for s0, s1 in zip(starts, np.append(starts[1:], P)):
        b = bounds[s0 : s1 + 1]
        cols = slice(b[0], b[-1])
        live, p, _ = _interpolated_pr(b - b[0], tp[:, cols], fp[:, cols], npig[s0:s1], params.rec_thresholds, eps)
        # mean over the contiguous last axis sums pairwise per row, exactly as np.mean of one row
        ap[:, s0 + live] = p.mean(axis=-1)
    return keys // n_codes, labels[keys % n_codes], ap


def _min_counts(npig: np.ndarray, rec_thresholds: np.ndarray) -> np.ndarray:
    """(S, R) smallest TP count c with float64 ``c / npig >= r`` (npig + 1 if none), i.e. pycocotools' searchsorted."""
    n = npig[:, None]
    c = np.clip(np.ceil(rec_thresholds[None, :] * n), 0, n).astype(np.int64)
    # the float estimate can be off by one either way; step until exact
    while (down := (c > 0) & ((c - 1) / n >= rec_thresholds)).any():
        c -= down
    while (up := (c <= n) & (c / n < rec_thresholds)).any():
        c += up
    return c


def _interpolated_pr(
    bounds: np.ndarray,
    tp: np.ndarray,
    fp: np.ndarray,
    npig: np.ndarray,
    rec_thresholds: np.ndarray,
    eps: float = float(np.spacing(1)),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interpolated precision and final recall of S score-ordered segments, as pycocotools' accumulate.

    Segment s holds columns ``bounds[s]:bounds[s+1]`` of the (T, N) TP/FP flags. Returns the
    segments with npig > 0 (L,), their precision (T, L, R) and the recall (T, S), -1 where npig == 0.
    """
    T, S = tp.shape[0], len(npig)
    recall = -np.ones((T, S))
    live = np.flatnonzero(npig > 0)
    if not len(live):
        return live, np.zeros((T, 0, len(rec_thresholds))), recall

    fp_cum = np.zeros((T, tp.shape[1] + 1), np.int32)  # int32: half the memory traffic of int64
    np.cumsum(fp, axis=1, dtype=np.int32, out=fp_cum[:, 1:])
    t_i, pos = np.nonzero(tp)  # true positives, by (t, position) hence by (t, segment)
    seg = np.repeat(np.arange(S), np.diff(bounds))[pos]
    group = t_i * S + seg
    n_tp = np.bincount(group, minlength=T * S)  # (T * S,)
    group_start = np.cumsum(n_tp) - n_tp
    tp_count = (np.arange(len(group)) - group_start[group] + 1).astype(np.float64)
    fp_count = (fp_cum[t_i, pos] - fp_cum[t_i, bounds[seg]]).astype(np.float64)
    pr = tp_count / (fp_count + tp_count + eps)  # pycocotools: tp / (fp + tp + np.spacing(1))

    n_tp = n_tp.reshape(T, S)[:, live]  # (T, L)
    recall[:, live] = n_tp / npig[live]
    c = _min_counts(npig[live], rec_thresholds)[None]  # (1, L, R)
    valid = (c <= n_tp[..., None]) & (n_tp[..., None] > 0)  # (T, L, R)
    # the envelope at point r is the max of pr over true positives c-1 .. end of the segment
    first = np.minimum(np.maximum(c - 1, 0), n_tp[..., None])
    idx = (group_start.reshape(T, S)[:, live][..., None] + first).ravel()  # non-decreasing
    block_max = np.maximum.reduceat(np.append(pr, 0.0), idx)
    block_max[idx >= np.append(idx[1:], len(pr) + 1)] = 0.0  # reduceat returns a[i] for empty blocks
    block_max = np.where(valid, block_max.reshape(valid.shape), 0.0)
    envelope = np.maximum.accumulate(block_max[..., ::-1], axis=-1)[..., ::-1]
    return live, np.where(valid, envelope, 0.0), recall


def summarize(precision: np.ndarray, recall: np.ndarray, params: CocoParams = CocoParams()) -> dict[str, float | None]:
    """pycocotools' 12 summary statistics by name, None where pycocotools prints -1."""
    if len(params.area_ranges) != 4 or len(params.max_dets) != 3:
        raise ValueError("summarize needs the 4 COCO area ranges (all, small, medium, large) and 3 max_dets")

    def stat(ap: bool, iou: float | None = None, area: int = 0, max_det: int | None = 100) -> float | None:
        # pycocotools' _summarize: stats[0] asks for a literal maxDets=100
        mind = [i for i, md in enumerate(params.max_dets) if md == max_det]
        s = precision if ap else recall
        if iou is not None:
            s = s[np.where(iou == params.iou_thresholds)[0]]
        s = s[:, :, :, [area], mind] if ap else s[:, :, [area], mind]
        s = s[s > -1]
        return float(np.mean(s)) if len(s) else None

    md = params.max_dets
    values = (
        stat(True), stat(True, iou=0.5, max_det=md[2]), stat(True, iou=0.75, max_det=md[2]),
        stat(True, area=1, max_det=md[2]), stat(True, area=2, max_det=md[2]), stat(True, area=3, max_det=md[2]),
        stat(False, max_det=md[0]), stat(False, max_det=md[1]), stat(False, max_det=md[2]),
        stat(False, area=1, max_det=md[2]), stat(False, area=2, max_det=md[2]), stat(False, area=3, max_det=md[2]),
    )  # fmt: skip
    return dict(zip(STAT_NAMES, values))
