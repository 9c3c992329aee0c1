"""Contracts of the layout: imports flow ui -> qa -> ingest, qa never touches chromadb, the README
documents every command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ui.cli import cli

FORBIDDEN = {"ingest": {"qa", "ui"}, "qa": {"ui", "chromadb"}}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_readme_documents_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in cli.commands if f"reportqa {name}" not in readme]
    assert missing == []
    assert "make run" in readme and "make test" in readme


# Bare 7 and 15 that are no table width: (file, the source line holding it) → why.
_NOT_FORMAT = {
    ("ingest/store.py", "row_label=r[7]"): "a column index of a stored fact row",
    ("ingest/store.py", "note=r[15]"): "a column index of a stored fact row",
    ("ingest/metadata.py", "head[:15]"): "how many leading lines may hold a 发布日期 line",
    ("ingest/readers/scan/layout.py", "max(int(char * 2), 15)"): "the shortest ruling stroke, in pixels",
    ("ingest/readers/scan/page.py", "np.ones((7, 7), np.uint8)"): "the seal's rim, in pixels",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants: their years are prose, not template knowledge."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _format_knowledge(path: Path, root: Path = ROOT) -> list[str]:
    """Template names as string literals and the table widths 7 and 15 written as bare numbers."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    rel = path.relative_to(root).as_posix()
    docs = _docstrings(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docs:
            continue
        line = lines[node.lineno - 1]
        template = node.value in ("2019", "2021")
        width = type(node.value) is int and ast.get_source_segment(source, node) in ("7", "15")
        if template or (width and not any(f == rel and fragment in line for f, fragment in _NOT_FORMAT)):
            out.append(f"{rel}:{node.lineno}: {line.strip()}")
    return out


def test_format_knowledge_lives_in_one_package() -> None:
    """Templates, widths and identities are asked of ingest/format/, never spelled out elsewhere."""
    format_dir = ROOT / "ingest" / "format"
    found = [
        hit
        for package in ("ingest", "qa", "ui")
        for path in sorted((ROOT / package).rglob("*.py"))
        if format_dir not in path.parents
        for hit in _format_knowledge(path)
    ]
    assert found == []


def test_format_knowledge_check_finds_widths_and_template_names(tmp_path: Path) -> None:
    probe = tmp_path / "ingest" / "probe.py"
    probe.parent.mkdir()
    probe.write_text('"""The 2019 format."""\nWIDTH = 7\nKIND = "2021"\nMASK = 0x0F\n', encoding="utf-8")
    assert _format_knowledge(probe, tmp_path) == ["ingest/probe.py:2: WIDTH = 7", 'ingest/probe.py:3: KIND = "2021"']
