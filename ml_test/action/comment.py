"""The sticky pull-request comment: one comment per step, found by a hidden marker, edited in place.

Everything goes through PyGithub with ``base_url`` set from ``GITHUB_API_URL`` (GitHub Enterprise
Server works). A comment is a courtesy: any API failure (403 for fork and Dependabot tokens, a
network error, a timeout) comes back as a message for a ``::warning``, never as an exception.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

# PyGithub (the top-level ``github`` package); ml_test.github is our runner protocol
from github import Auth, Github, GithubException

__all__ = ["marker_for", "wants_comment", "publish_comment", "CommentResult"]

MARKER_PREFIX = "<!-- label-studio-ml-test:"


@dataclass(frozen=True)
class CommentResult:
    """What happened: ``created``, ``updated`` or ``failed`` (with a message for the log)."""

    action: str
    url: str | None = None
    message: str = ""


def marker_for(key: str) -> str:
    """The hidden HTML marker of a step's comment (a hash, so no user text sits in the comment's HTML)."""
    return f"{MARKER_PREFIX}{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]} -->"


def wants_comment(mode: str, failed: bool, exists: bool) -> bool:
    """``always``; ``on-failure`` when a task failed, or to update an earlier comment that reported a failure."""
    return mode == "always" or (mode == "on-failure" and (failed or exists))


def _viewer(gh: Github) -> str | None:
    """The login behind the token; None for the Actions token, which may not read /user."""
    try:
        return gh.get_user().login
    except GithubException:
        return None


def _ours(comment, marker: str, viewer: str | None) -> bool:
    if marker not in (comment.body or ""):
        return False
    # someone else could paste the marker; only edit a comment the token's owner wrote
    user = comment.user
    return user.login == viewer if viewer else user.type == "Bot"


def publish_comment(
    *,
    token: str,
    api_url: str,
    repository: str,
    number: int,
    marker: str,
    body_for: Callable[[], str],
    mode: str,
    failed: bool,
    timeout: int = 15,
    throttle: bool = True,
) -> CommentResult | None:
    """Create or update this step's comment on pull request ``number``; None when the mode says skip.

    ``body_for()`` renders the body only once it is needed. ``throttle=False`` drops PyGithub's
    pauses between requests (tests against a local server).
    """
    pauses = {} if throttle else {"seconds_between_requests": None, "seconds_between_writes": None}
    try:
        gh = Github(auth=Auth.Token(token), base_url=api_url, timeout=timeout, retry=2, lazy=True, **pauses)
        issue = gh.get_repo(repository).get_issue(number)
        viewer = _viewer(gh)
        existing = None
        for comment in issue.get_comments():
            if _ours(comment, marker, viewer):
                existing = comment  # the newest one wins: comments come oldest first
        if not wants_comment(mode, failed, existing is not None):
            return None
        body = body_for()
        if existing is not None:
            existing.edit(body)
            return CommentResult("updated", existing.html_url)
        created = issue.create_comment(body)
        return CommentResult("created", created.html_url)
    except GithubException as e:
        hint = ""
        if e.status == 403:
            hint = (
                " The token may not write to pull requests: give the job `permissions: pull-requests: write`;"
                " pull requests from forks and Dependabot get a read-only token."
            )
        message = (e.data or {}).get("message") if isinstance(e.data, dict) else None
        return CommentResult(
            "failed",
            message=f"could not comment on pull request #{number}: HTTP {e.status} {message or ''}".rstrip()
            + "."
            + hint,
        )
    except Exception as e:  # noqa: BLE001 - network, TLS, timeouts: a comment must never fail the job
        return CommentResult("failed", message=f"could not comment on pull request #{number}: {type(e).__name__}: {e}")
