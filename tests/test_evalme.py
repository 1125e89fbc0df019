"""evalme-compatible mode: every number recorded from evalme master (reference §4.5), apply's rules, the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import task
from ml_test import InputError, Report, UsageError, evaluate, load_tasks
from ml_test.compat import EVALME_METRICS, evalme_apply, evaluate_evalme, get_evalme_metric
from ml_test.compat import evalme as ev

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXACT = 1e-12
RECORDED = 5e-7  # the reference prints 6 decimals


def box(rid, x, y, w, h, label, score=None):
    r = {"id": rid, "from_name": "label", "to_name": "image", "type": "rectanglelabels", "original_width": 200,
         "original_height": 100, "image_rotation": 0,
         "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]}}  # fmt: skip
    if score is not None:
        r["score"] = score
    return r


def span(rid, start, end, label):
    return {"id": rid, "from_name": "ner", "to_name": "text", "type": "labels", "value": {"start": start, "end": end, "labels": [label]}}


def choices(rid, values):
    return {"id": rid, "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": values}}


def poly(rid, points, label="Roof"):
    return {"id": rid, "from_name": "poly", "to_name": "image", "type": "polygonlabels", "value": {"points": points, "polygonlabels": [label]}}


def textarea(rid, texts):
    return {"id": rid, "from_name": "answer", "to_name": "text", "type": "textarea", "value": {"text": texts}}


# reference §4.5 inputs
GT = [box("g1", 10, 10, 20, 20, "Car"), box("g2", 50, 50, 20, 20, "Person")]
PRED = [box("p1", 12, 10, 20, 20, "Car", 0.9), box("p2", 50, 50, 20, 20, "Car", 0.8), box("p3", 80, 0, 10, 10, "Person", 0.3)]
NER_GT = [span("g1", 0, 5, "Person"), span("g2", 10, 20, "Location")]
NER_PRED = [span("p1", 0, 5, "Person"), span("p2", 12, 20, "Location"), span("p3", 30, 35, "Date")]
IOU_G1_P1 = 360 / 440


def apply(a, b, name, **kw):
    return evalme_apply(a, b, get_evalme_metric(name), **kw)


# --- Example 1: bboxes ------------------------------------------------------------------------------


def test_iou_bboxes_iterates_the_predictions_and_is_not_symmetric():
    assert ev.iou_bboxes(GT, PRED) == pytest.approx(IOU_G1_P1 / 3, abs=EXACT)  # 0.272727
    assert ev.iou_bboxes(PRED, GT) == pytest.approx(IOU_G1_P1 / 2, abs=EXACT)  # 0.409091
    assert ev.iou_bboxes(GT, PRED, per_label=True) == pytest.approx({"Car": IOU_G1_P1 / 2, "Person": 0.0}, abs=EXACT)
    assert ev.iou_bboxes(GT, []) == ev.iou_bboxes([], PRED) == ev.iou_bboxes([], []) == 0.0
    assert ev.iou_bboxes(GT, GT) == 1.0


@pytest.mark.parametrize("args", [(GT, PRED), (PRED, GT)])
def test_all_pairs_precision_recall_f1_at_half(args):
    # TP = p1g1, FP = p2g2 (right place, wrong class), FN = p2g1 and p3g2 (same class, no overlap)
    assert ev.precision_bboxes(*args) == pytest.approx(0.5, abs=EXACT)
    assert ev.recall_bboxes(*args) == pytest.approx(1 / 3, abs=EXACT)
    assert ev.f1_bboxes(*args) == pytest.approx(0.4, abs=EXACT)


def test_all_pairs_at_09_and_per_label_recall_equals_precision():
    assert ev.precision_bboxes(GT, PRED, iou_threshold=0.9) == ev.recall_bboxes(GT, PRED, iou_threshold=0.9) == 0.0
    assert ev.f1_bboxes(GT, PRED, iou_threshold=0.9) == 0.0
    for f in (ev.precision_bboxes, ev.recall_bboxes, ev.f1_bboxes, ev.mAP_bboxes):
        # evalme's per-label recall divides by tp + fp (a bug): Car recall 1.0 although g1 also "misses" p2
        assert f(GT, PRED, per_label=True) == {"Car": 1.0, "Person": 0.0}


def test_map_bboxes_is_a_threshold_sweep_not_ap():
    assert ev.mAP_bboxes(GT, PRED) == pytest.approx(1 / 6, abs=EXACT)
    assert ev.mAP_bboxes(GT, PRED, iou_threshold=0.9) == pytest.approx(1 / 6, abs=EXACT)
    # scores are ignored: reversing them changes nothing
    rescored = [dict(p, score=1 - p["score"]) for p in PRED]
    assert ev.mAP_bboxes(GT, rescored) == ev.mAP_bboxes(GT, PRED)
    # at iou_threshold 0.2 the sweep is empty and only the appended (P=1, R=0) point remains
    assert ev.mAP_bboxes(GT, PRED, iou_threshold=0.2) == 0.0


def test_apply_bboxes_recorded_values():
    assert apply(GT, PRED, "iou_bboxes") == pytest.approx(IOU_G1_P1 / 3, abs=EXACT)  # min(0.2727, 0.4091)
    assert apply(GT, PRED, "iou_bboxes", per_label=True) == pytest.approx({"Car": IOU_G1_P1 / 2, "Person": 0.0}, abs=EXACT)
    assert apply(GT, PRED, "f1_bboxes") == pytest.approx(0.4, abs=EXACT)
    assert apply(GT, PRED, "f1_bboxes", iou_threshold=0.9) == 0.0
    assert apply(GT, PRED, "mAP_bboxes") == pytest.approx(1 / 6, abs=EXACT)
    assert apply(GT, PRED, "naive") == 0.0
    weights = {"label": {"overall": 1, "labels": {"Car": 3}}}
    # min(3·0.818/7 over the predictions, 3·0.818/4 over the GT)
    assert apply(GT, PRED, "iou_bboxes", control_weights=weights) == pytest.approx(0.350649, abs=RECORDED)
    assert apply(GT, PRED, "iou_bboxes", control_weights=weights) == pytest.approx(3 * IOU_G1_P1 / 7, abs=EXACT)


def test_apply_takes_the_symmetric_minimum():
    m = get_evalme_metric("iou_bboxes")
    one_way = evalme_apply(GT, PRED, m, symmetric=False)
    other_way = evalme_apply(PRED, GT, m, symmetric=False)
    # f(GT, PRED) iterates the 3 predictions, f(PRED, GT) the 2 GT boxes
    assert (one_way, other_way) == (pytest.approx(IOU_G1_P1 / 3), pytest.approx(IOU_G1_P1 / 2))
    assert evalme_apply(GT, PRED, m) == evalme_apply(PRED, GT, m) == min(one_way, other_way)


def test_empty_cases_apply_gives_one_where_the_function_gives_zero():
    for name in EVALME_METRICS:
        assert apply([], [], name) == 1.0
        assert apply([], [], name, per_label=True) == {}
    assert ev.iou_bboxes([], []) == 0.0 and ev.f1_bboxes([], []) == 0.0 and ev.naive([], []) == 0.0
    assert apply(GT, [], "iou_bboxes") == apply([], PRED, "f1_bboxes") == 0.0


def test_apply_skips_controls_of_another_type_and_scores_zero_when_none_is_left():
    sentiment = [choices("c1", ["Positive"])]
    assert apply(sentiment, sentiment, "iou_bboxes") == 0.0  # evalme: no control scored => 0
    # a choices control beside the boxes is skipped, not averaged in as 0
    assert apply(GT + sentiment, PRED + sentiment, "iou_bboxes") == pytest.approx(IOU_G1_P1 / 3, abs=EXACT)
    # naive (tag "all") scores both controls and averages them: boxes 0 (lengths differ), choices 1
    assert apply(GT + sentiment, PRED + sentiment, "naive") == 0.5
    # overall weight 0 drops a control; label weights can push a score past 1, which apply clips
    assert apply(GT + sentiment, PRED + sentiment, "naive", control_weights={"label": {"overall": 0}}) == 1.0
    heavy = {"sentiment": {"labels": {"Positive": 5}}}
    assert ev.exact_matching_choices(sentiment, sentiment, label_weights={"Positive": 5}) == 5.0
    assert apply(sentiment, sentiment, "exact_matching_choices", control_weights=heavy) == 1.0


def test_iou_threshold_zero_is_dropped_as_evalme_does():
    # 0 is falsy: evalme does not pass it, so f1_bboxes keeps its default 0.5
    assert apply(GT, PRED, "f1_bboxes", iou_threshold=0) == apply(GT, PRED, "f1_bboxes") == pytest.approx(0.4)


def test_rotation_is_ignored_by_evalme_box_iou():
    turned = [dict(g, value=dict(g["value"], rotation=45)) for g in GT]
    assert ev.iou_bboxes(turned, GT) == 1.0


# --- Example 2: NER spans ------------------------------------------------------------------------------


def test_intersection_text_tagging_recorded_values():
    assert ev.intersection_text_tagging(NER_GT, NER_PRED) == pytest.approx(0.6, abs=EXACT)  # preds 1, 0.8, 0
    assert ev.intersection_text_tagging(NER_PRED, NER_GT) == pytest.approx(0.9, abs=EXACT)  # GT 1, 0.8
    assert ev.intersection_text_tagging(NER_GT, NER_PRED, per_label=True) == pytest.approx({"Person": 1.0, "Location": 0.8, "Date": 0.0}, abs=EXACT)
    assert ev.intersection_text_tagging(NER_GT, NER_PRED, iou_threshold=0.5) == pytest.approx(2 / 3, abs=EXACT)
    # strict: 0.8 > 0.8 is false
    assert ev.intersection_text_tagging(NER_GT, NER_PRED, iou_threshold=0.8) == pytest.approx(1 / 3, abs=EXACT)
    assert apply(NER_GT, NER_PRED, "intersection_text_tagging") == pytest.approx(0.6, abs=EXACT)
    assert apply(NER_GT, NER_PRED, "intersection_text_tagging", iou_threshold=0.5) == pytest.approx(2 / 3, abs=EXACT)
    assert ev.naive(NER_GT, NER_PRED) == 0.0
    # the function itself: both empty 1, one empty 0
    assert ev.intersection_text_tagging([], []) == 1.0 and ev.intersection_text_tagging(NER_GT, []) == 0.0


def test_span_iou_reads_date_strings_and_offset_containers():
    day = {"id": "d", "from_name": "ts", "type": "timeserieslabels",
           "value": {"start": "2024-01-01 00:00:00", "end": "2024-01-03 00:00:00", "labels": ["Run"]}}  # fmt: skip
    half = {**day, "value": {**day["value"], "start": "2024-01-02 00:00:00"}}
    assert ev.intersection_text_tagging([day], [half]) == pytest.approx(0.5, abs=EXACT)
    para = {"id": "h", "from_name": "ner", "type": "labels", "value": {"start": "/p[1]", "end": "/p[1]", "startOffset": 0, "endOffset": 10, "labels": ["X"]}}
    other = {**para, "value": {**para["value"], "start": "/p[2]", "end": "/p[2]"}}
    assert ev.intersection_text_tagging([para], [para]) == 1.0
    assert ev.intersection_text_tagging([para], [other]) == 0.0


# --- Example 3: choices ----------------------------------------------------------------------------------


def test_exact_matching_choices_recorded_values():
    gt, same, diff = [choices("g1", ["Positive"])], [choices("p1", ["Positive"])], [choices("p2", ["Negative"])]
    multi, reordered, partial = [choices("g2", ["A", "B", "C"])], [choices("p3", ["C", "A", "B"])], [choices("p4", ["A", "B"])]
    assert ev.exact_matching_choices(gt, same) == 1.0 and ev.exact_matching_choices(gt, diff) == 0.0
    assert ev.exact_matching_choices(gt, diff, per_label=True) == {"Positive": 0.0}
    assert ev.exact_matching_choices(multi, reordered) == 1.0  # master sorts (PyPI 0.0.18 gives 0.0)
    assert ev.naive(multi, reordered) == 0.0  # naive compares the value dicts, list order included
    assert ev.exact_matching_choices(multi, partial) == 0.0 and apply(multi, partial, "exact_matching_choices") == 0.0
    assert ev.exact_matching_choices(gt, []) == 0.0 and ev.exact_matching_choices([], []) == 1.0


# --- Example 4: polygons, textareas --------------------------------------------------------------------------


def test_polygons_recorded_values():
    gt, pred = [poly("g1", [[0, 0], [10, 0], [10, 10], [0, 10]])], [poly("p1", [[5, 0], [15, 0], [15, 10], [5, 10]])]
    assert ev.iou_polygons(gt, pred) == pytest.approx(1 / 3, abs=EXACT)
    assert ev.f1_polygons(gt, pred) == 0.0
    assert ev.f1_polygons(gt, pred, iou_threshold=0.3) == 1.0
    bowtie = [poly("b", [[0, 0], [10, 10], [10, 0], [0, 10]])]  # repaired by make_valid into two triangles
    assert ev.iou_polygons(bowtie, bowtie) == 1.0


def test_match_textareas_recorded_values():
    assert ev.match_textareas([textarea("g", ["hello world"])], [textarea("p", ["hello word"])]) == pytest.approx(10 / 11, abs=EXACT)
    assert ev.match_textareas([textarea("g", ["a", "b"])], [textarea("p", ["a"])]) == 0.5
    assert ev.match_textareas([], []) == 0.0 and apply([], [], "match_textareas") == 1.0
    assert ev.match_textareas([textarea("g", ["a"])], [textarea("p", ["a"])], per_label=True) == {}


# --- differences from the default (one-to-one) metrics ------------------------------------------------------


def test_all_pairs_counting_differs_from_one_to_one_on_duplicates():
    gt = [box("g", 10, 10, 20, 20, "Car")]
    # the same box predicted twice, plus a Dog where the GT has nothing
    pred = [box("a", 10, 10, 20, 20, "Car", 0.9), box("b", 10, 10, 20, 20, "Car", 0.8), box("d", 70, 70, 10, 10, "Dog", 0.7)]
    # evalme: both duplicates are TPs, the Dog overlaps no GT so it is not even an FP
    assert apply(gt, pred, "f1_bboxes") == 1.0
    assert apply(gt, pred, "precision_bboxes") == 1.0
    # one-to-one (ml_test's default): TP 1, FP 2 (duplicate, Dog), FN 0 => F1 = 2·(1/3)·1 / (1/3 + 1) = 0.5
    standard = evaluate([task(1, gt, pred)], metric="f1", threshold=0.6)
    assert standard.tasks[0].score == pytest.approx(0.5)
    evalme = evaluate_evalme([task(1, gt, pred)], "f1_bboxes", 0.6)
    assert evalme.tasks[0].score == 1.0 and evalme.tasks[0].passed and not standard.tasks[0].passed


def test_reference_example_differs_from_standard_f1():
    # the reference hand-computes the standard evaluation of Example 1: TP 1, FP 2, FN 1 => F1 0.4
    standard = evaluate([task(1, GT, PRED)], metric="f1", threshold=0.5)
    assert standard.tasks[0].score == pytest.approx(0.4)
    # evalme reaches 0.4 too, but from TP 1, FP 1, FN 2; its precision is 0.5, the standard one 1/3
    assert apply(GT, PRED, "precision_bboxes") == 0.5
    assert evaluate([task(1, GT, PRED)], metric="precision", threshold=0.5).tasks[0].score == pytest.approx(1 / 3)


# --- the pipeline ---------------------------------------------------------------------------------------------


def test_matcher_two_task_export():
    tasks = [task(1, GT, PRED), task(2, GT[:1], GT[:1])]
    report = evaluate_evalme(tasks, "iou_bboxes", 0.5)
    assert [t.score for t in report.tasks] == pytest.approx([IOU_G1_P1 / 3, 1.0], abs=EXACT)
    assert report.score == pytest.approx(0.636364, abs=RECORDED)  # Matcher.get_iou_score
    assert [t.status for t in report.tasks] == ["failed", "passed"]
    assert report.tasks[0].reasons == ("evalme iou_bboxes 0.273 < 0.5",)
    naive = evaluate_evalme(tasks, "NAIVE", 0.5)
    assert [t.score for t in naive.tasks] == [0.0, 1.0] and naive.metric == "naive"


def test_evaluate_evalme_on_the_detection_example_round_trips():
    report = evaluate_evalme(EXAMPLES / "detection.json", "iou_bboxes", 0.5)
    assert report.metric == report.headline == "iou_bboxes" and report.params["compat"] == "evalme"
    scored = [t.score for t in report.tasks if t.score is not None]
    assert report.score == pytest.approx(sum(scored) / len(scored))
    assert report.skipped == 1 and report.passed + report.failed == len(scored)
    assert all(t.reasons[-1].startswith("evalme iou_bboxes ") for t in report.tasks if t.status == "failed")
    assert report.per_label and all(0 <= v["iou_bboxes"] <= 1 for v in report.per_label.values())
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again == report
    # tasks already loaded give the same report
    assert evaluate_evalme(load_tasks(EXAMPLES / "detection.json"), "iou_bboxes", 0.5).tasks == report.tasks


def test_no_prediction_fails_with_its_reason_and_skips_tasks_without_ground_truth():
    tasks = [task(1, GT, None), {"id": 2, "data": {}, "annotations": [], "predictions": []}, task(3, [], [])]
    report = evaluate_evalme(tasks, "f1_bboxes", 0.5)
    assert [(t.status, t.score) for t in report.tasks] == [("failed", None), ("skipped", None), ("passed", 1.0)]
    assert report.tasks[0].reasons == ("no prediction",)
    assert report.aggregate == {"f1_bboxes": 1.0, "unscored_tasks": 1}


def test_controls_option_and_a_task_without_the_metric_control():
    sentiment = [choices("c1", ["Positive"])]
    tasks = [task(1, GT + sentiment, PRED + sentiment), task(2, sentiment, sentiment)]
    report = evaluate_evalme(tasks, "iou_bboxes", 0.2)
    assert report.tasks[1].score == 0.0
    assert report.tasks[1].reasons[0] == "no rectanglelabels control scored in this task: evalme iou_bboxes scores 0"
    only = evaluate_evalme(tasks, "naive", 0.5, controls=["sentiment"])
    assert [t.score for t in only.tasks] == [1.0, 1.0]
    # the other controls get overall weight 0, as in evalme: a task without the chosen one scores 0
    boxes_only = evaluate_evalme(tasks, "naive", 0.5, controls=["label"])
    assert [t.score for t in boxes_only.tasks] == [0.0, 0.0] and boxes_only.tasks[1].controls == ()
    # results without a control (relations) are skipped: nothing scored is 0, not "both empty"
    relation = [{"type": "relation", "from_id": "g1", "to_id": "g2", "direction": "right"}]
    assert evaluate_evalme([task(3, relation, relation)], "naive", 0.5).tasks[0].score == 0.0
    with pytest.raises(UsageError, match="no control named 'nope'"):
        evaluate_evalme(tasks, "naive", 0.5, controls=["nope"])


def test_usage_errors_list_the_evalme_metrics():
    with pytest.raises(UsageError, match="evalme metrics: iou_bboxes, iou_polygons, .*match_textareas"):
        evaluate_evalme([task(1, GT, PRED)], "mAP", 0.5)
    with pytest.raises(UsageError, match="takes no iou threshold"):
        evaluate_evalme([task(1, GT, PRED)], "iou_bboxes", 0.5, iou=0.5)
    with pytest.raises(UsageError, match="threshold must be a number in"):
        evaluate_evalme([task(1, GT, PRED)], "iou_bboxes", 1.5)
    report = evaluate_evalme([task(1, GT, PRED)], "f1_bboxes", 0.5, iou=0)
    assert report.warnings and report.tasks[0].score == pytest.approx(0.4)


def test_bad_values_are_input_errors_naming_task_side_result_and_field():
    bad = [box("g9", 10, 10, "wide", 20, "Car")]
    with pytest.raises(InputError, match=r"task 7: ground truth: result 'g9': value\.width must be a finite number"):
        evaluate_evalme([task(7, bad, PRED)], "iou_bboxes", 0.5)
    no_labels = [{"id": "p9", "from_name": "ner", "type": "labels", "value": {"start": 0, "end": 1}}]
    with pytest.raises(InputError, match=r"task 8: prediction: result 'p9': value\.labels must be a list, missing"):
        evaluate_evalme([task(8, NER_GT, no_labels)], "intersection_text_tagging", 0.5)


def test_vectorised_box_iou_equals_evalme_scalar_formula():
    from ml_test.compat._values import bbox_iou, bbox_iou_matrix

    rng = __import__("random").Random(3)
    boxes = [{"x": rng.uniform(0, 90), "y": rng.uniform(0, 90), "width": rng.uniform(0, 30), "height": rng.uniform(0, 30)} for _ in range(25)]
    matrix = bbox_iou_matrix(boxes[:10], boxes[10:])
    assert matrix.shape == (10, 15)
    assert all(matrix[i, j] == bbox_iou(a, b) for i, a in enumerate(boxes[:10]) for j, b in enumerate(boxes[10:]))
