"""npm's proxy and TLS settings for registry requests: ``https-proxy`` / ``proxy``,
``noproxy``, ``strict-ssl``, ``cafile`` / ``ca``.

:func:`depaudit.npmrc.load_npm_config` reads them from the same places as the registry (the
user's and the project's ``.npmrc``, ``npm_config_*`` variables) and from npm's global and
built-in ``npmrc`` (:func:`npm_wide_layers`, which it reads scopes and credentials from too)
into :class:`NpmNetwork`, and the registry's
session (:class:`depaudit.http.DepauditSession`) applies them over the
environment's variables, as npm does (npm-registry-fetch and ``@npmcli/agent``, npm 11):

- the proxy of every registry request is ``https-proxy``, else ``proxy``, whatever the URL's
  scheme; a host that ``noproxy`` (else the environment's ``NO_PROXY``) names goes direct;
- ``cafile`` (or ``ca`` inline) replaces the certificates trusted, it does not add to them;
  a ``cafile`` that does not exist is skipped, as npm skips it;
- ``strict-ssl=false`` turns certificate checks off;
- with neither ``cafile`` nor ``ca``, node's ``NODE_EXTRA_CA_CERTS`` is trusted beside
  certifi's bundle, as node trusts it beside its own, unless the environment names a bundle
  for Python (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``).

Where none is set, the environment rules as before (``HTTPS_PROXY``, ``NO_PROXY``,
``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, certifi's bundle). GitHub's API is not npm's:
these settings never reach it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Container, Mapping
from dataclasses import field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from depaudit.errors import ConfigError
from depaudit.slots import dataclass

#: npm's settings for the network that depaudit applies to registry requests (see NpmNetwork)
NETWORK_KEYS = frozenset({"proxy", "https-proxy", "noproxy", "strict-ssl", "ca", "cafile"})
_PEM = "-----BEGIN CERTIFICATE-----"
_UNSET = ("", "null", "undefined")
#: an npmrc or a CA bundle is at most a few hundred kB (a system's whole store ~220 kB): a
#: bigger file is neither, and a device named as one (``/dev/zero``) ends there
CONFIG_FILE_BYTES = 16 * 1024 * 1024


def _read_capped(path: Path, what: str) -> str:
    """``path``'s text, read under :data:`CONFIG_FILE_BYTES`; OSError when it cannot be
    read, ValueError when it is bigger than ``what`` would be."""
    with open(path, "rb") as source:
        data = source.read(CONFIG_FILE_BYTES + 1)
    if len(data) > CONFIG_FILE_BYTES:
        raise ValueError(f"is over {CONFIG_FILE_BYTES} bytes, more than {what}")
    return data.decode("utf-8", errors="replace")


def read_npmrc_text(path: Path) -> str | None:
    """An npmrc's text (None: there is none); ConfigError, naming it, when it cannot be read
    or is too big to be one."""
    try:
        return _read_capped(path, "an npmrc")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def read_pem_file(path: Path) -> str:
    """A file of PEM certificates. OSError when it cannot be read; ValueError, saying why,
    when it is too big or holds no certificate."""
    text = _read_capped(path, "a CA bundle")
    if _PEM not in text:
        raise ValueError("holds no PEM certificate")
    return text


_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_LOOSE_USERINFO = re.compile(r"[^/@\s]+@")


def redact_url(url: str) -> str:
    """``https://user:pw@host/`` -> ``https://***@host/``: for messages, whatever the URL,
    a malformed one too (``//user:pw@host/``, ``user:pw@host``, ``https//user:pw@host``:
    whatever comes before an ``@`` in a part of it between slashes is hidden)."""
    return _LOOSE_USERINFO.sub("***@", _USERINFO.sub(r"\1***@", url))


def http_url(value: str) -> bool:
    """Whether ``value`` is an http(s) URL with a host and a valid port (a registry's)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or > 65535
    except ValueError:  # "http://[::1/": an unclosed IPv6 bracket; a bad port
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def bypasses_proxy(url: str, no_proxy: str) -> bool:
    """npm's ``noproxy`` rule: ``url``'s host ends with one of the comma-separated domains,
    compared label by label (``corp.example`` covers ``npm.corp.example``, not
    ``notcorp.example``; a leading dot changes nothing; no ports, no wildcards)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    labels = host.split(".")[::-1]
    for entry in no_proxy.split(","):
        wanted = [label for label in entry.strip().lower().split(".") if label][::-1]
        if wanted and labels[: len(wanted)] == wanted:
            return True
    return False


@dataclass(frozen=True, slots=True)
class NpmNetwork:
    """npm's proxy and TLS settings, applied to registry requests the way npm applies them.

    - ``proxy``: ``https-proxy``, else ``proxy`` (npm takes the first set for every request,
      https or not); None: the environment's proxy variables, as requests reads them.
    - ``no_proxy``: npm's ``noproxy`` (comma-separated domains, :func:`bypasses_proxy`); ""
      falls back to the environment's ``NO_PROXY``.
    - ``strict_ssl``: False turns certificate checks off.
    - ``ca_file`` / ``ca``: the certificates to trust *instead of* the default ones (npm's
      ``cafile``, which wins, or ``ca`` inline); neither: the default trust, as before.
    - ``extra_ca_file``: ``NODE_EXTRA_CA_CERTS``, the certificates node (and so npm) trusts
      *beside* its default ones when neither ``cafile`` nor ``ca`` is set; trusted beside
      certifi's, unless ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` say what Python trusts.
    - ``origins``: where each setting came from, for messages."""

    proxy: str | None = field(default=None, repr=False)  # may hold credentials
    no_proxy: str = ""
    strict_ssl: bool = True
    ca_file: str | None = None
    ca: str | None = field(default=None, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict)
    extra_ca_file: str | None = None

    def __repr__(self) -> str:
        proxy = redact_url(self.proxy) if self.proxy else None
        return (
            f"NpmNetwork(proxy={proxy!r}, no_proxy={self.no_proxy!r}, "
            f"strict_ssl={self.strict_ssl!r}, ca_file={self.ca_file!r}, "
            f"ca={'given' if self.ca else None!r}, extra_ca_file={self.extra_ca_file!r})"
        )

    @property
    def configured(self) -> bool:
        """Whether any setting differs from npm's default (else the environment rules)."""
        return bool(
            self.proxy
            or self.no_proxy
            or not self.strict_ssl
            or self.ca_file
            or self.ca
            or self.extra_ca_file
        )

    def proxy_for(self, url: str, environ: Mapping[str, str]) -> str | None:
        """npm's proxy for ``url`` (None: go direct); only when :attr:`proxy` is set."""
        no_proxy = self.no_proxy or env_value(environ, "no_proxy")
        if self.proxy is None or bypasses_proxy(url, no_proxy):
            return None
        return self.proxy


def env_value(environ: Mapping[str, str], name: str) -> str:
    """A variable npm reads in any case (``NO_PROXY`` or ``no_proxy``)."""
    found = ""
    for key, value in environ.items():
        if key.lower() == name:
            found = value
    return found


def npm_path(value: str, home: Path | None, base: Path) -> Path:
    """A path setting (``prefix``, ``globalconfig``, ``userconfig``) as npm reads it (nopt's
    ``path`` type): ``~/`` from the home folder, a relative one from where npm runs (``base``:
    the project's root, where its npm runs)."""
    if value.startswith("~/") or (os.sep == "\\" and value.startswith("~\\")):
        return (home if home is not None else Path(os.path.expanduser("~"))) / value[2:]
    return base / value


class BuiltIn(NamedTuple):
    """npm's built-in ``npmrc`` (``path`` "" where no ``npm`` is on ``PATH``) and its settings."""

    path: str
    values: dict[str, str]


def npm_builtin(environ: Mapping[str, str], read: Callable[[Path], dict[str, str]]) -> BuiltIn:
    """npm's built-in ``npmrc``: the file ``npmrc`` in npm's own folder (``npm`` on
    ``PATH``, its links followed), where a distribution or an installer sets what every
    user gets (a ``globalconfig``, a ``userconfig``, a registry). ``read`` reads one file;
    one that cannot be read is taken as empty, as npm goes without it."""
    npm = shutil.which("npm", path=environ.get("PATH", ""))
    if not npm:
        return BuiltIn("", {})
    path = Path(os.path.realpath(npm)).parent.parent / "npmrc"
    return BuiltIn(str(path), _readable(read, path))


def _readable(read: Callable[[Path], dict[str, str]], path: Path) -> dict[str, str]:
    try:
        return read(path)
    except ConfigError:
        return {}


def npm_wide_layers(
    environ: Mapping[str, str],
    settings: Mapping[str, str],
    read: Callable[[Path], dict[str, str]],
    keys: Container[str] = NETWORK_KEYS,
    *,
    home: Path | None = None,
    base: Path = Path("."),
    builtin: BuiltIn | None = None,
) -> list[tuple[str, dict[str, str]]]:
    """npm's built-in and global ``npmrc`` files, lowest first, with only their settings in
    ``keys``: those depaudit reads from any npmrc (:data:`depaudit.npmrc.WIDE_KEYS`: a CA,
    a proxy, a scope's registry or a credential set for the whole machine lives there), or
    ``registry`` (:func:`depaudit.npm_process.npm_answer`). Found as npm finds them, without
    running npm: the built-in file (:func:`npm_builtin`, unless given as ``builtin``); the
    global one at ``globalconfig`` (from the environment, ``settings``, else the built-in
    file), else ``<prefix>/etc/npmrc``, where the prefix is ``prefix`` (from ``settings``,
    the other layers, or the environment), else ``PREFIX``, else the folder above node's
    ``bin`` (``~/`` and relative paths as :func:`npm_path` reads them, from ``home`` and
    ``base``). ``read`` reads one file; one that cannot be read (not the user's to read) is
    gone without, as npm goes without it."""
    path_var = environ.get("PATH", "")
    layers: list[tuple[str, dict[str, str]]] = []
    if builtin is None:
        builtin = npm_builtin(environ, read)
    if builtin.path:
        layers.append((builtin.path, builtin.values))
    where = (
        env_value(environ, "npm_config_globalconfig")
        or settings.get("globalconfig")
        or builtin.values.get("globalconfig")  # npm's own npmrc may move it (a distribution's)
    )
    if not where:
        prefix = (
            env_value(environ, "npm_config_prefix")
            or settings.get("prefix")
            or builtin.values.get("prefix")
            or environ.get("PREFIX")
        )
        if not prefix:
            node = shutil.which("node", path=path_var)
            prefix = str(Path(os.path.realpath(node)).parent.parent) if node else ""
            destdir = environ.get("DESTDIR")
            if prefix and destdir:
                prefix = str(Path(destdir) / prefix.lstrip("/"))
        where = str(npm_path(prefix, home, base) / "etc" / "npmrc") if prefix else ""
    else:
        where = str(npm_path(where, home, base))
    if where:
        layers.append((where, _readable(read, Path(where))))
    return [(origin, {k: v for k, v in values.items() if k in keys}) for origin, values in layers]


def network_settings(
    merged: Mapping[str, str],
    origin_of: Mapping[str, str],
    root: Path,
    home: Path,
    environ: Mapping[str, str],
) -> NpmNetwork:
    """:class:`NpmNetwork` from the merged settings (and ``NODE_EXTRA_CA_CERTS`` from
    ``environ``). A relative ``cafile`` is taken from the project's root (npm takes it from
    where npm runs, which is there), ``~/`` from home."""

    def given(key: str) -> str | None:
        raw = merged.get(key)
        return None if raw is None or raw.strip() in _UNSET else raw.strip()

    origins: dict[str, str] = {}
    proxy = None
    for key in ("https-proxy", "proxy"):  # npm-registry-fetch: httpsProxy || proxy
        raw = given(key)
        if raw is not None and raw != "false":  # proxy=false: unset, as in npm
            proxy = _check_proxy(raw, key, origin_of[key])
            origins["proxy"] = f"{key} in {origin_of[key]}"
            break
    strict = True
    raw = given("strict-ssl")
    if raw is not None:
        if raw.lower() not in ("true", "false"):
            raise ConfigError(
                f"{origin_of['strict-ssl']}: strict-ssl {raw[:40]!r} is not true or false",
                "fix or remove strict-ssl (npm's default, true, applies then)",
            )
        strict = raw.lower() == "true"
        origins["strict-ssl"] = origin_of["strict-ssl"]
    ca_file = None
    raw = given("cafile")
    if raw is not None:
        where = origin_of["cafile"]
        path = npm_path(raw, home, root)
        try:
            read_pem_file(path)
        except FileNotFoundError:
            pass  # npm skips a cafile that is not there, and so do we
        except OSError as exc:
            raise ConfigError(
                f"{path}: cafile (set in {where}) cannot be read ({exc.strerror or exc})"
            ) from None
        except ValueError as exc:
            raise ConfigError(
                f"{path}: cafile (set in {where}) {exc}",
                f"give cafile a file of PEM certificates ({_PEM} blocks)",
            ) from None
        else:
            ca_file = str(path.resolve())
            origins["ca"] = f"cafile in {where}"
    ca = None
    raw = given("ca")
    if raw is not None and ca_file is None:
        ca = raw.replace("\\n", "\n")  # PEM written on one line, as npm documents it
        if _PEM not in ca:
            raise ConfigError(
                f"{origin_of['ca']}: ca is not a PEM certificate",
                f'write it as ca="{_PEM}\\n...", or use cafile=PATH',
            )
        origins["ca"] = f"ca in {origin_of['ca']}"
    no_proxy = given("noproxy") or ""
    if no_proxy:
        origins["noproxy"] = origin_of["noproxy"]
    return NpmNetwork(proxy, no_proxy, strict, ca_file, ca, origins, _node_extra_certs(environ))


def _node_extra_certs(environ: Mapping[str, str]) -> str | None:
    """``NODE_EXTRA_CA_CERTS`` when it names a file of PEM certificates (node, like npm, goes
    on without one it cannot load, and so does depaudit)."""
    path = environ.get("NODE_EXTRA_CA_CERTS", "").strip()
    if not path:
        return None
    try:
        read_pem_file(Path(path))
    except (OSError, ValueError):
        return None
    return path


def _check_proxy(url: str, key: str, origin: str) -> str:
    """An npm proxy setting: an http(s) URL with a host (credentials may be in it)."""
    try:
        parts = urlsplit(url)
        scheme, valid = parts.scheme.lower(), bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        scheme, valid = "", False
    if scheme.startswith("socks"):
        raise ConfigError(
            f"{origin}: {key} {redact_url(url)!r} is a SOCKS proxy, which depaudit does not speak",
            f"give {key} an http:// or https:// proxy",
        )
    if scheme not in ("http", "https") or not valid:
        raise ConfigError(
            f"{origin}: {key} {redact_url(url)[:80]!r} is not an http(s) URL",
            "use e.g. http://proxy.example:3128",
        )
    return url
