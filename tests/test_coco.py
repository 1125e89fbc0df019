"""Cross-checks of ml_test.metrics.coco and ml_test.geometry.boxes against pycocotools 2.0.11, bit for bit."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ml_test.geometry.boxes import box_iou_matrix, box_iou_pairs
from ml_test.metrics.coco import (
    STAT_NAMES,
    CocoParams,
    accumulate,
    concat_matches,
    match,
    per_image_label_ap,
    summarize,
)

_NO_CAP = 10**9  # pycocotools' stand-in for max_dets=None


@dataclass
class Data:
    """Columnar boxes in file order (image order, then region order)."""

    n_images: int
    n_labels: int
    gt_image: np.ndarray
    gt_label: np.ndarray
    gt_xywh: np.ndarray
    dt_image: np.ndarray
    dt_label: np.ndarray
    dt_xywh: np.ndarray
    dt_score: np.ndarray

    def images(self, keep: np.ndarray) -> Data:
        """The sub-dataset of the images flagged in ``keep`` (n_images,), renumbered from 0."""
        new = np.cumsum(keep) - 1
        g, d = keep[self.gt_image], keep[self.dt_image]
        return Data(int(keep.sum()), self.n_labels, new[self.gt_image[g]], self.gt_label[g], self.gt_xywh[g],
                    new[self.dt_image[d]], self.dt_label[d], self.dt_xywh[d], self.dt_score[d])  # fmt: skip

    def plus(self, gt: list, dt: list) -> Data:
        """This data with more rows, given as in ``_data``."""
        own_gt = [(int(i), int(k), tuple(b)) for i, k, b in zip(self.gt_image, self.gt_label, self.gt_xywh)]
        own_dt = [(int(i), int(k), tuple(b), float(s))
                  for i, k, b, s in zip(self.dt_image, self.dt_label, self.dt_xywh, self.dt_score)]  # fmt: skip
        return _data(self.n_images, self.n_labels, own_gt + gt, own_dt + dt)


def _data(n_images: int, n_labels: int, gt: list, dt: list) -> Data:
    """Data from per-row tuples: gt (image, label, box), dt (image, label, box, score); sorted by image, stably."""
    gt = sorted(gt, key=lambda r: r[0])
    dt = sorted(dt, key=lambda r: r[0])
    col = lambda rows, i, dtype: np.array([r[i] for r in rows], dtype=dtype)  # noqa: E731
    boxes = lambda rows: np.array([r[2] for r in rows], dtype=np.float64).reshape(-1, 4)  # noqa: E731
    return Data(n_images, n_labels, col(gt, 0, np.int64), col(gt, 1, np.int64), boxes(gt),
                col(dt, 0, np.int64), col(dt, 1, np.int64), boxes(dt), col(dt, 3, np.float64))  # fmt: skip


def _generate(seed: int, n_images: int = 30, n_labels: int = 6, decimals: int = 1) -> Data:
    """Random data with the cases that break naive COCO implementations.

    Score ties, duplicates, images without GT, label n_labels-1 with GT only, label n_labels-2 with
    detections only, areas of exactly 32**2 and 96**2, detections at IoU exactly .5 and .75.
    """
    rng = np.random.default_rng(seed)
    sides = [8.0, 16.0, 28.0, 32.0, 36.0, 64.0, 90.0, 96.0, 100.0, 24.5, 150.0, 300.0]
    gt, dt = [], []
    score = lambda: round(float(rng.uniform(0.05, 1.0)), decimals)  # noqa: E731
    for i in range(n_images):
        boxes = []
        for _ in range(0 if rng.random() < 0.2 else int(rng.integers(1, 6))):
            label = int(rng.choice([*range(n_labels - 2), n_labels - 1]))
            w, h = (float(v) for v in rng.choice(sides, 2))
            if rng.random() < 0.2:
                w = h = float(rng.choice([32.0, 96.0]))
            x, y = round(float(rng.uniform(0, 400)), 1), round(float(rng.uniform(0, 300)), 1)
            boxes.append((label, (x, y, w, h)))
            if rng.random() < 0.3:
                # a concentric neighbour of another size, often across 32**2 or 96**2, so that a
                # detection can match a GT regular in one area range and ignored in another
                f = float(rng.choice([0.8, 0.9, 1.1, 1.25]))
                boxes.append((label, (x + w * (1 - f) / 2, y + h * (1 - f) / 2, w * f, h * f)))
        for label, (x, y, w, h) in boxes:
            gt.append((i, label, (x, y, w, h)))
            if label == n_labels - 1 or rng.random() < 0.15:
                continue
            kind = rng.random()
            if kind < 0.12:
                box = (x, y, w, h * 0.5)  # IoU exactly 0.5
            elif kind < 0.24:
                box = (x, y, w, h * 0.75)  # IoU exactly 0.75
            elif kind < 0.32:
                box = (x, y, w, h)  # IoU 1 up to rounding (it can exceed 1)
            else:
                j = rng.normal(0, 0.12, 4) * [w, h, w, h]
                box = tuple(round(v, 1) for v in (x + j[0], y + j[1], max(w + j[2], 1.0), max(h + j[3], 1.0)))
            if rng.random() < 0.08:
                label = int(rng.integers(0, n_labels - 1))  # wrong class, possibly the detection-only one
            s = score()
            dt.append((i, label, box, s))
            if rng.random() < 0.3:
                dt.append((i, label, box, s if rng.random() < 0.5 else round(s * 0.8, decimals)))  # duplicate
        for _ in range(int(rng.integers(0, 6))):
            w, h = (float(v) for v in rng.choice(sides, 2))
            box = (float(rng.integers(0, 400)), float(rng.integers(0, 300)), w, h)
            dt.append((i, int(rng.integers(0, n_labels - 1)), box, score()))
    rng.shuffle(dt)  # region order within an image is arbitrary; _data keeps it per image
    return _data(n_images, n_labels, gt, dt)


def _pycocotools(d: Data, params: CocoParams, *, run_summarize: bool = True, img_ids=None, cat_ids=None) -> COCOeval:
    """Run pycocotools (evaluate, accumulate and optionally summarize) on the same data, quietly."""
    images = [{"id": i + 1} for i in range(d.n_images)]
    categories = [{"id": k + 1} for k in range(d.n_labels)]
    annotations = [
        {"id": j + 1, "image_id": int(i) + 1, "category_id": int(k) + 1, "bbox": b.tolist(),
         "area": float(b[2] * b[3]), "iscrowd": 0}  # fmt: skip
        for j, (i, k, b) in enumerate(zip(d.gt_image, d.gt_label, d.gt_xywh))
    ]
    results = [
        {"image_id": int(i) + 1, "category_id": int(k) + 1, "bbox": b.tolist(), "score": float(s)}
        for i, k, b, s in zip(d.dt_image, d.dt_label, d.dt_xywh, d.dt_score)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = {"images": images, "categories": categories, "annotations": annotations}
        coco_gt.createIndex()
        if results:
            coco_dt = coco_gt.loadRes(results)
        else:  # loadRes cannot take an empty list
            coco_dt = COCO()
            coco_dt.dataset = {"images": images, "categories": categories, "annotations": []}
            coco_dt.createIndex()
        e = COCOeval(coco_gt, coco_dt, "bbox")
        e.params.iouThrs = params.iou_thresholds.copy()
        e.params.recThrs = params.rec_thresholds.copy()
        e.params.maxDets = [_NO_CAP if m is None else m for m in params.max_dets]
        e.params.areaRng = [list(r) for r in params.area_ranges]
        e.params.areaRngLbl = ["all", "small", "medium", "large"][: len(params.area_ranges)]
        if img_ids is not None:
            e.params.imgIds = img_ids
        if cat_ids is not None:
            e.params.catIds = cat_ids
        e.evaluate()
        e.accumulate()
        if run_summarize:
            e.summarize()
    return e


def _match(d: Data, params: CocoParams = CocoParams()):
    return match(
        d.gt_image, d.gt_label, d.gt_xywh[:, 2] * d.gt_xywh[:, 3],
        d.dt_image, d.dt_label, d.dt_score, d.dt_xywh[:, 2] * d.dt_xywh[:, 3],
        lambda i, j: box_iou_pairs(d.dt_xywh[i], d.gt_xywh[j]), params, n_images=d.n_images,
    )  # fmt: skip


def _assert_same_as_pycocotools(d: Data, params: CocoParams = CocoParams(), *, stats: bool = True) -> None:
    e = _pycocotools(d, params, run_summarize=stats)
    precision, recall = accumulate(_match(d, params), d.n_labels, params)
    assert np.array_equal(precision, e.eval["precision"])
    assert np.array_equal(recall, e.eval["recall"])
    if stats:
        expected = {name: (None if v == -1 else float(v)) for name, v in zip(STAT_NAMES, e.stats)}
        assert summarize(precision, recall, params) == expected


# --- parity on generated data -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_generated_data_matches_pycocotools(seed):
    _assert_same_as_pycocotools(_generate(seed, n_images=25 + seed * 2, decimals=1 + seed % 2))


def test_many_labels_mostly_absent():
    d = _generate(11, n_images=15, n_labels=6)
    d.n_labels = 40  # labels 6..39 are declared but never used: they stay -1
    _assert_same_as_pycocotools(d)


def test_cap_of_100_per_image_and_label_binds():
    rng = np.random.default_rng(5)
    gt = [(0, 0, (float(x), float(y), 40.0, 40.0)) for x, y in rng.integers(0, 300, (20, 2))]
    gt += [(1, 0, (10.0, 10.0, 50.0, 50.0))]
    dt = []
    for _ in range(170):
        x, y, w, h = gt[int(rng.integers(0, 20))][2]
        box = (x + float(rng.integers(-8, 9)), y + float(rng.integers(-8, 9)), w, h)
        dt.append((0, 0, box, round(float(rng.uniform(0, 1)), 2)))
    dt += [(1, 0, (12.0, 10.0, 50.0, 50.0), 0.5), (2, 0, (0.0, 0.0, 5.0, 5.0), 0.9)]
    d = _data(3, 1, gt, dt)
    m = _match(d)
    assert (m.dt_rank >= 100).sum() == 70
    _assert_same_as_pycocotools(d)


@pytest.mark.parametrize(
    "case",
    ["no_detections", "no_gt", "nothing", "single_exact_threshold"],
)
def test_empty_and_tiny_inputs(case):
    gt = [(0, 0, (0.0, 0.0, 10.0, 10.0)), (1, 1, (5.0, 5.0, 32.0, 32.0))]
    dt = [(0, 0, (0.0, 0.0, 10.0, 5.0), 0.9), (1, 1, (5.0, 5.0, 32.0, 24.0), 0.8), (1, 0, (5.0, 5.0, 96.0, 96.0), 0.7)]
    gt, dt = {
        "no_detections": (gt, []),
        "no_gt": ([], dt),
        "nothing": ([], []),
        "single_exact_threshold": (gt, dt),
    }[case]
    _assert_same_as_pycocotools(_data(3, 2, gt, dt))


def test_equal_iou_goes_to_the_later_gt():
    # the detection overlaps both GTs with IoU exactly 0.5; pycocotools takes the later one
    gt = [(0, 0, (0.0, 0.0, 10.0, 10.0)), (0, 0, (0.0, 5.0, 10.0, 10.0))]
    dt = [(0, 0, (0.0, 2.5, 10.0, 10.0), 0.9)]
    d = _data(1, 1, gt, dt)
    m = _match(d)
    assert m.dt_matched[0, 0, 0] == 1 and m.dt_match_iou[0, 0] == box_iou_pairs(d.dt_xywh, d.gt_xywh[1:])[0]
    _assert_same_as_pycocotools(d)


def test_custom_max_dets_make_map_undefined_like_pycocotools():
    params = CocoParams(max_dets=(1, 5, 20))
    _assert_same_as_pycocotools(_generate(3, n_images=12), params)
    precision, recall = accumulate(_match(_generate(3, n_images=12), params), 6, params)
    assert summarize(precision, recall, params)["mAP"] is None  # pycocotools' literal maxDets=100


def test_regular_gt_beats_a_better_ignored_gt():
    # small range: GT 0 (30x30) is regular, GT 1 (40x40) is ignored although its IoU is higher
    gt = [(0, 0, (0.0, 0.0, 30.0, 30.0)), (0, 0, (0.0, 0.0, 40.0, 40.0)), (0, 0, (200.0, 0.0, 10.0, 10.0))]
    dt = [(0, 0, (0.0, 0.0, 38.0, 38.0), 0.9), (0, 0, (0.0, 0.0, 39.0, 39.0), 0.8)]
    d = _data(1, 1, gt, dt)
    m = _match(d)
    # area ranges all, small, medium, large; in 'large' both GTs are ignored and absorb the detections
    assert m.dt_matched[0, :, 0].tolist() == [1, 0, 1, 1]
    assert m.dt_matched[0, :, 1].tolist() == [0, 1, 0, 0]
    assert m.dt_ignore[0, :, 0].tolist() == [False, False, False, True]
    _assert_same_as_pycocotools(d)


@pytest.mark.parametrize("threshold", [0.5, 0.75, 0.3, 1.0])
def test_single_threshold_single_area_no_cap(threshold):
    params = CocoParams(iou_thresholds=np.array([threshold]), area_ranges=((0, 1e10),), max_dets=(None,))
    # one pair above pycocotools' default cap, to show that None lifts it
    gt = [(0, 0, (60.0, 5.0, 30.0, 30.0))]
    dt = [(0, 0, (float(x), 5.0, 30.0, 30.0), 0.5) for x in range(120)]
    # identical boxes whose IoU rounds to 0.9999999999999987: matched at t = 1.0 via min(t, 1 - 1e-10)
    gt.append((1, 1, (0.7, 0.7, 0.1, 0.2)))
    dt.append((1, 1, (0.7, 0.7, 0.1, 0.2), 0.9))
    d = _generate(21, n_images=10, n_labels=3).plus(gt, dt)
    m = _match(d, params)
    assert m.dt_matched.shape == (1, 1, len(d.dt_image)) and not m.dt_ignore.any()
    _assert_same_as_pycocotools(d, params, stats=False)


# --- hypothesis: small adversarial cases ---------------------------------------------------------

_coord = st.integers(0, 6).map(lambda v: 16.0 * v)
_side = st.sampled_from([8.0, 16.0, 32.0, 48.0, 64.0, 96.0, 128.0])
_box = st.tuples(_coord, _coord, _side, _side)
_score = st.sampled_from([0.1, 0.3, 0.5, 0.7, 0.9])


@st.composite
def _small_data(draw) -> Data:
    n_images, n_labels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    img, lab = st.integers(0, n_images - 1), st.integers(0, n_labels - 1)
    gt = draw(st.lists(st.tuples(img, lab, _box), max_size=10))
    dt = draw(st.lists(st.tuples(img, lab, _box, _score), max_size=14))
    # detections copied from GT boxes, possibly shifted, so matches and IoU ties are common
    for g in draw(st.lists(st.sampled_from(gt), max_size=6)) if gt else []:
        dx = draw(st.sampled_from([0.0, 0.0, 4.0, 8.0]))
        dt.append((g[0], g[1], (g[2][0] + dx, g[2][1], g[2][2], g[2][3]), draw(_score)))
    return _data(n_images, n_labels, gt, dt)


@settings(max_examples=60, deadline=None)
@given(_small_data())
def test_small_cases_match_pycocotools(d):
    _assert_same_as_pycocotools(d)


# --- chunking, per-image AP ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_concat_of_chunks_equals_one_match(seed):
    d = _generate(seed, n_images=30)
    params = CocoParams()
    whole = accumulate(_match(d, params), d.n_labels, params)
    cuts = [0, 7, 8, 20, 30]
    parts = [_match(d.images((np.arange(30) >= a) & (np.arange(30) < b)), params) for a, b in zip(cuts, cuts[1:])]
    merged = concat_matches(parts)
    single = _match(d, params)
    chunked = accumulate(merged, d.n_labels, params)
    assert np.array_equal(whole[0], chunked[0]) and np.array_equal(whole[1], chunked[1])
    for name in ("dt_image", "dt_rank", "dt_matched", "dt_ignore", "gt_image", "gt_matched", "gt_ignore"):
        assert np.array_equal(getattr(single, name), getattr(merged, name)), name
    assert np.array_equal(single.dt_match_iou, merged.dt_match_iou, equal_nan=True)
    assert merged.n_images == 30


def test_per_image_label_ap_equals_pycocotools_on_one_image():
    d = _generate(4, n_images=12)
    params = CocoParams()
    image, label, ap = per_image_label_ap(_match(d, params), params)
    pairs = set(zip(d.gt_image.tolist(), d.gt_label.tolist())) | set(zip(d.dt_image.tolist(), d.dt_label.tolist()))
    assert sorted(pairs) == list(zip(image.tolist(), label.tolist()))
    gt_pairs = set(zip(d.gt_image.tolist(), d.gt_label.tolist()))
    for p, (i, k) in enumerate(zip(image.tolist(), label.tolist())):
        if (i, k) not in gt_pairs:
            assert (ap[:, p] == 0.0).all()  # detections without GT: 0, not pycocotools' -1
            continue
        one = d.images(np.arange(d.n_images) == i)
        e = _pycocotools(one, params, run_summarize=False, cat_ids=[k + 1])
        expected = [np.mean(e.eval["precision"][t, :, 0, 0, -1]) for t in range(len(params.iou_thresholds))]
        assert ap[:, p].tolist() == expected


def test_per_image_label_ap_without_gt_or_without_anything():
    d = _data(2, 2, [], [(0, 1, (0.0, 0.0, 5.0, 5.0), 0.5)])
    image, label, ap = per_image_label_ap(_match(d))
    assert image.tolist() == [0] and label.tolist() == [1] and ap.tolist() == [[0.0]] * 10
    image, label, ap = per_image_label_ap(_match(_data(2, 2, [], [])))
    assert image.shape == label.shape == (0,) and ap.shape == (10, 0)


# --- contract ----------------------------------------------------------------------------------


def test_pair_iou_is_called_once_with_same_image_and_label_pairs():
    d = _generate(8, n_images=10)
    calls = []

    def pair_iou(i, j):
        calls.append((i, j))
        return box_iou_pairs(d.dt_xywh[i], d.gt_xywh[j])

    area = lambda b: b[:, 2] * b[:, 3]  # noqa: E731
    match(d.gt_image, d.gt_label, area(d.gt_xywh), d.dt_image, d.dt_label, d.dt_score, area(d.dt_xywh), pair_iou)
    (i, j), = calls
    assert np.array_equal(d.dt_image[i], d.gt_image[j]) and np.array_equal(d.dt_label[i], d.gt_label[j])
    assert len(set(zip(i.tolist(), j.tolist()))) == len(i)


def test_invalid_inputs_raise():
    d = _generate(9, n_images=5)
    with pytest.raises(ValueError, match="pair_iou"):
        match(d.gt_image, d.gt_label, np.ones(len(d.gt_image)), d.dt_image, d.dt_label, d.dt_score,
              np.ones(len(d.dt_image)), lambda i, j: np.full(len(i), np.nan))  # fmt: skip
    with pytest.raises(ValueError, match="n_labels"):
        accumulate(_match(d), d.n_labels - 1)
    with pytest.raises(ValueError, match="max_dets"):
        CocoParams(max_dets=(0, 10))
    assert CocoParams(max_dets=(100, None, 1)).max_dets == (1, 100, None)  # pycocotools sorts maxDets


# --- box IoU ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [0, 1, 3])
def test_box_iou_is_pycocotools_bbiou(decimals):
    rng = np.random.default_rng(decimals)
    dt = np.round(rng.uniform(0, 100, (300, 4)), decimals)
    gt = np.round(rng.uniform(0, 100, (200, 4)), decimals)
    gt[:10, 2] = 0.0  # degenerate boxes: IoU 0 on both sides
    expected = mask_utils.iou(dt, gt, [0] * len(gt))
    assert np.array_equal(box_iou_matrix(dt, gt), expected)
    assert np.array_equal(box_iou_pairs(dt[:200], gt), np.diag(expected))


def test_box_iou_of_identical_boxes_is_not_always_one():
    # pycocotools' arithmetic: w = (0.2 + 0.1) - 0.1 rounds above 0.2, and so does the IoU
    b = np.array([[0.1, 0.1, 0.2, 0.2]])
    assert box_iou_pairs(b, b)[0] == mask_utils.iou(b, b, [0])[0, 0] == 1.0000000000000004


# sides not far below the coordinates: x + w - x then loses at most ~1e-11 of w
_coordinate = st.floats(-1e3, 1e3, allow_nan=False)
_float_box = st.tuples(_coordinate, _coordinate, st.floats(1e-2, 1e3), st.floats(1e-2, 1e3))


@given(_float_box, _float_box | st.tuples(_coordinate, _coordinate, st.just(0.0), st.floats(0, 1e3)))
def test_box_iou_properties(a, b):
    a, b = np.array([a]), np.array([b])
    ab, ba = box_iou_pairs(a, b)[0], box_iou_pairs(b, a)[0]
    assert ab == ba and 0.0 <= ab <= 1.0 + 1e-9
    assert box_iou_pairs(a, a)[0] == pytest.approx(1.0, abs=1e-9)
    if b[0, 2] == 0.0:
        assert ab == 0.0


def test_box_iou_shapes_and_empty():
    assert box_iou_matrix(np.zeros((0, 4)), np.ones((3, 4))).shape == (0, 3)
    assert box_iou_pairs(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0,)
    with pytest.raises(ValueError):
        box_iou_pairs(np.zeros((2, 4)), np.zeros((3, 4)))
