"""The layout of a content folder (ontology/, queries/, data/) and its files by role.

A content folder is what ``--data-dir`` points at. Its layout is the contract written in
``ontology/README.md``; this module is the one place that knows it, so the store, the
validation and the tests find files the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import rdflib

#: Formats understood by suffix, as rdflib / pyoxigraph format names.
RDF_SUFFIXES = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nt": "nt",
    ".nq": "nquads",
    ".jsonld": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
    ".xml": "xml",
}


@dataclass(frozen=True)
class ContentLayout:
    """The files of one content folder, grouped by the graph they load into."""

    root: Path

    @property
    def ontology_file(self) -> Path:
        return self.root / "ontology" / "hrkg.ttl"

    @property
    def gazetteer_file(self) -> Path:
        return self.root / "ontology" / "gazetteer.ttl"

    @property
    def vocabulary_files(self) -> list[Path]:
        return sorted((self.root / "ontology" / "vocabularies").glob("*.ttl"))

    @property
    def shape_files(self) -> list[Path]:
        """Shapes for the data (not the ontology lint)."""
        folder = self.root / "ontology" / "shapes"
        return [path for path in sorted(folder.glob("*.ttl")) if path.name != "ontology-lint.ttl"]

    @property
    def ontology_lint_file(self) -> Path:
        return self.root / "ontology" / "shapes" / "ontology-lint.ttl"

    @property
    def source_graph_files(self) -> list[Path]:
        """One TriG file per source document, each holding exactly that document's graph."""
        return sorted((self.root / "data" / "graphs").glob("*.trig"))

    @property
    def changelog_file(self) -> Path:
        return self.root / "data" / "changelog.trig"

    @property
    def sources_dir(self) -> Path:
        return self.root / "data" / "sources"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    def missing(self) -> list[Path]:
        """Required parts that are absent, so that a wrong --data-dir fails with a clear list."""
        required = [self.ontology_file, self.root / "data" / "graphs", self.queries_dir]
        return [path for path in required if not path.exists()]


def system_graph_iri(base_iri: str, name: str) -> str:
    """The IRI of a system graph: ``ontology``, ``vocabularies``, ``gazetteer``, ``changelog``."""
    return f"{base_iri}graph/{name}"


def load_rdflib_dataset(layout: ContentLayout, base_iri: str) -> rdflib.Dataset:
    """Every file of the folder in an rdflib Dataset, each in the graph it belongs to.

    For validation and tests, where pySHACL needs rdflib graphs; queries go to the
    Oxigraph store instead. System files load into their system graphs; each source file
    keeps the named graph written in it.
    """
    import rdflib

    dataset = rdflib.Dataset()
    system_files = {
        "ontology": [layout.ontology_file],
        "vocabularies": layout.vocabulary_files,
        "gazetteer": [layout.gazetteer_file] if layout.gazetteer_file.exists() else [],
    }
    for name, paths in system_files.items():
        graph = dataset.graph(rdflib.URIRef(system_graph_iri(base_iri, name)))
        for path in paths:
            graph.parse(path, format="turtle")
    data_files = list(layout.source_graph_files)
    if layout.changelog_file.exists():
        data_files.append(layout.changelog_file)
    for path in data_files:
        dataset.parse(path, format="trig")
    return dataset
