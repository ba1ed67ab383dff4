"""The layer arrows of docs/architecture.md, checked on the source: lower layers never import upper ones,
the sandbox stands apart, and only the API layer speaks to the kubernetes client. A static check, because a
wrong import works at run time and shows up later as a cycle or an engine that needs ipywidgets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "nim_widget"

# module prefix -> module prefixes it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "nim_widget.quantity": ("nim_widget.",),
    "nim_widget.naming": ("nim_widget.",),
    "nim_widget.request": (
        "nim_widget.manifests",
        "nim_widget.cluster",
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.sandbox",
    ),
    "nim_widget.facts": (
        "nim_widget.manifests",
        "nim_widget.cluster",
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.sandbox",
    ),
    "nim_widget.catalog": (
        "nim_widget.manifests",
        "nim_widget.cluster",
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.sandbox",
    ),
    "nim_widget.manifests": (
        "nim_widget.cluster",
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.sandbox",
    ),
    "nim_widget.cluster": (
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.sandbox",
    ),
    "nim_widget.deploy": ("nim_widget.lifecycle", "nim_widget.ui", "nim_widget.sandbox"),
    "nim_widget.lifecycle": ("nim_widget.ui", "nim_widget.sandbox"),
    "nim_widget.sandbox": (
        "nim_widget.quantity",
        "nim_widget.naming",
        "nim_widget.request",
        "nim_widget.facts",
        "nim_widget.catalog",
        "nim_widget.manifests",
        "nim_widget.cluster",
        "nim_widget.deploy",
        "nim_widget.lifecycle",
        "nim_widget.ui",
        "nim_widget.demo",
        "nim_widget.app",
        "nim_widget.cli",
    ),
}

# third-party libraries that belong to one layer only
ONLY_IN: dict[str, tuple[str, ...]] = {
    "ipywidgets": ("nim_widget.ui",),
    "kubernetes": ("nim_widget.cluster", "nim_widget.sandbox", "nim_widget.lifecycle.watching"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append(target)
            found.extend(f"{target}.{alias.name}" for alias in node.names)
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _matches(name: str, prefix: str) -> bool:
    return name == prefix.rstrip(".") or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_module_respects_the_layer_arrows(path: Path) -> None:
    module = _module_name(path)
    imports = _imports(path)
    problems = []
    for layer, forbidden in FORBIDDEN.items():
        if not _matches(module, layer):
            continue
        for name in imports:
            if any(_matches(name, prefix) for prefix in forbidden) and not _matches(name, layer):
                problems.append(f"{module} imports {name}")
    for library, allowed in ONLY_IN.items():
        if any(_matches(name, library) for name in imports) and not any(
            _matches(module, prefix) for prefix in allowed
        ):
            problems.append(f"{module} imports {library} (only {', '.join(allowed)} may)")
    assert problems == []
