"""The command line: real commands on the real data, their output and exit codes.

Exit codes: 0 success, 1 a check found problems, 2 bad usage or bad input.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrkg.cli import app

runner = CliRunner()


def hrkg_cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "400"})


def test_query_list_names_every_question() -> None:
    result = hrkg_cli("query", "list")
    assert result.exit_code == 0
    for name in ("cases", "timeline", "sources-of"):
        assert name in result.stdout


def test_query_show_documents_parameters() -> None:
    result = hrkg_cli("query", "show", "reports")
    assert result.exit_code == 0
    assert (
        "year" in result.stdout and "integer" in result.stdout and "press-release" in result.stdout
    )
    assert "SELECT" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "md"])
def test_query_run_in_every_format(fmt: str) -> None:
    result = hrkg_cli("query", "run", "reports", "--param", "year=2013", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "Annual Report: Mali 2013" in result.stdout
    if fmt == "json":
        document = json.loads(result.stdout)
        assert document["head"]["vars"][:3] == ["date", "documentType", "title"]
        assert len(document["results"]["bindings"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "run", "no-such-query"], "no stored query named 'no-such-query'"),
        (["query", "run", "reports", "--param", "year=twenty"], "not a whole number"),
        (["query", "run", "reports", "--param", "yaer=2013"], "unknown parameter 'yaer'"),
        (["query", "run", "reports", "--param", "year"], "is not name=value"),
        (["query", "run", "reports", "--format", "xlsx"], "is not one of"),
        (
            ["sparql", "INSERT DATA { <https://x.org/a> <https://x.org/b> 1 }"],
            "updates are refused",
        ),
        (["sparql", "SELECT WHERE"], "does not parse"),
        (["sparql"], "give either a QUERY argument or --file"),
        (["export", "--format", "yaml"], "is not one of"),
        (["export", "--order", "sorted"], "'sorted' is not one of canonical, store"),
        (["export", "-o", "/proc/hrkg-cannot-write-here/x.ttl"], "cannot write"),
        (["--data-dir", "/nonexistent-hrkg-folder", "stats"], "incomplete"),
        (["serve", "--queue-timeout", "0"], "queue timeout (HRKG_QUEUE_TIMEOUT) must be positive"),
    ],
)
def test_bad_usage_exits_2_with_a_message(args: list[str], message: str) -> None:
    result = hrkg_cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_sparql_from_a_file(tmp_path: Path) -> None:
    query = tmp_path / "people.rq"
    query.write_text(
        "PREFIX hr: <https://w3id.org/hrkg/def/>\nSELECT ?p WHERE { ?p a hr:Person }",
        encoding="utf-8",
    )
    result = hrkg_cli("sparql", "-f", str(query), "--format", "csv")
    assert result.exit_code == 0
    assert "https://w3id.org/hrkg/id/person/amadou-sanogo" in result.stdout


def test_sparql_construct_prints_turtle() -> None:
    result = hrkg_cli("sparql", "CONSTRUCT WHERE { ?s a <https://w3id.org/hrkg/def/Person> }")
    assert result.exit_code == 0
    assert "person:amadou-sanogo a hr:Person" in result.stdout


def test_export_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "new-folder" / "mali.nq"
    result = hrkg_cli("export", "--format", "nquads", "-o", str(target))
    assert result.exit_code == 0
    assert target.read_bytes().count(b"\n") > 100


def test_an_export_in_store_order_holds_the_same_quads(tmp_path: Path) -> None:
    """``--order store`` writes the quads unsorted; parsed, they are the canonical export's."""
    fast, canonical = tmp_path / "fast.nq", tmp_path / "canonical.nq"
    assert hrkg_cli("export", "-F", "nquads", "--order", "store", "-o", str(fast)).exit_code == 0
    assert hrkg_cli("export", "-F", "nquads", "-o", str(canonical)).exit_code == 0
    assert fast.read_bytes() != canonical.read_bytes(), "store order is not the sorted order"
    fast_lines, canonical_lines = fast.read_text().splitlines(), canonical.read_text().splitlines()
    assert len(fast_lines) == len(canonical_lines) > 100
    # Blank nodes keep the store's labels there; every other line is the same line.
    assert {line for line in fast_lines if "_:" not in line} == {
        line for line in canonical_lines if "_:" not in line
    }


def test_an_export_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    """A new file is readable as ``open`` would make it (not private to its writer, as the
    temporary file it starts as is); a file replaced keeps its own permissions."""
    previous = os.umask(0o022)
    try:
        target = tmp_path / "mali.ttl"
        assert hrkg_cli("export", "-o", str(target)).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o640)
        assert hrkg_cli("export", "--format", "nquads", "-o", str(target)).exit_code == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o640
    finally:
        os.umask(previous)


def test_a_failed_export_leaves_no_file_and_no_folder(tmp_path: Path) -> None:
    """An unknown graph is found once the output file is open (the export writes into it
    as it goes): that file and the folders made for it go, and a file already there keeps
    its bytes."""
    target = tmp_path / "new" / "deeper" / "mali.ttl"
    result = hrkg_cli("export", "--graph", "https://example.org/no-such-graph", "-o", str(target))
    assert result.exit_code == 2 and "no graph named" in result.output
    assert list(tmp_path.iterdir()) == []
    kept = tmp_path / "kept.ttl"
    kept.write_bytes(b"# earlier export\n")
    result = hrkg_cli("export", "--graph", "https://example.org/no-such-graph", "-o", str(kept))
    assert result.exit_code == 2 and kept.read_bytes() == b"# earlier export\n"
    assert [path.name for path in tmp_path.iterdir()] == ["kept.ttl"]


def test_stats_counts_graphs() -> None:
    result = hrkg_cli("stats")
    assert result.exit_code == 0
    assert "document:amnesty-mali-country-page" in result.stdout
    assert "stored questions" in result.stdout


def test_a_check_that_finds_problems_exits_1(dataset_copy: Path) -> None:
    (dataset_copy / "data" / "graphs" / "zz-undescribed.trig").write_text(
        "<https://w3id.org/hrkg/id/document/zz> { <https://x.org/a> <https://x.org/b> 1 . }\n",
        encoding="utf-8",
    )
    result = hrkg_cli(
        "--data-dir", str(dataset_copy), "query", "run", "checks/undescribed-graph-violation"
    )
    assert result.exit_code == 1
    assert "document:zz" in result.stdout


def test_the_installed_console_script_runs() -> None:
    """The real entry point, in a real process, as a user would call it."""
    script = Path(sys.executable).with_name("hrkg")
    completed = subprocess.run(
        [str(script), "query", "run", "office-holders", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Diouncounda Traoré" in completed.stdout
