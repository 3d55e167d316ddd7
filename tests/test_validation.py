"""`hrkg validate` and `hrkg add` on bad input: a clear message, the right exit code, and
nothing stored changes. One fixture per kind of bad input, in ``tests/bad_input/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH
from typer.testing import CliRunner

import hrkg
from hrkg.cli import app

FIXTURES = Path(__file__).parent / "bad_input"
GOOD = Path(__file__).parent / "good_input"
COUNTRY_PAGE = "document:amnesty-mali-country-page"

#: fixture -> (exit code, words the message must contain, severity-free).
BAD_INPUT = {
    "syntax-error.ttl": (2, "syntax-error.ttl:22:4: syntax error"),
    "empty.ttl": (2, "the file is empty"),
    "not-utf8.ttl": (2, "not-utf8.ttl:22:27: the file is not UTF-8 (byte 0xe9)"),
    "wrong-datatype-date.ttl": (1, "hr:date takes one literal typed by its precision"),
    "wrong-datatype-count.ttl": (1, "hr:count"),
    "negative-count.ttl": (1, "hr:count"),
    "missing-label.ttl": (1, "label"),
    "missing-source.ttl": (1, "prov:wasDerivedFrom"),
    "dangling-reference.ttl": (1, "event/2012-cuop is referenced but exists nowhere"),
    "undefined-property.ttl": (1, "the property hr:violationTyp is not defined by the ontology"),
    "undefined-class.ttl": (1, "the class hr:Cas is not defined by the ontology"),
    "conflicting-value.ttl": (1, "Remove extra dates"),
    "outside-base.ttl": (1, "is outside the project base"),
    "too-large.ttl": (2, "over the input limit of 100 bytes"),
    "undeclared-prefix.ttl": (2, "The prefix skos: has not been declared"),
    "billion-laughs.rdf": (2, "entity declarations (<!ENTITY …>) is refused"),
}


def run(*args: str, env: dict[str, str] | None = None):
    environment = {"COLUMNS": "400", **(env or {})}
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env=environment)


def add_to(dataset: Path, file: Path, *options: str, source: str = COUNTRY_PAGE, env=None):
    """`hrkg --data-dir DATASET add FILE --source SOURCE [options]`."""
    return run("--data-dir", str(dataset), "add", str(file), "--source", source, *options, env=env)


def input_limit_for(name: str) -> dict[str, str]:
    """The environment a fixture is checked in: too-large.ttl under a 100-byte limit."""
    return {"HRKG_MAX_INPUT_BYTES": "100"} if name == "too-large.ttl" else {}


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def dataset(dataset_copy: Path) -> Path:
    return dataset_copy


def test_every_fixture_has_an_expectation() -> None:
    assert {path.name for path in FIXTURES.iterdir()} == set(BAD_INPUT)


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_validate_reports_bad_input_clearly(name: str) -> None:
    code, message = BAD_INPUT[name]
    result = run("validate", str(FIXTURES / name), env=input_limit_for(name))
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_add_refuses_bad_input_and_changes_nothing(name: str, dataset: Path) -> None:
    code, message = BAD_INPUT[name]
    before = _snapshot(dataset)
    result = add_to(dataset, FIXTURES / name, env=input_limit_for(name))
    assert result.exit_code == code, result.output
    assert message in result.output
    assert _snapshot(dataset) == before, "a refused addition must leave every file as it was"


def test_validate_accepts_good_input_with_warnings_only() -> None:
    result = run("validate", str(GOOD / "new-case.ttl"))
    assert result.exit_code == 0, result.output
    assert "conforms: 0 violation(s), 2 warning(s)" in result.output
    strict = run("validate", "--strict", str(GOOD / "new-case.ttl"))
    assert strict.exit_code == 1


def test_validate_json_report() -> None:
    result = run("validate", "--format", "json", str(FIXTURES / "dangling-reference.ttl"))
    document = json.loads(result.stdout)
    assert document["conforms"] is False
    assert document["violations"] == 2 and document["fastPath"] is True
    assert {"severity", "focus_node", "path", "value", "message"} <= set(document["results"][0])


def test_validate_turtle_report_is_a_shacl_validation_report() -> None:
    result = run("validate", "--format", "turtle", str(FIXTURES / "conflicting-value.ttl"))
    report = rdflib.Graph().parse(data=result.stdout, format="turtle")
    [node] = report.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms).toPython() is False
    assert len(list(report.objects(node, SH.result))) == 1


def test_validate_takes_the_input_format_from_an_option(tmp_path: Path) -> None:
    renamed = tmp_path / "new-case.data"
    shutil.copy(GOOD / "new-case.ttl", renamed)
    assert run("validate", str(renamed)).exit_code == 2
    assert run("validate", "--input-format", "turtle", str(renamed)).exit_code == 0


def test_add_writes_canonically_and_records_the_change(dataset: Path) -> None:
    result = add_to(dataset, GOOD / "new-case.ttl", "--agent", "Test Researcher")
    assert result.exit_code == 0, result.output
    assert "7 new triples for document:amnesty-mali-country-page (1 Case)" in result.output
    kg = hrkg.open(dataset)
    assert "case:test-new-case" in {
        row["case"].replace("https://w3id.org/hrkg/id/case/", "case:")
        for row in kg.query("cases").values()
    }
    [entry] = kg.query("changelog").values()
    assert entry["inputFile"] == "new-case.ttl" and entry["triples"] == "7"
    assert entry["agent"] == "Test Researcher" and entry["source"].endswith(
        "amnesty-mali-country-page"
    )
    check = run("--data-dir", str(dataset), "format", "--check")
    assert check.exit_code == 0, "written files are canonical"
    again = add_to(dataset, GOOD / "new-case.ttl")
    assert "0 new triples" in again.output and "nothing new to write" in again.output


def test_add_gives_written_files_the_usual_permissions(dataset: Path) -> None:
    """The files an addition writes start as private temporary files, then are renamed: the
    source's graph file keeps the permissions it had, and the new change log gets what
    ``open`` would give it (0666 less the umask)."""
    graph_file = dataset / "data" / "graphs" / "amnesty-mali-country-page.trig"
    graph_file.chmod(0o640)
    previous = os.umask(0o022)
    try:
        result = add_to(dataset, GOOD / "new-case.ttl")
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    changelog = hrkg.open(dataset).layout.changelog_file
    assert stat.S_IMODE(graph_file.stat().st_mode) == 0o640
    assert stat.S_IMODE(changelog.stat().st_mode) == 0o644


def test_dry_run_shows_and_writes_nothing(dataset: Path) -> None:
    before = _snapshot(dataset)
    result = add_to(dataset, GOOD / "new-case.ttl", "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "case:test-new-case a hr:Case" in result.output
        and "dry run: nothing was written" in result.output
    )
    assert _snapshot(dataset) == before


def test_a_new_source_must_be_described(dataset: Path) -> None:
    before = _snapshot(dataset)
    result = add_to(dataset, GOOD / "new-case.ttl", source="document:2026-01-01-new-report")
    assert result.exit_code == 2
    assert "is a new source, and the file does not describe it" in result.output
    assert _snapshot(dataset) == before


def test_triples_for_another_graph_are_refused(dataset: Path, tmp_path: Path) -> None:
    prefixes, body = (GOOD / "new-case.ttl").read_text(encoding="utf-8").split("\n\n", 1)
    other_graph = "https://w3id.org/hrkg/id/document/2015-02-25-state-of-the-world-2014-2015"
    other = tmp_path / "other.trig"
    other.write_text(f"{prefixes}\n<{other_graph}> {{\n{body}}}\n", encoding="utf-8")
    result = add_to(dataset, other)
    assert result.exit_code == 2
    assert "not in the source" in result.output


def test_a_quote_must_be_a_passage_of_the_source_text(dataset: Path, tmp_path: Path) -> None:
    invented = tmp_path / "invented.ttl"
    text = (GOOD / "new-case.ttl").read_text(encoding="utf-8")
    invented.write_text(
        text.replace("Prison conditions throughout Mali are poor", "A sentence no source has"),
        encoding="utf-8",
    )
    before = _snapshot(dataset)
    result = add_to(dataset, invented)
    assert result.exit_code == 1
    assert "not an exact passage of the source text" in result.output
    assert _snapshot(dataset) == before


def test_python_api_validate_and_add(dataset: Path) -> None:
    kg = hrkg.open(dataset)
    report = kg.validate(FIXTURES / "conflicting-value.ttl")
    assert not report.conforms() and len(report.violations) == 1
    addition = kg.add(GOOD / "new-case.ttl", COUNTRY_PAGE, agent="api")
    assert addition.written and len(addition.new_quads) == 7
    assert len(kg.query("changelog")) == 1, "the open graph sees its own addition"
