"""One sticky pull-request comment, updated in place (api-notes §3.4).

The comment carries a hidden marker; depaudit lists the PR's comments (every page), PATCHes
the first one that holds the marker and was written by the bot, and POSTs a new one only when
there is none, so a PR never collects a comment per push.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from depaudit.errors import ConfigError, UsageError
from depaudit.github.actions import ActionsEnv, pull_request_number, read_event, truncate_chars
from depaudit.github_client import GitHubClient, require_token
from depaudit.slots import dataclass

MARKER = "<!-- depaudit -->"
#: GitHub rejects issue comment bodies over 65,536 characters
BODY_LIMIT = 65_536
DEFAULT_AUTHOR = "github-actions[bot]"
_KEY = re.compile(r"^[A-Za-z0-9._/-]{1,64}$")
_ANY_MARKER = re.compile(r"[ \t]*<!-- depaudit(?::[A-Za-z0-9._/-]{1,64})? -->[ \t]*\n?")


def marker_for(key: str | None) -> str:
    """``<!-- depaudit -->``, or ``<!-- depaudit:KEY -->`` for one of several reports on a PR."""
    if not key:
        return MARKER
    if not _KEY.match(key):
        raise UsageError(
            f"comment key {key!r} is not valid", "use letters, digits and . _ / - (at most 64)"
        )
    return f"<!-- depaudit:{key} -->"


def build_body(report: str, marker: str = MARKER, *, limit: int = BODY_LIMIT) -> str:
    """The marker, then the report, cut at a line end to fit GitHub's limit."""
    note = (
        "\n\n> [!NOTE]\n> This report was cut to fit GitHub's comment size limit; "
        "see the job summary for more.\n"
    )
    head = f"{marker}\n"
    report = _ANY_MARKER.sub("", report)  # the markdown format may carry its own marker
    return head + truncate_chars(report.strip("\n") + "\n", limit - len(head), note)


def has_marker(body: str, marker: str) -> bool:
    """The marker is the body's first line (a quote of it elsewhere does not count)."""
    return body.lstrip("\ufeff").split("\n", 1)[0].strip() == marker


@dataclass(frozen=True, slots=True)
class CommentResult:
    action: str  # "created" or "updated" or "unchanged"
    comment_id: int
    url: str


def find_sticky(
    client: GitHubClient, owner: str, repo: str, number: int, marker: str, author: str
) -> dict[str, Any] | None:
    """The first comment (by ascending id) holding ``marker`` whose author is ``author``."""
    path = f"repos/{owner}/{repo}/issues/{number}/comments"
    what = f"listing comments of {owner}/{repo}#{number}"
    for comment in client.paginate(path, {"per_page": 100}, what=what):
        if not isinstance(comment, dict):
            continue
        body = comment.get("body")
        user = comment.get("user")
        login = user.get("login") if isinstance(user, dict) else None
        if isinstance(body, str) and has_marker(body, marker) and login == author:
            return comment
    return None


def upsert_comment(
    client: GitHubClient,
    owner: str,
    repo: str,
    number: int,
    body: str,
    *,
    marker: str = MARKER,
    author: str = DEFAULT_AUTHOR,
) -> CommentResult:
    """Create the sticky comment, or update it in place."""
    if not has_marker(body, marker):
        body = build_body(body, marker)
    existing = find_sticky(client, owner, repo, number, marker, author)
    if existing is not None:
        comment_id = int(existing["id"])
        if existing.get("body") == body:
            return CommentResult("unchanged", comment_id, str(existing.get("html_url", "")))
        data = client.request(
            "PATCH",
            f"repos/{owner}/{repo}/issues/comments/{comment_id}",
            json={"body": body},
            what=f"updating comment {comment_id} on {owner}/{repo}#{number}",
        ).json()
        return CommentResult("updated", comment_id, str(data.get("html_url", "")))
    data = client.request(
        "POST",
        f"repos/{owner}/{repo}/issues/{number}/comments",
        json={"body": body},
        what=f"commenting on {owner}/{repo}#{number}",
    ).json()
    return CommentResult("created", int(data["id"]), str(data.get("html_url", "")))


Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class CommentTarget:
    owner: str
    repo: str
    number: int


def resolve_target(env: ActionsEnv, repo: str | None, pr: int | None) -> CommentTarget:
    if repo:
        env = ActionsEnv(repository=repo)
    owner, name = env.require_repository()
    number = pr
    if number is None:
        if env.event_path is None and repo is None:
            raise ConfigError("no pull request: GITHUB_EVENT_PATH is not set", "pass --pr N")
        if env.event_path is not None:
            number = pull_request_number(read_event(env.event_path))
    if number is None:
        raise ConfigError(
            f"the event {env.event_name or ''!s} is not about a pull request".replace("  ", " "),
            "run on `pull_request` (or `pull_request_target`), or pass --pr N",
        )
    return CommentTarget(owner, name, number)


def post_comment(
    report: str,
    *,
    environ: Mapping[str, str],
    repo: str | None = None,
    pr: int | None = None,
    key: str | None = None,
    author: str = DEFAULT_AUTHOR,
    sleep: Sleep = time.sleep,
) -> str:
    """Create or update the sticky comment; returns its URL."""
    env = ActionsEnv.from_environ(environ)
    token = require_token(environ)
    target = resolve_target(ActionsEnv.from_environ(environ), repo, pr)
    marker = marker_for(key)
    client = GitHubClient(token, env.api_url, sleep=sleep)
    body = build_body(report, marker)
    result = upsert_comment(
        client, target.owner, target.repo, target.number, body, marker=marker, author=author
    )
    return result.url
