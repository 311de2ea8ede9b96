"""The one GitHub REST client: advisories, repository checks and the Action all speak to GitHub
through :class:`GitHubClient`.

It sits on the lowest floor next to :mod:`depaudit.http`, so both the services (advisories,
repository signals) and the ``github`` commands on top may use it without an import against
the pipeline. Its requests go through libcurl (:func:`depaudit.http_bulk.fetch_one`), with a
session's settings: where no ``*_proxy`` variable is set, a
:class:`~depaudit.transport.PlainSession`, so a scan's GitHub advisories import no
``requests`` (46-80 ms); else :func:`depaudit.http.build_session`'s.

What it guarantees:

* the headers GitHub asks for; the token only in ``Authorization``, only to the origin
  (scheme, host, port) of the configured API URL: never to a ``link: rel="next"`` URL or a
  redirect on another host, and never in a message (every text goes through :meth:`redact`);
* one reading of rate limits (:func:`rate_limit_wait`): ``Retry-After`` (seconds or an HTTP
  date), ``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``, a secondary limit named in
  the message, a bare 429; absurd values (20 digits, ``1e23``, ``nan``, ``inf``) are finite and
  capped, never a crash;
* at most :data:`MAX_BODY` bytes read of one response (inflated) and :data:`MAX_RUN_BYTES` of
  all responses of one client, so a hostile or broken API cannot fill memory.

Why this module is slightly over ~400 lines: it is the one GitHub client, and the rate-limit
reading, the caps and the error hints belong to the one request loop.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from depaudit import __version__
from depaudit.errors import ConfigError, DepauditError, ExitCode

if TYPE_CHECKING:  # the network stack is imported when the first request is made
    from depaudit.http_bulk import Session

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
DEFAULT_API_URL = "https://api.github.com"
DEFAULT_TIMEOUT = 30.0
#: the longest depaudit sleeps for a rate limit before it gives up with an error
DEFAULT_MAX_WAIT = 60.0
#: waits per request before giving up (secondary limits ask for a back-off)
MAX_RATE_LIMIT_RETRIES = 2
#: secondary limit without any header: GitHub says "wait at least one minute"
SECONDARY_LIMIT_WAIT = 60.0
#: no announced wait is taken as longer than a day (keeps absurd headers finite)
WAIT_CEILING = 24 * 3600.0
#: the most depaudit reads of one response (a page of 100 comments of 64 KiB is ~7 MB)
MAX_BODY = 32 * 1024 * 1024
#: the most depaudit reads of all GitHub responses of one client (one run)
MAX_RUN_BYTES = 256 * 1024 * 1024

_TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")


class Answer:
    """A response of the API, read whole (what :meth:`GitHubClient.request` returns): its
    ``status_code``, ``headers`` (by name in any case), ``content``, the request's ``method``
    and final ``url``; ``json()`` decodes the content (ValueError when it is not JSON)."""

    __slots__ = ("status_code", "headers", "content", "method", "url")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], content: bytes, method: str, url: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.method = method
        self.url = url

    def json(self) -> Any:
        import json

        return json.loads(self.content)


def _with_params(url: str, params: Mapping[str, str | int] | None) -> str:
    """``url`` with ``params`` as requests adds them (``urlencode``, after ``&`` when the URL
    has a query already)."""
    if not params:
        return url
    from urllib.parse import urlencode

    query = urlencode(list(params.items()), doseq=True)
    base, _, fragment = url.partition("#")
    joined = f"{base}&{query}" if urlsplit(base).query else f"{base.rstrip('?')}?{query}"
    return f"{joined}#{fragment}" if fragment else joined


_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class GitHubError(DepauditError):
    """A GitHub API call failed; the message is one line and names the call."""

    exit_code = ExitCode.SERVICE

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        status: int | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        #: for transport failures: what went wrong in a few words ("timed out")
        self.reason = reason


class GitHubRateLimitError(GitHubError):
    """GitHub's primary or secondary rate limit, and the wait is longer than we may sleep."""

    def __init__(self, message: str, hint: str | None, status: int, wait: float) -> None:
        super().__init__(message, hint, status)
        #: seconds until GitHub allows the next request (finite, at most WAIT_CEILING)
        self.wait = wait


def find_token(environ: Mapping[str, str]) -> str | None:
    """``GITHUB_TOKEN``, else ``GH_TOKEN``, else None."""
    for name in _TOKEN_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def require_token(environ: Mapping[str, str]) -> str:
    """:func:`find_token`, with a clear error when neither variable is set."""
    token = find_token(environ)
    if token:
        return token
    raise ConfigError(
        "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN)",
        "in a workflow pass `env: GITHUB_TOKEN: ${{ github.token }}` or the action's `token` input",
    )


def api_url_from_env(environ: Mapping[str, str]) -> str:
    """``GITHUB_API_URL`` (set by GitHub Actions, also on Enterprise Server) or the public API."""
    return (environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``link`` header, if any."""
    match = _NEXT.search(header or "")
    return match.group(1) if match else None


def origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) in lower case: where a credential may go."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _finite(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _retry_after(text: str, now: float) -> float:
    """Seconds of a ``Retry-After`` value (delta seconds or an HTTP date); unreadable or
    non-finite values count as GitHub's documented minute."""
    seconds = _finite(text)
    if seconds is None:
        try:
            from email.utils import parsedate_to_datetime  # on use: start-up time

            when = parsedate_to_datetime(text.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return SECONDARY_LIMIT_WAIT
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), WAIT_CEILING)


def rate_limit_wait(
    status: int, headers: Mapping[str, str], message: str, now: float
) -> float | None:
    """Seconds to wait when a response is a rate limit (finite, 0..WAIT_CEILING), else None."""
    if status not in (403, 429):
        return None
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        return _retry_after(retry_after, now)
    if (headers.get("x-ratelimit-remaining") or "").strip() == "0":
        reset = _finite(headers.get("x-ratelimit-reset"))
        if reset is None:
            return SECONDARY_LIMIT_WAIT
        return min(max(reset - now, 0.0) + 1.0, WAIT_CEILING)
    if "rate limit" in message.lower() or status == 429:
        return SECONDARY_LIMIT_WAIT
    return None


def when_allowed(now: float, wait: float) -> str:
    """``2027-01-15 09:00 UTC``: when a rate limit of ``wait`` seconds ends."""
    return f"{datetime.fromtimestamp(now + min(wait, WAIT_CEILING), UTC):%Y-%m-%d %H:%M} UTC"


class GitHubClient:
    """Calls one GitHub API base URL, with one token (or anonymously when it is None)."""

    def __init__(
        self,
        token: str | None,
        api_url: str = DEFAULT_API_URL,
        *,
        session: Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = DEFAULT_MAX_WAIT,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int | None = None,
        max_run_bytes: int | None = None,
    ) -> None:
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._origin = origin(self.api_url)
        self._token = token or None
        self._session = session
        self._stopped = False  # (stop: a session made after is stopped too)
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.timeout = timeout
        self.max_body = max_body
        self.max_run_bytes = max_run_bytes
        #: bytes read of all responses so far, and HTTP requests sent
        self.received = 0
        self.requests_made = 0

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient(api_url={self.api_url!r}, token={'***' if self._token else None})"

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def session(self) -> Session:
        """The session's settings, made on first use (an offline run imports no HTTP stack):
        without ``requests`` where the environment names no proxy."""
        if self._session is None:
            from depaudit.transport import plain_environment

            if plain_environment():
                from depaudit.transport import plain_session as make
            else:
                from depaudit.http import build_session as make  # type: ignore[assignment]
            # retries are ours (rate limits); credentials are chosen again on every redirect
            self._session = make(4, self._auth_for, retries=0)
            if self._stopped:
                self.stop()
        return self._session

    def stop(self) -> None:
        """End the requests of this client: the session's run budget expires, so the one in
        flight ends and no other connects (a session made later, at once)."""
        from depaudit.budget import expire_budget

        self._stopped = True
        expire_budget(self._session)

    def close(self) -> None:
        """Close the session if one was made."""
        if self._session is not None:
            self._session.close()

    # -- helpers -----------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _auth_for(self, url: str) -> str | None:
        if self._token and origin(url) == self._origin:
            return f"Bearer {self._token}"
        return None

    def same_origin(self, url: str) -> bool:
        return origin(url) == self._origin

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.api_url}/{path.lstrip('/')}"

    def _headers(self, url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = {
            "Accept": ACCEPT,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"depaudit/{__version__}",
        }
        headers.update(extra or {})
        headers.pop("Authorization", None)
        auth = self._auth_for(url)  # the token goes only to its own origin
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
        headers: Mapping[str, str] | None = None,
        max_wait: float | None = None,
    ) -> Answer:
        """One call; waits out short rate limits; raises :class:`GitHubError` on failure
        (HTTP 400 and above, transport errors, a body over the cap)."""
        url = _with_params(self.url(path), params)
        label = what or f"{method} {urlsplit(url).path}"
        longest = self.max_wait if max_wait is None else max_wait
        data: bytes | None = None
        sent = self._headers(url, headers)
        if json is not None:  # as requests sends ``json=``
            import json as json_module

            data = json_module.dumps(json, allow_nan=False).encode("utf-8")
            if not any(k.lower() == "content-type" for k in sent):
                sent["Content-Type"] = "application/json"
        retries = 0
        while True:
            self.requests_made += 1
            response = self._send(method.upper(), url, sent, data, label)
            # (the body parsed for a message only where it may say a rate limit)
            status = response.status_code
            message = _message(response) if status in (403, 429) else ""
            wait = rate_limit_wait(status, response.headers, message, self.clock())
            if wait is None:
                break
            if wait > longest or retries >= MAX_RATE_LIMIT_RETRIES:
                raise GitHubRateLimitError(
                    f"{label}: GitHub rate limit reached (HTTP {response.status_code}); "
                    f"it resets in {int(wait)} s",
                    "try again later; a workflow's GITHUB_TOKEN has 1,000 requests per hour "
                    "per repository",
                    status=response.status_code,
                    wait=wait,
                )
            retries += 1
            self.sleep(wait)
        if response.status_code >= 400:
            raise self._error(label, response)
        return response

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], data: bytes | None, label: str
    ) -> Answer:
        """One request, its body read whole, never past the cap of one response nor the cap
        of the run, counted once inflated: an oversized or compression-bomb answer is an
        error, not a MemoryError; a failure to reach GitHub is one too."""
        from depaudit.failures import describe_failure
        from depaudit.http_bulk import Job, fetch_one
        from depaudit.run_budget import BodyTooLarge, BudgetSpent

        limit = MAX_BODY if self.max_body is None else self.max_body
        run_limit = MAX_RUN_BYTES if self.max_run_bytes is None else self.max_run_bytes
        left = max(run_limit - self.received, 0)  # (the run's cap, where it is the nearer)
        job = Job(None, url, headers, data, method)
        got = fetch_one(self.session, job, (self.timeout, self.timeout), min(limit, left))
        if isinstance(got, BodyTooLarge) and not isinstance(got, BudgetSpent):
            if left < limit:
                raise GitHubError(f"{label}: GitHub's answers of this run exceed {run_limit} bytes")
            raise GitHubError(f"{label}: GitHub's answer exceeds {limit} bytes")
        if isinstance(got, Exception):
            # (its session's time, 300 s, spent, or the client stopped: no request is sent)
            reason = "stopped" if isinstance(got, BudgetSpent) else describe_failure(got)
            raise GitHubError(
                self.redact(f"{label}: cannot reach {self.api_url} ({reason})"),
                "check GITHUB_API_URL and the network",
                reason=reason,
            )
        content = bytes(got.body)
        self.received += len(content)
        return Answer(got.status, got.headers, content, job.verb, got.url)

    def _error(self, label: str, response: Answer) -> GitHubError:
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

    def next_url(self, response: Answer, label: str) -> str | None:
        """The ``rel="next"`` URL of a page, as given, when it is on the API's own origin; a
        link elsewhere is an error (the token must not follow it, and the pages are GitHub's)."""
        url = next_link(response.headers.get("link"))
        if url is None:
            return None
        if not self.same_origin(url):
            raise GitHubError(
                self.redact(f"{label}: GitHub's next-page link leaves {self.api_url}"),
                "check GITHUB_API_URL",
            )
        return url

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
            url = self.next_url(response, what or "GitHub")


def _message(response: Answer) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return " ".join(str(body["message"]).split())[:300]
    return ""


def _json(response: Answer, client: GitHubClient) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            client.redact(f"{response.method} {response.url}: GitHub sent no JSON")
        ) from None
