"""The sandbox is standard library only and imports nothing else of b24explorer (it judges core independently)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import b24explorer.sandbox

PACKAGE = Path(b24explorer.sandbox.__file__).parent


def test_sandbox_imports_only_stdlib_and_itself() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 5
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.level == 1, f"{path.name} reaches outside the sandbox package"
                    continue
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", f"{path.name} imports {name}"
