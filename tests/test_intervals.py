"""1-D intervals: audio, time series (numbers and dates), paragraphs, hypertext (offsets and XPath), timelines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test import InputError, evaluate
from ml_test.geometry.intervals import PARAGRAPH_STRIDE, merge_ranges, parse_time, union_iou
from ml_test.regions import parse_result


def region(type_, value, label="X", rid=None, score=None, **extra):
    r = {"id": rid or f"{type_}-{json.dumps(value, sort_keys=True)}-{label}", "from_name": "lab", "to_name": "obj",
         "type": type_, "value": {**value, type_: [label]}, **extra}  # fmt: skip
    if score is not None:
        r["score"] = score
    return r


def one(gt, pred):
    return {"id": 1, "annotations": [{"result": list(gt)}], "predictions": [{"result": [dict(r, score=0.9) for r in pred]}]}


def iou(gt, pred):
    return evaluate([one([gt], [pred])], "iou", 0.0).tasks[0].score


def test_audio_labels_stay_spans_in_seconds():
    gt = {"id": "a", "from_name": "lab", "to_name": "audio", "type": "labels", "value": {"start": 1.5, "end": 3.5, "channel": 0, "labels": ["Speech"]}}
    pred = dict(gt, value=dict(gt["value"], end=2.5))
    assert iou(gt, pred) == pytest.approx(0.5)
    assert evaluate([one([gt], [pred])], "f1", 0.5).tasks[0].score == 0.0  # strict by default
    assert evaluate([one([gt], [pred])], "f1", 0.5, iou=0.5).tasks[0].score == 1.0


def test_timeseries_numbers_and_date_strings_compare_in_milliseconds():
    ms = region("timeserieslabels", {"start": 1602708145233, "end": 1602708375312, "instant": False})
    text = region("timeserieslabels", {"start": "2020-10-14T20:42:25.233Z", "end": "2020-10-14 20:46:15.312+00:00", "instant": False})
    assert iou(ms, text) == 1.0
    half = region("timeserieslabels", {"start": "2020-01-01T00:00:00", "end": "2020-01-01T00:00:10"})
    other = region("timeserieslabels", {"start": "2020-01-01T00:00:05", "end": "2020-01-01T00:00:15"})
    assert iou(half, other) == pytest.approx(5 / 15)
    numeric_strings = region("timeserieslabels", {"start": "10", "end": "20"})
    assert iou(numeric_strings, region("timeserieslabels", {"start": 10, "end": 20})) == 1.0
    with pytest.raises(InputError, match=r"result 'bad': value.start must be a number or an ISO 8601 date, got '14/10/2020'"):
        parse_result([region("timeserieslabels", {"start": "14/10/2020", "end": 1}, rid="bad")])


def test_instant_timeseries_regions_match_only_at_the_same_instant():
    a, b = (region("timeserieslabels", {"start": t, "end": t, "instant": True}) for t in (5, 6))
    assert iou(a, a) == 1.0 and iou(a, b) == 0.0


def para(p0, o0, p1, o1, **kw):
    return region("paragraphlabels", {"start": p0, "startOffset": o0, "end": p1, "endOffset": o1}, **kw)


def test_paragraph_indices_may_be_strings_and_offsets_count_inside_a_paragraph():
    assert iou(para("2", 0, "2", 10), para(2, 5, 2, 10)) == pytest.approx(0.5)
    assert iou(para("2", 0, "4", 134), para(2, 0, 4, 134)) == 1.0
    assert iou(para(1, 0, 1, 10), para(2, 0, 2, 10)) == 0.0  # same offsets, another paragraph
    # across paragraphs a paragraph counts as PARAGRAPH_STRIDE characters: 2..3 against 2..4 is about 1/2
    assert iou(para(2, 0, 4, 0), para(2, 0, 3, 0)) == pytest.approx(0.5)
    assert evaluate([one([para(2, 0, 4, 134)], [para(2, 0, 4, 130)])], "f1", 0.5, iou=0.99).tasks[0].score == 1.0
    with pytest.raises(InputError, match=r"value.start must be a paragraph index \(an integer >= 0\), got '1.5'"):
        parse_result([para("1.5", 0, 2, 0)])


def test_paragraphs_without_offsets_cover_whole_paragraphs():
    whole = region("paragraphlabels", {"start": 2, "end": 3})
    (r,) = parse_result([whole]).controls["lab"]
    assert (r.geometry.start, r.geometry.end) == (2 * PARAGRAPH_STRIDE, 4 * PARAGRAPH_STRIDE)


def test_real_paragraph_export_with_string_indices(corpus):
    task = json.loads((corpus / "ls-frontend/phrases/1.json").read_text())
    result = task["annotations"][0]["result"]
    (r,) = parse_result(result).controls["ner"]
    assert r.kind == "span" and r.geometry.shown == "paragraph 2:0 to 4:134"
    shorter = json.loads(json.dumps(result))
    shorter[0]["value"]["endOffset"] = 100
    report = evaluate([dict(task, predictions=[{"result": shorter}])], "f1", 1.0)
    assert report.tasks[0].reasons[0] == (
        "missed Important Stuff paragraph 2:0 to 4:134: closest prediction Important Stuff paragraph 2:0 to 4:100"
    )


TD3 = "/div[1]/table[1]/tbody[1]/tr[11]/td[3]/text()[1]"
TD5 = "/div[1]/table[1]/tbody[1]/tr[11]/td[5]/text()[1]"


def html(start, so, end, eo, type_="hypertextlabels", **value):
    return region(type_, {"start": start, "startOffset": so, "end": end, "endOffset": eo, **value})


def test_hypertext_global_offsets_win_over_xpath():
    a = html(TD3, 0, TD3, 7, globalOffsets={"start": 100, "end": 107})
    b = html(TD5, 0, TD5, 7, globalOffsets={"start": 103, "end": 107})
    assert iou(a, b) == pytest.approx(4 / 7)


def test_hypertext_xpath_overlaps_only_inside_one_node_and_crossing_spans_only_match_exactly():
    assert iou(html(TD3, 0, TD3, 7), html(TD3, 2, TD3, 7)) == pytest.approx(5 / 7)
    assert iou(html(TD3, 0, TD3, 7), html(TD5, 0, TD5, 7)) == 0.0  # the two "Michael" cells
    across = html(TD3, 2, TD5, 3)
    assert iou(across, html(TD3, 2, TD5, 3)) == 1.0
    assert iou(across, html(TD3, 2, TD5, 4)) == 0.0  # the limit: no partial overlap across nodes
    assert iou(across, html(TD3, 2, TD3, 7)) == 0.0
    with pytest.raises(InputError, match=r"value.start and value.end must be XPath strings \(or give value.globalOffsets\)"):
        parse_result([html(3, 0, None, 1)])


@pytest.mark.parametrize("path, type_", [("ls-frontend/html_document/1.json", "hypertextlabels"), ("ls-frontend-legacy/html_document/1.json", "htmllabels")])
def test_real_html_exports_modern_and_legacy(corpus, path, type_):
    task = json.loads((corpus / path).read_text())
    key = "annotations" if "annotations" in task else "completions"
    result = task[key][0]["result"]
    assert {r["type"] for r in result} == {type_}
    swapped = json.loads(json.dumps(result))
    michael = [r for r in swapped if r["value"]["text"] == "Michael"]
    michael[0]["value"]["start"] = michael[0]["value"]["end"] = "/div[1]/table[1]/tbody[1]/tr[12]/td[3]/text()[1]"
    report = evaluate([dict(task, predictions=[{"result": swapped}])], "recall", 1.0)
    assert report.tasks[0].score == pytest.approx(2 / 3)
    assert report.tasks[0].reasons[0].startswith("missed Person /div[1]/table[1]/tbody[1]/tr[11]/td[3]/text()[1][0:7]")


def timeline(*ranges, label="Car"):
    return region("timelinelabels", {"ranges": [{"start": a, "end": b} for a, b in ranges]}, label=label)


def test_timeline_frames_are_inclusive_and_several_ranges_form_one_region():
    assert iou(timeline((1, 10)), timeline((6, 10))) == pytest.approx(5 / 10)
    assert iou(timeline((5, 5)), timeline((5, 5))) == 1.0  # one frame
    assert iou(timeline((1, 10), (21, 30)), timeline((1, 10))) == pytest.approx(10 / 20)
    assert iou(timeline((1, 10), (21, 30)), timeline((21, 30), (1, 10))) == 1.0
    (r,) = parse_result([timeline((11, 20), (1, 10), (30, 31))]).controls["lab"]
    assert r.geometry.parts == ((1.0, 21.0), (30.0, 32.0)) and r.geometry.shown == "frames 1-20, 30-31"
    with pytest.raises(InputError, match=r"value.ranges\[0\].end is missing"):
        parse_result([region("timelinelabels", {"ranges": [{"start": 1}]})])


frame_ranges = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(frame_ranges, frame_ranges)
def test_timeline_iou_equals_the_frame_set_iou(a, b):
    frames = lambda rs: {f for s, e in rs for f in range(s, e + 1)}  # noqa: E731
    fa, fb = frames(a), frames(b)
    assert iou(timeline(*a), timeline(*b)) == pytest.approx(len(fa & fb) / len(fa | fb), abs=1e-12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.floats(0, 10)), min_size=1, max_size=5),
       st.lists(st.tuples(st.floats(0, 50), st.floats(0, 10)), min_size=1, max_size=5))  # fmt: skip
def test_union_iou_is_symmetric_bounded_and_one_on_itself(a, b):
    ra, rb = merge_ranges([(s, s + w) for s, w in a]), merge_ranges([(s, s + w) for s, w in b])
    v = union_iou(ra, rb)
    assert 0.0 <= v <= 1.0 + 1e-12 and v == pytest.approx(union_iou(rb, ra), abs=1e-12) and union_iou(ra, ra) == 1.0


def test_real_timeseries_and_timeline_exports(corpus):
    ts = json.loads((corpus / "ls-frontend/timeseries/1.json").read_text())
    result = ts["annotations"][0]["result"]
    report = evaluate([dict(ts, predictions=[{"result": result[:1]}])], "recall", 1.0)
    assert report.tasks[0].score == 0.5 and report.tasks[0].reasons == ("missed Other [1602708695229:1602708975281]",)
    payload = json.loads((corpus / "ls-ml-backend/test_timeline_labels_1.json").read_text())
    regions = parse_result(payload["annotation"]["result"]).controls["videoLabels"]
    assert [(r.labels, r.geometry[:2]) for r in regions] == [(("Car",), (1.0, 11.0)), (("croquet_ball",), (5.0, 16.0))]


@pytest.mark.parametrize(
    "text, seconds",
    [("1970-01-01T00:01:00", 60.0), ("1970-01-01T01:00:00+01:00", 0.0), ("1970-01-02", 86400.0),
     ("1970", 0.0), ("1970-02", 31 * 86400.0), ("00:01:30", 90.0), ("nope", None), ("2021-13", None)],
)  # fmt: skip
def test_parse_time(text, seconds):
    assert parse_time(text) == seconds
