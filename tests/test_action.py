"""entrypoint.py run as the runner runs it: a subprocess with hyphenated INPUT_* variables, a temporary
workspace as the working directory, and temporary GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files.

Golden files live in tests/data/action/<case>/; regenerate them with
``ML_TEST_REGENERATE=1 python -m pytest tests/test_action.py``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import rect, task
from ml_test import Report, evaluate
from ml_test.action.settings import DEFAULTS, INPUTS
from ml_test.explain import explain
from ml_test.github import SUMMARY_LIMIT_BYTES, Runner
from test_github import parse_output_file, scan_log

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint.py"
GOLDEN = Path(__file__).parent / "data" / "action"
OUTPUTS = {"passed", "total", "failed", "skipped", "pass-rate", "score", "report-path"}
REGENERATE = os.environ.get("ML_TEST_REGENERATE") == "1"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path

    @property
    def commands(self):
        commands, legacy = scan_log(self.stdout + self.stderr)
        assert legacy == [], f"the runner would act on these lines: {legacy}"
        return commands

    def annotations(self, level):
        return [c for c in self.commands if c[0] == level]


def runner_env(workspace: Path, files: Path, inputs: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment the runner gives a Docker action: every declared input present, defaults filled in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(files / "set_output_1"),
        "GITHUB_STEP_SUMMARY": str(files / "step_summary_1"),
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing listens: no test may reach GitHub
        "GITHUB_RUN_ID": "1234",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_JOB": "test",
    }
    for name in INPUTS:
        env["INPUT_" + name.upper()] = inputs.get(name, DEFAULTS.get(name, ""))
    env.update(extra)
    return env


def run_action(
    tmp_path: Path,
    inputs: dict[str, str],
    data: dict[str, object] | None = None,
    summary_prefill: bytes = b"",
    **extra: str,
) -> Run:
    """Lay out a workspace with ``data`` (name -> tasks list or source path), run entrypoint.py in it."""
    workspace, files = tmp_path / "workspace", tmp_path / "file_commands"
    workspace.mkdir(parents=True, exist_ok=True)
    files.mkdir(parents=True, exist_ok=True)
    for name, content in (data or {}).items():
        target = workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    (files / "set_output_1").write_text("")
    (files / "step_summary_1").write_bytes(summary_prefill)
    env = runner_env(workspace, files, inputs, **extra)
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT)], env=env, cwd=workspace, capture_output=True, text=True, timeout=120
    )
    return Run(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        parse_output_file((files / "set_output_1").read_text()),
        (files / "step_summary_1").read_text(encoding="utf-8"),
        workspace,
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; regenerate with ML_TEST_REGENERATE=1 if that is intended"
    )


# --- the verdicts ---------------------------------------------------------------------------------------


def test_failing_tasks_exit_1_with_summary_outputs_and_annotations(tmp_path):
    run = run_action(
        tmp_path,
        {"test-data": "examples/detection.json"},
        {"examples/detection.json": ROOT / "examples" / "detection.json"},
    )
    expected = evaluate(ROOT / "examples" / "detection.json", "mAP", 0.5)
    assert run.returncode == 1, run.stderr
    assert run.stderr == ""
    assert run.outputs == {
        "passed": "false",
        "total": str(expected.total),
        "failed": str(expected.failed),
        "skipped": str(expected.skipped),
        "pass-rate": repr(expected.pass_rate),
        "score": repr(expected.score),
        "report-path": "",
    }
    errors = run.annotations("error")
    failing = expected.failing()
    assert [(e[1]["file"], int(e[1]["line"])) for e in errors] == [("examples/detection.json", t.line) for t in failing]
    assert [e[2] for e in errors] == [explain(t, "mAP", ">=") for t in failing]
    assert errors[0][1]["title"] == f"ML unit tests: task {failing[0].name} failed"
    (notice,) = run.annotations("notice")
    assert "5 passed, 2 failed, 1 skipped" in notice[2]
    assert {c[0] for c in run.commands} == {"stop-commands", "error", "notice"}
    # the human-readable log sits inside a stop-commands block, before the annotations
    assert run.stdout.startswith("::stop-commands::") and "FAIL task 104 (examples/detection.json:503)" in run.stdout
    check_golden("detection/summary.md", run.summary)
    check_golden(
        "detection/annotations.txt",
        "\n".join(line for line in run.stdout.splitlines() if line.startswith(("::error", "::notice"))) + "\n",
    )
    assert sorted(p.name for p in run.workspace.rglob("*")) == [
        "detection.json",
        "examples",
    ]  # nothing written into the checkout


def test_all_passing_exits_0(tmp_path):
    run = run_action(
        tmp_path,
        {"test-data": "data/ner.json", "m": "f1", "threshold": "0"},
        {"data/ner.json": ROOT / "examples" / "ner.json"},
    )
    assert run.returncode == 0, run.stdout
    assert run.outputs["passed"] == "true" and run.outputs["failed"] == "0"
    assert run.annotations("error") == [] and len(run.annotations("notice")) == 1
    assert run.summary.startswith("## ✅ ML unit tests: all 5 tasks passed")
    assert "metric **f1**" in run.summary


def test_fail_on_none_exits_0_but_reports_the_failure(tmp_path):
    run = run_action(
        tmp_path,
        {"test_data": "c.json", "metric": "exact_match", "fail-on": "none"},
        {"c.json": ROOT / "examples" / "classification.json"},
    )
    assert run.returncode == 0
    assert run.outputs["passed"] == "false" and run.outputs["failed"] == "2"
    assert len(run.annotations("error")) == 2
    assert "not failing the job" in run.summary


def test_report_input_writes_the_json_report(tmp_path):
    run = run_action(
        tmp_path,
        {"test-data": "examples/detection.json", "report": "out/ml-test/report.json"},
        {"examples/detection.json": ROOT / "examples" / "detection.json"},
    )
    assert run.returncode == 1
    assert run.outputs["report-path"] == "out/ml-test/report.json"
    report = Report.from_dict(json.loads((run.workspace / "out" / "ml-test" / "report.json").read_text()))
    assert report.source == "examples/detection.json" and report.failed == 2
    stat = os.stat(run.workspace)
    assert os.stat(run.workspace / "out" / "ml-test" / "report.json").st_uid == stat.st_uid


def test_label_studio_links_in_the_summary(tmp_path):
    run = run_action(
        tmp_path,
        {"test-data": "d.json", "label-studio-url": "https://ls.example.com/projects/12"},
        {"d.json": ROOT / "examples" / "detection.json"},
    )
    assert "| [104](https://ls.example.com/projects/12/data?task=104) | 503 |" in run.summary


# --- input errors: exit 2 with an ::error saying what to fix -------------------------------------------


@pytest.mark.parametrize(
    "inputs, files, message",
    [
        ({}, {}, "input `test-data` is required"),
        ({"test-data": "nope.json"}, {}, "input `test-data`: no file 'nope.json'"),
        (
            {"test-data": "d.json", "threshold": "high"},
            {"d.json": "[]"},
            "input `threshold` must be a number, got 'high'",
        ),
        (
            {"test-data": "d.json", "threshold": "1.5"},
            {"d.json": ROOT / "examples" / "detection.json"},
            "threshold must be in [0, 1], got 1.5",
        ),
        (
            {"test-data": "d.json", "metric": "nope"},
            {"d.json": ROOT / "examples" / "detection.json"},
            "unknown metric 'nope'",
        ),
        ({"test-data": "d.json"}, {"d.json": '[\n {"id": 1,\n  "annotations": [}\n]'}, "invalid JSON at line 3"),
        (
            {"test-data": "d.json", "report": "d.json/r.json"},
            {"d.json": ROOT / "examples" / "detection.json"},
            "input `report`: cannot write d.json/r.json",
        ),
    ],
)
def test_input_errors_exit_2_with_one_error_saying_what_to_fix(tmp_path, inputs, files, message):
    run = run_action(tmp_path, inputs, files)
    assert run.returncode == 2, run.stdout + run.stderr
    (error,) = run.annotations("error")
    assert message in error[2] and error[1]["title"] == "ML unit tests: input error"
    assert run.outputs == {"passed": "false"}
    assert run.summary.startswith("## ⛔ ML unit tests could not run")
    assert "Traceback" not in run.stdout + run.stderr


# --- limits -------------------------------------------------------------------------------------------------


def many_failing(n: int, label: str = "Car") -> list[dict]:
    return [task(i, [rect(10, 10, 20, 20, label)], [rect(60, 60, 5, 5, label, 0.9)]) for i in range(1, n + 1)]


@pytest.mark.parametrize("max_annotations, shown", [("10", 10), ("3", 3), ("0", 0), ("50", 10)])
def test_annotations_are_capped(tmp_path, max_annotations, shown):
    run = run_action(
        tmp_path, {"test-data": "d.json", "max-annotations": max_annotations}, {"d.json": many_failing(15)}
    )
    assert run.returncode == 1
    errors = run.annotations("error")
    assert len(errors) == shown
    lines = [int(e[1]["line"]) for e in errors]
    assert lines == sorted(lines) and len(set(lines)) == shown  # equal scores: file order, each at its own task
    (notice,) = run.annotations("notice")
    assert f"{15 - shown} more failing tasks are listed in the job summary" in notice[2] if shown < 15 else True


def test_summary_never_exceeds_one_mebibyte(tmp_path):
    label = "L" * 250
    tasks = [
        task(i, [rect(5 + 10 * k, 10, 5, 5, label) for k in range(6)], [rect(80, 80, 5, 5, label, 0.9)])
        for i in range(1, 801)
    ]
    run = run_action(tmp_path, {"test-data": "big.json", "report": "report.json"}, {"big.json": json.dumps(tasks)})
    assert run.returncode == 1 and run.outputs["failed"] == "800"
    size = len(run.summary.encode("utf-8"))
    assert 900_000 < size <= SUMMARY_LIMIT_BYTES
    assert "more failing tasks not listed; Every task is in the JSON report `report.json`" in run.summary
    # something else already wrote to this step's summary: the hard cap cuts ours and says so
    again = run_action(
        tmp_path / "again",
        {"test-data": "big.json"},
        {"big.json": json.dumps(tasks)},
        summary_prefill=b"x" * 300_000 + b"\n",
    )
    size = len(again.summary.encode("utf-8"))
    assert SUMMARY_LIMIT_BYTES - 5_000 < size <= SUMMARY_LIMIT_BYTES
    assert "cut to fit GitHub's 1 MiB limit" in again.summary and "Set the `report` input" in again.summary


# --- untrusted text ---------------------------------------------------------------------------------------

HOSTILE = [
    "::error::x",
    "%0A::set-output name=x::",
    "##[group]",
    "a\n::warning file=x::fake",
    "::stop-commands::abc",
    "50%, a:b",
]


def test_hostile_labels_ids_and_file_names_come_out_escaped(tmp_path):
    tasks = [task(f"{label} id", [rect(10, 10, 20, 20, label)], []) for label in HOSTILE]
    tasks.append(task("ok", [rect(10, 10, 20, 20, "fine")], [rect(10, 10, 20, 20, "fine", 0.9)]))
    name = "data/hostile,set:1 ##[x].json"
    run = run_action(tmp_path, {"test-data": name, "report": "r.json"}, {name: tasks})
    assert run.returncode == 1
    report = Report.from_dict(json.loads((run.workspace / "r.json").read_text()))
    # the runner would see exactly our commands: one error per failing task, one notice, nothing injected
    assert {c[0] for c in run.commands} == {"stop-commands", "error", "notice"}
    errors = run.annotations("error")
    assert len(errors) == len(HOSTILE) == report.failed
    for (_, props, message), t in zip(errors, report.failing(), strict=True):
        assert props["file"] == name and int(props["line"]) == t.line
        assert props["title"] == f"ML unit tests: task {t.name} failed"
        assert message == explain(t, "mAP", ">=")  # round-trips exactly, the hostile text included
    assert any("%0A::set-output name=x::" in e[2] for e in errors)
    assert set(run.outputs) == OUTPUTS and run.outputs["failed"] == str(len(HOSTILE))
    # the raw log (terminal text) carried the labels, but only inside a stop-commands block
    assert "##[group]" in run.stdout and "::stop-commands::abc" in run.stdout
    assert [c[0] for c in run.commands].count("stop-commands") == 1


def test_hostile_text_in_an_input_error_is_escaped(tmp_path):
    name = "bad,::error::x ##[group].json"
    run = run_action(tmp_path, {"test-data": name}, {name: "[{"})
    assert run.returncode == 2
    (error,) = run.annotations("error")
    assert name in error[2] and "\n" not in error[1]["title"]
    assert {c[0] for c in run.commands} == {"error"}


# --- the pipeline in process -----------------------------------------------------------------------------


def test_main_runs_with_settings_and_a_runner_in_process(tmp_path):
    import entrypoint
    from ml_test.action.settings import get_settings

    shutil.copy(ROOT / "examples" / "classification.json", tmp_path / "c.json")
    settings = get_settings(
        {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_TEST-DATA": "c.json", "INPUT_METRIC": "exact_match"}
    )
    out = io.StringIO()
    runner = Runner(output_path=str(tmp_path / "out"), summary_path=str(tmp_path / "summary"), stream=out)
    assert entrypoint.main(settings, runner) == 1
    assert parse_output_file((tmp_path / "out").read_text())["failed"] == "2"
    assert runner.emitted == {"error": 2, "warning": 0, "notice": 1}


def test_a_crash_exits_3_with_the_traceback_kept_inert(tmp_path, monkeypatch, capsys):
    import entrypoint

    def boom(*args, **kwargs):
        raise RuntimeError("::error::from a bug")

    monkeypatch.setattr(entrypoint, "evaluate", boom)
    shutil.copy(ROOT / "examples" / "ner.json", tmp_path / "n.json")
    assert entrypoint.run({"GITHUB_WORKSPACE": str(tmp_path), "INPUT_TEST-DATA": "n.json"}) == entrypoint.EXIT_INTERNAL
    commands, legacy = scan_log(capsys.readouterr().out)
    assert [c[0] for c in commands] == ["stop-commands", "error"] and "crashed" in commands[1][2]


def test_the_action_does_not_need_pytest(tmp_path):
    # the image leaves pytest out; the action's imports must not pull it in
    shutil.copy(ROOT / "examples" / "ner.json", tmp_path / "n.json")
    code = "import runpy, sys; sys.modules['pytest'] = None; runpy.run_path(sys.argv[1], run_name='__main__')"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_WORKSPACE": str(tmp_path),
        "INPUT_TEST-DATA": "n.json",
        "INPUT_METRIC": "f1",
        "INPUT_THRESHOLD": "0",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ENTRYPOINT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_data_warnings_become_one_warning_annotation_and_a_summary_section(tmp_path):
    tasks = [task(1, [rect(-10, 10, 20, 20, "A")], [rect(-10, 10, 20, 20, "A", 0.9)]), task(2, [rect(10, 10, 9, 9, "A")], [])]
    run = run_action(tmp_path, {"test-data": "w.json"}, {"w.json": tasks})
    (warning,) = run.annotations("warning")
    assert warning[1]["file"] == "w.json" and warning[1]["title"] == "ML unit tests: 2 warnings about the test data"
    assert warning[2].count("was clipped") == 2
    assert "### Warnings" in run.summary and "was clipped" in run.summary
