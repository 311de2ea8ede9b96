"""Which files are the app's own source: JavaScript and TypeScript under a folder, honouring
every ``.gitignore`` on the way down, never in ``node_modules``, build output or minified
bundles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from depaudit.code.model import SkippedFile
from depaudit.slots import dataclass

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


#: the app's source files (``.d.ts`` declarations hold no runtime code and are left out)
CODE_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})
#: folders never read: dependencies, VCS data, caches of tools
ALWAYS_PRUNED = frozenset(
    {"node_modules", ".git", ".hg", ".svn", "bower_components", "jspm_packages", ".yarn"}
)
#: folders that hold build output by convention (``--scan-build-output`` reads them)
BUILD_OUTPUT = frozenset(
    {
        "dist",
        "build",
        "out",
        "coverage",
        ".next",
        ".nuxt",
        ".output",
        ".svelte-kit",
        ".turbo",
        ".cache",
        ".parcel-cache",
        ".vercel",
        ".serverless",
        ".webpack",
        ".docusaurus",
    }
)
#: test code does not run in production (``--include-tests`` reads it)
TEST_FOLDERS = frozenset({"test", "tests", "__tests__", "__mocks__", "spec", "e2e"})
TEST_FILE = ("test", "spec")
MAX_FILE_BYTES = 2 * 1024 * 1024
#: average line length above which a file is a minified bundle, not source
MINIFIED_LINE_LENGTH = 300


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    relative: str  # posix, relative to the scanned folder


def _ignore_spec(directory: Path) -> GitIgnoreSpec | None:
    path = directory / ".gitignore"
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


def is_code_file(name: str) -> bool:
    lower = name.lower()
    if lower.endswith((".d.ts", ".d.mts", ".d.cts")):
        return False
    if ".min." in lower or lower.endswith(("-min.js", ".bundle.js")):
        return False
    return os.path.splitext(lower)[1] in CODE_SUFFIXES


def minified(source: bytes) -> bool:
    """A bundle: long average lines (a real source file, even a long one, has newlines)."""
    if len(source) < 2 * MINIFIED_LINE_LENGTH:
        return False
    return len(source) / (source.count(b"\n") + 1) > MINIFIED_LINE_LENGTH


def is_test_file(name: str) -> bool:
    """``x.test.ts``, ``x.spec.js``, ``x-test.js``."""
    stem = name.lower().rsplit(".", 1)[0]
    return stem.endswith(tuple(f"{sep}{word}" for word in TEST_FILE for sep in ".-_"))


def walk(
    root: Path, *, build_output: bool = False, tests: bool = False
) -> Iterator[SourceFile | SkippedFile]:
    """The candidate files under ``root`` in a stable order (sorted per folder), or a
    :class:`SkippedFile` for a file that is too big to be source."""
    specs: list[tuple[PurePosixPath, GitIgnoreSpec]] = []
    root_spec = _ignore_spec(root)
    if root_spec is not None:
        specs.append((PurePosixPath("."), root_spec))

    def ignored(rel: PurePosixPath, is_dir: bool) -> bool:
        for base, spec in specs:
            if base == PurePosixPath("."):
                sub = rel
            elif rel.is_relative_to(base):
                sub = rel.relative_to(base)
            else:
                continue
            text = sub.as_posix() + ("/" if is_dir else "")
            if spec.match_file(text):
                return True
        return False

    def visit(directory: Path, rel: PurePosixPath) -> Iterator[SourceFile | SkippedFile]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        pushed = False
        if rel != PurePosixPath("."):
            spec = _ignore_spec(directory)
            if spec is not None:
                specs.append((rel, spec))
                pushed = True
        try:
            for entry in entries:
                child = rel / entry.name if rel != PurePosixPath(".") else PurePosixPath(entry.name)
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = entry.is_file(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    if entry.name in ALWAYS_PRUNED:
                        continue
                    if not build_output and entry.name in BUILD_OUTPUT:
                        continue
                    if not tests and entry.name in TEST_FOLDERS:
                        continue
                    if ignored(child, True):
                        continue
                    yield from visit(Path(entry.path), child)
                elif is_file and is_code_file(entry.name):
                    if not tests and is_test_file(entry.name):
                        continue
                    if ignored(child, False):
                        continue
                    try:
                        size = entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
                    if size > MAX_FILE_BYTES:
                        yield SkippedFile(child.as_posix(), f"over {MAX_FILE_BYTES} bytes")
                        continue
                    yield SourceFile(Path(entry.path), child.as_posix())
        finally:
            if pushed:
                specs.pop()

    yield from visit(root, PurePosixPath("."))
