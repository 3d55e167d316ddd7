"""Answers a page at a time: every question's pages put together are its whole answer, in
the library, on the command line and through the REST API's ``Link`` headers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal
from starlette.testclient import TestClient
from typer.testing import CliRunner

import hrkg
from hrkg.catalog import Catalog, Page, load_query
from hrkg.cli import app as cli_app
from hrkg.errors import ParameterError
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.server import ServerConfig, create_app
from hrkg.server.state import ServerState

#: The bundled questions (the catalogue alone, read at collection; no data loaded).
QUESTIONS = sorted(
    stored.name
    for stored in Catalog.from_folder(Path(__file__).resolve().parents[1] / "queries").questions
)


def rows(table: hrkg.Table) -> list[tuple[str, ...]]:
    return [tuple(str(term) for term in row) for row in table.rows]


@pytest.mark.parametrize("name", QUESTIONS)
@pytest.mark.parametrize("size", [1, 3])
def test_pages_put_together_are_the_whole_answer(kg: hrkg.KnowledgeGraph, name, size) -> None:
    stored = kg.catalog.get(name)
    whole = rows(kg.run(stored, stored.example))
    pages, offset = [], 0
    while True:
        page = rows(kg.run(stored, stored.example, Page(limit=size, offset=offset)))
        assert len(page) <= size
        pages += page
        offset += size
        if len(page) < size:
            break
    assert pages == whole
    if len(whole) > 1:
        assert rows(kg.query(name, limit=1, offset=1, **stored.example)) == whole[1:2]


@pytest.mark.parametrize(
    ("limit", "offset", "where"),
    [
        (0, None, "page limit"),
        (-1, None, "page limit"),
        ("ten", None, "page limit"),
        ("1.5", None, "page limit"),
        (10**10, None, "page limit"),
        (None, -1, "page offset"),
        (None, "x", "page offset"),
        (True, None, "page limit"),
    ],
)
def test_bad_page_numbers_are_refused_by_name(limit, offset, where) -> None:
    with pytest.raises(ParameterError) as raised:
        Page.parse(limit, offset)
    assert raised.value.where == where
    assert "not a whole number" in raised.value.message and raised.value.hint


def test_a_question_with_its_own_limit_cannot_be_paged(tmp_path: Path) -> None:
    path = tmp_path / "first-three.rq"
    path.write_text(
        "#+ summary: s\n#+ description: d\nSELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3\n",
        encoding="utf-8",
    )
    stored = load_query(path, "first-three")
    assert not stored.pageable
    assert stored.sparql({}, page=Page()) == stored.text, "a whole answer needs no paging"
    with pytest.raises(ParameterError, match="LIMIT or OFFSET of its own"):
        stored.sparql({}, page=Page(limit=1))


def test_the_command_line_prints_one_page() -> None:
    runner = CliRunner()
    whole = runner.invoke(cli_app, ["query", "run", "cases", "--format", "csv"])
    page = runner.invoke(
        cli_app, ["query", "run", "cases", "--format", "csv", "--limit", "2", "--offset", "3"]
    )
    assert whole.exit_code == 0 and page.exit_code == 0, page.output
    whole_rows = list(csv.reader(io.StringIO(whole.output)))
    page_rows = list(csv.reader(io.StringIO(page.output)))
    assert page_rows == [whole_rows[0], *whole_rows[4:6]]
    refused = runner.invoke(cli_app, ["query", "run", "cases", "--limit", "0"])
    assert refused.exit_code == 2 and "page limit" in refused.output


@pytest.fixture(scope="module")
def capped_state() -> Iterator[ServerState]:
    """A server that cuts answers after 4 rows."""
    state = ServerState.open(ServerConfig(workers=1, max_rows=4))
    yield state
    state.close()


@pytest.fixture(scope="module")
def capped(capped_state: ServerState) -> TestClient:
    return TestClient(create_app(capped_state))


def uncapped_answer(state: ServerState, name: str) -> list[list[str]]:
    """The whole answer from the server's own store (uncapped), as its CSV would spell it:
    the same store kind as the workers', so GROUP_CONCAT parts come in the same order."""
    answer = KnowledgeGraph(state.primary, state.kg.catalog, state.kg.settings).query(name)
    return [["" if term is None else term.value for term in row] for row in answer.rows]


def follow(client: TestClient, url: str) -> tuple[list[list[str]], list[int]]:
    """Every row of every page, following rel="next" links; and each page's length."""
    header, body, sizes = None, [], []
    while url:
        response = client.get(url, headers={"accept": "text/csv"})
        assert response.status_code == 200, response.text
        table = list(csv.reader(io.StringIO(response.text)))
        header = header or table[0]
        assert table[0] == header
        body += table[1:]
        sizes.append(len(table) - 1)
        link = response.headers.get("link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else ""
    return [header, *body], sizes


@pytest.mark.parametrize(
    ("start", "sizes"),
    [
        # cut at the server's cap of 4: the link continues in pages of 4
        ("/api/queries/cases", [4, 4, 2]),
        # pages of 3 asked for: a short page is the last
        ("/api/queries/cases?limit=3", [3, 3, 3, 1]),
        # a full last page may have more after it: the next, empty, says there is none
        ("/api/queries/cases?limit=2", [2, 2, 2, 2, 2, 0]),
        # from an offset on, pages larger than the cap are cut and continued
        ("/api/queries/cases?offset=2&limit=6", [4, 4]),
    ],
)
def test_the_rest_api_links_to_the_next_page(
    capped: TestClient, capped_state: ServerState, start: str, sizes: list[int]
) -> None:
    table, seen = follow(capped, start)
    assert seen == sizes
    offset = int(re.search(r"offset=(\d+)", start).group(1)) if "offset" in start else 0
    assert table[1:] == uncapped_answer(capped_state, "cases")[offset:]


@pytest.mark.parametrize(
    ("query", "where"),
    [("limit=0", "page limit"), ("offset=-3", "page offset"), ("limit=a", "page limit")],
)
def test_the_rest_api_refuses_bad_pages_with_400(capped: TestClient, query: str, where) -> None:
    response = capped.get(f"/api/queries/cases?{query}")
    assert response.status_code == 400 and where in response.text


def test_openapi_documents_the_page_parameters(capped: TestClient) -> None:
    operation = capped.get("/openapi.json").json()["paths"]["/api/queries/cases"]["get"]
    names = [parameter["name"] for parameter in operation["parameters"]]
    assert {"format", "limit", "offset"} <= set(names)
    assert "Link" in operation["responses"]["200"]["headers"]
    assert {"400", "429", "503"} <= set(operation["responses"])


# --- Pages cut from a kept answer ----------------------------------------------------------

WHOLE = hrkg.Table(["n"], [(Literal(str(n)),) for n in range(10)])
CAPPED = hrkg.Table(["n"], WHOLE.rows[:6], truncated=True)


@pytest.mark.parametrize(
    ("whole", "page", "expected"),
    [
        (WHOLE, Page(limit=3), [0, 1, 2]),
        (WHOLE, Page(limit=3, offset=8), [8, 9]),
        (WHOLE, Page(offset=7), [7, 8, 9]),
        (WHOLE, Page(limit=2, offset=10), []),
        (CAPPED, Page(limit=3, offset=3), [3, 4, 5]),
        (CAPPED, Page(limit=3, offset=4), None),  # row 6 is past the cap: unknown here
        (CAPPED, Page(offset=2), None),  # to the end: the end is past the cap
    ],
    ids=[
        "first",
        "short-last",
        "offset-only",
        "past-the-end",
        "capped-within",
        "capped-past",
        "capped-to-the-end",
    ],
)
def test_a_page_is_cut_only_where_the_whole_answer_decides_it(whole, page, expected) -> None:
    cut = page.cut_from(whole)
    if expected is None:
        assert cut is None
    else:
        assert [int(row[0].value) for row in cut.rows] == expected and not cut.truncated


@pytest.fixture(scope="module")
def keeping_state() -> Iterator[ServerState]:
    """A server that keeps answers (the default budget), so cuts pages from them."""
    state = ServerState.open(ServerConfig(workers=1))
    yield state
    state.close()


@pytest.mark.parametrize("name", QUESTIONS)
def test_pages_cut_from_a_kept_answer_are_the_pages_a_query_gives(
    keeping_state: ServerState, name: str
) -> None:
    """Each page the server cuts from its kept answer is the page ``LIMIT``/``OFFSET`` gives
    on the same kind of store: the order is the question's, whichever way the page comes."""
    served = keeping_state.kg
    assert served.store.keeps_answers
    direct = KnowledgeGraph(keeping_state.primary, served.catalog, served.settings)
    stored = served.catalog.get(name)
    size = len(direct.run(stored, stored.example))
    pages = [
        Page(limit=1),
        Page(limit=2, offset=1),
        Page(offset=size // 2),
        Page(limit=3, offset=size),
    ]
    for page in pages:
        expected = rows(direct.run(stored, stored.example, page))
        assert rows(served.run(stored, stored.example, page)) == expected, page


@pytest.mark.parametrize(
    ("cache_bytes", "later_pages"),
    [(256 * 1024**2, "hrkg; hit"), (0, "hrkg; fwd=miss")],
    ids=["cache", "no-cache"],
)
def test_later_pages_take_no_worker_when_answers_are_kept(cache_bytes: int, later_pages) -> None:
    """The first page of a question runs it; the next pages, and the first again, are cut
    from the answer kept then (``Cache-Status: hrkg; hit``). Without a cache each page is a
    query of its own, run afresh each time."""
    state = ServerState.open(ServerConfig(workers=1, cache_bytes=cache_bytes))
    try:
        client = TestClient(create_app(state))
        statuses = []
        for offset in (0, 2, 4, 0):
            answer = client.get("/api/queries/cases", params={"limit": "2", "offset": offset})
            assert answer.status_code == 200, answer.text
            statuses.append(answer.headers["cache-status"])
        assert statuses == ["hrkg; fwd=miss", *[later_pages] * 3]
    finally:
        state.close()
