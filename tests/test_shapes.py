"""The data shapes, tested one rule at a time by the self-contained fixtures of tests/shapes/.

Each fixture ``{Shape}.{case}.trig`` holds bad data for the shape ``hrsh:{Shape}`` and, in
its header, the result that shape must produce::

    # expect-severity: Violation
    # expect-focus: case:fixture
    # expect-path: hr:violationType        (or "none" for a rule on the node as a whole)
    # expect-message-contains: violation type

The fixture must break that rule and no other, so that each fixture tests exactly one
rule. A fixture whose header says ``# expect-conforms: true`` must give no result at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib.namespace import SH

FIXTURE_DIR = Path(__file__).parent / "shapes"
FIXTURES = sorted(FIXTURE_DIR.glob("*.trig"))
HRSH = rdflib.Namespace("https://w3id.org/hrkg/shapes/")

_HEADER_LINE = re.compile(r"^# expect-([a-z-]+):\s*(.*?)\s*$")
_BAD_FIXTURE_KEYS = {"severity", "focus", "path", "message-contains"}


@dataclass(frozen=True)
class Result:
    """One validation result, reduced to what the fixtures state."""

    shape: rdflib.term.Node
    focus: rdflib.term.Node
    path: rdflib.term.Node | None
    severity: rdflib.term.Node
    message: str


def _read_header(path: Path) -> dict[str, str]:
    """The ``# expect-…`` lines at the top of a fixture, failing loudly on a malformed one."""
    header: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if match := _HEADER_LINE.match(line):
            key, value = match.groups()
            if key in header:
                raise ValueError(f"{path.name}: expect-{key} is given twice")
            header[key] = value
    if header == {"conforms": "true"}:
        return header
    if set(header) != _BAD_FIXTURE_KEYS:
        raise ValueError(
            f"{path.name}: the header needs exactly the lines expect-severity, expect-focus, "
            f"expect-path and expect-message-contains (or only expect-conforms: true); "
            f"found {sorted(header)}"
        )
    return header


def _expand(dataset: rdflib.Dataset, curie: str) -> rdflib.URIRef:
    """A prefixed name of a fixture header as an IRI, with the fixture's own prefixes."""
    return dataset.namespace_manager.expand_curie(curie)


def _validate(data: rdflib.Graph, shapes: rdflib.Graph) -> list[Result]:
    """Validate as the package does: the reference graph is in the data, no inference."""
    _, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True
    )
    results = []
    for node in report.objects(None, SH.result):  # top-level results, not their sh:detail
        results.append(
            Result(
                shape=report.value(node, SH.sourceShape),
                focus=report.value(node, SH.focusNode),
                path=report.value(node, SH.resultPath),
                severity=report.value(node, SH.resultSeverity),
                message=str(report.value(node, SH.resultMessage) or ""),
            )
        )
    return results


def _data_graph(
    fixture: Path, reference_graph: rdflib.Graph
) -> tuple[rdflib.Dataset, rdflib.Graph]:
    """The fixture's quads merged with the reference graph into one default graph."""
    dataset = rdflib.Dataset()
    dataset.parse(fixture, format="trig")
    data = rdflib.Graph()
    for triple in reference_graph:
        data.add(triple)
    for subject, predicate, obj, _ in dataset.quads():
        data.add((subject, predicate, obj))
    return dataset, data


def _describe(results: list[Result]) -> str:
    return "\n".join(
        f"  {r.severity.n3()} {r.shape.n3()} focus={r.focus.n3()} "
        f"path={r.path.n3() if r.path else None}: {r.message}"
        for r in results
    )


@pytest.mark.parametrize("fixture", FIXTURES, ids=[path.stem for path in FIXTURES])
def test_fixture_gives_exactly_its_expected_result(
    fixture: Path, reference_graph: rdflib.Graph, shapes_graph: rdflib.Graph
) -> None:
    """Each rule catches its bad data with an actionable message, and no other rule fires."""
    header = _read_header(fixture)
    dataset, data = _data_graph(fixture, reference_graph)
    results = _validate(data, shapes_graph)

    if header.get("conforms") == "true":
        assert results == [], f"expected no result, got:\n{_describe(results)}"
        return

    shape = HRSH[fixture.name.split(".", 1)[0]]
    focus = _expand(dataset, header["focus"])
    path = None if header["path"] == "none" else _expand(dataset, header["path"])
    severity = SH[header["severity"]]
    wanted = header["message-contains"]

    matching = [
        r
        for r in results
        if r.shape == shape
        and r.focus == focus
        and r.path == path
        and r.severity == severity
        and wanted in r.message
    ]
    assert matching, (
        f"expected {severity.n3()} from {shape.n3()} on {focus.n3()} "
        f"(path {header['path']}, message containing {wanted!r}); got:\n{_describe(results)}"
    )
    others = [
        r for r in results if r.severity == SH.Violation and (r.shape, r.focus) != (shape, focus)
    ]
    assert others == [], f"the fixture breaks other rules too:\n{_describe(others)}"


def _rule_shapes(shapes: rdflib.Graph) -> set[str]:
    """Local names of the named shapes that carry a message: the rules fixtures must cover."""
    return {
        str(shape).removeprefix(str(HRSH))
        for shape in shapes.subjects(SH.message, None)
        if isinstance(shape, rdflib.URIRef) and str(shape).startswith(str(HRSH))
    }


def test_every_rule_has_a_fixture(shapes_graph: rdflib.Graph) -> None:
    """A rule without a bad-data fixture is a rule nobody has seen fire."""
    covered = {path.name.split(".", 1)[0] for path in FIXTURES}
    missing = sorted(_rule_shapes(shapes_graph) - covered)
    assert missing == [], f"add a tests/shapes/{{Shape}}.{{case}}.trig for: {missing}"


def test_every_fixture_names_an_existing_rule(shapes_graph: rdflib.Graph) -> None:
    """A fixture named after a misspelt shape would test nothing."""
    rules = _rule_shapes(shapes_graph)
    named = {
        path.name.split(".", 1)[0]
        for path in FIXTURES
        if _read_header(path).get("conforms") != "true"
    }
    assert sorted(named - rules) == []


def test_every_rule_states_name_description_message_and_severity(
    shapes_graph: rdflib.Graph,
) -> None:
    """DCAT-AP style: a researcher reading a report sees what the rule is and how to fix it."""
    incomplete = [
        name
        for name in sorted(_rule_shapes(shapes_graph))
        if any(
            shapes_graph.value(HRSH[name], predicate) is None
            for predicate in (SH.name, SH.description, SH.severity)
        )
    ]
    assert incomplete == []
