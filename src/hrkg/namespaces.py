"""Namespaces: the standard ones taken from rdflib, the project's derived from the base IRI.

Standard namespace IRIs are never typed by hand (a typo there would silently mint a new
vocabulary). The project's prefixes follow the table in ontology/README.md; they move with
the configurable base IRI, so they are computed, not constants.
"""

from __future__ import annotations

from rdflib.namespace import (
    DCTERMS,
    FOAF,
    GEO,
    ORG,
    OWL,
    PROV,
    QB,
    RDF,
    RDFS,
    SH,
    SKOS,
    TIME,
    XSD,
)

from hrkg.settings import DEFAULT_BASE_IRI

STANDARD_PREFIXES: dict[str, str] = {
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "org": str(ORG),
    "foaf": str(FOAF),
    "geo": str(GEO),
    "qb": str(QB),
    "time": str(TIME),
    "sh": str(SH),
}

#: Entity kinds: prefix -> path segment under ``{base}id/``.
ENTITY_KINDS: dict[str, str] = {
    "person": "person",
    "organization": "organization",
    "case": "case",
    "event": "event",
    "action": "legal-action",
    "document": "document",
    "place": "place",
    "observation": "observation",
    "holding": "holding",
    "post": "post",
    "group": "group",
    "concern": "concern",
    "activity": "activity",
    "agent": "agent",
}

#: Concept schemes: prefix -> scheme name under ``{base}vocab/``.
CONCEPT_SCHEMES: dict[str, str] = {
    "vt": "violation-type",
    "cs": "case-status",
    "dt": "document-type",
    "vg": "victim-category",
    "ok": "organization-kind",
    "et": "event-type",
    "lt": "legal-action-type",
    "cq": "count-qualifier",
    "harm": "harm",
    "ind": "indicator",
    "dps": "death-penalty-status",
    "pk": "place-kind",
}


def project_prefixes(base_iri: str = DEFAULT_BASE_IRI) -> dict[str, str]:
    """The project's prefixes under ``base_iri``: ontology, entities and concept schemes."""
    prefixes = {"hr": f"{base_iri}def/", "hrsh": f"{base_iri}shapes/"}
    prefixes.update({prefix: f"{base_iri}id/{kind}/" for prefix, kind in ENTITY_KINDS.items()})
    prefixes.update(
        {prefix: f"{base_iri}vocab/{scheme}/" for prefix, scheme in CONCEPT_SCHEMES.items()}
    )
    prefixes["graph"] = f"{base_iri}graph/"
    return prefixes


def all_prefixes(base_iri: str = DEFAULT_BASE_IRI) -> dict[str, str]:
    """Standard and project prefixes, as written at the top of exports and data files."""
    return {**STANDARD_PREFIXES, **project_prefixes(base_iri)}


def rebase(iri: str, base_iri: str) -> str:
    """Move an IRI written under the default base to ``base_iri`` (others are left alone)."""
    if base_iri != DEFAULT_BASE_IRI and iri.startswith(DEFAULT_BASE_IRI):
        return base_iri + iri[len(DEFAULT_BASE_IRI) :]
    return iri


def expand_curie(value: str, base_iri: str = DEFAULT_BASE_IRI) -> str | None:
    """``person:amadou-sanogo`` -> its full IRI; None when the prefix is not a known one."""
    prefix, sep, local = value.partition(":")
    if not sep or local.startswith("//"):
        return None
    namespace = all_prefixes(base_iri).get(prefix)
    return namespace + local if namespace else None
