"""Credentials never leak: the tokens of ``.npmrc`` (``_authToken``, ``_auth``, ``_password``)
and ``GITHUB_TOKEN`` / ``GH_TOKEN`` appear in no report format, no warning or error line, no
``--debug`` output, no ``--output`` file and no file of the cache, in healthy runs and in runs
where the registry refuses the credentials or fails."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from depaudit.cli import main
from faults.conftest import RawServer, Seen, send, write_project

AUTH_TOKEN = "npm_AUTHTOKENsecret1111111111111111"
AUTH_PAIR = "carol:AUTHPAIRsecret2222"
PASSWORD = "PASSWORDsecret3333"
GITHUB_TOKEN = "ghp_GITHUBTOKENsecret44444444444444444"
GH_TOKEN = "gho_GHTOKENsecret555555555555555555555"
B64_AUTH = base64.b64encode(AUTH_PAIR.encode()).decode()
B64_PASSWORD = base64.b64encode(PASSWORD.encode()).decode()
BASIC_PASSWORD = base64.b64encode(f"dave:{PASSWORD}".encode()).decode()
#: every form a secret could take in output
SECRETS = [
    AUTH_TOKEN,
    AUTH_PAIR,
    B64_AUTH,
    PASSWORD,
    B64_PASSWORD,
    BASIC_PASSWORD,
    GITHUB_TOKEN,
    GH_TOKEN,
    "AUTHTOKENsecret",
    "GITHUBTOKENsecret",
    "GHTOKENsecret",
]


@pytest.fixture
def servers() -> Iterator[tuple[RawServer, RawServer]]:
    main_registry, scoped = RawServer(), RawServer(host="localhost")
    yield main_registry, scoped
    main_registry.close()
    scoped.close()


def _npmrc(project: Path, main_registry: RawServer, scoped: RawServer) -> None:
    host = f"//127.0.0.1:{main_registry.port}/"
    scoped_host = f"//localhost:{scoped.port}/"
    (project / ".npmrc").write_text(
        f"registry={main_registry.url}\n"
        f"{host}:_authToken=${{NPM_TOKEN}}\n"
        f"{host}basic/:_auth={B64_AUTH}\n"
        f"@corp:registry={scoped.url}\n"
        f"{scoped_host}:username=dave\n"
        f"{scoped_host}:_password={B64_PASSWORD}\n"
    )


def _scan_everything(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: object
) -> list[tuple[str, str]]:
    """Every format, to stdout and to --output, with and without --debug and --strict."""
    seen: list[tuple[str, str]] = []
    reports = tmp_path / "reports"
    reports.mkdir(exist_ok=True)
    for fmt in ("table", "json", "markdown", "sarif"):
        for extra in ([], ["--debug", "--strict"], ["--output", str(reports / f"r.{fmt}")]):
            argv = [
                *(["--debug"] if "--debug" in extra else []),
                "scan",
                str(project),
                "--no-npm",
                "--cache-dir",
                str(tmp_path / "cache"),
                "--cache-ttl",
                "0",
                "--format",
                fmt,
                *[e for e in extra if e != "--debug"],
            ]
            code = main(argv)
            out, err = capsys.readouterr()
            seen.append((f"{fmt} {extra} exit {code} stdout", out))
            seen.append((f"{fmt} {extra} stderr", err))
    for what in ("info", "clear"):
        main(["cache", what, "--cache-dir", str(tmp_path / "other-cache")])
        out, err = capsys.readouterr()
        seen.append((f"cache {what}", out + err))
    seen.extend((str(p), p.read_bytes().decode("latin-1")) for p in reports.iterdir())
    cache = tmp_path / "cache"
    assert cache.is_dir() and any(cache.rglob("*")), "the scans must have used the cache"
    seen.extend((str(p), p.read_bytes().decode("latin-1")) for p in cache.rglob("*") if p.is_file())
    seen.append(("log records", "\n".join(r.getMessage() for r in caplog.records)))  # type: ignore[attr-defined]
    return seen


def _assert_clean(seen: list[tuple[str, str]]) -> None:
    for where, text in seen:
        for secret in SECRETS:
            assert secret not in text, f"{secret[:8]}... leaked in {where}"


def _route_all(server: RawServer, handler: object) -> None:
    for name in ("/alpha", "/beta", "/@corp%2fgamma"):
        server.routes[name] = handler  # type: ignore[assignment]


def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY", raising=False)
    monkeypatch.setenv("NPM_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("GH_TOKEN", GH_TOKEN)


def test_healthy_registry_no_secret_anywhere(
    tmp_path: Path,
    servers: tuple[RawServer, RawServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _env(monkeypatch)
    main_registry, scoped = servers
    project = write_project(
        tmp_path / "app", {"alpha": "1.0.0", "beta": "2.0.0", "@corp/gamma": "2.0.0"}
    )
    _npmrc(project, main_registry, scoped)
    _assert_clean(_scan_everything(project, tmp_path, capsys, caplog))
    # the credentials were really in use, each only on its own host
    assert {s.headers.get("authorization") for s in main_registry.seen} == {f"Bearer {AUTH_TOKEN}"}
    assert {s.headers.get("authorization") for s in scoped.seen} == {f"Basic {BASIC_PASSWORD}"}


@pytest.mark.parametrize("status", [401, 403, 500])
def test_refused_or_failing_registry_no_secret_anywhere(
    status: int,
    tmp_path: Path,
    servers: tuple[RawServer, RawServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _env(monkeypatch)
    import functools

    from depaudit import http as depaudit_http
    from depaudit.services import registry as registry_module

    monkeypatch.setattr(
        registry_module,
        "build_session",
        functools.partial(depaudit_http.build_session, retries=0, read_timeout=2.0),
    )
    main_registry, scoped = servers

    def refuse(conn: object, seen: Seen) -> None:
        echo = seen.headers.get("authorization", "")  # a hostile server echoes the secret
        send(conn, status, f'{{"error": "bad credentials {echo}"}}'.encode())  # type: ignore[arg-type]

    _route_all(main_registry, refuse)
    _route_all(scoped, refuse)
    project = write_project(tmp_path / "app", {"alpha": "1.0.0", "@corp/gamma": "2.0.0"})
    _npmrc(project, main_registry, scoped)
    seen = _scan_everything(project, tmp_path, capsys, caplog)
    _assert_clean(seen)
    assert any("npm registry" in text and f"HTTP {status}" in text for _, text in seen)


def test_github_comment_errors_never_show_the_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = RawServer()
    try:

        def echo(conn: object, seen: Seen) -> None:
            body = f'{{"message": "Bad credentials: {seen.headers.get("authorization")}"}}'
            send(conn, 401, body.encode())  # type: ignore[arg-type]

        server.routes["/repos/octo/app/issues/7/comments"] = echo
        report = tmp_path / "r.md"
        report.write_text("hi\n")
        for name, token in (("GITHUB_TOKEN", GITHUB_TOKEN), ("GH_TOKEN", GH_TOKEN)):
            monkeypatch.delenv("GITHUB_TOKEN", raising=False)
            monkeypatch.delenv("GH_TOKEN", raising=False)
            monkeypatch.setenv(name, token)
            monkeypatch.setenv("GITHUB_API_URL", server.url.rstrip("/"))
            monkeypatch.setenv("GITHUB_REPOSITORY", "octo/app")
            for debug in ([], ["--debug"]):
                code = main([*debug, "github", "comment", "--report", str(report), "--pr", "7"])
                out, err = capsys.readouterr()
                assert code == 3
                assert "HTTP 401" in err
                _assert_clean([(f"{name} {debug}", out + err)])
    finally:
        server.close()
