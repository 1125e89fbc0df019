"""The action's inputs: INPUT_* with hyphens kept, aliases, validation messages naming the input, paths."""

from __future__ import annotations

import json

import pytest

from ml_test.action.links import check_project_url, task_url
from ml_test.action.settings import SettingsError, get_settings
from ml_test.errors import UsageError


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tasks.json").write_text("[]")
    return tmp_path


def env_for(workspace, **inputs):
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_REPOSITORY": "o/r"}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return env


def test_hyphenated_names_as_the_runner_passes_them(workspace):
    env = env_for(
        workspace,
        **{"test-data": "data/tasks.json", "metric": "f1", "threshold": "0.8", "iou": "0.6", "control": "a, b\nc",
           "labels": "Car,Person", "model-version": "v2", "fail-on": "none", "max-annotations": "3",
           "comment": "On-Failure", "github-token": "secret-token", "image-size": "640x480",
           "label-studio-url": "https://ls.example.com/projects/7/"},
    )  # fmt: skip
    s = get_settings(env)
    assert s.test_data == str(workspace / "data" / "tasks.json") and s.test_data_display == "data/tasks.json"
    assert (s.metric, s.threshold, s.iou) == ("f1", 0.8, 0.6)
    assert s.controls == ("a", "b", "c") and s.labels == ("Car", "Person")
    assert (s.model_version, s.fail_on, s.max_annotations, s.comment) == ("v2", "none", 3, "on-failure")
    assert s.image_size == "640x480" and s.label_studio_url == "https://ls.example.com/projects/7"
    assert s.github_token == "secret-token" and "secret-token" not in repr(s)


def test_defaults_when_only_the_data_is_given(workspace):
    s = get_settings(env_for(workspace, **{"test-data": "data/tasks.json", "metric": "", "threshold": ""}))
    assert (s.metric, s.threshold, s.iou, s.fail_on, s.max_annotations, s.comment) == (
        "mAP",
        0.5,
        None,
        "tasks",
        10,
        "off",
    )
    assert s.report_path is None and s.pr_number is None and s.api_url == "https://api.github.com"


def test_underscore_forms_and_aliases(workspace):
    # test_data is both the alias and the underscore form of test-data; m overrides metric's default
    s = get_settings(env_for(workspace, test_data="data/tasks.json", metric="mAP", m="exact_match"))
    assert s.test_data_display == "data/tasks.json" and s.metric == "exact_match"
    # the runner passes every declared input, the unused ones empty
    s = get_settings(env_for(workspace, **{"test-data": "", "test_data": "data/tasks.json", "m": ""}))
    assert s.test_data_display == "data/tasks.json" and s.metric == "mAP"
    with pytest.raises(SettingsError, match="`test-data` .* and `test_data` .* disagree"):
        get_settings(env_for(workspace, **{"test-data": "data/tasks.json", "test_data": "other.json"}))


def test_every_problem_is_reported_at_once_naming_the_input(workspace):
    env = env_for(
        workspace,
        **{"test-data": "", "threshold": "high", "iou": "x", "fail-on": "never", "comment": "sometimes",
           "max-annotations": "-1", "config": "spec.yml", "label-studio-url": "javascript:alert(1)"},
    )  # fmt: skip
    with pytest.raises(SettingsError) as e:
        get_settings(env)
    message = str(e.value)
    assert isinstance(e.value, UsageError)
    for expected in (
        "input `test-data` is required",
        "input `threshold` must be a number, got 'high'",
        "input `iou` must be a number, got 'x'",
        "input `fail-on` must be one of tasks, none; got 'never'",
        "input `comment` must be one of off, always, on-failure; got 'sometimes'",
        "input `max-annotations` must be a whole number >= 0, got '-1'",
        "input `config`: spec files are not supported",
        "input `label-studio-url` must be the http(s) URL of a Label Studio project",
    ):
        assert expected in message
    assert len(message.splitlines()) == 8


def test_paths_are_resolved_against_the_workspace(workspace, tmp_path_factory):
    s = get_settings(env_for(workspace, **{"test-data": "./data/../data/tasks.json", "report": "out/report.json"}))
    assert s.test_data_display == "data/tasks.json"
    assert s.report_path == str(workspace / "out" / "report.json") and s.report_display == "out/report.json"
    absolute = get_settings(env_for(workspace, **{"test-data": str(workspace / "data" / "tasks.json")}))
    assert absolute.test_data_display == "data/tasks.json"
    with pytest.raises(SettingsError, match="no file 'missing.json'.*did the job run actions/checkout"):
        get_settings(env_for(workspace, **{"test-data": "missing.json"}))
    with pytest.raises(
        SettingsError, match="absolute paths outside the repository checkout do not exist inside the action's container"
    ):
        get_settings(env_for(workspace, **{"test-data": "/tmp/nowhere-else/preds.json"}))
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "t.json"
    elsewhere.write_text("[]")
    outside = get_settings(env_for(workspace, **{"test-data": str(elsewhere)}))
    assert outside.test_data_display == str(elsewhere)  # no repository-relative path for annotations
    with pytest.raises(SettingsError, match="input `report` must be a file path"):
        get_settings(env_for(workspace, **{"test-data": "data/tasks.json", "report": "data"}))


def write_event(tmp_path, event):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return str(path)


@pytest.mark.parametrize(
    "event_name, head, number, fork",
    [
        ("pull_request", "o/r", 7, False),
        ("pull_request", "someone/r", 7, True),
        ("pull_request_target", "someone/r", 7, False),  # runs with the base repository's token
        ("push", "o/r", None, False),
    ],
)
def test_pull_request_from_the_event(workspace, tmp_path, event_name, head, number, fork):
    env = env_for(workspace, **{"test-data": "data/tasks.json"})
    env.update(
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=write_event(tmp_path, {"pull_request": {"number": 7, "head": {"repo": {"full_name": head}}}}),
        GITHUB_API_URL="https://ghe.example.com/api/v3/",
        GITHUB_SERVER_URL="https://ghe.example.com",
        GITHUB_RUN_ID="42",
        GITHUB_WORKFLOW="CI",
        GITHUB_JOB="test",
    )
    s = get_settings(env)
    assert (s.pr_number, s.pr_from_fork) == (number, fork)
    assert s.api_url == "https://ghe.example.com/api/v3"
    assert s.run_url == "https://ghe.example.com/o/r/actions/runs/42"
    assert s.comment_key == "CI/test/data/tasks.json/mAP"


def test_an_unreadable_event_means_no_pull_request(workspace):
    env = env_for(workspace, **{"test-data": "data/tasks.json"})
    env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(workspace / "missing.json"))
    assert get_settings(env).pr_number is None


@pytest.mark.parametrize(
    "project, task_id, expected",
    [
        ("https://ls.example.com/projects/7", 17, "https://ls.example.com/projects/7/data?task=17"),
        ("https://ls.example.com/projects/7/data?tab=3", 17, "https://ls.example.com/projects/7/data?tab=3&task=17"),
        (
            "https://ls.example.com/projects/7/data?task=1",
            "a b)(",
            "https://ls.example.com/projects/7/data?task=a%20b%29%28",
        ),
        ("https://ls.example.com/projects/7", None, None),
        (None, 17, None),
    ],
)
def test_task_links(project, task_id, expected):
    assert task_url(check_project_url(project) if project else None, task_id) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://ls.example.com/projects/1",
        "javascript:alert(1)",
        "https://user:pw@ls.example.com/projects/1",
        "https://ls.example.com/a b",
        "ls.example.com",
    ],
)
def test_project_urls_that_are_refused(url):
    with pytest.raises(ValueError, match="http\\(s\\) URL of a Label Studio project"):
        check_project_url(url)


def test_project_url_path_is_quoted():
    assert check_project_url("https://ls.example.com/p/(x)/") == "https://ls.example.com/p/%28x%29"
