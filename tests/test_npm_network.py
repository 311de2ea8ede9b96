"""npm's proxy and TLS settings (``https-proxy``/``proxy``, ``noproxy``, ``strict-ssl``,
``cafile``/``ca``): read from every npmrc npm reads, applied to both of the registry's
transports (requests and libcurl) over the environment's variables, as npm applies them.
Servers are real, on loopback: a pytest-httpserver plays the proxy (a proxied GET arrives in
absolute form), and a TLS one is signed by a throwaway CA (trustme)."""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from conftest import loopback_tls
from depaudit.cli import main
from depaudit.errors import ConfigError
from depaudit.failures import TransportError
from depaudit.http import DepauditSession, build_session
from depaudit.http_bulk import get_one
from depaudit.npm_network import NpmNetwork, bypasses_proxy, redact_url
from depaudit.npmrc import NpmConfig, load_npm_config

REGISTRY = "http://registry.invalid/"
DEAD_PROXY = "http://127.0.0.1:9"  # a closed port: refused at once


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


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def load(project: Path, home: Path, env: dict[str, str] | None = None) -> NpmConfig:
    return load_npm_config(project, REGISTRY, environ=env or {}, home=home, ask_npm=False)


def pem(tmp_path: Path) -> tuple[Path, str]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    path = tmp_path / "corp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path, path.read_text()


# -- reading the settings -------------------------------------------------------------------


def test_nothing_set_leaves_the_environment_in_charge(project: Path, home: Path) -> None:
    network = load(project, home).network
    assert network == NpmNetwork() and not network.configured


def test_https_proxy_wins_over_proxy_and_the_environment_over_files(
    project: Path, home: Path
) -> None:
    (home / ".npmrc").write_text("proxy=http://user-proxy.invalid:3128\n")
    assert load(project, home).network.proxy == "http://user-proxy.invalid:3128"
    (project / ".npmrc").write_text("https-proxy=http://project-proxy.invalid:8080\n")
    network = load(project, home).network
    assert network.proxy == "http://project-proxy.invalid:8080"
    assert network.origins["proxy"] == f"https-proxy in {project / '.npmrc'}"
    env = {"npm_config_https_proxy": "http://env-proxy.invalid:1"}
    assert load(project, home, env).network.proxy == "http://env-proxy.invalid:1"
    # null, false and empty leave the next setting (then the environment) in charge
    (project / ".npmrc").write_text("https-proxy=null\nproxy=false\n")
    assert load(project, home).network.proxy is None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("socks5://user:s3cret@proxy.invalid:1080", "SOCKS proxy"),
        ("proxy.invalid:3128", "not an http(s) URL"),
        ("http://user:s3cret@:99999", "not an http(s) URL"),
    ],
)
def test_a_proxy_depaudit_cannot_use_is_one_clear_error(
    project: Path, home: Path, value: str, said: str
) -> None:
    (project / ".npmrc").write_text(f"https-proxy={value}\n")
    with pytest.raises(ConfigError) as raised:
        load(project, home)
    assert said in str(raised.value) and str(project / ".npmrc") in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_a_proxy_password_never_shows(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("proxy=http://me:s3cret@proxy.invalid:3128\n")
    config = load(project, home)
    assert config.network.proxy == "http://me:s3cret@proxy.invalid:3128"
    assert "s3cret" not in repr(config) and "***@proxy.invalid" in repr(config)


def test_strict_ssl(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("strict-ssl=false\n")
    assert load(project, home).network.strict_ssl is False
    assert load(project, home, {"NPM_CONFIG_STRICT_SSL": "true"}).network.strict_ssl is True
    (project / ".npmrc").write_text("strict-ssl=maybe\n")
    with pytest.raises(ConfigError, match="strict-ssl 'maybe' is not true or false"):
        load(project, home)


def test_cafile_relative_to_the_project_home_and_missing(
    project: Path, home: Path, tmp_path: Path
) -> None:
    bundle, _ = pem(tmp_path)
    (project / "certs").mkdir()
    (project / "certs" / "ca.pem").write_text(bundle.read_text())
    (project / ".npmrc").write_text("cafile=certs/ca.pem\n")
    network = load(project, home).network
    assert network.ca_file == str(project / "certs" / "ca.pem")
    assert network.origins["ca"] == f"cafile in {project / '.npmrc'}"
    (home / "ca.pem").write_text(bundle.read_text())
    (project / ".npmrc").write_text("cafile=~/ca.pem\n")
    assert load(project, home).network.ca_file == str(home / "ca.pem")
    # npm skips a cafile that is not there: so does depaudit (the default trust stays)
    (project / ".npmrc").write_text("cafile=/nowhere/ca.pem\n")
    assert load(project, home).network.ca_file is None


def test_a_cafile_that_is_not_pem_or_cannot_be_read_is_one_clear_error(
    project: Path, home: Path
) -> None:
    (project / "ca.pem").write_text("not a certificate\n")
    (project / ".npmrc").write_text("cafile=ca.pem\n")
    with pytest.raises(ConfigError, match="holds no PEM certificate"):
        load(project, home)
    (project / ".npmrc").write_text(f"cafile={project}\n")  # a folder
    with pytest.raises(ConfigError, match="cannot be read"):
        load(project, home)
    (project / ".npmrc").write_text("cafile=/dev/zero\n")  # read under a cap, not forever
    with pytest.raises(ConfigError, match="more than a CA bundle"):
        load(project, home)
    (project / ".npmrc").write_text("")
    assert load(project, home, {"NODE_EXTRA_CA_CERTS": "/dev/zero"}).network.extra_ca_file is None


def test_inline_ca_on_one_line_and_as_a_list(project: Path, home: Path, tmp_path: Path) -> None:
    _, text = pem(tmp_path)
    one_line = text.strip().replace("\n", "\\n")
    (project / ".npmrc").write_text(f'ca="{one_line}"\n')
    assert load(project, home).network.ca == text.strip()
    (project / ".npmrc").write_text(f"ca[]={one_line}\nca[]={one_line}\n")
    assert load(project, home).network.ca == text.strip() + "\n" + text.strip()
    (project / ".npmrc").write_text("ca=hello\n")
    with pytest.raises(ConfigError, match="ca is not a PEM certificate"):
        load(project, home)


def test_cafile_wins_over_inline_ca(project: Path, home: Path, tmp_path: Path) -> None:
    bundle, text = pem(tmp_path)
    one_line = text.strip().replace("\n", "\\n")
    (project / ".npmrc").write_text(f'ca="{one_line}"\ncafile={bundle}\n')
    network = load(project, home).network
    assert network.ca_file == str(bundle) and network.ca is None


def test_node_extra_ca_certs_is_read_when_it_holds_certificates(
    project: Path, home: Path, tmp_path: Path
) -> None:
    bundle, _ = pem(tmp_path)
    assert load(project, home, {"NODE_EXTRA_CA_CERTS": str(bundle)}).network.extra_ca_file == (
        str(bundle)
    )
    assert load(project, home, {"NODE_EXTRA_CA_CERTS": str(bundle)}).network.configured
    (tmp_path / "empty.pem").write_text("nothing\n")  # node warns and goes on: so do we
    for value in (str(tmp_path / "empty.pem"), str(tmp_path / "missing.pem"), ""):
        assert load(project, home, {"NODE_EXTRA_CA_CERTS": value}).network.extra_ca_file is None


def test_noproxy_lists_join(project: Path, home: Path) -> None:
    (project / ".npmrc").write_text("noproxy[]=corp.example\nnoproxy[]=.internal\n")
    assert load(project, home).network.no_proxy == "corp.example,.internal"
    (project / ".npmrc").write_text("noproxy=a.example, b.example\n")
    assert load(project, home).network.no_proxy == "a.example, b.example"


def fake_npm_install(root: Path) -> dict[str, str]:
    """A node prefix as npm lays it out: ``bin/node``, ``bin/npm`` linked to
    ``lib/node_modules/npm/bin/npm-cli.js``, the built-in npmrc beside npm's folder."""
    npm_dir = root / "lib" / "node_modules" / "npm"
    (npm_dir / "bin").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "etc").mkdir()
    for target in (npm_dir / "bin" / "npm-cli.js", root / "bin" / "node"):
        target.write_text("#!/bin/sh\n")
        target.chmod(0o755)
    (root / "bin" / "npm").symlink_to(npm_dir / "bin" / "npm-cli.js")
    return {"PATH": str(root / "bin")}


def test_the_builtin_and_global_npmrc_are_read_lowest_first(
    project: Path, home: Path, tmp_path: Path
) -> None:
    prefix = tmp_path / "node"
    env = fake_npm_install(prefix)
    builtin = prefix / "lib" / "node_modules" / "npm" / "npmrc"
    builtin.write_text("proxy=http://builtin.invalid:1\nstrict-ssl=false\n")
    (prefix / "etc" / "npmrc").write_text(
        "proxy=http://global.invalid:2\nregistry=http://global-registry.invalid/\n"
    )

    def network(environ: dict[str, str]) -> NpmNetwork:
        config = load_npm_config(project, None, environ=environ, home=home, npm_timeout=0.01)
        assert config.registry == REGISTRY  # registries still come from npm itself
        return config.network

    (project / ".npmrc").write_text(f"registry={REGISTRY}\n")
    got = network(env)
    assert got.proxy == "http://global.invalid:2" and got.strict_ssl is False
    assert got.origins["proxy"] == f"proxy in {prefix / 'etc' / 'npmrc'}"
    assert got.origins["strict-ssl"] == str(builtin)
    (home / ".npmrc").write_text("proxy=http://user.invalid:3\n")  # the user's file wins
    assert network(env).proxy == "http://user.invalid:3"
    (home / ".npmrc").write_text("")
    elsewhere = tmp_path / "elsewhere-npmrc"  # globalconfig moves the global file
    elsewhere.write_text("proxy=http://moved.invalid:4\n")
    assert network({**env, "npm_config_globalconfig": str(elsewhere)}).proxy == (
        "http://moved.invalid:4"
    )
    builtin.write_text(f"globalconfig={elsewhere}\n")  # so does npm's own npmrc
    assert network(env).proxy == "http://moved.invalid:4"
    builtin.write_text("proxy=http://builtin.invalid:1\nstrict-ssl=false\n")
    other = tmp_path / "other-prefix"  # so does PREFIX
    (other / "etc").mkdir(parents=True)
    (other / "etc" / "npmrc").write_text("proxy=http://prefixed.invalid:5\n")
    assert network({**env, "PREFIX": str(other)}).proxy == "http://prefixed.invalid:5"
    # a global file that cannot be read (here a folder) is gone without, as npm goes without it
    builtin.write_text("proxy=http://builtin.invalid:1\n")
    assert network({**env, "npm_config_globalconfig": str(tmp_path)}).proxy == (
        "http://builtin.invalid:1"
    )
    # nor is a device named as one read forever; a user's file that is one is an error
    assert network({**env, "npm_config_globalconfig": "/dev/zero"}).proxy == (
        "http://builtin.invalid:1"
    )
    with pytest.raises(ConfigError, match="more than an npmrc"):
        network({**env, "npm_config_userconfig": "/dev/zero"})
    # offline runs (ask_npm=False) read the same files, as they read the same scopes
    quiet = load_npm_config(project, None, environ=env, home=home, ask_npm=False)
    assert quiet.network.proxy == "http://global.invalid:2"


@pytest.mark.parametrize("where", ["built-in", "global"])
def test_a_scope_and_credentials_in_npms_own_npmrc_are_used_below_the_users(
    project: Path, home: Path, tmp_path: Path, where: str
) -> None:
    """npm merges every layer for a scope's registry, a ``//host/:`` credential and the fetch
    settings, the built-in and global npmrc included (npm 11 sent a global file's token to
    a global file's scope): so does depaudit, the user's and the project's files above them."""
    prefix = tmp_path / "node"
    env = fake_npm_install(prefix)
    wide = (
        prefix / "lib" / "node_modules" / "npm" / "npmrc"
        if where == "built-in"
        else prefix / "etc" / "npmrc"
    )
    wide.write_text(
        "@corp:registry=https://corp.registry.invalid/npm/\n"
        "@Other:registry=https://other.registry.invalid/\n"
        "//corp.registry.invalid/npm/:_authToken=WIDE-TOKEN\n"
        "fetch-retries=0\nfetch-timeout=1000\n"
    )
    (project / ".npmrc").write_text(f"registry={REGISTRY}\n")

    def config(environ: dict[str, str] = env, ask: bool = True) -> NpmConfig:
        return load_npm_config(project, None, environ=environ, home=home, ask_npm=ask)

    got = config()
    assert got.registry == REGISTRY  # the project's registry: npm is not asked
    assert got.registry_for("@corp/tool") == "https://corp.registry.invalid/npm/"
    assert got.registry_for("left-pad") == REGISTRY
    assert got.registry_for("@other/x") == REGISTRY  # npm looks the scope up as written
    assert got.auth_for("https://corp.registry.invalid/npm/@corp%2ftool") == "Bearer WIDE-TOKEN"
    assert got.auth_for(REGISTRY + "left-pad") is None
    assert (got.fetch_retries, got.fetch_timeout) == (0, 1.0)
    (home / ".npmrc").write_text(
        "//corp.registry.invalid/npm/:_authToken=USER-TOKEN\nfetch-retries=3\n"
    )
    got = config()
    assert got.auth_for("https://corp.registry.invalid/npm/x") == "Bearer USER-TOKEN"
    assert got.fetch_retries == 3 and got.fetch_timeout == 1.0
    (project / ".npmrc").write_text(
        f"registry={REGISTRY}\n@corp:registry=https://project.registry.invalid/\n"
    )
    assert config().registry_for("@corp/tool") == "https://project.registry.invalid/"
    # offline runs (ask_npm=False) read the same files: the same registries, the same keys
    (home / ".npmrc").write_text("")
    (project / ".npmrc").write_text(f"registry={REGISTRY}\n")
    quiet = config(ask=False)
    assert quiet.registry_for("@corp/tool") == "https://corp.registry.invalid/npm/"


@pytest.mark.parametrize(
    "line",
    ["fetch-retries=abc", "fetch-timeout=0", "//corp.registry.invalid/:_password=not*base64"],
)
def test_a_value_depaudit_cannot_use_in_npms_own_npmrc_is_left_out_with_a_warning(
    project: Path, home: Path, tmp_path: Path, line: str
) -> None:
    """A value depaudit cannot use in npm's built-in or global npmrc is left out, the layer
    below applies, and one warning names the file and the key, never a password (npm too
    warns of a fetch setting that is not a number and goes on); those files are the
    machine's. The same value in the user's file is still one clear error (exit 2)."""
    prefix = tmp_path / "node"
    env = fake_npm_install(prefix)
    (prefix / "lib" / "node_modules" / "npm" / "npmrc").write_text(
        "fetch-retries=4\nfetch-timeout=2000\n"
    )
    (prefix / "etc" / "npmrc").write_text(f"{line}\n//corp.registry.invalid/:username=u\n")
    (project / ".npmrc").write_text(f"registry={REGISTRY}\n")
    got = load_npm_config(project, None, environ=env, home=home)
    assert (got.fetch_retries, got.fetch_timeout) == (4, 2.0)  # the built-in file's
    assert got.credentials == ()  # a username without a usable password is no credential
    key = line.split("=", 1)[0]
    assert len(got.dropped) == 1 and got.dropped[0].startswith(f"{prefix / 'etc' / 'npmrc'}: {key}")
    assert "ignored (not " in got.dropped[0] and "not*base64" not in got.dropped[0]
    (home / ".npmrc").write_text(f"{line}\n")
    with pytest.raises(ConfigError) as raised:
        load_npm_config(project, None, environ=env, home=home)
    assert str(raised.value).startswith(f"{home / '.npmrc'}: ")


def test_a_scope_whose_registry_in_npms_own_npmrc_is_not_a_url_fails_only_where_used(
    project: Path, home: Path, tmp_path: Path
) -> None:
    """npm fails on a package of such a scope (ERR_INVALID_URL) and on nothing else. Asking
    the default registry instead would send a private name (and that registry's token)
    where it was never meant to go; so its packages are refused with the file named, and a
    tree without them is not held up. The secret in the bad value never shows."""
    prefix = tmp_path / "node"
    env = fake_npm_install(prefix)
    (prefix / "etc" / "npmrc").write_text("@corp:registry=//user:s3cret@corp.registry.invalid/\n")
    (project / ".npmrc").write_text(f"registry={REGISTRY}\n")
    got = load_npm_config(project, None, environ=env, home=home)
    assert got.registry_for("left-pad") == REGISTRY
    assert got.registry_for("@other/x") == REGISTRY
    with pytest.raises(ConfigError) as raised:
        got.registry_for("@corp/tool")
    said = str(raised.value)
    assert said.startswith(f"{prefix / 'etc' / 'npmrc'}: @corp:registry ") and "s3cret" not in said
    (home / ".npmrc").write_text("@corp:registry=https://corp.registry.invalid/\n")  # above it
    assert load_npm_config(project, None, environ=env, home=home).registry_for("@corp/x") == (
        "https://corp.registry.invalid/"
    )
    (home / ".npmrc").write_text("@corp:registry=corp.registry.invalid\n")  # the user's: at once
    with pytest.raises(ConfigError, match=str(home / ".npmrc")):
        load_npm_config(project, None, environ=env, home=home)


@given(
    form=st.sampled_from(["https://{}@h/x", "//{}@h/", "{}@h/", "https//{}@h/", "a/{}@h"]),
    user=st.from_regex(r"[A-Za-z0-9._~-]{0,12}", fullmatch=True),
    secret=st.from_regex(r"[A-Za-z0-9!$&'()*+,;=._~-]{6,20}", fullmatch=True),
)
def test_a_password_in_a_url_never_shows_however_malformed(
    form: str, user: str, secret: str
) -> None:
    """The registry and proxy URLs of npmrc files are quoted in errors and warnings: what
    stands before an ``@`` is hidden, in a malformed URL too."""
    url = form.format(f"{user}:{secret}")
    shown = redact_url(url)
    assert secret not in shown and shown.endswith(url.rsplit("@", 1)[1])


# -- npm's noproxy rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "entries", "bypass"),
    [
        ("npm.corp.example", "corp.example", True),
        ("npm.corp.example", ".corp.example", True),
        ("corp.example", "corp.example", True),
        ("notcorp.example", "corp.example", False),
        ("npm.corp.example", "other.example, corp.example ", True),
        ("NPM.Corp.Example", "corp.EXAMPLE", True),
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "0.0.1", True),  # label by label, as npm compares
        ("npm.corp.example", "*", False),  # no wildcards in npm's rule
        ("npm.corp.example", "", False),
    ],
)
def test_noproxy_matches_whole_labels_from_the_right(host: str, entries: str, bypass: bool) -> None:
    assert bypasses_proxy(f"https://{host}:8443/some/path", entries) is bypass


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    host=st.lists(LABEL, min_size=1, max_size=5),
    entry=st.lists(LABEL, min_size=1, max_size=5),
    dot=st.booleans(),
    upper=st.booleans(),
)
def test_noproxy_is_a_suffix_of_labels(
    host: list[str], entry: list[str], dot: bool, upper: bool
) -> None:
    written = ("." if dot else "") + ".".join(entry)
    written = written.upper() if upper else written
    expected = host[len(host) - len(entry) :] == entry if len(entry) <= len(host) else False
    assert bypasses_proxy("http://" + ".".join(host) + "/x", written) is expected
    # the host itself always matches itself, and a list matches when one entry does
    assert bypasses_proxy("http://" + ".".join(host) + "/", f"nomatch.invalid,{'.'.join(host)}")


# -- both transports follow them ------------------------------------------------------------


def through_both(session: DepauditSession, url: str) -> list[int]:
    """One GET with libcurl (every request of depaudit's), one with the requests session
    itself (whose settings libcurl's follow)."""
    bulk = get_one(session, url)
    plain = session.get(url)
    return [bulk.status, plain.status_code]


def test_the_npm_proxy_carries_registry_requests_over_the_environments(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/ms").respond_with_json({"name": "ms"})
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)  # npm's setting wins over it
    network = NpmNetwork(proxy=httpserver.url_for("/").rstrip("/"))
    session = build_session(2, retries=0, network=network)
    assert through_both(session, REGISTRY + "ms") == [200, 200]
    assert [request.headers.get("Host") for request, _ in httpserver.log] == [
        "registry.invalid",
        "registry.invalid",
    ]


def test_noproxy_hosts_go_direct_even_past_the_environments_proxy(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/ms").respond_with_json({"name": "ms"})
    url = f"http://127.0.0.1:{httpserver.port}/ms"  # reached only directly
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)

    def refused(network: NpmNetwork | None) -> None:
        with pytest.raises(TransportError, match="^could not connect$"):
            get_one(build_session(2, retries=0, network=network), url)
        with pytest.raises(requests.exceptions.ConnectionError):
            build_session(2, retries=0, network=network).get(url)

    def direct(network: NpmNetwork) -> None:
        assert through_both(build_session(2, retries=0, network=network), url) == [200, 200]

    refused(None)  # the variable's proxy: dead
    refused(NpmNetwork(proxy=DEAD_PROXY))  # npm's proxy: dead too
    direct(NpmNetwork(proxy=DEAD_PROXY, no_proxy="localhost, 127.0.0.1"))
    direct(NpmNetwork(no_proxy="127.0.0.1"))  # npm's noproxy skips the variable's proxy too
    refused(NpmNetwork(no_proxy="other.invalid"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # npm's proxy and no noproxy: the variable's
    direct(NpmNetwork(proxy=DEAD_PROXY))
    assert len(httpserver.log) == 6


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[HTTPServer, Path]]:
    context, bundle = loopback_tls(tmp_path, "tls-ca.pem")
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    server.expect_request("/ms").respond_with_json({"name": "ms"})
    serve_registry(server)  # and a registry's documents, for the scans below
    yield server, bundle
    server.clear()
    if server.is_running():
        server.stop()


def test_cafile_is_the_trust_of_both_transports_over_the_environments_bundle(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server, bundle = tls_server
    url = server.url_for("/ms")
    wrong, _ = pem(tmp_path)  # another CA: what the environment points at
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(wrong))
    with pytest.raises(TransportError, match="^TLS error$"):
        get_one(build_session(2, retries=0), url)
    with pytest.raises(requests.exceptions.SSLError):
        build_session(2, retries=0).get(url)
    session = build_session(2, retries=0, network=NpmNetwork(ca_file=str(bundle)))
    assert through_both(session, url) == [200, 200]
    # the npm CA replaces the default trust: certifi's CAs do not vouch for this server, and
    # a cafile of another CA is not added to them
    other = build_session(2, retries=0, network=NpmNetwork(ca_file=str(wrong)))
    with pytest.raises(TransportError, match="^TLS error$"):
        get_one(other, url)


def test_inline_ca_is_written_for_the_session_and_removed_with_it(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bundle = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = build_session(2, retries=0, network=NpmNetwork(ca=bundle.read_text()))
    assert through_both(session, server.url_for("/ms")) == [200, 200]
    written = session.merge_environment_settings(server.url_for("/"), {}, None, None, None)
    path = written["verify"]
    assert isinstance(path, str) and Path(path).read_text().strip() == bundle.read_text().strip()
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)
    session.close()
    assert not Path(path).exists()


def test_node_extra_ca_certs_are_trusted_beside_certifis_unless_python_has_a_bundle(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """NODE_EXTRA_CA_CERTS extends node's default CAs (npm's trust when neither cafile nor ca
    is set): depaudit trusts them beside certifi's. A bundle named for Python
    (REQUESTS_CA_BUNDLE) is what the user told Python to trust: it stays in charge."""
    import certifi

    server, bundle = tls_server
    url = server.url_for("/ms")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    extra = NpmNetwork(extra_ca_file=str(bundle))
    session = build_session(2, retries=0, network=extra)
    assert through_both(session, url) == [200, 200]
    written = session.merge_environment_settings(url, {}, None, None, None)["verify"]
    assert isinstance(written, str)
    text = Path(written).read_text()
    assert text.startswith(Path(certifi.where()).read_text()[:200])
    assert bundle.read_text().strip() in text
    session.close()
    assert not Path(written).exists()
    wrong, _ = pem(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(wrong))
    with pytest.raises(TransportError, match="^TLS error$"):
        get_one(build_session(2, retries=0, network=extra), url)
    # npm's cafile wins over it, as node ignores the extra certificates once ca is given
    both = NpmNetwork(ca_file=str(wrong), extra_ca_file=str(bundle))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(TransportError, match="^TLS error$"):
        get_one(build_session(2, retries=0, network=both), url)


def test_strict_ssl_false_skips_the_certificate_check(
    tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(TransportError, match="^TLS error$"):
        get_one(build_session(2, retries=0), server.url_for("/ms"))
    session = build_session(2, retries=0, network=NpmNetwork(strict_ssl=False))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # urllib3's per-request warning is silenced: the
        # report says it once (see the scan test below)
        assert through_both(session, server.url_for("/ms")) == [200, 200]


# -- a scan, as a user runs it --------------------------------------------------------------


def packument(name: str) -> dict[str, object]:
    return {
        "name": name,
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {"name": name, "version": "1.0.0"}},
        "time": {"created": "2020-01-01T00:00:00.000Z", "1.0.0": "2020-01-01T00:00:00.000Z"},
    }


DEPS = {"left-pad": "^1.0.0", "@corp/tool": "^1.0.0"}


def serve_registry(server: HTTPServer) -> None:
    for name in DEPS:
        server.expect_request(f"/{name}").respond_with_json(packument(name))
    server.expect_request("/-/npm/v1/security/advisories/bulk").respond_with_json({})


def write_app(tmp_path: Path, npmrc: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A two-package app whose ``.npmrc`` is ``npmrc``, for scans that reach the registry."""
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "app", "dependencies": DEPS}))
    lock = {
        "name": "app",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "dependencies": DEPS},
            **{f"node_modules/{name}": {"version": "1.0.0"} for name in DEPS},
        },
    }
    (app / "package-lock.json").write_text(json.dumps(lock))
    (app / ".npmrc").write_text(npmrc)
    return app


def scan(
    tmp_path: Path, npmrc: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, object]:
    """``depaudit scan`` of a two-package app whose ``.npmrc`` is ``npmrc``: the report."""
    app = write_app(tmp_path, npmrc, monkeypatch)
    temporary = tmp_path / "tmp"  # where an inline ca is written while the scan runs
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    argv = ["scan", str(app), "--no-npm", "--format", "json", "--cache-dir", str(tmp_path / "c")]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err and "Warning" not in err, err
    report: dict[str, object] = json.loads(out)
    assert list(temporary.iterdir()) == []  # nothing left behind
    return report


def known(report: dict[str, object]) -> dict[str, object]:
    packages = report["packages"]
    assert isinstance(packages, list)
    return {entry["name"]: entry["facts"]["in_registry"] for entry in packages}


def test_a_scan_reaches_the_registry_through_the_proxy_in_npmrc(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_registry(httpserver)
    proxy = httpserver.url_for("/").rstrip("/")
    report = scan(tmp_path, f"registry={REGISTRY}\nhttps-proxy={proxy}\n", monkeypatch, capsys)
    assert known(report) == {"left-pad": True, "@corp/tool": True}
    hosts = {request.headers.get("Host") for request, _ in httpserver.log}
    assert hosts == {"registry.invalid"}  # every registry request went through the proxy
    assert any(request.method == "POST" for request, _ in httpserver.log)  # advisories too


def test_a_scan_sends_a_global_npmrcs_token_to_its_scope_and_nowhere_else(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A private scope set up for the whole machine (npm's global npmrc, as a build image's
    ``npm config set --location=global`` writes it): its packages come from its registry with
    its token, the others from the project's registry without it. Before, every package of
    that scope was asked of the default registry and reported not in the registry."""
    base = httpserver.url_for("/")
    httpserver.expect_request("/left-pad").respond_with_json(packument("left-pad"))
    httpserver.expect_request(
        "/corp/@corp/tool", headers={"Authorization": "Bearer GLOBAL-TOKEN"}
    ).respond_with_json(packument("@corp/tool"))
    httpserver.expect_request("/-/npm/v1/security/advisories/bulk").respond_with_json({})
    global_npmrc = tmp_path / "global-npmrc"
    global_npmrc.write_text(
        f"@corp:registry={base}corp/\n//{base.split('//', 1)[1]}corp/:_authToken=GLOBAL-TOKEN\n"
        "fetch-retries=many\n"  # npm warns and goes on without it; so does the scan
    )
    said = f"{global_npmrc}: fetch-retries 'many' ignored (not a whole number >= 0)"
    monkeypatch.setenv("npm_config_globalconfig", str(global_npmrc))
    report = scan(tmp_path, f"registry={base}\n", monkeypatch, capsys)
    assert known(report) == {"left-pad": True, "@corp/tool": True}
    sent = {request.path: request.headers.get("Authorization") for request, _ in httpserver.log}
    assert sent["/corp/@corp/tool"] == "Bearer GLOBAL-TOKEN"
    assert sent["/left-pad"] is None and sent["/-/npm/v1/security/advisories/bulk"] is None
    assert any(line.startswith(said) for line in report["warnings"])  # type: ignore[attr-defined]
    # offline, the same files give the same registries: what the online run cached is found
    asked = len(httpserver.log)
    argv = ["scan", str(tmp_path / "app"), "--offline", "--format", "json"]
    code = main([*argv, "--no-npm", "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    offline = json.loads(out)
    assert code == 0 and "not in the cache" not in err + out, err
    assert known(offline) == {"left-pad": True, "@corp/tool": True}
    assert len(httpserver.log) == asked
    assert any(line.startswith(said) for line in offline["warnings"])


def test_a_scan_of_a_scope_whose_machine_wide_registry_is_not_a_url_stops_and_sends_nothing(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A typo in the global npmrc's scope: npm fails on that scope's packages, and so does
    the scan (exit 2, one line naming the file), before any request: the private name never
    reaches the project's registry. A tree without that scope scans as before."""
    base = httpserver.url_for("/")
    serve_registry(httpserver)
    global_npmrc = tmp_path / "global-npmrc"
    global_npmrc.write_text("@corp:registry=corp.registry.invalid/npm/\n")
    monkeypatch.setenv("npm_config_globalconfig", str(global_npmrc))
    app = write_app(tmp_path, f"registry={base}\n", monkeypatch)
    argv = ["scan", str(app), "--no-npm", "--format", "json", "--cache-dir", str(tmp_path / "c")]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"{global_npmrc}: @corp:registry 'corp.registry.invalid/npm/'" in err
    assert not any("corp" in request.path for request, _ in httpserver.log)
    global_npmrc.write_text("@other:registry=other.registry.invalid\n")  # a scope not in use
    assert main(argv) == 0
    assert known(json.loads(capsys.readouterr().out)) == {"left-pad": True, "@corp/tool": True}


def test_offline_needs_no_proxy_or_ca_and_stops_on_a_bad_value_of_the_users(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An offline scan sends nothing: a CA file added to the global npmrc since the online
    run, and not a certificate, does not cost it the cache (before: every package unknown,
    with "run once online"). A bad value in the user's own npmrc is the same clear error
    (exit 2, the file named) offline as online, not a quiet fall to no registry."""
    base = httpserver.url_for("/")
    serve_registry(httpserver)
    global_npmrc = tmp_path / "global-npmrc"
    monkeypatch.setenv("npm_config_globalconfig", str(global_npmrc))
    scan(tmp_path, f"registry={base}\n", monkeypatch, capsys)
    bad_ca = tmp_path / "bad.pem"
    bad_ca.write_text("not a certificate\n")
    global_npmrc.write_text(f"cafile={bad_ca}\n")
    argv = ["scan", str(tmp_path / "app"), "--offline", "--format", "json", "--no-npm"]
    argv += ["--cache-dir", str(tmp_path / "c")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "not in the cache" not in out + err
    assert known(json.loads(out)) == {"left-pad": True, "@corp/tool": True}
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / ".npmrc").write_text("fetch-retries=abc\n")
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and str(tmp_path / "home" / ".npmrc") in err and "Traceback" not in err


def test_offline_keeps_the_files_scopes_when_only_npm_named_the_registry(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No npmrc names the registry, only a scope's (the common private-scope setup): online,
    npm says the registry; offline, npm's answer as the cache kept it stands in for it, and
    the scope still has its own registry. Before, an offline run without a registry in any
    file dropped every scope, and their packages were "not in the cache"."""
    base = httpserver.url_for("/")
    httpserver.expect_request("/left-pad").respond_with_json(packument("left-pad"))
    httpserver.expect_request("/corp/@corp/tool").respond_with_json(packument("@corp/tool"))
    httpserver.expect_request("/-/npm/v1/security/advisories/bulk").respond_with_json({})
    npm_answering(tmp_path, monkeypatch, f'echo "{base}"\n')
    monkeypatch.setenv("npm_config_globalconfig", str(tmp_path / "no-global-npmrc"))
    report = scan(tmp_path, f"@corp:registry={base}corp/\n", monkeypatch, capsys)
    assert known(report) == {"left-pad": True, "@corp/tool": True}
    argv = ["scan", str(tmp_path / "app"), "--offline", "--format", "json", "--no-npm"]
    code = main([*argv, "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 0 and "not in the cache" not in err + out, err
    assert known(json.loads(out)) == {"left-pad": True, "@corp/tool": True}


@pytest.mark.parametrize("setting", ["cafile", "ca", "strict-ssl", "node-extra", "none"])
def test_a_scan_of_a_registry_signed_by_a_private_ca(
    tls_server: tuple[HTTPServer, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
) -> None:
    server, bundle = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.delenv("NODE_EXTRA_CA_CERTS", raising=False)
    if setting == "node-extra":
        monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(bundle))
    one_line = bundle.read_text().strip().replace("\n", "\\n")
    npmrc = (
        f"registry={server.url_for('/')}\n"
        + {
            "cafile": f"cafile={bundle}\n",
            "ca": f'ca="{one_line}"\n',
            "strict-ssl": "strict-ssl=false\n",
            "node-extra": "",
            "none": "",
        }[setting]
    )
    report = scan(tmp_path, npmrc, monkeypatch, capsys)
    warnings = [str(w) for w in report["warnings"]]  # type: ignore[attr-defined]
    unchecked = [w for w in warnings if "TLS certificates were not checked" in w]
    if setting == "none":  # certifi's CAs do not vouch for it: unknown, and said so
        assert known(report) == {"left-pad": None, "@corp/tool": None}
        (failed,) = [w for w in warnings if "could not fetch 2 of 2 packages" in w]
        assert "(TLS error)" in failed and "cafile=PATH in .npmrc" in failed
    else:
        assert known(report) == {"left-pad": True, "@corp/tool": True}
        assert bool(unchecked) is (setting == "strict-ssl")
        assert not any("cafile=PATH" in w for w in warnings)
    if setting == "strict-ssl":
        assert unchecked == [
            f"npm registry: TLS certificates were not checked (strict-ssl=false in "
            f"{tmp_path / 'app' / '.npmrc'})"
        ]


def test_a_temporary_folder_that_cannot_be_written_is_one_clear_error(
    tls_server: tuple[HTTPServer, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """npm's inline ca must be written to a file for TLS: in a read-only temporary folder
    the scan stops with one line saying so and how to get round it, not an internal error."""
    server, bundle = tls_server
    one_line = bundle.read_text().strip().replace("\n", "\\n")
    app = write_app(tmp_path, f'registry={server.url_for("/")}\nca="{one_line}"\n', monkeypatch)

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    out = tmp_path / "report.json"
    code = main(
        ["scan", str(app), "--no-npm", "--cache-dir", str(tmp_path / "c"), "--output", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "cannot be written there for TLS (Read-only file system)" in err
    assert "cafile=PATH" in err and not out.exists()
    # NODE_EXTRA_CA_CERTS only adds to the default trust: without a file for it, the scan
    # goes on with certifi's (as before it was read), which do not vouch for this server
    (app / ".npmrc").write_text(f"registry={server.url_for('/')}\n")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(bundle))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    code = main(
        ["scan", str(app), "--no-npm", "--cache-dir", str(tmp_path / "c"), "--output", str(out)]
    )
    assert code == 0 and "Traceback" not in capsys.readouterr().err
    assert "(TLS error)" in out.read_text()


# -- npm asked for the registry while the tree is read --------------------------------------


def npm_answering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    """A stand-in ``npm`` first on PATH running ``script``; each call is logged in the file
    returned."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "npm-calls"
    (bin_dir / "npm").write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n{script}')
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for key in [k for k in os.environ if k.lower().startswith("npm_config_")]:
        monkeypatch.delenv(key)
    return calls


def test_a_scan_looks_for_npms_answer_once(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line looks whether npm's answer is needed before its imports; the scan
    it runs does not look again (reading every npmrc a second time) when the answer was
    that nothing needs asking."""
    import depaudit.npmrc

    serve_registry(httpserver)
    looks: list[object] = []
    look = depaudit.npmrc.registry_query

    def counted(*args: object, **kwargs: object) -> object:
        looks.append(args)
        return look(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(depaudit.npmrc, "registry_query", counted)
    scan(tmp_path, f"registry={httpserver.url_for('/')}\n", monkeypatch, capsys)
    assert len(looks) == 1


def test_a_scan_starts_npm_before_reading_the_tree_and_uses_its_registry(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No registry in any .npmrc: npm's answer is asked for first, read when the registry
    service is made, and the scan reaches the registry it names."""
    import depaudit.app
    import depaudit.npm_process

    serve_registry(httpserver)
    calls = npm_answering(tmp_path, monkeypatch, f'echo "{httpserver.url_for("/")}"\n')
    order: list[str] = []
    start, load_tree = depaudit.npm_process.RegistryQuery.__init__, depaudit.app.load_tree

    def started(self: depaudit.npm_process.RegistryQuery, *args: object) -> None:
        order.append("npm started")
        start(self, *args)  # type: ignore[arg-type]

    def reading(*args: object) -> object:
        order.append("tree read")
        return load_tree(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(depaudit.npm_process.RegistryQuery, "__init__", started)
    monkeypatch.setattr(depaudit.app, "load_tree", reading)
    report = scan(tmp_path, "fund=false\n", monkeypatch, capsys)
    assert order == ["npm started", "tree read"]
    assert calls.read_text().splitlines() == ["config get registry"]  # once
    assert known(report) == {"left-pad": True, "@corp/tool": True}
    assert "/left-pad" in {request.path for request, _ in httpserver.log}


def test_a_scan_reads_npms_default_registry_without_running_npm_and_remembers_it_offline(
    httpserver: HTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """npm a plain installation whose built-in default is the loopback registry, no registry
    in any npmrc: the scan reaches it and npm never runs; an offline scan with the same
    cache then finds the facts under that registry, with no npm on PATH at all."""
    from test_npm_default import plain_npm

    serve_registry(httpserver)
    bin_dir = plain_npm(tmp_path / "node", url=httpserver.url_for("/"))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for key in [k for k in os.environ if k.lower().startswith("npm_config_")]:
        monkeypatch.delenv(key)
    report = scan(tmp_path, "fund=false\n", monkeypatch, capsys)
    assert known(report) == {"left-pad": True, "@corp/tool": True}
    assert "/left-pad" in {request.path for request, _ in httpserver.log}
    assert not (tmp_path / "node" / "npm-ran").exists()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    argv = ["scan", str(tmp_path / "app"), "--no-npm", "--offline", "--format", "json"]
    code = main([*argv, "--cache-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    assert known(json.loads(out)) == {"left-pad": True, "@corp/tool": True}


def test_a_scan_that_fails_on_its_input_stops_the_npm_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lockfile that cannot be read: exit 2 at once, npm (still starting, here for a
    minute) stopped and reaped, its folder gone."""
    pid_file = tmp_path / "npm-pid"
    # (the pid written whole, then named: a shell stopped between creating the file and
    # writing its pid left it empty, and this test failed on it)
    npm_answering(
        tmp_path,
        monkeypatch,
        f'echo $$ > "{pid_file}.part"\nmv "{pid_file}.part" "{pid_file}"\nexec sleep 60\n',
    )
    app = write_app(tmp_path, "fund=false\n", monkeypatch)
    (app / "package-lock.json").write_text("{ not json")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    code = main(["scan", str(app), "--no-npm", "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "package-lock.json" in err and "Traceback" not in err
    assert list(temporary.iterdir()) == []
    if pid_file.exists():  # npm's shell got as far as saying who it is
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
