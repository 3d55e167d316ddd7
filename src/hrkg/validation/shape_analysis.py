"""What a SHACL shapes graph reads of the data graph, worked out once from the shapes.

Validating one focus node reads only triples reachable from it along the shapes' paths.
To find those triples (to extract a small context) and, backwards, the focus nodes an
added triple can reach, this module compiles the shapes graph into a finite automaton over
*steps*: an edge ``(predicate, direction)`` followed from the current node. Its states are

- the *focus* state of each shape with targets: it reads what decides whether a node is a
  target (``rdf:type`` and ``rdfs:subClassOf*`` for class targets, the triples of
  ``sh:targetSubjectsOf`` / ``sh:targetObjectsOf``) and moves, without a step, to
- the *shape* state of every shape, where a property shape starts its ``sh:path`` (a
  Thompson automaton: sequence, alternative, inverse, zero-or-more, one-or-more,
  zero-or-one) and a property-pair constraint reads one predicate of the focus node, to
- the *value* state of the shape, which reads the types of the value node (``sh:class``),
  all its outgoing triples (``sh:closed``), and moves without a step to the shape state of
  every shape evaluated on it (``sh:node``, ``sh:property``, ``sh:and``/``sh:or``/``sh:xone``
  members, ``sh:not``, ``sh:qualifiedValueShape`` and its disjoint siblings).

Most constraints report a result on the focus node they were evaluated from, however deep
they looked (``sh:node`` wraps the nested results into one). ``sh:property`` does not: the
results of a property shape nested in another come out with the *value node* as their focus
node. The ε-moves that carry results out unwrapped (entering a shape from its focus state,
``sh:property``, and those inside paths) are also kept apart as *passing* moves, so that
:mod:`~hrkg.validation.incremental` can find every node a result can be reported on.

Constraints that look only at the value nodes themselves (``sh:datatype``, ``sh:in``,
``sh:hasValue``, ``sh:minCount``, ``sh:uniqueLang``, …) need nothing beyond the path, so
they add no step. The automaton follows every branch of ``sh:or`` and both meanings of a
malformed path: it may read more than an evaluation does, never less. Recursive shapes
become cycles, so every walk over it ends.

SHACL-SPARQL (``sh:sparql``, custom constraint components, SPARQL targets) can read any
part of the graph: a shapes graph that uses it is flagged in
:attr:`ShapeAnalysis.unsupported`, and callers validate in full instead.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.term import BNode, Literal, Node, URIRef

__all__ = ["Direction", "ShapeAnalysis", "Step", "Targets", "analyse_shapes"]


class Direction(enum.Enum):
    """Which way a step follows a triple: subject to object, or object to subject."""

    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(frozen=True)
class Step:
    """Follow the triples with this predicate (``None``: any predicate) in this direction."""

    predicate: URIRef | None
    direction: Direction

    def __str__(self) -> str:
        name = "*" if self.predicate is None else self.predicate.n3()
        return name if self.direction is Direction.FORWARD else f"^{name}"


@dataclass(frozen=True)
class Targets:
    """The target declarations of one shape, implicit class targets included."""

    classes: frozenset[Node] = frozenset()
    nodes: frozenset[Node] = frozenset()
    subjects_of: frozenset[URIRef] = frozenset()
    objects_of: frozenset[URIRef] = frozenset()


#: Predicates whose presence means a shape can read beyond its paths (SHACL-SPARQL,
#: SHACL-JS, SHACL-AF targets and rules).
_UNSUPPORTED_PREDICATES = (
    SH.sparql,
    SH.validator,
    SH.nodeValidator,
    SH.propertyValidator,
    SH.target,
    SH.rule,
    SH.js,
)
_UNSUPPORTED_TYPES = (SH.ConstraintComponent, SH.SPARQLConstraint, SH.JSConstraint)
_PAIR_PREDICATES = (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)
_WRAPPING_PREDICATES = (SH.node, SH.qualifiedValueShape, SH["not"])
_SHAPE_LIST_PREDICATES = (SH["and"], SH["or"], SH.xone)
_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_MAX_PATH_DEPTH = 64


@dataclass(frozen=True, repr=False)
class ShapeAnalysis:
    """The automaton of a shapes graph; states are integers, see the module docstring."""

    labels: tuple[str, ...]
    moves: tuple[tuple[tuple[Step, int], ...], ...]
    epsilon: tuple[frozenset[int], ...]
    passing: tuple[frozenset[int], ...]
    shape_states: frozenset[int]
    targets: Mapping[Node, Targets]
    entries: Mapping[Node, int]
    class_shapes: frozenset[Node]
    closed_shapes: frozenset[Node]
    unsupported: tuple[str, ...]
    _closure: tuple[frozenset[int], ...] = field(init=False, repr=False)
    _moves_into: tuple[tuple[tuple[Step, int], ...], ...] = field(init=False, repr=False)
    _epsilon_into: tuple[frozenset[int], ...] = field(init=False, repr=False)
    _passing_into: tuple[frozenset[int], ...] = field(init=False, repr=False)
    _readers: Mapping[tuple[URIRef | None, Direction], frozenset[int]] = field(
        init=False, repr=False
    )
    _entry_shapes: Mapping[int, Node] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        count = len(self.labels)
        moves_into: list[list[tuple[Step, int]]] = [[] for _ in range(count)]
        epsilon_into: list[set[int]] = [set() for _ in range(count)]
        passing_into: list[set[int]] = [set() for _ in range(count)]
        readers: dict[tuple[URIRef | None, Direction], set[int]] = {}
        for state in range(count):
            for step, target in self.moves[state]:
                moves_into[target].append((step, state))
                readers.setdefault((step.predicate, step.direction), set()).add(state)
            for target in self.epsilon[state]:
                epsilon_into[target].add(state)
            for target in self.passing[state]:
                passing_into[target].add(state)
        closure = tuple(_epsilon_closure(self.epsilon, state) for state in range(count))
        setattr_ = object.__setattr__
        setattr_(self, "_closure", closure)
        setattr_(self, "_moves_into", tuple(tuple(into) for into in moves_into))
        setattr_(self, "_epsilon_into", tuple(frozenset(into) for into in epsilon_into))
        setattr_(self, "_passing_into", tuple(frozenset(into) for into in passing_into))
        setattr_(self, "_readers", MappingProxyType({k: frozenset(v) for k, v in readers.items()}))
        setattr_(self, "_entry_shapes", MappingProxyType({v: k for k, v in self.entries.items()}))

    def __repr__(self) -> str:
        return (
            f"ShapeAnalysis({len(self.labels)} states, {len(self.entries)} shapes with targets,"
            f" unsupported={list(self.unsupported)!r})"
        )

    def closure(self, state: int) -> frozenset[int]:
        """The states active together with ``state`` (it, and those reached without a step)."""
        return self._closure[state]

    def moves_into(self, state: int) -> tuple[tuple[Step, int], ...]:
        """The ``(step, previous state)`` pairs that lead to ``state``."""
        return self._moves_into[state]

    def epsilon_into(self, state: int) -> frozenset[int]:
        """The states that move to ``state`` without a step."""
        return self._epsilon_into[state]

    def passing_into(self, state: int) -> frozenset[int]:
        """The states that move to ``state`` without a step and pass results on unwrapped."""
        return self._passing_into[state]

    @cached_property
    def results_stay_on_focus(self) -> bool:
        """Whether every result is reported on the focus node its evaluation started from:
        true unless a property shape nests ``sh:property`` (results on its value nodes)."""
        pending = [(entry, False) for entry in self.entries.values()]
        seen = set(pending)
        while pending:
            state, moved = pending.pop()
            if moved and state in self.shape_states:
                return False
            following = [(target, moved) for target in self.passing[state]]
            following += [(target, True) for _, target in self.moves[state]]
            for item in following:
                if item not in seen:
                    seen.add(item)
                    pending.append(item)
        return True

    def readers(self, predicate: Node, direction: Direction) -> frozenset[int]:
        """The states that read a triple with this predicate when at its subject (FORWARD)
        or at its object (BACKWARD): the places where adding the triple changes a walk."""
        specific = self._readers.get((predicate, direction), frozenset())  # type: ignore[call-overload]
        return specific | self._readers.get((None, direction), frozenset())

    def entry_shape(self, state: int) -> Node | None:
        """The shape whose focus state this is, else ``None``."""
        return self._entry_shapes.get(state)

    @property
    def steps(self) -> frozenset[Step]:
        """Every step some shape follows: the ways a change propagates to a focus node."""
        return frozenset(step for moves in self.moves for step, _ in moves)

    def steps_of(self, shape: Node) -> frozenset[Step]:
        """The steps a targeted shape's evaluation can follow, nested shapes included."""
        seen: set[int] = set()
        pending = [self.entries[shape]]
        steps: set[Step] = set()
        while pending:
            state = pending.pop()
            if state in seen:
                continue
            seen.add(state)
            pending.extend(self.epsilon[state])
            for step, target in self.moves[state]:
                steps.add(step)
                pending.append(target)
        return frozenset(steps)

    def describe(self) -> Iterator[str]:
        """The automaton as text, one state a line, for debugging a shapes graph."""
        for state, label in enumerate(self.labels):
            moves = ", ".join(f"{step} -> {target}" for step, target in self.moves[state])
            free = ", ".join(str(target) for target in sorted(self.epsilon[state]))
            yield f"{state} {label}: {moves or '-'}; without a step: {free or '-'}"


def _epsilon_closure(epsilon: tuple[frozenset[int], ...], state: int) -> frozenset[int]:
    seen = {state}
    pending = [state]
    while pending:
        for target in epsilon[pending.pop()]:
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return frozenset(seen)


def analyse_shapes(shapes: rdflib.Graph) -> ShapeAnalysis:
    """Compile a shapes graph; call once and reuse the result for every change."""
    return _Compiler(shapes).run()


class _Compiler:
    def __init__(self, shapes: rdflib.Graph) -> None:
        self.graph = shapes
        self.labels: list[str] = []
        self.moves: list[list[tuple[Step, int]]] = []
        self.epsilon: list[set[int]] = []
        self.passing: list[set[int]] = []
        self.shape_states: dict[Node, int] = {}
        self.class_shapes: set[Node] = set()
        self.closed_shapes: set[Node] = set()
        self.unsupported: list[str] = []
        self.sink = self._state("read, then stop")
        self.types = self._state("types of the node")
        chain = self._state("superclasses")
        self._move(self.types, Step(RDF.type, Direction.FORWARD), chain)
        self._move(chain, Step(RDFS.subClassOf, Direction.FORWARD), chain)

    def run(self) -> ShapeAnalysis:
        self._check_supported()
        targets = self._targets()
        entries: dict[Node, int] = {}
        for shape in sorted(targets, key=str):
            entries[shape] = self._entry(shape, targets[shape])
        return ShapeAnalysis(
            labels=tuple(self.labels),
            moves=tuple(tuple(moves) for moves in self.moves),
            epsilon=tuple(frozenset(targets_) for targets_ in self.epsilon),
            passing=tuple(frozenset(targets_) for targets_ in self.passing),
            shape_states=frozenset(self.shape_states.values()),
            targets=MappingProxyType(targets),
            entries=MappingProxyType(entries),
            class_shapes=frozenset(self.class_shapes),
            closed_shapes=frozenset(self.closed_shapes),
            unsupported=tuple(self.unsupported),
        )

    # -- the automaton ----------------------------------------------------------------

    def _state(self, label: str) -> int:
        self.labels.append(label)
        self.moves.append([])
        self.epsilon.append(set())
        self.passing.append(set())
        return len(self.labels) - 1

    def _move(self, source: int, step: Step, target: int) -> None:
        if (step, target) not in self.moves[source]:
            self.moves[source].append((step, target))

    def _free(self, source: int, target: int, *, passing: bool = False) -> None:
        if source != target:
            self.epsilon[source].add(target)
            if passing:
                self.passing[source].add(target)

    def _name(self, node: Node) -> str:
        return node.n3(self.graph.namespace_manager) if not isinstance(node, BNode) else f"_:{node}"

    # -- targets ----------------------------------------------------------------------

    def _targets(self) -> dict[Node, Targets]:
        graph = self.graph
        implicit = self._implicit_class_shapes()
        shapes = {s for p in _TARGET_PREDICATES for s in graph.subjects(p, None)} | implicit
        found = {}
        for shape in shapes:
            classes = set(graph.objects(shape, SH.targetClass))
            if shape in implicit:
                classes.add(shape)
            found[shape] = Targets(
                classes=frozenset(classes),
                nodes=frozenset(graph.objects(shape, SH.targetNode)),
                subjects_of=frozenset(self._iris(shape, SH.targetSubjectsOf)),
                objects_of=frozenset(self._iris(shape, SH.targetObjectsOf)),
            )
        return found

    def _implicit_class_shapes(self) -> set[Node]:
        """Shapes that are also classes target their instances (SHACL 2.1.3.1)."""
        graph = self.graph
        class_types = {RDFS.Class, OWL.Class, *graph.subjects(RDFS.subClassOf, RDFS.Class)}
        found = set()
        for class_type in class_types:
            for node in graph.subjects(RDF.type, class_type):
                if self._is_shape(node):
                    found.add(node)
        return found

    def _is_shape(self, node: Node) -> bool:
        types = set(self.graph.objects(node, RDF.type))
        if SH.NodeShape in types or SH.PropertyShape in types:
            return True
        return any(str(p).startswith(str(SH)) for p in self.graph.predicates(node, None))

    def _iris(self, subject: Node, predicate: URIRef) -> list[URIRef]:
        values = []
        for value in self.graph.objects(subject, predicate):
            if isinstance(value, URIRef):
                values.append(value)
            else:
                self.unsupported.append(
                    f"{self._name(subject)} has {self._name(predicate)} {self._name(value)},"
                    " which is not an IRI"
                )
        return values

    def _entry(self, shape: Node, targets: Targets) -> int:
        entry = self._state(f"focus node of {self._name(shape)}")
        self._free(entry, self._shape(shape), passing=True)
        if targets.classes:
            self._free(entry, self.types)
        for predicate in targets.subjects_of:
            self._move(entry, Step(predicate, Direction.FORWARD), self.sink)
        for predicate in targets.objects_of:
            self._move(entry, Step(predicate, Direction.BACKWARD), self.sink)
        return entry

    # -- shapes -----------------------------------------------------------------------

    def _shape(self, shape: Node) -> int:
        if shape in self.shape_states:
            return self.shape_states[shape]
        graph = self.graph
        start = self._state(f"shape {self._name(shape)}")
        self.shape_states[shape] = start
        paths = list(graph.objects(shape, SH.path))
        value = start
        if paths:
            value = self._state(f"value nodes of {self._name(shape)}")
            for path in paths:
                self._path(path, start, value, inverted=False, depth=0)
        if (shape, SH["class"], None) in graph:
            self.class_shapes.add(shape)
            self._free(value, self.types)
        if any(_is_true(flag) for flag in graph.objects(shape, SH.closed)):
            self.closed_shapes.add(shape)
            self._move(value, Step(None, Direction.FORWARD), self.sink)
        for nested in graph.objects(shape, SH.property):
            self._free(value, self._shape(nested), passing=True)
        for predicate in _WRAPPING_PREDICATES:
            for nested in graph.objects(shape, predicate):
                self._free(value, self._shape(nested))
        for predicate in _SHAPE_LIST_PREDICATES:
            for members in graph.objects(shape, predicate):
                for nested in graph.items(members):
                    self._free(value, self._shape(nested))
        if any(_is_true(flag) for flag in graph.objects(shape, SH.qualifiedValueShapesDisjoint)):
            for parent in graph.subjects(SH.property, shape):
                for sibling in graph.objects(parent, SH.property):
                    for nested in graph.objects(sibling, SH.qualifiedValueShape):
                        self._free(value, self._shape(nested))
        for predicate in _PAIR_PREDICATES:
            for other in self._iris(shape, predicate):
                self._move(start, Step(other, Direction.FORWARD), self.sink)
        return start

    def _path(self, path: Node, start: int, end: int, *, inverted: bool, depth: int) -> None:
        """Add the moves that follow ``path`` (backwards if ``inverted``) from start to end."""
        if depth > _MAX_PATH_DEPTH:
            self.unsupported.append(f"the path {self._name(path)} is nested too deeply (a cycle?)")
            return
        if isinstance(path, URIRef):
            direction = Direction.BACKWARD if inverted else Direction.FORWARD
            self._move(start, Step(path, direction), end)
            return
        graph = self.graph
        understood = False
        deeper = depth + 1
        if (path, RDF.first, None) in graph:
            understood = True
            items = list(graph.items(path))
            if inverted:
                items.reverse()
            current = start
            for index, item in enumerate(items):
                following = end if index == len(items) - 1 else self._state("inside a path")
                self._path(item, current, following, inverted=inverted, depth=deeper)
                current = following
        for inner in graph.objects(path, SH.inversePath):
            understood = True
            self._path(inner, start, end, inverted=not inverted, depth=deeper)
        for members in graph.objects(path, SH.alternativePath):
            understood = True
            for item in graph.items(members):
                self._path(item, start, end, inverted=inverted, depth=deeper)
        for inner in graph.objects(path, SH.zeroOrMorePath):
            understood = True
            loop = self._state("repeated path")
            self._free(start, loop, passing=True)
            self._free(loop, end, passing=True)
            self._path(inner, loop, loop, inverted=inverted, depth=deeper)
        for inner in graph.objects(path, SH.oneOrMorePath):
            understood = True
            first, last = self._state("repeated path"), self._state("repeated path, once more")
            self._free(start, first, passing=True)
            self._path(inner, first, last, inverted=inverted, depth=deeper)
            self._free(last, first, passing=True)
            self._free(last, end, passing=True)
        for inner in graph.objects(path, SH.zeroOrOnePath):
            understood = True
            self._free(start, end, passing=True)
            self._path(inner, start, end, inverted=inverted, depth=deeper)
        if not understood:
            self.unsupported.append(f"{self._name(path)} is not a SHACL property path")

    # -- what cannot be analysed ------------------------------------------------------

    def _check_supported(self) -> None:
        graph = self.graph
        for predicate in _UNSUPPORTED_PREDICATES:
            for subject in graph.subjects(predicate, None):
                self.unsupported.append(
                    f"{self._name(subject)} uses {self._name(predicate)}, which can read any"
                    " part of the data graph"
                )
        for type_ in _UNSUPPORTED_TYPES:
            for subject in graph.subjects(RDF.type, type_):
                self.unsupported.append(
                    f"{self._name(subject)} is a {self._name(type_)}, which can read any"
                    " part of the data graph"
                )


def _is_true(flag: Node) -> bool:
    return isinstance(flag, Literal) and flag.value is True
