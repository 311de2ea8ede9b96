"""YAML for lockfiles: PyYAML's C parser when it is compiled in, its pure-Python one otherwise.

Every scalar is read as a string (PyYAML's *Base* loaders): lockfiles are data written by
tools, and YAML 1.1's implicit typing would turn ``lockfileVersion: 5.10`` into the float
``5.1``, a package named ``no`` or ``on`` into a boolean, and ``null`` into ``None``. Readers
interpret ``"true"`` / ``"false"`` themselves where a field is a flag.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from depaudit.errors import InputError

#: the loader used unless a caller asks for the pure-Python one (tests compare the two)
C_LOADER: type[Any] | None = getattr(yaml, "CBaseLoader", None)
PURE_LOADER: type[Any] = yaml.BaseLoader


def has_c_loader() -> bool:
    return C_LOADER is not None


def load_yaml(text: str, path: Path | str, *, what: str, pure: bool = False) -> Any:
    """Parse ``text``; any YAML error becomes one InputError line naming ``path``."""
    loader = PURE_LOADER if pure or C_LOADER is None else C_LOADER
    with _errors_name(path, what):
        return yaml.load(text, Loader=loader)  # noqa: S506 - Base loaders build no objects


def load_yaml_documents(text: str, path: Path | str, *, what: str, pure: bool = False) -> list[Any]:
    """Every document of a multi-document stream (``---`` separated), in order."""
    loader = PURE_LOADER if pure or C_LOADER is None else C_LOADER
    with _errors_name(path, what):
        return list(yaml.load_all(text, Loader=loader))  # noqa: S506 - Base loaders


@contextmanager
def _errors_name(path: Path | str, what: str) -> Iterator[None]:
    """Turn any YAML error into one InputError line naming ``path``."""
    try:
        yield
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise InputError(
            path, f"is not valid YAML{where}: {problem}", f"expected a {what}"
        ) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())  # a ReaderError spans two lines
        raise InputError(path, f"is not valid YAML: {detail}", f"expected a {what}") from None
    except RecursionError:
        raise InputError(path, "YAML is nested too deeply", f"expected a {what}") from None
