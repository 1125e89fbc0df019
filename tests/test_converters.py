"""Converters: inputs, labels, control and image-size inference, output envelope and validation."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml_test import MLTestWarning, evaluate
from ml_test.converters import (
    BboxConverter,
    ChoicesConverter,
    ConverterError,
    KeypointConverter,
    MaskConverter,
    PolygonConverter,
    RotatedBboxConverter,
    SpanConverter,
    find_target,
)
from ml_test.errors import MLTestError

CONFIG = """
<View>
  <Image name="image" value="$img"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car"/><Label value="Person"/>
  </RectangleLabels>
  <PolygonLabels name="seg" toName="image"><Label value="Road"/></PolygonLabels>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>
"""


class FakeTensor:
    """Shaped like a torch tensor on a GPU: only ``.detach().cpu().numpy()`` gives the data."""

    def __init__(self, data, dtype=np.float32):
        self._data = np.asarray(data, dtype=dtype)
        self.calls: list[str] = []

    def detach(self):
        self.calls.append("detach")
        return self

    def cpu(self):
        self.calls.append("cpu")
        return self

    def numpy(self):
        return self._data


class FakeBoxes:
    """detectron2 ``Boxes``: the (n, 4) tensor sits in ``.tensor``."""

    def __init__(self, data):
        self.tensor = FakeTensor(data)


class ArrayLike:
    def __init__(self, data):
        self.data = np.asarray(data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)


def box_result(x, y, w, h, label="Car", from_name="label", to_name="image", size=(640, 480), rid="g1"):
    r = {"id": rid, "from_name": from_name, "to_name": to_name, "type": "rectanglelabels",
         "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}}  # fmt: skip
    if size:
        r["original_width"], r["original_height"] = size
    return r


def image_task(*results, tid=1, data=None):
    return {"id": tid, "data": data or {"image": "missing.jpg"}, "annotations": [{"id": 1, "result": list(results)}]}


BOX = [[64.0, 48.0, 192.0, 144.0]]  # pixels on 640x480: 10%, 10%, 20% x 20%


def geom(value: dict) -> dict:
    """The numeric part of a value (pytest.approx compares flat dicts only)."""
    return {k: v for k, v in value.items() if isinstance(v, (int, float))}


# ---------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    "make",
    [np.array, lambda b: b, FakeTensor, FakeBoxes, ArrayLike, lambda b: [FakeTensor(row) for row in b]],
    ids=["numpy", "list", "torch-like", "detectron2-Boxes", "__array__", "list-of-tensors"],
)
def test_every_input_kind_gives_the_same_prediction(make):
    task = image_task(box_result(10, 10, 20, 20))
    reference = BboxConverter(np.array(BOX)).from_task(task)
    assert BboxConverter(make(BOX)).from_task(task) == reference
    value = reference[0]["result"][0]["value"]
    assert geom(value) == pytest.approx({"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0})
    assert value["rectanglelabels"] == ["Car"]


def test_torch_like_tensors_leave_the_graph_and_the_gpu():
    t = FakeTensor(BOX)
    BboxConverter(t).from_task(image_task(box_result(10, 10, 20, 20)))
    assert t.calls == ["detach", "cpu"]


def test_a_single_flat_box_and_no_box():
    task = image_task(box_result(10, 10, 20, 20))
    assert len(BboxConverter(BOX[0]).from_task(task)[0]["result"]) == 1
    [empty] = BboxConverter(np.zeros((0, 4))).from_task(task)
    assert empty == {"model_version": None, "score": 0.0, "result": []}


@pytest.mark.parametrize("bad", [[[1, 2, 3]], [[1, 2, 3, 4, 5]], np.zeros((2, 2, 4))])
def test_wrong_shapes_are_refused_with_the_shape(bad):
    with pytest.raises(ConverterError, match=r"bboxes must have shape \(n, 4\)"):
        BboxConverter(bad)


def test_non_numbers_are_refused():
    with pytest.raises(ConverterError, match="expected numbers"):
        BboxConverter([["a", "b", "c", "d"]])


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "boxes, fmt, normalized",
    [
        ([[64, 48, 192, 144]], "xyxy", False),
        ([[64, 48, 128, 96]], "xywh", False),
        ([[128, 96, 128, 96]], "cxcywh", False),
        ([[0.1, 0.1, 0.3, 0.3]], "xyxy", True),
        ([[0.1, 0.1, 0.2, 0.2]], "xywh", True),
        ([[0.2, 0.2, 0.2, 0.2]], "cxcywh", True),
    ],
)
def test_formats_agree(boxes, fmt, normalized):
    task = image_task(box_result(10, 10, 20, 20))
    value = BboxConverter(boxes, format=fmt, normalized=normalized).from_task(task)[0]["result"][0]["value"]
    assert [value[k] for k in ("x", "y", "width", "height")] == pytest.approx([10, 10, 20, 20])


def test_unknown_format_lists_the_formats():
    with pytest.raises(ConverterError, match="'xyxy', 'xywh', 'cxcywh'; got 'yolo'"):
        BboxConverter(BOX, format="yolo")


def test_normalized_boxes_need_no_image_size():
    task = image_task(box_result(10, 10, 20, 20, size=None))
    [r] = BboxConverter([[0.1, 0.1, 0.3, 0.3]], normalized=True).from_task(task)[0]["result"]
    assert "original_width" not in r and r["value"]["width"] == pytest.approx(20)


def test_pixel_boxes_that_look_normalized_are_refused():
    with pytest.raises(ConverterError, match="pass normalized=True"):
        BboxConverter([[0.1, 0.1, 0.3, 0.3]]).from_task(image_task(box_result(10, 10, 20, 20)))
    with pytest.raises(ConverterError, match="normalized=True but the boxes reach 192"):
        BboxConverter(BOX, normalized=True).from_task(image_task(box_result(10, 10, 20, 20)))


@pytest.mark.parametrize(
    "box, message",
    [
        ([[192, 48, 64, 144]], r"task 1: BboxConverter: region 0: width must be > 0, got -20 \(format='xyxy'"),
        ([[64, 48, 64, 144]], "region 0: width must be > 0, got 0"),
        ([[64, np.nan, 192, 144]], "region 0: bboxes must be finite"),
    ],
)
def test_invalid_boxes_name_the_task_region_and_field(box, message):
    with pytest.raises(ConverterError, match=message):
        BboxConverter(box).from_task(image_task(box_result(10, 10, 20, 20)))


def test_boxes_outside_the_image_are_warned_about():
    with pytest.warns(MLTestWarning, match="reach outside the image"):
        BboxConverter([[600, 48, 900, 144]]).from_task(image_task(box_result(10, 10, 20, 20)))


# ---------------------------------------------------------------- labels and scores


def test_labels_by_name_by_id_through_a_list_or_a_dict():
    task = image_task(box_result(10, 10, 20, 20, "Car"), box_result(50, 50, 10, 10, "Person", rid="g2"))
    two = [[64, 48, 192, 144], [320, 240, 384, 288]]

    def labels(conv):
        return [r["value"]["rectanglelabels"] for r in conv.from_task(task)[0]["result"]]

    assert labels(BboxConverter(two, ["Person", "Car"])) == [["Person"], ["Car"]]
    assert labels(BboxConverter(two, [1, 0], label_map=["Car", "Person"])) == [["Person"], ["Car"]]
    assert labels(BboxConverter(two, FakeTensor([2.0, 7.0]), label_map={2: "Car", "7": "Person"})) == [
        ["Car"],
        ["Person"],
    ]
    assert labels(BboxConverter(two, ["car", "person"], label_map={"car": "Car", "person": "Person"})) == [
        ["Car"],
        ["Person"],
    ]


def test_without_labels_the_controls_only_label_is_used():
    [pred] = BboxConverter(BOX).from_task(image_task(box_result(10, 10, 20, 20, "Car")))
    assert pred["result"][0]["value"]["rectanglelabels"] == ["Car"]


def test_without_labels_several_ground_truth_labels_are_an_error_listing_them():
    task = image_task(box_result(10, 10, 20, 20, "Car"), box_result(50, 50, 10, 10, "Person", rid="g2"))
    with pytest.raises(ConverterError, match=r"control 'label' has 2 labels \(Car, Person\); pass labels="):
        BboxConverter(BOX).from_task(task)


@pytest.mark.parametrize(
    "labels, label_map, message",
    [
        ([3], None, "class id 3; pass label_map="),
        ([3], ["Car"], r"class id 3 is outside label_map \(0..0\)"),
        ([3], {0: "Car"}, "class id 3 is not in label_map"),
        (["Car", "Car"], None, "got 2 labels for 1 regions"),
        ([None], None, "must be a label name or a class id"),
    ],
)
def test_label_errors(labels, label_map, message):
    with pytest.raises(ConverterError, match=message):
        BboxConverter(BOX, labels, label_map=label_map).from_task(image_task(box_result(10, 10, 20, 20)))


def test_labels_are_checked_against_the_labeling_config():
    task = {"id": 4, "data": {"img": "x.jpg"}, "annotations": []}
    with pytest.raises(ConverterError, match=r"'Bus' is not a label of control 'label' \(labels: Car, Person\)"):
        BboxConverter(BOX, ["Bus"]).from_task(task, label_config=CONFIG, image_size=(640, 480))


def test_scores_and_the_prediction_score():
    task = image_task(box_result(10, 10, 20, 20))
    [pred] = BboxConverter(BOX * 2, ["Car", "Car"], FakeTensor([0.9, 0.5])).from_task(task, model_version="v2")
    assert [r["score"] for r in pred["result"]] == pytest.approx([0.9, 0.5])
    assert pred["score"] == pytest.approx(0.7) and pred["model_version"] == "v2"
    with pytest.raises(ConverterError, match="got 1 scores for 2 regions"):
        BboxConverter(BOX * 2, ["Car", "Car"], [0.9]).from_task(task)
    with pytest.raises(ConverterError, match=r"scores\[1\] must be finite"):
        BboxConverter(BOX * 2, ["Car", "Car"], [0.9, np.inf]).from_task(task)


def test_region_ids_are_unique_deterministic_and_editor_shaped():
    task = image_task(box_result(10, 10, 20, 20))
    boxes = [[10, 10, 50, 50]] * 3 + [[100, 100, 200, 200]]  # identical boxes still get distinct ids
    first = BboxConverter(boxes).from_task(task)
    ids = [r["id"] for r in first[0]["result"]]
    assert len(set(ids)) == 4 and all(len(i) == 10 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert BboxConverter(boxes).from_task(task) == first


def test_envelope_matches_label_studio_and_survives_json():
    task = image_task(box_result(10, 10, 20, 20))
    [pred] = BboxConverter(BOX, scores=[0.25]).from_task(task, model_version="m1")
    r = pred["result"][0]
    assert set(r) == {
        "id",
        "from_name",
        "to_name",
        "type",
        "original_width",
        "original_height",
        "image_rotation",
        "value",
        "score",
    }
    assert (r["from_name"], r["to_name"], r["type"], r["image_rotation"]) == ("label", "image", "rectanglelabels", 0)
    assert (r["original_width"], r["original_height"]) == (640, 480)
    assert json.loads(json.dumps(pred)) == pred


# ---------------------------------------------------------------- where regions go


def test_split_rectangle_and_labels_format_is_reproduced():
    """A <Rectangle> + <Labels> ground truth gets the same two-result regions, sharing an id."""
    geometry = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0}
    gt = [
        {"id": "a", "from_name": "box", "to_name": "image", "type": "rectangle", "original_width": 640,
         "original_height": 480, "value": geometry},
        {"id": "a", "from_name": "kind", "to_name": "image", "type": "labels", "original_width": 640,
         "original_height": 480, "value": {**geometry, "labels": ["Car"]}},
    ]  # fmt: skip
    task = image_task(*gt)
    task["predictions"] = BboxConverter(BOX).from_task(task)
    shape, labels = task["predictions"][0]["result"]
    assert (shape["type"], shape["from_name"], labels["type"], labels["from_name"]) == (
        "rectangle",
        "box",
        "labels",
        "kind",
    )
    assert shape["id"] == labels["id"] and labels["value"]["labels"] == ["Car"] and "labels" not in shape["value"]
    assert evaluate([task], "mAP", 0.5).tasks[0].score == pytest.approx(1.0)


def test_ambiguous_controls_are_listed():
    task = image_task(
        box_result(10, 10, 20, 20), box_result(10, 10, 20, 20, from_name="cars", to_name="image2", rid="g2")
    )
    with pytest.raises(
        ConverterError, match=r"2 box controls: 'label' -> 'image', 'cars' -> 'image2'; pass from_name="
    ):
        BboxConverter(BOX).from_task(task)
    [pred] = BboxConverter(BOX).from_task(task, from_name="cars")
    assert (pred["result"][0]["from_name"], pred["result"][0]["to_name"]) == ("cars", "image2")


def test_no_control_of_the_kind_says_what_to_pass():
    task = image_task(box_result(10, 10, 20, 20))
    with pytest.raises(
        ConverterError, match="no polygonlabels/polygon control found in the ground truth.*label_config="
    ):
        PolygonConverter([[[1, 1], [50, 1], [50, 50]]]).from_task(task)


def test_explicit_names_work_without_any_ground_truth():
    task = {"id": 9, "data": {}, "annotations": []}
    [pred] = BboxConverter(BOX, ["Car"]).from_task(task, from_name="label", to_name="image", image_size="640x480")
    assert pred["result"][0]["value"]["x"] == pytest.approx(10)


def test_labeling_config_gives_names_labels_and_data_key():
    task = {"id": 4, "data": {"img": "x.jpg", "text": "Ann went to Rome"}, "annotations": []}
    t = find_target(task, "box", label_config=CONFIG)
    assert (t.from_name, t.to_name, t.type, t.labels, t.labels_complete, t.data_key) == (
        "label",
        "image",
        "rectanglelabels",
        ("Car", "Person"),
        True,
        "img",
    )
    span = find_target(task, "span", label_config=CONFIG)
    assert (span.from_name, span.to_name, span.labels) == ("ner", "text", ("PER", "LOC"))
    # the only polygon label is the default label
    [pred] = PolygonConverter([[[1, 1], [50, 1], [50, 50]]]).from_task(task, label_config=CONFIG, image_size=(100, 100))
    assert pred["result"][0]["value"]["polygonlabels"] == ["Road"]


def test_split_format_from_a_labeling_config():
    config = '<View><Image name="im" value="$image"/><Rectangle name="box" toName="im"/>' \
             '<Labels name="kind" toName="im"><Label value="Car"/></Labels></View>'  # fmt: skip
    t = find_target({"id": 1}, "box", label_config=config)
    assert (t.type, t.labels_from_name, t.labels, t.label_key) == ("rectangle", "kind", ("Car",), "labels")
    assert find_target({"id": 1}, "span", label_config=config, required=False) is None  # Labels on an image is no span


def test_invalid_label_config_is_reported():
    with pytest.raises(ConverterError, match="label_config is not valid XML"):
        BboxConverter(BOX).from_task({"id": 1}, label_config="<View>")


# ---------------------------------------------------------------- image size


def test_image_size_from_the_argument_when_the_ground_truth_has_none():
    task = image_task(box_result(10, 10, 20, 20, size=None))
    for size in [(640, 480), "640x480", [640, 480]]:
        r = BboxConverter(BOX).from_task(task, image_size=size)[0]["result"][0]
        assert (r["original_width"], r["original_height"]) == (640, 480)


def test_image_size_that_contradicts_the_ground_truth_is_an_error():
    with pytest.raises(ConverterError, match="image_size=320x240 differs from the ground truth's .* 640x480"):
        BboxConverter(BOX).from_task(image_task(box_result(10, 10, 20, 20)), image_size=(320, 240))


def test_image_size_from_a_local_image_file(tmp_path):
    path = tmp_path / "street.png"
    Image.new("RGB", (640, 480)).save(path)
    task = image_task(box_result(10, 10, 20, 20, size=None), data={"image": str(path)})
    r = BboxConverter(BOX).from_task(task)[0]["result"][0]
    assert (r["original_width"], r["original_height"]) == (640, 480)
    task["data"]["image"] = path.as_uri()  # file:// URLs too
    assert BboxConverter(BOX).from_task(task)[0]["result"][0]["original_width"] == 640


def test_image_size_follows_exif_orientation(tmp_path):
    """A photo stored 640x480 with EXIF 'rotate 90°' is displayed, and annotated, 480 wide and 640 high."""
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (640, 480)).save(path, exif=exif)
    task = image_task(box_result(10, 10, 20, 20, size=None), data={"image": str(path)})
    r = BboxConverter([[48, 64, 144, 192]]).from_task(task)[0]["result"][0]
    assert (r["original_width"], r["original_height"]) == (480, 640)


def test_unknown_image_size_is_a_clear_error():
    task = image_task(box_result(10, 10, 20, 20, size=None), data={"image": "/data/upload/3/a.jpg"})
    with pytest.raises(
        ConverterError, match=r"image size unknown: .*'/data/upload/3/a.jpg'.*pass image_size=\(width, height\)"
    ):
        BboxConverter(BOX).from_task(task)


def test_converter_errors_are_ml_test_errors():
    assert issubclass(ConverterError, MLTestError) and issubclass(ConverterError, ValueError)
    with pytest.raises(ConverterError, match="expects a Label Studio task dict"):
        BboxConverter(BOX).from_task([])  # type: ignore[arg-type]


# ---------------------------------------------------------------- rotated, polygons, keypoints, masks


def test_rotated_formats_and_errors():
    task = image_task(box_result(10, 10, 20, 20))
    rad = RotatedBboxConverter([[320, 240, 100, 50, np.pi / 6]]).from_task(task)[0]["result"][0]["value"]
    deg = RotatedBboxConverter([[320, 240, 100, 50, 30]], format="cxcywhd").from_task(task)[0]["result"][0]["value"]
    assert geom(rad) == pytest.approx(geom(deg)) and rad["rotation"] == pytest.approx(30)
    neg = RotatedBboxConverter([[320, 240, 100, 50, -30]], format="cxcywhd").from_task(task)[0]["result"][0]["value"]
    assert neg["rotation"] == pytest.approx(330)
    with pytest.raises(ConverterError, match="normalized=True needs format='xyxyxyxy'"):
        RotatedBboxConverter([[0.5, 0.5, 0.1, 0.1, 0]], normalized=True)
    with pytest.raises(ConverterError, match="region 0: width .* must be > 0"):
        RotatedBboxConverter([[320, 240, 0, 50, 0]]).from_task(task)
    with pytest.raises(ConverterError, match=r"image size unknown"):
        RotatedBboxConverter([[320, 240, 10, 50, 0]]).from_task(image_task(box_result(10, 10, 20, 20, size=None)))


def test_polygon_inputs_and_errors():
    task = image_task({"id": "p", "from_name": "seg", "to_name": "image", "type": "polygonlabels", "original_width": 200,
                       "original_height": 100, "value": {"points": [[0, 0], [1, 0], [1, 1]], "polygonlabels": ["Roof"]}})  # fmt: skip
    ring = [[20, 10], [100, 10], [100, 50], [20, 10]]  # closed ring: the duplicate end is dropped
    flat = [20, 10, 100, 10, 100, 50]  # COCO segmentation style
    for given in ([ring], [flat], [FakeTensor(ring[:3])], np.array([ring[:3]])):
        value = PolygonConverter(given).from_task(task)[0]["result"][0]["value"]
        np.testing.assert_allclose(value["points"], [[10, 10], [50, 10], [50, 50]])
        assert value["closed"] is True
    with pytest.raises(ConverterError, match=r"polygons\[0\]: a polygon needs at least 3 distinct points"):
        PolygonConverter([[[1, 1], [5, 5], [1, 1]]]).from_task(task)
    with pytest.raises(ConverterError, match=r"polygons\[0\] must have shape \(k, 2\)"):
        PolygonConverter([[1, 2, 3]])


def test_keypoints_drop_invisible_points_and_map_keypoint_names():
    task = image_task({"id": "k", "from_name": "kp", "to_name": "image", "type": "keypointlabels", "original_width": 200,
                       "original_height": 100, "value": {"x": 1, "y": 1, "width": 1, "keypointlabels": ["nose"]}})  # fmt: skip
    pose = np.array([[[20, 10, 0.9], [0, 0, 0.0], [40, 50, 0.3]], [[60, 10, 0.8], [70, 20, 0.7], [0, 0, 0]]])
    [pred] = KeypointConverter(pose, label_map=["nose", "eye", "ear"], min_score=0.5).from_task(task)
    assert [r["value"]["keypointlabels"] for r in pred["result"]] == [["nose"], ["nose"], ["eye"]]
    got = [(r["value"]["x"], r["value"]["y"], r["score"]) for r in pred["result"]]
    np.testing.assert_allclose(got, [(10, 10, 0.9), (30, 10, 0.8), (35, 20, 0.7)])
    single = KeypointConverter([[20, 10]], ["nose"]).from_task(task)[0]["result"][0]
    assert (single["value"]["x"], single["value"]["width"]) == (10.0, 0.5)
    with pytest.raises(ConverterError, match="got 2 labels for 3 keypoints"):
        KeypointConverter(pose, ["a", "b"]).from_task(task)


def test_masks_size_labels_and_emptiness():
    gt = {"id": "m", "from_name": "brush", "to_name": "image", "type": "brushlabels", "original_width": 6,
          "original_height": 4, "value": {"format": "rle", "rle": [], "brushlabels": ["Cat"]}}  # fmt: skip
    task = image_task(gt)
    ids = np.zeros((4, 6), dtype=np.int64)
    ids[0, :2], ids[3, 3:] = 3, 5
    [pred] = MaskConverter(ids, label_map={3: "Cat", 5: "Dog"}).from_task(task)
    assert [r["value"]["brushlabels"] for r in pred["result"]] == [["Cat"], ["Dog"]]
    instances = MaskConverter(ids).from_task(task)[0]["result"]  # no label_map: the control's only label
    assert [r["value"]["brushlabels"] for r in instances] == [["Cat"], ["Cat"]]
    with pytest.raises(ConverterError, match="masks are 3x4 .* but the image is 6x4"):
        MaskConverter(np.ones((1, 4, 3), dtype=bool)).from_task(task)
    with pytest.raises(ConverterError, match="region 1: the mask is empty"):
        MaskConverter(np.stack([ids == 3, ids == 9])).from_task(task)
    probs = FakeTensor((ids == 3)[None, None] * 0.8)  # torchvision: (n, 1, H, W) probabilities
    assert (
        MaskConverter(probs).from_task(task)[0]["result"][0]["value"]["rle"]
        == MaskConverter(ids == 3).from_task(task)[0]["result"][0]["value"]["rle"]
    )


def test_masks_without_any_known_size_use_their_own():
    task = {"id": 1, "data": {}, "annotations": []}
    r = MaskConverter(np.ones((1, 4, 6), dtype=bool), ["Cat"]).from_task(task, from_name="brush", to_name="image")[0][
        "result"
    ][0]
    assert (r["original_width"], r["original_height"], r["type"]) == (6, 4, "brushlabels")


# ---------------------------------------------------------------- choices and spans


def text_task(text="Ann went to Rome", results=()):
    return {"id": 5, "data": {"text": text}, "annotations": [{"result": list(results)}]}


CHOICE_GT = {
    "id": "c",
    "from_name": "sentiment",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["Positive"]},
}


def test_choices_top1_multilabel_names_and_errors():
    task = text_task(results=[CHOICE_GT])
    top = ChoicesConverter(FakeTensor([[2.0, 0.0]]), label_map=["Positive", "Negative"], logits=True).from_task(task)[0]
    assert top["result"][0]["value"] == {"choices": ["Positive"]} and top["result"][0]["score"] == pytest.approx(
        1 / (1 + np.exp(-2))
    )
    none = ChoicesConverter([0.1, 0.2], label_map=["Positive", "Negative"], multi_label=True).from_task(task)[0]
    assert none["result"] == [] and none["score"] == 0.0
    named = ChoicesConverter("Negative", score=0.6).from_task(task)[0]["result"][0]
    assert (named["value"], named["score"]) == ({"choices": ["Negative"]}, 0.6)
    with pytest.raises(ConverterError, match="need label_map="):
        ChoicesConverter([0.1, 0.9])
    with pytest.raises(ConverterError, match="2 class scores but label_map has 3 names"):
        ChoicesConverter([0.1, 0.9], label_map=["a", "b", "c"])


def test_spans_from_tuples_dicts_and_utf16_input():
    gt = {
        "id": "s",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 3, "labels": ["PER"]},
    }
    task = text_task("Ann 🌍 went to Rome", [gt])
    hf = [{"entity_group": "PER", "score": 0.99, "word": "Ann", "start": 0, "end": 3},
          {"entity_group": "LOC", "score": 0.9, "word": "Rome", "start": 14, "end": 18}]  # fmt: skip
    values = [r["value"] for r in SpanConverter(hf).from_task(task)[0]["result"]]
    assert values == [{"start": 0, "end": 3, "text": "Ann", "labels": ["PER"]},
                      {"start": 15, "end": 19, "text": "Rome", "labels": ["LOC"]}]  # fmt: skip
    same = SpanConverter([(0, 3, "PER", 0.99), (15, 19, "LOC", 0.9)], offsets="utf16").from_task(task)[0]
    assert [r["value"] for r in same["result"]] == values


@pytest.mark.parametrize(
    "entities, kwargs, message",
    [
        ([(3, 3, "PER")], {}, "end must be > start"),
        ([(0, 40, "PER")], {}, r"span \[0, 40\] is outside the text"),
        ([(5, 7, "PER")], {"offsets": "utf16"}, "splits a surrogate pair"),
        ([(0, 3)], {}, r"must be \(start, end, label\[, score\]\)"),
        ([(0, 3, "PER", 0.5), (4, 5, "PER")], {}, "some entities have a score"),
    ],
)
def test_span_errors(entities, kwargs, message):
    gt = {
        "id": "s",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 3, "labels": ["PER"]},
    }
    with pytest.raises(ConverterError, match=message):
        SpanConverter(entities, **kwargs).from_task(text_task("Ann 🌍 went to Rome", [gt]))


def test_spans_without_text_need_utf16_offsets():
    gt = {
        "id": "s",
        "from_name": "ner",
        "to_name": "text",
        "type": "labels",
        "value": {"start": 0, "end": 3, "labels": ["PER"]},
    }
    task = {"id": 5, "data": {"text": None, "other": 1}, "annotations": [{"result": [gt]}]}
    with pytest.raises(ConverterError, match="holds no text for 'text'.*offsets='utf16'"):
        SpanConverter([(0, 3, "PER")]).from_task(task)
    value = SpanConverter([(0, 3, "PER")], offsets="utf16").from_task(task)[0]["result"][0]["value"]
    assert value == {"start": 0, "end": 3, "labels": ["PER"]}


# ---------------------------------------------------------------- docs


def test_docs_examples_compile_and_import_existing_names():
    """docs/converters.md: every Python block parses and imports only names the package has."""
    import ml_test.converters as converters

    text = (Path(__file__).resolve().parents[1] / "docs" / "converters.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    for block in blocks:
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "ml_test.converters":
                assert {a.name for a in node.names} <= set(converters.__all__)
