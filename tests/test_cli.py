"""The ml-test command: exit codes, reports, errors without tracebacks, workflow-command safety."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import rect, task
from ml_test.results import Report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def ml_test(*args, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "CI")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "ml_test", *map(str, args)], capture_output=True, text=True, env=full_env, cwd=cwd)


def write(tmp_path, tasks, name="tasks.json"):
    path = tmp_path / name
    path.write_text(json.dumps(tasks, indent=2))
    return path


def test_examples_run_with_the_expected_verdicts(tmp_path):
    out = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    r = ml_test(EXAMPLES / "detection.json", "--metric", "mAP", "--threshold", "0.5", "--json", out, "--junit", junit)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    data = json.loads(out.read_text())
    assert data["schema_version"] == "1"
    assert set(data["aggregate"]) == {"mAP", "mAP50", "mAP75", "mAP_small", "mAP_medium", "mAP_large",
                                      "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"}  # fmt: skip
    statuses = {t["id"]: t["status"] for t in data["tasks"]}
    assert statuses[101] == "passed" and statuses[103] == "failed" and statuses[108] == "skipped"
    assert all({"id", "score", "threshold", "passed"} <= set(t) for t in data["tasks"])
    assert Report.from_dict(data).to_dict() == data
    # the failing tasks come first, worst first, then the summary line
    lines = r.stdout.strip().splitlines()
    fails = [line for line in lines if line.startswith("FAIL")]
    assert fails[0].startswith("FAIL task 104") and lines[-1].endswith("5 passed, 2 failed, 1 skipped")
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "8" and suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert ml_test(EXAMPLES / "classification.json", "-m", "exact_match", "-t", "0.5").returncode == 1
    assert ml_test(EXAMPLES / "ner.json", "--metric", "f1", "--threshold", "0.0").returncode == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--threshold", "1.5"], "threshold must be in [0, 1], got 1.5"),
        (["--metric", "nope"], "unknown metric 'nope'; metrics for this data: mAP, mAP50"),
        (["--metric", "exact_match"], "metric exact_match applies to no control in the data"),
        (["--control", "missing"], "no control named 'missing'"),
        (["--iou", "0"], "iou must be in (0, 1]"),
        (["--image-size", "big"], "image size must look like WIDTHxHEIGHT"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_no_traceback(args, message):
    r = ml_test(EXAMPLES / "detection.json", *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_bad_input_names_file_line_column_task_and_field(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('[\n {"id": 1,\n  "annotations": [}\n]')
    r = ml_test(bad)
    assert r.returncode == 2 and "broken.json: invalid JSON at line 3 column 19" in r.stderr
    nan = write(tmp_path, [task(5, [rect(1, 1, 5, 5, "A")], [rect(float("nan"), 1, 5, 5, "A", 0.5)])], "nan.json")
    r = ml_test(nan)
    assert r.returncode == 2 and "task 5 (line 2): prediction: result" in r.stderr and "value.x must be finite" in r.stderr
    assert "Traceback" not in r.stderr
    assert ml_test(tmp_path / "absent.json").returncode == 2
    assert ml_test().returncode == 2


def test_all_passing_exits_0_and_verbose_lists_scores(tmp_path):
    path = write(tmp_path, [task(1, [rect(1, 1, 5, 5, "A")], [rect(1, 1, 5, 5, "A", 0.9)])])
    r = ml_test(path, "-m", "f1", "-t", "1", "-v")
    assert r.returncode == 0 and "PASS task 1" in r.stdout and "f1 1.000" in r.stdout
    assert ml_test(path, "--test_data", path, "-q").returncode == 0  # the blog's spelling still works


def test_untrusted_labels_cannot_issue_workflow_commands(tmp_path):
    evil = "::error::pwned%0A::set-output name=x::"
    path = write(tmp_path, [task(1, [rect(1, 1, 5, 5, evil)], [rect(50, 50, 5, 5, "##[group]x", 0.9)])])
    r = ml_test(path, "-m", "f1", env={"GITHUB_ACTIONS": "true"})
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    start, end = lines[0], lines[-1]
    assert start.startswith("::stop-commands::") and end == f"::{start.split('::')[2]}::"
    assert len(start.split("::")[2]) >= 32
    assert evil in r.stdout  # shown, but only between the stop and resume markers
    assert all(not line.startswith("::") for line in lines[1:-1])


def test_compat_evalme_runs_evalme_metrics_and_refuses_options_it_lacks(tmp_path):
    out = tmp_path / "evalme.json"
    r = ml_test(EXAMPLES / "detection.json", "--compat", "evalme", "-m", "iou_bboxes", "-t", "0.5", "--json", out)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    data = json.loads(out.read_text())
    assert data["metric"] == "iou_bboxes" and {t["id"] for t in data["tasks"] if t["status"] == "failed"} >= {103, 104}
    refused = ml_test(EXAMPLES / "detection.json", "--compat", "evalme", "-m", "iou_bboxes", "--labels", "Car")
    assert refused.returncode == 2 and "does not take labels" in refused.stderr
    assert ml_test(EXAMPLES / "detection.json", "--compat", "evalme", "-m", "mAP").returncode == 2
