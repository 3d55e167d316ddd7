"""Adding triples to the dataset: validate first, then write, so nothing is ever lost.

``add`` reads a file, places its triples in the named graph of their source document,
validates them in the context of everything already stored, and only then writes the
source's TriG file and a PROV record in the changelog graph, as one crash-safe commit
under the dataset lock. A refused or interrupted addition leaves every file as it was.

On a knowledge graph opened on a SPARQL server (``--endpoint``), the triples are
validated against the server's data and written there instead, with their record, in one
SPARQL Update request (``--update-endpoint``); the local files are not touched.

No lock spans processes on a server, so an addition there is written only if the server
still holds what it was validated against: ``plan`` counts the additions the changelog
records, and the update inserts on condition that the count is unchanged. Another ``hrkg
add`` that landed in between makes the write a no-op, which the addition finds by asking
for its own record, and reports as :class:`AdditionConflict`: nothing written, run it
again. The count is checked inside the update, so what is left is the server's own
isolation between two updates arriving together; writes that bypass hrkg (another tool's
SPARQL Update) are not seen.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from hrkg.content import system_graph_iri
from hrkg.data_files import canonical_trig, commit_files, dataset_lock, read_trig, recover
from hrkg.errors import HrkgError
from hrkg.input_files import InputError, read_input
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.validation.gate import validate_quads
from hrkg.validation.report import Report

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
PROV_ACTIVITY = NamedNode(PROV + "Activity")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class AdditionRefused(HrkgError):
    """The change does not validate; nothing was written. ``report`` says why."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(
            f"the addition was refused: {len(report.violations)} violation(s); nothing was written",
            hint="fix the findings listed above, then run `hrkg add` again",
        )


class AdditionConflict(HrkgError):
    """The server's changelog changed between validating an addition and writing it."""

    def __init__(self, update_url: str) -> None:
        super().__init__(
            "another addition reached the server while this one was being validated, and "
            "this one was not validated beside it; nothing was written",
            where=update_url,
            hint="run `hrkg add` again: it validates against what the server holds now",
        )


@dataclass
class Addition:
    """What an addition brings (``--dry-run`` shows it) or brought."""

    source: str
    #: The TriG file written; None when the addition goes to a SPARQL server.
    target_file: Path | None
    new_quads: list[Quad]
    already_present: int
    new_source: bool
    report: Report
    counts_by_class: dict[str, int] = field(default_factory=dict)
    written: bool = False
    activity: str | None = None
    #: On a server: the additions its changelog recorded when this one was validated.
    validated_against: int | None = None


def source_slug(kg: KnowledgeGraph, source: str) -> str:
    """The document slug of a ``--source`` IRI (or prefixed name), which names its file."""
    from hrkg.namespaces import expand_curie

    iri = expand_curie(source, kg.settings.base_iri) or source
    prefix = f"{kg.settings.base_iri}id/document/"
    slug = iri[len(prefix) :] if iri.startswith(prefix) else ""
    if not _SLUG.match(slug):
        raise HrkgError(
            f"--source {source!r} is not a source document IRI",
            hint=f"give {prefix}{{slug}} (or document:{{slug}}), the slug in a-z, 0-9 and '-'",
        )
    return slug


def plan(
    kg: KnowledgeGraph, path: Path, source: str, declared_format: str | None = None
) -> Addition:
    """Read, place and validate the file's triples; write nothing."""
    slug = source_slug(kg, source)
    graph = NamedNode(f"{kg.settings.base_iri}id/document/{slug}")
    parsed = read_input(
        path, declared_format=declared_format, max_bytes=kg.settings.max_input_bytes
    )
    quads = []
    for quad in parsed.quads:
        if isinstance(quad.graph_name, NamedNode) and quad.graph_name != graph:
            raise InputError(
                f"the file puts triples in graph <{quad.graph_name.value}>, "
                f"not in the source <{graph.value}>",
                where=str(path),
                hint="add one source at a time: --source names the graph every triple goes to",
            )
        quads.append(Quad(quad.subject, quad.predicate, quad.object, graph))
    # Counted before anything is read, so that an addition landing later changes it.
    validated_against = recorded_additions(kg) if kg.endpoint is not None else None
    existing = set(kg.store.quads(graph))
    new_quads = sorted(set(quads) - existing, key=str)
    if kg.endpoint is None:
        target: Path | None = kg.layout.root / "data" / "graphs" / f"{slug}.trig"
        new_source = not target.exists()
    else:
        target, new_source = None, not existing
    if new_source:
        _require_described_source(graph, quads, path)
    report = validate_quads(kg, new_quads, files=[str(path)])
    report.findings += _quote_findings(kg, graph, quads)
    counts = Counter(
        quad.object.value.rsplit("/", 1)[-1]
        for quad in new_quads
        if quad.predicate == RDF_TYPE and isinstance(quad.object, NamedNode)
    )
    return Addition(
        source=graph.value,
        target_file=target,
        new_quads=new_quads,
        already_present=len(quads) - len(set(quads) - existing),
        new_source=new_source,
        report=report,
        counts_by_class=dict(sorted(counts.items())),
        validated_against=validated_against,
    )


def _require_described_source(graph: NamedNode, quads: list[Quad], path: Path) -> None:
    about = {quad.predicate.value for quad in quads if quad.subject == graph}
    needed = {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "rdf:type hr:Document",
        "http://purl.org/dc/terms/title": "dcterms:title",
        "http://purl.org/dc/terms/type": "dcterms:type (dt:report, dt:press-release, …)",
    }
    missing = [label for predicate, label in needed.items() if predicate not in about]
    if missing:
        raise InputError(
            f"<{graph.value}> is a new source, and the file does not describe it",
            where=str(path),
            hint="describe the document in the file: "
            + ", ".join(missing)
            + " (and its date, publisher)",
        )


def _quote_findings(kg: KnowledgeGraph, graph: NamedNode, quads: list[Quad]) -> list:
    """Every hr:quote must be an exact passage of the source's text file, when there is one."""
    from hrkg.validation.report import HRSH, Finding

    quote = NamedNode(f"{kg.settings.base_iri}def/quote")
    source_file = NamedNode(f"{kg.settings.base_iri}def/sourceFile")
    names = {q.object.value for q in quads if q.subject == graph and q.predicate == source_file}
    names |= {
        q.object.value
        for q in kg.store.quads(graph)
        if q.subject == graph and q.predicate == source_file
    }
    texts = []
    for name in sorted(names):
        text_path = kg.layout.sources_dir / name
        if text_path.is_file():
            texts.append(text_path.read_text(encoding="utf-8"))
    if not texts:
        return []
    findings = []
    for q in quads:
        if q.predicate == quote and not any(q.object.value in text for text in texts):
            findings.append(
                Finding(
                    severity="Violation",
                    focus_node=q.subject.value,
                    path=quote.value,
                    value=f'"{q.object.value[:60]}…"',
                    message="the quote is not an exact passage of the source text "
                    f"({', '.join(sorted(names))}): copy it verbatim, quotes and dashes included",
                    source=f"{HRSH}QuoteCheck",
                    component=f"{HRSH}QuoteComponent",
                )
            )
    return findings


def add(
    kg: KnowledgeGraph,
    path: Path,
    source: str,
    *,
    agent: str | None = None,
    dry_run: bool = False,
    declared_format: str | None = None,
    strict: bool = False,
) -> Addition:
    """Validate ``path`` and, unless ``dry_run``, write it into its source's graph file."""
    if kg.endpoint is not None and not dry_run and not kg.endpoint.update_url:
        raise HrkgError(
            "`hrkg add` on a SPARQL server writes with SPARQL Update, and no Update URL is given",
            hint="give --update-endpoint URL too (Oxigraph server: …/update; Virtuoso: "
            "…/sparql-auth with --endpoint-auth digest), or --dry-run to validate only",
        )
    addition = plan(kg, path, source, declared_format)
    if not addition.report.conforms(strict=strict):
        raise AdditionRefused(addition.report)
    if dry_run or not addition.new_quads:
        return addition
    return write(kg, addition, path, agent)


def write(kg: KnowledgeGraph, addition: Addition, path: Path, agent: str | None = None) -> Addition:
    """Write a planned, conforming addition and its record (``add`` without the checks)."""
    if kg.endpoint is not None:
        return _add_on_server(kg, addition, path, agent or _default_agent())
    assert addition.target_file is not None
    data_dir = kg.layout.root / "data"
    with dataset_lock(data_dir):
        recover(data_dir)
        current = read_trig(addition.target_file) if addition.target_file.exists() else []
        merged = set(current) | set(addition.new_quads)
        activity = _activity_quads(
            kg, addition, path, agent or _default_agent(), len(merged) - len(current)
        )
        changelog = kg.layout.changelog_file
        history = read_trig(changelog) if changelog.exists() else []
        commit_files(
            data_dir,
            {
                addition.target_file: canonical_trig(merged),
                changelog: canonical_trig([*history, *activity]),
            },
        )
    kg.store.extend([*addition.new_quads, *activity])
    addition.written = True
    addition.activity = activity[0].subject.value
    return addition


def _add_on_server(kg: KnowledgeGraph, addition: Addition, path: Path, agent: str) -> Addition:
    """Write the new triples and their record on the server in one request, if its
    changelog is as it was when they were validated (see the module)."""
    from hrkg.push import insert_quads

    assert kg.endpoint is not None and addition.validated_against is not None
    activity = _activity_quads(kg, addition, path, agent, len(addition.new_quads))
    unchanged = f"{{ {_count_additions(kg)} }}\nFILTER(?additions = {addition.validated_against})"
    insert_quads(kg.endpoint, [*addition.new_quads, *activity], where=unchanged)
    record = activity[0].subject
    if not kg.store.query(f"ASK {{ GRAPH {_changelog(kg)} {{ {record} a {PROV_ACTIVITY} }} }}"):
        raise AdditionConflict(kg.endpoint.update_url or "")
    addition.written = True
    addition.activity = record.value
    return addition


def _changelog(kg: KnowledgeGraph) -> NamedNode:
    return NamedNode(system_graph_iri(kg.settings.base_iri, "changelog"))


def _count_additions(kg: KnowledgeGraph) -> str:
    """A SELECT binding ``?additions`` to the number of additions the changelog records."""
    addition = NamedNode(f"{kg.settings.base_iri}def/Addition")
    return (
        "SELECT (COUNT(DISTINCT ?recorded) AS ?additions) "
        f"WHERE {{ GRAPH {_changelog(kg)} {{ ?recorded a {addition} }} }}"
    )


def recorded_additions(kg: KnowledgeGraph) -> int:
    """How many additions the changelog records: the version of the dataset on a server
    that an addition is validated against."""
    answer = kg.store.query(_count_additions(kg))
    return int(answer.rows[0][0].value)  # type: ignore[union-attr]


def _default_agent() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _activity_quads(
    kg: KnowledgeGraph, addition: Addition, path: Path, agent: str, count: int
) -> list[Quad]:
    """A PROV activity recording the addition: when, what file, which source, who, how many."""
    base = kg.settings.base_iri
    graph = NamedNode(system_graph_iri(base, "changelog"))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    activity = NamedNode(f"{base}id/activity/{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    agent_slug = re.sub(r"[^a-z0-9]+", "-", agent.lower()).strip("-") or "unknown"
    agent_node = NamedNode(f"{base}id/agent/{agent_slug}")
    hr = f"{base}def/"
    timestamp = Literal(
        now.isoformat().replace("+00:00", "Z"), datatype=NamedNode(XSD + "dateTime")
    )
    facts = [
        (activity, RDF_TYPE, NamedNode(PROV + "Activity")),
        (activity, RDF_TYPE, NamedNode(hr + "Addition")),
        (
            activity,
            RDFS_LABEL,
            Literal(f"addition of {count} triples from {path.name}", language="en"),
        ),
        (activity, NamedNode(PROV + "endedAtTime"), timestamp),
        (activity, NamedNode(PROV + "wasAssociatedWith"), agent_node),
        (activity, NamedNode(hr + "inputFile"), Literal(path.name)),
        (activity, NamedNode(hr + "targetGraph"), NamedNode(addition.source)),
        (
            activity,
            NamedNode(hr + "tripleCount"),
            Literal(str(count), datatype=NamedNode(XSD + "integer")),
        ),
        (agent_node, RDF_TYPE, NamedNode(PROV + "Agent")),
        (agent_node, RDFS_LABEL, Literal(agent)),
    ]
    return [Quad(s, p, o, graph) for s, p, o in facts]
