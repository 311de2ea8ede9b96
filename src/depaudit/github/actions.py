"""The GitHub Actions side of a run: the environment, the event payload, the job summary and
step outputs. No network here."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depaudit.errors import ConfigError, InputError
from depaudit.slots import dataclass

#: GitHub refuses a step summary over 1 MiB; stay a little under it
SUMMARY_LIMIT_BYTES = 1024 * 1024 - 1024
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target"})


@dataclass(frozen=True, slots=True)
class ActionsEnv:
    """What GitHub Actions tells a step through its environment (api-notes §4.1)."""

    repository: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    event_name: str | None = None
    event_path: Path | None = None
    step_summary: Path | None = None
    output: Path | None = None
    run_id: str | None = None
    workspace: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ActionsEnv:
        env = os.environ if environ is None else environ

        def path(name: str) -> Path | None:
            value = env.get(name, "").strip()
            return Path(value) if value else None

        return cls(
            repository=env.get("GITHUB_REPOSITORY", "").strip() or None,
            api_url=env.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
            server_url=env.get("GITHUB_SERVER_URL", "").strip() or "https://github.com",
            event_name=env.get("GITHUB_EVENT_NAME", "").strip() or None,
            event_path=path("GITHUB_EVENT_PATH"),
            step_summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            run_id=env.get("GITHUB_RUN_ID", "").strip() or None,
            workspace=path("GITHUB_WORKSPACE"),
        )

    @property
    def is_pull_request(self) -> bool:
        return self.event_name in PULL_REQUEST_EVENTS

    @property
    def run_url(self) -> str | None:
        if not (self.repository and self.run_id):
            return None
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    def require_repository(self) -> tuple[str, str]:
        repo = self.repository or ""
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError(
                f"GITHUB_REPOSITORY={repo!r} is not owner/repo",
                "run inside GitHub Actions, or set GITHUB_REPOSITORY",
            )
        return owner, name


def read_event(path: Path) -> dict[str, Any]:
    """The webhook payload at ``GITHUB_EVENT_PATH``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "event payload not found", "check GITHUB_EVENT_PATH") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(path, f"event payload is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(path, "event payload is not a JSON object")
    return data


def pull_request_number(event: Mapping[str, Any]) -> int | None:
    """``number``, else ``pull_request.number``, else ``issue.number`` for issue_comment on a
    PR; ``None`` when the event is not about a pull request."""
    pr = event.get("pull_request")
    candidates: list[Any] = [event.get("number")]
    if isinstance(pr, dict):
        candidates.append(pr.get("number"))
    issue = event.get("issue")
    if isinstance(issue, dict) and isinstance(issue.get("pull_request"), dict):
        candidates.append(issue.get("number"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def pull_request_base(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(base sha, base ref)`` of the pull request, each ``None`` when absent."""
    pr = event.get("pull_request")
    base = pr.get("base") if isinstance(pr, dict) else None
    if not isinstance(base, dict):
        return None, None
    sha, ref = base.get("sha"), base.get("ref")
    return (sha if isinstance(sha, str) else None, ref if isinstance(ref, str) else None)


def truncate_utf8(text: str, limit: int, note: str) -> str:
    """``text`` if it fits in ``limit`` UTF-8 bytes, else its head (cut at a line end) plus
    ``note``, all within ``limit``."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(note.encode("utf-8"))
    head = data[: max(room, 0)].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    if cut > 0:
        head = head[: cut + 1]
    return head + note


def truncate_chars(text: str, limit: int, note: str) -> str:
    """The same, counted in characters (GitHub's comment body limit)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(note), 0)]
    cut = head.rfind("\n")
    if cut > 0:
        head = head[: cut + 1]
    return head + note


def append_summary(path: Path, markdown: str, *, limit: int = SUMMARY_LIMIT_BYTES) -> int:
    """Append ``markdown`` to the step summary file within GitHub's 1 MiB; returns the bytes
    written. The limit counts what the file already holds from this step."""
    try:
        used = path.stat().st_size
    except OSError:
        used = 0
    note = (
        "\n\n> [!NOTE]\n> The report was cut to fit GitHub's 1 MiB job summary; "
        "the full report is in the step's output files.\n"
    )
    text = truncate_utf8(markdown, max(limit - used, 0), note)
    if not text.endswith("\n"):
        text += "\n"
    try:
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(path, f"cannot write the job summary ({exc.strerror or exc})") from None
    return len(text.encode("utf-8"))


def set_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT``; multi-line values use a random
    heredoc delimiter, as GitHub documents."""
    lines: list[str] = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    try:
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
    except OSError as exc:
        raise InputError(path, f"cannot write step outputs ({exc.strerror or exc})") from None


def annotation(level: str, message: str) -> str:
    """A workflow command (``::warning::…``) with GitHub's escaping of ``%``, CR and LF."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level}::{escaped}"
