"""A small GitHub REST client: the headers GitHub asks for, pagination through the ``link``
header, rate limits honoured, and errors that say what to do.

The token is sent only in the ``Authorization`` header, only to the configured API base URL,
and never appears in a message: every error text goes through :meth:`GitHubClient.redact`.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from depaudit import __version__
from depaudit.errors import ConfigError, DepauditError, ExitCode
from depaudit.http import describe_failure

API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TIMEOUT = 30.0
#: the longest depaudit sleeps for a rate limit before it gives up with an error
DEFAULT_MAX_WAIT = 60.0
#: waits per request before giving up (secondary limits ask for a back-off)
MAX_RATE_LIMIT_RETRIES = 2
#: secondary limit without any header: GitHub says "wait at least one minute"
SECONDARY_LIMIT_WAIT = 60.0
#: the most depaudit reads of one response (a page of 100 comments of 64 KiB is ~7 MB)
MAX_BODY = 32 * 1024 * 1024


class GitHubError(DepauditError):
    """A GitHub API call failed; the message is one line and names the call."""

    exit_code = ExitCode.SERVICE

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class GitHubRateLimitError(GitHubError):
    """GitHub's primary or secondary rate limit, and the wait is longer than we may sleep."""


def token_from_env(environ: Mapping[str, str]) -> str:
    """``GITHUB_TOKEN``, else ``GH_TOKEN``; a clear error when neither is set."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = environ.get(name, "").strip()
        if value:
            return value
    raise ConfigError(
        "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN)",
        "in a workflow pass `env: GITHUB_TOKEN: ${{ github.token }}` or the action's `token` input",
    )


def _default_session(auth_lookup: Callable[[str], str | None]) -> requests.Session:
    """depaudit's shared session (``depaudit.http.build_session``: pooled, default timeouts,
    credentials re-checked on every redirect) when it exists, else a plain Session with the same
    User-Agent. Retries are ours (rate limits), so the shared session is built without any."""
    try:
        http: Any = importlib.import_module("depaudit.http")
        session = http.build_session(jobs=4, auth_lookup=auth_lookup, retries=0)
        if isinstance(session, requests.Session):
            return session
    except Exception:  # fall back to a plain session; never fail here
        pass
    session = requests.Session()
    session.headers["User-Agent"] = f"depaudit/{__version__}"
    return session


class GitHubClient:
    """Calls one GitHub API base URL with one token."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = DEFAULT_MAX_WAIT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not token:
            raise ConfigError("no GitHub token: set GITHUB_TOKEN (or GH_TOKEN)")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._origin = _origin(self.api_url)
        self._token = token
        self.session = session if session is not None else _default_session(self._auth_for)
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.timeout = timeout

    # -- helpers -----------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _auth_for(self, url: str) -> str | None:
        return f"Bearer {self._token}" if _origin(url) == self._origin else None

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.api_url}/{path.lstrip('/')}"

    def _headers(self, url: str) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"depaudit/{__version__}",
        }
        auth = self._auth_for(url)  # the token goes only to its own host
        if auth:
            headers["Authorization"] = auth
        return headers

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        what: str | None = None,
    ) -> requests.Response:
        """One call; waits out short rate limits; raises :class:`GitHubError` on failure."""
        url = self.url(path)
        label = what or f"{method} {urlsplit(url).path}"
        retries = 0
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=self._headers(url),
                    timeout=self.timeout,
                    stream=True,
                )
                _read_capped(response, label)
            except requests.RequestException as exc:
                raise GitHubError(
                    self.redact(f"{label}: cannot reach {self.api_url} ({describe_failure(exc)})"),
                    "check GITHUB_API_URL and the network",
                ) from None
            wait = self._rate_limit_wait(response)
            if wait is None:
                break
            if wait > self.max_wait or retries >= MAX_RATE_LIMIT_RETRIES:
                raise GitHubRateLimitError(
                    f"{label}: GitHub rate limit reached (HTTP {response.status_code}); "
                    f"it resets in {int(wait)} s",
                    "try again later; a workflow's GITHUB_TOKEN has 1,000 requests per hour "
                    "per repository",
                    status=response.status_code,
                )
            retries += 1
            self.sleep(max(wait, 0.0))
        if response.status_code >= 400:
            raise self._error(label, response)
        return response

    def _rate_limit_wait(self, response: requests.Response) -> float | None:
        """Seconds to wait when ``response`` is a rate limit, else ``None``."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(float(retry_after), 0.0)
            except ValueError:
                return SECONDARY_LIMIT_WAIT
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                return SECONDARY_LIMIT_WAIT
            return max(reset - self.clock(), 0.0) + 1.0
        if "rate limit" in _message(response).lower():
            return SECONDARY_LIMIT_WAIT
        if response.status_code == 429:
            return SECONDARY_LIMIT_WAIT
        return None

    def _error(self, label: str, response: requests.Response) -> GitHubError:
        status = response.status_code
        message = _message(response)
        detail = f": {message}" if message else ""
        hint: str | None = None
        if status == 401:
            hint = "the token is invalid or expired"
        elif status == 403:
            hint = (
                "the token lacks permission; pull requests from forks get a read-only "
                "GITHUB_TOKEN, so use the job summary there, or `pull_request_target` with "
                "care; otherwise grant `permissions: pull-requests: write`"
            )
        elif status == 404:
            hint = (
                "check GITHUB_REPOSITORY and the pull request number; a token without access "
                "to a private repository also gets 404"
            )
        elif status == 410:
            hint = "issues are disabled in this repository, or the API version is gone"
        elif status == 422:
            hint = "GitHub rejected the request body"
        return GitHubError(
            self.redact(f"{label}: HTTP {status}{detail}"), hint and self.redact(hint), status
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        return _json(response, self)

    def paginate(
        self, path: str, params: Mapping[str, str | int] | None = None, *, what: str | None = None
    ) -> Iterator[Any]:
        """Every item of a list endpoint, following ``rel="next"`` links as given."""
        url: str | None = self.url(path)
        first = True
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            response = self.request("GET", url, params=params if first else None, what=what)
            first = False
            page = _json(response, self)
            if not isinstance(page, list):
                raise GitHubError(f"{what or url}: expected a JSON list from GitHub")
            yield from page
            url = response.links.get("next", {}).get("url")


def _read_capped(response: requests.Response, label: str, limit: int | None = None) -> None:
    """Read a streamed body into ``response`` (so ``.json()`` works), never past ``limit``
    bytes once inflated: an oversized or compression-bomb answer is an error, not a MemoryError."""
    limit = MAX_BODY if limit is None else limit
    chunks: list[bytes] = []
    size = 0
    with response:
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > limit:
                raise GitHubError(f"{label}: GitHub's answer exceeds {limit} bytes")
            chunks.append(chunk)
    response._content = b"".join(chunks)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return " ".join(str(body["message"]).split())[:300]
    return ""


def _json(response: requests.Response, client: GitHubClient) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            client.redact(f"{response.request.method} {response.url}: GitHub sent no JSON")
        ) from None
