"""`depaudit code` on real code nobody here wrote, against eslint's leak plugins, in one run.

    python -m benchmarks.code_precision [--work DIR] [--skip-install]

1. npm-installs widely used server packages (PACKAGES, with their dependencies) into
   ``WORK/corpus`` and runs ``depaudit code`` over ``WORK/corpus/node_modules`` as if it were
   app code (``--scan-build-output``: packages ship compiled code in dist/ or build/); every
   finding is printed for a verdict (benchmarks/README.md lists them).
2. Installs eslint 9 with the leak plugins found on npm (eslint-plugin-listeners: listeners
   without a matching removal; eslint-plugin-clean-timer: timers whose id is not kept) into
   ``WORK/eslint`` and runs their rules, and nothing else, over the same files.
3. Runs both over the fixture corpus (tests/code/corpus: leak sites modelled on real fixes,
   their fixed versions, well-written code): leak sites found within 3 lines, findings in
   fixed or clean files.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "code" / "corpus"
PACKAGES = [
    "express",
    "koa",
    "@koa/router",
    "fastify",
    "socket.io",
    "ws",
    "pg",
    "mysql2",
    "ioredis",
    "bull",
    "winston",
    "knex",
    "mongodb",
    "redis",
    "generic-pool",
    "express-session",
    "connect-redis",
    "http-proxy",
]
ESLINT = [
    "eslint@9",
    "eslint-plugin-listeners",
    "eslint-plugin-clean-timer",
    "@typescript-eslint/parser",
]
ESLINT_CONFIG = """const listeners = require('eslint-plugin-listeners');
const cleanTimer = require('eslint-plugin-clean-timer');
const tsParser = require('@typescript-eslint/parser');
const rules = {
  'listeners/no-missing-remove-event-listener': 'error',
  'listeners/matching-remove-event-listener': 'error',
  'listeners/no-inline-function-event-listener': 'error',
  'clean-timer/assign-timer-id': 'error',
};
const plugins = { listeners, 'clean-timer': cleanTimer };
module.exports = [
  { ignores: ['!**/node_modules/'] },
  { files: ['**/*.{js,mjs,cjs,jsx}'], plugins, rules,
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } } } },
  { files: ['**/*.{ts,mts,cts,tsx}'], plugins, rules,
    languageOptions: { parser: tsParser, sourceType: 'module' } },
];
"""
MARK = re.compile(r"// LEAK ([a-z-]+)")
#: the leak rules of the plugins (inline eslint-disable comments of packages name others)
RULES = frozenset(
    {
        "listeners/no-missing-remove-event-listener",
        "listeners/matching-remove-event-listener",
        "listeners/no-inline-function-event-listener",
        "clean-timer/assign-timer-id",
    }
)


def npm_install(folder: Path, packages: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text('{"name": "scratch", "private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *packages],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def depaudit(folder: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "depaudit",
            "code",
            str(folder),
            "--format",
            "json",
            "--no-cache",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(done.stderr)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def files_read(folder: Path, *, build_output: bool) -> list[Path]:
    from depaudit.code.files import SourceFile, walk

    return [f.path for f in walk(folder, build_output=build_output) if isinstance(f, SourceFile)]


def eslint(work: Path, files: list[Path]) -> list[tuple[str, int, str]]:
    config = work / "eslint" / "eslint.config.cjs"
    config.write_text(ESLINT_CONFIG)
    binary = work / "eslint" / "node_modules" / ".bin" / "eslint"
    found: list[tuple[str, int, str]] = []
    for start in range(0, len(files), 400):
        chunk = [str(f) for f in files[start : start + 400]]
        done = subprocess.run(
            [
                str(binary),
                "--no-config-lookup",
                "-c",
                str(config),
                "--format",
                "json",
                "--no-warn-ignored",
                *chunk,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd="/",  # base path: every file
        )
        found.extend(
            (result["filePath"], message.get("line", 0), message["ruleId"])
            for result in json.loads(done.stdout or "[]")
            for message in result["messages"]
            if message.get("ruleId") in RULES
        )
    return found


def sites() -> list[tuple[Path, int, str]]:
    out = []
    for path in sorted(CORPUS.glob("c[0-9]*/leak.*")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = MARK.search(line)
            if match:
                out.append((path, number, match.group(1)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--skip-install", action="store_true")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="code-precision-"))
    if not args.skip_install:
        npm_install(work / "corpus", PACKAGES)
        npm_install(work / "eslint", ESLINT)
    modules = work / "corpus" / "node_modules"

    start = time.perf_counter()
    ours = depaudit(modules, "--scan-build-output")
    ours_seconds = time.perf_counter() - start
    files = files_read(modules, build_output=True)
    start = time.perf_counter()
    theirs = eslint(work, files)
    eslint_seconds = time.perf_counter() - start
    print(f"## npm corpus: {len(files)} files ({', '.join(PACKAGES)} and their dependencies)")
    print(f"depaudit: {len(ours['findings'])} findings in {ours_seconds:.1f} s")
    for f in ours["findings"]:
        print(f"  {f['rule']} {f['file']}:{f['line']}  {f['message']}")
    by_rule: dict[str, int] = {}
    for _, _, rule in theirs:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    print(
        f"eslint leak plugins: {len(theirs)} reports in {len({t[0] for t in theirs})} files "
        f"in {eslint_seconds:.1f} s: {by_rule}"
    )
    for path, line, rule in theirs[:: max(1, len(theirs) // 25)][:25]:
        print(f"  sample: {rule} {Path(path).relative_to(modules)}:{line}")

    print("\n## fixture corpus (tests/code/corpus)")
    marked = sites()
    ours = depaudit(CORPUS)
    corpus_files = files_read(CORPUS, build_output=False)
    theirs = eslint(work, corpus_files)

    def score(found: list[tuple[Path, int]]) -> tuple[int, int]:
        hits = sum(any(p == s[0] and abs(line - s[1]) <= 3 for p, line in found) for s in marked)
        false = sum(1 for p, _ in found if not re.match(r"leak\.", p.name))
        return hits, false

    ours_found = [(CORPUS / f["file"], f["line"]) for f in ours["findings"]]
    theirs_found = [(Path(p), line) for p, line, _ in theirs]
    for label, found in (("depaudit", ours_found), ("eslint leak plugins", theirs_found)):
        hits, false = score(found)
        print(
            f"{label}: {hits}/{len(marked)} leak sites within 3 lines; "
            f"{false} findings in fixed or clean files; {len(found)} findings in all"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
