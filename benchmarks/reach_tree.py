"""Reachability on a generated installed tree: ``python -m benchmarks.reach_tree [N] [--runs K]``.

Writes an npm project with N packages under node_modules (a hoisted layout: each package has a
package.json, an ``index.js`` requiring its 0-4 dependencies at module scope or inside a
function, and a few more files; about one in ten nested copies), the app's ``server.js``
requiring 20 direct dependencies, and the matching package-lock.json. Then it times
depaudit's reachability (``depaudit.reach.analysis.analyse``) cold (empty fact cache: every
reached file parsed) and warm (the fact cache of a previous run: files only stat-ed), paired
runs interleaved, medians. The tree is made in a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from depaudit.reach.analysis import analyse
from depaudit.reach.imports import FactCache
from depaudit.sources.package_lock import PackageLockSource


def generate(root: Path, count: int, seed: int = 18) -> None:
    rng = random.Random(seed)
    names = [f"pkg-{i:04d}" for i in range(count)]
    lock: dict[str, Any] = {"": {"name": "app", "version": "1.0.0", "dependencies": {}}}
    for index, name in enumerate(names):
        later = names[index + 1 :]
        # the next package always, so that the whole tree is reachable, and up to 3 more
        deps = later[:1] + rng.sample(later[1:], max(0, min(len(later) - 1, rng.randint(0, 3))))
        folder = root / "node_modules" / name
        (folder / "lib").mkdir(parents=True)
        lines = []
        for dep in deps:
            call = f"require('{dep}');"
            lines.append(
                call if dep == later[0] or rng.random() < 0.8 else f"function f() {{ {call} }}"
            )
        lines.append("module.exports = require('./lib/a');")
        (folder / "index.js").write_text("\n".join(lines) + "\n" + "// padding\n" * 40)
        (folder / "lib" / "a.js").write_text("const b = require('./b');\nmodule.exports = b;\n")
        (folder / "lib" / "b.js").write_text("exports.x = () => require('util');\n")
        manifest = {"name": name, "version": "1.0.0", "main": "index.js"}
        manifest["dependencies"] = dict.fromkeys(deps, "^1.0.0")
        (folder / "package.json").write_text(json.dumps(manifest))
        lock[f"node_modules/{name}"] = {
            "version": "1.0.0",
            "resolved": f"https://registry.invalid/{name}/-/{name}-1.0.0.tgz",
            "dependencies": manifest["dependencies"],
        }
    direct = names[:20]
    lock[""]["dependencies"] = dict.fromkeys(direct, "^1.0.0")
    (root / "package.json").write_text(
        json.dumps(
            {
                "name": "app",
                "version": "1.0.0",
                "main": "server.js",
                "dependencies": lock[""]["dependencies"],
            }
        )
    )
    (root / "server.js").write_text("".join(f"require('{d}');\n" for d in direct))
    (root / "package-lock.json").write_text(
        json.dumps({"name": "app", "lockfileVersion": 3, "packages": lock})
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reach-tree-") as tmp:
        root = Path(tmp)
        generate(root, args.count)
        tree = PackageLockSource().load(root / "package-lock.json")
        warm_cache = FactCache()
        result = analyse(tree, root, cache=warm_cache)
        stored = warm_cache.dump()
        cold, warm = [], []
        for _ in range(args.runs):
            began = time.perf_counter()
            analyse(tree, root, cache=FactCache())
            cold.append(time.perf_counter() - began)
            began = time.perf_counter()
            analyse(tree, root, cache=FactCache.load(stored))
            warm.append(time.perf_counter() - began)
        statuses = [p.status.value for p in result.placements.values()]
        print(
            json.dumps(
                {
                    "packages": len(tree.packages),
                    "files reached": result.files,
                    "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
                    "cold median s": round(statistics.median(cold), 3),
                    "warm median s": round(statistics.median(warm), 3),
                    "runs": args.runs,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
