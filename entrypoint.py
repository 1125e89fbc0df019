"""The GitHub Action's entry point: ``INPUT_*`` -> ``ml_test.evaluate`` -> summary, outputs, annotations, exit code.

Thin on purpose: ``get_settings`` reads and checks the inputs once, ``main`` is a straight
pipeline (evaluate, log, job summary, outputs, annotations, pull-request comment) that returns
the exit code: 0 all tasks passed, 1 a task failed, 2 an input or data error (with an
``::error`` saying what to fix), 3 a crash of ours. Outputs and the summary are written before a
non-zero exit; the runner reads those files even when the step fails.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import replace
from typing import Mapping

from ml_test import MLTestError, Report, evaluate
from ml_test.action.comment import marker_for, publish_comment
from ml_test.action.links import task_url
from ml_test.action.settings import Settings, SettingsError, get_settings
from ml_test.cli import EXIT_OK, EXIT_TESTS_FAILED, EXIT_USAGE
from ml_test.explain import explain
from ml_test.github import MAX_ANNOTATIONS_PER_LEVEL, Runner
from ml_test.report.json_report import write_json
from ml_test.report.markdown import render_comment, render_error, render_summary
from ml_test.report.terminal import render_terminal, summary_line

EXIT_INTERNAL = 3
# Every output action.yml declares (a test keeps the two and docs/action.md in step).
OUTPUTS = ("passed", "total", "failed", "skipped", "pass-rate", "score", "report-path")
TITLE = "ML unit tests"


def _number(value: float | None) -> str:
    # full precision, so a later step can compare it with fromJSON(); empty when undefined
    return "" if value is None else repr(float(value))


def _write_report(report: Report, settings: Settings) -> None:
    """Write the JSON report, owned like the workspace: the container runs as root, the next checkout does not."""
    path = settings.report_path
    assert path is not None
    owner = os.stat(settings.workspace)
    created = []
    folder = os.path.dirname(path)
    while folder and not os.path.isdir(folder):
        created.append(folder)
        folder = os.path.dirname(folder)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(report, path)
    for item in [path, *created]:
        try:
            os.chown(item, owner.st_uid, owner.st_gid)
        except OSError:
            pass  # not root (a run by hand): the files are already the user's


def fail_usage(runner: Runner, message: str, data_path: str | None = None) -> int:
    """Report an input error: summary, ``passed=false``, one ``::error`` saying what to fix; exit 2."""
    runner.append_summary(render_error(message, data_path))
    runner.set_output("passed", "false")
    runner.error(message, title=f"{TITLE}: input error")
    return EXIT_USAGE


def write_outputs(runner: Runner, report: Report, settings: Settings) -> None:
    """The step outputs, as action.yml declares them."""
    values = {
        "passed": "true" if report.ok else "false",
        "total": report.total,
        "failed": report.failed,
        "skipped": report.skipped,
        "pass-rate": _number(report.pass_rate),
        "score": _number(report.score),
        "report-path": settings.report_display or "",
    }
    for name in OUTPUTS:
        runner.set_output(name, values[name])


def annotate(runner: Runner, report: Report, settings: Settings) -> None:
    """An ``::error`` on the data file at each failing task's line, worst first, capped; one ``::notice`` with the totals."""
    failing = report.failing()
    wanted = min(settings.max_annotations, len(failing))
    if wanted > MAX_ANNOTATIONS_PER_LEVEL:
        runner.log(
            f"GitHub shows at most {MAX_ANNOTATIONS_PER_LEVEL} error annotations per step; annotating the worst {MAX_ANNOTATIONS_PER_LEVEL}."
        )
    # annotations land on the file in a pull request only with a path relative to the repository
    file = None if os.path.isabs(settings.test_data_display) else settings.test_data_display
    shown = sum(
        runner.error(
            explain(t, report.metric, report.comparator),
            file=file,
            line=t.line or None,
            title=f"{TITLE}: task {t.name} failed",
        )
        for t in failing[:wanted]
    )
    rest = len(failing) - shown
    runner.notice(
        summary_line(report) + (f". {rest} more failing tasks are listed in the job summary." if rest else ""),
        title=TITLE,
    )
    if report.warnings:
        runner.warning(
            "\n".join(report.warnings), file=file, title=f"{TITLE}: {len(report.warnings)} warnings about the test data"
        )


def comment(runner: Runner, report: Report, settings: Settings) -> None:
    """The sticky pull-request comment, when asked for and possible; problems become one ``::warning``."""
    if settings.comment == "off":
        return
    if settings.pr_number is None:
        runner.log(f"comment: {settings.comment}, but this run is not for a pull request; no comment.")
        return
    if settings.pr_from_fork:
        runner.log(
            "comment: the pull request comes from a fork, whose token is read-only; the results are in the job summary."
        )
        return
    if not settings.github_token:
        runner.warning(
            "comment is on but github-token is empty; no pull-request comment.", title=f"{TITLE}: no comment"
        )
        return
    result = publish_comment(
        token=settings.github_token,
        api_url=settings.api_url,
        repository=settings.repository,
        number=settings.pr_number,
        marker=marker_for(settings.comment_key),
        body_for=lambda: render_comment(
            report,
            data_path=settings.test_data_display,
            marker=marker_for(settings.comment_key),
            link=lambda t: task_url(settings.label_studio_url, t.id),
            run_url=settings.run_url,
            fail_on=settings.fail_on,
        ),
        mode=settings.comment,
        failed=report.failed > 0,
    )
    if result is None:
        return
    if result.action == "failed":
        runner.warning(result.message, title=f"{TITLE}: no pull-request comment")
    else:
        runner.raw(f"pull-request comment {result.action}: {result.url}")


def main(settings: Settings, runner: Runner) -> int:
    """Evaluate, then job summary, outputs, annotations, comment; return the exit code."""
    try:
        report = evaluate(
            settings.test_data,
            settings.metric,
            settings.threshold,
            iou=settings.iou,
            controls=settings.controls or None,
            labels=settings.labels or None,
            model_version=settings.model_version,
            image_size=settings.image_size,
            distance=settings.distance,
            compat=settings.compat,
        )
        report = replace(report, source=settings.test_data_display)
        if settings.report_path:
            _write_report(report, settings)
    except MLTestError as e:
        return fail_usage(runner, str(e), settings.test_data_display)
    except OSError as e:
        return fail_usage(
            runner, f"input `report`: cannot write {settings.report_display}: {e.strerror}", settings.test_data_display
        )

    runner.raw(render_terminal(report))
    note = (
        f"Every task is in the JSON report `{settings.report_display}` (output `report-path`)."
        if settings.report_display
        else "Set the `report` input to get every task in a JSON file."
    )
    summary = render_summary(
        report,
        data_path=settings.test_data_display,
        link=lambda t: task_url(settings.label_studio_url, t.id),
        fail_on=settings.fail_on,
        report_note=note,
    )
    runner.append_summary(summary, overflow_note=note)
    write_outputs(runner, report, settings)
    annotate(runner, report, settings)
    comment(runner, report, settings)
    return EXIT_TESTS_FAILED if report.failed and settings.fail_on == "tasks" else EXIT_OK


def run(env: Mapping[str, str]) -> int:
    """Read the settings from ``env`` and run ``main``; input errors exit 2, crashes 3."""
    runner = Runner.from_env(env)
    try:
        settings = get_settings(env)
    except SettingsError as e:
        return fail_usage(runner, str(e))
    try:
        return main(settings, runner)
    except Exception:  # noqa: BLE001 - a bug of ours must not read as "tests failed" (exit 1)
        runner.raw(traceback.format_exc())
        runner.error(
            "label-studio-ml-test crashed; the traceback is in the log above. Please report it.",
            title=f"{TITLE}: internal error",
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(run(dict(os.environ)))
