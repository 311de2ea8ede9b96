"""Entry points: package.json fields and what scripts.start runs."""

from __future__ import annotations

import json
from pathlib import Path

from depaudit.reach.entries import discover, read_start
from depaudit.reach.resolve import Resolver


def test_start_scripts() -> None:
    scripts: dict[str, object] = {
        "start": "npm run build && cross-env NODE_ENV=production node --max-old-space-size=512 "
        "-r dotenv/config dist/server.js",
        "build": "tsc -p .",
    }
    got = read_start(scripts)
    assert got.files == ["dist/server.js"]
    assert got.preloads == ["dotenv/config"]
    assert read_start({"start": "pm2-runtime start ecosystem.js --name app"}).files == [
        "ecosystem.js"
    ]
    assert read_start({"start": "nodemon --watch src src/index.ts"}).files == ["src/index.ts"]
    assert read_start({"start": "tsx watch src/main.ts"}).files == ["src/main.ts"]
    assert read_start({"start": "yarn serve", "serve": "ts-node src/a.ts"}).files == ["src/a.ts"]
    assert read_start({"start": "npm start"}).files == []  # no loop
    assert read_start({"start": "next start"}).notes == ["scripts.start runs next: not followed"]
    assert read_start({"start": "npm run serve -w @x/api"}).delegated == [("@x/api", "serve")]
    assert read_start({"start": "yarn workspace @x/api start"}).delegated == [("@x/api", "start")]


def test_discover_main_exports_bin_and_given(tmp_path: Path) -> None:
    manifest = {
        "name": "app",
        "main": "lib/index.js",
        "exports": {".": {"import": "./lib/index.mjs", "require": "./lib/index.js"}},
        "bin": {"app": "bin/app.js"},
    }
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    for f in ("lib/index.js", "lib/index.mjs", "bin/app.js", "extra.js"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("")
    found = discover(str(tmp_path), [], ["extra.js", "gone.js"], Resolver())
    names = sorted(Path(e.path).name for e in found.entries if e.path)
    assert names == ["app.js", "extra.js", "index.js", "index.mjs"]
    assert "entry gone.js does not exist" in found.notes
