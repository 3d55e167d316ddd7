"""Incremental validation agrees with full pySHACL on every test of the W3C SHACL core suite.

For each test (data graph D, shapes S) and several splits of D into an existing part E and
an added batch A, two properties hold:

(a) the results of ``validate_change(S, E, A)`` are exactly the results of full validation
    of E ∪ A whose focus node is in the affected set;
(b) every result of full validation of E ∪ A whose focus node is *not* affected is already
    a result of full validation of E: the fast path misses nothing the change caused.

The suite is test data outside the package (see the README of the folder); set
``HRKG_W3C_SHACL_TESTS`` to its ``core`` folder when it is not beside the checkout.
``HRKG_LONG_TESTS=1`` tries every single triple and more random halves.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
import rdflib
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, SH

from hrkg.validation.graph_access import RdflibAccess
from hrkg.validation.incremental import result_keys, validate_change, validate_full
from hrkg.validation.shape_analysis import ShapeAnalysis, analyse_shapes

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")

LONG = os.environ.get("HRKG_LONG_TESTS") == "1"
#: Single-triple batches per test (evenly spread over the triples) and random halves.
SINGLE_TRIPLES = None if LONG else 12
HALVES = 8 if LONG else 2


def suite_root() -> Path:
    override = os.environ.get("HRKG_W3C_SHACL_TESTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "w3c-shacl-tests" / "core"


#: Tests left out, with the reason; an id is "file::name". A test whose expected result is
#: a failure (sht:Failure) is left out by rule: there is no report to compare.
KNOWN_EXCLUSIONS: dict[str, str] = {}


@dataclass(frozen=True)
class W3CTest:
    id: str
    data_file: Path
    shapes_file: Path
    expects_failure: bool


def _path(iri: rdflib.term.Node) -> Path:
    return Path(url2pathname(urlparse(str(iri)).path))


def collect_tests(root: Path) -> list[W3CTest]:
    """Every sht:Validate entry reachable from root/manifest.ttl by mf:include."""
    tests: list[W3CTest] = []
    pending = [root / "manifest.ttl"]
    visited: set[Path] = set()
    while pending:
        manifest_file = pending.pop(0).resolve()
        if manifest_file in visited:
            continue
        visited.add(manifest_file)
        manifest = rdflib.Graph().parse(manifest_file, format="turtle")
        for included in manifest.objects(None, MF.include):
            pending.append(_path(included))
        for entries in manifest.objects(None, MF.entries):
            for entry in manifest.items(entries):
                if (entry, RDF.type, SHT.Validate) not in manifest:
                    continue
                action = manifest.value(entry, MF.action)
                name = str(entry).rsplit("/", 1)[-1]
                tests.append(
                    W3CTest(
                        id=f"{manifest_file.relative_to(root.resolve()).as_posix()}::{name}",
                        data_file=_path(manifest.value(action, SHT.dataGraph)),
                        shapes_file=_path(manifest.value(action, SHT.shapesGraph)),
                        expects_failure=manifest.value(entry, MF.result) == SHT.Failure,
                    )
                )
    return sorted(tests, key=lambda test: test.id)


def _params() -> list[object]:
    root = suite_root()
    if not (root / "manifest.ttl").exists():
        return [
            pytest.param(
                None,
                id="w3c-suite-absent",
                marks=pytest.mark.skip(
                    reason=f"the W3C SHACL core tests are not at {root}; set HRKG_W3C_SHACL_TESTS"
                ),
            )
        ]
    params = []
    for test in collect_tests(root):
        reason = KNOWN_EXCLUSIONS.get(test.id)
        if test.expects_failure:
            reason = "the expected result is a failure (sht:Failure), not a report"
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(test, id=test.id, marks=marks))
    return params


def _load(path: Path) -> rdflib.Graph:
    # Canonical blank-node labels make the sorted triples, hence the splits, the same on
    # every run; rdflib's parser labels blank nodes at random.
    graph = rdflib.Graph()
    for triple in to_canonical_graph(rdflib.Graph().parse(path, format="turtle")):
        graph.add(triple)
    return graph


def _sorted_triples(graph: rdflib.Graph) -> list[tuple]:
    return sorted(graph, key=lambda triple: tuple(term.n3() for term in triple))


def splits(triples: list[tuple]) -> list[tuple[str, list[tuple], list[tuple]]]:
    """(name, existing, added): single triples, random halves, everything added to nothing."""
    chosen = range(len(triples))
    if SINGLE_TRIPLES is not None and len(triples) > SINGLE_TRIPLES:
        stride = len(triples) / SINGLE_TRIPLES
        chosen = sorted({int(index * stride) for index in range(SINGLE_TRIPLES)})
    found = [
        (f"triple {index}", triples[:index] + triples[index + 1 :], [triples[index]])
        for index in chosen
    ]
    for seed in range(HALVES):
        shuffled = triples[:]
        random.Random(seed).shuffle(shuffled)
        half = len(shuffled) // 2
        found.append((f"half, seed {seed}", shuffled[:half], shuffled[half:]))
    found.append(("all added", [], triples))
    return found


def _graph(triples: list[tuple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def check_split(
    shapes: rdflib.Graph,
    analysis: ShapeAnalysis,
    existing: rdflib.Graph,
    added: rdflib.Graph,
    full_union: set[tuple],
) -> None:
    """Assert properties (a) and (b) for one split; ``full_union`` = results on E ∪ A."""
    result = validate_change(shapes, RdflibAccess(existing), added, analysis=analysis)
    assert not result.fell_back_to_full, result.fallback_reason
    affected = result.focus_nodes
    expected = {key for key in full_union if key[0] in affected}
    got = result_keys(result.report_graph)
    assert got == expected, (
        f"affected {sorted(map(str, affected))}\n"
        f"missing {sorted(map(str, expected - got))}\nextra {sorted(map(str, got - expected))}"
    )
    assert result.conforms == all(key[5] in (SH.Warning, SH.Info) for key in got)
    unaffected = {key for key in full_union if key[0] not in affected}
    if unaffected:
        before = result_keys(validate_full(shapes, existing)[1])
        assert unaffected <= before, f"caused by the change but missed: {unaffected - before}"


@pytest.mark.parametrize("test", _params())
def test_incremental_matches_full_validation(test: W3CTest) -> None:
    data = _load(test.data_file)
    # A separate shapes graph even when the file is the same: pySHACL adds triples to the
    # shapes graph (owl:Class rdfs:subClassOf rdfs:Class), which must not enter the data.
    shapes = _graph(list(data)) if test.shapes_file == test.data_file else _load(test.shapes_file)
    analysis = analyse_shapes(shapes)
    full_union = result_keys(validate_full(shapes, data)[1])
    for name, existing, added in splits(_sorted_triples(data)):
        try:
            check_split(shapes, analysis, _graph(existing), _graph(added), full_union)
        except AssertionError as error:
            raise AssertionError(f"{test.id}, split {name}: {error}") from None
