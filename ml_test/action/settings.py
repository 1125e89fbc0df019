"""The action's inputs: ``INPUT_*`` variables read once into a frozen :class:`Settings`.

The runner passes every input as ``INPUT_`` + the name upper-cased with spaces replaced and
**hyphens kept** (``test-data`` arrives as ``INPUT_TEST-DATA``), always as a string, and does
not enforce ``required``. We read the hyphenated name first, then the underscore form (which
also serves the ``test_data`` alias and anyone running the container by hand), and check every
value here so that a mistake stops the run with a message naming the input.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Literal, Mapping

from ..errors import UsageError
from .links import check_project_url

__all__ = ["Settings", "SettingsError", "get_settings", "INPUTS", "ALIASES", "DEFAULTS", "COMMENT_MODES", "FAIL_ON"]

# Every input action.yml declares, in the order the docs list them (a test keeps the three in step).
INPUTS = (
    "test-data",
    "metric",
    "threshold",
    "iou",
    "control",
    "labels",
    "model-version",
    "image-size",
    "distance",
    "compat",
    "config",
    "fail-on",
    "max-annotations",
    "comment",
    "github-token",
    "label-studio-url",
    "report",
    "test_data",
    "m",
)
ALIASES = {"test_data": "test-data", "m": "metric"}
# Defaults as action.yml states them (github-token's is the expression ${{ github.token }}).
DEFAULTS = {
    "metric": "mAP",
    "threshold": "0.5",
    "fail-on": "tasks",
    "max-annotations": "10",
    "comment": "off",
}
COMMENT_MODES = ("off", "always", "on-failure")
FAIL_ON = ("tasks", "none")
# What the runner mounts into the container besides the workspace; other absolute paths do not exist there.
_MOUNTS = ("/github/workspace", "/github/home", "/github/workflow", "/github/runner_temp", "/github/file_commands")


class SettingsError(UsageError):
    """One or more inputs are missing or invalid; the message lists each with what to fix."""


@dataclass(frozen=True)
class Settings:
    """Everything the action was asked to do, and the parts of the job it needs to know."""

    test_data: str  # absolute path
    test_data_display: str  # relative to the workspace when inside it: annotations and the summary use it
    metric: str = "mAP"
    threshold: float = 0.5
    iou: float | None = None
    controls: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    model_version: str | None = None
    image_size: str | None = None
    distance: float | None = None
    compat: str | None = None
    fail_on: Literal["tasks", "none"] = "tasks"
    max_annotations: int = 10
    comment: Literal["off", "always", "on-failure"] = "off"
    github_token: str = field(default="", repr=False)
    label_studio_url: str | None = None
    report_path: str | None = None  # absolute path of the JSON report to write
    report_display: str | None = None
    workspace: str = "."
    repository: str = ""
    event_name: str = ""
    pr_number: int | None = None
    pr_from_fork: bool = False
    api_url: str = "https://api.github.com"
    run_url: str | None = None
    comment_key: str = ""  # tells apart the comments of several steps in one pull request


def _read(env: Mapping[str, str], name: str) -> str:
    """An input's value: ``INPUT_<NAME>`` with hyphens kept, else with hyphens as underscores."""
    key = "INPUT_" + name.replace(" ", "_").upper()
    value = env.get(key)
    if value is None:
        value = env.get(key.replace("-", "_"), "")
    return value.strip()


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for line in value.splitlines() for v in line.split(",") if v.strip())


class _Problems(list):
    def number(self, name: str, value: str) -> float | None:
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            self.append(f"input `{name}` must be a number, got {value!r}")
            return None

    def choice(self, name: str, value: str, allowed: tuple[str, ...]) -> str:
        if value.lower() in allowed:
            return value.lower()
        self.append(f"input `{name}` must be one of {', '.join(allowed)}; got {value!r}")
        return allowed[0]


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _resolve(workspace: str, value: str) -> tuple[str, str]:
    """(absolute path, display path): relative paths are taken from the repository checkout."""
    path = os.path.normpath(os.path.join(workspace, value))
    display = os.path.relpath(path, workspace) if _inside(path, workspace) else path
    return path, display.replace(os.sep, "/")


def _test_data(problems: _Problems, workspace: str, env: Mapping[str, str]) -> tuple[str, str]:
    value, alias = _read(env, "test-data"), env.get("INPUT_TEST_DATA", "").strip()
    if value and alias and value != alias:
        problems.append(f"inputs `test-data` ({value!r}) and `test_data` ({alias!r}) disagree; give one of them")
    value = value or alias
    if not value:
        problems.append("input `test-data` is required: the path of a Label Studio JSON export in the repository")
        return "", ""
    path, display = _resolve(workspace, value)
    if not os.path.isfile(path):
        hint = "paths are relative to the repository root; did the job run actions/checkout before this step?"
        if os.path.isabs(value) and not any(_inside(path, m) for m in (workspace, *_MOUNTS)):
            hint = "absolute paths outside the repository checkout do not exist inside the action's container; copy the file into the workspace"
        problems.append(f"input `test-data`: no file {value!r} (looked for {path}); {hint}")
    return path, display


def _report(problems: _Problems, workspace: str, value: str) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    path, display = _resolve(workspace, value)
    if os.path.isdir(path):
        problems.append(f"input `report` must be a file path, but {value!r} is a folder")
    return path, display


def _event(env: Mapping[str, str]) -> dict:
    try:
        with open(env.get("GITHUB_EVENT_PATH", ""), encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _pull_request(env: Mapping[str, str]) -> tuple[int | None, bool]:
    """(number, from a fork) of the pull request this run is for, or (None, False)."""
    if env.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
        return None, False
    pr = _event(env).get("pull_request") or {}
    number = pr.get("number")
    if not isinstance(number, int):
        return None, False
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    # pull_request_target runs with the base repository's token, so only pull_request is read-only for forks
    fork = env.get("GITHUB_EVENT_NAME") == "pull_request" and head is not None and head != env.get("GITHUB_REPOSITORY")
    return number, fork


def get_settings(env: Mapping[str, str]) -> Settings:
    """Read and check every input; raises SettingsError listing all problems at once."""
    problems = _Problems()
    workspace = os.path.abspath(env.get("GITHUB_WORKSPACE") or ".")
    test_data, display = _test_data(problems, workspace, env)

    metric = _read(env, "m") or _read(env, "metric") or DEFAULTS["metric"]
    threshold = problems.number("threshold", _read(env, "threshold") or DEFAULTS["threshold"])
    iou = problems.number("iou", _read(env, "iou"))
    distance = problems.number("distance", _read(env, "distance"))
    compat = _read(env, "compat") or None
    if compat is not None and compat != "evalme":
        problems.append(f"input `compat` must be 'evalme' or empty, got {compat!r}")
    fail_on = problems.choice("fail-on", _read(env, "fail-on") or DEFAULTS["fail-on"], FAIL_ON)
    comment = problems.choice("comment", _read(env, "comment") or DEFAULTS["comment"], COMMENT_MODES)
    max_text = _read(env, "max-annotations") or DEFAULTS["max-annotations"]
    max_annotations = int(max_text) if max_text.isdigit() else 0
    if not max_text.isdigit():
        problems.append(f"input `max-annotations` must be a whole number >= 0, got {max_text!r}")
    if _read(env, "config"):
        problems.append(
            "input `config`: spec files are not supported by this version yet; use metric, threshold, control and labels"
        )
    url = _read(env, "label-studio-url") or None
    if url:
        try:
            url = check_project_url(url)
        except ValueError as e:
            problems.append(f"input `label-studio-url` {e}")
    report_path, report_display = _report(problems, workspace, _read(env, "report"))
    if problems:
        raise SettingsError("\n".join(problems))

    pr_number, fork = _pull_request(env)
    server, repo, run_id = (
        env.get("GITHUB_SERVER_URL", "https://github.com"),
        env.get("GITHUB_REPOSITORY", ""),
        env.get("GITHUB_RUN_ID"),
    )
    return Settings(
        test_data=test_data,
        test_data_display=display,
        metric=metric,
        threshold=threshold if threshold is not None else float(DEFAULTS["threshold"]),
        iou=iou,
        controls=_split(_read(env, "control")),
        labels=_split(_read(env, "labels")),
        model_version=_read(env, "model-version") or None,
        image_size=_read(env, "image-size") or None,
        distance=distance,
        compat=compat,
        fail_on=fail_on,  # type: ignore[arg-type]
        max_annotations=max_annotations,
        comment=comment,  # type: ignore[arg-type]
        github_token=_read(env, "github-token"),
        label_studio_url=url,
        report_path=report_path,
        report_display=report_display,
        workspace=workspace,
        repository=repo,
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        pr_number=pr_number,
        pr_from_fork=fork,
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        run_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
        comment_key=f"{env.get('GITHUB_WORKFLOW', '')}/{env.get('GITHUB_JOB', '')}/{display}/{metric}",
    )
