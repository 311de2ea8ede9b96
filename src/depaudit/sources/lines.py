"""Where each placement's entry is in the input file: the lines SARIF points its results at.

This is input work, so it is done here and not while rendering (formats read no file): the
composition root (``app.scan``) calls :func:`with_lines` after loading the tree when SARIF is
among the requested formats, and the tree carries the result (``DependencyTree.lines``,
placement location -> line number and width). Other formats never pay for it.

One pass over the text finds every placement (:class:`LineIndex`):

* package-lock / npm-shrinkwrap (as npm writes them, indented; also a saved ``npm ls --json``):
  every object key's chain gives its location (``packages`` keys in v2/v3; nested
  ``dependencies`` in v1, so two versions of one name get their own lines);
* yarn: each header with the version below it;
* pnpm: each ``packages`` / ``snapshots`` key.

A placement not found that way (bun.lock, a hand-edited file) is looked up by four line
patterns tried in order (:class:`LinePatterns`), again in one pass over the text for all such
placements at once; what is still not found points at line 1. Each step is linear in the
size of the text plus the number of placements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TypeVar

from depaudit.budget import INPUT_BYTES
from depaudit.models import DependencyTree, Package, SourceLine, SourceLines


def read_lines(path: str, limit: int = INPUT_BYTES) -> list[str]:
    """The lines of the input file at ``path``; none for stdin, for anything that is not a
    regular file (a FIFO cannot be read twice), for a file over ``limit`` bytes (the input
    budget) or that cannot be read."""
    if path in ("", "-"):
        return []
    try:
        file = Path(path)
        if not file.is_file() or file.stat().st_size > limit:
            return []
        return file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def with_lines(tree: DependencyTree, limit: int = INPUT_BYTES) -> DependencyTree:
    """``tree`` with the line of each placement's entry in its input file (``tree.lines``);
    unchanged when the input has no lines to point at."""
    lines = read_lines(tree.source.path, limit)
    if not lines:
        return tree
    return tree.evolve(lines=locate(lines, tree))


def locate(lines: Sequence[str], tree: DependencyTree) -> SourceLines:
    index = LineIndex(lines, tree.source.path, tree.source.lockfile_version)
    numbers: dict[str, int] = {}
    missing: list[Package] = []
    for pkg in tree.packages:
        number = index.find(pkg)
        if number is None:
            missing.append(pkg)
        else:
            numbers[pkg.location] = number
    if missing:
        patterns = LinePatterns(lines, missing)
        for pkg in missing:
            numbers[pkg.location] = patterns.line(pkg)
    shared: dict[int, SourceLine] = {}

    def line(number: int) -> SourceLine:
        found = shared.get(number)
        if found is None:
            width = len(lines[number - 1]) if number <= len(lines) else 0
            found = shared[number] = SourceLine(number, width)
        return found

    return SourceLines(
        first=line(1), placements={location: line(n) for location, n in numbers.items()}
    )


_JSON_KEY = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:\s*\{')
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?\s*$')


class LineIndex:
    """Where each placement's entry is in the lockfile text, by the lockfile's own structure,
    found in one pass over it."""

    def __init__(self, lines: Sequence[str], path: str, version: int | str | None) -> None:
        self.lines = lines
        self.by_location: dict[str, int] = {}
        self.by_key: dict[tuple[str, str], int] = {}
        name = PurePosixPath(path.replace("\\", "/")).name
        if name.endswith(".json"):  # package-lock, npm-shrinkwrap (also behind npm ls)
            self._json()
        elif name == "yarn.lock":
            self._yarn()
        elif name.endswith((".yaml", ".yml")):
            self._pnpm(version)

    def find(self, pkg: Package) -> int | None:
        """1-based line of ``pkg``'s entry; None when the structure does not say."""
        found = self.by_location.get(pkg.location) or self.by_key.get((pkg.name, pkg.version))
        if found is None and pkg.installed_as != pkg.name:
            found = self.by_key.get((pkg.installed_as, pkg.version))
        return found

    def _json(self) -> None:
        # (indent, key, location) of the enclosing objects; the location of a v1
        # ``dependencies`` entry is its parent's plus its key, so no line walks the stack
        stack: list[tuple[int, str, str | None]] = []
        for number, text in enumerate(self.lines, 1):
            if "{" not in text:
                continue
            match = _JSON_KEY.match(text)
            if match is None:
                continue
            indent, key = len(match.group(1)), match.group(2)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            depth = len(stack)
            location = None
            if depth == 1 and stack[0][1] == "packages":  # v2 / v3
                self.by_location.setdefault(key, number)
            elif depth % 2 == 1 and stack[-1][1] == "dependencies":  # v1, nested
                parent = stack[-2][2] if depth > 1 else ""
                if parent is not None:
                    location = f"{parent}/node_modules/{key}" if parent else f"node_modules/{key}"
                    self.by_location.setdefault(location, number)
            stack.append((indent, key, location))

    def _yarn(self) -> None:
        header: tuple[int, list[str]] | None = None
        for number, text in enumerate(self.lines, 1):
            if text and not text[0].isspace() and text.rstrip().endswith(":"):
                names = []
                for spec in text.rstrip()[:-1].split(","):
                    spec = spec.strip().strip('"')
                    at = spec.find("@", 1)
                    if at > 0:
                        names.append(spec[:at])
                header = (number, names)
            elif header is not None and (match := _YARN_VERSION.match(text)):
                for name in header[1]:
                    self.by_key.setdefault((name, match.group(1)), header[0])
                header = None

    def _pnpm(self, version: int | str | None) -> None:
        from depaudit.sources.pnpm_lock import parse_key

        try:
            major = int(float(str(version)))
        except (TypeError, ValueError, OverflowError):
            return
        section = ""
        for number, text in enumerate(self.lines, 1):
            if text.rstrip() == "---":  # pnpm 11: the project's lockfile is the last document
                self.by_key.clear()
            if text and not text[0].isspace():
                section = text.rstrip()
                continue
            if section not in ("packages:", "snapshots:") or not text.startswith("  "):
                continue
            if text[2:3].isspace() or not text.rstrip().endswith(":"):
                continue
            parsed = parse_key(text.strip()[:-1].strip("'\""), major)
            if parsed is not None:
                self.by_key.setdefault(parsed, number)


_K = TypeVar("_K")
_LEAD = re.compile(r"\s*")
_OBJECT_AFTER_KEY = re.compile(r'"\s*:\s*\{')
_QUOTE = re.compile('"')
_AT = re.compile("@")
_NAME_END = re.compile("[@/]")
_PNPM_KEY_END = re.compile("[(_'\":]")
_VERSION_TOKEN = re.compile(r'version:?\s+"?([^\s"]+)"?(?=\s|$)')
_PLAIN_VERSION = re.compile(r'[^\s"]+')


class LinePatterns:
    """A placement's line by four patterns of a line's start, the first that occurs wins:

    1. ``"<location>": {`` (package-lock ``packages`` keys);
    2. ``<name>@<version>`` or ``/<name>/<version>`` followed by ``(``, ``_``, a quote or
       ``:``, after an optional quote and slash (pnpm keys);
    3. ``<installed name>@`` after an optional quote (yarn headers);
    4. ``"<installed name>": {`` (package-lock v1 ``dependencies``).

    When a pattern occurs on several lines, the first whose next five lines say
    ``version <version>`` wins, else the first. All the placements are looked up in one pass
    over the text: each line is cut at the few places a name can end (no longer than the
    longest name looked for), never searched once per placement."""

    def __init__(self, lines: Sequence[str], packages: Iterable[Package]) -> None:
        self.lines = lines
        locations: set[str] = set()
        installed: set[str] = set()
        names: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for pkg in packages:
            locations.add(pkg.location)
            installed.add(pkg.installed_as)
            names.add(pkg.name)
            pairs.add((pkg.name, pkg.version))
        key_long = max(map(len, locations | installed), default=0)
        name_long = max(map(len, names), default=0)
        version_long = max((len(v) for _, v in pairs), default=0)
        installed_long = max(map(len, installed), default=0)
        by_location: dict[str, list[int]] = {}
        by_pair: dict[tuple[str, str], list[int]] = {}
        by_header: dict[str, list[int]] = {}
        by_key: dict[str, list[int]] = {}
        for i, text in enumerate(lines):
            lead = _LEAD.match(text)
            start = lead.end() if lead is not None else 0
            # 1 and 4: a quoted key opening an object
            if text.startswith('"', start):
                begin = start + 1
                for quote in _QUOTE.finditer(text, begin, begin + key_long + 1):
                    end = quote.start()
                    if _OBJECT_AFTER_KEY.match(text, end):
                        key = text[begin:end]
                        if key in locations:
                            _add(by_location, key, i)
                        if key in installed:
                            _add(by_key, key, i)
            # 2: pnpm keys
            starts = [start]
            if text.startswith(("'", '"'), start):
                starts.append(start + 1)
            starts += [s + 1 for s in starts if text.startswith("/", s)]
            for first in starts:
                for sep in _NAME_END.finditer(text, first + 1, first + name_long + 1):
                    name = text[first : sep.start()]
                    if name not in names:
                        continue
                    after = sep.start() + 1
                    for stop in _PNPM_KEY_END.finditer(text, after, after + version_long + 1):
                        pair = (name, text[after : stop.start()])
                        if pair in pairs:
                            _add(by_pair, pair, i)
            # 3: yarn headers
            for first in (0, 1) if text.startswith('"') else (0,):
                for at in _AT.finditer(text, first + 1, first + installed_long + 1):
                    name = text[first : at.start()]
                    if name in installed:
                        _add(by_header, name, i)
        self._hits = (by_location, by_pair, by_header, by_key)
        self._windows: dict[int, set[str]] = {}
        self._first_with: dict[int, dict[str, int]] = {}

    def line(self, pkg: Package) -> int:
        """1-based line of ``pkg``'s entry; 1 when no pattern occurs."""
        by_location, by_pair, by_header, by_key = self._hits
        for hits in (
            by_location.get(pkg.location),
            by_pair.get((pkg.name, pkg.version)),
            by_header.get(pkg.installed_as),
            by_key.get(pkg.installed_as),
        ):
            if not hits:
                continue
            if len(hits) > 1:
                chosen = self._first_saying(hits, pkg.version)
                if chosen is not None:
                    return chosen + 1
            return hits[0] + 1
        return 1

    def _first_saying(self, hits: list[int], version: str) -> int | None:
        """The first of ``hits`` whose next five lines say ``version <version>``."""
        if _PLAIN_VERSION.fullmatch(version) is None:  # a space or a quote: search as said
            said = re.compile(rf"version:?\s+\"?{re.escape(version)}\"?(\s|$)")
            return next((i for i in hits if said.search(self._window(i))), None)
        first_with = self._first_with.get(id(hits))
        if first_with is None:
            first_with = self._first_with[id(hits)] = {}
            for i in hits:
                for said_version in self._versions_below(i):
                    first_with.setdefault(said_version, i)
        return first_with.get(version)

    def _window(self, i: int) -> str:
        return " ".join(self.lines[i + 1 : i + 6])

    def _versions_below(self, i: int) -> set[str]:
        """Every version (without spaces or quotes) the five lines below line ``i`` say."""
        found = self._windows.get(i)
        if found is None:
            window = self._window(i)
            found = set()
            at = window.find("version")
            while at != -1:
                match = _VERSION_TOKEN.match(window, at)
                if match is not None:
                    found.add(match.group(1))
                at = window.find("version", at + 1)
            self._windows[i] = found
        return found


def _add(hits: dict[_K, list[int]], key: _K, i: int) -> None:
    found = hits.setdefault(key, [])
    if not found or found[-1] != i:
        found.append(i)
