"""The package itself: one import package (`dossier`), every command registered from one place, no import
cycles between its modules, and dependencies pointing one way (ingest -> index -> app; eval above)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("ingest", "index", "app", "eval")
# what each layer may import (itself included); `dossier` and `dossier.cli` sit above everything
ALLOWED = {"ingest": {"ingest"}, "index": {"ingest", "index"}, "app": {"ingest", "index", "app"},
           "eval": {"ingest", "index", "app", "eval"}}


def _modules() -> dict[str, Path]:
    mods = {}
    for sub in SUBPACKAGES:
        for f in (REPO / sub).rglob("*.py"):
            rel = f.relative_to(REPO).with_suffix("")
            parts = ["dossier", *rel.parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = f
    for f in (REPO / "dossier").glob("*.py"):
        mods["dossier" if f.stem == "__init__" else f"dossier.{f.stem}"] = f
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path], top_level_only: bool) -> set[str]:
    """The project modules `name` imports (at module level only, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    if top_level_only:  # module-level statements, including those inside if/try blocks, but not in functions
        stack, nodes = list(tree.body), []
        while stack:
            n = stack.pop()
            nodes.append(n)
            if isinstance(n, (ast.If, ast.Try)):
                if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                    continue
                stack += n.body + n.orelse + getattr(n, "handlers", []) + getattr(n, "finalbody", [])
            elif isinstance(n, ast.ExceptHandler):
                stack += n.body
    out = set()
    for n in nodes:
        targets = []
        if isinstance(n, ast.Import):
            targets = [a.name for a in n.names]
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (n.level - 1)]
                base = ".".join(anchor + ([n.module] if n.module else []))
            # `from pkg import mod` imports the submodule; the package itself only when a name is not a module
            subs = [f"{base}.{a.name}" for a in n.names]
            targets = [s for s in subs if s in mods] or [base]
            targets += [base] if any(s not in mods for s in subs) else []
        for t in targets:
            while t and t not in mods:
                t = t.rsplit(".", 1)[0] if "." in t else ""
            if t and t != name:
                out.add(t)
    return out


def _layer(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in SUBPACKAGES else None


def test_no_import_cycle_between_project_modules():
    mods = _modules()
    graph = {m: _imports(m, p, mods, top_level_only=True) for m, p in mods.items()}
    # Tarjan's strongly connected components: any component of two or more modules is a cycle
    index, low, on, stack, cycles, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for m in graph:
        if m not in index:
            visit(m)
    assert cycles == [], cycles


def test_dependencies_point_one_way():
    mods = _modules()
    wrong = []
    for m, p in mods.items():
        layer = _layer(m)
        if layer is None:
            continue
        for t in _imports(m, p, mods, top_level_only=False):
            tl = _layer(t)
            if t == "dossier" or t == "dossier.cli" or (tl is not None and tl not in ALLOWED[layer]):
                wrong.append(f"{m} -> {t}")
    assert wrong == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    """The checker itself can fail: two modules importing each other are reported."""
    import tests.test_package as me

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "a.py").write_text("from . import b\n")
    (tmp_path / "app" / "b.py").write_text("from .a import x\n")
    for sub in ("ingest", "index", "eval", "dossier"):
        (tmp_path / sub).mkdir()
    monkeypatch.setattr(me, "REPO", tmp_path)
    with pytest.raises(AssertionError, match="dossier.app.a"):
        me.test_no_import_cycle_between_project_modules()


def test_python_m_dossier_lists_every_command():
    from dossier.app import cli_ask, cli_index, cli_serve
    from dossier.cli import groups

    expected = set(groups())
    for module in (cli_ask, cli_index, cli_serve):
        for fn, args, kwargs in module.commands.items:
            expected.add(args[0] if args else kwargs.get("name") or fn.__name__.replace("_", "-"))
    assert {"ingest", "search", "sources", "ask", "serve", "eval", "bench"} <= expected
    p = subprocess.run([sys.executable, "-m", "dossier", "--help"], capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}, cwd="/")
    assert p.returncode == 0, p.stderr
    listed = {line.split()[1] for line in p.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    assert expected <= listed, (expected - listed, p.stdout)


def test_no_top_level_package_named_like_a_layer_is_installed():
    """The distribution installs `dossier` only: `app`, `index`, `ingest` and `eval` stay free for others."""
    import importlib.metadata as md

    files = md.distribution("dossier").read_text("top_level.txt") or ""
    tops = {line.strip() for line in files.splitlines() if line.strip()}
    assert not tops & set(SUBPACKAGES), tops


def test_project_code_and_tests_import_the_layers_through_dossier_only():
    """`pythonpath = ["."]` lets tests import `tests.conftest`; it would also let `import app` work here and
    nowhere else, so no module may import a layer by its bare folder name."""
    bare = []
    files = [f for sub in (*SUBPACKAGES, "dossier", "tests") for f in (REPO / sub).rglob("*.py")]
    for f in files:
        for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in n.names] if isinstance(n, ast.Import) else (
                [n.module] if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module else [])
            bare += [f"{f.relative_to(REPO)}: {m}" for m in names if m.split(".")[0] in SUBPACKAGES]
    assert bare == []


def test_importing_modules_leaves_the_environment_alone():
    """Offline and telemetry variables are set once by the entry points (ingest.runtime), not at import."""
    code = ("import os, pkgutil, importlib, dossier\n"
            "before = dict(os.environ)\n"
            "import dossier.app.cli, dossier.app.context, dossier.index.store, dossier.index.embedder, dossier.eval.cli, "
            "dossier.eval.bench.cli, dossier.app.server\n"
            "changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
            "print(changed)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                       env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"}, cwd="/")
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip().splitlines()[-1] == "[]", p.stdout


def test_pip_install_beside_a_package_named_app_leaves_both_working(tmp_path):
    """A user's own top-level `app` package and dossier installed into one fresh venv: both import, the
    wheel carries the data the package reads, and uninstalling dossier leaves `app` alone."""
    venv, user = tmp_path / "venv", tmp_path / "userapp"
    (user / "app").mkdir(parents=True)
    (user / "app" / "__init__.py").write_text("VALUE = 'theirs'\n")
    (user / "pyproject.toml").write_text('[project]\nname = "userapp"\nversion = "1"\n[tool.setuptools]\npackages = ["app"]\n')
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    dist = tmp_path / "dist"  # wheels built here with this environment's setuptools: nothing is downloaded
    for src in (user, REPO):
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
                       check=True, timeout=600, capture_output=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
    subprocess.run(pip + sorted(str(w) for w in dist.glob("userapp-*.whl")), check=True, timeout=300, capture_output=True)
    subprocess.run(pip + sorted(str(w) for w in dist.glob("dossier-*.whl")), check=True, timeout=300, capture_output=True)
    probe = ("import app, dossier, os\n"
             "base = os.path.dirname(dossier.__file__)\n"
             "need = ['app/models/reader/model.onnx', 'app/models/reader/abstain.json', 'eval/calibration.json',\n"
             "        'eval/baselines.toml', 'eval/datasets/squad-smoke.jsonl', 'app/engines/extractive.py',\n"
             "        'app/models/check-verdict.json', 'app/models/check-verdict-nli.json', 'app/models/xscorer.json', 'app/models/crosslingual.json',\n"
             "        'app/models/nli/model.onnx', 'app/models/nli/nli.json', 'app/models/nli/tokenizer.json',\n"
             "        'index/models/xmap.npz']\n"
             "print(app.VALUE, all(os.path.exists(os.path.join(base, p)) for p in need), 'site-packages' in base)\n")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.stdout.split() == ["theirs", "True", "True"], out.stderr[-1500:]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", "dossier"], check=True, timeout=120)
    after = subprocess.run([str(venv / "bin" / "python"), "-c", "import app; print(app.VALUE)"], capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    assert after.stdout.strip() == "theirs"
