"""pytest plugin: ``pytest --test-data tasks.json`` runs one test per Label Studio task.

Registered through the ``pytest11`` entry point. Each test-data file is evaluated once, at
collection, by the same engine as the CLI, so both always agree; each task becomes an item named
``task-<id>`` located at the task's line in the file. A failure prints the metric, score,
threshold and the engine's reasons instead of a traceback (``--ml-test-traceback`` restores it).
Options can be set as ini keys (``ml_test_data``, ``ml_test_metric``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from .engine import evaluate
from .errors import MLTestError
from .explain import explain
from .report.format import score_text
from .results import Report, TaskResult
from .tasks import Task, load_tasks

__all__ = ["TaskFile", "TaskItem", "TaskFailed"]

_SETTINGS = pytest.StashKey["_Settings"]()
_REPORTS = pytest.StashKey[dict]()
_MARKER = "ml_task"


@dataclass(frozen=True)
class _Settings:
    files: tuple[Path, ...]
    metric: str
    threshold: float
    iou: float | None
    distance: float | None
    compat: str | None
    controls: tuple[str, ...]
    labels: tuple[str, ...]
    model_version: str | None
    traceback: bool


class TaskFailed(Exception):
    """A task's prediction failed its ground truth; carries the verdict."""

    def __init__(self, result: TaskResult, metric: str, comparator: str) -> None:
        super().__init__(explain(result, metric, comparator))
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    """Command-line options, each mirrored by an ini key."""
    group = parser.getgroup("label-studio-ml-test", "ML unit tests from Label Studio tasks")
    group.addoption("--test-data", action="append", dest="ml_test_data", metavar="PATH", default=[],
                    help="Label Studio export to run as tests, one per task (repeatable)")  # fmt: skip
    group.addoption("--metric", dest="ml_test_metric", help="metric to score each task with (default mAP)")
    group.addoption("--threshold", dest="ml_test_threshold", type=float, help="a task passes when its score >= this (default 0.5)")
    group.addoption("--iou", dest="ml_test_iou", type=float, help="IoU needed to match regions")
    group.addoption("--compat", dest="ml_test_compat", choices=["evalme"], help="reproduce label-studio-evalme's semantics")
    group.addoption("--distance", dest="ml_test_distance", type=float, help="keypoint match distance (pixels, or share of the diagonal)")
    group.addoption("--control", dest="ml_test_control", action="append", metavar="NAME", help="score only this control (repeatable)")
    group.addoption("--labels", dest="ml_test_labels", metavar="A,B", help="score only these labels")
    group.addoption("--model-version", dest="ml_test_model_version", help="test the prediction of this model version")
    group.addoption("--ml-test-traceback", dest="ml_test_traceback", action="store_true",
                    help="show pytest's traceback for failing tasks instead of the short explanation")  # fmt: skip
    parser.addini("ml_test_data", "Label Studio exports to run as tests", type="paths", default=[])
    parser.addini("ml_test_metric", "metric (default mAP)", default="mAP")
    parser.addini("ml_test_threshold", "threshold (default 0.5)", default="0.5")
    parser.addini("ml_test_iou", "IoU needed to match regions", default="")
    parser.addini("ml_test_distance", "keypoint match distance", default="")
    parser.addini("ml_test_compat", "compatibility mode (evalme)", default="")
    parser.addini("ml_test_control", "controls to score", type="linelist", default=[])
    parser.addini("ml_test_labels", "labels to score, comma-separated", default="")
    parser.addini("ml_test_model_version", "model version to test", default="")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _float(config: pytest.Config, option: str, ini: str) -> float | None:
    value = config.getoption(option)
    if value is not None:
        return value
    raw = config.getini(ini)
    try:
        return float(raw) if str(raw).strip() else None
    except ValueError:
        raise pytest.UsageError(f"{ini} must be a number, got {raw!r}") from None


def _settings(config: pytest.Config) -> _Settings:
    files = [Path(p) for p in config.getoption("ml_test_data")] or list(config.getini("ml_test_data"))
    invocation = Path(config.invocation_params.dir)
    return _Settings(
        files=tuple(dict.fromkeys((invocation / f).resolve() for f in files)),
        metric=config.getoption("ml_test_metric") or config.getini("ml_test_metric") or "mAP",
        threshold=_float(config, "ml_test_threshold", "ml_test_threshold"),
        iou=_float(config, "ml_test_iou", "ml_test_iou"),
        distance=_float(config, "ml_test_distance", "ml_test_distance"),
        compat=config.getoption("ml_test_compat") or config.getini("ml_test_compat") or None,
        controls=tuple(config.getoption("ml_test_control") or config.getini("ml_test_control")),
        labels=_split(config.getoption("ml_test_labels") or config.getini("ml_test_labels")),
        model_version=config.getoption("ml_test_model_version") or config.getini("ml_test_model_version") or None,
        traceback=config.getoption("ml_test_traceback"),
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register markers and make sure every test-data file is collected, wherever it lies."""
    config.addinivalue_line("markers", f"{_MARKER}: a Label Studio task run as an ML unit test")
    settings = _settings(config)
    config.stash[_SETTINGS] = settings
    config.stash[_REPORTS] = {}
    # pytest only offers files under its arguments (or testpaths) to pytest_collect_file
    for path in settings.files:
        covered = any(path == Path(a).resolve() or Path(a).resolve() in path.parents for a in config.args)
        if not covered:
            config.args.append(str(path))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect the files named by ``--test-data`` (or the ``ml_test_data`` ini key)."""
    settings = parent.config.stash.get(_SETTINGS, None)
    if settings and file_path.resolve() in settings.files:
        return TaskFile.from_parent(parent, path=file_path)
    return None


def _marker_name(tag: str) -> str:
    name = re.sub(r"\W", "_", tag.strip())
    return name if name and not name[0].isdigit() else f"tag_{name}"


def _task_marks(task: Task, config: pytest.Config) -> list[pytest.MarkDecorator]:
    """Tags become markers; ``xfail``/``skip`` in ``data`` or ``meta`` become pytest's."""
    marks = [pytest.mark.ml_task]
    for source in (task.data, task.meta):
        tags = source.get("tags")
        for tag in [tags] if isinstance(tags, str) else (tags if isinstance(tags, list) else []):
            name = _marker_name(str(tag))
            config.addinivalue_line("markers", f"{name}: Label Studio task tag")
            marks.append(getattr(pytest.mark, name))
        for key, mark in (("xfail", pytest.mark.xfail), ("skip", pytest.mark.skip)):
            value = source.get(key)
            if value:
                reason = value if isinstance(value, str) else f"marked {key} in the task"
                marks.append(mark(reason=reason) if key == "skip" else mark(reason=reason, strict=False))
    return marks


class TaskFile(pytest.File):
    """A test-data file: evaluated once, one item per task."""

    def collect(self) -> Iterator["TaskItem"]:
        """Evaluate the file and yield its tasks in file order."""
        s = self.config.stash[_SETTINGS]
        try:
            tasks = load_tasks(self.path, model_version=s.model_version)
            report = evaluate(
                tasks,
                s.metric,
                0.5 if s.threshold is None else s.threshold,
                iou=s.iou,
                distance=s.distance,
                compat=s.compat,
                controls=s.controls or None,
                labels=s.labels or None,
            )
        except MLTestError as e:
            raise self.CollectError(f"label-studio-ml-test: {e}") from None
        self.config.stash[_REPORTS][str(self.path)] = report
        seen: set[str] = set()
        for task, result in zip(tasks, report.tasks):
            name = f"task-{result.name}"
            if name in seen:
                name = f"{name}-line{result.line}"
            seen.add(name)
            item = TaskItem.from_parent(self, name=name, result=result, report=report)
            for mark in _task_marks(task, self.config):
                item.add_marker(mark)
            if result.status == "skipped":
                item.add_marker(pytest.mark.skip(reason=result.reasons[0] if result.reasons else "no ground truth"))
            yield item


class TaskItem(pytest.Item):
    """One task: passes or fails as the engine decided."""

    def __init__(self, *, result: TaskResult, report: Report, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result = result
        self.metric = report.metric
        self.comparator = report.comparator

    def runtest(self) -> None:
        """Record the score as JUnit properties, then fail if the task failed."""
        r = self.result
        self.user_properties += [("metric", self.metric), ("score", r.score), ("threshold", r.threshold)]
        if r.status == "failed":
            raise TaskFailed(r, self.metric, self.comparator)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The engine's explanation for a failed task; pytest's own report for anything else."""
        if isinstance(excinfo.value, TaskFailed) and not self.config.stash[_SETTINGS].traceback:
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """The file and (0-based) line where the task starts."""
        return self.path, max(self.result.line - 1, 0), f"task {self.result.name}"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """With ``-v``, show each task's score next to its verdict."""
    if report.when != "call" or _MARKER not in report.keywords or hasattr(report, "wasxfail"):
        return None
    props = dict(report.user_properties)
    if "score" not in props:
        return None
    text = f"{props['metric']} {score_text(props['score'], props.get('threshold'))}"
    if report.passed:
        return "passed", ".", (f"PASSED ({text})", {"green": True})
    if report.failed:
        return "failed", "F", (f"FAILED ({text})", {"red": True})
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """A closing section: tasks passed per file and the dataset-level metrics."""
    settings = config.stash.get(_SETTINGS, None)
    if not settings or not settings.files or hasattr(config, "workerinput"):
        return
    reports = config.stash.get(_REPORTS, {})
    counts: dict[str, int] = {}
    for key in ("passed", "failed", "skipped", "xfailed", "xpassed"):
        counts[key] = sum(
            1 for rep in terminalreporter.stats.get(key, []) if _MARKER in getattr(rep, "keywords", {}) and rep.when in ("call", "setup")
        )
    if not any(counts.values()):
        return
    terminalreporter.section("label-studio-ml-test")
    tested = counts["passed"] + counts["failed"]
    rate = f"{counts['passed'] / tested:.1%}" if tested else "n/a"
    extra = ", ".join(f"{n} {k}" for k, n in counts.items() if n and k not in ("passed", "failed"))
    terminalreporter.write_line(f"tasks: {counts['passed']} passed, {counts['failed']} failed{', ' + extra if extra else ''} (pass rate {rate})")
    for path in settings.files:
        report = reports.get(str(path))
        if report is None:  # under xdist the controller collected nothing: evaluate here, same engine
            try:
                report = evaluate(path, settings.metric, 0.5 if settings.threshold is None else settings.threshold,
                                  iou=settings.iou, distance=settings.distance, compat=settings.compat,
                                  controls=settings.controls or None,
                                  labels=settings.labels or None,
                                  model_version=settings.model_version)  # fmt: skip
            except MLTestError:
                continue
        stats = ", ".join(f"{k} {score_text(v)}" for k, v in report.aggregate.items())
        terminalreporter.write_line(f"{path.name}: {report.metric} {score_text(report.score)} (task threshold {report.comparator} {report.threshold:g}); {stats}")
