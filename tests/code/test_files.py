"""Which files are the app's own code."""

from __future__ import annotations

from pathlib import Path

from depaudit.code.files import SourceFile, walk


def _names(root: Path, **kwargs: bool) -> list[str]:
    return [f.relative for f in walk(root, **kwargs) if isinstance(f, SourceFile)]


def test_gitignore_node_modules_build_output_and_declarations(tmp_path: Path) -> None:
    files = {
        "src/app.js": "x",
        "src/types.d.ts": "x",
        "src/view.tsx": "x",
        "src/vendor.min.js": "x",
        "node_modules/express/index.js": "x",
        "dist/app.js": "x",
        "packages/a/build/out.js": "x",
        "packages/a/src/index.ts": "x",
        "packages/a/.gitignore": "generated/\n",
        "packages/a/generated/g.ts": "x",
        "logs/x.js": "x",
        "keep/keep.js": "x",
        ".gitignore": "logs/\n*.gen.js\n",
        "src/schema.gen.js": "x",
        "README.md": "x",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    assert _names(tmp_path) == [
        "keep/keep.js",
        "packages/a/src/index.ts",
        "src/app.js",
        "src/view.tsx",
    ]
    assert "dist/app.js" in _names(tmp_path, build_output=True)


def test_minified_bundles_are_skipped(tmp_path: Path) -> None:
    from depaudit.code.engine import scan_code

    (tmp_path / "bundle.js").write_text("var a=[];" * 2000)
    (tmp_path / "app.js").write_text("const a = [];\n" * 50)
    report = scan_code(tmp_path, jobs=1)
    assert report.files == 1
    assert [(s.file, s.reason) for s in report.skipped] == [("bundle.js", "minified")]


def test_test_code_is_skipped_unless_asked(tmp_path: Path) -> None:
    for name in ("src/a.js", "src/a.test.js", "src/b.spec.ts", "test/c.js", "__tests__/d.js"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert _names(tmp_path) == ["src/a.js"]
    assert len(_names(tmp_path, tests=True)) == 5
