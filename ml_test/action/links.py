"""Links from a report to the task in Label Studio.

The report carries task ids but no project, so the ``label-studio-url`` input is the project's
URL (``https://label-studio.example.com/projects/12``, as the browser shows it, with or without
``/data`` and a ``?tab=`` view) and a task opens in the project's data manager at
``<project>/data?task=<id>``, the address Label Studio itself uses for an open task.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["check_project_url", "task_url"]

# characters left as they are in the path and query: nothing that can end a Markdown link or HTML attribute
_SAFE_PATH = "/-._~!$&*+,;=:@%"
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:_]+$")  # no user:password@ (it would be published)


def check_project_url(url: str) -> str:
    """The project URL normalised (no fragment, no trailing slash); ValueError when it is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not _HOST.match(parts.netloc) or any(c.isspace() for c in url.strip()):
        raise ValueError(
            f"must be the http(s) URL of a Label Studio project, e.g. https://ls.example.com/projects/12; got {url!r}"
        )
    path = quote(parts.path.rstrip("/"), safe=_SAFE_PATH)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def task_url(project_url: str | None, task_id: object) -> str | None:
    """``<project>/data?task=<id>`` (other query parameters kept), or None without a URL or an id."""
    if not project_url or task_id is None:
        return None
    parts = urlsplit(project_url)
    path = parts.path if parts.path.endswith("/data") else parts.path + "/data"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "task"] + [("task", str(task_id))]
    # quote_via=quote encodes spaces, parentheses and quotes, so the URL stays one Markdown token
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, quote_via=quote, safe=""), ""))
