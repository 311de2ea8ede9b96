"""Where the production process starts: the entry points of the root and of each workspace.

From each package.json: ``main``, ``exports`` (conditions ``node``, ``require``, ``import``,
``default``), ``bin``, and the file ``scripts.start`` runs (``node X``, ``ts-node X``,
``tsx X``, ``nodemon X``, ``pm2 start X``, ``npm run Y`` followed to script ``Y``; the values of
``-r``/``--require``/``--import`` are preloaded modules). Without any of them, the file
``npm start`` runs by default (``server.js``) or Node's default main (``index.js``). Entries
given by the user (``--entry``, ``entry = [...]``) come first. An entry that is build output
(``dist/server.js`` of a TypeScript app that was not built) is mapped back to its source with
``tsconfig.json``'s ``outDir``/``rootDir``.

Why this module is over ~400 lines: finding entry points is one phase with many spellings
(package.json fields, export conditions, start-script commands, npm run indirection,
TypeScript build output); each is a few lines and they share one result type.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import field

from depaudit.reach.resolve import IMPORT_CONDITIONS, REQUIRE_CONDITIONS, Resolver, all_targets
from depaudit.slots import dataclass

#: commands whose first file argument is the script they run
RUNNERS = frozenset(
    {
        "node",
        "nodejs",
        "ts-node",
        "ts-node-dev",
        "tsnd",
        "tsx",
        "nodemon",
        "babel-node",
        "forever",
        "supervisor",
        "node-dev",
        "esno",
        "esr",
    }
)
#: options of those commands that take a value (the value is not the script)
_VALUED = frozenset(
    {
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-e",
        "--eval",
        "-p",
        "--print",
        "--env-file",
        "--watch-path",
        "--exec",
        "-x",
        "--ext",
        "-w",
        "--watch",
        "--ignore",
        "-i",
        "--project",
        "-P",
        "--inspect-port",
        "--title",
        "--max-old-space-size",
        "--name",
        "-n",
        "--instances",
        "--max-memory-restart",
        "--config",
    }
)
_PRELOAD = frozenset({"-r", "--require", "--import"})
_PREFIXES = frozenset({"cross-env", "env", "exec", "dotenv", "time", "nice", "npx", "--"})
_PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun"})


@dataclass(frozen=True, slots=True)
class Entry:
    """A file the production process loads first, or a module it preloads (``specifier``,
    resolved from ``folder``). ``why`` says where it was found."""

    why: str
    path: str | None = None
    specifier: str | None = None
    folder: str | None = None


@dataclass(frozen=True, slots=True)
class Discovery:
    entries: tuple[Entry, ...]
    #: what could not be followed (a start command depaudit does not know, a computed path)
    notes: tuple[str, ...] = ()


def _split_commands(script: str) -> list[list[str]]:
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars="&|;")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return []
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set("&|;"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _strip_prefixes(words: list[str]) -> list[str]:
    while words:
        head = words[0]
        if "=" in head and not head.startswith("-"):
            words = words[1:]  # FOO=bar
        elif os.path.basename(head) in _PREFIXES:
            words = words[1:]
            while words and words[0].startswith("-"):
                words = words[1:] if words[0] != "-e" else words[2:]
        else:
            break
    return words


@dataclass
class _Script:
    files: list[str]
    preloads: list[str]
    notes: list[str]
    delegated: list[tuple[str, str]] = field(default_factory=list)  # (workspace, script)


_WORKSPACE_FLAGS = frozenset({"-w", "--workspace", "--filter", "-F"})


def _workspace_and_words(command: str, args: list[str]) -> tuple[str | None, list[str]]:
    """``npm run X -w ws``, ``npm --workspace=ws run X``, ``yarn workspace ws X``,
    ``pnpm --filter ws X``: the workspace named and the remaining words."""
    workspace: str | None = None
    words: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        option, eq, value = arg.partition("=")
        if option in _WORKSPACE_FLAGS:
            if eq:
                workspace = value
            elif index + 1 < len(args):
                workspace = args[index + 1]
                index += 1
        elif not arg.startswith("-"):
            words.append(arg)
        index += 1
    if command == "yarn" and words[:1] == ["workspace"] and len(words) >= 3:
        workspace, words = words[1], words[2:]
    return workspace, words


def read_start(scripts: dict[str, object], name: str = "start") -> _Script:
    """The files and preloads ``npm run <name>`` starts, following ``npm run X`` indirection."""
    result = _Script([], [], [])
    seen: set[str] = set()

    def follow(script_name: str) -> None:
        if script_name in seen:
            return
        seen.add(script_name)
        script = scripts.get(script_name)
        if not isinstance(script, str):
            return
        for words in _split_commands(script):
            words = _strip_prefixes(words)
            if not words:
                continue
            command = os.path.basename(words[0])
            args = words[1:]
            if command in _PACKAGE_MANAGERS:
                workspace, rest = _workspace_and_words(command, args)
                if rest and rest[0] in ("run", "run-script"):
                    rest = rest[1:]
                if rest and workspace is not None:
                    result.delegated.append((workspace, rest[0]))
                elif rest:
                    follow(rest[0])
                continue
            if command in ("pm2", "pm2-runtime", "pm2-docker"):
                args = [a for a in args if a != "start"]
            elif command not in RUNNERS:
                if command not in ("echo", "true", "cd", "rm", "mkdir", "cp", "tsc", "rimraf"):
                    result.notes.append(f"scripts.{script_name} runs {command}: not followed")
                continue
            index = 0
            while index < len(args):
                arg = args[index]
                option, _, inline = arg.partition("=")
                if arg.startswith("-"):
                    if option in _PRELOAD:
                        value = inline or (args[index + 1] if index + 1 < len(args) else "")
                        if value:
                            result.preloads.append(value)
                    if option in _VALUED and not inline:
                        index += 1
                    index += 1
                    continue
                if command == "tsx" and arg == "watch" and not result.files:
                    index += 1
                    continue
                result.files.append(arg)
                break
            else:
                if command in RUNNERS:
                    result.notes.append(f"scripts.{script_name}: {command} without a script")

    follow(name)
    return result


def _read_json(path: str) -> object:
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return None


def _jsonc(path: str) -> object:
    """tsconfig.json allows comments and trailing commas."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    out: list[str] = []
    i, n, in_string = 0, len(raw), False
    while i < n:
        c = raw[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(raw[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif raw.startswith("//", i):
            end = raw.find("\n", i)
            i = n if end < 0 else end
            continue
        elif raw.startswith("/*", i):
            end = raw.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    text = "".join(out)
    import re

    text = re.sub(r",(\s*[}\]])", r"\1", text)  # trailing commas (outside strings: rare enough)
    try:
        return json.loads(text)
    except ValueError:
        return None


def source_of_build_output(folder: str, path: str, resolver: Resolver) -> str | None:
    """The TypeScript source of build output ``path`` that does not exist (not built yet)."""
    rel = os.path.relpath(path, folder)
    options: dict[str, object] = {}
    config = _jsonc(os.path.join(folder, "tsconfig.json"))
    if isinstance(config, dict) and isinstance(config.get("compilerOptions"), dict):
        options = config["compilerOptions"]
    out_dir = options.get("outDir")
    root_dir = options.get("rootDir")
    pairs: list[tuple[str, str]] = []
    if isinstance(out_dir, str):
        pairs.append(
            (
                os.path.normpath(out_dir),
                os.path.normpath(root_dir) if isinstance(root_dir, str) else "src",
            )
        )
        if not isinstance(root_dir, str):
            pairs.append((os.path.normpath(out_dir), "."))
    pairs += [(d, "src") for d in ("dist", "build", "lib", "out")]
    stem = os.path.splitext(rel)[0]
    for out, src in pairs:
        if stem == out or stem.startswith(out + os.sep):
            inner = stem[len(out) :].lstrip(os.sep)
            base = os.path.normpath(os.path.join(folder, src, inner))
            for ext in (".ts", ".tsx", ".mts", ".cts", ".js"):
                if resolver.isfile(base + ext):
                    return base + ext
    return None


def discover(
    root: str,
    workspaces: Sequence[str],
    given: Sequence[str],
    resolver: Resolver,
) -> Discovery:
    """The entry points of the project at ``root`` and its workspace folders (relative)."""
    entries: list[Entry] = []
    notes: list[str] = []
    for item in given:
        path = os.path.normpath(os.path.join(root, item))
        found = resolver._file(path) or resolver._directory(path)
        if found is None:
            notes.append(f"entry {item} does not exist")
            found = source_of_build_output(root, path, resolver)
        if found is not None:
            entries.append(Entry(why=f"--entry {item}", path=resolver.realpath(found)))
    by_name: dict[str, str] = {}
    for location in workspaces:
        manifest = _read_json(os.path.join(root, location, "package.json"))
        if isinstance(manifest, dict) and isinstance(manifest.get("name"), str):
            by_name[manifest["name"]] = location
    delegated: list[tuple[str, str]] = []
    for location in ("", *workspaces):
        folder = os.path.normpath(os.path.join(root, location)) if location else root
        entries.extend(_package_entries(folder, location, resolver, notes, delegated))
    seen: set[tuple[str, str]] = set()
    while delegated:
        workspace, script = delegated.pop()
        if (workspace, script) in seen:
            continue
        seen.add((workspace, script))
        location = by_name.get(workspace, workspace if workspace in workspaces else "")
        if not location:
            notes.append(f"a start script runs workspace {workspace}, which is not in the tree")
            continue
        folder = os.path.normpath(os.path.join(root, location))
        entries.extend(
            _package_entries(folder, location, resolver, notes, delegated, script=script)
        )
    unique: dict[tuple[str | None, str | None, str | None], Entry] = {}
    for entry in entries:
        unique.setdefault((entry.path, entry.specifier, entry.folder), entry)
    return Discovery(tuple(unique.values()), tuple(dict.fromkeys(notes)))


def _package_entries(
    folder: str,
    location: str,
    resolver: Resolver,
    notes: list[str],
    delegated: list[tuple[str, str]],
    script: str | None = None,
) -> list[Entry]:
    """The entries of one package.json; with ``script``, only what that script starts."""
    manifest = _read_json(os.path.join(folder, "package.json"))
    if not isinstance(manifest, dict):
        return []
    label = f"{location}/package.json" if location else "package.json"
    files: list[tuple[str, str]] = []  # (why, relative path)
    if script is not None:
        scripts = manifest.get("scripts")
        started = read_start(scripts if isinstance(scripts, dict) else {}, script)
        files = [(f"{label} scripts.{script}", f) for f in started.files]
        delegated.extend(started.delegated)
        return _to_entries(folder, label, files, started.preloads, resolver, notes)
    main = manifest.get("main")
    if isinstance(main, str) and main:
        files.append((f"{label} main", main))
    exports = manifest.get("exports")
    if exports is not None:
        if isinstance(exports, dict) and any(str(k).startswith(".") for k in exports):
            values = list(exports.values())
        else:
            values = [exports]
        conditions = set(REQUIRE_CONDITIONS) | set(IMPORT_CONDITIONS)
        for value in values:
            for target in all_targets(value, conditions):
                if "*" not in target:
                    files.append((f"{label} exports", target))
    bins = manifest.get("bin")
    if isinstance(bins, str):
        files.append((f"{label} bin", bins))
    elif isinstance(bins, dict):
        files.extend((f"{label} bin {k}", v) for k, v in bins.items() if isinstance(v, str))
    preloads: list[str] = []
    scripts = manifest.get("scripts")
    if isinstance(scripts, dict):
        start = read_start(scripts)
        files.extend((f"{label} scripts.start", f) for f in start.files)
        preloads = start.preloads
        delegated.extend(start.delegated)
        notes.extend(f"{label}: {n}" for n in start.notes)
        if not isinstance(scripts.get("start"), str) and resolver.isfile(
            os.path.join(folder, "server.js")
        ):
            files.append((f"{label} npm start default", "server.js"))
    if not files and resolver.isfile(os.path.join(folder, "index.js")):
        files.append((f"{label} default main", "index.js"))
    return _to_entries(folder, label, files, preloads, resolver, notes)


def _to_entries(
    folder: str,
    label: str,
    files: list[tuple[str, str]],
    preloads: list[str],
    resolver: Resolver,
    notes: list[str],
) -> list[Entry]:
    entries: list[Entry] = []
    for why, rel in files:
        path = os.path.normpath(os.path.join(folder, rel))
        found = resolver._file(path) or resolver._directory(path)
        if found is None:
            found = source_of_build_output(folder, path, resolver)
            if found is not None:
                why += f" (build output {rel}, read from its source)"
        if found is None:
            notes.append(f"{why} {rel} does not exist")
            continue
        entries.append(Entry(why=why, path=resolver.realpath(found)))
    entries.extend(
        Entry(why=f"{label} scripts.start preload", specifier=p, folder=folder) for p in preloads
    )
    return entries
