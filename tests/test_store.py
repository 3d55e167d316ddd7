"""Opening the dataset: in memory, persistent (loaded once, reopened fast), re-based, broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

import hrkg
from hrkg.errors import ContentError, QueryError
from hrkg.loading import FINGERPRINT_FILE
from hrkg.settings import DEFAULT_BASE_IRI


def test_every_graph_of_the_folder_is_loaded(kg: hrkg.KnowledgeGraph) -> None:
    names = {graph.name for graph in kg.stats().graphs}
    for system in ("ontology", "vocabularies", "gazetteer"):
        assert f"https://w3id.org/hrkg/graph/{system}" in names
    sources = {name for name in names if "/id/document/" in name}
    assert len(sources) == len(kg.layout.source_graph_files)


def test_persistent_store_is_loaded_once_and_reopened(repo_root: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    first = hrkg.open(repo_root, store=store_dir)
    quads = len(first.store)
    marker = store_dir / FINGERPRINT_FILE
    written = marker.stat().st_mtime_ns
    del first
    second = hrkg.open(repo_root, store=store_dir)
    assert len(second.store) == quads
    assert marker.stat().st_mtime_ns == written, "an unchanged folder must not be reloaded"
    assert len(second.query("cases")) > 0


def test_persistent_store_reloads_when_a_file_changes(dataset_copy: Path, tmp_path: Path) -> None:
    content = dataset_copy
    store_dir = tmp_path / "store"
    before = len(hrkg.open(content, store=store_dir).store)
    victim = sorted((content / "data" / "graphs").glob("*.trig"))[0]
    victim.unlink()
    after = hrkg.open(content, store=store_dir)
    assert len(after.store) < before
    recorded = json.loads((store_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    assert str(victim) not in recorded["files"]


def test_a_broken_file_names_file_line_and_column(dataset_copy: Path) -> None:
    content = dataset_copy
    broken = content / "data" / "graphs" / "zz-broken.trig"
    broken.write_text("<https://w3id.org/hrkg/id/document/x> {\n  <a> <b> .\n}\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        hrkg.open(content)
    assert f"{broken}:2:" in raised.value.message


def test_an_incomplete_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="incomplete"):
        hrkg.open(tmp_path)


def test_base_iri_moves_every_project_iri(repo_root: Path) -> None:
    base = "https://example.org/kg/"
    rebased = hrkg.open(repo_root, base_iri=base)
    default = hrkg.open(repo_root)
    cases = rebased.query("cases")
    assert len(cases) == len(default.query("cases"))
    assert all(row["case"].startswith(f"{base}id/case/") for row in cases.values())
    left_behind = [
        term
        for quad in rebased.store.quads()
        for term in quad
        if isinstance(term, NamedNode) and term.value.startswith(DEFAULT_BASE_IRI)
    ]
    assert left_behind == []


def test_a_base_iri_without_trailing_slash_is_refused(repo_root: Path) -> None:
    with pytest.raises(ValueError, match="must end with '/'"):
        hrkg.open(repo_root, base_iri="https://example.org/kg")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "INSERT DATA { <https://x.org/a> <https://x.org/b> <https://x.org/c> }",
            "updates are refused",
        ),
        ("PREFIX x: <https://x.org/> DELETE WHERE { ?s ?p ?o }", "updates are refused"),
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("SELEC ?s WHERE { ?s ?p ?o }", "does not parse"),
    ],
)
def test_adhoc_queries_are_read_only_and_offline(
    kg: hrkg.KnowledgeGraph, text: str, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        kg.sparql(text)


def test_query_text_size_is_limited(repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRKG_MAX_QUERY_CHARS", "50")
    small = hrkg.open(repo_root)
    with pytest.raises(QueryError, match="over the limit of 50"):
        small.sparql("SELECT ?s WHERE { ?s ?p ?o }  # " + "x" * 60)


def test_adhoc_select_ask_and_construct(kg: hrkg.KnowledgeGraph) -> None:
    assert kg.sparql("ASK { ?s a <https://w3id.org/hrkg/def/Case> }") is True
    table = kg.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(table.rows[0][0].value) == len(kg.store)
    triples = kg.sparql("CONSTRUCT WHERE { ?s a <https://w3id.org/hrkg/def/Person> }")
    assert triples and all(t.object.value.endswith("def/Person") for t in triples)


def test_library_query_timeout_stops_a_runaway_query(repo_root: Path) -> None:
    """With a time limit, a cartesian product is stopped, and the graph keeps answering."""
    from hrkg.errors import QueryTimeout

    limited = hrkg.open(repo_root, query_timeout=1.5)
    try:
        with pytest.raises(QueryTimeout, match=r"more than 1\.5 s"):
            limited.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        assert len(limited.query("office-holders")) == 4
    finally:
        limited.close()


def test_library_row_cap_says_the_answer_was_cut(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRKG_MAX_ROWS", "7")
    capped = hrkg.open(repo_root)
    table = capped.sparql("SELECT * WHERE { ?s ?p ?o }")
    assert len(table) == 7 and table.truncated
    assert not capped.query("office-holders").truncated
