"""Shape of the code base: no function longer than a screenful or two (ast, so decorators, docstrings
and comments inside the body count; nested functions count on their own and inside their parent)."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "index", "app", "eval", "dossier")
MAX_LINES = 80
# declarative UI layout (one gr.Blocks tree) may stay long
ALLOWED = {("app/ui/layout.py", "build_ui")}


def long_functions(root: Path = REPO, max_lines: int = MAX_LINES) -> list[tuple[str, str, int]]:
    """(path, qualified name, lines) of every function or method over `max_lines` lines."""
    found = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            stack: list[tuple[ast.AST, str]] = [(tree, "")]
            while stack:
                node, prefix = stack.pop()
                for child in ast.iter_child_nodes(node):
                    name = prefix
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        name = f"{prefix}{child.name}"
                        if not isinstance(child, ast.ClassDef):
                            first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                            lines = child.end_lineno - first + 1
                            if lines > max_lines:
                                found.append((rel, name, lines))
                        name += "."
                    stack.append((child, name))
    return sorted(found)


def test_no_function_is_over_80_lines():
    over = [(p, n, k) for p, n, k in long_functions()
            if (p, n) not in ALLOWED]
    assert not over, "functions over %d lines (split them into named steps): %s" % (MAX_LINES, over)


def test_the_check_sees_a_long_function(tmp_path):
    (tmp_path / "app").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "app" / "m.py").write_text(f"class C:\n    def short(self):\n        pass\n\n\ndef long():\n{body}\n")
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir(exist_ok=True)
    assert long_functions(tmp_path) == [("app/m.py", "long", MAX_LINES + 1)]
