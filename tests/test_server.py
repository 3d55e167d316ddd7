"""The server: SPARQL 1.1 protocol, REST API, linked data and limits, in process and for real."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph
import pytest
import rdflib
from SPARQLWrapper import JSON, SPARQLWrapper
from starlette.testclient import TestClient

from answer_comparison import group_concat_columns, read_csv
from hrkg.errors import QueryResourceLimit
from hrkg.export import EXPORT_FORMATS
from hrkg.server import ServerConfig, create_app
from hrkg.server.state import ServerState
from polling import eventually

SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PERSON = "https://w3id.org/hrkg/def/Person"
COUNTRY_PAGE = "https://w3id.org/hrkg/id/document/amnesty-mali-country-page"
TOKEN = "s3cret-test-token"
#: Queries that between them read every index of the store.
EVERY_INDEX = [
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    f"SELECT ?s WHERE {{ ?s a <{PERSON}> }}",
    f"SELECT ?p WHERE {{ ?s ?p <{PERSON}> }}",
    f"SELECT ?g ?s WHERE {{ GRAPH ?g {{ ?s a <{PERSON}> }} }}",
    f"SELECT ?g ?p WHERE {{ GRAPH ?g {{ ?s ?p <{PERSON}> }} }}",
    "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
]


@pytest.fixture(scope="module", params=[False, True], ids=["disk-workers", "memory-workers"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The server in process; every test runs with workers reading the store on disk and
    with workers answering from their own in-memory copy (``--in-memory``)."""
    config = ServerConfig(timeout=2.0, max_rows=20, workers=2, in_memory=request.param)
    state = ServerState.open(config)
    with TestClient(create_app(state)) as test_client:
        yield test_client
    state.close()


@pytest.fixture(scope="module")
def disk_and_memory() -> Iterator[tuple[TestClient, TestClient, ServerState]]:
    """Two servers over the same data, uncapped: workers on disk, and workers in memory."""
    states = [ServerState.open(ServerConfig(workers=1, in_memory=mode)) for mode in (False, True)]
    with TestClient(create_app(states[0])) as disk, TestClient(create_app(states[1])) as memory:
        yield disk, memory, states[1]
    for state in states:
        state.close()


@pytest.fixture
def writable(dataset_copy: Path) -> Iterator[TestClient]:
    state = ServerState.open(
        ServerConfig(allow_update=True, update_token=TOKEN, workers=1), data_dir=dataset_copy
    )
    with TestClient(create_app(state)) as test_client:
        yield test_client
    state.close()


@pytest.mark.parametrize(
    ("accept", "media", "check"),
    [
        ("application/sparql-results+json", "application/sparql-results+json", '"bindings"'),
        ("application/sparql-results+xml", "application/sparql-results+xml", "<sparql xmlns"),
        ("text/csv", "text/csv", "s,p,o"),
        ("text/tab-separated-values", "text/tab-separated-values", "?s\t?p\t?o"),
        (None, "application/sparql-results+json", '"bindings"'),
    ],
)
def test_select_by_get_in_every_result_format(client: TestClient, accept, media, check) -> None:
    headers = {"accept": accept} if accept else {}
    response = client.get("/sparql", params={"query": SELECT_ALL + " LIMIT 3"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert check in response.text


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("text/turtle", pyoxigraph.RdfFormat.TURTLE),
        ("application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES),
        ("application/ld+json", pyoxigraph.RdfFormat.JSON_LD),
        ("application/rdf+xml", pyoxigraph.RdfFormat.RDF_XML),
    ],
)
def test_construct_in_every_graph_format(client: TestClient, accept: str, fmt) -> None:
    query = f"CONSTRUCT WHERE {{ ?s a <{PERSON}> }}"
    response = client.post("/sparql", data={"query": query}, headers={"accept": accept})
    assert response.status_code == 200
    triples = list(pyoxigraph.parse(response.content, format=fmt))
    assert len(triples) == 9 and all(t.object.value == PERSON for t in triples)


def test_query_by_post_body_and_ask(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content=f"ASK {{ ?s a <{PERSON}> }}",
        headers={
            "content-type": "application/sparql-query",
            "accept": "application/sparql-results+json",
        },
    )
    assert response.status_code == 200 and response.json() == {"head": {}, "boolean": True}


def test_default_and_named_graph_uris_choose_the_dataset(client: TestClient) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    one = client.get("/sparql", params={"query": count, "default-graph-uri": COUNTRY_PAGE})
    everything = client.get("/sparql", params={"query": count})
    n_one = int(one.json()["results"]["bindings"][0]["n"]["value"])
    n_all = int(everything.json()["results"]["bindings"][0]["n"]["value"])
    assert 0 < n_one < n_all
    named = client.get(
        "/sparql",
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": COUNTRY_PAGE,
        },
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [COUNTRY_PAGE]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "message"),
    [
        ({"params": {"query": "SELEC ?s"}}, 400, "does not parse"),
        (
            {"params": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/s> { ?s ?p ?o } }"}},
            403,
            "SERVICE",
        ),
        (
            {"params": {"query": "INSERT DATA { <http://a/> <http://b/> <http://c/> }"}},
            403,
            "updates",
        ),
        ({"params": {"query": HEAVY}}, 503, "was stopped"),
        (
            {"params": {"query": SELECT_ALL}, "headers": {"accept": "image/png"}},
            406,
            "no acceptable format",
        ),
    ],
)
def test_errors_have_the_right_status(client: TestClient, request_kwargs, status, message) -> None:
    response = client.get("/sparql", **request_kwargs)
    assert response.status_code == status
    assert message in response.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("SELECT ?s WHERE { ?s ?p ?o } #" + "x" * 200_000, "over the limit of 100000"),
        ("#" * (2 * 1024 * 1024), "request body is over the limit"),
    ],
)
def test_oversized_queries_and_bodies_get_413(client: TestClient, body: str, message: str) -> None:
    response = client.post(
        "/sparql", content=body, headers={"content-type": "application/sparql-query"}
    )
    assert response.status_code == 413 and message in response.text


def test_update_by_post_is_refused_on_a_read_only_server(client: TestClient) -> None:
    response = client.post(
        "/sparql",
        content="INSERT DATA { <http://a/> <http://b/> <http://c/> }",
        headers={"content-type": "application/sparql-update", "authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 403 and "read-only" in response.text


def test_a_timeout_leaves_the_server_answering(client: TestClient) -> None:
    assert client.get("/sparql", params={"query": HEAVY}).status_code == 503
    quick = client.get("/sparql", params={"query": f"ASK {{ ?s a <{PERSON}> }}"})
    assert quick.status_code == 200 and quick.json()["boolean"] is True


def test_capped_results_say_so(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": SELECT_ALL})
    assert response.status_code == 200
    assert response.headers["hrkg-results-truncated"] == "20"
    assert len(response.json()["results"]["bindings"]) == 20


def test_service_description_without_a_query(client: TestClient) -> None:
    response = client.get("/sparql")
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, rdflib.RDF.type, sd.Service) in graph
    assert (None, sd.name, rdflib.URIRef(COUNTRY_PAGE)) in graph


def test_cors_lets_other_origins_query(client: TestClient) -> None:
    response = client.get(
        "/sparql",
        params={"query": "ASK { ?s ?p ?o }"},
        headers={"origin": "https://yasgui.example"},
    )
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/sparql",
        headers={"origin": "https://yasgui.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 200


def test_rest_api_lists_and_runs_questions(client: TestClient) -> None:
    listing = client.get("/api/queries").json()
    reports = next(item for item in listing if item["name"] == "reports")
    assert {p["name"] for p in reports["parameters"]} == {"year", "type"}
    answer = client.get("/api/queries/reports", params={"year": "2013"})
    assert answer.status_code == 200
    assert len(answer.json()["results"]["bindings"]) == 2
    csv = client.get("/api/queries/reports", params={"year": "2013", "format": "csv"})
    assert (
        csv.headers["content-type"].startswith("text/csv")
        and "Annual Report: Mali 2013" in csv.text
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/queries/reports", {"year": "twenty"}, 400, "not a whole number"),
        ("/api/queries/reports", {"yaer": "2013"}, 400, "unknown parameter"),
        ("/api/queries/sources-of", {}, 400, "a value is required"),
        ("/api/queries/no-such-question", {}, 404, "no stored query"),
    ],
)
def test_rest_api_bad_parameters(client: TestClient, path, params, status, message) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status and message in response.text


def test_openapi_describes_every_question(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    names = {item["name"] for item in client.get("/api/queries").json()}
    assert {f"/api/queries/{name}" for name in names} <= set(document["paths"])
    year = document["paths"]["/api/queries/reports"]["get"]["parameters"][0]
    assert year["schema"]["type"] == "integer"
    answer = client.get("/api/queries/cases", params={"limit": "1"})
    sent = {name.lower() for name in answer.headers} & {"cache-status", "link", "etag"}
    documented = document["paths"]["/api/queries/cases"]["get"]["responses"]["200"]["headers"]
    assert sent == {"cache-status", "link", "etag"}
    assert sent <= {name.lower() for name in documented}


def test_entity_page_for_a_browser(client: TestClient) -> None:
    page = client.get(
        "/id/person/amadou-sanogo", headers={"accept": "text/html,application/xhtml+xml"}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Amadou Sanogo" in page.text and "General Amadou Sanogo" in page.text
    assert 'href="/id/organization/military-junta"' in page.text


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/trig"])
def test_entity_description_for_tools(client: TestClient, accept: str) -> None:
    response = client.get(
        "/id/case/2013-02-disappearance-of-11-men-in-timbuktu", headers={"accept": accept}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    assert "Timbuktu" in response.text


@pytest.mark.parametrize(
    "path",
    ["/id/person/no-such-person", "/id/person/..%2F..%2Fetc%2Fpasswd", "/id/../../etc/passwd"],
)
def test_unknown_or_hostile_entity_paths_get_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_graph_store_read(client: TestClient) -> None:
    one = client.get(
        "/graph-store", params={"graph": COUNTRY_PAGE}, headers={"accept": "application/n-triples"}
    )
    assert one.status_code == 200 and COUNTRY_PAGE in one.text
    union = client.get("/graph-store?default", headers={"accept": "application/n-quads"})
    assert union.status_code == 200 and union.text.count("\n") > one.text.count("\n")
    assert client.get("/graph-store").status_code == 400
    assert client.get("/graph-store", params={"graph": "https://x.org/none"}).status_code == 404


GRAPH_STORE_FORMATS = ["turtle", "ntriples", "xml", "trig", "nquads"]


@pytest.mark.parametrize("fmt", GRAPH_STORE_FORMATS)
@pytest.mark.parametrize("which", ["default", "graph"])
def test_graph_store_read_gives_the_export(kg, client: TestClient, fmt: str, which) -> None:
    """The Graph Store read of the union or one graph is what ``hrkg export`` writes for
    the same data, byte for byte, with its length announced before the stream."""
    params = {"default": ""} if which == "default" else {"graph": COUNTRY_PAGE}
    answer = client.get("/graph-store", params={**params, "format": fmt})
    assert answer.status_code == 200, answer.text
    expected = kg.export(fmt, graphs=None if which == "default" else [COUNTRY_PAGE])
    assert answer.content == expected
    assert answer.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("fmt", [*GRAPH_STORE_FORMATS, "jsonld"])
@pytest.mark.parametrize("which", ["default", "graph"])
def test_graph_store_read_in_store_order_holds_the_export(
    kg, client: TestClient, fmt: str, which
) -> None:
    """``?order=store``: the unsorted export, which parses to what the sorted one holds
    (blank node labels aside: the server's store named its own)."""
    params = {"default": ""} if which == "default" else {"graph": COUNTRY_PAGE}
    answer = client.get("/graph-store", params={**params, "format": fmt, "order": "store"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-length"] == str(len(answer.content))
    graphs = None if which == "default" else [COUNTRY_PAGE]
    # Store order writes JSON-LD with the graphs, as it writes TriG.
    sorted_fmt = "trig" if fmt == "jsonld" else fmt
    rdf_format = EXPORT_FORMATS[fmt].rdf_format
    fast = pyoxigraph.Dataset(pyoxigraph.parse(answer.content, rdf_format))
    canonical = pyoxigraph.Dataset(
        pyoxigraph.parse(
            kg.export(sorted_fmt, graphs=graphs), EXPORT_FORMATS[sorted_fmt].rdf_format
        )
    )
    for dataset in (fast, canonical):
        dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    assert set(fast) == set(canonical)


def test_graph_store_read_in_an_unknown_order_is_refused(client: TestClient) -> None:
    answer = client.get("/graph-store", params={"default": "", "order": "sorted"})
    assert answer.status_code == 400
    assert answer.text == "?order=sorted is not one of canonical, store\n"


@pytest.mark.parametrize("which", ["default", "graph"])
def test_graph_store_read_in_jsonld_has_the_merged_triples(kg, client: TestClient, which) -> None:
    params = {"default": ""} if which == "default" else {"graph": COUNTRY_PAGE}
    answer = client.get("/graph-store", params={**params, "format": "jsonld"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    triples = set(pyoxigraph.parse(answer.content, pyoxigraph.RdfFormat.JSON_LD))
    graphs = None if which == "default" else [COUNTRY_PAGE]
    exported = kg.export("ntriples", graphs=graphs)
    assert triples == set(pyoxigraph.parse(exported, pyoxigraph.RdfFormat.N_TRIPLES))


def test_an_update_waits_for_a_graph_store_read_in_progress(writable: TestClient) -> None:
    """A read streams one version of the data: an update arriving while it is being written
    waits for it, and the next read has the update."""
    state: ServerState = writable.app.state.hrkg
    entered, release = threading.Event(), threading.Event()
    exporting = state.kg.export_to

    def slow_export(*args, **kwargs) -> None:
        entered.set()
        release.wait(30)
        exporting(*args, **kwargs)

    state.kg.export_to = slow_export  # the real export, started late: the update must wait
    reads: list = []
    reader = threading.Thread(
        target=lambda: reads.append(writable.get("/graph-store?default&format=nquads"))
    )
    updater = threading.Thread(target=insert_into_scratch, args=(writable,))
    try:
        reader.start()
        assert entered.wait(30)
        updater.start()
        time.sleep(0.5)
        assert updater.is_alive(), "the update went ahead while the read was being written"
    finally:
        release.set()
        reader.join(60)
        if updater.ident is not None:
            updater.join(60)
        del state.kg.export_to
    assert b"/graph/scratch>" not in reads[0].content
    after = writable.get("/graph-store?default&format=nquads")
    assert b"/graph/scratch>" in after.content


def test_update_needs_the_token(writable: TestClient) -> None:
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/hrkg/graph/scratch> "
        "{ <https://x.org/a> <https://x.org/b> 1 } }"
    )
    headers = {"content-type": "application/sparql-update"}
    assert writable.post("/sparql", content=update, headers=headers).status_code == 401
    wrong = {**headers, "authorization": "Bearer wrong"}
    assert writable.post("/sparql", content=update, headers=wrong).status_code == 401
    right = {**headers, "authorization": f"Bearer {TOKEN}"}
    assert writable.post("/sparql", content=update, headers=right).status_code == 204
    ask = writable.get("/sparql", params={"query": "ASK { <https://x.org/a> <https://x.org/b> 1 }"})
    assert ask.json()["boolean"] is True
    load = writable.post("/sparql", content="LOAD <http://127.0.0.1:9/x>", headers=right)
    assert load.status_code == 403


def test_workers_keep_answering_while_the_primary_store_compacts(tmp_path: Path) -> None:
    """Reads of the read-write store (the service description, entity pages) can set off a
    RocksDB compaction that deletes files; the workers, which read a frozen copy, do not care.

    Regression: with a bulk-loaded store, the workers opened the live folder, and after the
    service description had read the store, the trivial ``reports`` question ran into a
    deleted file and timed out (503), and so did the real server's API.
    """
    state = ServerState.open(ServerConfig(timeout=20.0, workers=1), store=tmp_path / "store")
    try:
        with TestClient(create_app(state)) as client:
            assert len(list((tmp_path / "store").glob("*.sst"))) > 16, "enough files to show it"
            assert client.get("/sparql").status_code == 200  # reads the primary store
            state.primary.oxigraph.optimize()  # and compacts it, deleting files, for sure
            answer = client.get("/api/queries/reports", params={"year": "2013"})
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["results"]["bindings"]) == 2
            for query in EVERY_INDEX:
                response = client.get("/sparql", params={"query": query})
                assert response.status_code == 200, f"{query}: {response.text}"
            page = client.get("/id/place/timbuktu", headers={"accept": "text/html"})
            assert page.status_code == 200 and "Timbuktu" in page.text
    finally:
        state.close()
    assert [path.name for path in tmp_path.iterdir()] == ["store"], "the copy is removed"


QUERIES = Path(__file__).resolve().parents[1] / "queries"


def _question_names() -> list[str]:
    return sorted(path.stem for path in QUERIES.glob("*.rq"))


@pytest.mark.parametrize("name", _question_names())
def test_in_memory_workers_answer_every_question_as_the_disk_workers_do(
    disk_and_memory: tuple[TestClient, TestClient, ServerState], name: str
) -> None:
    """The same rows, up to what SPARQL leaves free (row order among ties, the order of a
    GROUP_CONCAT's parts), which follows each store's own iteration order."""
    disk, memory, state = disk_and_memory
    stored = state.kg.catalog.get(name)
    answers = [
        client.get(f"/api/queries/{name}", params={**stored.example, "format": "csv"})
        for client in (disk, memory)
    ]
    assert [answer.status_code for answer in answers] == [200, 200], answers[1].text
    concatenated = group_concat_columns(stored.text)
    on_disk, in_memory = (read_csv(answer.text, concatenated) for answer in answers)
    assert in_memory == on_disk
    assert on_disk["rows"] or name == "changelog", "the question answers rows on the Mali data"


def test_a_worker_that_cannot_load_the_data_stops_the_server_from_starting() -> None:
    """A memory ceiling too small for the in-memory copy: the server refuses to start, says
    why and what to change, and leaves no worker or copy behind."""
    config = ServerConfig(workers=1, in_memory=True, worker_memory_bytes=64 * 1024**2)
    with pytest.raises(QueryResourceLimit) as raised:
        ServerState.open(config)
    assert "could not load the data into memory" in raised.value.message
    assert "HRKG_WORKER_MEMORY" in raised.value.hint and "--in-memory" in raised.value.hint


@contextmanager
def one_worker(queue_timeout: float, **settings: int) -> Iterator[ServerState]:
    """A server with a single worker, so that one heavy query (3 s, then stopped) holds it."""
    config = ServerConfig(timeout=3.0, workers=1, queue_timeout=queue_timeout, **settings)
    state = ServerState.open(config)
    try:
        yield state
    finally:
        state.close()


class Background:
    """A request sent from its own thread, as a concurrent client sends it."""

    def __init__(self, client: TestClient, path: str, **params: str) -> None:
        self.response: httpx.Response | None = None
        self.thread = threading.Thread(target=self._send, args=(client, path, params))
        self.thread.start()

    def _send(self, client: TestClient, path: str, params: dict[str, str]) -> None:
        self.response = client.get(path, params=params)

    def result(self) -> httpx.Response:
        self.thread.join(timeout=60)
        assert self.response is not None, "the request never came back"
        return self.response


ASK_PERSON = f"ASK {{ ?s a <{PERSON}> }}"


def numbered(query: str, number: int) -> str:
    """The query made distinct by a comment: identical queries waiting at the same time
    are answered by one run (see test_identical_queries_at_once_share_one_run)."""
    return f"{query}\n# {number}"


def test_requests_that_find_every_worker_busy_are_refused_with_retry_after() -> None:
    """With the only worker held by a heavy query, each way in (SPARQL, the REST API, an
    entity page) answers 503 with Retry-After once its wait is over, and runs nothing;
    afterwards the worker is back and answers."""
    with one_worker(queue_timeout=0.2) as state:
        client = TestClient(create_app(state))
        heavy = Background(client, "/sparql", query=HEAVY)
        eventually(lambda: state.runner.idle_workers() == 0)
        for path, params in [
            ("/sparql", {"query": ASK_PERSON}),
            ("/api/queries/summary", {}),
            ("/id/person/amadou-sanogo", {}),
        ]:
            busy = client.get(path, params=params)
            assert busy.status_code == 503, (path, busy.text)
            assert busy.headers["retry-after"] == "3"
            assert "stayed busy for 0.2 s" in busy.text and "HRKG_QUEUE_TIMEOUT" in busy.text
        assert state.runner.waiting() == {}
        assert heavy.result().status_code == 503 and "more than 3 s" in heavy.result().text
        after = client.get("/sparql", params={"query": ASK_PERSON})
        assert after.status_code == 200 and after.json()["boolean"] is True


def test_waiting_queries_take_turns_by_client_address() -> None:
    """Queries wait for the worker keyed by the client's address, in turn order, and all
    are answered once it is free."""
    with one_worker(queue_timeout=60) as state:
        app = create_app(state)
        flood = TestClient(app, client=("192.0.2.1", 50000))
        other = TestClient(app, client=("192.0.2.2", 50000))
        heavy = Background(flood, "/sparql", query=HEAVY)
        eventually(lambda: state.runner.idle_workers() == 0)
        waiting: list[Background] = []
        for number, client in enumerate((flood, flood, other)):
            waiting.append(Background(client, "/sparql", query=numbered(ASK_PERSON, number)))
            queued = len(waiting)
            eventually(lambda queued=queued: sum(state.runner.waiting().values()) == queued)
        assert list(state.runner.waiting().items()) == [("192.0.2.1", 2), ("192.0.2.2", 1)]
        assert heavy.result().status_code == 503
        for request in waiting:
            assert request.result().status_code == 200 and request.result().json()["boolean"]
        assert state.runner.waiting() == {}


@pytest.mark.parametrize(
    ("settings", "environment", "message"),
    [
        ({"allow_update": True, "update_token": None}, {}, "needs an update token"),
        ({"timeout": 0}, {}, "timeout and the row limit must be positive"),
        ({"max_rows": 0}, {}, "timeout and the row limit must be positive"),
        ({"queue_timeout": 0}, {}, "queue timeout .HRKG_QUEUE_TIMEOUT. must be positive"),
        ({}, {"HRKG_QUEUE_TIMEOUT": "-1"}, "queue timeout .HRKG_QUEUE_TIMEOUT. must be positive"),
        ({"client_concurrency": 0}, {}, "per client .HRKG_CLIENT_CONCURRENCY. must be 1 or more"),
        ({}, {"HRKG_QUEUE_TIMEOUT": "soon"}, "HRKG_QUEUE_TIMEOUT='soon' is not a number"),
        ({}, {"HRKG_CLIENT_CONCURRENCY": "1.5"}, "HRKG_CLIENT_CONCURRENCY='1.5' is not a whole"),
        ({}, {"HRKG_CACHE_BYTES": "-1"}, "answer cache .HRKG_CACHE_BYTES. cannot be negative"),
        ({}, {"HRKG_CACHE_BYTES": "lots"}, "HRKG_CACHE_BYTES='lots' is not a whole number"),
    ],
    ids=[
        "update-without-token",
        "timeout",
        "max-rows",
        "queue-timeout",
        "queue-timeout-env",
        "client-concurrency",
        "queue-timeout-not-a-number",
        "client-concurrency-not-whole",
        "cache-negative",
        "cache-not-a-number",
    ],
)
def test_bad_settings_refuse_to_start(
    settings: dict, environment: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        ServerConfig(**settings)


def test_the_queue_timeout_defaults_to_three_times_the_query_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HRKG_QUEUE_TIMEOUT", raising=False)
    assert ServerConfig(timeout=7.0).worker_wait == 21.0
    assert ServerConfig(timeout=7.0, queue_timeout=2.5).worker_wait == 2.5
    monkeypatch.setenv("HRKG_QUEUE_TIMEOUT", "4")
    assert ServerConfig(timeout=7.0).worker_wait == 4.0


def test_a_client_over_its_share_of_requests_gets_429() -> None:
    """One request in flight per client: the same client's second gets 429 with
    Retry-After at once, while another client's request is taken and answered."""
    with one_worker(queue_timeout=60, client_concurrency=1) as state:
        app = create_app(state)
        busy_client = TestClient(app, client=("192.0.2.1", 50000))
        other = TestClient(app, client=("192.0.2.2", 50000))
        heavy = Background(busy_client, "/sparql", query=HEAVY)
        eventually(lambda: state.runner.idle_workers() == 0)
        refused = busy_client.get("/sparql", params={"query": ASK_PERSON})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert "at most 1 in flight" in refused.text and "HRKG_CLIENT_CONCURRENCY" in refused.text
        taken = Background(other, "/sparql", query=ASK_PERSON)
        assert heavy.result().status_code == 503
        assert taken.result().status_code == 200
        again = busy_client.get("/sparql", params={"query": ASK_PERSON})
        assert again.status_code == 200, "the count went down when the answer went out"


def test_more_waiting_queries_than_default_threads_all_reach_the_queue() -> None:
    """45 queries from one client wait for the one worker at once: each holds a thread,
    more than anyio's default 40, so no other client queues behind them for a thread."""
    with (
        one_worker(queue_timeout=60, client_concurrency=64) as state,
        TestClient(create_app(state)) as client,
    ):
        heavy = Background(client, "/sparql", query=HEAVY)
        eventually(lambda: state.runner.idle_workers() == 0)
        waiting = [Background(client, "/sparql", query=numbered(ASK_PERSON, n)) for n in range(45)]
        eventually(lambda: sum(state.runner.waiting().values()) == 45)
        assert heavy.result().status_code == 503
        assert [request.result().status_code for request in waiting] == [200] * 45


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module", params=[[], ["--in-memory"]], ids=["disk", "in-memory"])
def live_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """`hrkg serve` in its own process on a free loopback port, as a user starts it."""
    port = _free_port()
    script = Path(sys.executable).with_name("hrkg")
    command = [str(script), "serve", "--port", str(port), *request.param]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/queries", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("hrkg serve did not start: " + process.stderr.read().decode()[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=20)


def test_a_real_sparql_client_queries_the_real_server(live_server: str) -> None:
    sparql = SPARQLWrapper(f"{live_server}/sparql")
    sparql.setQuery(f"SELECT ?p WHERE {{ ?p a <{PERSON}> }} ORDER BY ?p")
    sparql.setReturnFormat(JSON)
    sparql.setTimeout(30)
    bindings = sparql.query().convert()["results"]["bindings"]
    assert "https://w3id.org/hrkg/id/person/amadou-sanogo" in {b["p"]["value"] for b in bindings}


def test_rdflib_sparql_store_reads_the_real_server(live_server: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(f"{live_server}/sparql", returnFormat="json", timeout=30)
    rows = list(
        rdflib.Graph(store=store).query(
            f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p a <{PERSON}> }}"
        )
    )
    assert int(rows[0][0]) == 9


def test_real_server_api_and_entity(live_server: str) -> None:
    answer = httpx.get(f"{live_server}/api/queries/office-holders", timeout=30)
    assert len(json.loads(answer.text)["results"]["bindings"]) == 4
    page = httpx.get(
        f"{live_server}/id/place/timbuktu", headers={"accept": "text/html"}, timeout=30
    )
    assert page.status_code == 200 and "Timbuktu" in page.text


@pytest.mark.parametrize(
    ("cache_bytes", "again"),
    [(256 * 1024**2, "hrkg; hit"), (0, "hrkg; fwd=miss")],
    ids=["cache", "no-cache"],
)
def test_a_repeated_request_is_answered_from_the_cache(cache_bytes: int, again: str) -> None:
    """The same query, question or entity page a second time: the same answer, kept from
    the first (``Cache-Status: hrkg; hit``) unless the cache is off; a static file says
    nothing about the cache."""
    state = ServerState.open(ServerConfig(workers=1, cache_bytes=cache_bytes))
    try:
        client = TestClient(create_app(state))
        for path, params in [
            ("/sparql", {"query": f"SELECT ?s WHERE {{ ?s a <{PERSON}> }} ORDER BY ?s"}),
            ("/api/queries/office-holders", {}),
            ("/api/queries/cases", {"limit": "2", "offset": "1"}),
            ("/id/person/amadou-sanogo", {}),
        ]:
            first, second = (client.get(path, params=params) for _ in range(2))
            assert first.status_code == second.status_code == 200, (path, first.text)
            assert first.headers["cache-status"] == "hrkg; fwd=miss", path
            assert second.headers["cache-status"] == again, path
            assert first.content == second.content, path
        assert "cache-status" not in client.get("/static/app.js").headers
    finally:
        state.close()


#: How many triples the scratch graph holds (none until :func:`insert_into_scratch`).
COUNT_SCRATCH = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/hrkg/graph/scratch> { ?s ?p ?o } }"
)


def insert_into_scratch(writable: TestClient) -> None:
    """One triple into the scratch graph, by an authorised SPARQL update."""
    update = (
        "INSERT DATA { GRAPH <https://w3id.org/hrkg/graph/scratch> "
        "{ <https://x.org/a> <https://x.org/b> 1 } }"
    )
    headers = {"content-type": "application/sparql-update", "authorization": f"Bearer {TOKEN}"}
    assert writable.post("/sparql", content=update, headers=headers).status_code == 204


def test_an_update_drops_the_kept_answers(writable: TestClient) -> None:
    before = [writable.get("/sparql", params={"query": COUNT_SCRATCH}) for _ in range(2)]
    assert before[1].headers["cache-status"] == "hrkg; hit"
    assert before[1].json()["results"]["bindings"][0]["n"]["value"] == "0"
    insert_into_scratch(writable)
    after = writable.get("/sparql", params={"query": COUNT_SCRATCH})
    assert after.headers["cache-status"] == "hrkg; fwd=miss"
    assert after.json()["results"]["bindings"][0]["n"]["value"] == "1"


def test_identical_queries_at_once_share_one_run() -> None:
    """Five identical queries arrive while the only worker is busy: one waits for the
    worker, the others for its answer; all get it, and the worker ran it once."""
    with one_worker(queue_timeout=60) as state:
        client = TestClient(create_app(state))
        heavy = Background(client, "/sparql", query=HEAVY)
        eventually(lambda: state.runner.idle_workers() == 0)
        same = [Background(client, "/sparql", query=ASK_PERSON) for _ in range(5)]
        eventually(lambda: state.runner.waiting_for_identical() == 4)
        assert sum(state.runner.waiting().values()) == 1
        assert heavy.result().status_code == 503
        answers = [request.result() for request in same]
        assert [answer.json()["boolean"] for answer in answers] == [True] * 5
        statuses = sorted(answer.headers["cache-status"] for answer in answers)
        assert statuses == ["hrkg; fwd=miss"] + ["hrkg; fwd=miss; collapsed"] * 4


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sparql", {"query": f"SELECT ?s WHERE {{ ?s a <{PERSON}> }} ORDER BY ?s"}),
        ("/api/queries/office-holders", {}),
        ("/api/queries/office-holders", {"format": "csv"}),
        ("/id/person/amadou-sanogo", {}),
    ],
    ids=["sparql", "question", "question-csv", "entity-page"],
)
def test_an_answer_the_reader_already_has_is_a_304(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    """GET answers carry an ETag; sent back in If-None-Match (alone, in a list, or weak),
    it gets a 304 with no body; any other tag gets the whole answer again."""
    first = client.get(path, params=params)
    tag = first.headers["etag"]
    for presented in (tag, f'"other", W/{tag}', "*"):
        again = client.get(path, params=params, headers={"if-none-match": presented})
        assert again.status_code == 304, presented
        assert again.content == b"" and again.headers["etag"] == tag
    stale = client.get(path, params=params, headers={"if-none-match": '"not-this-one"'})
    assert stale.status_code == 200 and stale.content == first.content
    assert stale.headers["etag"] == tag


def test_tags_differ_by_format_and_posts_get_none(client: TestClient) -> None:
    path = "/api/queries/office-holders"
    json_tag = client.get(path).headers["etag"]
    csv = client.get(path, params={"format": "csv"}, headers={"if-none-match": json_tag})
    assert csv.status_code == 200 and csv.headers["etag"] != json_tag
    posted = client.post("/sparql", data={"query": ASK_PERSON})
    assert posted.status_code == 200 and "etag" not in posted.headers


def test_a_tag_from_before_an_update_gets_the_new_answer(writable: TestClient) -> None:
    tag = writable.get("/sparql", params={"query": COUNT_SCRATCH}).headers["etag"]
    insert_into_scratch(writable)
    after = writable.get("/sparql", params={"query": COUNT_SCRATCH}, headers={"if-none-match": tag})
    assert after.status_code == 200 and after.headers["etag"] != tag
    assert after.json()["results"]["bindings"][0]["n"]["value"] == "1"
