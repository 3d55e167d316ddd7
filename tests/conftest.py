"""Fixtures shared by the test modules: the checkout's content layout and its graphs.

The graphs are session-scoped because they are parsed once and only read; a test that
needs to add triples copies them first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import rdflib

import hrkg
from hrkg.content import ContentLayout
from hrkg.shapes import load_reference_graph, load_shapes_graph

#: The checkout root, whose ontology/, queries/ and data/ the tests read.
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def kg() -> hrkg.KnowledgeGraph:
    """The real Mali dataset in a real in-memory Oxigraph store, loaded once per run."""
    return hrkg.open(REPO_ROOT)


@pytest.fixture
def dataset_copy(tmp_path: Path) -> Path:
    """A private copy of the content folder (ontology/, queries/, data/) for tests that write."""
    target = tmp_path / "content"
    for part in ("ontology", "queries", "data"):
        shutil.copytree(REPO_ROOT / part, target / part)
    return target


@pytest.fixture(scope="session")
def layout() -> ContentLayout:
    """The content folder of this checkout."""
    return ContentLayout(REPO_ROOT)


@pytest.fixture(scope="session")
def reference_graph(layout: ContentLayout) -> rdflib.Graph:
    """Ontology, vocabularies and gazetteer in one graph (read-only: copy before adding)."""
    return load_reference_graph(layout)


@pytest.fixture(scope="session")
def shapes_graph(layout: ContentLayout) -> rdflib.Graph:
    """The data shapes: core, recommended and vocabulary (read-only)."""
    return load_shapes_graph(layout)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-expected",
        action="store_true",
        help="rewrite tests/expected/*.json from the current answers (review the diff!)",
    )


@pytest.fixture(scope="session")
def update_expected(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-expected"))
