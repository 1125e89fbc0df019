"""Build the action's image and run it the way the runner does; skipped when no Docker engine answers.

The runner runs ``docker run --workdir /github/workspace`` with the checkout mounted at
``/github/workspace``, the file-command folder at ``/github/file_commands``, ``/github/home`` and
``/github/workflow``, every ``INPUT_*`` variable (hyphens kept) and the ``GITHUB_*`` paths
translated to those mounts. This test never starts an engine.

The base image: ``ML_TEST_DOCKER_BASE`` when set, else the Dockerfile's default when it is
present locally, else a local ``python:3.12-slim`` (the tag ``docker-standin.sh`` builds offline),
else the default, pulled.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from test_github import parse_output_file, scan_log

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "label-studio-ml-test-action:test"
DEFAULT_BASE = "python:3.12-slim-bookworm"


def _docker_works() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _docker_works(), reason="no Docker engine answers `docker info`")


def _have(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def image() -> str:
    base = os.environ.get("ML_TEST_DOCKER_BASE") or next(
        (b for b in (DEFAULT_BASE, "python:3.12-slim") if _have(b)), DEFAULT_BASE
    )
    proc = subprocess.run(
        ["docker", "build", "--network", "host", "--build-arg", f"PYTHON_IMAGE={base}", "-t", IMAGE, str(ROOT)],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return IMAGE


def run_container(tmp_path: Path, image: str, inputs: dict[str, str], owner: tuple[int, int] | None = None):
    """Run the image as the runner would; return (exit code, log, outputs, summary, workspace, seconds)."""
    workspace, files, home, workflow = (tmp_path / d for d in ("workspace", "file_commands", "home", "workflow"))
    for d in (workspace, files, home, workflow):
        d.mkdir(parents=True)
    shutil.copytree(ROOT / "examples", workspace / "examples")
    if owner:
        for path in [workspace, *workspace.rglob("*")]:
            os.chown(path, *owner)
    (files / "set_output_abc").write_text("")
    (files / "step_summary_abc").write_text("")
    (workflow / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}))
    env = {
        "GITHUB_ACTIONS": "true", "CI": "true", "HOME": "/github/home",
        "GITHUB_WORKSPACE": "/github/workspace", "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_OUTPUT": "/github/file_commands/set_output_abc",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary_abc",
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
    }  # fmt: skip
    args = ["docker", "run", "--rm", "--workdir", "/github/workspace", "--network", "none"]
    for host, inside in (
        (workspace, "/github/workspace"),
        (files, "/github/file_commands"),
        (home, "/github/home"),
        (workflow, "/github/workflow"),
    ):
        args += ["-v", f"{host}:{inside}"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    start = time.perf_counter()
    proc = subprocess.run([*args, image], capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    outputs = parse_output_file((files / "set_output_abc").read_text())
    return (
        proc.returncode,
        proc.stdout + proc.stderr,
        outputs,
        (files / "step_summary_abc").read_text(),
        workspace,
        seconds,
    )


def test_failing_tasks_in_the_container(tmp_path, image):
    code, log, outputs, summary, workspace, seconds = run_container(
        tmp_path,
        image,
        {"test-data": "examples/detection.json", "metric": "mAP", "threshold": "0.5", "report": "out/report.json"},
        owner=(1234, 1234),
    )
    assert code == 1, log
    assert outputs["passed"] == "false" and outputs["failed"] == "2" and outputs["total"] == "8"
    assert outputs["report-path"] == "out/report.json"
    assert summary.startswith("## ❌ ML unit tests: 2 of 7 tasks failed")
    commands, legacy = scan_log(log)
    assert legacy == [] and [(c[1]["file"], c[1]["line"]) for c in commands if c[0] == "error"] == [
        ("examples/detection.json", "503"),
        ("examples/detection.json", "405"),
    ]
    report = workspace / "out" / "report.json"
    assert json.loads(report.read_text())["counts"]["failed"] == 2
    assert (os.stat(report).st_uid, os.stat(report.parent).st_uid) == (1234, 1234)  # not root-owned in the checkout
    assert seconds < 60


def test_passing_and_input_error_in_the_container(tmp_path, image):
    code, log, outputs, summary, _, _ = run_container(
        tmp_path / "ok", image, {"test-data": "examples/ner.json", "m": "f1", "threshold": "0"}
    )
    assert code == 0, log
    assert outputs["passed"] == "true" and summary.startswith("## ✅")
    code, log, outputs, summary, _, _ = run_container(tmp_path / "bad", image, {"test-data": "examples/missing.json"})
    assert code == 2 and outputs == {"passed": "false"}
    assert "input `test-data`: no file 'examples/missing.json'" in log and summary.startswith("## ⛔")
