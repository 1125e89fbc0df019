"""Round trips: geometry -> ground truth and, through a converter, -> prediction; the engine must score it perfect.

The ground truth is written straight from Label Studio's definitions (percent of the image,
top-left corner, rotation about it, UTF-16 offsets), never through the converter under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ml_test import evaluate
from ml_test.converters import (
    BboxConverter,
    ChoicesConverter,
    KeypointConverter,
    MaskConverter,
    PolygonConverter,
    RotatedBboxConverter,
    SpanConverter,
    from_utf16_offsets,
    to_utf16_offsets,
)
from ml_test.geometry.rle import rle_to_mask
from ml_test.geometry.shapes import box_corners_px

PERFECT = 1.0 - 1e-9
LABELS = ["Car", "Person", "Bike"]
sizes = st.tuples(st.integers(16, 4000), st.integers(16, 4000))


def task_with(gt: list[dict], tid: int = 1, data: dict | None = None) -> dict:
    return {"id": tid, "data": data or {}, "annotations": [{"id": 1, "result": gt}]}


def score(task: dict, metric: str) -> float:
    result = evaluate([task], metric, 0.0).tasks[0]
    assert result.status == "passed", result.reasons
    return result.score


def gt_box(x0, y0, w, h, label, size, rotation=0.0, rid="g"):
    W, H = size
    return {"id": rid, "from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": W,
            "original_height": H, "value": {"x": 100 * x0 / W, "y": 100 * y0 / H, "width": 100 * w / W,
            "height": 100 * h / H, "rotation": rotation, "rectanglelabels": [label]}}  # fmt: skip


@st.composite
def scenes(draw):
    """An image size and 1-5 labelled pixel boxes (top-left x, y, width, height) inside it."""
    W, H = draw(sizes)
    boxes = []
    for _ in range(draw(st.integers(1, 5))):
        w = draw(st.floats(1.0, W))
        h = draw(st.floats(1.0, H))
        x0 = draw(st.floats(0.0, W - w))
        y0 = draw(st.floats(0.0, H - h))
        boxes.append((x0, y0, w, h, draw(st.sampled_from(LABELS))))
    return (W, H), boxes


def in_format(boxes: np.ndarray, fmt: str, size: tuple[int, int], normalized: bool) -> np.ndarray:
    x0, y0, w, h = boxes.T
    out = {"xyxy": [x0, y0, x0 + w, y0 + h], "xywh": [x0, y0, w, h], "cxcywh": [x0 + w / 2, y0 + h / 2, w, h]}[fmt]
    out = np.column_stack(out)
    return out / np.array([*size, *size]) if normalized else out


@settings(max_examples=120, deadline=None)
@given(scenes(), st.sampled_from(["xyxy", "xywh", "cxcywh"]), st.booleans())
def test_boxes_in_every_format_round_trip_perfectly(scene, fmt, normalized):
    size, boxes = scene
    geometry = np.array([b[:4] for b in boxes])
    labels = [b[4] for b in boxes]
    task = task_with([gt_box(*b[:4], b[4], size, rid=f"g{i}") for i, b in enumerate(boxes)])
    # pixel boxes all within [0, 1] px are refused as "probably normalized" (tested elsewhere)
    assume(normalized or in_format(geometry, fmt, size, False).max() > 1.0)
    scores = np.linspace(0.9, 0.5, len(boxes))
    task["predictions"] = BboxConverter(in_format(geometry, fmt, size, normalized), labels, scores,
                                        format=fmt, normalized=normalized).from_task(task)  # fmt: skip
    assert score(task, "iou") >= PERFECT
    assert score(task, "mAP") >= PERFECT
    assert task["predictions"][0]["score"] == np.mean(scores)


def corners_from_centre(cx, cy, w, h, theta):
    """Corners of a rectangle from its centre, written independently of the converter."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([(cx + c * dx - s * dy, cy + s * dx + c * dy) for dx, dy in
                     ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))])  # fmt: skip


@st.composite
def rotated_boxes(draw):
    W, H = draw(st.tuples(st.integers(50, 3000), st.integers(50, 3000)))
    w = draw(st.floats(2.0, min(W, H) / 2))
    h = draw(st.floats(2.0, min(W, H) / 2))
    cx, cy = draw(st.floats(w, W - w)), draw(st.floats(h, H - h))
    degrees = draw(st.floats(-720, 720))
    return (W, H), (cx, cy, w, h, math.radians(degrees)), draw(st.integers(0, 3)), draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(rotated_boxes())
def test_rotated_boxes_land_on_the_same_pixels(case):
    """Centre form -> Label Studio value -> the engine's corners equal the true corners, anchor first."""
    size, (cx, cy, w, h, theta), _, _ = case
    task = task_with([gt_box(0, 0, 1, 1, "Ship", size)])
    value = RotatedBboxConverter([[cx, cy, w, h, theta]], ["Ship"]).from_task(task)[0]["result"][0]["value"]
    got = box_corners_px((value["x"], value["y"], value["width"], value["height"], value["rotation"]), *size)
    np.testing.assert_allclose(got, corners_from_centre(cx, cy, w, h, theta), atol=1e-7 * max(size))
    assert 0.0 <= value["rotation"] < 360.0


@settings(max_examples=100, deadline=None)
@given(rotated_boxes())
@example(((50, 50), (3.4964961277330677, 3.0, 3.4964961277330673, 3.0, 3.5431541430140325), 0, True))  # KNOWN_GEOS_MISS
def test_rotated_boxes_from_centre_or_corners_score_perfectly(case):
    """Ground truth from the corners; predictions from centre form (rad, deg) and from shuffled corners."""
    size, (cx, cy, w, h, theta), start, reverse = case
    corners = corners_from_centre(cx, cy, w, h, theta)
    p0 = corners[0]
    gt = gt_box(p0[0], p0[1], w, h, "Ship", size, rotation=math.degrees(theta) % 360)
    ring = np.roll(corners, -start, axis=0)[:: -1 if reverse else 1]  # any starting corner, either winding
    for conv in (
        RotatedBboxConverter([[cx, cy, w, h, theta]], ["Ship"]),
        RotatedBboxConverter([[cx, cy, w, h, math.degrees(theta)]], ["Ship"], format="cxcywhd"),
        RotatedBboxConverter([ring.ravel()], ["Ship"], format="xyxyxyxy"),
        RotatedBboxConverter([ring / np.array(size)], ["Ship"], format="xyxyxyxy", normalized=True),
    ):
        task = task_with([gt])
        task["predictions"] = conv.from_task(task)
        assert score(task, "iou") >= 1 - 1e-6


def robust_iou(a: dict, b: dict, size) -> float:
    """IoU of two rotated-box results with the overlay snapped to a 1e-6 px grid (robust to rounding)."""
    pa, pb = (shapely.Polygon(box_corners_px(tuple(r["value"][k] for k in ("x", "y", "width", "height", "rotation")), *size))
              for r in (a, b))  # fmt: skip
    inter = shapely.intersection(pa, pb, grid_size=1e-6).area
    return inter / (pa.area + pb.area - inter)


# Found by the test above: the same rectangle twice, started at different corners, equal up to
# rounding; shapely.intersection returns two points instead of the rectangle (about 1 pair in 1,000).
KNOWN_GEOS_MISS = (
    (9.038780123593838, 10.127982215304936, 6.992992255466135, 6.0, 203.00777855899616),
    (4.947204387338433, 1.8720177846950639, 6.9929922554661355, 6.000000000000001, 23.00777855899616),
)


def test_engine_scores_a_rotated_box_equal_up_to_rounding_as_perfect():
    gt, pred = ({"id": rid, "from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": 50,
                 "original_height": 50, "value": dict(zip(("x", "y", "width", "height", "rotation"), v), rectanglelabels=["Ship"])}
                for rid, v in zip("gp", KNOWN_GEOS_MISS))  # fmt: skip
    assert robust_iou(gt, pred, (50, 50)) == pytest.approx(1.0)
    task = task_with([gt])
    task["predictions"] = [{"result": [pred]}]
    assert score(task, "iou") >= 1 - 1e-6  # snapped to a 1e-6 px grid: exact to ~1e-7 here


@st.composite
def star_polygons(draw):
    """A simple (star-shaped) polygon in pixels inside an image."""
    W, H = draw(sizes)
    k = draw(st.integers(3, 12))
    angles = np.sort(draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=k, max_size=k, unique=True)))
    if np.min(np.diff(np.append(angles, angles[0] + 2 * math.pi))) < 0.05:
        angles = np.linspace(0, 2 * math.pi, k, endpoint=False)
    radii = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=k, max_size=k)))
    r = min(W, H) / 2.2
    points = np.column_stack([W / 2 + r * radii * np.cos(angles), H / 2 + r * radii * np.sin(angles)])
    return (W, H), points


@settings(max_examples=100, deadline=None)
@given(star_polygons(), st.booleans())
def test_polygons_round_trip_perfectly(case, normalized):
    (W, H), points = case
    gt = {"id": "g", "from_name": "seg", "to_name": "image", "type": "polygonlabels", "original_width": W,
          "original_height": H, "value": {"points": (points * 100 / np.array([W, H])).tolist(), "polygonlabels": ["Roof"]}}  # fmt: skip
    task = task_with([gt])
    given_points = points / np.array([W, H]) if normalized else points
    task["predictions"] = PolygonConverter([given_points], ["Roof"], [0.7], normalized=normalized).from_task(task)
    assert score(task, "iou") >= PERFECT
    assert score(task, "mAP") >= PERFECT


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 48), st.integers(1, 48), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_masks_decode_back_to_the_input(h, w, seed, n):
    """Each region's RLE decodes to its mask at 255 (the engine does not score masks yet)."""
    rng = np.random.default_rng(seed)
    masks = rng.random((n, h, w)) < rng.uniform(0.05, 0.9)
    masks[:, rng.integers(h), rng.integers(w)] = True  # never empty
    gt = {"id": "g", "from_name": "brush", "to_name": "image", "type": "brushlabels", "original_width": w,
          "original_height": h, "value": {"format": "rle", "rle": [], "brushlabels": ["Cat"]}}  # fmt: skip
    [pred] = MaskConverter(masks.astype(np.uint8)).from_task(task_with([gt]))
    assert len(pred["result"]) == n
    for mask, r in zip(masks, pred["result"]):
        assert (r["original_width"], r["original_height"], r["value"]["format"]) == (w, h, "rle")
        np.testing.assert_array_equal(rle_to_mask(r["value"]["rle"], w, h), mask * 255)


def test_an_instance_id_image_splits_into_one_mask_per_id():
    ids = np.zeros((30, 40), dtype=np.int32)
    ids[2:10, 5:20], ids[15:25, 10:35], ids[0, 39] = 4, 7, 9
    gt = {"id": "g", "from_name": "brush", "to_name": "image", "type": "brushlabels", "original_width": 40,
          "original_height": 30, "value": {"format": "rle", "rle": [], "brushlabels": ["Cat"]}}  # fmt: skip
    [pred] = MaskConverter(ids, ["a", "b", "c"]).from_task(task_with([gt]))
    for value, r in zip((4, 7, 9), pred["result"]):
        np.testing.assert_array_equal(rle_to_mask(r["value"]["rle"], 40, 30), (ids == value) * 255)


# astral characters count 2 in UTF-16; the family emoji is 5 code points (3 astral, 2 joiners)
texts = st.lists(
    st.sampled_from(list("ab cé\n") + ["😀", "𝔘", "中", "👩\u200d👩\u200d👧"]), min_size=1, max_size=40
).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts, st.data())
def test_spans_round_trip_with_astral_characters(text, data):
    """Python offsets -> UTF-16 as JavaScript counts them (ground truth via an independent UTF-16 encode)."""
    n = len(text)
    starts = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    spans = [(s, data.draw(st.integers(s + 1, n)), data.draw(st.sampled_from(["PER", "LOC"]))) for s in starts]

    def u16(i: int) -> int:
        return len(text[:i].encode("utf-16-le")) // 2

    gt = [{"id": f"g{i}", "from_name": "ner", "to_name": "text", "type": "labels",
           "value": {"start": u16(s), "end": u16(e), "labels": [lab]}} for i, (s, e, lab) in enumerate(spans)]  # fmt: skip
    task = task_with(gt, data={"text": text})
    task["predictions"] = SpanConverter(spans).from_task(task)
    assert score(task, "f1") == 1.0
    assert [r["value"]["text"] for r in task["predictions"][0]["result"]] == [text[s:e] for s, e, _ in spans]
    offsets = [s for span in spans for s in span[:2]]
    assert from_utf16_offsets(text, to_utf16_offsets(text, offsets)).tolist() == offsets


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-8, 8), min_size=2, max_size=6, unique=True), st.booleans())
def test_choices_pick_the_top_class(logits, as_logits):
    names = [f"class{i}" for i in range(len(logits))]
    z = np.array(logits)
    probs = np.exp(z) / np.exp(z).sum()
    assume((probs == probs.max()).sum() == 1)  # a tie has no single top class
    top = names[int(np.argmax(probs))]
    gt = {"id": "g", "from_name": "cls", "to_name": "text", "type": "choices", "value": {"choices": [top]}}
    task = task_with([gt], data={"text": "x"})
    task["predictions"] = ChoicesConverter(z if as_logits else probs, label_map=names, logits=as_logits).from_task(task)
    assert score(task, "exact_match") == 1.0
    assert abs(task["predictions"][0]["result"][0]["score"] - probs.max()) < 1e-12


@settings(max_examples=80, deadline=None)
@given(st.floats(0.2, 0.9), st.lists(st.floats(-6, 6), min_size=1, max_size=6))
def test_multilabel_choices_are_the_classes_over_the_threshold(threshold, logits):
    names = [f"c{i}" for i in range(len(logits))]
    p = 1 / (1 + np.exp(-np.array(logits)))
    # two correct sigmoid formulas may differ by an ulp: a probability on the threshold is a coin toss
    assume(np.all(np.abs(p - threshold) > 1e-12))
    chosen = [n for n, v in zip(names, p) if v >= threshold]
    gt = {"id": "g", "from_name": "cls", "to_name": "text", "type": "choices", "value": {"choices": chosen or ["c0"]}}
    task = task_with([gt], data={"text": "x"})
    task["predictions"] = ChoicesConverter(
        logits, label_map=names, multi_label=True, threshold=threshold, logits=True
    ).from_task(task)
    result = task["predictions"][0]["result"]
    assert (result[0]["value"]["choices"] if result else []) == chosen
    if chosen:
        assert score(task, "exact_match") == 1.0


@settings(max_examples=80, deadline=None)
@given(sizes, st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=10))
def test_keypoints_land_on_the_same_pixels(size, fractions):
    W, H = size
    px = np.array(fractions) * np.array([W, H])
    assume(px.max() > 1.0)  # all within [0, 1] px is refused as "probably normalized"
    names = [LABELS[i % len(LABELS)] for i in range(len(px))]
    gt = [{"id": f"g{i}", "from_name": "kp", "to_name": "image", "type": "keypointlabels", "original_width": W,
           "original_height": H, "value": {"x": x * 100 / W, "y": y * 100 / H, "width": 1, "keypointlabels": [name]}}
          for i, ((x, y), name) in enumerate(zip(px, names))]  # fmt: skip
    task = task_with(gt)
    task["predictions"] = KeypointConverter(px, names).from_task(task)
    back = np.array([[r["value"]["x"] * W / 100, r["value"]["y"] * H / 100] for r in task["predictions"][0]["result"]])
    np.testing.assert_allclose(back, px, rtol=1e-12, atol=1e-9)
    assert score(task, "pck") == 1.0
