"""The sticky pull-request comment against a fake GitHub REST API on 127.0.0.1 (through PyGithub, as in production).

The fake serves a handful of endpoints under ``/api/v3`` (a GitHub Enterprise Server prefix, so
the test also shows ``GITHUB_API_URL`` is honoured), answers at most ``max_requests`` requests and
stops by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ml_test.action.comment import marker_for, publish_comment, wants_comment
from test_action import ROOT, run_action

TOKEN = "ghs_fake_token_for_tests"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


class FakeGitHub:
    """Issue comments of one repository; ``forbid_writes`` answers POST/PATCH with 403 as for a fork's token."""

    def __init__(
        self, *, forbid_writes: bool = False, viewer: str | None = None, max_requests: int = 40, lifetime: float = 60.0
    ):
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.forbid_writes = forbid_writes
        self.viewer = viewer
        self.max_requests = max_requests
        self.deadline = time.monotonic() + lifetime
        self.next_id = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.timeout = 0.1
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/api/v3"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "FakeGitHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.server_close()

    def _serve(self) -> None:
        while not self._stop.is_set() and len(self.requests) < self.max_requests and time.monotonic() < self.deadline:
            self.server.handle_request()

    def add(self, body: str, user: dict) -> dict:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": user,
            "url": f"{self.base}/repos/owner/repo/issues/comments/{self.next_id}",
            "html_url": f"https://github.com/owner/repo/pull/7#issuecomment-{self.next_id}",
        }
        self.comments.append(comment)
        return comment

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def _send(self, status: int, payload) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                path = self.path.split("?")[0]
                fake.requests.append((method, path))
                if self.headers.get("Authorization") != f"token {TOKEN}":
                    return self._send(401, {"message": "Bad credentials"})
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                prefix = "/api/v3/repos/owner/repo/issues"
                if method in ("POST", "PATCH") and fake.forbid_writes:
                    return self._send(403, {"message": "Resource not accessible by integration"})
                if method == "GET" and path == "/api/v3/user":
                    if fake.viewer is None:
                        return self._send(403, {"message": "Resource not accessible by integration"})
                    return self._send(200, {"login": fake.viewer, "type": "User"})
                if method == "GET" and path == f"{prefix}/7/comments":
                    return self._send(200, fake.comments)
                if method == "POST" and path == f"{prefix}/7/comments":
                    return self._send(201, fake.add(body["body"], BOT))
                if method == "PATCH" and path.startswith(f"{prefix}/comments/"):
                    comment = next((c for c in fake.comments if c["id"] == int(path.rsplit("/", 1)[1])), None)
                    if comment is None:
                        return self._send(404, {"message": "Not Found"})
                    comment["body"] = body["body"]
                    return self._send(200, comment)
                return self._send(404, {"message": "Not Found"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PATCH(self):
                self._route("PATCH")

        return Handler


def publish(fake: FakeGitHub, body: str, *, mode: str = "always", failed: bool = True, key: str = "CI/test/d.json/mAP"):
    return publish_comment(
        token=TOKEN,
        api_url=fake.base,
        repository="owner/repo",
        number=7,
        marker=marker_for(key),
        body_for=lambda: f"{body}\n{marker_for(key)}",
        mode=mode,
        failed=failed,
        timeout=5,
        throttle=False,
    )


def test_creates_then_updates_the_same_comment():
    with FakeGitHub() as fake:
        fake.add("a human comment", {"login": "alice", "type": "User"})
        first = publish(fake, "first run")
        second = publish(fake, "second run")
    assert (first.action, second.action) == ("created", "updated") and first.url == second.url
    ours = [c for c in fake.comments if marker_for("CI/test/d.json/mAP") in c["body"]]
    assert len(ours) == 1 and ours[0]["body"].startswith("second run")
    assert [m for m, _ in fake.requests].count("POST") == 1 and [m for m, _ in fake.requests].count("PATCH") == 1
    assert all(path.startswith("/api/v3/") for _, path in fake.requests)  # GITHUB_API_URL's prefix kept


def test_a_marker_pasted_by_someone_else_is_not_edited():
    with FakeGitHub() as fake:
        fake.add(f"copied {marker_for('CI/test/d.json/mAP')}", {"login": "mallory", "type": "User"})
        result = publish(fake, "ours")
    assert result.action == "created" and fake.comments[0]["body"].startswith("copied")


def test_with_a_personal_token_the_comment_of_that_user_is_ours():
    with FakeGitHub(viewer="release-bot") as fake:
        fake.add(f"old {marker_for('CI/test/d.json/mAP')}", {"login": "release-bot", "type": "User"})
        result = publish(fake, "new")
    assert result.action == "updated" and fake.comments[0]["body"].startswith("new")


def test_each_step_keeps_its_own_comment():
    with FakeGitHub() as fake:
        publish(fake, "detection", key="CI/test/det.json/mAP")
        publish(fake, "ner", key="CI/test/ner.json/f1")
    assert len(fake.comments) == 2


def test_on_failure_mode():
    assert wants_comment("always", False, False) and not wants_comment("off", True, True)
    assert wants_comment("on-failure", True, False) and not wants_comment("on-failure", False, False)
    assert wants_comment("on-failure", False, True)  # turn an earlier failure report green
    with FakeGitHub() as fake:
        assert publish(fake, "all good", mode="on-failure", failed=False) is None
        assert publish(fake, "broken", mode="on-failure", failed=True).action == "created"
        assert publish(fake, "fixed", mode="on-failure", failed=False).action == "updated"
    assert [c["body"].split("\n")[0] for c in fake.comments] == ["fixed"]


def test_403_is_a_message_not_an_exception():
    with FakeGitHub(forbid_writes=True) as fake:
        result = publish(fake, "x")
    assert result.action == "failed"
    assert "HTTP 403 Resource not accessible by integration" in result.message
    assert "pull-requests: write" in result.message and TOKEN not in result.message


def test_an_unreachable_api_is_a_message_too():
    with FakeGitHub() as fake:
        base = fake.base
    result = publish_comment(
        token=TOKEN, api_url=base, repository="owner/repo", number=7, marker="m", body_for=lambda: "x",
        mode="always", failed=True, timeout=2, throttle=False,
    )  # fmt: skip
    assert result.action == "failed" and "could not comment on pull request #7" in result.message


# --- through entrypoint.py, as on a pull_request event -------------------------------------------------------


def pr_run(tmp_path, fake, comment="always", event_head="owner/repo"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"repo": {"full_name": event_head}}}}))
    return run_action(
        tmp_path,
        {
            "test-data": "examples/detection.json",
            "comment": comment,
            "github-token": TOKEN,
            "label-studio-url": "https://ls.example.com/projects/3",
        },
        {"examples/detection.json": ROOT / "examples" / "detection.json"},
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_API_URL=fake.base,
    )


def test_entrypoint_comments_on_the_pull_request(tmp_path):
    with FakeGitHub() as fake:
        run = pr_run(tmp_path / "1", fake)
        again = pr_run(tmp_path / "2", fake)
    assert run.returncode == again.returncode == 1
    (comment,) = fake.comments
    assert comment["body"].startswith("### ❌ ML unit tests: 2 of 7 tasks failed")
    assert "[104](https://ls.example.com/projects/3/data?task=104)" in comment["body"]
    assert "[job summary of this run](https://github.com/owner/repo/actions/runs/1234)" in comment["body"]
    assert comment["body"].rstrip().endswith("-->")
    assert "pull-request comment created" in run.stdout and "pull-request comment updated" in again.stdout
    assert run.annotations("warning") == [] and TOKEN not in run.stdout + run.stderr


def test_entrypoint_turns_a_403_into_a_warning(tmp_path):
    with FakeGitHub(forbid_writes=True) as fake:
        run = pr_run(tmp_path, fake)
    assert run.returncode == 1  # the verdict of the tests, not of the comment
    (warning,) = run.annotations("warning")
    assert warning[1]["title"] == "ML unit tests: no pull-request comment" and "403" in warning[2]
    assert run.summary.startswith("## ❌") and run.outputs["failed"] == "2"


def test_entrypoint_skips_fork_pull_requests_and_push_events(tmp_path):
    with FakeGitHub() as fake:
        fork = pr_run(tmp_path / "fork", fake, event_head="someone/repo")
        off = pr_run(tmp_path / "off", fake, comment="off")
    assert fake.requests == [] and fork.annotations("warning") == []
    assert "comes from a fork" in fork.stdout and "comment" not in off.stdout


@pytest.mark.parametrize("comment", ["always", "on-failure"])
def test_entrypoint_without_a_token_warns(tmp_path, comment):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    run = run_action(
        tmp_path, {"test-data": "d.json", "comment": comment, "github-token": ""}, {"d.json": ROOT / "examples" / "detection.json"},
        GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event),
    )  # fmt: skip
    (warning,) = run.annotations("warning")
    assert "github-token is empty" in warning[2] and run.returncode == 1
