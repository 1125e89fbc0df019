"""relation_f1: (from, to, label) triples, endpoints identified through each control's one-to-one matching."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import rect
from ml_test import InputError, evaluate


def relation(a, b, direction="right", labels=()):
    return {"type": "relation", "from_id": a, "to_id": b, "direction": direction, "labels": list(labels)}


BOXES = [(10, 10, "A"), (40, 10, "B"), (70, 10, "A"), (10, 60, "B")]


def scene(prefix, relations, score=None, shift=0.0):
    """The four boxes with ids ``prefix + index`` (moved right by ``shift`` %) and these relations."""
    boxes = [rect(x + shift, y, 20, 20, label, score, rid=f"{prefix}{k}") for k, (x, y, label) in enumerate(BOXES)]
    return boxes + [relation(f"{prefix}{a}", f"{prefix}{b}", d, labels) for a, b, d, labels in relations]


def f1(gt_relations, pred_relations, shift=1.0, **kw):
    t = {"id": 1, "annotations": [{"result": scene("g", gt_relations)}],
         "predictions": [{"result": scene("p", pred_relations, 0.9, shift)}]}  # fmt: skip
    return evaluate([t], "relation_f1", 1.0, **kw).tasks[0]


def test_predicted_regions_stand_for_the_ground_truth_regions_they_match():
    # different ids, slightly moved boxes: the endpoints match through the box matching
    assert f1([(0, 1, "right", ["near"])], [(0, 1, "right", ["near"])]).score == 1.0
    assert f1([(0, 1, "right", ())], [(1, 0, "left", ())]).score == 1.0  # left is the reversed right
    assert f1([(0, 1, "bi", ())], [(1, 0, "bi", ())]).score == 1.0
    wrong = f1([(0, 1, "right", ["near"])], [(0, 1, "right", ["far"]), (1, 0, "right", ["near"])])
    assert wrong.score == 0.0
    assert wrong.reasons[0] == "missed relation near 'g0' (A at x=10% y=10% 20×20%) -> 'g1' (B at x=40% y=10% 20×20%)"
    # with two labels a relation is two triples
    assert f1([(0, 1, "right", ["x", "y"])], [(0, 1, "right", ["x"])]).score == pytest.approx(2 / 3)


def test_an_endpoint_that_matches_nothing_makes_the_relation_extra():
    # moved by 15% of a 20% box: IoU 0.14 < 0.5, so no predicted box stands for a ground-truth box
    far = f1([(0, 1, "right", ())], [(0, 1, "right", ())], shift=15.0)
    assert far.score == 0.0
    assert "extra relation 'p0' (A at x=25% y=10% 20×20%, matched no ground-truth region)" in far.reasons[1]
    assert f1([(0, 1, "right", ())], [(0, 1, "right", ())], shift=15.0, iou=0.1).score == 1.0


def test_empty_cases_and_dataset_counts():
    tasks = [
        {"id": 1, "annotations": [{"result": scene("g", [(0, 1, "right", ["near"])])}], "predictions": [{"result": scene("p", [], 0.9)}]},
        {"id": 2, "annotations": [{"result": scene("g", [])}], "predictions": [{"result": scene("p", [], 0.9)}]},
        {"id": 3, "annotations": [{"result": scene("g", [(2, 3, "right", [])])}],
         "predictions": [{"result": scene("p", [(2, 3, "right", []), (0, 3, "right", [])], 0.9)}]},
    ]  # fmt: skip
    report = evaluate(tasks, "relation_f1", 0.5)
    assert [t.score for t in report.tasks] == [0.0, 1.0, pytest.approx(2 / 3)]
    assert report.score == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))  # micro: tp 1, fp 1, fn 1
    assert report.per_label["near"]["recall"] == 0.0 and report.per_label[""]["precision"] == 0.5


def test_relations_across_controls_from_a_real_export(corpus):
    task = json.loads((corpus / "ls-sdk/test_export_yolo/data_keypoints.json").read_text())[0]
    result = task["annotations"][0]["result"]
    # the model gives every region a new id and moves the points by a pixel
    renamed = json.loads(json.dumps(result).replace('"hplPm0Szvc"', '"box"').replace('"YuLAREYKpq"', '"nose"'))
    for r in renamed:
        if r["type"] == "keypointlabels":
            r["value"]["x"] += 0.5
    t = dict(task, predictions=[{"result": renamed}])
    assert evaluate([t], "relation_f1", 1.0).tasks[0].score == 1.0
    dropped = dict(task, predictions=[{"result": [r for r in renamed if r.get("from_id") != "nose"]}])
    result = evaluate([dropped], "relation_f1", 1.0).tasks[0]
    assert result.score == pytest.approx(2 * 4 / (2 * 4 + 1))
    assert result.reasons[0].startswith("missed relation 'YuLAREYKpq' (nose point at x=64.4% y=39.3%) -> 'hplPm0Szvc'")


def test_regions_without_a_matching_are_identified_by_id():
    brush = lambda rid: {"id": rid, "from_name": "brush", "to_name": "image", "type": "brushlabels",  # noqa: E731
                         "value": {"format": "rle", "rle": [0], "brushlabels": ["Sky"]}}  # fmt: skip
    gt = [brush("m1"), brush("m2"), relation("m1", "m2")]
    t = {"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": gt}]}
    assert evaluate([t], "relation_f1", 1.0).passed == 1
    other = {"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": [brush("x1"), brush("x2"), relation("x1", "x2")]}]}
    assert evaluate([other], "relation_f1", 1.0).tasks[0].score == 0.0


def test_bad_relations_are_named():
    t = {"id": 1, "annotations": [{"result": [rect(1, 1, 5, 5, "A", rid="a"), {"type": "relation", "to_id": "a"}]}], "predictions": []}
    with pytest.raises(InputError, match=r"task 1: ground truth: relation #1: from_id must be a region id, got nothing"):
        evaluate([t], "relation_f1", 1.0)
    t["annotations"][0]["result"][1].update(from_id="a", direction="up")
    with pytest.raises(InputError, match=r"relation #1: direction must be one of 'right', 'left', 'bi', got 'up'"):
        evaluate([t], "relation_f1", 1.0)


pairs = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["right", "left", "bi"]), st.sampled_from(["", "r"])), max_size=8)


@settings(max_examples=80, deadline=None)
@given(pairs.filter(bool), pairs)
def test_relation_f1_equals_the_f1_of_the_triple_sets(gt, pred):
    def triples(rels):
        out = set()
        for a, b, d, label in rels:
            a, b = (b, a) if d == "left" else (a, b)
            out.add((min(a, b), max(a, b), True, label) if d == "bi" else (a, b, False, label))
        return out

    g, p = triples(gt), triples(pred)
    expected = 2 * len(g & p) / (len(g) + len(p))
    as_rel = lambda rels: [(a, b, d, [label] if label else []) for a, b, d, label in rels]  # noqa: E731
    assert f1(as_rel(gt), as_rel(pred)).score == pytest.approx(expected, abs=1e-12)


def test_a_control_named_relations_keeps_its_name():
    choice = {"id": "c", "from_name": "relations", "to_name": "image", "type": "choices", "value": {"choices": ["x"]}}
    gt = [rect(1, 1, 5, 5, "A", rid="a"), choice, relation("a", "a")]
    report = evaluate([{"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": gt}]}], "relation_f1", 1.0)
    assert report.params["controls"] == ["(relations)"] and report.passed == 1
    assert evaluate([{"id": 1, "annotations": [{"result": gt}], "predictions": [{"result": gt}]}], "exact_match", 1.0).params["controls"] == ["relations"]
