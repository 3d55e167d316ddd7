"""hrkg against real triplestore servers: Oxigraph server and Virtuoso, started for the run.

The dataset goes up with ``hrkg push`` (Graph Store Protocol to Oxigraph, SPARQL Update
with Digest authentication to Virtuoso's ``/sparql-auth``); then every stored question,
with the same parameters as tests/test_queries.py, must give on each server the rows the
embedded store gives. Also checked for real: the CLI with ``--endpoint``; validating and
adding on a server; ``hrkg serve`` in front of each server, against ``hrkg serve`` over the
embedded store; and that a capped, cut or timed-out answer is an error, never a short table.

Rows are compared after normalising what SPARQL leaves free or servers spell differently
(row order, GROUP_CONCAT cells): see ``answer_comparison``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph
import pytest
import rdflib
import rdflib.compare
from pyoxigraph import BlankNode, NamedNode, RdfFormat
from starlette.testclient import TestClient
from typer.testing import CliRunner

import hrkg
import hrkg.ingest
import hrkg.push
from answer_comparison import comparable, group_concat_columns, read_csv
from external_servers import RunningServer, free_port, oxigraph_server, virtuoso_server
from hrkg.catalog import Page
from hrkg.cli import app
from hrkg.errors import HrkgError, QueryError, QueryTimeout, UpstreamError
from hrkg.remote_store import CappedAnswer, Endpoint, RemoteStore
from hrkg.results import Table
from hrkg.server import ServerConfig, create_app
from hrkg.server.state import ServerState
from test_queries import ARREST, ARREST_ALSO_AN_EVENT, CASES, CATALOG, timeline_rows_of
from test_validation import BAD_INPUT, COUNTRY_PAGE, GOOD, input_limit_for
from test_validation import FIXTURES as BAD_FIXTURES

pytestmark = pytest.mark.external

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVERS = ("oxigraph", "virtuoso")
#: Rows the second Virtuoso gives at most: less than the dataset's triples.
LOW_MAX_ROWS = 50
#: Three copies of every triple side by side: billions of rows, for the time limits.
HEAVY_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HEAVY_GROUPS = (
    "SELECT ?c (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) < STR(?f)) } "
    "GROUP BY ?c LIMIT 3"
)
#: Four copies of every triple side by side, of which ten rows: Virtuoso answers at once,
#: but estimates it at thousands of seconds.
CROSS_PRODUCT = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } LIMIT 10"

HR = "https://w3id.org/hrkg/def/"
CASE = "https://w3id.org/hrkg/id/case/"
RDFS_RANGE = "http://www.w3.org/2000/01/rdf-schema#range"

runner = CliRunner()


def hrkg_cli(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(
        app,
        ["--data-dir", str(REPO_ROOT), *args],
        catch_exceptions=False,
        env={"COLUMNS": "400", **(env or {})},
    )


def push_to(server: RunningServer) -> str:
    result = hrkg_cli(*server.push_options(), "push")
    assert result.exit_code == 0, f"hrkg push to {server.name} failed:\n{result.output}"
    return result.stdout


def remote_graph(server: RunningServer, timeout: float = 60.0) -> hrkg.KnowledgeGraph:
    graph = hrkg.open(REPO_ROOT, endpoint=server.endpoint(timeout))
    assert isinstance(graph.store, RemoteStore), (
        "hrkg.open(endpoint=...) answered from the embedded store, not the server"
    )
    return graph


# Servers, loaded ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """An Oxigraph server for the whole session, empty."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as started:
        yield started


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A Virtuoso server for the whole session, empty but for its system graphs."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as started:
        yield started


@pytest.fixture(scope="session", params=SERVERS)
def server(request: pytest.FixtureRequest) -> RunningServer:
    """Each server in turn, holding the dataset (pushed once per session)."""
    started: RunningServer = request.getfixturevalue(request.param)
    push_to(started)
    return started


@pytest.fixture(scope="session")
def remote(server: RunningServer) -> hrkg.KnowledgeGraph:
    return remote_graph(server)


@pytest.fixture(scope="module")
def low_cap_virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A second Virtuoso, with the dataset, that gives at most LOW_MAX_ROWS rows, gives
    up on a query after 2 seconds, and refuses one estimated at over 400 seconds."""
    folder = tmp_path_factory.mktemp("virtuoso-low-cap")
    with virtuoso_server(
        folder, max_rows=LOW_MAX_ROWS, max_seconds=2, max_estimate_seconds=400
    ) as started:
        push_to(started)
        yield started


@pytest.fixture(scope="module")
def impatient_oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A second Oxigraph server, with the dataset, that stops queries after 1 second."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph-1s"), timeout_s=1) as started:
        push_to(started)
        yield started


# Comparing answers ----------------------------------------------------------------------


def test_group_concat_columns_are_found() -> None:
    text = (REPO_ROOT / "queries" / "cases.rq").read_text(encoding="utf-8")
    assert group_concat_columns(text) == {
        "dates",
        "places",
        "violations",
        "victimGroups",
        "perpetrators",
        "statuses",
        "sources",
    }


# Push -----------------------------------------------------------------------------------


def test_push_uploads_every_graph(server: RunningServer, kg: hrkg.KnowledgeGraph) -> None:
    report = push_to(server)  # a second push replaces each graph: still the same data
    graphs = kg.stats().graphs
    triples = sum(graph.triples for graph in graphs)
    assert f"pushed {triples:,} triples in {len(graphs)} graphs" in report
    assert remote_graph(server).stats().graphs == graphs


def ntriples_graph(triples) -> rdflib.Graph:
    data = pyoxigraph.serialize(list(triples), format=RdfFormat.N_TRIPLES) or b""
    return rdflib.Graph().parse(data=data.decode("utf-8"), format="nt")


def test_push_in_small_chunks_keeps_blank_nodes_whole(
    server: RunningServer, kg: hrkg.KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ontology's OWL lists are chains of blank nodes; cut into 7-triple updates, each
    chain must still arrive as one chain (Oxigraph gets whole graphs by GSP anyway)."""
    monkeypatch.setattr(hrkg.push, "UPDATE_CHUNK", 7)
    hrkg.push.push(kg.store.quads(), server.endpoint())
    ontology = NamedNode(kg.settings.base_iri + "graph/ontology")
    local = ntriples_graph(quad.triple for quad in kg.store.quads(ontology))
    on_server = ntriples_graph(quad.triple for quad in remote_graph(server).store.quads(ontology))
    assert any(isinstance(node, rdflib.BNode) for node in local.subjects())
    assert rdflib.compare.isomorphic(local, on_server)


def test_virtuoso_refuses_basic_authentication(virtuoso: RunningServer) -> None:
    options = virtuoso.push_options()
    options[options.index("--endpoint-auth") + 1] = "basic"
    result = hrkg_cli(*options, "push")
    assert result.exit_code == 2
    assert "401" in result.output and "--endpoint-user" in result.output


# The same answers -----------------------------------------------------------------------


@pytest.mark.parametrize(("case", "name", "params"), CASES, ids=[case[0] for case in CASES])
def test_server_gives_the_embedded_answer(
    kg: hrkg.KnowledgeGraph,
    remote: hrkg.KnowledgeGraph,
    case: str,
    name: str,
    params: dict,
) -> None:
    concatenated = group_concat_columns(kg.catalog.get(name).text)
    expected = comparable(kg.query(name, **params), concatenated)
    assert comparable(remote.query(name, **params), concatenated) == expected


@pytest.mark.parametrize("name", sorted(stored.name for stored in CATALOG.questions))
def test_pages_from_the_server_make_its_whole_answer(
    remote: hrkg.KnowledgeGraph, name: str
) -> None:
    """LIMIT and OFFSET appended by the catalogue page the same way on every server."""
    stored = remote.catalog.get(name)
    whole = remote.run(stored, stored.example).rows
    pages: list = []
    while True:
        page = remote.run(stored, stored.example, Page(limit=3, offset=len(pages))).rows
        pages += page
        if len(page) < 3:
            break
    assert pages == whole


def test_cli_runs_a_stored_question_on_the_server(
    server: RunningServer, kg: hrkg.KnowledgeGraph
) -> None:
    concatenated = group_concat_columns(kg.catalog.get("cases").text)
    embedded = hrkg_cli("query", "run", "cases", "--format", "csv")
    on_server = hrkg_cli("--endpoint", server.query_url, "query", "run", "cases", "--format", "csv")
    assert on_server.exit_code == 0, on_server.output
    assert read_csv(on_server.stdout, concatenated) == read_csv(embedded.stdout, concatenated)
    assert len(on_server.stdout.splitlines()) == 1 + len(kg.query("cases"))


def test_export_from_the_server_is_the_dataset(
    server: RunningServer, kg: hrkg.KnowledgeGraph
) -> None:
    """The server's dataset, quad for quad (Virtuoso's whole-number decimals too: see
    servers/virtuoso.ini.template)."""
    expected = kg.export("nquads").decode("utf-8")
    on_server = remote_graph(server).export("nquads").decode("utf-8")
    assert sorted(on_server.splitlines()) == sorted(expected.splitlines())


# Answers that must be errors ------------------------------------------------------------


def test_an_answer_under_the_cap_is_whole(low_cap_virtuoso: RunningServer) -> None:
    table = remote_graph(low_cap_virtuoso).query("summary")
    assert 0 < len(table) < LOW_MAX_ROWS


def test_a_capped_select_is_an_error(low_cap_virtuoso: RunningServer) -> None:
    text = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {LOW_MAX_ROWS * 4}"
    with pytest.raises(CappedAnswer, match=f"(?i)x-sparql-maxrows: {LOW_MAX_ROWS}"):
        remote_graph(low_cap_virtuoso).sparql(text)
    result = hrkg_cli("--endpoint", low_cap_virtuoso.query_url, "sparql", text)
    assert result.exit_code == 2
    assert "capped" in result.output and "ResultSetMaxRows" in result.output


def test_a_capped_construct_is_an_error(low_cap_virtuoso: RunningServer) -> None:
    """Virtuoso cuts a CONSTRUCT answer at the cap without a header: hrkg probes."""
    graph = remote_graph(low_cap_virtuoso)
    small = graph.sparql("CONSTRUCT WHERE { ?s a <https://w3id.org/hrkg/def/Case> }")
    assert isinstance(small, list) and 0 < len(small) < LOW_MAX_ROWS
    with pytest.raises(CappedAnswer, match="may have capped"):
        graph.sparql("CONSTRUCT WHERE { ?s ?p ?o }")


def test_a_partial_anytime_answer_is_an_error(low_cap_virtuoso: RunningServer) -> None:
    """With a timeout parameter, Virtuoso answers 200 with what it had and says so only
    in the X-SQL-State header; now and then it cancels the query instead (status 500,
    SR189: see test_server_errors.py). Either way a time-out, never a partial table."""
    impatient = RunningServer(
        "virtuoso", f"{low_cap_virtuoso.query_url}?timeout=500", user=None, password=None
    )
    with pytest.raises(QueryTimeout, match=r"incomplete answer|SR189"):
        remote_graph(impatient).sparql(HEAVY_GROUPS)


def test_a_query_past_virtuosos_time_limit_is_an_error(low_cap_virtuoso: RunningServer) -> None:
    """Virtuoso's own time limit is a time-out (503 when served), naming the setting."""
    with pytest.raises(QueryTimeout, match="timed out") as stopped:
        remote_graph(low_cap_virtuoso).sparql(HEAVY_GROUPS)
    assert stopped.value.hint and "MaxQueryExecutionTime" in stopped.value.hint
    state = ServerState.over_endpoint(
        ServerConfig(), low_cap_virtuoso.endpoint(), data_dir=REPO_ROOT
    )
    with served(state) as client:
        answer = client.get("/sparql", params={"query": HEAVY_GROUPS})
        assert answer.status_code == 503 and "MaxQueryExecutionTime" in answer.text, answer.text


def test_a_refusal_on_estimated_cost_is_an_error_that_names_the_setting(
    low_cap_virtuoso: RunningServer, virtuoso: RunningServer
) -> None:
    """Virtuoso with its package's MaxQueryCostEstimationTime (400 s) refuses a query it
    would answer at once; the error says which setting to change. Without the limit, as
    the other test servers run, the same query answers."""
    with pytest.raises(QueryError, match="estimated execution time") as refused:
        remote_graph(low_cap_virtuoso).sparql(CROSS_PRODUCT)
    assert refused.value.hint and "MaxQueryCostEstimationTime = 0" in refused.value.hint
    result = hrkg_cli("--endpoint", low_cap_virtuoso.query_url, "sparql", CROSS_PRODUCT)
    assert result.exit_code == 2 and "MaxQueryCostEstimationTime" in result.output, result.output
    answer = remote_graph(virtuoso).sparql(CROSS_PRODUCT)
    assert isinstance(answer, Table) and len(answer) == 10


def test_a_cut_answer_is_an_error(impatient_oxigraph: RunningServer) -> None:
    """The Oxigraph server stops the query at its time limit after sending status 200 and
    the start of the answer."""
    with pytest.raises(QueryError, match="truncated or unparsable"):
        remote_graph(impatient_oxigraph).sparql(HEAVY_COUNT)
    result = hrkg_cli("--endpoint", impatient_oxigraph.query_url, "sparql", HEAVY_COUNT)
    assert result.exit_code == 2 and "truncated or unparsable" in result.output


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"


@pytest.mark.parametrize("limit", ["--endpoint-timeout", "--timeout"])
def test_a_silent_server_times_out_with_a_clear_error(silent_endpoint: str, limit: str) -> None:
    """Either limit stops the wait: --endpoint-timeout, or --timeout (any query's limit)
    when it is the shorter."""
    started = time.monotonic()
    result = hrkg_cli("--endpoint", silent_endpoint, limit, "1", "query", "run", "summary")
    elapsed = time.monotonic() - started
    assert result.exit_code == 2
    assert "did not answer within 1 s" in result.output and "--endpoint-timeout" in result.output
    assert elapsed < 10


# Validating and adding on a server ------------------------------------------------------

#: Every file validation is tested on: each kind of bad input, and the good one.
VALIDATED = [*sorted(BAD_INPUT), "new-case.ttl"]


def validated_file(name: str) -> Path:
    return BAD_FIXTURES / name if name in BAD_INPUT else GOOD / name


def outcome(graph: hrkg.KnowledgeGraph, path: Path) -> object:
    """What validating ``path`` gives: its findings and focus nodes, or its input error."""
    try:
        report = graph.validate(path)
    except HrkgError as error:
        return type(error).__name__, str(error)
    return report.findings, report.focus_nodes, report.exit_code()


@pytest.mark.parametrize("name", VALIDATED)
def test_validation_on_the_server_is_the_embedded_validation(
    name: str, remote: hrkg.KnowledgeGraph, kg: hrkg.KnowledgeGraph
) -> None:
    """The shapes read the server's data by pattern queries, and find what they find in
    the embedded store: the same findings, labels and focus nodes."""
    assert outcome(remote, validated_file(name)) == outcome(kg, validated_file(name))


@pytest.mark.parametrize("name", VALIDATED)
def test_cli_validates_against_the_server(name: str, server: RunningServer) -> None:
    code, words = BAD_INPUT.get(name, (0, "conforms"))
    path = str(validated_file(name))
    result = hrkg_cli("--endpoint", server.query_url, "validate", path, env=input_limit_for(name))
    assert result.exit_code == code, result.output
    assert words in result.output


def test_a_blank_node_of_the_server_cannot_be_looked_up(remote: hrkg.KnowledgeGraph) -> None:
    """SPARQL cannot name the server's blank nodes: asking about one again is an error,
    not an empty answer; a blank node the server never gave has nothing stored."""
    date_range = remote.store.quads_for_pattern(
        NamedNode(HR + "date"), NamedNode(RDFS_RANGE), None, None
    )
    [union] = {quad.object for quad in date_range}
    assert isinstance(union, BlankNode)
    with pytest.raises(QueryError, match="cannot look up the server's blank node"):
        list(remote.store.quads_for_pattern(union, None, None, None))
    assert list(remote.store.quads_for_pattern(BlankNode(), None, None, None)) == []


@pytest.fixture(scope="module", params=SERVERS)
def writable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A server of each kind for the tests that write, holding the dataset."""
    folder = tmp_path_factory.mktemp(f"{request.param}-writable")
    start = oxigraph_server if request.param == "oxigraph" else virtuoso_server
    with start(folder) as started:
        push_to(started)
        yield started


def server_dataset(server: RunningServer) -> list[str]:
    return sorted(remote_graph(server).export("nquads").decode("utf-8").splitlines())


def add_on(server: RunningServer, path: Path, *options: str):
    return hrkg_cli(*server.add_options(), "add", str(path), "--source", COUNTRY_PAGE, *options)


@pytest.mark.parametrize("name", [name for name in sorted(BAD_INPUT) if BAD_INPUT[name][0] == 1])
def test_add_on_the_server_refuses_bad_input_and_changes_nothing(
    name: str, writable: RunningServer
) -> None:
    before = server_dataset(writable)
    result = add_on(writable, BAD_FIXTURES / name)
    assert result.exit_code == 1 and BAD_INPUT[name][1] in result.output, result.output
    assert "nothing was written" in result.output
    assert server_dataset(writable) == before


def test_a_dry_run_on_the_server_writes_nothing(writable: RunningServer) -> None:
    before = server_dataset(writable)
    result = add_on(writable, GOOD / "new-case.ttl", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "7 new triples" in result.output and "dry run: nothing was written" in result.output
    assert server_dataset(writable) == before


def test_a_write_the_server_refuses_changes_nothing(writable: RunningServer) -> None:
    """A refused SPARQL Update (a wrong password on Virtuoso; Oxigraph server has no
    passwords, so there the Update URL is wrong) is an error, and nothing was written."""
    before = server_dataset(writable)
    options = writable.add_options()
    if writable.user:
        options[options.index("--endpoint-password") + 1] = "wrong"
    else:
        options[options.index("--update-endpoint") + 1] = writable.query_url.replace(
            "/query", "/no-such-service"
        )
    result = hrkg_cli(*options, "add", str(GOOD / "new-case.ttl"), "--source", COUNTRY_PAGE)
    assert result.exit_code == 2, result.output
    assert "the server answered" in result.output
    assert server_dataset(writable) == before


def test_add_writes_on_the_server_with_its_record(writable: RunningServer) -> None:
    result = add_on(writable, GOOD / "new-case.ttl", "--agent", "Test Researcher")
    assert result.exit_code == 0, result.output
    assert "7 new triples for document:amnesty-mali-country-page (1 Case)" in result.output, (
        result.output
    )
    assert f"written to the server at {writable.update_url}" in result.output, result.output
    on_server = remote_graph(writable)
    assert CASE + "test-new-case" in {row["case"] for row in on_server.query("cases").values()}
    changelog = on_server.query("changelog").values()
    assert len(changelog) == 1, changelog
    assert changelog[0]["inputFile"] == "new-case.ttl" and changelog[0]["triples"] == "7"
    assert changelog[0]["agent"] == "Test Researcher"
    again = add_on(writable, GOOD / "new-case.ttl")
    assert again.exit_code == 0, again.output
    assert "0 new triples" in again.output and "nothing new to write" in again.output, again.output
    assert on_server.query("changelog").values() == changelog


def test_the_server_lists_a_legal_action_also_typed_an_event_once(
    kg: hrkg.KnowledgeGraph, writable: RunningServer
) -> None:
    """The timeline's exclusion of legal actions from the events holds on each server (a
    MINUS form of it did not on Virtuoso 7.2): the arrest, typed hr:Event as well for this
    test, is listed as the embedded store lists it."""
    before = server_dataset(writable)
    endpoint = writable.endpoint()
    hrkg.push.send_update(endpoint, f"INSERT DATA {{ {ARREST_ALSO_AN_EVENT} }}")
    try:
        on_server = remote_graph(writable)
        assert on_server.sparql(f"ASK {{ {ARREST_ALSO_AN_EVENT} }}") is True
        assert timeline_rows_of(on_server, ARREST) == timeline_rows_of(kg, ARREST)
    finally:
        hrkg.push.send_update(endpoint, f"DELETE DATA {{ {ARREST_ALSO_AN_EVENT} }}")
    assert server_dataset(writable) == before


def a_new_case(folder: Path, name: str) -> Path:
    """An addition of its own: the good input's case under another IRI and label."""
    path = folder / f"{name}.ttl"
    text = (GOOD / "new-case.ttl").read_text(encoding="utf-8")
    path.write_text(
        text.replace("case:test-new-case", f"case:{name}").replace("Test case", name),
        encoding="utf-8",
    )
    return path


def case_on(server: RunningServer, name: str) -> bool:
    return remote_graph(server).store.query(f"ASK {{ <{CASE}{name}> a <{HR}Case> }}") is True


def test_an_addition_validated_before_another_landed_is_not_written(
    writable: RunningServer, tmp_path: Path
) -> None:
    """Two additions validated against the same state of the server, as two `hrkg add`
    run at once would be: the first written goes in; the second writes nothing and says
    to run it again, which then validates against both and goes in."""
    on_server = remote_graph(writable)
    first = a_new_case(tmp_path, "first-of-two")
    second = a_new_case(tmp_path, "second-of-two")
    planned = {path: hrkg.ingest.plan(on_server, path, COUNTRY_PAGE) for path in (first, second)}
    assert all(addition.report.conforms() for addition in planned.values())
    recorded = hrkg.ingest.recorded_additions(on_server)
    assert hrkg.ingest.write(on_server, planned[first], first).written
    before = server_dataset(writable)
    with pytest.raises(hrkg.ingest.AdditionConflict) as conflict:
        hrkg.ingest.write(on_server, planned[second], second)
    assert "nothing was written" in str(conflict.value)
    assert "run `hrkg add` again" in str(conflict.value)
    assert server_dataset(writable) == before
    assert case_on(writable, "first-of-two") and not case_on(writable, "second-of-two")
    assert hrkg.ingest.recorded_additions(on_server) == recorded + 1
    again = on_server.add(second, COUNTRY_PAGE)
    assert again.written and case_on(writable, "second-of-two")
    assert hrkg.ingest.recorded_additions(on_server) == recorded + 2


def test_add_on_a_server_needs_both_urls(server: RunningServer, tmp_path: Path) -> None:
    """Reading one dataset and writing another is refused, as is a write with no way to
    write; neither reads the file."""
    path = GOOD / "new-case.ttl"
    without_update = hrkg_cli("--endpoint", server.query_url, "add", str(path), "-s", COUNTRY_PAGE)
    assert without_update.exit_code == 2 and "--update-endpoint" in without_update.output
    update_only = hrkg_cli(
        "--update-endpoint", server.update_url or "", "add", str(path), "-s", COUNTRY_PAGE
    )
    assert update_only.exit_code == 2 and "only with --endpoint" in update_only.output


# hrkg serve in front of a server ----------------------------------------------------------

#: The bearer token the served SPARQL endpoint asks of updates in these tests.
UPDATE_TOKEN = "external-test-token"
JSON_RESULTS = "application/sparql-results+json"
TIMBUKTU = "/id/place/timbuktu"
COUNTRY_PAGE_GRAPH = "https://w3id.org/hrkg/id/document/amnesty-mali-country-page"
GRAPH_QUADS = f"SELECT * WHERE {{ GRAPH <{COUNTRY_PAGE_GRAPH}> {{ ?s ?p ?o }} }}"


def served(state: ServerState) -> contextlib.AbstractContextManager[TestClient]:
    """The application over ``state``, closed with it."""

    @contextlib.contextmanager
    def client() -> Iterator[TestClient]:
        try:
            with TestClient(create_app(state)) as test_client:
                yield test_client
        finally:
            state.close()

    return client()


@pytest.fixture(scope="module")
def served_embedded() -> Iterator[TestClient]:
    """`hrkg serve` over the embedded store: what the served server must match."""
    with served(ServerState.open(ServerConfig(workers=1), data_dir=REPO_ROOT)) as client:
        yield client


@pytest.fixture(scope="module")
def served_remote(server: RunningServer) -> Iterator[TestClient]:
    """`hrkg serve` in front of each server (`hrkg --endpoint URL serve`)."""
    state = ServerState.over_endpoint(ServerConfig(), server.endpoint(), data_dir=REPO_ROOT)
    with served(state) as client:
        yield client


def api_csv(client: TestClient, name: str, params: dict) -> str:
    answer = client.get(f"/api/queries/{name}", params={**params, "format": "csv"})
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.parametrize(("case", "name", "params"), CASES, ids=[case[0] for case in CASES])
def test_served_server_gives_the_embedded_answer(
    served_remote: TestClient, served_embedded: TestClient, case: str, name: str, params: dict
) -> None:
    concatenated = group_concat_columns(CATALOG.get(name).text)
    expected = read_csv(api_csv(served_embedded, name, params), concatenated)
    assert read_csv(api_csv(served_remote, name, params), concatenated) == expected


def test_served_server_answers_sparql_as_the_embedded_store(
    served_remote: TestClient, served_embedded: TestClient
) -> None:
    select = (
        f"SELECT ?case ?label WHERE {{ ?case a <{HR}Case> ; rdfs:label ?label }} ORDER BY ?case"
    )
    select = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> " + select
    headers = {"accept": "text/csv"}
    answers = [
        client.post("/sparql", data={"query": select}, headers=headers)
        for client in (served_embedded, served_remote)
    ]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].text == answers[0].text and answers[0].text.count("\n") > 5
    construct = f"CONSTRUCT WHERE {{ ?case a <{HR}Case> }}"
    graphs = [
        rdflib.Graph().parse(
            data=client.get("/sparql", params={"query": construct}).text, format="turtle"
        )
        for client in (served_embedded, served_remote)
    ]
    assert len(graphs[0]) > 5 and rdflib.compare.isomorphic(graphs[0], graphs[1])


def test_served_server_shows_the_embedded_entity(
    served_remote: TestClient, served_embedded: TestClient
) -> None:
    turtle = [
        rdflib.Graph().parse(
            data=client.get(TIMBUKTU, headers={"accept": "text/turtle"}).text, format="turtle"
        )
        for client in (served_embedded, served_remote)
    ]
    assert len(turtle[0]) > 2 and rdflib.compare.isomorphic(turtle[0], turtle[1])
    page = served_remote.get(TIMBUKTU, headers={"accept": "text/html"})
    assert page.status_code == 200 and "Timbuktu" in page.text
    missing = served_remote.get("/id/place/nowhere-at-all")
    assert missing.status_code == 404 and "nothing is known" in missing.text


def test_served_server_exports_the_embedded_graph(
    served_remote: TestClient, served_embedded: TestClient
) -> None:
    params = {"graph": COUNTRY_PAGE_GRAPH, "format": "nquads"}
    embedded = served_embedded.get("/graph-store", params=params)
    assert embedded.status_code == 200, embedded.text
    expected = embedded.text
    exported = served_remote.get("/graph-store", params=params)
    assert exported.status_code == 200, exported.text
    assert sorted(exported.text.splitlines()) == sorted(expected.splitlines())
    assert len(expected.splitlines()) > 100
    unknown = served_remote.get("/graph-store", params={"graph": f"{COUNTRY_PAGE_GRAPH}-not-there"})
    assert unknown.status_code == 404


def test_served_server_caps_answers_and_pages_on(server: RunningServer) -> None:
    state = ServerState.over_endpoint(
        ServerConfig(max_rows=4), server.endpoint(), data_dir=REPO_ROOT
    )
    with served(state) as client:
        first = client.get("/api/queries/cases", params={"format": "csv"})
        assert first.status_code == 200 and len(first.text.splitlines()) == 1 + 4
        assert first.headers["HRKG-Results-Truncated"] == "4"
        assert "offset=4" in first.headers["Link"]
        # hrkg's own reads are not capped: a whole graph exports, every graph is listed.
        params = {"graph": COUNTRY_PAGE_GRAPH, "format": "nquads"}
        exported = client.get("/graph-store", params=params).text.splitlines()
        assert len(exported) == len(remote_graph(server).store.query(GRAPH_QUADS).rows)
        described = client.get("/sparql", headers={"accept": "text/turtle"}).text
        assert described.count("sd:NamedGraph") == len(remote_graph(server).store.graph_names())


def test_served_server_refuses_updates_unless_allowed(served_remote: TestClient) -> None:
    answer = served_remote.post(
        "/sparql",
        content=f"INSERT DATA {{ GRAPH <{COUNTRY_PAGE_GRAPH}> {{ <urn:x:a> <urn:x:b> 1 }} }}",
        headers={"content-type": "application/sparql-update"},
    )
    assert answer.status_code == 403 and "read-only" in answer.text


def test_served_server_passes_on_a_refusal_as_bad_gateway(low_cap_virtuoso: RunningServer) -> None:
    """A query the server behind refuses is its failure, not the asker's: 502, with the
    server's message and hrkg's hint."""
    state = ServerState.over_endpoint(
        ServerConfig(), low_cap_virtuoso.endpoint(), data_dir=REPO_ROOT
    )
    with served(state) as client:
        refused = client.get("/sparql", params={"query": CROSS_PRODUCT})
        assert refused.status_code == 502, refused.text
        assert "estimated execution time" in refused.text
        assert "MaxQueryCostEstimationTime" in refused.text
        whole = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {LOW_MAX_ROWS * 4}"
        capped = client.get("/sparql", params={"query": whole})
        assert capped.status_code == 502 and "capped the answer" in capped.text, capped.text


def test_serving_a_server_that_is_not_there_fails_at_start() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    endpoint = Endpoint(f"http://127.0.0.1:{closed_port}/sparql", timeout=5)
    with pytest.raises(UpstreamError, match="cannot reach"):
        ServerState.over_endpoint(ServerConfig(), endpoint, data_dir=REPO_ROOT)


def test_serving_updates_needs_the_update_url(server: RunningServer) -> None:
    config = ServerConfig(allow_update=True, update_token=UPDATE_TOKEN)
    with pytest.raises(HrkgError, match="needs its SPARQL Update URL"):
        ServerState.over_endpoint(config, Endpoint(server.query_url), data_dir=REPO_ROOT)


def test_cli_serves_a_server(server: RunningServer) -> None:
    """`hrkg --endpoint URL serve` as a user starts it, in its own process; and the options
    that set hrkg's own workers are refused beside --endpoint."""
    port = free_port()
    command = [sys.executable, "-m", "hrkg", "--data-dir", str(REPO_ROOT)]
    command += ["--endpoint", server.query_url, "serve", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/queries/summary"
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(url, timeout=30)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    pytest.fail(f"hrkg serve did not start: {process.communicate()[1][-2000:]!r}")
                time.sleep(0.2)
        assert answer.status_code == 200, answer.text
        assert json.loads(answer.text)["results"]["bindings"]
    finally:
        process.terminate()
        stderr = process.communicate(timeout=20)[1].decode()
    assert f"hrkg serving the SPARQL server at {server.query_url}" in stderr
    refused = hrkg_cli("--endpoint", server.query_url, "serve", "--in-memory")
    assert refused.exit_code == 2 and "--in-memory" in refused.output


def test_served_server_writes_updates_on_the_server(writable: RunningServer) -> None:
    """With --allow-update and the token, an update goes to the server's Update URL; a bad
    one, or one without the token, changes nothing."""
    config = ServerConfig(allow_update=True, update_token=UPDATE_TOKEN)
    triple = f'<{CASE}served-update> <{HR}note> "written through hrkg serve"'
    insert = f"INSERT DATA {{ GRAPH <{COUNTRY_PAGE_GRAPH}> {{ {triple} }} }}"
    update = {"content-type": "application/sparql-update"}
    authorised = {**update, "authorization": f"Bearer {UPDATE_TOKEN}"}
    state = ServerState.over_endpoint(config, writable.endpoint(), data_dir=REPO_ROOT)
    with served(state) as client:
        before = server_dataset(writable)
        assert client.post("/sparql", content=insert, headers=update).status_code == 401
        malformed = client.post("/sparql", content="INSERT DATA { oops", headers=authorised)
        assert malformed.status_code == 400, malformed.text
        assert server_dataset(writable) == before
        written = client.post("/sparql", content=insert, headers=authorised)
        assert written.status_code == 204, written.text
        ask = {"query": f"ASK {{ GRAPH <{COUNTRY_PAGE_GRAPH}> {{ {triple} }} }}"}
        held = client.get("/sparql", params=ask, headers={"accept": JSON_RESULTS})
        assert held.json()["boolean"] is True, held.text
        removed = client.post(
            "/sparql",
            content=f"DELETE DATA {{ GRAPH <{COUNTRY_PAGE_GRAPH}> {{ {triple} }} }}",
            headers=authorised,
        )
        assert removed.status_code == 204, removed.text
        assert server_dataset(writable) == before
