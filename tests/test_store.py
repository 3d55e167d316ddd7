"""Opening the dataset: in memory, persistent (loaded once, reopened fast), re-based, broken."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import BlankNode, CanonicalizationAlgorithm, Dataset, NamedNode, Quad

import hrkg
from hrkg.content import ContentLayout
from hrkg.errors import ContentError, QueryError
from hrkg.loading import FINGERPRINT_FILE, graph_files, read_quads
from hrkg.settings import DEFAULT_BASE_IRI

GENERATE = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


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


@pytest.fixture(scope="module")
def generated_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic content folder of the benchmarks' shape (``benchmarks/generate.py``)."""
    out = tmp_path_factory.mktemp("generated") / "content"
    command = [sys.executable, str(GENERATE), "--triples", "5000", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return out


def _canonical(quads: Iterable[Quad]) -> Dataset:
    """The quads with blank nodes renamed canonically, so two loads can be compared."""
    dataset = Dataset(quads)
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return dataset


def _loaded_quad_by_quad(folder: Path) -> Dataset:
    """The folder parsed quad by quad into a transactional store: what the bulk loader must give."""
    store = pyoxigraph.Store()
    for item in graph_files(ContentLayout(folder), DEFAULT_BASE_IRI):
        store.extend(read_quads(item, DEFAULT_BASE_IRI))
    return _canonical(store)


@pytest.mark.parametrize("persistent", [False, True], ids=["memory", "persistent"])
@pytest.mark.parametrize("folder", ["repo_root", "generated_folder"])
def test_bulk_load_gives_the_quads_of_a_quad_by_quad_load(
    folder: str, persistent: bool, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    content = request.getfixturevalue(folder)
    kg = hrkg.open(content, store=tmp_path / "store" if persistent else None)
    loaded = _canonical(kg.store.quads())
    expected = _loaded_quad_by_quad(content)
    assert len(loaded) == len(expected) > 0
    assert loaded == expected


def test_persistent_store_reloads_when_a_file_is_edited(dataset_copy: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    first = hrkg.open(dataset_copy, store=store_dir)
    before = len(first.store)
    del first
    victim = sorted((dataset_copy / "data" / "graphs").glob("*.trig"))[0]
    graph = next(pyoxigraph.parse(path=victim, format=pyoxigraph.RdfFormat.TRIG)).graph_name
    added = f'{graph} {{ {graph} <{LABEL}> "edited after the first load" . }}\n'
    with victim.open("a", encoding="utf-8") as text:
        text.write(added)
    second = hrkg.open(dataset_copy, store=store_dir)
    assert len(second.store) == before + 1, "the edited file is reloaded, not added twice"
    assert second.sparql(f'ASK {{ GRAPH {graph} {{ ?s ?p "edited after the first load" }} }}')
    recorded = json.loads((store_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    assert recorded["files"][str(victim)][0] == victim.stat().st_size


def test_a_broken_file_leaves_the_persistent_store_empty(
    dataset_copy: Path, tmp_path: Path
) -> None:
    """The files before the broken one were bulk-loaded already: they are cleared again."""
    broken = dataset_copy / "data" / "graphs" / "zz-broken.trig"
    broken.write_text(
        "<https://w3id.org/hrkg/id/document/x> {\n"
        '  <https://w3id.org/hrkg/id/document/x> <https://example.org/p> "fine" .\n'
        "  <a> <b> .\n}\n",
        encoding="utf-8",
    )
    store_dir = tmp_path / "store"
    with pytest.raises(ContentError) as raised:
        hrkg.open(dataset_copy, store=store_dir)
    message = raised.value.message
    del raised  # its traceback holds the failed store open
    gc.collect()
    assert f"{broken}:3:3: syntax error: " in message
    assert not (store_dir / FINGERPRINT_FILE).exists()
    assert len(pyoxigraph.Store.read_only(str(store_dir))) == 0
    broken.unlink()
    assert len(hrkg.open(dataset_copy, store=store_dir).store) == len(hrkg.open(dataset_copy).store)


@pytest.mark.parametrize("base_iri", [DEFAULT_BASE_IRI, "https://example.org/kg/"])
def test_a_blank_node_label_belongs_to_its_file(
    dataset_copy: Path, tmp_path: Path, base_iri: str
) -> None:
    """``_:x`` in two files is two nodes, in the bulk load and in the re-based quad-by-quad one."""
    for name in ("za", "zb"):
        (dataset_copy / "data" / "graphs" / f"{name}.trig").write_text(
            f'<https://w3id.org/hrkg/id/document/{name}> {{ _:x <{LABEL}> "{name}" . }}\n',
            encoding="utf-8",
        )
    kg = hrkg.open(dataset_copy, base_iri=base_iri, store=tmp_path / "store")
    nodes = kg.sparql(f'SELECT DISTINCT ?x WHERE {{ ?x <{LABEL}> ?l FILTER(?l IN ("za", "zb")) }}')
    assert len(nodes) == 2


def test_a_rebased_persistent_store_equals_a_rebased_memory_one(
    repo_root: Path, tmp_path: Path
) -> None:
    base = "https://example.org/kg/"
    persistent = hrkg.open(repo_root, base_iri=base, store=tmp_path / "store")
    in_memory = hrkg.open(repo_root, base_iri=base)
    assert _canonical(persistent.store.quads()) == _canonical(in_memory.store.quads())


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


#: Queries that between them read every index of the store (and decode every term).
EVERY_INDEX = [
    "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s a <https://w3id.org/hrkg/def/Person> }",
    "SELECT ?p WHERE { ?s ?p <https://w3id.org/hrkg/def/Person> }",
    "SELECT ?g ?s WHERE { GRAPH ?g { ?s a <https://w3id.org/hrkg/def/Case> } }",
    "SELECT ?g ?p WHERE { GRAPH ?g { ?s ?p <https://w3id.org/hrkg/def/Case> } }",
    "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
]


def _rows(table) -> Counter[tuple[str, ...]]:
    """The rows, blank nodes all alike (their labels differ from store to store)."""
    return Counter(
        tuple("_:" if isinstance(term, BlankNode) else str(term) for term in row)
        for row in table.rows
    )


def test_query_workers_survive_compaction_of_the_live_store(
    kg: hrkg.KnowledgeGraph, repo_root: Path, tmp_path: Path
) -> None:
    """Reading the read-write store starts a compaction now and then; the workers keep answering.

    Regression: the workers opened the live store folder read-only, which fixes its list of
    files at open but opens only 16 of them; a bulk-loaded store has dozens, and when a read
    of the primary (export, stats) set off a compaction, the files it deleted were gone for
    the workers, whose next query failed or spun until it was killed.
    """
    limited = hrkg.open(repo_root, store=tmp_path / "store", query_timeout=30)
    try:
        assert len(list((tmp_path / "store").glob("*.sst"))) > 16, "enough files to show it"
        primary = limited.store.primary
        assert len(primary) == sum(1 for _ in primary.quads()) == len(kg.store)
        primary.oxigraph.optimize()
        for text in EVERY_INDEX:
            assert _rows(limited.sparql(text)) == _rows(kg.sparql(text)), text
    finally:
        limited.close()
