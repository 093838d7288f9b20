"""The package stands on its own: pyproject.toml names the distribution of every import, the wheel
installs from the registry without our lock and ingests a page, and only settings.py reads the environment."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest

from pipelines.settings import REPO_ROOT

PACKAGE = REPO_ROOT / "pipelines"


def _imports(folder: Path) -> dict[str, set[str]]:
    """Top-level module -> the files importing it (absolute imports outside the standard library)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "pipelines":
                    found.setdefault(top, set()).add(path.name)
    return found


def _declared() -> set[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normal(re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0]) for d in project["dependencies"]}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pyproject_names_the_distribution_of_every_import_of_the_package():
    providers = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {module: sorted(files) for module, files in _imports(PACKAGE).items()
               if not declared & {_normal(d) for d in providers.get(module, [module])}}
    assert missing == {}, f"imported but not in pyproject.toml's dependencies: {missing}"


ENVIRONMENT = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|\benviron\s*\[")


def test_no_module_but_settings_reads_the_environment():
    readers = {f"{path.relative_to(REPO_ROOT)}:{n}": line.strip()
               for folder in ("pipelines", "dags")
               for path in sorted((REPO_ROOT / folder).rglob("*.py")) if path.name != "settings.py"
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if ENVIRONMENT.search(line.split("#")[0])}
    assert readers == {}


def _uv() -> str | None:
    return shutil.which("uv") or next((str(p) for p in [REPO_ROOT / ".uv" / "bin" / "uv"] if p.exists()), None)


@pytest.mark.slow
def test_the_wheel_installs_from_the_registry_without_the_lock_and_ingests_a_page(tmp_path):
    uv = _uv()
    if uv is None:
        pytest.skip("no uv: `make venv` bootstraps one into .uv/ (the Makefile's own install step)")
    run = lambda *cmd, **kw: subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900, **kw)  # noqa: E731
    # Built from a copy of the tracked layout: setuptools writes build/ and *.egg-info beside the sources.
    src = tmp_path / "src"
    local = {".git", ".venv", ".uv", "data", "build", ".pytest_cache", ".ruff_cache", ".hypothesis"}

    def untracked(folder: str, names: list[str]) -> set[str]:  # the checkout's own local folders only
        top = {n for n in names if n in local} if Path(folder) == REPO_ROOT else set()
        return top | {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}

    shutil.copytree(REPO_ROOT, src, ignore=untracked)
    run(uv, "build", "--quiet", "--wheel", "--out-dir", str(tmp_path / "dist"), str(src))
    (wheel,) = (tmp_path / "dist").glob("newsmon-*.whl")
    venv = tmp_path / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    # The registry resolves pyproject.toml's dependencies alone: requirements.lock is not read.
    run(uv, "pip", "install", "--quiet", "--python", python, str(wheel))
    checked = run(uv, "pip", "check", "--python", python)
    assert "All installed packages are compatible" in checked.stdout + checked.stderr
    newsmon = str(venv / "bin" / "newsmon")
    assert "ingest" in run(newsmon, "--help").stdout

    page = REPO_ROOT / "demo" / "site" / "articles" / "harbour-ledger" / "2026-11-24-mombasa-fuel-oil-leak.html"
    db = tmp_path / "new.duckdb"
    # Run from elsewhere, so that nothing of the checkout is on the path: the installed package alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NEWSMON_", "VIRTUAL_ENV"))}
    env |= {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "NEWSMON_DATA_DIR": str(tmp_path / "data")}
    run(newsmon, "ingest", "--db", str(db), str(page), cwd=tmp_path, env=env)
    con = duckdb.connect(str(db), read_only=True)
    try:
        (articles,) = con.execute("select count(*) from articles").fetchone()
        places = {n for (n,) in con.execute("select e.name from mentions m join entities e using (entity_id) "
                                            "where e.type = 'LOCATION'").fetchall()}
    finally:
        con.close()
    assert articles == 1 and {"Mombasa", "Kenya"} <= places
    where = run(python, "-c", "import pipelines; print(pipelines.__file__)", cwd=tmp_path, env=env).stdout
    assert where.startswith(str(venv))
