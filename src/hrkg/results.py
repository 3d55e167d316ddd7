"""Query answers as tables, and their formats: SPARQL 1.1 JSON, CSV and TSV, Markdown, text.

A :class:`Table` holds RDF terms, not strings, so that each format writes them the way
its specification says (CSV: plain values; TSV and JSON: typed terms) and the display
formats can shorten IRIs to prefixed names.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode

Term = NamedNode | BlankNode | Literal
FORMATS = ("table", "csv", "tsv", "json", "md")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "table": "text/plain; charset=utf-8",
}
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass
class Table:
    """The rows of a SELECT answer, in order; ``None`` is an unbound cell."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    #: True when a row cap cut the answer short (the formats say so).
    truncated: bool = False

    def records(self) -> list[dict[str, Term]]:
        """Rows as mappings of variable to term, unbound cells left out."""
        return [
            {name: term for name, term in zip(self.variables, row, strict=True) if term is not None}
            for row in self.rows
        ]

    def values(self) -> list[dict[str, str | None]]:
        """Rows as mappings of variable to the plain value (IRI or lexical form)."""
        return [
            {
                name: None if term is None else term.value
                for name, term in zip(self.variables, row, strict=True)
            }
            for row in self.rows
        ]

    def without(self, names: Iterable[str]) -> Table:
        """The same table without some columns (the bound parameters of a stored query)."""
        keep = [i for i, name in enumerate(self.variables) if name not in set(names)]
        return Table(
            [self.variables[i] for i in keep],
            [tuple(row[i] for i in keep) for row in self.rows],
            self.truncated,
        )

    def __len__(self) -> int:
        return len(self.rows)


def compact(iri: str, prefixes: Mapping[str, str]) -> str:
    """The shortest prefixed name for ``iri``, or the IRI itself."""
    best = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            local = iri[len(namespace) :]
            if local and all(char.isalnum() or char in "-_." for char in local):
                best = prefix
    return f"{best}:{iri[len(prefixes[best]) :]}" if best else iri


def display(term: Term | None, prefixes: Mapping[str, str]) -> str:
    """A short human reading of a term: prefixed names, lexical forms, language shown."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return compact(term.value, prefixes)
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return term.value


def term_to_json(term: Term) -> dict[str, str]:
    """One RDF term in the SPARQL 1.1 Query Results JSON form."""
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    encoded = {"type": "literal", "value": term.value}
    if term.language:
        encoded["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        encoded["datatype"] = term.datatype.value
    return encoded


def to_json(table: Table) -> str:
    """SPARQL 1.1 Query Results JSON (https://www.w3.org/TR/sparql11-results-json/)."""
    bindings = [
        {
            name: term_to_json(term)
            for name, term in zip(table.variables, row, strict=True)
            if term is not None
        }
        for row in table.rows
    ]
    document = {"head": {"vars": table.variables}, "results": {"bindings": bindings}}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def to_csv(table: Table) -> str:
    """SPARQL 1.1 CSV: plain values, CRLF line ends (https://www.w3.org/TR/sparql11-results-csv-tsv/)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.variables)
    for row in table.rows:
        writer.writerow(["" if term is None else term.value for term in row])
    return buffer.getvalue()


def to_tsv(table: Table) -> str:
    """SPARQL 1.1 TSV: a ``?var`` header, then terms in their Turtle/N-Triples form."""
    lines = ["\t".join(f"?{name}" for name in table.variables)]
    for row in table.rows:
        lines.append("\t".join("" if term is None else str(term) for term in row))
    return "\n".join(lines) + "\n"


def to_xml(table: Table) -> str:
    """SPARQL Query Results XML (https://www.w3.org/TR/rdf-sparql-XMLres/)."""
    from xml.sax.saxutils import escape, quoteattr

    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
        "<head>",
        *(f"<variable name={quoteattr(name)}/>" for name in table.variables),
        "</head>",
        "<results>",
    ]
    for row in table.rows:
        lines.append("<result>")
        for name, term in zip(table.variables, row, strict=True):
            if term is None:
                continue
            if isinstance(term, NamedNode):
                value = f"<uri>{escape(term.value)}</uri>"
            elif isinstance(term, BlankNode):
                value = f"<bnode>{escape(term.value)}</bnode>"
            elif term.language:
                value = (
                    f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
                )
            elif term.datatype.value != XSD_STRING:
                datatype = quoteattr(term.datatype.value)
                value = f"<literal datatype={datatype}>{escape(term.value)}</literal>"
            else:
                value = f"<literal>{escape(term.value)}</literal>"
            lines.append(f"<binding name={quoteattr(name)}>{value}</binding>")
        lines.append("</result>")
    lines += ["</results>", "</sparql>"]
    return "\n".join(lines) + "\n"


def boolean_document(value: bool, fmt: str) -> str:
    """An ASK answer in SPARQL JSON or XML (CSV/TSV have no boolean form; JSON is used)."""
    if fmt == "xml":
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        )
    return json.dumps({"head": {}, "boolean": value}) + "\n"


def to_markdown(table: Table, prefixes: Mapping[str, str]) -> str:
    """A GitHub-flavoured Markdown table, for notes and reports."""

    def cell(term: Term | None) -> str:
        return display(term, prefixes).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(table.variables) + " |",
        "|" + "---|" * len(table.variables),
    ]
    lines += ["| " + " | ".join(cell(term) for term in row) + " |" for row in table.rows]
    if table.truncated:
        lines.append(f"\n(first {len(table)} rows only: the answer was cut at the row limit)")
    return "\n".join(lines) + "\n"


def render(table: Table, fmt: str, prefixes: Mapping[str, str]) -> str:
    """The table in one of :data:`FORMATS` other than ``table`` (which the CLI draws)."""
    if fmt == "json":
        return to_json(table)
    if fmt == "csv":
        return to_csv(table)
    if fmt == "tsv":
        return to_tsv(table)
    if fmt == "xml":
        return to_xml(table)
    if fmt in {"md", "table"}:
        return to_markdown(table, prefixes)
    raise ValueError(f"unknown result format {fmt!r}; choose one of {', '.join(FORMATS)}")
