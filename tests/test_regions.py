"""Parsing results into regions: split labels, children, relations, repairs and errors."""

from __future__ import annotations

import numpy as np
import pytest

from ml_test.errors import InputError
from ml_test.regions import parse_result


def _rect(rid="r1", from_name="label", type_="rectanglelabels", labels=("Car",), **value):
    v = {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, **value}
    if type_ == "rectanglelabels":
        v["rectanglelabels"] = list(labels)
    return {"id": rid, "from_name": from_name, "to_name": "image", "type": type_, "value": v,
            "original_width": 200, "original_height": 100}  # fmt: skip


def test_split_geometry_and_labels_form_one_region_with_children_and_relations_apart():
    shape = _rect(from_name="rect", type_="rectangle")
    labels = {"id": "r1", "from_name": "labels", "to_name": "image", "type": "labels",
              "value": {"x": 10, "y": 20, "width": 30, "height": 40, "labels": ["Moonwalker"]}}  # fmt: skip
    child = {"id": "r1", "from_name": "ocr", "to_name": "image", "type": "textarea", "value": {"x": 10, "text": ["A"]}}
    relation = {"type": "relation", "from_id": "r1", "to_id": "r2", "direction": "right"}
    parsed = parse_result([shape, labels, child, relation])
    assert list(parsed.controls) == ["rect"]
    (region,) = parsed.controls["rect"]
    assert region.kind == "box" and region.labels == ("Moonwalker",)
    assert region.children == (child,)
    assert parsed.relations == [relation]
    assert region.image_size == (200.0, 100.0)


def test_score_from_result_then_value_then_prediction():
    a = _rect("a")
    a["score"] = 0.7
    b = _rect("b", score=0.6)
    c = _rect("c")
    parsed = parse_result([a, b, c], default_score=0.3)
    assert [r.score for r in parsed.controls["label"]] == [0.7, 0.6, 0.3]


def test_negative_size_is_normalised_and_out_of_range_clipped_with_a_warning():
    parsed = parse_result([_rect(x=40, width=-30, y=90, height=20)])
    (r,) = parsed.controls["label"]
    assert r.geometry == (10.0, 90.0, 30.0, 10.0, 0.0)
    assert any("clipped" in w for w in parsed.warnings)


def test_rotation_is_normalised_to_0_360():
    (r,) = parse_result([_rect(rotation=-90)]).controls["label"]
    assert r.geometry[4] == 270.0


def test_polygon_text_span_and_choices():
    poly = {"id": "p", "from_name": "poly", "to_name": "image", "type": "polygonlabels",
            "value": {"points": [[0, 0], [10, 0], [10, 10]], "polygonlabels": ["Roof"]}}  # fmt: skip
    span = {"id": "s", "from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": 4, "end": 9, "text": "Paris", "labels": ["LOC"]}}  # fmt: skip
    choice = {"id": "c", "from_name": "cls", "to_name": "text", "type": "choices", "value": {"choices": ["A", ["B", "C"]]}}
    parsed = parse_result([poly, span, choice])
    assert parsed.controls["poly"][0].kind == "polygon"
    assert np.array_equal(parsed.controls["poly"][0].geometry, [[0, 0], [10, 0], [10, 10]])
    assert parsed.controls["ner"][0].geometry == (4.0, 9.0) and parsed.controls["ner"][0].labels == ("LOC",)
    assert parsed.controls["cls"][0].labels == ("A", "B/C")


def test_results_without_ids_stay_separate():
    a, b = _rect(), _rect()
    del a["id"], b["id"]
    assert len(parse_result([a, b]).controls["label"]) == 2


@pytest.mark.parametrize(
    "value, message",
    [
        ({"x": float("nan")}, r"result 'r1': value\.x must be finite"),
        ({"width": "wide"}, r"value\.width must be a number"),
        ({"height": None}, r"value\.height is missing"),
    ],
)
def test_bad_values_name_the_region_and_field(value, message):
    r = _rect()
    r["value"].update(value)
    if value.get("height", 0) is None:
        del r["value"]["height"]
    with pytest.raises(InputError, match=message):
        parse_result([r], where="t.json: task 3 (line 9)")


def test_non_finite_score_names_the_region():
    r = _rect()
    r["score"] = float("inf")
    with pytest.raises(InputError, match=r"result 'r1': score must be finite"):
        parse_result([r])


def test_missing_keys_are_errors():
    with pytest.raises(InputError, match="from_name must be a string"):
        parse_result([{"id": "x", "type": "choices", "to_name": "t", "value": {}}])
    with pytest.raises(InputError, match="value must be an object"):
        parse_result([{"id": "x", "type": "choices", "from_name": "c", "to_name": "t"}])
