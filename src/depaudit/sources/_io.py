"""Shared, careful file reading for every parser: one clear InputError per failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from depaudit.errors import InputError

#: refuse to read lockfiles larger than this (a 2,600-entry monorepo lock is ~1.2 MB)
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_text(path: Path, *, what: str = "file") -> str:
    """Read a UTF-8 text file, turning every failure into an InputError naming the file."""
    try:
        if path.is_dir():
            raise InputError(path, f"is a directory, expected a {what}", "pass the file itself")
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(path, f"{size} bytes is too large for a {what}")
        raw = path.read_bytes()
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(path, "no such file", "check the path") from None
    except PermissionError:
        raise InputError(path, "permission denied", "check the file's permissions") from None
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from None
    return decode_text(raw, path, what=what)


def decode_text(raw: bytes, path: object, *, what: str = "file") -> str:
    if not raw.strip():
        raise InputError(path, f"is empty, expected a {what}")
    if b"\x00" in raw[:8192]:
        raise InputError(path, f"is a binary file, expected a {what}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 text (byte {exc.start}), expected a {what}") from None
    return text.removeprefix("\ufeff")


def json_problem(exc: json.JSONDecodeError, text: str) -> str:
    """What is wrong with ``text``, in words: cut off, or invalid at a line and column."""
    # cut off: the error is at the very end, or a string runs to the end of the text
    at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
    if at_end:
        return "JSON ends too early (truncated?)"
    return f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"


def parse_json(text: str, path: object, *, what: str = "JSON file") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, json_problem(exc, text), f"expected a {what}") from None
    except RecursionError:
        raise InputError(path, "JSON is nested too deeply", f"expected a {what}") from None


def read_json_object(path: Path, *, what: str) -> dict[str, Any]:
    data = parse_json(read_text(path, what=what), path, what=what)
    if not isinstance(data, dict):
        raise InputError(
            path, f"top level is a JSON {type(data).__name__}, not an object", f"expected a {what}"
        )
    return data
