"""Adapters: objects shaped like detectron2, torchvision, ultralytics and supervision outputs (none installed)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from ml_test import evaluate
from ml_test.converters import ConverterError, predictions_from, to_detections
from ml_test.geometry.rle import rle_to_mask
from ml_test.geometry.shapes import box_corners_px

W, H = 200, 100
# Two objects in pixels (xyxy) and their ground truth in percent; each also has a mask and a polygon.
BOXES = np.array([[20.0, 10.0, 60.0, 50.0], [100.0, 40.0, 180.0, 90.0]])
CLASS_IDS = [2, 0]
NAMES = {0: "person", 1: "bicycle", 2: "car"}
SCORES = [0.9, 0.6]


class Tensor:
    """torch-like: data only through ``.detach().cpu().numpy()``; ``.tolist()`` and ``len`` as torch has them."""

    def __init__(self, data, dtype=np.float32):
        self._a = np.asarray(data, dtype=dtype)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self._a

    def __len__(self):
        return len(self._a)


def masks() -> np.ndarray:
    m = np.zeros((2, H, W), dtype=bool)
    for i, (x0, y0, x1, y1) in enumerate(BOXES.astype(int)):
        m[i, y0:y1, x0:x1] = True
    return m


def ground_truth(*kinds: str) -> dict:
    result = []
    for i, ((x0, y0, x1, y1), label) in enumerate(zip(BOXES, ["car", "person"])):
        value = {
            "x": x0 / W * 100,
            "y": y0 / H * 100,
            "width": (x1 - x0) / W * 100,
            "height": (y1 - y0) / H * 100,
            "rotation": 0,
        }
        common = {"to_name": "image", "original_width": W, "original_height": H}
        if "box" in kinds:
            result.append({"id": f"b{i}", "from_name": "label", "type": "rectanglelabels", **common,
                           "value": {**value, "rectanglelabels": [label]}})  # fmt: skip
        if "polygon" in kinds:
            pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
            result.append({"id": f"p{i}", "from_name": "seg", "type": "polygonlabels", **common,
                           "value": {"points": [[x / W * 100, y / H * 100] for x, y in pts], "polygonlabels": [label]}})  # fmt: skip
        if "brush" in kinds:
            result.append({"id": f"m{i}", "from_name": "mask", "type": "brushlabels", **common,
                           "value": {"format": "rle", "rle": [], "brushlabels": [label]}})  # fmt: skip
    return {"id": 11, "data": {"image": "street.jpg"}, "annotations": [{"id": 1, "result": result}]}


def check_boxes(task: dict, pred: dict) -> None:
    boxes = [r for r in pred["result"] if r["type"] == "rectanglelabels"]
    assert [r["value"]["rectanglelabels"] for r in boxes] == [["car"], ["person"]]
    assert [r["score"] for r in boxes] == pytest.approx(SCORES)
    task["predictions"] = [pred]
    assert evaluate([task], "mAP", 0.99, controls=["label"]).tasks[0].score == pytest.approx(1.0)


def check_masks(pred: dict) -> None:
    brushes = [r for r in pred["result"] if r["type"] == "brushlabels"]
    assert [r["value"]["brushlabels"] for r in brushes] == [["car"], ["person"]]
    for r, m in zip(brushes, masks()):
        np.testing.assert_array_equal(rle_to_mask(r["value"]["rle"], W, H) > 0, m)


# ---------------------------------------------------------------- detectron2


class Instances:
    """detectron2 ``Instances``: fields behind ``get_fields()``, ``image_size`` as (height, width)."""

    def __init__(self, image_size, **fields):
        self.image_size = image_size
        self._fields = fields

    def get_fields(self):
        return self._fields


def detectron2_output(**extra) -> dict:
    inst = Instances(
        (H, W),
        pred_boxes=SimpleNamespace(tensor=Tensor(BOXES)),  # Boxes
        scores=Tensor(SCORES),
        pred_classes=Tensor(CLASS_IDS, dtype=np.int64),
        pred_masks=Tensor(masks(), dtype=bool),
        **extra,
    )
    return {"instances": inst}  # what DefaultPredictor returns


def test_detectron2_instances_give_boxes_and_masks():
    task = ground_truth("box", "brush")
    [pred] = predictions_from(detectron2_output(), task, label_map=NAMES, model_version="d2")
    assert pred["model_version"] == "d2"
    check_masks(pred)
    check_boxes(task, pred)


def test_detectron2_rotated_boxes_turn_counter_clockwise():
    """RotatedBoxes rows are (cx, cy, w, h, angle) with the angle counter-clockwise on screen."""
    rotated = Instances((H, W), pred_boxes=SimpleNamespace(tensor=Tensor([[100, 50, 40, 20, 30]])),
                        scores=Tensor([0.9]), pred_classes=Tensor([2], dtype=np.int64))  # fmt: skip
    task = ground_truth("box")
    [pred] = predictions_from(rotated, task, label_map=NAMES)
    v = pred["result"][0]["value"]
    corners = box_corners_px((v["x"], v["y"], v["width"], v["height"], v["rotation"]), W, H)
    # 30° counter-clockwise: the width edge points up and to the right (y decreases)
    edge = corners[1] - corners[0] if v["width"] * W >= v["height"] * H else corners[3] - corners[0]
    assert math.degrees(math.atan2(-edge[1], edge[0])) % 180 == pytest.approx(30, abs=1e-6)
    np.testing.assert_allclose(corners.mean(axis=0), [100, 50], atol=1e-9)


def test_detectron2_without_label_map_asks_for_one():
    with pytest.raises(ConverterError, match="class id 2; pass label_map="):
        predictions_from(detectron2_output(), ground_truth("box"))


# ---------------------------------------------------------------- torchvision


def test_torchvision_dict_with_probability_masks():
    out = {"boxes": Tensor(BOXES), "labels": Tensor(CLASS_IDS, dtype=np.int64), "scores": Tensor(SCORES),
           "masks": Tensor(masks()[:, None] * 0.9)}  # (n, 1, H, W) probabilities  # fmt: skip
    task = ground_truth("box", "brush")
    [pred] = predictions_from([out], task, label_map=NAMES)  # a list of one image's output
    check_masks(pred)
    check_boxes(task, pred)


def test_min_score_drops_weak_detections():
    out = {"boxes": BOXES, "labels": CLASS_IDS, "scores": SCORES}
    [pred] = predictions_from(out, ground_truth("box"), label_map=NAMES, min_score=0.7)
    assert [r["value"]["rectanglelabels"] for r in pred["result"]] == [["car"]]


# ---------------------------------------------------------------- ultralytics


def ultralytics_boxes(xyxy, cls, conf):
    return SimpleNamespace(xyxy=Tensor(xyxy), cls=Tensor(cls), conf=Tensor(conf))


def ultralytics_result(**parts) -> SimpleNamespace:
    base = {
        "boxes": None,
        "obb": None,
        "masks": None,
        "keypoints": None,
        "probs": None,
        "names": NAMES,
        "orig_shape": (H, W),
    }
    return SimpleNamespace(**{**base, **parts})


def test_ultralytics_results_boxes_polygons_and_drawn_masks():
    polygons = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32) for x0, y0, x1, y1 in BOXES]
    r = ultralytics_result(
        boxes=ultralytics_boxes(BOXES, [2.0, 0.0], SCORES),  # Boxes.cls holds floats
        masks=SimpleNamespace(xy=polygons, data=Tensor(np.zeros((2, 64, 64)))),  # data at the inference size
    )
    task = ground_truth("box", "polygon", "brush")
    [pred] = predictions_from([r], task)  # model(image) returns a list of Results; names come from the model
    polys = [x for x in pred["result"] if x["type"] == "polygonlabels"]
    np.testing.assert_allclose(polys[0]["value"]["points"], task["annotations"][0]["result"][1]["value"]["points"])
    brushes = [x for x in pred["result"] if x["type"] == "brushlabels"]
    drawn = rle_to_mask(brushes[0]["value"]["rle"], W, H) > 0
    # the polygon is filled at the original size; its edges may differ from the raster by one pixel
    assert abs(int(drawn.sum()) - int(masks()[0].sum())) <= 2 * (40 + 40) + 4 and drawn[masks()[0]].mean() > 0.99
    task["predictions"] = [pred]
    assert evaluate([task], "mAP", 0.99, controls=["seg"]).tasks[0].score == pytest.approx(1.0)
    check_boxes(task, pred)


def test_ultralytics_full_size_masks_are_used_as_they_are():
    r = ultralytics_result(boxes=ultralytics_boxes(BOXES, [2.0, 0.0], SCORES),
                           masks=SimpleNamespace(xy=[np.zeros((0, 2))] * 2, data=Tensor(masks().astype(np.float32))))  # fmt: skip
    [pred] = predictions_from(r, ground_truth("brush"))
    check_masks(pred)


def ultralytics_obb_corners(cx, cy, w, h, r):
    """Corners as ultralytics' xywhr2xyxyxyxy orders them (the opposite winding to Label Studio's)."""
    c, s = math.cos(r), math.sin(r)
    v1, v2 = np.array([w / 2 * c, w / 2 * s]), np.array([-h / 2 * s, h / 2 * c])
    ctr = np.array([cx, cy])
    return np.stack([ctr + v1 + v2, ctr + v1 - v2, ctr - v1 - v2, ctr - v1 + v2])


def test_ultralytics_obb_results_become_rotated_rectangles():
    xywhr = [(100, 50, 60, 20, 0.4), (40, 30, 20, 30, -1.2)]
    corners = np.stack([ultralytics_obb_corners(*b) for b in xywhr])
    obb = SimpleNamespace(xyxyxyxy=Tensor(corners), xywhr=Tensor(xywhr), cls=Tensor([2.0, 0.0]), conf=Tensor(SCORES))
    task = ground_truth("box")
    [pred] = predictions_from(ultralytics_result(obb=obb), task)
    for r, expected in zip(pred["result"], corners):
        v = r["value"]
        got = box_corners_px((v["x"], v["y"], v["width"], v["height"], v["rotation"]), W, H)
        # the same rectangle: same corner set (the converter may start at another corner); float32 input
        order = lambda c: c[np.lexsort(np.round(c, 2).T[::-1])]  # noqa: E731
        np.testing.assert_allclose(order(got), order(expected), atol=1e-4)


def test_ultralytics_pose_keypoints_and_classification_probs():
    kps = SimpleNamespace(data=Tensor([[[30, 20, 0.9], [50, 40, 0.2]]]))
    r = ultralytics_result(boxes=ultralytics_boxes(BOXES[:1], [0.0], [0.9]), keypoints=kps)
    task = {"id": 3, "annotations": [{"result": [
        {"id": "k", "from_name": "kp", "to_name": "image", "type": "keypointlabels", "original_width": W, "original_height": H,
         "value": {"x": 1, "y": 1, "width": 1, "keypointlabels": ["nose"]}}]}]}  # fmt: skip
    [pred] = predictions_from(r, task, keypoint_labels=["nose", "eye"])
    assert [(x["value"]["keypointlabels"], x["value"]["x"], x["score"]) for x in pred["result"]] == [
        (["nose"], 15.0, pytest.approx(0.9)), (["eye"], 25.0, pytest.approx(0.2))]  # fmt: skip

    cls = ultralytics_result(probs=SimpleNamespace(data=Tensor([0.1, 0.2, 0.7])))
    task = {"id": 4, "annotations": [{"result": [{"id": "c", "from_name": "cls", "to_name": "image", "type": "choices",
                                                  "value": {"choices": ["car"]}}]}]}  # fmt: skip
    [pred] = predictions_from(cls, task)
    assert pred["result"][0]["value"] == {"choices": ["car"]} and pred["result"][0]["score"] == pytest.approx(0.7)


def test_ultralytics_image_size_is_checked_against_the_ground_truth():
    r = ultralytics_result(boxes=ultralytics_boxes(BOXES, [2.0, 0.0], SCORES), orig_shape=(50, 100))
    with pytest.raises(ConverterError, match="image_size=100x50 differs from the ground truth's"):
        predictions_from(r, ground_truth("box"))


# ---------------------------------------------------------------- supervision


def test_supervision_detections_use_their_class_names():
    det = SimpleNamespace(xyxy=BOXES, class_id=np.array(CLASS_IDS), confidence=np.array(SCORES), mask=masks(),
                          tracker_id=None, data={"class_name": np.array(["car", "person"])})  # fmt: skip
    task = ground_truth("box", "brush")
    [pred] = predictions_from(det, task)
    check_masks(pred)
    check_boxes(task, pred)
    renamed = predictions_from(det, ground_truth("box"), label_map={2: "car", 0: "person"}, from_name="label")
    assert [r["value"]["rectanglelabels"] for r in renamed[0]["result"]] == [["car"], ["person"]]


# ---------------------------------------------------------------- routing


def test_from_name_per_kind_limits_what_is_written():
    [pred] = predictions_from(
        detectron2_output(), ground_truth("box", "brush"), label_map=NAMES, from_name={"brush": "mask"}
    )
    assert {r["type"] for r in pred["result"]} == {"brushlabels"}


def test_no_matching_control_says_what_the_output_holds():
    task = {
        "id": 1,
        "annotations": [
            {"result": [{"from_name": "s", "to_name": "t", "type": "choices", "value": {"choices": ["a"]}}]}
        ],
    }
    with pytest.raises(
        ConverterError,
        match="task 1: predictions_from: the detectron2 Instances holds boxes, masks but the ground truth has no matching control",
    ):
        predictions_from(detectron2_output(), task, label_map=NAMES)


def test_unknown_outputs_and_batches_are_refused():
    with pytest.raises(ConverterError, match="cannot read a int: expected a detectron2 Instances"):
        predictions_from(3, ground_truth("box"))
    with pytest.raises(ConverterError, match="got a list of 2"):
        to_detections([{"boxes": BOXES}, {"boxes": BOXES}])


def test_empty_detections_give_an_empty_prediction():
    out = {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, dtype=int), "scores": np.zeros(0)}
    [pred] = predictions_from(out, ground_truth("box"), label_map=NAMES)
    assert pred["result"] == [] and pred["score"] == 0.0
