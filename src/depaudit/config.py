"""Settings: defaults < .depaudit.toml < DEPAUDIT_* environment < command-line flags.

Every flag has a ``DEPAUDIT_*`` twin (``--no-npm`` -> ``DEPAUDIT_NO_NPM``); ``cli.py`` reads
the environment into argparse defaults, so ``--help`` shows the effective default.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any, TypeVar

from depaudit.budget import Budget
from depaudit.errors import ConfigError, InputError
from depaudit.slots import dataclass

T = TypeVar("T")

ENV_PREFIX = "DEPAUDIT_"

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def env_name(flag: str) -> str:
    """``--no-npm`` -> ``DEPAUDIT_NO_NPM``."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def env_value(flag: str, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    return env.get(env_name(flag))


def env_bool(flag: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_value(flag, environ)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(
        f"{env_name(flag)}={raw!r} is not a boolean", "use 1/0, true/false, yes/no or on/off"
    )


def positive_int(text: str) -> int:
    """An argparse type: a whole number from 1 to 1000 (``--jobs``)."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 1 and 1000")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0, at most a day."""
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 86400")
    return value


def env_default(flag: str, parse: Callable[[str], T], fallback: T) -> T:
    """The flag's default: its ``DEPAUDIT_*`` twin checked like the flag, else ``fallback``.
    A bad value is a ConfigError naming the variable."""
    raw = env_value(flag)
    if raw is None:
        return fallback
    try:
        return parse(raw)
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise ConfigError(f"{env_name(flag)}: {exc}", f"fix or unset {env_name(flag)}") from None


def env_choice(flag: str, choices: Iterable[str], fallback: str | None) -> str | None:
    """The flag's default from its ``DEPAUDIT_*`` twin, which must be one of ``choices``."""
    allowed = tuple(choices)

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"{raw!r} is not one of {', '.join(allowed)}")
        return raw

    return env_default(flag, parse, fallback)


CONFIG_NAME = ".depaudit.toml"
CONFIG_KEYS = ("fail-on", "ignore", "entry")
FAIL_ON_CHOICES = ("high", "medium", "low", "never")


def find_config(directory: Path, explicit: Path | None) -> Path | None:
    """``--config FILE`` (which must exist), else ``.depaudit.toml`` in the scanned folder."""
    if explicit is not None:
        return explicit
    candidate = directory / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(path: Path | None) -> dict[str, Any]:
    """The parsed TOML config file (``{}`` when there is none); bad TOML is an InputError."""
    if path is None:
        return {}
    import tomllib  # on use: most runs have no config file

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(path, "does not exist", "check --config") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory", "give --config a file") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {', '.join(repr(k) for k in unknown)}",
            f"keys: {', '.join(CONFIG_KEYS)} ([[ignore]] tables)",
        )
    entry = data.get("entry")
    if entry is not None and (
        not isinstance(entry, list) or not all(isinstance(e, str) and e for e in entry)
    ):
        raise InputError(path, 'entry must be a list of file names (entry = ["server.js"])')
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON_CHOICES:
        raise InputError(path, f"fail-on = {fail_on!r} is not one of {', '.join(FAIL_ON_CHOICES)}")
    return data


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs to know, resolved once in cli.py."""

    directory: Path = Path(".")
    lockfile: Path | None = None
    npm_ls: str | None = None  # a file path, or "-" for stdin
    use_npm: bool = True
    npm_timeout: float = 120.0
    format: str = "table"
    output: Path | None = None
    debug: bool = False
    config: Path | None = None  # --config, or .depaudit.toml found in the directory
    #: exit 1 when a suspect is at or above this tier; None: not given (the config file's
    #: fail-on applies, else "never")
    fail_on: str | None = None
    # registry, cache and offline use
    use_registry: bool = True
    registry: str | None = None  # --registry; otherwise npm configuration decides
    offline: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None  # None: the user cache folder (platformdirs)
    cache_ttl: float = 86400.0
    #: registry requests in flight; None: 32 per origin over HTTP/1.1, 128 streams once an
    #: origin answers over HTTP/2 (services/registry.py, benchmarks/README.md)
    jobs: int | None = None
    strict: bool = False
    # advisories (npm bulk endpoint, GitHub Advisory Database); the knowledge base is always used
    github_api_url: str = "https://api.github.com"
    use_advisories: bool = True
    #: run the code rules over the app's own source (depaudit code) as part of scan
    use_code: bool = False
    #: entry points given with --entry and entry = [...] (depaudit.reach finds the others)
    entries: tuple[str, ...] = ()
    #: heap snapshots of the running app, oldest first (scan --heap), and a sampling heap
    #: profile (scan --heap-profile): measured growth, the runtime-growth signal
    heap_snapshots: tuple[Path, ...] = ()
    heap_profile: Path | None = None
    #: the run's resource budget (--input-budget, --depth-budget, --network-budget,
    #: --response-budget): handed to the readers and services
    budget: Budget = Budget()
    #: GITHUB_TOKEN / GH_TOKEN, read once by the CLI (the core reads no environment)
    github_token: str | None = field(default=None, repr=False)

    @property
    def online_registry(self) -> bool:
        """Whether the run asks the registry anything (not ``--no-registry``, not
        ``--offline``): only then is npm's configuration read before the tree."""
        return self.use_registry and not self.offline

    @property
    def npmrc_directory(self) -> Path:
        """Where the project's ``.npmrc`` is looked for: beside the lockfile when one is
        given, else in the scanned folder."""
        return self.lockfile.parent if self.lockfile is not None else self.directory
