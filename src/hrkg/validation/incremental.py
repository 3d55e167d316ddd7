"""Validate a batch of added triples without validating the whole graph.

Full pySHACL validation grows with the graph (tens of seconds at 100k triples), while a
researcher's change touches a few hundred triples. Only some focus nodes can see the change:

1. **Affected focus nodes.** An added triple matters where some shape evaluation reads it:
   at its subject by a forward step with its predicate (or any predicate, ``sh:closed``),
   at its object by a backward step. From those places the walk of
   :class:`~hrkg.validation.shape_analysis.ShapeAnalysis` is run backwards, through the
   graph with the change, to the focus states it starts from; a node reached there that
   is a target of that shape is affected. Every other node reads exactly the triples it
   read before the change, so its results cannot differ. A property shape nesting
   ``sh:property`` reports results on its value nodes: those nodes, and every target that
   reports on them, are affected too, since results are told apart by their focus node.
2. **Context.** From each affected node the walk runs forwards, collecting every triple
   it reads: path triples, types and superclasses, all outgoing triples of closed shapes,
   the triples that make the node a target. Validating a focus node on any graph between
   that context and the whole graph gives the same results.
3. **pySHACL** validates the context plus the added triples against a copy of the shapes
   whose targets are replaced by ``sh:targetNode`` for each affected node and shape that
   targets it (:func:`focused_shapes`), so that nodes whose context is partial are not
   validated. pySHACL's own ``focus_nodes=`` option is not used: in pySHACL 0.40 it also
   filters the nodes that nested shapes (``sh:node``, ``sh:and``,
   ``sh:qualifiedValueShape``, …) are evaluated on, so a value node outside the list, and
   any blank node, would conform to them unchecked.

The answer is the validation of the affected nodes, not of the whole graph: nodes the change
cannot reach keep whatever results they had.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyshacl
import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import BNode, Literal, Node

from hrkg.validation.graph_access import GraphAccess, RdflibAccess, Triple, UnionAccess
from hrkg.validation.shape_analysis import Direction, ShapeAnalysis, Step, analyse_shapes

__all__ = [
    "IncrementalResult",
    "ResultKey",
    "affected_focus_nodes",
    "extract_context",
    "focused_shapes",
    "result_keys",
    "validate_change",
    "validate_full",
]

#: A validation result as comparable terms: (focusNode, resultPath, value, sourceShape,
#: sourceConstraintComponent, severity); blank nodes keep the identifiers pySHACL copies
#: from the data and shapes graphs.
ResultKey = tuple[Node | None, ...]

_CONFORMING_SEVERITIES = (SH.Warning, SH.Info)


@dataclass(frozen=True)
class IncrementalResult:
    """The validation of the focus nodes a change can affect."""

    conforms: bool
    report_graph: rdflib.Graph
    results_text: str
    focus_nodes: frozenset[Node]
    context_size: int
    fell_back_to_full: bool
    fallback_reason: str | None = None


class _Targeting:
    """Which shapes target a node, read from the graph and remembered for one change."""

    def __init__(self, analysis: ShapeAnalysis, access: GraphAccess) -> None:
        self.analysis = analysis
        self.access = access
        self._classes: dict[Node, frozenset[Node]] = {}
        self._superclasses: dict[Node, frozenset[Node]] = {}
        self._answers: dict[tuple[Node, Node], bool] = {}

    def classes(self, node: Node) -> frozenset[Node]:
        """The node's types and all their superclasses (``rdf:type/rdfs:subClassOf*``)."""
        if node not in self._classes:
            found: set[Node] = set()
            for _, _, type_ in self.access.triples(node, RDF.type, None):
                found |= self.superclasses(type_)
            self._classes[node] = frozenset(found)
        return self._classes[node]

    def superclasses(self, class_: Node) -> frozenset[Node]:
        """The class and every class it is a subclass of, remembered for the next node."""
        if class_ not in self._superclasses:
            found: set[Node] = set()
            pending = [class_]
            while pending:
                current = pending.pop()
                if current not in found:
                    found.add(current)
                    parents = self.access.triples(current, RDFS.subClassOf, None)
                    pending += [parent for _, _, parent in parents]
            self._superclasses[class_] = frozenset(found)
        return self._superclasses[class_]

    def targets(self, shape: Node, node: Node) -> bool:
        key = (shape, node)
        if key not in self._answers:
            self._answers[key] = self._targets(shape, node)
        return self._answers[key]

    def _targets(self, shape: Node, node: Node) -> bool:
        declared = self.analysis.targets[shape]
        if node in declared.nodes:
            return True
        if declared.classes and not declared.classes.isdisjoint(self.classes(node)):
            return True
        if any(_exists(self.access.triples(node, p, None)) for p in declared.subjects_of):
            return True
        return any(_exists(self.access.triples(None, p, node)) for p in declared.objects_of)

    def shapes_targeting(self, node: Node) -> list[Node]:
        return [shape for shape in self.analysis.entries if self.targets(shape, node)]


def _exists(triples: Iterator[Triple]) -> bool:
    return next(triples, None) is not None


def _read(access: GraphAccess, node: Node, step: Step) -> Iterator[tuple[Triple, Node]]:
    """The triples a step reads at a node, each with the node it leads to."""
    if step.direction is Direction.FORWARD:
        for triple in access.triples(node, step.predicate, None):
            yield triple, triple[2]
    else:
        for triple in access.triples(None, step.predicate, node):
            yield triple, triple[0]


def _step_back(access: GraphAccess, node: Node, step: Step) -> Iterator[Node]:
    """The nodes from which ``step`` leads to ``node``."""
    if step.direction is Direction.FORWARD:
        for subject, _, _ in access.triples(None, step.predicate, node):
            yield subject
    else:
        for _, _, obj in access.triples(node, step.predicate, None):
            yield obj


def affected_focus_nodes(
    analysis: ShapeAnalysis, access: GraphAccess, added: rdflib.Graph
) -> set[Node]:
    """The nodes whose validation results the added triples can alter, in the graph with them.

    ``access`` reads the existing graph; the walk runs over it together with ``added``.
    These are the targets whose evaluation reads an added triple and, when a property shape
    nests ``sh:property``, the value nodes such an evaluation reports results on, with every
    other target that reports results on those same nodes.
    """
    union = UnionAccess(access, RdflibAccess(added))
    targeting = _Targeting(analysis, union)
    pending: list[tuple[Node, int]] = []
    for subject, predicate, obj in added:
        pending += [(subject, s) for s in analysis.readers(predicate, Direction.FORWARD)]
        pending += [(obj, s) for s in analysis.readers(predicate, Direction.BACKWARD)]
    affected = _walk_back(analysis, union, targeting, pending, analysis.epsilon_into)
    if not analysis.results_stay_on_focus:
        affected = _close_over_reports(analysis, union, targeting, affected)
    return affected


def _walk_back(
    analysis: ShapeAnalysis,
    access: GraphAccess,
    targeting: _Targeting,
    start: list[tuple[Node, int]],
    free_into: Callable[[int], frozenset[int]],
) -> set[Node]:
    """The targets whose focus state leads to one of the ``(node, state)`` configurations."""
    pending = list(start)
    seen = set(pending)
    found: set[Node] = set()
    while pending:
        node, state = pending.pop()
        shape = analysis.entry_shape(state)
        if shape is not None and targeting.targets(shape, node):
            found.add(node)
        earlier = [(node, previous) for previous in free_into(state)]
        for step, previous in analysis.moves_into(state):
            earlier += [(other, previous) for other in _step_back(access, node, step)]
        for configuration in earlier:
            if configuration not in seen:
                seen.add(configuration)
                pending.append(configuration)
    return found


def _reported_on(
    analysis: ShapeAnalysis, access: GraphAccess, targeting: _Targeting, focus: Node
) -> set[Node]:
    """The nodes the evaluation of a target reports results on: itself, and the value
    nodes reached through ``sh:property`` nested in property shapes."""
    pending = [(focus, analysis.entries[s]) for s in targeting.shapes_targeting(focus)]
    seen = set(pending)
    found = {focus}
    while pending:
        node, state = pending.pop()
        if state in analysis.shape_states:
            found.add(node)
        following = [(node, target) for target in analysis.passing[state]]
        for step, target in analysis.moves[state]:
            following += [(reached, target) for _, reached in _read(access, node, step)]
        for configuration in following:
            if configuration not in seen:
                seen.add(configuration)
                pending.append(configuration)
    return found


def _close_over_reports(
    analysis: ShapeAnalysis, access: GraphAccess, targeting: _Targeting, affected: set[Node]
) -> set[Node]:
    """Add the nodes affected targets report on, and the targets that report on those.

    A result is compared by its focus node, so a node is only validated completely if every
    evaluation that reports on it is redone on a complete context.
    """
    closed = set(affected)
    pending = list(affected)
    while pending:
        node = pending.pop()
        related = _reported_on(analysis, access, targeting, node)
        start = [(node, state) for state in analysis.shape_states]
        related |= _walk_back(analysis, access, targeting, start, analysis.passing_into)
        for other in related - closed:
            closed.add(other)
            pending.append(other)
    return closed


def extract_context(
    analysis: ShapeAnalysis, access: GraphAccess, focus_nodes: Iterable[Node]
) -> rdflib.Graph:
    """Every triple that validating these focus nodes can read, from the graph ``access``."""
    return _extract(analysis, access, _assignments(analysis, access, focus_nodes))


def _assignments(
    analysis: ShapeAnalysis, access: GraphAccess, focus_nodes: Iterable[Node]
) -> list[tuple[Node, Node]]:
    """The (shape, focus node) pairs to evaluate: each node with the shapes targeting it."""
    targeting = _Targeting(analysis, access)
    return [(shape, node) for node in focus_nodes for shape in targeting.shapes_targeting(node)]


def _extract(
    analysis: ShapeAnalysis, access: GraphAccess, assignments: list[tuple[Node, Node]]
) -> rdflib.Graph:
    context = rdflib.Graph()
    pending = [(node, analysis.entries[shape]) for shape, node in assignments]
    seen: set[tuple[Node, int]] = set()
    while pending:
        node, state = pending.pop()
        for active in analysis.closure(state):
            if (node, active) in seen:
                continue
            seen.add((node, active))
            for step, following in analysis.moves[active]:
                for triple, reached in _read(access, node, step):
                    context.add(triple)
                    if (reached, following) not in seen:
                        pending.append((reached, following))
    return context


def focused_shapes(
    shapes: rdflib.Graph, analysis: ShapeAnalysis, assignments: Iterable[tuple[Node, Node]]
) -> rdflib.Graph:
    """The shapes graph with its targets replaced by ``sh:targetNode`` for each assignment.

    On the small context, the original targets would also select nodes whose context is
    partial (a document whose type a ``sh:class`` check read) and report on them wrongly;
    explicit target nodes make pySHACL evaluate each affected node against exactly the
    shapes that target it in the whole graph. Shapes keep their identity, so results name
    the same source shapes.
    """
    implicit = {shape for shape, targets in analysis.targets.items() if shape in targets.classes}
    focused = rdflib.Graph()
    for prefix, namespace in shapes.namespace_manager.namespaces():
        focused.bind(prefix, namespace)
    for triple in shapes:
        subject, predicate, obj = triple
        if predicate in _TARGET_PREDICATES:
            continue
        if subject in implicit and predicate == RDF.type and obj not in _SHAPE_TYPES:
            continue
        focused.add(triple)
    for shape, node in assignments:
        focused.add((shape, SH.targetNode, node))
    return focused


_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_SHAPE_TYPES = (SH.NodeShape, SH.PropertyShape, SH.Shape)


def validate_full(shapes: rdflib.Graph, graph: rdflib.Graph) -> tuple[bool, rdflib.Graph, str]:
    """pySHACL on the whole graph, with the options the incremental path uses."""
    conforms, report, text = pyshacl.validate(
        graph,
        shacl_graph=shapes,
        inference="none",
        advanced=False,
        allow_warnings=True,
    )
    return bool(conforms), report, text


def validate_change(
    shapes: rdflib.Graph,
    existing: GraphAccess,
    added: rdflib.Graph,
    *,
    analysis: ShapeAnalysis | None = None,
) -> IncrementalResult:
    """Validate ``existing`` plus ``added``, for the focus nodes the addition can affect.

    Pass ``analysis`` (from :func:`~hrkg.validation.shape_analysis.analyse_shapes` on the
    same shapes) to reuse it across changes. Shapes that use SHACL-SPARQL cannot be
    analysed: the whole graph is then read from ``existing`` and validated in full, and
    the result says so.
    """
    if analysis is None:
        analysis = analyse_shapes(shapes)
    if analysis.unsupported:
        return _validate_everything(shapes, existing, added, "; ".join(analysis.unsupported))
    focus = affected_focus_nodes(analysis, existing, added)
    if not focus:
        report = _report_graph(shapes, True, [])
        return IncrementalResult(True, report, _text(True, report), frozenset(), 0, False)
    union = UnionAccess(existing, RdflibAccess(added))
    assignments = _assignments(analysis, union, focus)
    data = _extract(analysis, union, assignments)
    data += added
    _, everything, _ = validate_full(focused_shapes(shapes, analysis, assignments), data)
    # Every result is on an affected node already; restricting keeps that a guarantee.
    conforms, report = _restrict_report(shapes, everything, focus)
    return IncrementalResult(
        conforms, report, _text(conforms, report), frozenset(focus), len(data), False
    )


def _validate_everything(
    shapes: rdflib.Graph, existing: GraphAccess, added: rdflib.Graph, reason: str
) -> IncrementalResult:
    graph = rdflib.Graph()
    for triple in existing.triples(None, None, None):
        graph.add(triple)
    graph += added
    conforms, report, text = validate_full(shapes, graph)
    return IncrementalResult(conforms, report, text, frozenset(), len(graph), True, reason)


def result_keys(report: rdflib.Graph) -> set[ResultKey]:
    """The results of a report as comparable tuples (see :data:`ResultKey`)."""
    fields = (
        SH.focusNode,
        SH.resultPath,
        SH.value,
        SH.sourceShape,
        SH.sourceConstraintComponent,
        SH.resultSeverity,
    )
    return {tuple(report.value(result, field) for field in fields) for result in _results(report)}


def _results(report: rdflib.Graph) -> list[Node]:
    """The results of the report itself, not the details nested in them (``sh:detail``)."""
    return [
        result
        for root in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(root, SH.result)
    ]


# -- reports restricted to the affected focus nodes ---------------------------------------


def _restrict_report(
    shapes: rdflib.Graph, report: rdflib.Graph, focus: set[Node]
) -> tuple[bool, rdflib.Graph]:
    kept = [result for result in _results(report) if report.value(result, SH.focusNode) in focus]
    conforms = all(
        report.value(result, SH.resultSeverity) in _CONFORMING_SEVERITIES for result in kept
    )
    triples = [triple for result in kept for triple in _description(report, result)]
    return conforms, _report_graph(shapes, conforms, triples, kept)


def _description(graph: rdflib.Graph, node: Node) -> Iterator[Triple]:
    """The triples of a node and of the blank nodes it leads to (paths, copied values)."""
    seen = {node}
    pending = [node]
    while pending:
        current = pending.pop()
        for triple in graph.triples((current, None, None)):
            yield triple
            obj = triple[2]
            if isinstance(obj, BNode) and obj not in seen:
                seen.add(obj)
                pending.append(obj)


def _report_graph(
    shapes: rdflib.Graph,
    conforms: bool,
    triples: Iterable[Triple],
    results: Iterable[Node] = (),
) -> rdflib.Graph:
    report = rdflib.Graph(bind_namespaces="core")
    for prefix, namespace in shapes.namespace_manager.namespaces():
        report.bind(prefix, namespace)
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    report.add((root, SH.conforms, Literal(conforms)))
    for result in results:
        report.add((root, SH.result, result))
    for triple in triples:
        report.add(triple)
    return report


def _text(conforms: bool, report: rdflib.Graph) -> str:
    """A results text in the manner of pySHACL's, for reports this module assembles."""
    results = sorted(_results(report), key=str)
    lines = ["Validation Report", f"Conforms: {conforms}"]
    if results:
        lines.append(f"Results ({len(results)}):")
    names = report.namespace_manager
    for result in results:
        component = report.value(result, SH.sourceConstraintComponent)
        severity = report.value(result, SH.resultSeverity)
        lines.append(f"Constraint {_local(severity)} in {_local(component)}:")
        for label, field in (
            ("Severity", SH.resultSeverity),
            ("Source Shape", SH.sourceShape),
            ("Focus Node", SH.focusNode),
            ("Value Node", SH.value),
            ("Result Path", SH.resultPath),
            ("Message", SH.resultMessage),
        ):
            value = report.value(result, field)
            if value is not None:
                shown = str(value) if isinstance(value, Literal) else value.n3(names)
                lines.append(f"\t{label}: {shown}")
    return "\n".join(lines) + "\n"


def _local(term: Node | None) -> str:
    if term is None:
        return "unknown"
    text = str(term)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
