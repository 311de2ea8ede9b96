"""`depaudit github comment` against a loopback server speaking GitHub's REST shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_github import BOT, FakeGitHub
from pytest_httpserver import HTTPServer

from depaudit.cli import main
from depaudit.github.comment import BODY_LIMIT, MARKER, build_body, upsert_comment
from depaudit.github_client import GitHubClient, GitHubError, GitHubRateLimitError

TOKEN = "ghs_s3cr3tT0kenValue0123456789abcdefXYZ"
PR = 42


@pytest.fixture
def github(httpserver: HTTPServer) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(httpserver, TOKEN).install()
    yield fake
    httpserver.clear()


@pytest.fixture
def actions_env(github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "number": PR,
                "pull_request": {
                    "number": PR,
                    "base": {"ref": "main", "sha": "a" * 40, "repo": {"full_name": "octo/app"}},
                    "head": {"ref": "feature", "sha": "b" * 40, "repo": {"full_name": "fork/app"}},
                },
                "repository": {"full_name": "octo/app"},
                "sender": {"login": "octocat"},
            }
        )
    )
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    report = tmp_path / "report.md"
    report.write_text("## depaudit\n\n3 suspects: 1 high\n")
    return report


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert TOKEN not in out and TOKEN not in err  # never, whatever happened
    return code, out, err


def test_first_run_creates_second_updates_the_same_comment(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    [comment] = github.comments[PR]
    assert out.strip() == comment["html_url"]
    assert comment["body"].startswith(MARKER + "\n")
    assert "3 suspects: 1 high" in comment["body"]
    assert [w.method for w in github.writes()] == ["POST"]

    actions_env.write_text("## depaudit\n\n1 suspect: 0 high\n")
    code, out2, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    assert [w.method for w in github.writes()] == ["POST", "PATCH"]
    assert len(github.comments[PR]) == 1  # never a second comment
    assert out2 == out
    assert "1 suspect: 0 high" in github.comments[PR][0]["body"]
    assert "3 suspects" not in github.comments[PR][0]["body"]


def test_requests_carry_githubs_headers(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["github", "comment", "--report", str(actions_env)], capsys)
    for seen in github.requests:
        assert seen.headers["authorization"] == f"Bearer {TOKEN}"
        assert seen.headers["accept"] == "application/vnd.github+json"
        assert seen.headers["x-github-api-version"] == "2022-11-28"
        assert seen.headers["user-agent"].startswith("depaudit/")
    assert github.requests[0].method == "GET"
    assert "per_page=100" in github.requests[0].query


def test_marker_on_page_two_is_found_and_updated(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.per_page_cap = 5  # so a dozen comments need three pages
    for i in range(7):
        github.add_comment(PR, f"review comment {i}", login="octocat")
    # a human quoting the marker is not the sticky comment; neither is a different key
    github.add_comment(PR, f"> {MARKER}\nquoted by a person", login="octocat")
    github.add_comment(PR, "<!-- depaudit:api -->\nanother report", login=BOT)
    sticky = github.add_comment(PR, f"{MARKER}\nold report", login=BOT)
    for i in range(3):
        github.add_comment(PR, f"later comment {i}", login="octocat")
    assert [c["id"] for c in github.comments[PR]].index(sticky["id"]) == 9  # page two

    code, out, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    assert out.strip() == sticky["html_url"]
    assert [w.method for w in github.writes()] == ["PATCH"]
    assert github.writes()[0].path.endswith(f"/issues/comments/{sticky['id']}")
    assert "3 suspects" in sticky["body"]
    assert len(github.comments[PR]) == 13
    pages = [r.query for r in github.requests if r.method == "GET"]
    assert len(pages) == 2  # stopped at the page that had it
    assert "page=2" in pages[1]


def test_comment_key_keeps_one_sticky_per_key(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["github", "comment", "--report", str(actions_env)], capsys)
    run(["github", "comment", "--report", str(actions_env), "--comment-key", "api"], capsys)
    run(["github", "comment", "--report", str(actions_env), "--comment-key", "api"], capsys)
    bodies = [c["body"].splitlines()[0] for c in github.comments[PR]]
    assert bodies == [MARKER, "<!-- depaudit:api -->"]


def test_other_users_marker_comment_is_not_edited(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.add_comment(PR, f"{MARKER}\nposted by a person", login="octocat")
    code, _, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    assert [w.method for w in github.writes()] == ["POST"]
    assert github.comments[PR][0]["body"] == f"{MARKER}\nposted by a person"


def test_forbidden_says_fork_and_suggests_alternatives(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github.failures.append(
        (
            "POST",
            403,
            {},
            {
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest",
                "status": "403",
            },
        )
    )
    code, out, err = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert "HTTP 403" in err and "Resource not accessible by integration" in err
    assert "fork" in err and "pull_request_target" in err and "job summary" in err


def test_not_found_names_the_repository(
    github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/gone")
    code, out, err = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert "octo/gone#42" in err and "HTTP 404" in err and "GITHUB_REPOSITORY" in err


def test_missing_token_is_a_one_line_config_error(
    github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    code, out, err = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 2
    assert out == "" and err.count("\n") == 1
    assert "GITHUB_TOKEN" in err and "GH_TOKEN" in err
    assert github.requests == []


def test_gh_token_is_accepted(
    github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    code, _, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    assert len(github.comments[PR]) == 1


def test_bad_credentials_do_not_echo_the_token(
    github: FakeGitHub,
    actions_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "-wrong")
    github.token = TOKEN  # the server expects the right one, so it answers 401
    code, out, err = main(["github", "comment", "--report", str(actions_env)]), *capsys.readouterr()
    assert code == 3
    assert "HTTP 401" in err and "Bad credentials" in err
    assert TOKEN not in err and TOKEN not in out


def test_not_a_pull_request_event(
    github: FakeGitHub,
    actions_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = tmp_path / "schedule.json"
    event.write_text(json.dumps({"schedule": "17 6 * * 1", "repository": {}}))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "schedule")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    code, _, err = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 2
    assert "not about a pull request" in err and "--pr" in err
    assert github.requests == []
    # --pr names it explicitly
    code, out, _ = run(["github", "comment", "--report", str(actions_env), "--pr", "7"], capsys)
    assert code == 0 and len(github.comments[7]) == 1


def test_broken_event_payload_is_an_input_error(
    github: FakeGitHub,
    actions_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = tmp_path / "event.json"
    event.write_text("{not json")
    code, _, err = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 2
    assert err.startswith(f"depaudit: error: {event}: event payload is not JSON")


def test_missing_report_file(
    github: FakeGitHub, actions_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["github", "comment", "--report", str(tmp_path / "nope.md")], capsys)
    assert code == 2
    assert f"{tmp_path / 'nope.md'}: not found" in err
    assert github.requests == []


def test_huge_report_is_cut_to_the_comment_limit(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = "| pkg-{} | high | reason " + "x" * 40 + " |\n"
    actions_env.write_text("".join(row.format(i) for i in range(3000)))
    code, _, _ = run(["github", "comment", "--report", str(actions_env)], capsys)
    assert code == 0
    body = github.comments[PR][0]["body"]
    assert len(body) <= BODY_LIMIT
    assert body.startswith(MARKER)
    assert "| pkg-0 | high |" in body
    assert "cut to fit" in body


def test_build_body_keeps_small_reports_whole() -> None:
    assert build_body("hello\n") == f"{MARKER}\nhello\n"
    long = "line\n" * 20_000
    body = build_body(long, limit=1000)
    assert len(body) <= 1000 and body.count("line\n") > 100


# -- rate limits (the client, with an injected sleep) ---------------------------------------------


def client_for(
    github: FakeGitHub, sleeps: list[float], now: float = 1_795_000_000.0
) -> GitHubClient:
    return GitHubClient(TOKEN, github.api_url, sleep=sleeps.append, clock=lambda: now, max_wait=60)


def test_secondary_rate_limit_with_retry_after_waits_then_succeeds(github: FakeGitHub) -> None:
    github.failures.append(
        (
            "POST",
            403,
            {"retry-after": "7"},
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again.",
                "status": "403",
            },
        )
    )
    sleeps: list[float] = []
    result = upsert_comment(client_for(github, sleeps), "octo", "app", PR, "report")
    assert result.action == "created"
    assert sleeps == [7.0]
    assert [w.method for w in github.writes()] == ["POST", "POST"]
    assert len(github.comments[PR]) == 1


def test_primary_rate_limit_waits_until_reset_when_short(github: FakeGitHub) -> None:
    now = 1_795_000_000.0
    github.failures.append(
        (
            "GET",
            429,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 20)},
            {"message": "API rate limit exceeded", "status": "429"},
        )
    )
    sleeps: list[float] = []
    upsert_comment(client_for(github, sleeps, now), "octo", "app", PR, "report")
    assert sleeps == [21.0]
    assert len(github.comments[PR]) == 1


def test_primary_rate_limit_far_away_stops_with_a_clear_error(github: FakeGitHub) -> None:
    now = 1_795_000_000.0
    github.failures.append(
        (
            "GET",
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 1800)},
            {"message": "API rate limit exceeded for installation ID 1.", "status": "403"},
        )
    )
    sleeps: list[float] = []
    with pytest.raises(GitHubRateLimitError) as info:
        upsert_comment(client_for(github, sleeps, now), "octo", "app", PR, "report")
    assert sleeps == []
    assert "rate limit" in str(info.value) and "1801 s" in str(info.value)
    assert TOKEN not in str(info.value)
    assert github.writes() == []


def test_a_plain_403_is_not_mistaken_for_a_rate_limit(github: FakeGitHub) -> None:
    github.failures.append(("GET", 403, {}, {"message": "Resource not accessible by integration"}))
    sleeps: list[float] = []
    with pytest.raises(GitHubError) as info:
        upsert_comment(client_for(github, sleeps), "octo", "app", PR, "report")
    assert sleeps == []
    assert info.value.status == 403


def test_token_is_not_sent_to_another_host(github: FakeGitHub) -> None:
    client = GitHubClient(TOKEN, github.api_url)
    assert client._headers(github.api_url + "/x").get("Authorization") == f"Bearer {TOKEN}"
    assert "Authorization" not in client._headers("https://elsewhere.invalid/x")


def test_report_carrying_its_own_marker_gets_exactly_one(
    github: FakeGitHub, actions_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actions_env.write_text(f"{MARKER}\n## depaudit\n\nbody\n")
    run(["github", "comment", "--report", str(actions_env), "--comment-key", "api"], capsys)
    [keyed] = github.comments[PR]
    assert keyed["body"] == "<!-- depaudit:api -->\n## depaudit\n\nbody\n"
    # the unkeyed sticky is a different comment: the keyed one is not taken for it
    run(["github", "comment", "--report", str(actions_env)], capsys)
    assert [c["body"].splitlines()[0] for c in github.comments[PR]] == [
        "<!-- depaudit:api -->",
        MARKER,
    ]
    assert github.comments[PR][1]["body"].count(MARKER) == 1


def test_the_command_line_default_author_is_the_comments() -> None:
    from depaudit.github import commands, comment

    assert commands.DEFAULT_AUTHOR == comment.DEFAULT_AUTHOR
