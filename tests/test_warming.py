"""Answers warmed ahead of their readers (``hrkg serve --warm``), on real query workers."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from conftest import REPO_ROOT
from hrkg.catalog import Catalog
from hrkg.cli import app
from hrkg.errors import HrkgError, ParameterError, QueryTimeout
from hrkg.remote_store import Endpoint
from hrkg.server import ServerConfig, create_app
from hrkg.server.state import ServerState
from hrkg.server.warming import AnswerWarmer, questions_to_warm
from polling import eventually

CATALOG = Catalog.from_folder(REPO_ROOT / "queries")
WARMED = [question.name for question in questions_to_warm(CATALOG)]
CSV = {"accept": "text/csv"}
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TOKEN = "warming-test-token"
#: Seconds a round over the Mali data may take on a slow CI machine (it takes about 0.1 s).
ROUND_SECONDS = 120


@pytest.fixture(scope="module")
def warmed() -> Iterator[TestClient]:
    """A server started with --warm, once its first round is done."""
    state = ServerState.open(ServerConfig(workers=2, warm=True))
    try:
        assert state.warmer is not None and state.warmer.wait(ROUND_SECONDS)
        assert state.warmer.skipped == {}
        with TestClient(create_app(state)) as client:
            yield client
    finally:
        state.close()


@pytest.fixture(scope="module")
def cold() -> Iterator[TestClient]:
    """The same server without --warm: every question's first reader runs it."""
    state = ServerState.open(ServerConfig(workers=2))
    try:
        assert state.warmer is None
        with TestClient(create_app(state)) as client:
            yield client
    finally:
        state.close()


@pytest.mark.parametrize("question", CATALOG, ids=lambda question: question.name)
def test_the_questions_warmed_are_those_that_run_without_parameters(kg, question) -> None:
    try:
        kg.query(question.name)
    except ParameterError:
        assert question.name not in WARMED
    else:
        assert question.name in WARMED


@pytest.mark.parametrize("name", WARMED)
def test_a_warmed_question_is_kept_for_its_first_reader(
    warmed: TestClient, cold: TestClient, name: str
) -> None:
    """The first request finds the answer kept, and it is the answer a server without
    --warm computes for its first reader."""
    answer = warmed.get(f"/api/queries/{name}", headers=CSV)
    computed = cold.get(f"/api/queries/{name}", headers=CSV)
    assert answer.status_code == computed.status_code == 200, answer.text
    assert answer.headers["cache-status"] == "hrkg; hit"
    assert computed.headers["cache-status"] == "hrkg; fwd=miss"
    assert answer.content == computed.content


def test_a_question_with_a_required_parameter_is_left_to_its_reader(warmed: TestClient) -> None:
    answer = warmed.get("/api/queries/search", params={"text": "Sanogo"}, headers=CSV)
    assert answer.status_code == 200 and "Sanogo" in answer.text
    assert answer.headers["cache-status"] == "hrkg; fwd=miss"


def persons(answer: httpx.Response) -> int:
    """The number of persons the ``summary`` question's CSV answer counts."""
    rows = csv.DictReader(io.StringIO(answer.text))
    return next(int(row["entities"]) for row in rows if row["class"].endswith("/def/Person"))


def test_an_update_is_followed_by_answers_warmed_from_the_new_data(dataset_copy: Path) -> None:
    config = ServerConfig(allow_update=True, update_token=TOKEN, workers=1, warm=True)
    state = ServerState.open(config, data_dir=dataset_copy)
    try:
        assert state.warmer is not None and state.warmer.wait(ROUND_SECONDS)
        client = TestClient(create_app(state))
        before = client.get("/api/queries/summary", headers=CSV)
        assert before.headers["cache-status"] == "hrkg; hit"
        update = (
            "INSERT DATA { GRAPH <https://w3id.org/hrkg/graph/scratch> "
            "{ <https://x.org/warm> a <https://w3id.org/hrkg/def/Person> } }"
        )
        headers = {"content-type": "application/sparql-update", "authorization": f"Bearer {TOKEN}"}
        assert client.post("/sparql", content=update, headers=headers).status_code == 204
        assert state.warmer.wait(ROUND_SECONDS)
        after = client.get("/api/queries/summary", headers=CSV)
        assert after.headers["cache-status"] == "hrkg; hit"
        assert persons(after) == persons(before) + 1
    finally:
        state.close()


def test_a_question_over_the_time_limit_is_skipped_and_the_others_are_warmed(
    dataset_copy: Path,
) -> None:
    """A stored question that runs past --timeout cannot be answered ahead: warming says so
    and goes on; its reader later gets the server's usual 503, the others kept answers."""
    (dataset_copy / "queries" / "everything-thrice.rq").write_text(
        "#+ summary: Every triple against every pair of triples\n"
        "#+ description: A question that never finishes within the test's time limit.\n"
        f"{HEAVY}\n",
        encoding="utf-8",
    )
    state = ServerState.open(ServerConfig(workers=2, timeout=1.0, warm=True), data_dir=dataset_copy)
    try:
        assert state.warmer is not None and state.warmer.wait(ROUND_SECONDS)
        assert list(state.warmer.skipped) == ["everything-thrice"]
        assert "ran for more than 1 s" in state.warmer.skipped["everything-thrice"]
        client = TestClient(create_app(state))
        assert client.get("/api/queries/everything-thrice").status_code == 503
        kept = client.get("/api/queries/summary", headers=CSV)
        assert kept.headers["cache-status"] == "hrkg; hit"
    finally:
        state.close()


def test_warming_waits_while_a_reader_holds_a_worker() -> None:
    """A reader's query holds one of two workers: warming starts only once it is done (here,
    stopped at its time limit), so that readers never queue behind it."""
    state = ServerState.open(ServerConfig(workers=2, timeout=3.0))
    warmer = None
    outcome: list[BaseException] = []

    def read_heavily() -> None:
        try:
            state.runner.query(HEAVY)
        except QueryTimeout as error:
            outcome.append(error)

    reader = threading.Thread(target=read_heavily)
    try:
        reader.start()
        eventually(lambda: state.runner.idle_workers() == 1)
        warmer = AnswerWarmer(state.kg, state.runner)
        warmer.rewarm()
        assert not warmer.wait(1.0), "warming ran while a reader held a worker"
        assert state.runner.idle_workers() == 1
        reader.join(timeout=60)
        assert outcome and isinstance(outcome[0], QueryTimeout)
        assert warmer.wait(ROUND_SECONDS) and warmer.skipped == {}
    finally:
        if warmer is not None:
            warmer.stop()
        reader.join(timeout=60)
        state.close()


def test_warming_needs_the_answer_cache() -> None:
    with pytest.raises(ValueError, match="--warm keeps answers in the answer cache"):
        ServerConfig(warm=True, cache_bytes=0)


def test_warming_is_refused_in_front_of_a_sparql_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SPARQL server runs the queries there, and hrkg keeps no answers: both ways of
    asking for warming are refused before any connection is tried (nothing listens here)."""
    nowhere = "http://127.0.0.1:9/sparql"
    refused = CliRunner().invoke(app, ["--endpoint", nowhere, "serve", "--warm"])
    assert refused.exit_code == 2 and "--warm" in refused.output
    monkeypatch.setenv("HRKG_WARM_ANSWERS", "1")
    with pytest.raises(HrkgError, match="--warm fills hrkg's answer cache"):
        ServerState.over_endpoint(ServerConfig(), Endpoint(nowhere))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_hrkg_serve_warm_says_when_the_answers_are_ready() -> None:
    """`hrkg serve --warm` as a user starts it: it says how many questions it answers ahead,
    then that they are answered; a first request then finds its answer kept."""
    port = _free_port()
    script = Path(sys.executable).with_name("hrkg")
    process = subprocess.Popen(
        [str(script), "serve", "--warm", "--port", str(port)], stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []

    def read_messages() -> None:
        for line in process.stderr:
            lines.append(line)

    threading.Thread(target=read_messages, daemon=True).start()
    try:
        eventually(lambda: any(line.startswith("answered ") for line in lines), ROUND_SECONDS)
        eventually(lambda: any(line.startswith("hrkg serving ") for line in lines))
        assert f"answering {len(WARMED)} stored questions ahead, in the background\n" in lines
        assert f"answered {len(WARMED)} stored questions ahead in " in "".join(lines)
        url = f"http://127.0.0.1:{port}/api/queries/cases"
        answer = eventually_answered(url)
        assert answer.status_code == 200
        assert answer.headers["cache-status"] == "hrkg; hit"
    finally:
        process.terminate()
        process.wait(timeout=20)


def eventually_answered(url: str) -> httpx.Response:
    """The answer to a GET of ``url`` once the server listens (it prints before it does)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, timeout=30)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.1)
