"""Export: every format is deterministic, declares its prefixes and parses back unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading

import pyoxigraph
import pytest
import rdflib
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat

import hrkg
from hrkg.errors import ExportError
from hrkg.export import (
    EXPORT_FORMATS,
    EXPORT_ORDERS,
    export_dataset,
    serialize_canonical,
    write_dataset,
)
from hrkg.progress import showing_bytes_written
from hrkg.store import OxigraphStore

COUNTRY_PAGE = "https://w3id.org/hrkg/id/document/amnesty-mali-country-page"
EX = "http://example.org/"


def _store_quads(kg: hrkg.KnowledgeGraph, graph: str | None = None) -> set[Quad]:
    name = pyoxigraph.NamedNode(graph) if graph else None
    return set(kg.store.quads(name))


def _canonical(quads) -> set[Quad]:
    """Blank nodes relabelled by RDFC-1.0: equal sets then mean isomorphic datasets."""
    dataset = pyoxigraph.Dataset(quads)
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def _parse_back(data: bytes, fmt: str) -> set[Quad]:
    """Parse an export with pyoxigraph (rdflib for JSON-LD, the format it wrote)."""
    if fmt == "jsonld":
        dataset = rdflib.Dataset()
        dataset.parse(data=data.decode("utf-8"), format="json-ld")
        nquads = dataset.serialize(format="nquads")
        data, fmt = nquads.encode("utf-8"), "nquads"
    return set(pyoxigraph.parse(data, format=EXPORT_FORMATS[fmt].rdf_format))


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_is_deterministic(kg: hrkg.KnowledgeGraph, repo_root, fmt: str) -> None:
    """Identical bytes twice, and from a second, independent load (fresh blank nodes)."""
    assert kg.export(fmt) == kg.export(fmt) == hrkg.open(repo_root).export(fmt)


@pytest.mark.parametrize("order", EXPORT_ORDERS)
@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_parses_back_to_the_same_data(kg: hrkg.KnowledgeGraph, fmt: str, order: str) -> None:
    """Quad formats keep every graph; triple formats hold the union of the graphs, in
    either order.

    Both sides are canonicalised, so set equality is dataset isomorphism.
    """
    parsed = _parse_back(kg.export(fmt, order=order), fmt)
    stored = _store_quads(kg)
    if not EXPORT_FORMATS[fmt].keeps_graphs:
        stored = {Quad(quad.subject, quad.predicate, quad.object) for quad in stored}
    assert _canonical(parsed) == _canonical(stored)


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_text_exports_declare_prefixes(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    text = kg.export(fmt).decode("utf-8")
    for prefix in ("hr", "prov", "skos", "dcterms", "person", "case", "vt"):
        assert f"@prefix {prefix}: <" in text
    assert "person:amadou-sanogo" in text, "IRIs are written as prefixed names"


def test_jsonld_has_a_context_and_named_graphs(kg: hrkg.KnowledgeGraph) -> None:
    document = json.loads(kg.export("jsonld"))
    assert document["@context"]["hr"] == "https://w3id.org/hrkg/def/"
    graph_ids = {node.get("@id") for node in document["@graph"]}
    assert "document:amnesty-mali-country-page" in graph_ids or COUNTRY_PAGE in graph_ids


@pytest.mark.parametrize("order", EXPORT_ORDERS)
@pytest.mark.parametrize("fmt", ["trig", "turtle"])
def test_export_of_one_graph_holds_only_that_graph(
    kg: hrkg.KnowledgeGraph, fmt: str, order: str
) -> None:
    parsed = _parse_back(kg.export(fmt, graphs=[COUNTRY_PAGE], order=order), fmt)
    expected = _store_quads(kg, COUNTRY_PAGE)
    assert expected, "the country page graph is not empty"
    assert {quad.triple for quad in parsed} == {quad.triple for quad in expected}


def test_export_of_an_unknown_graph_is_an_error(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ExportError, match="no graph named"):
        kg.export("trig", graphs=["https://w3id.org/hrkg/id/document/no-such-document"])


def test_export_of_an_unknown_format_is_an_error(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ExportError, match="choose one of"):
        kg.export("yaml")


def test_export_in_an_unknown_order_is_an_error(kg: hrkg.KnowledgeGraph) -> None:
    with pytest.raises(ExportError, match="unknown export order 'sorted'") as raised:
        kg.export("turtle", order="sorted")
    assert "canonical" in raised.value.hint and "store" in raised.value.hint


def test_turtle_export_sorts_subjects(kg: hrkg.KnowledgeGraph) -> None:
    """Canonical order: a reader (and a diff) finds subjects in IRI order."""
    triples = list(pyoxigraph.parse(kg.export("turtle"), format=RdfFormat.TURTLE))
    subjects = [str(triple.subject) for triple in triples]
    assert subjects == sorted(subjects)


def _store_of(quads) -> OxigraphStore:
    """A fresh in-memory store holding ``quads``, added one by one in the order given."""
    store = OxigraphStore()
    for quad in quads:
        store.oxigraph.add(quad)
    return store


def _reloaded(quads: list[Quad], *, reverse: bool) -> list[Quad]:
    """The quads as a new parse gives them: fresh blank node labels, maybe reversed."""
    data = pyoxigraph.serialize(quads, format=RdfFormat.N_QUADS)
    parsed = list(pyoxigraph.parse(data, format=RdfFormat.N_QUADS, rename_blank_nodes=True))
    return parsed[::-1] if reverse else parsed


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_does_not_depend_on_insertion_order(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    """The store lists a subject's quads in insertion order; the export must not."""
    quads = list(kg.store.quads())
    store = _store_of(_reloaded(quads, reverse=True))
    assert export_dataset(store, fmt, kg.prefixes) == kg.export(fmt)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_streamed_export_equals_the_in_memory_one(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    """Streaming from the store and sorting a list of quads (a remote store's path) agree."""
    assert kg.export(fmt) == serialize_canonical(list(kg.store.quads()), fmt, kg.prefixes)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_of_one_graph_equals_the_in_memory_one(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    quads = _store_quads(kg, COUNTRY_PAGE)
    expected = serialize_canonical(quads, fmt, kg.prefixes)
    assert kg.export(fmt, graphs=[COUNTRY_PAGE]) == expected


def test_ntriples_export_is_sorted_by_line_with_each_triple_once(kg: hrkg.KnowledgeGraph) -> None:
    """Export order is N-Triples line order; a triple stated in several graphs comes once."""
    lines = kg.export("ntriples").decode("utf-8").splitlines()
    assert lines == sorted(set(lines))
    assert len(lines) == len({quad.triple for quad in _store_quads(kg)})


def test_nquads_export_is_sorted_by_graph_then_line(kg: hrkg.KnowledgeGraph) -> None:
    quads = list(pyoxigraph.parse(kg.export("nquads"), format=RdfFormat.N_QUADS))
    keys = [(str(quad.graph_name), str(quad)) for quad in quads]
    assert keys == sorted(keys)
    assert len(quads) == len(_store_quads(kg))


def _ex(name: str) -> NamedNode:
    return NamedNode(EX + name)


#: A small dataset with what the Mali data lacks: a blank node that is never a subject (the
#: stream must notice it and start again), a triple in two graphs, the default graph.
LEAF, LIST_HEAD = BlankNode("leaf"), BlankNode("head")
NAME_A = Literal("A", language="en")
EDGE_CASES = [
    Quad(_ex("a"), _ex("knows"), LEAF, _ex("g1")),
    Quad(_ex("a"), _ex("name"), NAME_A, _ex("g1")),
    Quad(_ex("a"), _ex("name"), NAME_A, _ex("g2")),
    Quad(_ex("b"), _ex("list"), LIST_HEAD, _ex("g2")),
    Quad(LIST_HEAD, _ex("first"), Literal("1"), _ex("g2")),
    Quad(_ex("c"), _ex("note"), Literal("in the default graph"), DefaultGraph()),
]


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_edge_cases_export_deterministically(fmt: str) -> None:
    """Same bytes from another insertion order and other blank node labels, and the same
    as the in-memory path; no blank node keeps its store label."""
    prefixes = {"ex": EX}
    first = export_dataset(_store_of(EDGE_CASES), fmt, prefixes)
    again = export_dataset(_store_of(_reloaded(EDGE_CASES, reverse=True)), fmt, prefixes)
    assert first == again == serialize_canonical(EDGE_CASES, fmt, prefixes)
    assert b"c14n" in first, "blank nodes carry canonical labels"
    assert b"leaf" not in first and b"head" not in first


def test_triple_formats_merge_a_triple_held_by_two_graphs() -> None:
    text = export_dataset(_store_of(EDGE_CASES), "ntriples", {}).decode("utf-8")
    assert text.count(f'<{EX}a> <{EX}name> "A"@en .') == 1
    quads = export_dataset(_store_of(EDGE_CASES), "nquads", {}).decode("utf-8")
    assert quads.count(f'<{EX}a> <{EX}name> "A"@en ') == 2, "the quad formats keep both"


def test_store_order_writes_a_triple_once_per_graph_that_states_it() -> None:
    """The fast order merges nothing: the canonical order's one line comes twice."""
    store = _store_of(EDGE_CASES)
    line = f'<{EX}a> <{EX}name> "A"@en .'
    fast = export_dataset(store, "ntriples", {}, order="store").decode("utf-8")
    assert fast.splitlines().count(line) == 2
    assert export_dataset(store, "ntriples", {}).decode("utf-8").splitlines().count(line) == 1


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_store_order_streams_into_a_pipe(kg: hrkg.KnowledgeGraph, fmt: str) -> None:
    """Written as it comes (no seeking back), the same bytes as into memory."""
    expected = kg.export(fmt, order="store")
    streamed = _into_pipe(
        lambda stream: write_dataset(kg.store, fmt, kg.prefixes, stream, order="store")
    )
    assert streamed == expected


def test_default_graph_comes_after_the_named_graphs() -> None:
    lines = export_dataset(_store_of(EDGE_CASES), "nquads", {}).decode("utf-8").splitlines()
    assert lines[-1] == f'<{EX}c> <{EX}note> "in the default graph" .'


#: A header already in the file before the export: the export must leave it alone, even
#: when it starts again over what it wrote.
HEADER = b"# written before the export\n"


def _into_pipe(write) -> bytes:
    """What ``write`` puts into a real pipe (a stream that cannot seek), read as it comes."""
    reading, writing = os.pipe()
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(os.fdopen(reading, "rb").read()))
    reader.start()
    with os.fdopen(writing, "wb") as stream:
        assert not stream.seekable()
        write(stream)
    reader.join()
    return received[0]


#: Many subjects, then (last in export order) a blank node that is never a subject: the
#: triple formats meet it after writing a good deal, and must start again over it.
LATE_BLANK = [
    *(
        Quad(_ex(f"s{number:05}"), _ex("name"), Literal(f"subject {number}"))
        for number in range(3000)
    ),
    Quad(_ex("z"), _ex("knows"), LEAF),
]


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
@pytest.mark.parametrize("dataset", ["mali", "edge-cases", "late-blank"])
def test_an_export_written_into_a_file_or_a_pipe_is_the_same_bytes(
    kg: hrkg.KnowledgeGraph, tmp_path, fmt: str, dataset: str
) -> None:
    """Into a file after other bytes, into a pipe and into memory, the bytes the sorted
    in-memory path gives, even when the export starts again over what it had written."""
    if dataset == "mali":
        store, prefixes = kg.store, kg.prefixes
    else:
        store = _store_of(EDGE_CASES if dataset == "edge-cases" else LATE_BLANK)
        prefixes = {"ex": EX}
    expected = export_dataset(store, fmt, prefixes)
    assert expected == serialize_canonical(list(store.quads()), fmt, prefixes)  # not streamed
    path = tmp_path / "export"
    with path.open("wb") as file:
        file.write(HEADER)
        write_dataset(store, fmt, prefixes, file)
    assert path.read_bytes() == HEADER + expected
    assert _into_pipe(lambda stream: write_dataset(store, fmt, prefixes, stream)) == expected
    with path.open("wb") as file:  # through what `hrkg export` shows its progress with
        file.write(HEADER)
        with showing_bytes_written(file, "exporting", show=True) as counted:
            write_dataset(store, fmt, prefixes, counted)
    assert path.read_bytes() == HEADER + expected


@pytest.fixture(scope="module")
def digests_from_another_process(repo_root) -> dict[str, str]:
    """Each format's digest as exported by a fresh interpreter with other string hashes."""
    script = (
        "import hashlib, json, sys, hrkg\n"
        "kg = hrkg.open(sys.argv[1])\n"
        "formats = sys.argv[2].split(',')\n"
        "print(json.dumps({f: hashlib.sha256(kg.export(f)).hexdigest() for f in formats}))\n"
    )
    seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    command = [sys.executable, "-c", script, str(repo_root), ",".join(EXPORT_FORMATS)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_export_is_identical_across_processes(
    kg: hrkg.KnowledgeGraph, digests_from_another_process: dict[str, str], fmt: str
) -> None:
    """Python salts string hashes per process (rdflib's JSON-LD node order once followed it)."""
    assert hashlib.sha256(kg.export(fmt)).hexdigest() == digests_from_another_process[fmt]


# An export made whole (the bytes, or one sent to a pipe) goes to a temporary file past
# SPOOL_BYTES, so that a buffer growing by copies never holds it twice.


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_an_export_past_the_spool_size_is_the_same_bytes(
    kg: hrkg.KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, tmp_path, fmt: str
) -> None:
    expected = kg.export(fmt)
    monkeypatch.setattr("hrkg.export.SPOOL_BYTES", 1024)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert len(expected) > 1024
    assert kg.export(fmt) == expected
    assert _into_pipe(lambda stream: kg.export_to(stream, fmt)) == expected
    assert list(tmp_path.iterdir()) == [], "the temporary file is gone"


@pytest.mark.parametrize("missing_or_full", ["missing folder", "full disk"])
def test_a_temporary_folder_that_cannot_hold_the_export_is_a_clear_error(
    kg: hrkg.KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, tmp_path, missing_or_full: str
) -> None:
    before = kg.export("nquads")
    monkeypatch.setattr("hrkg.export.SPOOL_BYTES", 1024)
    if missing_or_full == "missing folder":
        folder = tmp_path / "missing"
    else:
        folder = tmp_path
        # Every write to /dev/full fails as a full disk does (ENOSPC); the spool closes it.
        full_disk = lambda *args, **kwargs: open("/dev/full", "w+b")  # noqa: E731, SIM115
        monkeypatch.setattr(tempfile, "TemporaryFile", full_disk)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    with pytest.raises(ExportError) as raised:
        kg.export("nquads")
    message = raised.value.message
    assert message.startswith(f"{folder}: cannot hold the export in a temporary file: ")
    assert ("No such file or directory" if folder != tmp_path else "No space left") in message
    assert "hint: set TMPDIR to a folder with room" in message
    monkeypatch.undo()
    assert kg.export("nquads") == before, "the store is as it was"
