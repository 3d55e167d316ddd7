"""The browser interface, in headless Chromium against a real `hrkg serve`: over the
embedded store, and in front of a real Oxigraph server (`hrkg --endpoint URL serve`).

Playwright drives Debian's Chromium (``make browser`` installs it; Playwright downloads no
browser of its own). Every test opens a fresh browser context and records what the page
logs and fetches: a console error, an uncaught exception or a request that leaves the
loopback fails the test, since the interface must work with no internet.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

import hrkg
import hrkg.push
from external_servers import oxigraph_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Flags that keep Chromium from calling out (this machine has no network but the
#: registries); Playwright adds --headless and a fresh temporary profile itself.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
#: A triple put on the Oxigraph server behind `hrkg --endpoint URL serve`, and nowhere else.
SERVER_MARK = '<urn:hrkg:test:browser> <urn:hrkg:test:served-by> "the Oxigraph server"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _serving(environment: dict[str, str]) -> Iterator[str]:
    """`hrkg serve` in its own process on a free loopback port, as a user starts it."""
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hrkg", "serve", "--port", str(port)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environment},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/api/queries", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("hrkg serve did not start:\n" + log.read().decode()[-2000:])
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="module", params=["embedded", "oxigraph-server"])
def server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """`hrkg serve` over the embedded store, and `hrkg --endpoint URL serve` in front of an
    Oxigraph server holding the dataset: the interface must work the same on both."""
    if request.param == "embedded":
        with _serving({}) as url:
            yield url
        return
    with oxigraph_server(tmp_path_factory.mktemp("browser-oxigraph")) as triplestore:
        hrkg.push.push(hrkg.open(REPO_ROOT).store.quads(), triplestore.endpoint())
        # A mark only the Oxigraph server holds: the served answers are the server's.
        hrkg.push.send_update(triplestore.endpoint(), f"INSERT DATA {{ {SERVER_MARK} }}")
        with _serving({"HRKG_ENDPOINT": triplestore.query_url}) as url:
            marked = httpx.get(
                f"{url}/sparql",
                params={"query": f"ASK {{ {SERVER_MARK} }}"},
                headers={"accept": "application/sparql-results+json"},
                timeout=10,
            )
            assert marked.json()["boolean"] is True, marked.text
            yield url


@pytest.fixture(scope="module")
def capped_server() -> Iterator[str]:
    """A server that sends at most 4 rows at a time (``HRKG_MAX_ROWS``)."""
    with _serving({"HRKG_MAX_ROWS": "4"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium under Playwright; missing Chromium is a failure, not a skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (it installs Debian's chromium; "
            "`make test` runs it). Never `playwright install`: its download fails here."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what it logged or fetched while a test used it."""

    page: object
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], f"the page logged errors: {self.errors}"
        assert self.outside_requests == [], (
            f"the page fetched from outside this server: {self.outside_requests}"
        )


@contextmanager
def _watching(browser, url: str) -> Iterator[Watched]:
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    record = Watched(page)
    page.on(
        "console",
        lambda message: record.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: record.errors.append(f"uncaught: {error}"))

    def check_request(request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            return
        record.outside_requests.append(request.url)

    page.on("request", check_request)
    try:
        yield record
    finally:
        context.close()


@pytest.fixture
def watched(browser, server: str) -> Iterator[Watched]:
    with _watching(browser, server) as record:
        yield record


def test_the_page_loads_without_errors_or_outside_requests(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.goto("/")
    expect(page.locator("#query-list button").first).to_be_visible()
    expect(page.locator('#query-list [data-query^="checks/"]')).to_have_count(0)
    expect(page.locator('#check-list [data-query^="checks/"]').first).to_be_visible()
    for tab in ("#tab-search", "#tab-timeline", "#tab-sparql"):
        page.click(tab)
        expect(page.locator(tab)).to_have_attribute("aria-selected", "true")
    expect(page.locator("#yasgui .yasqe")).to_be_visible()
    expect(page.locator("#timeline .timeline-year").first).to_be_attached()
    page.click("#tab-questions")
    expect(page.locator("#panel-sparql")).to_be_hidden()
    watched.assert_clean()


def test_the_reports_question_for_2013_shows_its_two_rows(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.goto("/")
    page.click('[data-query="reports"]')
    expect(page.locator("#query-form")).to_be_visible()
    expect(page.locator("#param-year")).to_have_attribute("type", "number")
    expect(page.locator("#param-year")).to_have_attribute("placeholder", "e.g. 2013")
    expect(page.locator("select#param-type option")).to_have_count(4)  # "(any)" and 3 allowed
    page.fill("#param-year", "2013")
    page.click("#run-query")
    expect(page.locator("#query-status")).to_have_text("2 rows")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(page.locator("#results")).to_contain_text("Annual Report: Mali 2013")
    document = page.locator("#results a", has_text="annual-report-mali-2013")
    expect(document).to_have_attribute("href", "/id/document/2013-05-21-annual-report-mali-2013")
    watched.assert_clean()


def test_a_bad_request_shows_the_servers_reason(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.goto("/")
    page.click('[data-query="entity"]')
    expect(page.locator("#query-requires")).to_have_text("Give at least one of: iri, label.")
    page.click("#run-query")
    expect(page.locator("#query-error")).to_be_visible()
    expect(page.locator("#query-error")).to_contain_text("one of iri, label is required")
    expect(page.locator("#results table")).to_have_count(0)
    # The browser logs the 400 answer itself as a failed resource; nothing else may fail.
    assert all("400" in error for error in watched.errors), watched.errors


def test_entity_search_leads_to_the_entity_page_with_its_sources(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.goto("/#search")
    expect(page.locator("#panel-search")).to_be_visible()
    page.fill("#entity-search", "Sanogo")
    page.press("#entity-search", "Enter")
    link = page.locator("#entity-results a", has_text="Amadou Sanogo")
    expect(link).to_have_attribute("href", "/id/person/amadou-sanogo")
    watched.assert_clean()
    link.click()
    page.wait_for_url(re.compile(r"/id/person/amadou-sanogo$"))
    expect(page.locator("#entity-label")).to_have_text("Amadou Sanogo")
    expect(page.locator("blockquote", has_text="General Amadou Sanogo").first).to_be_visible()


def test_the_timeline_groups_dated_items_by_year(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.goto("/")
    page.click("#tab-timeline")
    year_2012 = page.locator("#timeline #year-2012")
    expect(year_2012.locator("h3")).to_have_text("2012")
    expect(year_2012.locator("li").first).to_be_visible()
    assert year_2012.locator("li").count() >= 3
    first = year_2012.locator("li").first
    expect(first.locator("time")).to_contain_text("2012")
    expect(first.locator(".kind")).not_to_be_empty()
    expect(first.locator(".timeline-label a")).to_have_attribute("href", re.compile(r"^/id/"))
    expect(first.locator(".timeline-source a")).to_have_attribute(
        "href", re.compile(r"^/id/document/")
    )
    page.fill("#timeline-from", "2013")
    page.fill("#timeline-to", "2013")
    page.click("#timeline-run")
    expect(page.locator("#timeline #year-2012")).to_have_count(0)
    expect(page.locator("#timeline .timeline-year")).to_have_count(1)
    expect(page.locator("#timeline #year-2013")).to_be_visible()
    watched.assert_clean()


def test_the_sparql_editor_runs_a_query_on_this_server(watched: Watched, server: str) -> None:
    from playwright.sync_api import expect

    vendored = httpx.get(f"{server}/vendor/yasgui/yasgui.min.js", timeout=10)
    assert vendored.status_code == 200, (
        "YASGUI is not installed: run `make install` (npm ci --prefix src/hrkg/server/ui)"
    )
    page = watched.page
    page.goto("/#sparql")
    page.wait_for_function("window.Yasgui !== undefined")
    expect(page.locator("#yasgui .yasqe")).to_be_visible()
    expect(page.locator("#yasgui-fallback")).to_be_hidden()
    page.wait_for_function("window.hrkg.yasgui !== null")
    page.evaluate(
        """() => window.hrkg.yasgui.getTab().getYasqe().setValue(
            'SELECT ?name WHERE { <https://w3id.org/hrkg/id/person/amadou-sanogo> '
            + '<http://www.w3.org/2000/01/rdf-schema#label> ?name }')"""
    )
    page.click("#yasgui .yasqe_queryButton")
    expect(page.locator("#yasgui .yasr")).to_contain_text("Amadou Sanogo")
    answer = page.evaluate(
        """async () => {
            const response = await fetch('/sparql?query=' + encodeURIComponent('ASK { ?s ?p ?o }'),
                                         {headers: {Accept: 'application/sparql-results+json'}});
            return (await response.json()).boolean;
        }"""
    )
    assert answer is True
    watched.assert_clean()


def test_the_editor_tab_explains_a_missing_yasgui(watched: Watched) -> None:
    from playwright.sync_api import expect

    page = watched.page
    page.route("**/vendor/yasgui/**", lambda route: route.fulfill(status=404, body="missing"))
    page.goto("/#sparql")
    expect(page.locator("#yasgui-fallback")).to_be_visible()
    expect(page.locator("#yasgui-fallback")).to_contain_text("make install")
    # The questions still work without the editor.
    page.click("#tab-questions")
    page.click('[data-query="summary"]')
    page.click("#run-query")
    expect(page.locator("#results table")).to_be_visible()


def test_a_long_answer_is_shown_a_page_at_a_time(browser, capped_server: str) -> None:
    """cases has 10 rows; a server that sends 4 at a time shows rows 1-4, then Next gives
    5-8 and 9-10, and the CSV link downloads the rows shown."""
    from playwright.sync_api import expect

    with _watching(browser, capped_server) as watched:
        page = watched.page
        page.goto("/")
        page.click('[data-query="cases"]')
        page.click("#run-query")
        status, rows, after = page.locator("#query-status"), page.locator("#results tbody tr"), []
        for first, last in [(1, 4), (5, 8), (9, 10)]:
            expect(status).to_contain_text(f"rows {first}–{last}")
            expect(rows).to_have_count(last - first + 1)
            after.append(rows.first.inner_text())
            csv = httpx.get(capped_server + page.locator("#query-csv").get_attribute("href"))
            assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == last - first + 2
            if last < 10:
                page.click("#query-next")
        expect(page.locator("#query-next")).to_be_hidden()
        assert len(set(after)) == 3, "each page shows other rows"
        watched.assert_clean()


def test_the_browser_revalidates_an_answer_it_has_with_its_etag(watched: Watched) -> None:
    """Asked the same question again, Chromium sends back the ``ETag`` of the answer it
    kept (``If-None-Match``) by itself, the server answers 304 with no body, and the page
    shows the same rows from the browser's copy.

    The page (and Playwright) sees a 200 either way; the status that crossed the network
    is in Chromium's own log, read through the DevTools protocol.
    """
    from playwright.sync_api import expect

    page = watched.page
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    asked: list[str] = []  # request ids, in order
    status_on_the_wire: dict[str, int] = {}
    devtools.on(
        "Network.requestWillBeSent",
        lambda event: (
            asked.append(event["requestId"]) if "/api/queries/" in event["request"]["url"] else None
        ),
    )
    devtools.on(
        "Network.responseReceivedExtraInfo",
        lambda event: status_on_the_wire.setdefault(event["requestId"], event["statusCode"]),
    )
    page.goto("/")
    page.click('[data-query="reports"]')
    page.fill("#param-year", "2013")
    sent, tags = [], []
    for _ in range(2):
        with page.expect_response(lambda response: "/api/queries/" in response.url) as answer:
            page.click("#run-query")
        sent.append(answer.value.request.all_headers())  # with what the network stack added
        tags.append(answer.value.headers["etag"])
        expect(page.locator("#query-status")).to_have_text("2 rows")
        expect(page.locator("#results tbody tr")).to_have_count(2)
    assert [status_on_the_wire.get(request) for request in asked] == [200, 304]
    assert "if-none-match" not in sent[0] and sent[1].get("if-none-match") == tags[0] == tags[1]
    watched.assert_clean()


def test_a_cut_timeline_or_search_says_it_is_cut(browser, capped_server: str) -> None:
    """A server that sends at most 4 rows: the timeline and the entity search say they show
    only the first rows and how to see the rest, rather than pass a part for the whole."""
    from playwright.sync_api import expect

    with _watching(browser, capped_server) as watched:
        page = watched.page
        page.goto("/")
        page.click("#tab-timeline")
        expect(page.locator("#timeline-status")).to_contain_text("The first 4 dated items")
        expect(page.locator("#timeline-status")).to_contain_text("Choose a shorter period")
        expect(page.locator("#timeline .timeline-item")).to_have_count(4)
        page.click("#tab-search")
        page.fill("#entity-search", "Mali")
        page.press("#entity-search", "Enter")
        status = page.locator("#entity-status")
        expect(status).to_contain_text("The server sends at most 4 at a time")
        expect(page.locator("#entity-results li")).to_have_count(4)
        expect(status).to_contain_text("type more letters")
        watched.assert_clean()
