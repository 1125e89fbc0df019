"""Per-task answers (textarea, taxonomy, number, rating, datetime, pairwise, ranker) through the engine."""

from __future__ import annotations

import json
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml_test import InputError, UsageError, evaluate
from ml_test.metrics.answer_scores import path_match, path_nodes
from ml_test.metrics.edit_distance import levenshtein, text_similarity
from ml_test.report import write_json

# test-only references (requirements-test.txt): jiwer for CER/WER, rapidfuzz for Levenshtein
try:
    import jiwer
except ImportError:  # pragma: no cover
    jiwer = None
try:
    from rapidfuzz.distance import Levenshtein as rapidfuzz_levenshtein
except ImportError:  # pragma: no cover
    rapidfuzz_levenshtein = None
needs_jiwer = pytest.mark.skipif(jiwer is None, reason="jiwer is not installed")


def answer(type_, value, name=None, rid=None):
    return {"id": rid or f"a-{type_}", "from_name": name or type_, "to_name": "text", "type": type_, "value": value}


def one(tid, gt, pred):
    """A task with these results as ground truth and prediction (None: no prediction result)."""
    return {"id": tid, "annotations": [{"result": list(gt)}], "predictions": [{"result": list(pred)}]}


def text(*entries):
    return answer("textarea", {"text": list(entries)})


def score(metric, gt, pred, threshold=0.5, *, anchor=None, **kw):
    """The first task's result; ``anchor`` adds a second task holding the control when neither side has it."""
    extra = [one(2, [anchor], [anchor])] if anchor else []
    return evaluate([one(1, gt, pred)] + extra, metric, threshold, **kw).tasks[0]


# --- textarea ---------------------------------------------------------------------------


def test_text_metrics_on_a_worked_example():
    gt, pred = [text("kitten")], [text("sitting")]  # 3 edits, reference 6 characters
    assert score("exact_match", gt, pred).score == 0.0
    assert score("text_similarity", gt, pred).score == pytest.approx(1 - 3 / 7)
    assert score("cer", gt, pred).score == pytest.approx(3 / 6)
    result = score("wer", [text("the cat sat")], [text("the cat sat down")])
    assert result.score == pytest.approx(1 / 3)


def test_error_rates_are_lower_is_better_and_the_report_shows_the_comparator():
    gt, pred = [text("hello world")], [text("hello word")]
    report = evaluate([one(1, gt, pred)], "cer", 0.1)
    assert report.passed == 1 and report.comparator == "<=" and not report.higher_is_better
    assert report.to_dict()["comparator"] == "<="
    failed = evaluate([one(1, gt, pred)], "cer", 0.05)
    assert failed.failed == 1
    assert failed.tasks[0].reasons == ("expected 'hello world', got 'hello word' (1 character edit)",)


def test_text_entries_join_with_newlines_and_empty_cases():
    assert score("exact_match", [text("Hello", "World")], [text("Hello\nWorld")]).score == 1.0
    # both empty: perfect; empty reference with text predicted: 1.0; nothing predicted: 1.0 (all deleted)
    assert score("cer", [text("")], [text("")]).score == 0.0
    assert score("cer", [text("")], [text("abc")]).score == 1.0
    assert score("cer", [text("abc")], []).score == 1.0
    assert score("text_similarity", [], [], anchor=text("x")).score == 1.0
    assert score("text_similarity", [text("abc")], []).score == 0.0


def test_error_rates_can_exceed_one_and_take_tolerances_above_one():
    result = score("cer", [text("ab")], [text("abcdef")], threshold=2.0)
    assert result.score == 2.0 and result.status == "passed"


@needs_jiwer
def test_dataset_cer_is_the_corpus_rate_and_matches_jiwer():
    refs = ["the cat sat on the mat", "a dog", "hello world again"]
    hyps = ["the cat sat on a mat", "the dog", "hello word"]
    tasks = [one(i, [text(r)], [text(h)]) for i, (r, h) in enumerate(zip(refs, hyps))]
    cer, wer = evaluate(tasks, "cer", 1.0), evaluate(tasks, "wer", 1.0)
    assert cer.score == pytest.approx(jiwer.cer(refs, hyps), abs=1e-12)
    assert wer.score == pytest.approx(jiwer.wer(refs, hyps), abs=1e-12)
    assert cer.aggregate["cer_mean"] == pytest.approx(sum(jiwer.cer(r, h) for r, h in zip(refs, hyps)) / 3)
    for t, r, h in zip(wer.tasks, refs, hyps):
        assert t.score == pytest.approx(jiwer.wer(r, h), abs=1e-12)


words = st.lists(st.sampled_from(["a", "b", "cat", "dog", "ab"]), min_size=1, max_size=12).map(" ".join)


@needs_jiwer
@settings(max_examples=150, deadline=None)
@given(words, st.lists(st.sampled_from(["a", "b", "cat", "dog", "ab"]), max_size=12).map(" ".join))
def test_task_cer_and_wer_equal_jiwer(ref, hyp):
    gt, pred = [text(ref)], [text(hyp)] if hyp else []
    assert score("cer", gt, pred, 5.0).score == pytest.approx(jiwer.cer(ref, hyp), abs=1e-12)
    assert score("wer", gt, pred, 5.0).score == pytest.approx(jiwer.wer(ref, hyp), abs=1e-12)


def test_labels_option_leaves_answers_whole():
    gt, pred = [text("abc")], [text("abd")]
    assert score("exact_match", gt, pred, 1.0, labels=["Car"]).score == 0.0


# --- taxonomy ---------------------------------------------------------------------------


def tax(*paths):
    return answer("taxonomy", {"taxonomy": [list(p) for p in paths]})


def test_taxonomy_exact_match_is_on_the_set_of_paths():
    assert score("exact_match", [tax(("A", "B"), ("C",))], [tax(("C",), ("A", "B"))]).score == 1.0
    assert score("exact_match", [tax(("A", "B"))], [tax(("A",))]).score == 0.0


@pytest.mark.parametrize(
    "gt, pred, expected",
    [
        ([("A", "B", "C")], [("A", "B", "D")], 2 / 3),  # equal lengths: shared prefix / length
        ([("A", "B")], [("A",)], 2 / 3),  # too general: 2 * 1 / (2 + 1)
        ([("A", "B")], [("A", "B", "C")], 4 / 5),  # too specific
        ([("A",)], [("B",)], 0.0),
        ([("A", "B")], [("A", "B"), ("A", "C")], 4 / 5),  # nodes {A, AB} vs {A, AB, AC}
        ([], [], 1.0),
        ([("A",)], [], 0.0),
    ],
)
def test_path_match_is_hierarchical_f1(gt, pred, expected):
    result = score("path_match", [tax(*gt)] if gt else [], [tax(*pred)] if pred else [], anchor=tax(("A",)))
    assert result.score == pytest.approx(expected)


paths = st.lists(st.lists(st.sampled_from("abc"), min_size=1, max_size=4).map(tuple), max_size=4)


@settings(max_examples=200, deadline=None)
@given(paths, paths)
def test_path_match_is_bounded_symmetric_and_one_only_when_equal(a, b):
    v = path_match(a, b)
    assert 0.0 <= v <= 1.0 and v == path_match(b, a) and path_match(a, a) == 1.0
    assert (v == 1.0) == (path_nodes(a) == path_nodes(b))


# --- numbers, ratings, datetimes -----------------------------------------------------------


def test_abs_error_tolerance_can_exceed_one_and_is_lower_is_better():
    gt, pred = [answer("number", {"number": 10})], [answer("number", {"number": 12.5})]
    assert score("abs_error", gt, pred, threshold=3).status == "passed"
    failed = score("abs_error", gt, pred, threshold=2)
    assert failed.score == 2.5 and failed.reasons == ("expected 10, got 12.5 (error 2.5)",)
    assert score("exact_match", gt, pred, 1.0).score == 0.0
    assert score("abs_error", [answer("rating", {"rating": 4})], [answer("rating", {"rating": 4})], 0).score == 0.0


def test_a_value_on_one_side_only_cannot_be_scored_and_fails(tmp_path):
    gt = [answer("number", {"number": 3})]
    report = evaluate([one(1, gt, []), one(2, gt, gt), one(3, [], [])], "abs_error", 100)
    missing, same, empty = report.tasks
    assert missing.status == "failed" and missing.score is None and missing.controls[0].score is None
    assert missing.reasons == ("expected 3, got nothing (no prediction: not scorable, the task fails)",)
    assert same.score == 0.0 and empty.score == 0.0 and same.passed and empty.passed
    assert report.aggregate == {"mae": 0.0, "max_abs_error": 0.0, "unscored_tasks": 1}
    write_json(report, tmp_path / "r.json")  # allow_nan=False: every score is finite or null
    assert json.loads((tmp_path / "r.json").read_text())["tasks"][0]["score"] is None


def test_thresholds_are_checked_per_metric():
    gt = [answer("number", {"number": 3})]
    with pytest.raises(UsageError, match=r"threshold must be >= 0, got -1 \(abs_error is an error"):
        evaluate([one(1, gt, gt)], "abs_error", -1)
    with pytest.raises(UsageError, match=r"threshold must be in \[0, 1\], got 2"):
        evaluate([one(1, gt, gt)], "exact_match", 2)
    with pytest.raises(UsageError, match="threshold must be >= 0"):
        evaluate([one(1, gt, gt)], "abs_error", float("inf"))


def dt(value):
    return answer("datetime", {"datetime": value})


def test_datetime_exact_compares_instants_and_abs_error_is_in_seconds():
    assert score("exact_match", [dt("1991-05-22T09:17")], [dt("1991-05-22T09:17:00+00:00")], 1.0).score == 1.0
    assert score("abs_error", [dt("1991-05-22T09:17")], [dt("1991-05-22T09:18:30")], 90).status == "passed"
    assert score("abs_error", [dt("2021")], [dt("2021-01-02")], 0).score == 86400.0
    assert score("abs_error", [dt("10:00")], [dt("10:00:05")], 0).score == 5.0
    # a format Label Studio's DateTime may use but that is not ISO: exact on the text, abs_error refuses
    assert score("exact_match", [dt("22/05/1991")], [dt("22/05/1991")], 1.0).score == 1.0
    with pytest.raises(InputError, match=r"ground truth: result 'a-datetime': value.datetime '22/05/1991' is not an ISO 8601"):
        score("abs_error", [dt("22/05/1991")], [dt("1991-05-22")])


def test_bad_answer_values_name_the_region_and_field():
    with pytest.raises(InputError, match=r"result 'a-number': value.number must be a number"):
        score("abs_error", [answer("number", {"number": "many"})], [])
    with pytest.raises(InputError, match=r"result 'a-textarea': value.text must be a list of strings, got int"):
        score("cer", [answer("textarea", {"text": 3})], [])
    with pytest.raises(InputError, match=r"value.taxonomy must be a list of paths"):
        score("path_match", [answer("taxonomy", {"taxonomy": "A"})], [])


# --- pairwise and ranker ------------------------------------------------------------------


def test_pairwise_exact_match():
    left, right = answer("pairwise", {"selected": "left"}), answer("pairwise", {"selected": "right"})
    assert score("exact_match", [left], [left], 1.0).score == 1.0
    assert score("exact_match", [left], [right], 1.0).reasons == ("expected left, got right",)


def rank(value):
    return answer("ranker", {"ranker": value})


def test_ranker_flat_and_bucket_values():
    flat = rank(["1234", "123", "12345"])
    assert score("exact_match", [flat], [flat], 1.0).score == 1.0
    assert score("ndcg", [flat], [rank(["123", "1234", "12345"])]).score < 1.0
    buckets = rank({"best": ["mdn"], "ads": ["blog"], "_": ["x"]})
    # the hidden "_" list of unranked items is ignored
    assert score("exact_match", [buckets], [rank({"ads": ["blog"], "best": ["mdn"]})], 1.0).score == 1.0
    # ndcg averages over the ground truth's lists: "best" right, "ads" empty in the prediction
    assert score("ndcg", [buckets], [rank({"best": ["mdn"], "ads": []})]).score == 0.5
    assert score("ndcg", [], [], anchor=flat).score == 1.0
    assert score("ndcg", [], [flat]).score == 0.0


@settings(max_examples=100, deadline=None)
@given(st.permutations(list("abcdefg")), st.permutations(list("abcdefg")))
def test_ndcg_equals_scikit_learn_on_full_rankings(gt, pred):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    n = len(gt)
    relevance = [[n - gt.index(item) for item in sorted(gt)]]  # graded by ground-truth rank
    predicted = [[n - pred.index(item) for item in sorted(gt)]]
    expected = sklearn_metrics.ndcg_score(relevance, predicted)
    assert score("ndcg", [rank({"r": list(gt)})], [rank({"r": list(pred)})]).score == pytest.approx(expected, abs=1e-12)


# --- edit distance kernel --------------------------------------------------------------------


def _dp(a, b):
    """Textbook O(n*m) Levenshtein, the reference for the bit-parallel kernel."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcé€😀 ", max_size=90), st.text(alphabet="abcé€😀 ", max_size=90))
def test_levenshtein_equals_dynamic_programming_and_rapidfuzz(a, b):
    d = levenshtein(a, b)
    assert d == _dp(a, b) == levenshtein(b, a)
    assert levenshtein(a.split(), b.split()) == _dp(a.split(), b.split())
    longest = max(len(a), len(b))
    assert text_similarity(a, b) == (1.0 if not longest else 1 - d / longest)
    if rapidfuzz_levenshtein is not None:
        assert d == rapidfuzz_levenshtein.distance(a, b)
        assert text_similarity(a, b) == pytest.approx(rapidfuzz_levenshtein.normalized_similarity(a, b), abs=1e-12)


def test_long_texts_are_fast():
    rng = random.Random(0)
    a = "".join(rng.choice("abcdefgh ") for _ in range(5000))
    b = "".join(c if rng.random() > 0.1 else "z" for c in a)
    start = time.perf_counter()
    assert levenshtein(a, b) == sum(x != y for x, y in zip(a, b))  # substitutions only: the Hamming distance
    assert time.perf_counter() - start < 0.5


# --- real exports ---------------------------------------------------------------------------


def test_real_answer_controls_against_a_changed_prediction(corpus):
    task = json.loads((corpus / "ls-frontend/classification_mixed/1.json").read_text())
    gt = task["annotations"][0]["result"]
    pred = json.loads(json.dumps(gt))
    for r in pred:
        if r["type"] == "number":
            r["value"]["number"] = 5
        if r["type"] == "textarea":
            r["value"]["text"] = ["Hello", "Word"]
        if r["type"] == "taxonomy":
            r["value"]["taxonomy"] = [["Choice 2"]]
    t = dict(task, predictions=[{"result": pred}])
    assert evaluate([t], "abs_error", 3, controls=["num"]).tasks[0].score == 3.0
    assert evaluate([t], "cer", 1, controls=["txt"]).tasks[0].score == pytest.approx(1 / 11)
    assert evaluate([t], "path_match", 1).tasks[0].score == pytest.approx(2 / 3)
    assert evaluate([t], "exact_match", 1, controls=["dt"]).tasks[0].score == 1.0
    shared_ids = json.loads((corpus / "dagshub-client/audio_annotation.json").read_text())
    shared_ids["predictions"] = [{"result": shared_ids["annotations"][0]["result"]}]
    # one region id shared by four results of four controls: each control keeps its own answer
    report = evaluate([shared_ids], "exact_match", 1.0)
    assert {c.control for c in report.tasks[0].controls} >= {"difficulty", "email_address", "last_name", "first_name"}
    assert report.passed == 1


def test_several_numeric_controls_combine_means_maxima_and_counts():
    gt = [answer("number", {"number": 1}, "a"), answer("number", {"number": 1}, "b")]
    tasks = [one(1, gt, [answer("number", {"number": 4}, "a"), answer("number", {"number": 1}, "b")]),
             one(2, gt, [answer("number", {"number": 1}, "a")])]  # fmt: skip
    report = evaluate(tasks, "abs_error", 1)
    assert report.controls["a"] == {"mae": 1.5, "max_abs_error": 3.0, "unscored_tasks": 0}
    assert report.controls["b"] == {"mae": 0.0, "max_abs_error": 0.0, "unscored_tasks": 1}
    assert report.aggregate == {"mae": 0.75, "max_abs_error": 3.0, "unscored_tasks": 1}
    assert [t.score for t in report.tasks] == [3.0, None]  # the worst control: the largest error, or none
