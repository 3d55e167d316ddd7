"""The outcome of a validation: findings a researcher can act on, in three forms.

SHACL results (from pySHACL) and hrkg's own integrity checks (dangling references,
undefined terms, IRIs outside the base) become the same :class:`Finding`, so that one
report lists every problem. It renders as a table (the CLI), as JSON, and as a standard
``sh:ValidationReport`` in Turtle for SHACL tools.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import rdflib
from rdflib.namespace import RDF, SH, XSD

SEVERITIES = ("Violation", "Warning", "Info")
#: Components of hrkg's own checks, in the shapes namespace so reports can name them.
HRSH = rdflib.Namespace("https://w3id.org/hrkg/shapes/")


@dataclass(frozen=True)
class Finding:
    """One problem: where (focus node, path), what (value, message), how bad (severity)."""

    severity: str
    focus_node: str
    path: str | None
    value: str | None
    message: str
    source: str
    component: str
    focus_label: str | None = None
    location: str | None = None

    def sort_key(self) -> tuple[int, str, str, str, str]:
        """Violations first, then by node, path, value and message (None sorts first)."""
        rank = SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)
        return (rank, self.focus_node, self.path or "", self.value or "", self.message)


@dataclass
class Report:
    """Every finding of one validation, and what was looked at."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    new_triples: int = 0
    focus_nodes: int = 0
    context_triples: int = 0
    fast_path: bool = True

    @property
    def violations(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "Warning"]

    def conforms(self, *, strict: bool = False) -> bool:
        """No violation (and, when strict, no warning either)."""
        return not self.violations and not (strict and self.warnings)

    def exit_code(self, *, strict: bool = False) -> int:
        """0 conforms, 1 does not (the CLI's documented codes)."""
        return 0 if self.conforms(strict=strict) else 1

    def to_json(self) -> str:
        document = {
            "conforms": self.conforms(),
            "files": self.files,
            "newTriples": self.new_triples,
            "focusNodes": self.focus_nodes,
            "contextTriples": self.context_triples,
            "fastPath": self.fast_path,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [asdict(finding) for finding in sorted(self.findings, key=Finding.sort_key)],
        }
        return json.dumps(document, ensure_ascii=False, indent=1) + "\n"

    def to_graph(self) -> rdflib.Graph:
        """A standard ``sh:ValidationReport`` (https://www.w3.org/TR/shacl/#validation-report)."""
        graph = rdflib.Graph()
        graph.bind("sh", SH)
        graph.bind("hrsh", HRSH)
        report = rdflib.BNode("report")
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, rdflib.Literal(self.conforms(), datatype=XSD.boolean)))
        for index, finding in enumerate(sorted(self.findings, key=Finding.sort_key)):
            result = rdflib.BNode(f"result{index}")
            graph.add((report, SH.result, result))
            graph.add((result, RDF.type, SH.ValidationResult))
            graph.add((result, SH.resultSeverity, SH[finding.severity]))
            graph.add((result, SH.focusNode, _node(finding.focus_node)))
            graph.add((result, SH.resultMessage, rdflib.Literal(finding.message)))
            graph.add((result, SH.sourceConstraintComponent, rdflib.URIRef(finding.component)))
            graph.add((result, SH.sourceShape, _node(finding.source)))
            if finding.path:
                graph.add((result, SH.resultPath, rdflib.URIRef(finding.path)))
            if finding.value is not None:
                graph.add((result, SH.value, _value(finding.value)))
        return graph

    def to_turtle(self) -> str:
        return self.to_graph().serialize(format="turtle")


def _node(text: str) -> rdflib.term.Node:
    return rdflib.BNode(text[2:]) if text.startswith("_:") else rdflib.URIRef(text)


def _value(text: str) -> rdflib.term.Node:
    """Values are kept as their N-Triples text; IRIs come back as IRIs."""
    if text.startswith("<") and text.endswith(">"):
        return rdflib.URIRef(text[1:-1])
    return rdflib.Literal(text)


def findings_from_shacl(
    report_graph: rdflib.Graph, label_of: Callable[[rdflib.term.Node], str | None]
) -> list[Finding]:
    """pySHACL's report graph as findings, with the focus node's label for readers."""
    findings = []
    for result in report_graph.subjects(RDF.type, SH.ValidationResult):
        focus = report_graph.value(result, SH.focusNode)
        path = report_graph.value(result, SH.resultPath)
        value = report_graph.value(result, SH.value)
        severity = report_graph.value(result, SH.resultSeverity)
        messages = sorted(str(m) for m in report_graph.objects(result, SH.resultMessage))
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
                focus_node=_text(focus),
                path=str(path)
                if isinstance(path, rdflib.URIRef)
                else (_text(path) if path else None),
                value=value.n3() if value is not None else None,
                message=messages[0] if messages else "constraint not met",
                source=_text(report_graph.value(result, SH.sourceShape)),
                component=str(report_graph.value(result, SH.sourceConstraintComponent)),
                focus_label=label_of(focus) if focus is not None else None,
            )
        )
    return findings


def _text(node: rdflib.term.Node | None) -> str:
    if node is None:
        return ""
    return f"_:{node}" if isinstance(node, rdflib.BNode) else str(node)


def merge(reports: Iterable[Report]) -> Report:
    """One report for several checks of the same change."""
    merged = Report()
    for report in reports:
        merged.findings += report.findings
        merged.files += [name for name in report.files if name not in merged.files]
        merged.new_triples += report.new_triples
        merged.focus_nodes += report.focus_nodes
        merged.context_triples += report.context_triples
        merged.fast_path = merged.fast_path and report.fast_path
    return merged
