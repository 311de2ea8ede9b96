"""Typed errors and exit codes. Only ``cli.py`` prints errors and picks the exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    SUSPECTS = 1  # suspects at or above --fail-on
    INPUT = 2  # usage, input or configuration error
    SERVICE = 3  # a required service failed under --strict
    INTERNAL = 4  # a bug in depaudit
    INTERRUPTED = 130


class DepauditError(Exception):
    """Base class: a message (one line) and an optional hint."""

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"


class InputError(DepauditError):
    """A file or stream depaudit was asked to read is missing, unreadable or malformed.

    The message starts with the file it is about.
    """

    def __init__(self, path: object, problem: str, hint: str | None = None) -> None:
        super().__init__(f"{path}: {problem}", hint)
        self.path = str(path)
        self.problem = problem


class UsageError(DepauditError):
    """Flags or arguments that do not make sense together."""


class ConfigError(DepauditError):
    """A configuration file, environment variable or npm setting is wrong."""


class ServiceError(DepauditError):
    """A required network service failed (only fatal under --strict)."""

    exit_code = ExitCode.SERVICE


def print_error(error: DepauditError) -> None:
    """``depaudit: error: MESSAGE (hint: HINT)`` on stderr: one line, no escapes from hostile
    input."""
    import sys

    from depaudit.text import terminal_safe

    line = f"depaudit: error: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    print(terminal_safe(line), file=sys.stderr)


#: how a transport failure of TLS (an untrusted certificate, mostly) is worded in warnings
TLS_ERROR = "TLS error"
