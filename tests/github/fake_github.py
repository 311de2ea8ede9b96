"""A loopback fake of the GitHub issue-comments API (api-notes §3.0, §3.4), on pytest-httpserver.

It keeps comments in memory, pages the list endpoint with a ``link`` header built from absolute
URLs (as GitHub does), answers POST with 201 and PATCH with 200 and the comment object, and
records every request so tests can check headers, methods and bodies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

BOT = "github-actions[bot]"
_LIST = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    server: HTTPServer
    token: str
    repo: str = "octo/app"
    per_page_cap: int = 100
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    next_id: int = 1000
    #: (method, status, headers, json body) answered once before the normal handling
    failures: list[tuple[str, int, dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def install(self) -> FakeGitHub:
        self.server.expect_request(re.compile(r"^/.*")).respond_with_handler(self._handle)
        return self

    @property
    def api_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def add_comment(self, number: int, body: str, login: str = BOT) -> dict[str, Any]:
        self.next_id += 1
        owner, name = self.repo.split("/")
        cid = self.next_id
        comment = {
            "id": cid,
            "node_id": f"IC_{cid}",
            "url": f"{self.api_url}/repos/{owner}/{name}/issues/comments/{cid}",
            "html_url": f"https://github.invalid/{owner}/{name}/pull/{number}#issuecomment-{cid}",
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "created_at": "2026-11-25T10:00:00Z",
            "updated_at": "2026-11-25T10:00:00Z",
            "issue_url": f"{self.api_url}/repos/{owner}/{name}/issues/{number}",
            "author_association": "NONE",
            "performed_via_github_app": None,
            "reactions": {"total_count": 0},
        }
        self.comments.setdefault(number, []).append(comment)
        return comment

    def writes(self) -> list[Seen]:
        return [r for r in self.requests if r.method in ("POST", "PATCH")]

    # -- the server side ---------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        base = {
            "content-type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": "999",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": "1795000000",
            "x-ratelimit-resource": "core",
        }
        base.update(headers or {})
        return Response(json.dumps(body), status=status, headers=base)

    def _handle(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True)) if request.get_data() else None
        except ValueError:
            body = None
        self.requests.append(
            Seen(
                request.method,
                request.path,
                request.query_string.decode(),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._json(401, {"message": "Bad credentials", "status": "401"})
        for i, (method, status, headers, payload) in enumerate(self.failures):
            if method == request.method:
                del self.failures[i]
                return self._json(status, payload, headers)
        owner, name = self.repo.split("/")
        match = _LIST.match(request.path)
        if match and (match[1], match[2]) == (owner, name):
            number = int(match[3])
            if request.method == "GET":
                return self._list(request, number)
            if request.method == "POST":
                created = self.add_comment(number, body["body"])
                return self._json(201, created, {"location": created["url"]})
        match = _ONE.match(request.path)
        if match and (match[1], match[2]) == (owner, name) and request.method == "PATCH":
            cid = int(match[3])
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == cid:
                        comment["body"] = body["body"]
                        comment["updated_at"] = "2026-11-25T11:00:00Z"
                        return self._json(200, comment)
        return self._json(
            404,
            {
                "message": "Not Found",
                "documentation_url": "https://docs.github.com/rest",
                "status": "404",
            },
        )

    def _list(self, request: Request, number: int) -> Response:
        items = sorted(self.comments.get(number, []), key=lambda c: c["id"])
        per_page = min(int(request.args.get("per_page", 30)), self.per_page_cap)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        headers: dict[str, str] = {}
        if last > 1:
            base = self.server.url_for(request.path)
            links = []
            if page < last:
                links.append(f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"')
                links.append(f'<{base}?per_page={per_page}&page={last}>; rel="last"')
            if page > 1:
                links.insert(0, f'<{base}?per_page={per_page}&page={page - 1}>; rel="prev"')
                links.append(f'<{base}?per_page={per_page}&page=1>; rel="first"')
            headers["link"] = ", ".join(links)
        return self._json(200, chunk, headers)
