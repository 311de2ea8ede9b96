"""npm configuration: registry precedence, scopes, credentials, and where tokens may go."""

from __future__ import annotations

import base64
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from depaudit.config import Settings
from depaudit.errors import ConfigError
from depaudit.http import build_session
from depaudit.http_bulk import get_one
from depaudit.npm_process import RegistryQuery
from depaudit.npmrc import (
    NpmConfig,
    expand_env,
    load_npm_config,
    nerf_dart,
    parse_npmrc,
    query_for,
    registry_query,
)

SECRET = "npm_s3cr3tT0ken"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "package.json").write_text('{"name": "app"}')
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def load(project: Path, home: Path, env: dict[str, str] | None = None, **kw: object) -> NpmConfig:
    return load_npm_config(project, environ=env or {}, home=home, ask_npm=False, **kw)  # type: ignore[arg-type]


# -- where the registry comes from ----------------------------------------------------------


def test_precedence_flag_env_project_user(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text("registry=https://user.registry.invalid/\n")
    assert load(project, home).registry == "https://user.registry.invalid/"
    assert load(project, home).origin == str(home / ".npmrc")
    (project / ".npmrc").write_text("registry = https://project.registry.invalid/npm\n")
    assert load(project, home).registry == "https://project.registry.invalid/npm/"
    env = {"npm_config_registry": "https://env.registry.invalid/"}
    assert load(project, home, env).registry == "https://env.registry.invalid/"
    assert load(project, home, {"NPM_CONFIG_REGISTRY": "http://up.invalid"}).registry == (
        "http://up.invalid/"
    )
    flagged = load(project, home, env, registry="https://flag.registry.invalid/")
    assert flagged.registry == "https://flag.registry.invalid/"
    assert flagged.origin == "--registry"


def test_project_npmrc_is_found_from_a_subfolder(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("registry=https://project.registry.invalid/\n")
    sub = project / "src" / "deep"
    sub.mkdir(parents=True)
    assert load(sub, home).registry == "https://project.registry.invalid/"


def test_userconfig_env_points_elsewhere(project: Path, home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.npmrc"
    other.write_text("registry=https://other.registry.invalid/\n")
    env = {"npm_config_userconfig": str(other)}
    assert load(project, home, env).registry == "https://other.registry.invalid/"


def test_no_registry_anywhere_is_a_config_error(project: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match="no registry configured") as info:
        load(project, home)
    assert "--registry" in (info.value.hint or "")


def test_falls_back_to_npm_config_get(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_npm = bin_dir / "npm"
    fake_npm.write_text(
        "#!/bin/sh\n"
        'echo "npm warn Unknown user config" >&2\n'
        '[ "$1 $2 $3" = "config get registry" ] && echo "https://npm.registry.invalid/"\n'
    )
    fake_npm.chmod(fake_npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = load_npm_config(project, environ={}, home=home, ask_npm=True)
    assert config.registry == "https://npm.registry.invalid/"
    assert config.origin == "npm config get registry"


def test_npm_printing_undefined_is_a_config_error(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_npm = bin_dir / "npm"
    fake_npm.write_text("#!/bin/sh\necho undefined\n")
    fake_npm.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ConfigError):
        load_npm_config(project, environ={}, home=home, ask_npm=True)


def test_bad_registry_url(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("registry=ftp://nope/\n")
    with pytest.raises(ConfigError, match="not an http"):
        load(project, home)


# -- parsing --------------------------------------------------------------------------------


def test_parse_comments_quotes_and_env() -> None:
    env = {"TOKEN": SECRET, "HOST": "h.invalid"}
    values = parse_npmrc(
        "; comment\n# another\n"
        'registry="https://${HOST}/"\n'
        "//${HOST}/:_authToken=${TOKEN}\n"
        "always-auth\n"
        "missing=${NOPE}\noptional=${NOPE?}\n"
        "escaped=\\${TOKEN}\n",
        env,
    )
    assert values["registry"] == "https://h.invalid/"
    assert values["//h.invalid/:_authToken"] == SECRET
    assert values["always-auth"] == "true"
    assert values["missing"] == "${NOPE}"
    assert values["optional"] == ""
    assert values["escaped"] == "${TOKEN}"


def test_quoted_keys_are_unquoted_as_npm_reads_them() -> None:
    """npm's ini parser unquotes keys as it does values (checked with npm 11)."""
    values = parse_npmrc(
        '"registry" = https://q.registry.invalid/\n'
        "'proxy'=http://p.invalid:1\n"
        '"//${HOST}/:_authToken"=t\n'
        '"ca[]"=one\n"ca[]"=two\n'
        '"unclosed=x\n',
        {"HOST": "h.invalid"},
    )
    assert values["registry"] == "https://q.registry.invalid/"
    assert values["proxy"] == "http://p.invalid:1"
    assert values["//h.invalid/:_authToken"] == "t"
    assert values["ca"] == "one\ntwo"
    assert values['"unclosed'] == "x"  # not a quoted key: kept as written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x=null", {"x": "null"}),  # (no dot: kept)
        ("a.b=null", {}),  # moved into section a
        ('//h.invalid/:_authToken="null"', {}),  # quoted, the same
        ("a\\.b=null", {"a.b": "null"}),  # escaped dots only: renamed
        ("a=1\na.b=null", {}),  # a, a string, becomes the section
        ("k=v\n1.x=null", {"k": "v"}),
        ("b=2\n2.y=null\n2=3", {"b": "2"}),  # (2 is taken first: JavaScript's order)
        ("a.b=nulls", {"a.b": "nulls"}),
    ],
)
def test_a_dotted_key_whose_value_is_null_is_nested_as_npm_reads_it(
    text: str, expected: dict[str, str]
) -> None:
    """npm's ini gives null a section's type, and moves such a key into sections, which
    npm's configuration does not read (each case checked with npm 11's ini; the property
    test, tests/property/test_npmrc_ini.py, found the first)."""
    assert parse_npmrc(text, {}) == expected


def test_expand_env_leaves_unknown_alone() -> None:
    assert expand_env("a${X}b${Y?}c", {"X": "1"}) == "a1bc"


@pytest.mark.parametrize(
    ("url", "dart"),
    [
        ("https://h.invalid/", "//h.invalid/"),
        ("https://h.invalid:443/npm/pkg", "//h.invalid/npm/"),
        ("http://127.0.0.1:8080/a/b/", "//127.0.0.1:8080/a/b/"),
        ("https://H.INVALID/x?y=1", "//h.invalid/"),
    ],
)
def test_nerf_dart(url: str, dart: str) -> None:
    assert nerf_dart(url) == dart


# -- scopes and credentials -----------------------------------------------------------------


def test_scoped_registries(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text(
        "registry=https://default.invalid/\n@corp:registry=https://corp.invalid/npm/\n"
    )
    (project / ".npmrc").write_text("@team:registry=https://team.invalid\n")
    config = load(project, home, {"npm_config_@env:registry": "https://env.invalid/"})
    assert config.registry_for("lodash") == "https://default.invalid/"
    assert config.registry_for("@corp/tool") == "https://corp.invalid/npm/"
    # npm looks a scope up as written (npm-registry-fetch's pickRegistry): no other case
    assert config.registry_for("@Corp/tool") == "https://default.invalid/"
    assert config.registry_for("@team/x") == "https://team.invalid/"
    assert config.registry_for("@env/x") == "https://env.invalid/"
    assert config.registry_for("@other/x") == "https://default.invalid/"


def test_auth_kinds_and_scope_rules(project: Path, home: Path) -> None:
    password = base64.b64encode(b"pa:ss").decode()
    (home / ".npmrc").write_text(
        "registry=https://r.invalid/\n"
        f"//r.invalid/:_authToken={SECRET}\n"
        "//r.invalid/private/:_auth=dXNlcjpwdw==\n"
        f"//basic.invalid:8443/:username=bob\n//basic.invalid:8443/:_password={password}\n"
    )
    config = load(project, home)
    assert config.auth_for("https://r.invalid/express") == f"Bearer {SECRET}"
    # the longest scope wins
    assert config.auth_for("https://r.invalid/private/pkg") == "Basic dXNlcjpwdw=="
    expected = base64.b64encode(b"bob:pa:ss").decode()
    assert config.auth_for("https://basic.invalid:8443/x") == f"Basic {expected}"
    # never another host, port, or a look-alike host
    assert config.auth_for("https://basic.invalid/x") is None
    assert config.auth_for("https://r.invalid:444/express") is None
    assert config.auth_for("https://r.invalid.evil.invalid/express") is None
    assert config.auth_for("https://other.invalid/express") is None


def test_secrets_never_in_repr(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text(f"registry=https://r.invalid/\n//r.invalid/:_authToken={SECRET}\n")
    config = load(project, home)
    assert SECRET not in repr(config)
    assert SECRET not in repr(config.credentials)
    assert SECRET not in str(config)
    assert "1 hidden" in repr(config)


def test_token_from_env_expansion(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text(
        "registry=https://r.invalid/\n//r.invalid/:_authToken=${NPM_TOKEN}\n"
    )
    config = load(project, home, {"NPM_TOKEN": SECRET})
    assert config.auth_for("https://r.invalid/x") == f"Bearer {SECRET}"


def test_bad_password_is_a_config_error(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text(
        "registry=https://r.invalid/\n//r.invalid/:username=u\n//r.invalid/:_password=!!!\n"
    )
    with pytest.raises(ConfigError, match="base64"):
        load(project, home)


# -- tokens on the wire (two loopback servers on different ports) ---------------------------


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def _authorization_seen(server: HTTPServer) -> list[str | None]:
    return [request.headers.get("Authorization") for request, _ in server.log]


def _config_for(server: HTTPServer, project: Path, home: Path) -> NpmConfig:
    base = server.url_for("/")
    (project / ".npmrc").write_text(
        f"registry={base}\n{nerf_dart(base)}:_authToken=${{NPM_TOKEN}}\n"
    )
    return load(project, home, {"NPM_TOKEN": SECRET})


def test_token_goes_to_its_own_server_only(
    httpserver: HTTPServer, other_server: HTTPServer, project: Path, home: Path
) -> None:
    httpserver.expect_request("/pkg").respond_with_json({"ok": 1})
    other_server.expect_request("/pkg").respond_with_json({"ok": 2})
    config = _config_for(httpserver, project, home)
    assert httpserver.port != other_server.port
    session = build_session(2, config.auth_for, retries=0)
    assert get_one(session, httpserver.url_for("/pkg")).status == 200
    assert get_one(session, other_server.url_for("/pkg")).status == 200
    assert _authorization_seen(httpserver) == [f"Bearer {SECRET}"]
    assert _authorization_seen(other_server) == [None]


def test_token_is_dropped_on_redirect_to_another_port(
    httpserver: HTTPServer, other_server: HTTPServer, project: Path, home: Path
) -> None:
    other_server.expect_request("/landing").respond_with_json({"ok": 1})
    httpserver.expect_request("/pkg").respond_with_response(
        Response(status=302, headers={"Location": other_server.url_for("/landing")})
    )
    config = _config_for(httpserver, project, home)
    session = build_session(2, config.auth_for, retries=0)
    got = get_one(session, httpserver.url_for("/pkg"))
    assert got.status == 200 and got.url.endswith("/landing")
    assert _authorization_seen(httpserver) == [f"Bearer {SECRET}"]
    assert _authorization_seen(other_server) == [None]


def test_token_is_dropped_on_redirect_out_of_its_path(
    httpserver: HTTPServer, project: Path, home: Path
) -> None:
    """Same host and port, but outside the credential's path: requests alone would keep it."""
    base = httpserver.url_for("/npm/")
    (project / ".npmrc").write_text(f"registry={base}\n{nerf_dart(base)}:_authToken={SECRET}\n")
    config = load(project, home)
    httpserver.expect_request("/npm/pkg").respond_with_response(
        Response(status=301, headers={"Location": httpserver.url_for("/elsewhere/pkg")})
    )
    httpserver.expect_request("/elsewhere/pkg").respond_with_json({})
    httpserver.expect_request("/npm/back").respond_with_json({})
    session = build_session(2, config.auth_for, retries=0)
    get_one(session, httpserver.url_for("/npm/pkg"))
    get_one(session, httpserver.url_for("/npm/back"))
    assert _authorization_seen(httpserver) == [f"Bearer {SECRET}", None, f"Bearer {SECRET}"]


def test_explicit_header_is_not_replaced_and_netrc_is_ignored(
    httpserver: HTTPServer, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / ".netrc").write_text("machine 127.0.0.1 login u password netrc-secret\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(home / ".netrc"))
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        if request.path == "/start":
            return Response(status=302, headers={"Location": "/next"})
        return Response(b"{}", status=200)

    httpserver.expect_request("/start").respond_with_handler(handler)
    httpserver.expect_request("/next").respond_with_handler(handler)
    session = build_session(2, lambda url: None, retries=0)
    get_one(session, httpserver.url_for("/start"))
    assert seen == [None, None]  # neither the first request nor the redirect used ~/.netrc


def test_fetch_timeout_and_retries(project: Path, home: Path) -> None:
    (home / ".npmrc").write_text("registry=https://r.invalid/\n")
    assert (load(project, home).fetch_timeout, load(project, home).fetch_retries) == (None, None)
    (home / ".npmrc").write_text("registry=https://r.invalid/\nfetch-timeout=120000\n")
    (project / ".npmrc").write_text("fetch-retries = 5\n")
    config = load(project, home)
    assert (config.fetch_timeout, config.fetch_retries) == (120.0, 5)
    env = {"npm_config_fetch_timeout": "2500", "NPM_CONFIG_FETCH_RETRIES": "0"}
    config = load(project, home, env)
    assert (config.fetch_timeout, config.fetch_retries) == (2.5, 0)
    for bad in ("fetch-retries=-1", "fetch-timeout=0", "fetch-timeout=1.5s"):
        (project / ".npmrc").write_text(bad + "\n")
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            load(project, home)


# -- npm itself: outside the project, its errors surfaced, never offline (issue 16.2, 16.3) --

ASSETS = Path(__file__).resolve().parent / "assets"


@pytest.mark.skipif(shutil.which("npm") is None, reason="needs the real npm")
def test_devengines_of_another_package_manager_do_not_hide_the_registry(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real npm 11 fails every command inside this real pnpm 11 project (EBADDEVENGINES:
    devEngines.packageManager names pnpm); npm is asked outside it."""
    project = tmp_path / "p"
    shutil.copytree(ASSETS / "projects-pm" / "pnpm11", project)
    monkeypatch.setenv("npm_config_registry", "https://npm.registry.invalid/")
    monkeypatch.setenv("npm_config_userconfig", str(home / ".npmrc"))
    config = load_npm_config(project, environ={}, home=home, ask_npm=True)
    assert config.registry == "https://npm.registry.invalid/"
    assert config.origin == "npm config get registry"


def _fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "npm-calls"
    fake_npm = bin_dir / "npm"
    fake_npm.write_text(f'#!/bin/sh\necho "$PWD $*" >> "{calls}"\n{script}')
    fake_npm.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return calls


def test_a_failing_npm_says_why(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_npm(
        tmp_path,
        monkeypatch,
        'echo "npm error code EBADDEVENGINES" >&2\necho "npm error more" >&2\nexit 1\n',
    )
    with pytest.raises(ConfigError) as info:
        load_npm_config(project, environ={}, home=home, ask_npm=True)
    assert "failed (exit 1): npm error code EBADDEVENGINES; npm error more" in info.value.message


def test_offline_never_asks_npm_and_uses_the_registry_npm_gave_online(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depaudit.services.registry import OFFLINE_PLACEHOLDER, build_registry_service

    calls = _fake_npm(tmp_path, monkeypatch, 'echo "https://npm.registry.invalid/"\n')
    monkeypatch.setenv("HOME", str(home))
    for key in [k for k in os.environ if k.lower().startswith("npm_config_")]:
        monkeypatch.delenv(key)
    cache_dir = tmp_path / "cache"
    offline = build_registry_service(project, offline=True, cache_dir=cache_dir)
    assert offline.config.registry == OFFLINE_PLACEHOLDER  # nothing remembered yet
    assert not calls.exists()  # offline asked nothing
    online = build_registry_service(project, cache_dir=cache_dir)
    assert online.config.registry == "https://npm.registry.invalid/"
    assert str(project) not in calls.read_text()  # npm ran outside the project
    calls.unlink()
    offline = build_registry_service(project, offline=True, cache_dir=cache_dir)
    assert offline.config.registry == "https://npm.registry.invalid/"
    assert not calls.exists()


@pytest.mark.parametrize("url", ["http://[::1/", "http://host:99999/", "http://host:x/"])
def test_malformed_registry_url_is_a_config_error(project: Path, home: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="not an http"):
        load(project, home, registry=url)


# -- npm asked ahead (RegistryQuery): started while the tree is read, read when needed -------


def test_npm_is_started_ahead_only_where_it_will_be_asked(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = tmp_path / "notifier"
    calls = _fake_npm(
        tmp_path,
        monkeypatch,
        f'echo "$npm_config_update_notifier" > "{notifier}"\necho "https://npm.registry.invalid/"\n',
    )
    given = registry_query(project, "https://flag.registry.invalid/", environ={}, home=home)
    env = {"npm_config_registry": "https://env.registry.invalid/"}
    assert given is None
    assert registry_query(project, None, environ=env, home=home) is None
    (project / ".npmrc").write_text("registry=https://project.registry.invalid/\n")
    assert registry_query(project, None, environ={}, home=home) is None
    (project / ".npmrc").unlink()
    (home / ".npmrc").write_text("registry=https://user.registry.invalid/\n")
    assert registry_query(project, None, environ={}, home=home) is None
    (home / ".npmrc").write_text("fund=false\n")
    assert not calls.exists()  # npm was started for none of them
    asked = registry_query(project, None, environ={}, home=home)
    assert isinstance(asked, RegistryQuery)
    with asked:
        config = load_npm_config(project, environ={}, home=home, asked=asked)
    assert config.registry == "https://npm.registry.invalid/"
    assert config.origin == "npm config get registry"
    assert len(calls.read_text().splitlines()) == 1  # asked once: the answer started ahead
    assert notifier.read_text() == "false\n"  # npm does not look for a newer npm meanwhile


def test_an_npmrc_that_cannot_be_read_is_reported_by_the_configuration_not_the_query(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_npm(tmp_path, monkeypatch, 'echo "https://npm.registry.invalid/"\n')
    (project / ".npmrc").mkdir()
    assert registry_query(project, None, environ={}, home=home) is None
    with pytest.raises(ConfigError, match=".npmrc"):
        load_npm_config(project, environ={}, home=home)
    assert not calls.exists()


def test_no_query_offline_or_without_the_registry(tmp_path: Path) -> None:
    assert query_for(Settings(directory=tmp_path, offline=True)) is None
    assert query_for(Settings(directory=tmp_path, use_registry=False)) is None
    assert query_for(Settings(directory=tmp_path, registry="https://r.registry.invalid/")) is None


def test_a_query_closed_before_its_answer_stops_npm_and_leaves_nothing(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that ends early (bad input, Ctrl-C) closes the query: npm is stopped and reaped,
    and its folder is removed."""
    started = tmp_path / "npm-pid"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    finished = tmp_path / "npm-finished"
    (bin_dir / "npm").write_text(
        f'#!/bin/sh\necho $$ > "{started}.part"\nmv "{started}.part" "{started}"\n'
        f'sleep 5\necho late > "{finished}"\n'
    )
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    asked = registry_query(project, None, environ={}, home=home)
    assert asked is not None
    assert [p.name[:13] for p in temporary.iterdir()] == ["depaudit-npm-"]
    for _ in range(1000):  # npm's shell has started and said who it is
        if started.exists():
            break
        time.sleep(0.01)
    pid = int(started.read_text())
    asked.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped: not even a zombie is left
    assert not finished.exists()  # stopped, not waited for
    assert list(temporary.iterdir()) == []
    asked.close()  # a second close does nothing


def test_npm_that_cannot_be_started_is_said_when_the_registry_is_needed(
    project: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder for npm to run in (a temporary folder that is gone): no exception where
    the query starts, one clear configuration error where the registry is needed."""
    calls = _fake_npm(tmp_path, monkeypatch, 'echo "https://npm.registry.invalid/"\n')
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    asked = registry_query(project, None, environ={}, home=home)
    assert asked is not None
    with asked, pytest.raises(ConfigError, match="could not run") as info:
        load_npm_config(project, environ={}, home=home, asked=asked)
    assert "no registry configured" in info.value.message
    assert not calls.exists()
