"""Checks SHACL core cannot express: they need the whole dataset or the ontology's terms.

- a reference to an entity or concept that exists nowhere (a typo in a slug would
  otherwise become a new, empty node);
- a property or class in the project namespace that the ontology does not define (a typo
  in a term name would otherwise become a new property);
- an entity IRI outside the project base, or under it in no known place.

Each finding names the node, the offending IRI and what to do about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyoxigraph import NamedNode, Quad

from hrkg.namespaces import CONCEPT_SCHEMES, ENTITY_KINDS
from hrkg.store import Store
from hrkg.validation.report import HRSH, Finding

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def undefined_terms(added: Iterable[Quad], defined: set[str], base_iri: str) -> list[Finding]:
    """Predicates and classes under ``{base}def/`` that the ontology does not declare."""
    namespace = f"{base_iri}def/"
    findings = []
    for quad in added:
        used = [("property", quad.predicate)]
        if quad.predicate == RDF_TYPE and isinstance(quad.object, NamedNode):
            used.append(("class", quad.object))
        for kind, term in used:
            if term.value.startswith(namespace) and term.value not in defined:
                findings.append(
                    Finding(
                        severity="Violation",
                        focus_node=quad.subject.value,
                        path=quad.predicate.value,
                        value=f"<{term.value}>",
                        message=_undefined_message(kind, term.value[len(namespace) :]),
                        source=f"{HRSH}UndefinedTermCheck",
                        component=f"{HRSH}UndefinedTermComponent",
                    )
                )
    return findings


def _undefined_message(kind: str, local_name: str) -> str:
    return (
        f"the {kind} hr:{local_name} is not defined by the ontology (a typo?): "
        "use a term of ontology/hrkg.ttl, or propose the new term there first"
    )


def dangling_references(added: list[Quad], store: Store, base_iri: str) -> list[Finding]:
    """IRIs under ``{base}id/`` or ``{base}vocab/`` typed nowhere, in the change or the store."""
    typed_here = {quad.subject.value for quad in added if quad.predicate == RDF_TYPE}
    prefixes = (f"{base_iri}id/", f"{base_iri}vocab/")
    findings: dict[tuple[str, str], Finding] = {}
    for quad in added:
        for position, term in (("subject", quad.subject), ("object", quad.object)):
            if not isinstance(term, NamedNode) or not term.value.startswith(prefixes):
                continue
            if term.value in typed_here or _typed_in_store(store, term):
                continue
            key = (quad.subject.value, term.value)
            if key in findings:
                continue
            what = "is described" if position == "subject" else "is referenced"
            findings[key] = Finding(
                severity="Violation",
                focus_node=quad.subject.value,
                path=None if position == "subject" else quad.predicate.value,
                value=f"<{term.value}>",
                message=f"{term.value} {what} but exists nowhere (no rdf:type in the change or "
                "the dataset): check the slug for a typo, or add the entity with its type",
                source=f"{HRSH}DanglingReferenceCheck",
                component=f"{HRSH}DanglingReferenceComponent",
            )
    return list(findings.values())


def _typed_in_store(store: Store, term: NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(term, RDF_TYPE, None, None)), None) is not None


def iris_outside_the_base(added: Iterable[Quad], base_iri: str) -> list[Finding]:
    """Subjects typed with a project class must be ``{base}id/{kind}/{slug}``."""
    classes = f"{base_iri}def/"
    kinds = {f"{base_iri}id/{kind}/" for kind in ENTITY_KINDS.values()}
    vocab = tuple(f"{base_iri}vocab/{scheme}" for scheme in CONCEPT_SCHEMES.values())
    known_kinds = ", ".join(sorted(ENTITY_KINDS.values()))
    findings = []
    for quad in added:
        if quad.predicate != RDF_TYPE or not isinstance(quad.object, NamedNode):
            continue
        if not quad.object.value.startswith(classes):
            continue
        subject = quad.subject.value
        if any(subject.startswith(kind) and len(subject) > len(kind) for kind in kinds):
            continue
        if subject.startswith(vocab):
            continue
        findings.append(
            Finding(
                severity="Violation",
                focus_node=subject,
                path=None,
                value=f"<{subject}>",
                message=f"the entity IRI {subject} is outside the project base: entities are "
                f"named {base_iri}id/{{kind}}/{{slug}} (kinds: {known_kinds})",
                source=f"{HRSH}EntityIriCheck",
                component=f"{HRSH}EntityIriComponent",
            )
        )
    return findings


def label_lookup(added: list[Quad], store: Store) -> Callable[[object], str | None]:
    """A function giving a node's English (or any) label, from the change or the store."""
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    local = {quad.subject.value: quad.object.value for quad in added if quad.predicate == label}

    def label_of(node: object) -> str | None:
        text = str(node)
        if text in local:
            return local[text]
        try:
            subject = NamedNode(text)
        except ValueError:
            return None
        for quad in store.quads_for_pattern(subject, label, None, None):
            return quad.object.value
        return None

    return label_of
