"""The README's data dictionary against the database a migration builds: every column of every table and
view is documented, and nothing documented is missing from the schema."""

from __future__ import annotations

import re

import pytest

from pipelines import store
from pipelines.settings import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _documented_tables() -> dict[str, set[str]]:
    """### `table`: ... followed by a | column | type | meaning | table."""
    out: dict[str, set[str]] = {}
    for section in re.split(r"\n### ", README.split("\n## Data dictionary", 1)[1].split("\n## ", 1)[0]):
        head = re.match(r"`(\w+)`", section)
        if head and "| column | type | meaning |" in section:
            # A row may document several columns at once: | `start_char`, `end_char` | integer | ... |
            cells = re.findall(r"^\| (`\w+`(?:, `\w+`)*) \|", section, re.M)
            out[head[1]] = {c for cell in cells for c in re.findall(r"`(\w+)`", cell)}
    return out


def _documented_views() -> dict[str, set[str]]:
    """The Views table: | `view` | one row per | `col`, `col` (note), ... |."""
    table = README.split("### Views (", 1)[1].split("\n### ", 1)[0]
    return {m[1]: {c for c in re.findall(r"`(\w+)`", m[2])}
            for m in re.finditer(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", table, re.M)}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, tuple[str, set[str]]]:
    con = store.connect(tmp_path_factory.mktemp("dict") / "n.duckdb")
    try:
        rows = con.execute("select c.table_name, t.table_type, c.column_name from information_schema.columns c "
                           "join information_schema.tables t using (table_schema, table_name) "
                           "where c.table_schema = 'main'").fetchall()
    finally:
        con.close()
    out: dict[str, tuple[str, set[str]]] = {}
    for name, kind, column in rows:
        out.setdefault(name, ("view" if kind == "VIEW" else "table", set()))[1].add(column)
    return out


def test_every_view_column_is_in_the_readme_and_every_documented_one_exists(schema):
    views = {name: cols for name, (kind, cols) in schema.items() if kind == "view"}
    documented = _documented_views()
    assert set(documented) == set(views)
    assert {v: sorted(views[v] - documented[v]) for v in views if views[v] - documented[v]} == {}
    assert {v: sorted(documented[v] - views[v]) for v in views if documented[v] - views[v]} == {}


def test_every_table_column_is_in_the_readme_and_every_documented_one_exists(schema):
    tables = {name: cols for name, (kind, cols) in schema.items() if kind == "table"}
    documented = _documented_tables()
    undocumented = sorted(set(tables) - set(documented) - {"schema_version"})
    assert undocumented == []
    assert {t: sorted(tables[t] - documented[t]) for t in documented if tables[t] - documented[t]} == {}
    assert {t: sorted(documented[t] - tables[t]) for t in documented if documented[t] - tables[t]} == {}
