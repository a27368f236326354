"""The checker is written apart from the planners: nothing it imports, however indirectly, is planner code."""

from __future__ import annotations

import ast
from pathlib import Path

import handover.core.planning as planning

PACKAGE = Path(planning.__file__).parent
PLANNERS = {"solver", "greedy", "rules", "summary", "flows", "explain", "fill"}


def imported(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    prefix = "handover.core.planning."
    return {n.removeprefix(prefix) for n in names if n.startswith(prefix)}


def test_the_checker_reaches_no_planner_code() -> None:
    seen: set[str] = set()
    todo = ["checker"]
    while todo:
        module = todo.pop()
        for name in imported(module) - seen:
            seen.add(name)
            todo.append(name)
    assert seen == {"model", "plan"}
    assert not seen & PLANNERS
