"""The mask, keypoint and OCR examples under examples/: the CLI fails exactly the tasks each example is built to fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("example", "metric", "threshold", "failing"),
    [
        ("masks", "iou", 0.7, [503, 504]),  # an under-segmented dog; a missed cat
        ("masks", "dice", 0.8, [503, 504]),
        ("masks", "mAP50", 0.5, [503]),  # the missed cat costs one label of two: AP 0.5 passes
        ("keypoints", "pck", 0.9, [603, 604]),  # an eye on the ear; a profile with only the nose
        ("ocr", "text_similarity", 0.8, [703, 704]),  # a badly read handwritten note; a missed total line
        ("ocr", "cer", 0.1, [703, 704]),
    ],
)
def test_the_cli_fails_the_expected_tasks_of_each_example(tmp_path, example, metric, threshold, failing):
    out = tmp_path / "report.json"
    cmd = [sys.executable, "-m", "ml_test", f"examples/{example}.json", "--metric", metric, "--threshold", str(threshold), "--json", str(out)]
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    report = json.loads(out.read_text())
    assert sorted(t["id"] for t in report["tasks"] if t["status"] == "failed") == failing
    assert sorted(t["id"] for t in report["tasks"] if t["status"] == "passed")  # some tasks pass
    for tid in failing:
        assert f"FAIL task {tid} (examples/{example}.json:" in run.stdout
