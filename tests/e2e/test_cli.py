"""`newsmon` end to end, without Airflow: ingest, sql, errors, help."""

import argparse
import subprocess
import sys

import duckdb
import pytest

from pipelines import cli
from pipelines.settings import REPO_ROOT
from tests.conftest import SEED, needs_shared, page

TABLES = ("articles", "entities", "mentions", "claims", "alerts", "fetch_log", "dq_results")


def snapshot(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: sorted(map(repr, con.execute(f"select * from {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


@pytest.fixture
def env(settings, monkeypatch):
    monkeypatch.setenv("NEWSMON_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSMON_WATCHLIST", str(settings.watchlist_path))
    monkeypatch.delenv("NEWSMON_DB", raising=False)
    return settings


@needs_shared(SEED)
def test_seed_article_lands_in_duckdb(env, tmp_path):
    db = tmp_path / "seed.duckdb"
    assert cli.main(["ingest", str(SEED), "--db", str(db)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    url, title, text, lang = con.execute("select url, title, text, language from articles").fetchone()
    assert url == SEED.resolve().as_uri()
    assert title == "Ukraine’s newest heroes: How brave Russian defectors have joined Kyiv’s forces"
    assert text.startswith(title + "\n\nLike all his Ukrainian army comrades") and "WhatsNew2Day" not in text
    assert "uses cookies" not in text and lang == "en"
    names = dict(con.execute("select name, type from entities").fetchall())
    for person in ("Volodymyr Grotskov", "Vladimir Putin", "Igor Volobuev"):
        assert names[person] == "PERSON"
    for place in ("Kyiv", "Russia", "Ukraine", "Donbas", "Crimea"):
        assert names[place] == "LOCATION"
    assert con.execute("select aliases from entities where name = 'Kyiv'").fetchone()[0] == ["Kiev"]
    bad = con.execute("""select count(*) from mentions m join articles a using (article_id)
                         where substr(a.text, m.start_char + 1, m.end_char - m.start_char) <> m.surface""").fetchone()
    assert bad[0] == 0
    speakers = con.execute("""select e.name, count(*) from claims c join entities e on e.entity_id = c.speaker_entity_id
                              where c.kind = 'quote' group by 1""").fetchall()
    assert dict(speakers)["Volodymyr Grotskov"] >= 5 and "Igor Volobuev" in dict(speakers)
    q = con.execute("select speaker, speaker_entity_id from claims where text like 'So what would happen%'").fetchone()
    assert q == ("I", None)  # the reporter's question is not the interviewee's
    assert con.execute("select count(*) from dq_results where severity = 'critical' and not success").fetchone()[0] == 0
    con.close()


def test_ingest_twice_changes_nothing_and_bad_files_are_logged(env, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "story.html").write_text(page("Port strike ends in Rotterdam", [
        "Dockworkers in Rotterdam returned to work on Monday after a three-day strike over automation plans.",
        "“We have a deal that protects every job,” said union leader Tomas Okafor after the vote on Sunday.",
        "Port officials said more than 40 ships had waited offshore during the stoppage this week.",
    ]))
    note = "Marta Kellerman visited Lisbon to discuss shore power. " * 4
    (inbox / "sub" / "note.txt").write_text("Harbour notes\n\n" + note)
    (inbox / "empty.txt").write_text("")
    (inbox / "latin1.txt").write_bytes("Caf\xe9 news from S\xe3o Paulo and more text here.".encode("latin-1"))
    (inbox / "binary.html").write_bytes(bytes(range(256)) * 4)
    (inbox / "list.json").write_text("[1, 2]")
    db = tmp_path / "n.duckdb"
    assert cli.main(["ingest", str(inbox), "--db", str(db)]) == 0
    first = snapshot(db)
    assert len(first["articles"]) == 2
    con = duckdb.connect(str(db), read_only=True)
    reasons = dict(con.execute("select regexp_extract(url, '[^/]+$'), reason from fetch_log").fetchall())
    con.close()
    assert reasons["empty.txt"] == "empty file"
    # A failed warning is recorded and the batch still loads: the .txt note has no date, so only half of
    # the articles have one (the floor is 80%).
    con = duckdb.connect(str(db), read_only=True)
    warned = con.execute("select check_name, observed from dq_results where not success").fetchall()
    status = con.execute("select status from runs").fetchone()[0]
    con.close()
    assert warned == [("completeness:with_date", "50% of articles (floor 80%)")] and status == "success"
    assert reasons["latin1.txt"].startswith("not UTF-8 text")
    assert "binary.html" in reasons and "JSON" in reasons["list.json"]
    assert cli.main(["ingest", str(inbox), "--db", str(db)]) == 0
    assert snapshot(db) == first


def test_sql_prints_a_table_and_errors_are_one_line(env, tmp_path, capsys):
    db = tmp_path / "n.duckdb"
    assert cli.main(["sql", "select 1", "--db", str(db)]) == 2
    assert "no database yet" in capsys.readouterr().err
    from pipelines import store
    store.connect(db).close()
    assert cli.main(["sql", "select 41 + 1 as answer", "--db", str(db)]) == 0
    assert "42" in capsys.readouterr().out
    assert cli.main(["sql", "select * from nope", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsmon: error:") and "nope" in err and "Traceback" not in err
    assert cli.main(["run", "--date", "24/11/2026"]) == 2


def commands() -> list[str]:
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "==SUPPRESS==" or getattr(a, "choices", None)
              and isinstance(a.choices, dict)]
    return sorted(sub.choices)


def test_the_cli_has_every_documented_command():
    assert {"ingest", "run", "sql", "demo", "dq", "quarantine", "trends", "quotes", "report"} <= set(commands())


@pytest.mark.parametrize("command", ["", *commands()])
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", *([command] if command else []), "--help"],
                         capture_output=True, text=True, cwd=REPO_ROOT)
    assert out.returncode == 0 and "usage: newsmon" in out.stdout


def test_every_command_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    for command in commands():
        assert f"`newsmon {command}" in readme, command


def test_every_command_function_is_on_the_command_line_and_every_command_runs_one():
    # The command line is declared in pipelines/data/commands.yaml: a cmd_ function it does not name
    # would be unreachable, and a command without one is refused when the parser is built.
    def runnable(parser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from runnable(sub, (*path, name))
        if path and parser.get_default("func"):
            yield path, parser.get_default("func").__name__

    declared = dict(runnable(cli.build_parser()))
    defined = {n for n in dir(cli) if n.startswith("cmd_") and callable(getattr(cli, n))}
    assert sorted(declared.values()) == sorted(defined)
    assert declared[("db", "optimize")] == "cmd_db_optimize" and declared[("search",)] == "cmd_search"
