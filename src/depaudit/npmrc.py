"""npm configuration: the registry base URL, scoped registries, credentials, fetch settings,
and the proxy and TLS settings of :mod:`depaudit.npm_network`.

Order, highest first (npm's own): ``--registry``; ``npm_config_registry`` /
``NPM_CONFIG_REGISTRY``; the project's ``.npmrc``; the user's ``~/.npmrc`` (or where
``npm_config_userconfig``, the project's or npm's built-in npmrc moves it); npm's global and
built-in npmrc (only :data:`WIDE_KEYS`: not ``registry``); then, for the registry,
npm's own answer (:func:`depaudit.npm_process.npm_answer`: the registry npm's global or
built-in npmrc names, else its built-in default, read from npm's files where npm is a plain
installation, or else ``npm config get registry``). No registry host is written anywhere in
depaudit.

Credentials follow npm's "nerf dart" rules: a key ``//host[:port]/path/:_authToken`` applies
to request URLs whose ``//host[:port]/path/`` starts with it (the longest match wins), so a
token is never sent to another host or port. Secrets never appear in ``repr`` or logs.

Why this module is over ~400 lines: it is npm's order of configuration in one place (its
ini dialect, the files and where each is moved to, the environment, npm's own answer, the
credentials' scopes); split, each part would reach into the others' layers.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from depaudit.errors import ConfigError
from depaudit.npm_network import (
    NETWORK_KEYS,
    BuiltIn,
    NpmNetwork,
    env_value,
    http_url,
    network_settings,
    npm_builtin,
    npm_path,
    npm_wide_layers,
    read_npmrc_text,
    redact_url,
)
from depaudit.npm_process import NPM_CONFIG_TIMEOUT, RegistryQuery, npm_answer
from depaudit.slots import dataclass

if TYPE_CHECKING:
    from depaudit.config import Settings


class NoRegistry(ConfigError):
    """No registry is configured anywhere depaudit may look (offline: nor remembered)."""


#: NpmConfig.origin of an offline run's registry: npm's answer to the last online run
REMEMBERED = "npm config get registry, as cached"
NO_REGISTRY_HINT = (
    "give --registry URL, set npm_config_registry, or put registry=URL in .npmrc "
    "(npm config get registry gave nothing)"
)

#: npm's settings read from ``npm_config_*`` variables besides the registries
_ENV_KEYS = NETWORK_KEYS | {"fetch-timeout", "fetch-retries"}


class _WideKeys:
    """The settings read from npm's built-in and global ``npmrc``, as npm merges every layer
    for them: the network ones, ``fetch-timeout``, ``fetch-retries``, a scope's
    ``@scope:registry`` and a ``//host/path/:`` credential. Not ``registry``, which is npm's
    answer (:func:`npm_answer`: read from those files where npm is a plain installation,
    else npm is asked), nor the settings that find files (``userconfig``, ``globalconfig``,
    ``prefix``: read where they apply)."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (
            key in _ENV_KEYS
            or key.startswith("//")
            or (key.startswith("@") and key.endswith(":registry"))
        )


WIDE_KEYS = _WideKeys()
#: npm's list settings (``key[]=`` lines): every line is kept, joined by this
LISTS = {"ca": "\n", "noproxy": ","}

_ENV_RE = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")


def expand_env(value: str, environ: Mapping[str, str]) -> str:
    """npm's ``${VAR}`` expansion: unset ``${VAR}`` stays literal, unset ``${VAR?}`` is empty;
    ``\\${VAR}`` escapes it."""

    def repl(match: re.Match[str]) -> str:
        escapes, name, optional = match.group(1), match.group(2), match.group(3)
        if len(escapes) % 2:
            return escapes[1:] + match.group(0)[len(escapes) :]
        if name in environ:
            return escapes + environ[name]
        return escapes + ("" if optional else match.group(0)[len(escapes) :])

    return _ENV_RE.sub(repl, value)


#: what JavaScript's ``trim`` removes (npm's ini parser trims keys and values with it): the
#: byte-order mark a file saved by some editors starts with included, which ``str.strip``
#: keeps
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_LINES = re.compile(r"[\r\n]+")
_COMMENT_LINE = re.compile(f"^[{_JS_SPACE}]*[;#]")
_SECTION = re.compile(r"^\[([^\]]*)\][" + _JS_SPACE + r"]*$")


def _ini_value(text: str) -> str:
    r"""A key or a value of an npmrc line as npm's ini parser reads it: trimmed; ``"..."``
    and ``'...'`` unquoted (JSON's rules for what is inside, where they parse); otherwise cut
    at the first ``;`` or ``#`` not escaped by ``\``, with ``\;``, ``\#`` and ``\\``
    unescaped and any other backslash kept."""
    text = text.strip(_JS_SPACE)
    if len(text) >= 1 and text[0] == text[-1] and text[0] in "\"'":
        inner = text[1:-1] if text[0] == "'" else text
        try:
            decoded = json.loads(inner)
        except ValueError:
            return inner
        return decoded if isinstance(decoded, str) else inner
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            out.append(char if char in "\\;#" else "\\" + char)
            escaped = False
        elif char in ";#":
            break
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return "".join(out).strip(_JS_SPACE)


def parse_npmrc(text: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Parse an ``.npmrc`` as npm does (its ``ini`` parser, then ``${ENV}`` expansion of keys
    and values): ``key = value`` lines (a key alone is ``true``); whole-line and inline ``;``
    / ``#`` comments; quoted keys and values; ``key[]=`` lines kept for npm's lists. Keys
    after a ``[section]`` line belong to that section, which npm's configuration does not
    read: they are left out."""
    out: dict[str, str] = {}
    listed: set[str] = set()  # keys whose last line was ``key[]=``
    nulls: set[str] = set()  # keys whose value is ini's null
    for line in _LINES.split(text):
        if not line.strip(_JS_SPACE) or _COMMENT_LINE.match(line):
            continue
        if _SECTION.match(line):
            break  # every key from here on is in a section
        raw_key, sep, raw_value = line.partition("=")
        if not raw_key:
            continue  # "=value": no key (npm's ini skips the line)
        key = expand_env(_ini_value(raw_key), environ)
        value = _ini_value(raw_value) if sep else "true"
        if value == "null":  # (JSON's null to ini, quoted or not)
            nulls.add(key)
        else:
            nulls.discard(key)
        value = expand_env(value, environ)
        if key.endswith("[]") and len(key) > 2:  # an array: npm's lists keep every line
            key = key[:-2]
            joiner = LISTS.get(key)
            if joiner is not None and key in listed and out.get(key):
                value = out[key] + joiner + value
            listed.add(key)
        else:
            listed.discard(key)
        out[key] = value
    return _nulls_nested(out, nulls) if nulls else out


def _nulls_nested(out: dict[str, str], nulls: set[str]) -> dict[str, str]:
    """What npm's ini does last to a key whose value is null (its ``typeof`` is an object's,
    as a section's): split at its dots not escaped by ``\\``, it is moved into nested
    sections (the first part's key at the top, whatever it held, becomes a section), or,
    with escaped dots only, renamed with them unescaped; sections are not read by npm's
    configuration. Keys in JavaScript's order: array indices first, by number."""

    def index(key: str) -> bool:
        return key.isdecimal() and key.isascii() and (key == "0" or key[0] != "0")

    order = sorted((k for k in out if index(k)), key=int) + [k for k in out if not index(k)]
    sections: set[str] = set()
    for key in order:
        if key not in nulls or key in sections:
            continue
        parts = re.split(r"(?<!\\)\.", key)
        last = parts.pop()
        name = last.replace("\\.", ".")
        parts = [part for part in parts if part != "__proto__"]
        if not parts and name == last:
            continue
        if parts:
            sections.add(parts[0])
        else:
            out[name] = out[key]
            nulls.add(name)
        out.pop(key, None)
    return {k: v for k, v in out.items() if k not in sections}


def with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def nerf_dart(url: str) -> str:
    """``https://host:8443/a/b?x`` -> ``//host:8443/a/`` (npm's nerf-dart: host with a
    non-default port, and the path up to its last slash)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    if port is not None and port != default:
        host = f"{host}:{port}"
    path = parts.path or "/"
    path = path[: path.rfind("/") + 1]
    return f"//{host}{path}"


@dataclass(frozen=True, slots=True)
class Credential:
    """An ``Authorization`` header value for one nerf-dart scope. Its repr hides it."""

    scope: str
    header: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credential(scope={self.scope!r}, header='***')"


@dataclass(frozen=True, slots=True)
class NpmConfig:
    """The registry settings depaudit needs, resolved once."""

    registry: str
    scopes: Mapping[str, str] = field(default_factory=dict)  # "@scope" -> registry URL
    credentials: tuple[Credential, ...] = field(default=(), repr=False)
    origin: str = ""  # where the default registry came from (for messages; never a secret)
    #: npm's ``fetch-timeout`` (given in ms, kept in seconds) and ``fetch-retries``, when set
    fetch_timeout: float | None = None
    fetch_retries: int | None = None
    network: NpmNetwork = field(default_factory=NpmNetwork)
    #: values of npm's own npmrc files left out (one warning line each)
    dropped: tuple[str, ...] = ()
    #: scopes whose registry in npm's own npmrc files is not a URL: what is wrong with it
    broken_scopes: Mapping[str, str] = field(default_factory=dict)
    #: the registry is npm's answer (asked, its default, or read from its own npmrc files),
    #: which an offline run, running no npm, takes from the cache
    npm_said: bool = False

    def __repr__(self) -> str:
        return (
            f"NpmConfig(registry={self.registry!r}, scopes={dict(self.scopes)!r}, "
            f"credentials={len(self.credentials)} hidden, origin={self.origin!r}, "
            f"fetch_timeout={self.fetch_timeout!r}, fetch_retries={self.fetch_retries!r}, "
            f"network={self.network!r})"
        )

    def registry_for(self, name: str) -> str:
        """Base URL (with trailing slash) serving package ``name``. ConfigError for a package
        of a scope whose registry in npm's own npmrc is not a URL: npm fails on it too, and
        asking the default registry instead would send a private name where it was not
        meant to go."""
        if name.startswith("@") and "/" in name:
            scope = name.split("/", 1)[0]
            found = self.scopes.get(scope)
            if found:
                return found
            broken = self.broken_scopes.get(scope)
            if broken:
                raise ConfigError(broken, f"fix or remove {scope}:registry there")
        return self.registry

    def auth_for(self, url: str) -> str | None:
        """The ``Authorization`` header for ``url``, or None. Longest nerf-dart prefix wins;
        another host or port never matches."""
        key = nerf_dart(url) if self.credentials else ""  # none: nothing to match
        best: Credential | None = None
        for cred in self.credentials:
            if key.startswith(cred.scope) and (best is None or len(cred.scope) > len(best.scope)):
                best = cred
        return best.header if best else None


def _credentials(
    values: Mapping[str, str], origin_of: Mapping[str, str] | None = None
) -> tuple[Credential, ...]:
    """Collect ``//host/path/:_authToken``, ``:_auth``, ``:username`` + ``:_password``
    (``origin_of``: the file each key came from, named in an error)."""
    scopes: dict[str, dict[str, str]] = {}
    password_from: dict[str, str] = {}
    for key, value in values.items():
        if not key.startswith("//") or ":" not in key[2:]:
            continue
        head, _, setting = key.rpartition(":")
        if setting in ("_authToken", "_auth", "username", "_password") and value:
            scope = nerf_dart("https:" + with_slash(head))
            scopes.setdefault(scope, {})[setting] = value
            if setting == "_password":
                password_from[scope] = (origin_of or {}).get(key, "npm config")
    out = []
    for scope, settings in sorted(scopes.items()):
        if "_authToken" in settings:
            header = f"Bearer {settings['_authToken']}"
        elif "_auth" in settings:
            header = f"Basic {settings['_auth']}"
        elif "username" in settings and "_password" in settings:
            password = _password_text(settings["_password"])
            if password is None:
                raise ConfigError(
                    f"{password_from[scope]}: {scope}:_password is not base64",
                    "npm stores _password base64-encoded",
                ) from None
            token = _base64(f"{settings['username']}:{password}".encode())
            header = f"Basic {token}"
        else:
            continue
        out.append(Credential(scope, header))
    return tuple(out)


def _password_text(value: str) -> str | None:
    """An npmrc ``_password`` as the text it stands for (npm stores it base64-encoded), or
    None when it is not base64 of UTF-8 text."""
    import base64  # (credentials alone use it: a run without any never loads it)

    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def _base64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def find_project_root(directory: Path) -> Path:
    """npm's local prefix: the nearest folder holding package.json or node_modules."""
    start = directory.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "package.json").exists() or (candidate / "node_modules").is_dir():
            return candidate
    return start


def _read_npmrc(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    text = read_npmrc_text(path)
    return parse_npmrc(text, environ) if text is not None else {}


def split_userinfo(url: str) -> tuple[str, Credential | None]:
    """A registry URL with credentials in it (``https://user:pw@host/``, as npm accepts) ->
    the URL without them, and a Basic credential for its scope. The credentials then reach
    no cache key, log line or report: only the ``Authorization`` header of that scope."""
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return url, None
    if username is None and password is None:
        return url, None
    netloc = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user_pass = f"{unquote(username or '')}:{unquote(password or '')}"
    header = "Basic " + _base64(user_pass.encode())
    return clean, Credential(nerf_dart(with_slash(clean)), header)


def _check_url(url: str, origin: str) -> str:
    if not http_url(url):
        raise ConfigError(
            f"{origin}: registry {redact_url(url)!r} is not an http(s) URL",
            "use e.g. https://host/path/",
        )
    return with_slash(url)


def _local_layers(
    directory: Path, env: Mapping[str, str], home_dir: Path, builtin: BuiltIn | None = None
) -> tuple[list[tuple[str, dict[str, str]]], Path]:
    """The user's and the project's ``.npmrc`` and the ``npm_config_*`` variables, lowest
    first, and the project's ``.npmrc`` path. The user's file is ``~/.npmrc`` unless
    ``npm_config_userconfig`` (in any case), the project's file (npm reads it first, so it
    can) or npm's built-in npmrc (``builtin``, when read) moves it, the first that does."""
    project_path = find_project_root(directory) / ".npmrc"
    project = _read_npmrc(project_path, env)
    moved = (
        env_value(env, "npm_config_userconfig")
        or project.get("userconfig", "")
        or (builtin.values.get("userconfig", "") if builtin is not None else "")
    )
    user_path = npm_path(moved, home_dir, project_path.parent) if moved else home_dir / ".npmrc"
    layers: list[tuple[str, dict[str, str]]] = [(str(user_path), _read_npmrc(user_path, env))]
    if project_path.resolve() != user_path.resolve():
        layers.append((str(project_path), project))
    env_layer: dict[str, str] = {}
    for key, value in env.items():
        low = key.lower()
        if low == "npm_config_registry":
            env_layer["registry"] = value
        elif low.startswith("npm_config_@") and low.endswith(":registry"):
            env_layer[low[len("npm_config_") :]] = value
        elif low.startswith("npm_config_"):
            name = low[len("npm_config_") :].replace("_", "-")
            if name in _ENV_KEYS:
                env_layer[name] = value
    layers.append(("environment", env_layer))
    return layers, project_path


def _home(env: Mapping[str, str], home: Path | None) -> Path:
    return home if home is not None else Path(env.get("HOME") or Path.home())


def registry_query(
    directory: Path = Path("."),
    registry: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    npm_timeout: float = NPM_CONFIG_TIMEOUT,
) -> RegistryQuery | None:
    """npm's answer (:func:`npm_answer`) started now, if :func:`load_npm_config` with the same
    arguments will need it: no ``registry`` given, none in the ``.npmrc`` files or the
    environment. A file that cannot be read is left for :func:`load_npm_config` to report."""
    env = os.environ if environ is None else environ
    if registry:
        return None
    home_dir = _home(env, home)
    read = partial(_read_npmrc, environ=env)
    builtin = npm_builtin(env, read)
    try:
        layers, project_path = _local_layers(directory, env, home_dir, builtin)
    except ConfigError:
        return None
    merged = _merge(layers)[0]
    if merged.get("registry"):
        return None
    return npm_answer(
        env, merged, read, npm_timeout, home=home_dir, base=project_path.parent, builtin=builtin
    )


def query_for(settings: Settings) -> RegistryQuery | None:
    """:func:`registry_query` for a run with these settings: None offline or without the
    registry. The run starts it as early as it can (``cli.run_scan``, else ``app.scan``)."""
    if not settings.online_registry:
        return None
    return registry_query(settings.npmrc_directory, settings.registry)


def load_npm_config(
    directory: Path = Path("."),
    registry: str | None = None,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
    npm_timeout: float = NPM_CONFIG_TIMEOUT,
    ask_npm: bool = True,
    asked: RegistryQuery | None = None,
    remembered: str | None = None,
    network: bool = True,
) -> NpmConfig:
    """Resolve the registry, scoped registries, credentials and network settings the way
    npm does, from every npmrc npm reads (npm's built-in and global ones lowest, only their
    :data:`WIDE_KEYS`, with a value npm would drop dropped: :func:`_usable`).
    ``ask_npm=False`` (offline runs, tests) reads the files alone: where none names the
    registry, npm is neither run nor its default read, and ``remembered`` (npm's answer to
    the last online run, kept in the cache) is the registry, else there is none
    (:class:`NoRegistry`). ``asked`` is npm's answer started earlier
    (:func:`registry_query`), read if needed. ``network=False`` (offline runs, which send
    nothing) leaves the proxy and TLS settings unread, and their errors unraised."""
    env = dict(os.environ if environ is None else environ)
    home_dir = _home(env, home)
    read = partial(_read_npmrc, environ=env)  # one npmrc file
    builtin = npm_builtin(env, read)
    layers, project_path = _local_layers(directory, env, home_dir, builtin)
    merged, origin_of = _merge(layers)
    root = project_path.parent  # where the project's npm runs: relative paths are from there
    # npm's built-in and global files, lowest: a CA, a proxy, a scope, a token
    wide = npm_wide_layers(env, merged, read, WIDE_KEYS, home=home_dir, base=root, builtin=builtin)
    dropped: list[str] = []
    merged, origin_of = _merge([*(_usable(one, dropped) for one in wide), *layers])
    npm_said = False
    if registry:
        base, origin = registry, "--registry"
    elif merged.get("registry"):
        base, origin = merged["registry"], origin_of["registry"]
    elif not ask_npm:
        if not remembered:
            raise NoRegistry("npm config: no registry configured", NO_REGISTRY_HINT)
        base, origin = remembered, REMEMBERED
    else:
        ask = asked or npm_answer(
            env, merged, read, npm_timeout, home=home_dir, base=root, builtin=builtin
        )
        answer, failure = ask.result()
        if not answer:
            raise NoRegistry(
                "npm config: no registry configured" + (f" ({failure})" if failure else ""),
                NO_REGISTRY_HINT,
            )
        base, origin, npm_said = answer, ask.origin, True
    credentials = list(_credentials(merged, origin_of))
    in_urls: list[Credential] = []

    def clean(url: str, where: str) -> str:
        checked, credential = split_userinfo(_check_url(url, where))
        if credential is not None:
            in_urls.append(credential)
        return checked

    # as written: npm looks a package's scope up as it is (only env keys are lowered)
    scopes: dict[str, str] = {}
    broken: dict[str, str] = {}  # in npm's own files: an error only for a scope in use
    machine = {where for where, _ in wide}
    for key, value in merged.items():
        if key.startswith("@") and key.endswith(":registry") and value:
            scope = key.split(":", 1)[0]
            try:
                scopes[scope] = clean(value, origin_of[key])
            except ConfigError:
                if origin_of[key] not in machine:
                    raise
                broken[scope] = (
                    f"{origin_of[key]}: {key} {redact_url(value)[:80]!r} is not an http(s) URL"
                )
    base = clean(base, origin)
    explicit = {c.scope for c in credentials}  # a //host/:_authToken setting wins
    credentials.extend(c for c in in_urls if c.scope not in explicit)
    timeout = _number(merged, origin_of, "fetch-timeout", _MINIMUMS["fetch-timeout"])
    retries = _number(merged, origin_of, "fetch-retries", _MINIMUMS["fetch-retries"])
    return NpmConfig(
        registry=base,
        scopes=scopes,
        credentials=tuple(credentials),
        origin=origin,
        fetch_timeout=timeout / 1000 if timeout is not None else None,
        fetch_retries=retries,
        network=(
            network_settings(merged, origin_of, project_path.parent, home_dir, env)
            if network
            else NpmNetwork()
        ),
        dropped=tuple(dict.fromkeys(dropped)),  # (one file read as two layers: said once)
        broken_scopes=broken,
        npm_said=npm_said,
    )


def _merge(
    layers: list[tuple[str, dict[str, str]]],
) -> tuple[dict[str, str], dict[str, str]]:
    """Settings and where each came from; ``layers`` lowest first, later layers win."""
    merged: dict[str, str] = {}
    origin_of: dict[str, str] = {}
    for origin, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin_of[key] = origin
    return merged, origin_of


def _usable(layer: tuple[str, dict[str, str]], dropped: list[str]) -> tuple[str, dict[str, str]]:
    """One of npm's built-in and global npmrc with the values depaudit cannot use left out,
    so that the layer below (or depaudit's default) applies: a fetch setting that is not a
    whole number in range, a ``_password`` that is not base64. These files are the
    machine's, not the project's: a scan goes on, and says so in ``dropped`` (npm too warns
    of a fetch setting that is not a number and goes on). A scope's registry that is not a
    URL is kept for :func:`load_npm_config` to refuse where it is used, as npm does; proxy
    and CA settings keep their errors (going direct where a proxy was meant is no default)."""
    origin, values = layer
    kept: dict[str, str] = {}
    for key, value in values.items():
        shown, why = "", ""
        if key in _MINIMUMS:
            try:
                _number(values, {key: origin}, key, _MINIMUMS[key])
            except ConfigError:
                shown, why = repr(value.strip()[:40]), f"not a whole number >= {_MINIMUMS[key]}"
        elif key.endswith(":_password") and value and _password_text(value) is None:
            why = "not base64"  # a secret: never shown
        if why:
            value_shown = f" {shown}" if shown else ""
            dropped.append(f"{origin}: {key}{value_shown} ignored ({why})")
            continue
        kept[key] = value
    return origin, kept


_MINIMUMS = {"fetch-timeout": 1, "fetch-retries": 0}


def _number(
    merged: Mapping[str, str], origin_of: Mapping[str, str], key: str, minimum: int
) -> int | None:
    """npm's integer setting ``key`` (``fetch-timeout`` in ms, ``fetch-retries``), or None."""
    raw = merged.get(key)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ConfigError(
            f"{origin_of[key]}: {key} {raw.strip()[:40]!r} is not a whole number"
            + (" of milliseconds" if key == "fetch-timeout" else "")
            + f" >= {minimum}",
            f"fix or remove {key} (depaudit's default applies then)",
        )
    return value
