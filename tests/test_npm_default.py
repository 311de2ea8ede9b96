"""npm's built-in default registry read from npm's own files (``npm_process.npm_default``),
instead of running ``npm config get registry``, where that is what npm would say.

The installations here are stand-ins with npm's layout: ``<prefix>/bin/npm`` a link to
``<prefix>/lib/node_modules/npm/bin/npm-cli.js``, ``<prefix>/bin/node`` a program (here a
file that is not a script; it is never run). The definition files are written here in the
shapes npm's own have (checked against the tarballs of npm 5.10.0, 6.14.18, 7.0.0, 7.24.2,
8.19.4, 9.0.0, 9.9.4, 10.9.9 and 11.21.3, each of whose ``npm config get registry`` said
what ``npm_default`` reads); no host of a real registry is written. Where npm's answer is
needed instead, ``npm-cli.js`` answers as npm would and logs that it ran.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from depaudit.npm_network import npm_wide_layers, read_npmrc_text
from depaudit.npm_process import (
    _DEFINED,
    _LISTED,
    NPM_ASKED,
    NPM_DEFAULT,
    npm_answer,
    npm_default,
    one_default,
)
from depaudit.npmrc import load_npm_config, parse_npmrc, registry_query

DEFAULT = "https://npm-default.registry.invalid/"
ASKED = "https://asked.registry.invalid/"

NEW = "node_modules/@npmcli/config/lib/definitions/definitions.js"
DEFINED = (
    "const definitions = {{\n"
    "  'read-only': new Definition('read-only', {{\n    default: false,\n  }}),\n"
    "  registry: new Definition('registry', {{\n"
    "    default: '{url}',\n    type: url,\n"
    "    description: `\n      The base URL of the npm registry.\n    `,\n  }}),\n"
    "  'replace-registry-host': new Definition('replace-registry-host', {{\n"
    "    default: 'npmjs',\n  }}),\n}}\n"
)
DEFINE = (
    "define('read-only', {{\n  default: false,\n}})\n\n"
    "define('registry', {{\n  default: '{url}',\n  type: url,\n}})\n"
)
LISTED = (
    "exports.defaults = {{\n    'read-only': false,\n    registry: '{url}',\n"
    "    rollback: true,\n}}\nexports.types = {{\n  registry: [null, url],\n}}\n"
)
LAYOUTS = {  # npm's layouts, newest first: file under npm's folder -> its shape
    "npm 9.x-11": (NEW, DEFINED),
    "npm 7.x-9.0": ("lib/utils/config/definitions.js", DEFINE),
    "npm 7.0": ("lib/utils/config.js", LISTED),
    "npm 6 and older": ("lib/config/defaults.js", LISTED),
}


def plain_npm(root: Path, layout: str = "npm 9.x-11", url: str = DEFAULT) -> Path:
    """A plain npm installation under ``root``; its ``bin`` folder is returned."""
    folder = root / "lib" / "node_modules" / "npm"
    (folder / "bin").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": "npm", "version": "11.0.0"}))
    cli = folder / "bin" / "npm-cli.js"
    cli.write_text(f'#!/bin/sh\necho "$*" >> "{root / "npm-ran"}"\necho "{ASKED}"\n')
    cli.chmod(0o755)
    relative, shape = LAYOUTS[layout]
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_text(shape.format(url=url))
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").symlink_to(Path("..") / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")
    (bin_dir / "node").write_bytes(b"\x7fELF\x02\x01\x01 not a script")
    (bin_dir / "node").chmod(0o755)
    return bin_dir


def read(path: Path) -> dict[str, str]:
    text = read_npmrc_text(path)
    return parse_npmrc(text, {}) if text is not None else {}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_default_is_read_from_each_layout_and_npm_is_not_run(
    tmp_path: Path, layout: str
) -> None:
    bin_dir = plain_npm(tmp_path, layout)
    env = {"PATH": str(bin_dir)}
    assert npm_default(env) == DEFAULT
    answer = npm_answer(env, {}, read)
    assert answer.result() == (DEFAULT, None) and answer.origin == NPM_DEFAULT
    answer.close()
    assert not (tmp_path / "npm-ran").exists()


def test_a_configuration_with_no_registry_anywhere_takes_npms_default(tmp_path: Path) -> None:
    """The whole resolution, as a scan does it: no flag, no variable, no .npmrc that names a
    registry (the user's sets something else): npm's default, and npm never runs."""
    bin_dir = plain_npm(tmp_path / "node")
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (home / ".npmrc").write_text("fund=false\n")
    env = {"PATH": str(bin_dir)}
    early = registry_query(project, None, environ=env, home=home)
    assert early is not None and early.origin == NPM_DEFAULT
    config = load_npm_config(project, environ=env, home=home, asked=early)
    assert (config.registry, config.origin) == (DEFAULT, NPM_DEFAULT)
    config = load_npm_config(project, environ=env, home=home)  # nothing started ahead
    assert (config.registry, config.origin) == (DEFAULT, NPM_DEFAULT)
    assert not (tmp_path / "node" / "npm-ran").exists()


@pytest.mark.parametrize(
    "where", ["lib/node_modules/npm/npmrc", "etc/npmrc"], ids=["built-in", "global"]
)
def test_a_registry_in_npms_own_npmrc_files_is_read_where_npm_is_plain(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm's built-in npmrc (in its folder) and its global one (``<node's prefix>/etc``),
    found where npm finds them in a plain installation: the registry they name is read from
    them, the file its origin, and npm is not run (as npm 11 says it: the global one's over
    the built-in one's). Where npm is not plain, or the value is empty or not a URL (npm
    says such a value as it is), npm is asked, as before."""
    prefix = tmp_path / "node"
    bin_dir = plain_npm(prefix)
    monkeypatch.setenv("PATH", str(bin_dir))  # the npm that is run
    (prefix / where).parent.mkdir(exist_ok=True)
    (prefix / where).write_text("registry=https://wide.registry.invalid/\n")
    env = {"PATH": str(bin_dir)}
    answer = npm_answer(env, {}, read)
    assert answer.result() == ("https://wide.registry.invalid/", None)
    assert answer.origin == str(prefix / where)
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    config = load_npm_config(project, environ=env, home=home)
    assert (config.registry, config.origin) == (
        "https://wide.registry.invalid/",
        str(prefix / where),
    )
    assert config.npm_said  # what an offline run takes from the cache
    assert not (prefix / "npm-ran").exists()
    builtin = prefix / "lib" / "node_modules" / "npm" / "npmrc"
    builtin.write_text("registry=https://builtin.registry.invalid/\n")
    (prefix / "etc").mkdir(exist_ok=True)
    (prefix / "etc" / "npmrc").write_text("registry=https://global.registry.invalid/\n")
    assert npm_answer(env, {}, read).result()[0] == "https://global.registry.invalid/"
    for odd in ("registry=\n", "registry=global.registry.invalid\n"):
        (prefix / "etc" / "npmrc").write_text(odd)
        answer = npm_answer(env, {}, read)
        assert answer.result() == (ASKED, None) and answer.origin == NPM_ASKED
    (prefix / "etc" / "npmrc").write_text("registry=https://global.registry.invalid/\n")
    _shim_npm(bin_dir)  # not a plain installation: npm is asked
    answer = npm_answer(env, {}, read)
    assert answer.origin == NPM_ASKED
    answer.close()


@pytest.mark.parametrize(
    ("global_text", "user_text", "builtin_text", "said"),
    [  # each as npm 11 says it (`npm config get registry`, a copy of npm with these files)
        ("registry=https://g.registry.invalid/ ; ours\n", "", "", "https://g.registry.invalid/"),
        ("\ufeffregistry=https://g.registry.invalid/\n", "", "", "https://g.registry.invalid/"),
        ("[s]\nregistry=https://g.registry.invalid/\n", "", "", DEFAULT),
        ("registry=https://g.registry.invalid/\n", "registry=\n", "", ASKED),
        ("registry=https://g.registry.invalid/\n", "", "location=global\n", ASKED),
        ("registry=https://g.registry.invalid/\n", "", "global=true\n", ASKED),
        ("registry=https://u:p@g.registry.invalid/\n", "", "", ASKED),
    ],
    ids=[
        "inline comment",
        "byte-order mark",
        "in a section",
        "emptied by the user's",
        "built-in location=global",
        "built-in global=true",
        "credentials in it",
    ],
)
def test_npms_own_npmrc_is_read_as_npm_reads_it_or_npm_is_asked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    global_text: str,
    user_text: str,
    builtin_text: str,
    said: str,
) -> None:
    """The global npmrc read as npm's ini parser reads it (inline comments, a byte-order
    mark, a section npm's configuration does not read), and npm asked wherever npm would
    not simply take that registry: an empty ``registry=`` above it (npm says nothing), npm's
    global mode set in its built-in npmrc, a URL with credentials (npm refuses it)."""
    prefix = tmp_path / "node"
    bin_dir = plain_npm(prefix)
    monkeypatch.setenv("PATH", str(bin_dir))
    (prefix / "etc").mkdir()
    (prefix / "etc" / "npmrc").write_bytes(global_text.encode())
    (prefix / "lib" / "node_modules" / "npm" / "npmrc").write_text(builtin_text)
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (home / ".npmrc").write_text(user_text)
    query = registry_query(project, None, environ={"PATH": str(bin_dir)}, home=home)
    assert query is not None
    assert query.result() == (said, None)
    assert (prefix / "npm-ran").exists() == (said == ASKED)


def test_a_global_npmrc_moved_by_npms_own_npmrc_is_read_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm's built-in npmrc can move the global one (``globalconfig=``, as a distribution's
    npm may): a registry there is read from there, as npm 11 reads it."""
    prefix = tmp_path / "node"
    bin_dir = plain_npm(prefix)
    monkeypatch.setenv("PATH", str(bin_dir))
    moved = tmp_path / "etc-npmrc"
    moved.write_text("registry=https://moved.registry.invalid/\n")
    (prefix / "lib" / "node_modules" / "npm" / "npmrc").write_text(f"globalconfig={moved}\n")
    answer = npm_answer({"PATH": str(bin_dir)}, {}, read)
    assert answer.result() == ("https://moved.registry.invalid/", None)
    assert answer.origin == str(moved)
    moved.write_text("fund=false\n")  # names none: the default again
    answer = npm_answer({"PATH": str(bin_dir)}, {}, read)
    assert answer.result() == (DEFAULT, None) and answer.origin == NPM_DEFAULT
    assert not (prefix / "npm-ran").exists()


@pytest.mark.parametrize("where", ["built-in", "project", "environment"])
def test_a_user_npmrc_moved_elsewhere_is_the_one_that_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """npm reads the user's npmrc where ``userconfig`` puts it: from npm's built-in npmrc,
    the project's npmrc or a variable in any case (``~/`` from home): depaudit reads the
    moved file itself, as npm 11 does, and npm is neither asked nor its default read."""
    prefix = tmp_path / "node"
    bin_dir = plain_npm(prefix)
    monkeypatch.setenv("PATH", str(bin_dir))
    home, project = tmp_path / "home", tmp_path / "project"
    (home / "conf").mkdir(parents=True)
    project.mkdir()
    (project / "package.json").write_text("{}")
    (home / ".npmrc").write_text("registry=https://not-moved.registry.invalid/\n")
    moved = home / "conf" / "npmrc"
    moved.write_text("registry=https://moved-user.registry.invalid/\n")
    env = {"PATH": str(bin_dir)}
    if where == "built-in":
        (prefix / "lib" / "node_modules" / "npm" / "npmrc").write_text(f"userconfig={moved}\n")
    elif where == "project":
        (project / ".npmrc").write_text("userconfig=~/conf/npmrc\n")
    else:
        env["Npm_Config_UserConfig"] = "~/conf/npmrc"
    config = load_npm_config(project, environ=env, home=home)
    assert config.registry == "https://moved-user.registry.invalid/"
    assert config.origin == str(moved)
    early = registry_query(project, None, environ=env, home=home)  # what the scan starts
    assert early is None  # the moved file names the registry: nothing to ask
    moved.write_text("fund=false\n")  # it names none: npm's default, read, not asked
    config = load_npm_config(project, environ=env, home=home)
    assert (config.registry, config.origin) == (DEFAULT, NPM_DEFAULT)
    assert not (prefix / "npm-ran").exists()


def test_npms_global_mode_leaves_npm_to_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In global mode npm reads no project npmrc: npm is asked rather than its default read."""
    bin_dir = plain_npm(tmp_path / "node")
    monkeypatch.setenv("PATH", str(bin_dir))
    for env, settings in (
        ({"npm_config_global": "true"}, {}),
        ({"NPM_CONFIG_LOCATION": "global"}, {}),
        ({}, {"location": "global"}),
        ({}, {"global": "true"}),
    ):
        answer = npm_answer({"PATH": str(bin_dir), **env}, settings, read)
        assert answer.origin == NPM_ASKED, (env, settings)
        answer.close()
    for env, settings in (({"npm_config_global": "false"}, {}), ({}, {"location": "user"})):
        assert npm_answer({"PATH": str(bin_dir), **env}, settings, read).origin == NPM_DEFAULT


def test_a_global_npmrc_under_a_prefix_from_home_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``prefix=~/.npm-global`` in the user's npmrc (npm's own advice for global installs
    without root): npm reads ``$HOME/.npm-global/etc/npmrc``, so the registry and the proxy
    there are read from there."""
    bin_dir = plain_npm(tmp_path / "node")
    monkeypatch.setenv("PATH", str(bin_dir))
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".npm-global" / "etc").mkdir(parents=True)
    project.mkdir()
    (project / "package.json").write_text("{}")
    (home / ".npmrc").write_text("prefix=~/.npm-global\n")
    global_file = home / ".npm-global" / "etc" / "npmrc"
    global_file.write_text("registry=https://corp.registry.invalid/\nproxy=http://corp.invalid:3\n")
    env = {"PATH": str(bin_dir)}
    config = load_npm_config(project, environ=env, home=home)
    assert (config.registry, config.origin) == ("https://corp.registry.invalid/", str(global_file))
    assert config.network.proxy == "http://corp.invalid:3"
    global_file.write_text("proxy=http://corp.invalid:3\n")
    config = load_npm_config(project, environ=env, home=home)
    assert (config.registry, config.origin) == (DEFAULT, NPM_DEFAULT)
    assert config.network.proxy == "http://corp.invalid:3"


def _shim_npm(bin_dir: Path) -> None:  # a version manager's script in npm's place
    (bin_dir / "npm").unlink()
    (bin_dir / "npm").write_text('#!/bin/sh\nexec "$HOME/real/npm" "$@"\n')


def _shim_node(bin_dir: Path) -> None:
    (bin_dir / "node").write_text('#!/bin/sh\nexec "$HOME/real/node" "$@"\n')


def _not_npm(bin_dir: Path) -> None:
    manifest = bin_dir.parent / "lib" / "node_modules" / "npm" / "package.json"
    manifest.write_text(json.dumps({"name": "not-npm"}))


def _manifest_broken(bin_dir: Path) -> None:
    (bin_dir.parent / "lib" / "node_modules" / "npm" / "package.json").write_text("{ no")


def _no_definitions(bin_dir: Path) -> None:
    (bin_dir.parent / "lib" / "node_modules" / "npm" / NEW).unlink()


def _defined_twice(bin_dir: Path) -> None:
    path = bin_dir.parent / "lib" / "node_modules" / "npm" / NEW
    path.write_text(path.read_text() + DEFINE.format(url="https://other.registry.invalid/"))


def _not_http(bin_dir: Path) -> None:
    path = bin_dir.parent / "lib" / "node_modules" / "npm" / NEW
    path.write_text(DEFINED.format(url="file:///srv/registry/"))


def _no_node(bin_dir: Path) -> None:
    (bin_dir / "node").unlink()


def _node_elsewhere(bin_dir: Path) -> None:  # the node npm runs with is not the one beside it
    other = bin_dir.parent / "other-bin"
    other.mkdir()
    (bin_dir / "node").rename(other / "node")


def _node_a_shim_program(bin_dir: Path) -> None:  # a version manager's program, not a script
    shim = bin_dir.parent / "shims" / "volta-shim"
    shim.parent.mkdir()
    shim.write_bytes(b"\x7fELF\x02\x01\x01 a shim")
    shim.chmod(0o755)
    (bin_dir / "node").unlink()
    (bin_dir / "node").symlink_to(shim)


def _manifest_too_deep(bin_dir: Path) -> None:
    manifest = bin_dir.parent / "lib" / "node_modules" / "npm" / "package.json"
    manifest.write_text("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    "spoil",
    [_shim_npm, _shim_node, _not_npm, _manifest_broken, _no_definitions, _defined_twice]
    + [_not_http, _no_node, _node_elsewhere, _node_a_shim_program, _manifest_too_deep],
)
def test_anything_but_a_plain_installation_asks_npm(
    tmp_path: Path, spoil: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = plain_npm(tmp_path)
    monkeypatch.setenv("PATH", str(bin_dir))  # the npm that is run
    assert callable(spoil)
    spoil(bin_dir)
    env = {"PATH": os.pathsep.join([str(bin_dir), str(bin_dir.parent / "other-bin")])}
    assert npm_default(env) is None
    if (bin_dir / "npm").resolve().name == "npm-cli.js":  # the stand-in can answer
        answer = npm_answer(env, {}, read)
        assert answer.result() == (ASKED, None) and answer.origin == NPM_ASKED


def test_the_early_layout_wins_over_a_later_file_left_behind(tmp_path: Path) -> None:
    """The first of npm's layouts present decides, even where it has no single default."""
    bin_dir = plain_npm(tmp_path, "npm 9.x-11")
    old = tmp_path / "lib" / "node_modules" / "npm" / "lib" / "config" / "defaults.js"
    old.parent.mkdir(parents=True)
    old.write_text(LISTED.format(url="https://old.registry.invalid/"))
    assert npm_default({"PATH": str(bin_dir)}) == DEFAULT
    _no_definitions(bin_dir)
    assert npm_default({"PATH": str(bin_dir)}) == "https://old.registry.invalid/"


_URL = st.from_regex(
    r"https?://[a-z][a-z0-9.-]{0,30}(:[0-9]{1,5})?(/[a-zA-Z0-9._~%-]{0,12})*/?", fullmatch=True
)
_JUNK = st.text(st.characters(codec="utf-8", exclude_characters="'\\"), max_size=60).filter(
    lambda text: "registry" not in text
)


@given(url=_URL, before=_JUNK, after=_JUNK, shape=st.sampled_from([DEFINED, DEFINE, LISTED]))
def test_one_default_is_found_wherever_it_sits(
    url: str, before: str, after: str, shape: str
) -> None:
    pattern = _LISTED if shape is LISTED else _DEFINED
    text = before + "\n" + shape.format(url=url) + "\n" + after
    assert one_default(pattern, text) == url
    assert one_default(pattern, text + "\n" + shape.format(url=url)) is None  # twice: not one
    assert one_default(pattern, before + after) is None


@given(value=st.text(st.characters(exclude_characters="'\\\n"), min_size=1, max_size=40))
def test_a_default_that_is_not_an_http_url_is_not_taken(value: str) -> None:
    found = one_default(_DEFINED, DEFINED.format(url=value))
    assert found is None or (found == value and value.startswith(("https://", "http://")))


@pytest.mark.npm
def test_the_machines_npm_if_plain_says_what_is_read(tmp_path: Path) -> None:
    """The real npm of this machine, where it is a plain installation and none of its own
    npmrc files names a registry: ``npm config get registry`` (run with an empty home and no
    ``npm_config_*`` variables) says what is read from its files."""
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env["HOME"] = str(tmp_path)
    default = npm_default(env)
    if default is None:
        pytest.skip("npm is not on PATH, or not a plain installation")
    if any(values for _, values in npm_wide_layers(env, {}, read, keys=frozenset({"registry"}))):
        pytest.skip("npm's own npmrc files name a registry")
    said = subprocess.run(
        ["npm", "config", "get", "registry"],
        cwd=tmp_path,
        env={**env, "npm_config_update_notifier": "false"},  # no look for a newer npm
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert said.stdout.strip().splitlines()[-1] == default


def test_a_scan_takes_the_global_npmrcs_registry_without_npm_and_remembers_it_offline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
) -> None:
    """A registry set for the whole machine (``npm config set --location=global registry``,
    as build images do) in a plain npm installation's global npmrc: the scan reads it there,
    without running npm (which cost ~0.2 s a scan), reaches it, and an offline scan after
    it, running no npm, finds what it cached under the same registry."""
    from depaudit.cli import main

    prefix = tmp_path / "node"
    bin_dir = plain_npm(prefix)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("npm_config_globalconfig")  # found where npm finds it: <prefix>/etc
    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    base = httpserver.url_for("/")
    (prefix / "etc").mkdir()
    (prefix / "etc" / "npmrc").write_text(f"registry={base}\n")
    times = {"created": "2020-01-01T00:00:00.000Z", "1.0.0": "2020-01-01T00:00:00.000Z"}
    httpserver.expect_request("/left-pad").respond_with_json(
        {
            "name": "left-pad",
            "dist-tags": {"latest": "1.0.0"},
            "time": times,
            "versions": {"1.0.0": {"name": "left-pad", "version": "1.0.0"}},
        }
    )
    httpserver.expect_request("/-/npm/v1/security/advisories/bulk").respond_with_json({})
    app = tmp_path / "app"
    app.mkdir()
    deps = {"left-pad": "^1.0.0"}
    (app / "package.json").write_text(json.dumps({"name": "app", "dependencies": deps}))
    packages = {
        "": {"name": "app", "dependencies": deps},
        "node_modules/left-pad": {"version": "1.0.0"},
    }
    (app / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": packages}))
    argv = ["scan", str(app), "--no-npm", "--format", "json", "--cache-dir", str(tmp_path / "c")]
    for extra in ([], ["--offline"]):
        assert main([*argv, *extra]) == 0
        out, err = capsys.readouterr()
        report = json.loads(out)
        assert "not in the cache" not in out + err and "Traceback" not in err
        assert [p["facts"]["in_registry"] for p in report["packages"]] == [True]
    assert sum(1 for request, _ in httpserver.log if request.path == "/left-pad") == 1
    assert not (prefix / "npm-ran").exists()
