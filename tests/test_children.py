"""Per-region children (OCR transcriptions, perRegion choices) scored through their parents' one-to-one matching."""

from __future__ import annotations

import pytest

from conftest import task
from ml_test import InputError, evaluate

SIZE = (800, 600)


def region(rid, geo, label, text=None, *, shape="rectangle", shape_name="bbox", choices=None, text_name="transcription"):
    """A split-format region (shape + labels) with optional perRegion textarea and choices children."""
    common = {"id": rid, "to_name": "image", "original_width": SIZE[0], "original_height": SIZE[1]}
    out = [dict(common, from_name=shape_name, type=shape, value=dict(geo)),
           dict(common, from_name="label", type="labels", value=dict(geo, labels=[label]))]  # fmt: skip
    if text is not None:
        out.append(dict(common, from_name=text_name, type="textarea", value=dict(geo, text=[text])))
    if choices is not None:
        out.append(dict(common, from_name="legible", type="choices", value=dict(geo, choices=choices)))
    return out


def box(x, y, w=30, h=5):
    return {"x": x, "y": y, "width": w, "height": h, "rotation": 0}


def ocr_task(tid=1):
    gt = region("g1", box(10, 10), "Text", "Hello world") + region("g2", box(10, 30), "Text", "Total 42")
    pred = region("p1", box(10.5, 10), "Text", "Hello wor1d") + region("p3", box(60, 60, 10), "Text", "noise")
    return task(tid, gt, pred)


def test_text_metrics_score_matched_transcriptions_and_unmatched_regions_worst():
    t = ocr_task()
    # units: (g1, p1) similarity 10/11, g2 missed (0), p3 extra (0)
    sim = evaluate([t], "text_similarity", 0.5)
    assert sim.params["controls"] == ["transcription"]
    assert sim.tasks[0].score == pytest.approx((10 / 11) / 3)
    assert sim.tasks[0].reasons == (
        "missed Text at x=10% y=30% 30×5% ('g2'): expected 'Total 42', no predicted region matches it",
        "extra Text at x=60% y=60% 10×5% ('p3') with 'noise': it matches no ground-truth region",
    )
    cer = evaluate([t], "cer", 0.5)
    assert cer.tasks[0].score == pytest.approx((1 / 11 + 1 + 1) / 3)  # unmatched regions: error 1
    # corpus rate: 1 edit + 8 deleted + 5 inserted over 11 + 8 reference characters
    assert cer.aggregate == {"cer": pytest.approx(14 / 19), "cer_mean": pytest.approx((1 / 11 + 2) / 3)}
    exact = evaluate([t], "exact_match", 1.0)
    assert exact.tasks[0].score == 0.0
    assert exact.tasks[0].reasons[0] == "Text at x=10% y=10% 30×5% ('g1'): expected 'Hello world', got 'Hello wor1d'"


def test_only_a_matched_parent_carries_its_text_iou_and_label_decide():
    gt = region("g1", box(10, 10), "Text", "abc")
    shifted = region("p1", box(25, 10), "Text", "abc")  # IoU 1/3 with g1
    assert evaluate([task(1, gt, shifted)], "exact_match", 1.0).tasks[0].score == 0.0  # missed + extra
    assert evaluate([task(1, gt, shifted)], "exact_match", 1.0, iou=0.3).tasks[0].score == 1.0
    relabelled = region("p1", box(10, 10), "Handwriting", "abc")
    assert evaluate([task(1, gt, relabelled)], "exact_match", 1.0).tasks[0].score == 0.0
    # --labels keeps the parents of those labels only
    both = gt + region("g2", box(10, 40), "Handwriting", "x")
    report = evaluate([task(1, both, gt)], "exact_match", 1.0, labels=["Text"])
    assert report.tasks[0].score == 1.0


def test_rectangle_and_polygon_parents_share_one_transcription_control():
    poly = {"points": [[50, 50], [70, 50], [70, 60], [50, 60]]}
    gt = region("g1", box(10, 10), "Text", "one") + region("g2", poly, "Text", "two", shape="polygon", shape_name="poly")
    pred = region("p1", box(10, 10), "Text", "one") + region("p2", poly, "Text", "tw", shape="polygon", shape_name="poly")
    report = evaluate([task(1, gt, pred)], "text_similarity", 0.9)
    assert report.tasks[0].score == pytest.approx((1 + 2 / 3) / 2)
    assert report.tasks[0].reasons == ("Text polygon at x=50% y=50% 20×10% (4 points) ('g2'): expected 'two', got 'tw'",)


def test_per_region_choices_are_exact_matched_and_empty_sides_are_perfect():
    gt = region("g1", box(10, 10), "Text", choices=["legible"]) + region("g2", box(10, 30), "Text", choices=["blurred"])
    pred = region("p1", box(10, 10), "Text", choices=["legible"]) + region("p2", box(10, 30), "Text", choices=["legible"])
    report = evaluate([task(1, gt, pred), task(2, region("g", box(1, 1), "Text"), [])], "exact_match", 1.0, controls=["legible"])
    assert [t.score for t in report.tasks] == [0.5, 1.0]  # task 2: no choices on either side
    assert report.aggregate == {"accuracy": 0.5}


def test_a_control_cannot_be_both_per_region_and_per_task():
    per_task = {"id": "t", "from_name": "transcription", "to_name": "image", "type": "textarea", "value": {"text": ["x"]}}
    gt = region("g1", box(10, 10), "Text", "abc")
    with pytest.raises(InputError, match=r"task 2: control 'transcription' holds both region_textarea and textarea regions"):
        evaluate([task(1, gt, gt), task(2, [per_task], [per_task])], "exact_match", 1.0)
    with pytest.raises(InputError, match=r"task 1: control 'transcription' holds both textarea and per-region \(region_textarea\)"):
        evaluate([task(2, [per_task], [per_task]), task(1, gt, gt)], "exact_match", 1.0)


def test_children_of_video_tracks_match_by_region_id():
    """Video tracks have no geometric matching for children: the same region id pairs them."""
    from ml_test import evaluate

    seq = [{"frame": 1, "enabled": True, "x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0},
           {"frame": 5, "enabled": False, "x": 12, "y": 10, "width": 20, "height": 20, "rotation": 0}]  # fmt: skip
    track = {"id": "t1", "from_name": "box", "to_name": "video", "type": "videorectangle",
             "value": {"framesCount": 10, "sequence": seq, "labels": ["Car"]}}  # fmt: skip

    def note(text):
        return {"id": "t1", "from_name": "note", "to_name": "video", "type": "textarea", "value": {"text": [text], "sequence": seq}}

    task = {"id": 1, "annotations": [{"result": [track, note("red car")]}], "predictions": [{"result": [track, note("red van")]}]}
    assert evaluate([task], "exact_match", 1.0, controls=["note"]).failed == 1
    task["predictions"][0]["result"][1] = note("red car")
    assert evaluate([task], "exact_match", 1.0, controls=["note"]).passed == 1
