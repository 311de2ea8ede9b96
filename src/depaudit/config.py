"""Settings: defaults < .depaudit.toml < DEPAUDIT_* environment < command-line flags.

Every flag has a ``DEPAUDIT_*`` twin (``--no-npm`` -> ``DEPAUDIT_NO_NPM``); ``cli.py`` reads
the environment into argparse defaults, so ``--help`` shows the effective default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from depaudit.errors import ConfigError

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
