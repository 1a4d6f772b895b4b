"""The repository's shape: the reference imports no harness, no import cycles, docs that stand alone."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("matloss_ref", "matloss")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ours that ``name`` imports anywhere (functions included; ``if TYPE_CHECKING:`` blocks not)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in node.body for n in ast.walk(child)}  # fmt: skip
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def test_the_reference_imports_nothing_of_the_harness():
    for name, deps in _graph().items():
        if name.split(".")[0] == "matloss_ref":
            assert not [d for d in deps if d.split(".")[0] == "matloss"], f"{name} imports the harness: {deps}"
    for path in (ROOT / "matloss_ref").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+suites\b", path.read_text(), re.M), path


def test_the_harness_does_not_import_the_suites():
    for path in (ROOT / "matloss").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+suites\b", path.read_text(), re.M), f"{path} imports suites/ (not in the wheel)"


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if dep not in graph:
                continue
            # a package's __init__ importing its own submodules (or a submodule its package) is not a cycle of concepts
            if dep.startswith(node + ".") or node.startswith(dep + "."):
                continue
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(dep):] + [dep]))
            if not state.get(dep):
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])


def test_importing_the_reference_loads_no_harness_and_no_framework():
    code = ("import sys, matloss_ref\n"
            "for n in matloss_ref.list_losses():\n"
            "    s = matloss_ref.get_loss(n); x = s.sample(2, kappa=10.0); s.value(**x); s.grad(**x)\n"
            "print(sorted(m for m in ('matloss', 'torch', 'jax', 'tensorflow') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / p for p in out if (ROOT / p).is_file()]


def test_nothing_points_outside_the_repository():
    outside = "../" + "shared"  # the design notes next to the project (spelt so that this file does not name them)
    for path in _tracked():
        if path.suffix in {".py", ".md", ".toml", ".json", ".yml", ".cfg", ".txt", ""} and path.stat().st_size < 2_000_000:
            text = path.read_text(errors="replace")
            assert outside not in text, f"{path.relative_to(ROOT)} refers to {outside}"
            cited = re.search(r"\b(LOSSES|ACCURACY|DESIGN)\.md\b", text)
            assert not cited, f"{path.relative_to(ROOT)} cites {cited.group(0) if cited else ''}, a design note not in the repository"


def test_readme_is_an_orientation():
    assert (ROOT / "README.md").stat().st_size <= 10 * 1024


@pytest.mark.parametrize("doc", sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to {target}, which is not in the repository"
