"""A misbehaving GitHub API never produces a traceback or leaks the token: ``depaudit github
comment`` through ``main(argv)`` ends with exit 3 (a service failed) and one stderr line, or
succeeds after waiting out a short rate limit. The token never follows a redirect to another
host."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.github_client import GitHubClient, GitHubError

from .conftest import RawServer, Seen, reset, send

TOKEN = "ghp_SECRETgithubTOKEN0123456789abcdefAB"
LIST = "/repos/octo/app/issues/7/comments"


@pytest.fixture
def comment(
    tmp_path: Path,
    server: RawServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> object:
    report = tmp_path / "report.md"
    report.write_text("## depaudit\n\nnothing to report\n")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", server.url.rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")

    def run() -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["github", "comment", "--report", str(report), "--pr", "7"])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert TOKEN not in out + err
        return code, out, err

    return run


def created(conn: socket.socket, seen: Seen) -> None:
    if seen.method == "GET":
        send(conn, 200, b"[]")
    else:
        body = {"id": 1, "html_url": "https://github.invalid/octo/app/pull/7#issuecomment-1"}
        send(conn, 201, json.dumps(body).encode())


def test_healthy_api_posts_the_comment(server: RawServer, comment: object) -> None:
    server.routes[LIST] = created
    code, out, _ = comment()  # type: ignore[operator]
    assert code == 0
    assert "issuecomment-1" in out
    assert [s.method for s in server.seen] == ["GET", "POST"]
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in server.seen)


def test_429_with_retry_after_is_waited_out(server: RawServer, comment: object) -> None:
    calls: list[str] = []

    def limited(conn: socket.socket, seen: Seen) -> None:
        calls.append(seen.method)
        if len(calls) == 1:
            send(conn, 429, b'{"message": "slow down"}', {"Retry-After": "1"})
        else:
            created(conn, seen)

    server.routes[LIST] = limited
    code, _, _ = comment()  # type: ignore[operator]
    assert code == 0
    assert calls == ["GET", "GET", "POST"]


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_errors_exit_3_with_one_line(code: int, server: RawServer, comment: object) -> None:
    server.routes[LIST] = lambda conn, seen: send(conn, code, b'{"message": "Server Error"}')
    exit_code, out, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"HTTP {code}" in err


def test_html_instead_of_json(server: RawServer, comment: object) -> None:
    page = b"<html><body>Unicorn! This page is taking too long to load.</body></html>"
    server.routes[LIST] = lambda conn, seen: send(conn, 200, page, {"Content-Type": "text/html"})
    exit_code, _, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert "no JSON" in err
    assert len(err.strip().splitlines()) == 1


def test_truncated_json(server: RawServer, comment: object) -> None:
    server.routes[LIST] = lambda conn, seen: send(conn, 200, b'[{"id": 1, "body": "<!-- dep')
    exit_code, _, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert len(err.strip().splitlines()) == 1


def test_connection_reset_mid_body(server: RawServer, comment: object) -> None:
    def handler(conn: socket.socket, seen: Seen) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n[{"id": 1')
        reset(conn)

    server.routes[LIST] = handler
    exit_code, _, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert "cannot reach" in err or "no JSON" in err


def test_unreachable_api(comment: object, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    exit_code, _, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert "cannot reach" in err


def test_redirect_to_another_host_drops_the_token(
    server: RawServer, other_server: RawServer, comment: object
) -> None:
    server.routes[LIST] = lambda conn, seen: send(
        conn, 302, b"", {"Location": f"{other_server.url.rstrip('/')}{LIST}"}
    )
    other_server.routes[LIST] = created
    comment()  # type: ignore[operator]
    moved = [s for s in other_server.seen if s.path == LIST]
    assert moved, "the redirect was followed"
    assert all("authorization" not in s.headers for s in moved)
    assert server.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_response_slower_than_the_timeout(server: RawServer) -> None:
    """The client's own timeout (30 s by default) is a parameter; the failure is one line."""

    def slow(conn: socket.socket, seen: Seen) -> None:
        import time

        time.sleep(2)
        send(conn, 200, b"[]")

    server.routes[LIST] = slow
    client = GitHubClient(TOKEN, server.url, timeout=0.3, sleep=lambda s: None)
    with pytest.raises(GitHubError) as caught:
        client.get_json(LIST)
    assert "cannot reach" in caught.value.message
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("bomb", [False, True], ids=["oversized", "gzip-bomb"])
def test_oversized_answer_is_cut_at_the_cap(
    bomb: bool, server: RawServer, comment: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip

    from depaudit import github_client as api

    monkeypatch.setattr(api, "MAX_BODY", 1024 * 1024)
    body = b'[{"id": 1, "body": "' + b"x" * (8 * 1024 * 1024) + b'"}]'
    headers = {"Content-Encoding": "gzip"} if bomb else {}
    payload = gzip.compress(body) if bomb else body
    server.routes[LIST] = lambda conn, seen: send(conn, 200, payload, headers)
    exit_code, _, err = comment()  # type: ignore[operator]
    assert exit_code == 3
    assert "exceeds 1048576 bytes" in err
    assert len(err.strip().splitlines()) == 1
