"""The one loader of the data bundled with depaudit (``data/`` in the repository, the package
``depaudit.data`` once installed): the knowledge base, the scoring weights and the advisory
classification rules are all read through :func:`load_bundled_yaml`.

Bundled YAML is ours, so it is read with YAML's safe loader (the C one when PyYAML has it);
a missing or broken file is a :class:`BundledDataError` naming the file.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from depaudit.errors import ConfigError

PACKAGE = "depaudit.data"


class BundledDataError(ConfigError):
    """A bundled data file is missing from the installation or is not valid YAML."""


def read_bundled(name: str) -> str:
    """The text of ``data/<name>``."""
    try:
        return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise BundledDataError(f"{name}: missing from the installed package ({exc})") from None


def safe_loader() -> Any:
    """libyaml's safe loader when PyYAML has it (a profile hot spot), else the pure one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_bundled_yaml(name: str) -> Any:
    """``data/<name>`` parsed."""
    import yaml

    try:
        return yaml.load(read_bundled(name), Loader=safe_loader())  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        raise BundledDataError(f"{name}: not valid YAML ({exc})") from None
