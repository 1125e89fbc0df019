"""The pytest plugin, run through pytester as users run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import task
from ml_test import assert_prediction

ROOT = Path(__file__).resolve().parents[1]


def span(start, end, label, score=None):
    r = {"id": f"s{start}", "from_name": "ner", "to_name": "text", "type": "labels",
         "value": {"start": start, "end": end, "labels": [label]}}  # fmt: skip
    if score is not None:
        r["score"] = score
    return r


def ner_tasks():
    good = task(1, [span(0, 4, "PER")], [span(0, 4, "PER", 0.9)], data={"text": "Anna", "tags": ["night", "city center"]})
    bad = task(2, [span(0, 4, "PER"), span(9, 15, "LOC")], [span(9, 15, "ORG", 0.8)], data={"text": "x"})
    known = task(3, [span(0, 3, "ORG")], [], data={"xfail": "tokenizer bug #12"})
    known["predictions"] = [{"result": []}]
    nogt = {"id": 4, "data": {}, "annotations": [], "predictions": [{"result": []}]}
    return [good, bad, known, nogt]


def write(path: Path, tasks) -> Path:
    path.write_text(json.dumps(tasks, indent=2))
    return path


def test_seed_flow_in_a_clone_runs_the_data_not_the_repository_suite(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    shutil.copy(ROOT / "conftest.py", pytester.path / "conftest.py")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_own.py").write_text("def test_repository_suite():\n    assert False\n")
    shutil.copy(ROOT / "examples" / "detection.json", pytester.path / "test_tasks.json")
    result = pytester.runpytest("--test-data", "test_tasks.json")
    result.assert_outcomes(passed=5, failed=2, skipped=1)
    assert "test_repository_suite" not in result.stdout.str()
    pytester.runpytest().assert_outcomes(failed=1)  # without test data the repository's own suite runs


def test_in_a_user_project_data_tests_join_the_others_even_outside_rootdir(pytester, tmp_path_factory):
    pytester.makepyfile(test_model="def test_loads():\n    assert True\n")
    elsewhere = write(tmp_path_factory.mktemp("exports") / "tasks.json", ner_tasks())
    result = pytester.runpytest("--test-data", str(elsewhere), "--metric", "f1", "-v")
    result.assert_outcomes(passed=2, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*test_model.py::test_loads PASSED*", "*tasks.json::task-1 PASSED (f1 1.000)*"])


def test_failure_reads_like_a_unit_test_failure(pytester):
    data = write(pytester.path / "tasks.json", ner_tasks())
    result = pytester.runpytest("--test-data", str(data), "--metric", "f1")
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*_ task 2 _*",
        "task 2 failed: f1 0.000, needs >= 0.5",
        "  - missed PER [0:4]",
        "  - LOC [9:15] predicted as ORG (IoU 1.00)",
    ])  # fmt: skip
    assert "Traceback" not in out and "def runtest" not in out and "raise TaskFailed" not in out
    result.stdout.fnmatch_lines(["*label-studio-ml-test*", "tasks: 1 passed, 1 failed, 1 skipped, 1 xfailed (pass rate 50.0%)",
                                 "tasks.json: f1 * (task threshold >= 0.5); precision_micro *"])  # fmt: skip
    full = pytester.runpytest("--test-data", str(data), "--metric", "f1", "--ml-test-traceback")
    assert "raise TaskFailed" in full.stdout.str()


def test_tags_become_markers_and_xfail_comes_from_the_task(pytester):
    data = write(pytester.path / "tasks.json", ner_tasks())
    night = pytester.runpytest("--test-data", str(data), "--metric", "f1", "-m", "night", "--strict-markers")
    night.assert_outcomes(passed=1, deselected=3)
    spaced = pytester.runpytest("--test-data", str(data), "--metric", "f1", "-m", "city_center")
    spaced.assert_outcomes(passed=1, deselected=3)
    xfail = pytester.runpytest("--test-data", str(data), "--metric", "f1", "-k", "task-3", "-rx")
    xfail.assert_outcomes(xfailed=1, deselected=3)
    xfail.stdout.fnmatch_lines(["*tokenizer bug #12*"])


def test_junit_properties_and_xdist_give_the_same_verdicts(pytester):
    data = write(pytester.path / "tasks.json", ner_tasks())
    serial = pytester.runpytest_subprocess("--test-data", str(data), "--metric", "f1", "--junitxml=serial.xml")
    parallel = pytester.runpytest_subprocess("--test-data", str(data), "--metric", "f1", "-n", "2", "--junitxml=par.xml")
    serial.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1)
    parallel.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1)

    def cases(name):
        root = ET.parse(pytester.path / name).getroot()
        return {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in root.iter("testcase")}

    assert cases("serial.xml") == cases("par.xml")
    assert cases("serial.xml")["task-1"] == {"metric": "f1", "score": "1.0", "threshold": "0.5"}
    assert cases("serial.xml")["task-2"]["score"] == "0.0"


def test_ini_keys_set_defaults(pytester):
    write(pytester.path / "tasks.json", ner_tasks())
    pytester.makeini("[pytest]\nml_test_data = tasks.json\nml_test_metric = recall\nml_test_threshold = 0.4\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*task-1 PASSED (recall 1.000)*"])


def test_an_invalid_file_is_one_clear_collection_error(pytester):
    bad = pytester.path / "tasks.json"
    bad.write_text('[{"id": 1, "annotations": [}]')
    result = pytester.runpytest("--test-data", str(bad))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*label-studio-ml-test: *tasks.json: invalid JSON at line 1 column 28*"])
    assert "Traceback" not in result.stdout.str()


def test_plugin_and_cli_give_the_same_verdicts(pytester):
    data = ROOT / "examples" / "detection.json"
    report = pytester.path / "report.json"
    subprocess.run([sys.executable, "-m", "ml_test", str(data), "--json", str(report)], check=False)
    cli = {f"task-{t['id']}": t["status"] for t in json.loads(report.read_text())["tasks"]}
    pytester.runpytest("--test-data", str(data), "--junitxml=j.xml")
    root = ET.parse(pytester.path / "j.xml").getroot()
    status = lambda c: "failed" if c.find("failure") is not None else ("skipped" if c.find("skipped") is not None else "passed")  # noqa: E731
    assert {c.get("name"): status(c) for c in root.iter("testcase")} == cli


@pytest.mark.parametrize("tid", [1, 2])
def test_assert_prediction_explains_like_the_plugin(tid):
    t = ner_tasks()[tid - 1]
    prediction = t.pop("predictions")
    if tid == 1:
        assert assert_prediction(t, prediction, metric="f1", threshold=0.5).score == 1.0
    else:
        with pytest.raises(AssertionError) as e:
            assert_prediction(t, prediction[0]["result"], metric="f1", threshold=0.5)
        assert str(e.value).splitlines()[:2] == ["task 2 failed: f1 0.000, needs >= 0.5", "  - missed PER [0:4]"]


def test_items_point_at_the_task_line(pytester):
    data = write(pytester.path / "tasks.json", ner_tasks())
    items, _ = pytester.inline_genitems("--test-data", str(data), "--metric", "f1")
    lines = data.read_text().splitlines()
    assert [i.name for i in items] == ["task-1", "task-2", "task-3", "task-4"]
    for item in items:
        path, line, title = item.location
        assert path == "tasks.json" and title == f"task {item.name[5:]}"
        assert lines[line].strip() == "{" and f'"id": {item.name[5:]}' in lines[line + 1]
