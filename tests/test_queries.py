"""Every stored query parses, runs on the real data and gives the expected answer.

Expected answers live in ``tests/expected/{case}.json``; after a deliberate change to the
data or a query, regenerate them with ``pytest tests/test_queries.py --update-expected``
and review the diff like code. The fact tests below check answers against the source
text itself, so a wrong expected file cannot hide a wrong answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyoxigraph import Literal

import hrkg
from hrkg.catalog import Catalog
from hrkg.results import Table
from hrkg.sparql_text import strip_comments

EXPECTED = Path(__file__).parent / "expected"
CATALOG = Catalog.from_folder(Path(__file__).resolve().parents[1] / "queries")

APRIL_2012_CASE = "case:2012-04-enforced-disappearance-of-soldiers"


def _runs_without_arguments(stored) -> bool:
    return not stored.requires_one_of and not any(p.required for p in stored.parameters.values())


#: (case name, query, parameters): each question with its header example, plus variants.
CASES = [
    (stored.name + ("-example" if stored.example else ""), stored.name, dict(stored.example))
    for stored in CATALOG.questions
    if stored.example or _runs_without_arguments(stored)
] + [
    ("reports-press-releases", "reports", {"type": "press-release"}),
    ("reports-2020", "reports", {"year": "2020"}),
    ("timeline-2013-02-to-2013-05", "timeline", {"from": "2013-02", "to": "2013-05"}),
    ("indicators-life-expectancy", "indicators", {"indicator": "life-expectancy"}),
    ("entity-label-sanogo", "entity", {"label": "sanogo"}),
    ("entity-iri-and-label", "entity", {"iri": "person:amadou-sanogo", "label": "Touré"}),
    ("sources-of-april-2012-case", "sources-of", {"iri": APRIL_2012_CASE}),
]


def normalised(table: Table) -> dict:
    """Rows as sorted lists of N-Triples cells; GROUP_CONCAT parts sorted (their order is free)."""

    def cell(term) -> str | None:
        if term is None:
            return None
        if isinstance(term, Literal) and "; " in term.value:
            # The parts of the value, not of its N-Triples form, whose quotes and language
            # tag would stick to whichever parts come first and last.
            parts = "; ".join(sorted(term.value.split("; ")))
            if term.language:
                return str(Literal(parts, language=term.language))
            return str(Literal(parts, datatype=term.datatype))
        return str(term)

    rows = sorted(
        ([cell(term) for term in row] for row in table.rows),
        key=lambda row: [(value is not None, value or "") for value in row],
    )
    return {"variables": table.variables, "rows": rows}


@pytest.mark.parametrize(("case", "name", "params"), CASES, ids=[case[0] for case in CASES])
def test_query_matches_expected_answer(
    kg: hrkg.KnowledgeGraph, update_expected: bool, case: str, name: str, params: dict
) -> None:
    answer = normalised(kg.query(name, **params))
    path = EXPECTED / f"{case}.json"
    if update_expected:
        path.parent.mkdir(exist_ok=True)
        document = {"query": name, "params": params, **answer}
        path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert path.exists(), f"no expected answer: run pytest {__file__} --update-expected"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert expected["params"] == params
    assert answer == {"variables": expected["variables"], "rows": expected["rows"]}


def test_every_question_has_an_expected_answer() -> None:
    covered = {name for _, name, _ in CASES}
    assert covered == {stored.name for stored in CATALOG.questions}


def test_no_stale_expected_files() -> None:
    assert {path.stem for path in EXPECTED.glob("*.json")} == {case for case, _, _ in CASES}


@pytest.mark.parametrize("check", CATALOG.checks, ids=lambda stored: stored.name)
def test_check_finds_no_problem_in_the_data(kg: hrkg.KnowledgeGraph, check) -> None:
    table = kg.run(check, {})
    assert table.values() == [], f"{check.name}: {check.summary}"


def test_the_union_repeats_a_triple_once_per_source_graph(kg: hrkg.KnowledgeGraph) -> None:
    """Why the questions use DISTINCT and label paths ending in "+" (README: stored queries).

    Oxigraph 0.5 answers a triple of the union default graph once per graph holding it; a
    person described by two sources counts twice. When this fails, the store merges the
    graphs (oxigraph/oxigraph#1919) and the "+" paths can go back to plain properties.
    """
    person = "<https://w3id.org/hrkg/def/Person>"
    table = kg.sparql(f"SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?d) {{ ?s a {person} }}")
    [(copies, people)] = [(int(n.value), int(d.value)) for n, d in table.rows]
    assert copies > people
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    people_once = f"{{ SELECT DISTINCT ?s {{ ?s a {person} }} }}"
    paths = kg.sparql(f"SELECT (COUNT(*) AS ?n) {{ {people_once} ?s {label}+ ?l }}")
    assert int(paths.rows[0][0].value) == people, "one English label each, answered once"


# Facts of the source, asserted directly -------------------------------------------------


def _rows(kg: hrkg.KnowledgeGraph, name: str, **params: object) -> list[dict]:
    return kg.query(name, **params).values()


def test_every_case_cites_a_source(kg: hrkg.KnowledgeGraph) -> None:
    for row in _rows(kg, "cases"):
        assert row["sources"] and row["sources"].startswith("document:"), row["label"]
        assert row["statuses"], row["label"]


def test_the_april_2012_case_keeps_both_counts_and_both_statuses(kg: hrkg.KnowledgeGraph) -> None:
    """The country page says "more than 20 soldiers"; the 2020 press release, 21."""
    [row] = [
        r
        for r in _rows(kg, "cases")
        if r["case"].endswith("2012-04-enforced-disappearance-of-soldiers")
    ]
    assert row["dates"] == "2012-04"
    assert "more than 20 soldiers" in row["victimGroups"] and "21 soldiers" in row["victimGroups"]
    assert "charged (amnesty-mali-country-page)" in row["statuses"]
    assert "trial postponed (2020-01-13-" in row["statuses"]


def test_killings_keep_the_source_qualifiers(kg: hrkg.KnowledgeGraph) -> None:
    killed = {row["killed"] for row in _rows(kg, "killings")}
    assert {"nearly 100", "3", "at least 2"} <= killed


def test_people_charged_include_the_two_generals(kg: hrkg.KnowledgeGraph) -> None:
    rows = _rows(kg, "people-charged")
    charged = {(row["name"], row["actionType"], row["date"], row["peopleInAll"]) for row in rows}
    assert ("Amadou Sanogo", "charge", "2014", "28") in charged
    assert ("Ibrahim Dahirou Dembélé", "arrest", "2014", "28") in charged


def test_office_holders_of_both_annual_reports(kg: hrkg.KnowledgeGraph) -> None:
    holders = {
        (row["holder"], row["interim"], row["replaced"]) for row in _rows(kg, "office-holders")
    }
    assert ("Diouncounda Traoré", "true", "Amadou Toumani Touré") in holders
    assert ("Django Cissoko", "true", "Cissé Mariam Kaïdama Sidibé") in holders
    assert ("Amadou Toumani Touré", "false", None) in holders
    assert ("Modibo Sidibé", "false", None) in holders


def test_timeline_is_in_date_order_and_bounded(kg: hrkg.KnowledgeGraph) -> None:
    everything = [row["date"] for row in _rows(kg, "timeline")]
    assert everything == sorted(everything)
    bounded = _rows(kg, "timeline", from_="2013", to="2013")
    assert bounded and all(row["date"].startswith("2013") for row in bounded)
    assert len(bounded) < len(everything)


def test_timeline_bounds_keep_overlapping_precisions(kg: hrkg.KnowledgeGraph) -> None:
    """A year-precision item overlaps a month inside it; an April 2012 item is in 2012."""
    dates = {row["date"] for row in _rows(kg, "timeline", from_="2012-06", to="2012-12")}
    assert "2012" in dates and "2012-04" not in dates
    assert "2012-04" in {row["date"] for row in _rows(kg, "timeline", from_="2012", to="2012")}


#: A legal action of the real data, and the triple a reasoner would add to it (hr:LegalAction
#: is a subclass of hr:Event) in the graph of the source that describes it.
ARREST = "https://w3id.org/hrkg/id/legal-action/2014-arrest-of-28-people"
ARREST_ALSO_AN_EVENT = (
    "GRAPH <https://w3id.org/hrkg/id/document/amnesty-mali-country-page> "
    f"{{ <{ARREST}> a <https://w3id.org/hrkg/def/Event> . }}"
)


def timeline_rows_of(kg: hrkg.KnowledgeGraph, item: str) -> list[dict]:
    return [row for row in _rows(kg, "timeline") if row["item"] == item]


def test_timeline_lists_a_legal_action_once_when_also_typed_an_event(
    kg: hrkg.KnowledgeGraph, dataset_copy: Path
) -> None:
    """The item is still one row per date and source, of kind "legal action", not also
    "event", when the data states both types."""
    country_page = dataset_copy / "data" / "graphs" / "amnesty-mali-country-page.trig"
    with country_page.open("a", encoding="utf-8") as trig:
        trig.write("\n" + ARREST_ALSO_AN_EVENT.removeprefix("GRAPH ") + "\n")
    both_types = hrkg.open(dataset_copy)
    assert both_types.sparql(f"ASK {{ {ARREST_ALSO_AN_EVENT} }}")
    rows = timeline_rows_of(both_types, ARREST)
    assert rows and {row["kind"] for row in rows} == {"legal action"}
    assert rows == timeline_rows_of(kg, ARREST)


def test_reports_list_the_ten_newsroom_items(kg: hrkg.KnowledgeGraph) -> None:
    rows = _rows(kg, "reports")
    assert len(rows) == 10
    assert [row["date"] for row in rows] == sorted((row["date"] for row in rows), reverse=True)
    assert {row["title"] for row in _rows(kg, "reports", year=2013)} == {
        "Annual Report: Mali 2013",
        "Mali: First Assessment of the Human Rights Situation After Three-Week Conflict",
    }
    assert len(_rows(kg, "reports", type="press-release")) == 4
    assert len(_rows(kg, "reports", type="annual-report")) == 2


def test_indicators_keep_qualifiers_and_units(kg: hrkg.KnowledgeGraph) -> None:
    rows = _rows(kg, "indicators", indicator="life-expectancy")
    readings = {(row["value"], row["qualifier"], row["unit"]) for row in rows}
    assert ("57", "less than", "years") in readings
    assert ("48.1", None, "years") in readings


def test_impunity_lists_the_uninvestigated_timbuktu_case(kg: hrkg.KnowledgeGraph) -> None:
    rows = {row["case"].rsplit("/", 1)[1]: row for row in _rows(kg, "impunity")}
    assert (
        rows["2013-02-disappearance-of-11-men-in-timbuktu"]["lastKnownStatus"] == "not investigated"
    )
    assert "2012-04-enforced-disappearance-of-soldiers" not in rows, "charged, then tried"


def test_sources_of_quotes_the_passage(kg: hrkg.KnowledgeGraph) -> None:
    rows = _rows(kg, "sources-of", iri="person:amadou-sanogo")
    quotes = {row["quote"] for row in rows}
    assert any("General Amadou Sanogo" in quote for quote in quotes)
    source_text = (kg.layout.sources_dir / "amnesty-mali-country-page.txt").read_text(
        encoding="utf-8"
    )
    assert all(quote in source_text for quote in quotes)


def test_entity_by_iri_and_by_label_agree(kg: hrkg.KnowledgeGraph) -> None:
    by_iri = kg.query("entity", iri="person:amadou-sanogo").values()
    by_label = [
        r
        for r in kg.query("entity", label="Amadou Sanogo").values()
        if r["entity"] == by_iri[0]["entity"]
    ]
    assert by_iri == by_label


def test_entity_given_both_an_iri_and_a_label_answers_for_the_iri(
    kg: hrkg.KnowledgeGraph,
) -> None:
    """The IRI wins, even when the label names other entities or none."""
    by_iri = kg.query("entity", iri="person:amadou-sanogo").values()
    assert by_iri
    for label in ("Touré", "no such name"):
        both = kg.query("entity", iri="person:amadou-sanogo", label=label).values()
        assert both == by_iri


@pytest.mark.parametrize("text", ["Sanogo", "mali", "TOURÉ", "a", "no such name"])
def test_search_finds_what_entity_by_label_finds(kg: hrkg.KnowledgeGraph, text: str) -> None:
    """``search`` lists, once each, the entities ``entity`` finds by the same label text,
    except those without an English label or a type; with each one's English label."""
    found = kg.query("search", text=text).values()
    listed = [row["entity"] for row in found]
    assert len(listed) == len(set(listed))
    expected = set()
    for row in kg.query("entity", label=text).values():
        english = row["entityLabel"] is not None
        typed = kg.sparql(f"ASK {{ <{row['entity']}> a ?type }}")
        if english and typed:
            expected.add((row["entity"], row["entityLabel"]))
    assert {(row["entity"], row["label"]) for row in found} == expected


def _variables(text: str) -> set[str]:
    return set(re.findall(r"[?$](\w+)", text))


def _projected(select_clause: str) -> set[str]:
    """The columns of a SELECT clause: bare variables and the aliases of expressions."""
    aliases = set(re.findall(r"\bAS\s+[?$](\w+)", select_clause, re.IGNORECASE))
    bare = select_clause
    while re.search(r"\([^()]*\)", bare):
        bare = re.sub(r"\([^()]*\)", " ", bare)
    return aliases | _variables(bare)


@pytest.mark.parametrize("stored", CATALOG.questions, ids=lambda stored: stored.name)
def test_every_question_orders_its_rows_totally(stored) -> None:
    """Pages (LIMIT and OFFSET) are stable only under a total order, which SPARQL leaves to
    the query: ORDER BY names every column of a SELECT DISTINCT (parameters aside, since
    each is bound to one value) or every GROUP BY key. Virtuoso pages a question with
    ties differently from its whole answer (test_external_stores shows it)."""
    body = strip_comments(stored.text)
    tail = body[body.rindex("}") :]  # the solution modifiers of the outer query
    assert "ORDER BY" in tail, "a question must order its rows"
    ordered = _variables(tail[tail.index("ORDER BY") :])
    group = re.search(r"GROUP BY(.*?)ORDER BY", tail, re.S)
    select = re.search(r"\bSELECT\b(.*?)\bWHERE\b", body, re.S | re.IGNORECASE)
    assert select, "no SELECT ... WHERE"
    if group:
        needed = _variables(group.group(1))
    else:
        assert select.group(1).strip().upper().startswith("DISTINCT"), (
            "without GROUP BY, a question needs SELECT DISTINCT for its rows to be told apart"
        )
        needed = _projected(select.group(1)) - set(stored.parameters)
    assert needed <= ordered, f"ORDER BY lacks {sorted(needed - ordered)}"
