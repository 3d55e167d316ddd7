"""hrkg never reaches the network on its own: every command runs with sockets forbidden.

The fixture replaces every way Python opens a connection with one that records the
attempt and fails. Each command then runs for real, on real data and on inputs built to
tempt a fetcher (a remote JSON-LD context, an external XML entity, ``owl:imports``,
``SERVICE``, ``FROM <url>``); the test fails if any connection was even attempted.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrkg.cli import app

OFFLINE = Path(__file__).parent / "offline_input"
GOOD = Path(__file__).parent / "good_input" / "new-case.ttl"


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every connection attempt, each refused."""
    tried: list[str] = []

    def refuse(*args, **kwargs):
        tried.append(repr(args[1:] or args)[:200])
        raise OSError("network access is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", lambda self, address: refuse(self, address))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: refuse(self, address))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, *a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, *a))
    return tried


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


COMMANDS = [
    (["stats"], 0),
    (["query", "list"], 0),
    (["query", "run", "cases", "--format", "json"], 0),
    (["query", "run", "timeline", "-p", "from=2012", "-p", "to=2013"], 0),
    (["query", "run", "sources-of", "-p", "iri=person:amadou-sanogo"], 0),
    (["sparql", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"], 2),
    (["sparql", "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }"], 2),
    (["sparql", "SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }"], 2),
    (["sparql", "DESCRIBE <http://127.0.0.1:9/thing>"], 0),
    (["validate", str(GOOD)], 0),
    (["validate", str(OFFLINE / "remote-context.jsonld")], 2),
    (["validate", str(OFFLINE / "external-entity.rdf")], 2),
    (["validate", str(OFFLINE / "owl-imports.ttl")], 0),
    (["format", "--check"], 0),
] + [
    (["export", "--format", fmt], 0)
    for fmt in ("turtle", "ntriples", "nquads", "trig", "jsonld", "xml")
]


@pytest.mark.parametrize(
    ("args", "code"),
    COMMANDS,
    ids=lambda value: " ".join(value)[:60] if isinstance(value, list) else None,
)
def test_command_never_touches_the_network(attempts: list[str], args: list[str], code: int) -> None:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert attempts == [], f"connection attempted: {attempts}"


def test_add_never_touches_the_network(attempts: list[str], dataset_copy: Path) -> None:
    result = run(
        "--data-dir",
        str(dataset_copy),
        "add",
        str(GOOD),
        "--source",
        "document:amnesty-mali-country-page",
    )
    assert result.exit_code == 0, result.output
    assert attempts == []


def test_the_guard_itself_catches_a_connection(attempts: list[str]) -> None:
    """Proof that the fixture would notice: a deliberate connection is recorded."""
    with pytest.raises(OSError, match="forbidden"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert len(attempts) == 1
