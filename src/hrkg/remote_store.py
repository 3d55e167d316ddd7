"""A remote SPARQL 1.1 server as hrkg's store: same commands, someone else's triplestore.

For users who outgrow one machine: ``--endpoint URL`` runs every reading command, and
validation and additions (:mod:`hrkg.ingest` writes through :func:`hrkg.push.insert_quads`),
against Virtuoso, Oxigraph server, Fuseki, GraphDB or Neptune. The server's default graph
must be the union of its named graphs (each server's setting is in the README).

Known traps are handled here, not left to callers:

- queries go by GET, or by form POST when long; never as a direct
  ``application/sparql-query`` POST, on which Virtuoso hangs;
- every HTTP call has a timeout (a stuck server must not hang hrkg);
- a truncated or unparsable answer is an error, never a partial result (the Oxigraph
  server can answer a timed-out query with status 200 and a cut body);
- an answer the server capped (Virtuoso's ``ResultSetMaxRows``, signalled by the
  ``X-SPARQL-MaxRows`` header on SELECT answers) is an error, not a silently short table.
  Virtuoso sends that header as soon as an answer has as many rows as the cap, so an
  answer of exactly that many rows counts as capped too;
- Virtuoso caps CONSTRUCT and DESCRIBE answers as well, without any header: after such
  an answer from Virtuoso, a probe SELECT of as many rows tells whether the cap was
  reached (a CONSTRUCT whose template makes fewer triples than rows can still slip by);
- Virtuoso's refusal of a query on its *estimated* cost (``MaxQueryCostEstimationTime``,
  whose estimates can be far off) carries a hint naming that setting, and a query past
  its ``MaxQueryExecutionTime`` is a :class:`~hrkg.errors.QueryTimeout`, as one past
  hrkg's own time limit is;
- a partial answer from Virtuoso's "anytime query" mode (status 200 with an
  ``X-SQL-State`` header, when a ``timeout`` parameter is in the endpoint URL) is an
  error, a time-out; so is the cancellation that mode now and then gives instead
  (status 500, SR189);
- Virtuoso's JSON answers write blank nodes as ``nodeID://b10001``, which is not a blank
  node label, and booleans as ``0``/``1``: both are rewritten (to a label made from the
  hex of the id, and to ``false``/``true``) before parsing.

Pattern reads (:meth:`RemoteStore.quads_for_pattern`, what validation asks) are one small
SELECT each. A blank node cannot be named in a SPARQL query, so one that the server gave
cannot be asked about again: that is an error, never an empty answer. A blank node the
server never gave (one of the file being validated) has nothing stored about it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, QueryResultsFormat, RdfFormat

from hrkg.errors import QueryError, QuerySyntaxError, QueryTimeout, UpstreamError
from hrkg.results import Table
from hrkg.sparql_text import code_tokens
from hrkg.store import GraphName, QueryOutcome, Term, check_read_only

#: Above this many characters a query goes by form POST rather than GET.
MAX_GET_CHARS = 4000
JSON_RESULTS = "application/sparql-results+json"
#: Response headers by which a server says it cut the answer at its row cap.
CAPPED_HEADERS = ("x-sparql-maxrows",)
#: Response headers by which a server says the answer is incomplete for another reason
#: (Virtuoso's anytime queries: ``X-SQL-State: S1TAT``, with ``X-SQL-Message``).
INCOMPLETE_HEADERS = ("x-sql-state",)
#: A blank node label as SPARQL JSON results may carry it (Turtle's BLANK_NODE_LABEL, ASCII).
BLANK_NODE_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?<!\.)")
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
#: Virtuoso's refusal of a query on its cost estimate, before running it.
COST_ESTIMATE_REFUSAL = re.compile(r"estimated execution time -?\d+ \(sec\) exceeds the limit")
#: Virtuoso's error when a query ran past its MaxQueryExecutionTime (SQL state S1T00).
SERVER_TIMED_OUT = re.compile(r"\bS1T00\b")
#: Virtuoso's error when it cancelled a running query (SR189, "Async statement killed by
#: SQLCancel"): now and then what an anytime query's ``timeout`` gives instead of a
#: partial answer, and what a query killed by the server's administrator gives.
SERVER_CANCELLED = re.compile(r"\bSR189\b")


def server_error(status: int, text: str) -> QueryError:
    """The error for a server's refusal or failure (status 400 or more, its body ``text``):
    a syntax error for 400, a time-out for a query the server stopped, otherwise an upstream
    error; with a hint naming the server setting to change where one is known."""
    kind: type[QueryError] = QuerySyntaxError if status == 400 else UpstreamError
    hint = None
    if SERVER_TIMED_OUT.search(text):
        kind = QueryTimeout
        hint = (
            "the query ran past the server's own time limit (Virtuoso: "
            "MaxQueryExecutionTime in virtuoso.ini): narrow it, or raise that limit"
        )
    elif SERVER_CANCELLED.search(text):
        kind = QueryTimeout
        hint = (
            "the server cancelled the query before it finished, most often at a time limit "
            "(a timeout parameter in the endpoint URL, or Virtuoso's MaxQueryExecutionTime): "
            "narrow it, or raise the limit"
        )
    elif COST_ESTIMATE_REFUSAL.search(text):
        hint = (
            "Virtuoso refused the query on its estimate of the time it would take, "
            "before running it; the estimates can be far off. Set "
            "MaxQueryCostEstimationTime = 0 (no limit) or a higher limit in the "
            "[SPARQL] section of virtuoso.ini, then restart Virtuoso"
        )
    return kind(f"the server answered {status}: {text.strip()[:500]}", hint=hint)


class CappedAnswer(UpstreamError):
    """The server cut the answer at its row cap (Virtuoso's ResultSetMaxRows)."""


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach a SPARQL server."""

    query_url: str
    update_url: str | None = None
    graph_store_url: str | None = None
    user: str | None = None
    password: str | None = None
    auth: str = "basic"
    timeout: float = 60.0

    def client(self) -> httpx.Client:
        credentials = None
        if self.user is not None:
            password = self.password or ""
            credentials = (
                httpx.DigestAuth(self.user, password)
                if self.auth == "digest"
                else httpx.BasicAuth(self.user, password)
            )
        timeout = httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))
        return httpx.Client(auth=credentials, timeout=timeout, follow_redirects=False)


def url_params(url: str) -> list[tuple[str, str]]:
    """The query parameters written in an endpoint URL (``…/sparql?timeout=30000``).

    httpx drops them when a request gives ``params`` of its own, so each request passes
    them on first.
    """
    return list(httpx.URL(url).params.multi_items())


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of them in the text's code."""
    for _, token in code_tokens(text):
        word = token.upper()
        if word in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
            return word
    raise QuerySyntaxError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")


class RemoteStore:
    """The :class:`~hrkg.store.Store` interface over the SPARQL 1.1 protocol."""

    keeps_answers = False

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        base_iri: str,
        max_query_chars: int = 100_000,
        max_rows: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.base_iri = base_iri
        self.max_query_chars = max_query_chars
        #: Rows any answer stops at, flagged as truncated (what ``hrkg serve`` hands out).
        self.max_rows = max_rows
        self._client = endpoint.client()
        #: Blank nodes the server's pattern answers held: a pattern cannot name them again.
        self._blank_nodes_seen: set[BlankNode] = set()

    def _get(self, text: str, accept: str, params: list[tuple[str, str]]) -> httpx.Response:
        headers = {"Accept": accept}
        params = [*url_params(self.endpoint.query_url), *params]
        try:
            if len(text) <= MAX_GET_CHARS:
                response = self._client.get(
                    self.endpoint.query_url, params=[("query", text), *params], headers=headers
                )
            else:
                response = self._client.post(
                    self.endpoint.query_url, data={"query": text}, params=params, headers=headers
                )
        except httpx.TimeoutException:
            raise QueryTimeout(
                f"the server at {self.endpoint.query_url} did not answer "
                f"within {self.endpoint.timeout:g} s",
                hint="raise --endpoint-timeout (and --timeout, if given), or narrow the query",
            ) from None
        except httpx.HTTPError as error:
            raise UpstreamError(f"cannot reach {self.endpoint.query_url}: {error}") from None
        if response.status_code >= 400:
            raise server_error(response.status_code, response.text)
        capped = [name for name in CAPPED_HEADERS if name in response.headers]
        if capped:
            raise CappedAnswer(
                f"the server capped the answer ({capped[0]}: {response.headers[capped[0]]})",
                hint="raise the server's result limit (Virtuoso: ResultSetMaxRows), "
                "or narrow the query",
            )
        incomplete = [name for name in INCOMPLETE_HEADERS if name in response.headers]
        if incomplete:
            message = response.headers.get("x-sql-message", "").strip()[:300]
            raise QueryTimeout(
                f"the server sent an incomplete answer ({incomplete[0]}: "
                f"{response.headers[incomplete[0]]}{'; ' + message if message else ''})",
                hint="the query ran out of time on the server: narrow it, or drop the "
                "timeout parameter from the endpoint URL",
            )
        return response

    def _reaches_row_cap(self, rows: int) -> bool:
        """Whether an answer of ``rows`` rows would be capped: asks a SELECT of that many.

        The rows come from a cross product of digit VALUES, so the probe reads no data.
        """
        digits = len(str(rows))
        blocks = " ".join(f"VALUES ?d{i} {{ 0 1 2 3 4 5 6 7 8 9 }}" for i in range(digits))
        try:
            self._get(f"SELECT ?d0 WHERE {{ {blocks} }} LIMIT {rows}", JSON_RESULTS, [])
        except CappedAnswer:
            return True
        return False

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        row_limit: int | None = None,
    ) -> QueryOutcome:
        check_read_only(text, self.max_query_chars)
        if self.max_rows is not None:
            row_limit = min(row_limit or self.max_rows, self.max_rows)
        params = [("default-graph-uri", g.value) for g in default_graphs or ()]
        params += [("named-graph-uri", g.value) for g in named_graphs or ()]
        return self._answer(text, params, row_limit)

    def _answer(
        self, text: str, params: list[tuple[str, str]] | None = None, row_limit: int | None = None
    ) -> QueryOutcome:
        """The server's whole answer (up to ``row_limit``). hrkg's own reads (graphs, quads,
        patterns, counts) come here directly: ``max_rows`` caps what askers get, and a
        capped export or pattern read would be silently short."""
        params = params or []
        form = query_form(text)
        if form in {"SELECT", "ASK"}:
            response = self._get(text, JSON_RESULTS, params)
            return _results(response, form, row_limit)
        response = self._get(text, "application/n-triples", params)
        try:
            triples = list(pyoxigraph.parse(response.content, format=RdfFormat.N_TRIPLES))
        except SyntaxError as error:
            raise UpstreamError(
                f"the server's answer is truncated or unparsable: {error}"
            ) from None
        server = response.headers.get("server", "")
        if triples and server.startswith("Virtuoso") and self._reaches_row_cap(len(triples)):
            raise CappedAnswer(
                f"the server may have capped the answer: its {len(triples)} triples reach "
                "its result limit, and Virtuoso cuts CONSTRUCT and DESCRIBE answers there "
                "without saying so",
                hint="raise the server's ResultSetMaxRows, or narrow the query",
            )
        return [quad.triple for quad in triples][: row_limit or None]

    def _in_project_graphs(self, pattern: str) -> str:
        """``GRAPH ?g { pattern }`` restricted to graphs under the base IRI."""
        return f'GRAPH ?g {{ {pattern} }} FILTER(STRSTARTS(STR(?g), "{self.base_iri}"))'

    def graph_names(self) -> list[NamedNode]:
        """The project's named graphs on the server (those under the base IRI)."""
        text = f"SELECT DISTINCT ?g WHERE {{ {self._in_project_graphs('?s ?p ?o')} }}"
        table = self._answer(text)
        assert isinstance(table, Table)
        return sorted(
            (row[0] for row in table.rows if isinstance(row[0], NamedNode)), key=lambda g: g.value
        )

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        selector = f"VALUES ?g {{ {graph} }}" if graph is not None else ""
        text = f"SELECT ?s ?p ?o ?g WHERE {{ {selector} {self._in_project_graphs('?s ?p ?o')} }}"
        table = self._answer(text)
        assert isinstance(table, Table)
        return iter([Quad(s, p, o, g) for s, p, o, g in table.rows])

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: NamedNode | None,
        object: Term | None,
        graph_name: GraphName | None = None,
    ) -> Iterator[Quad]:
        """The project's quads on the server that match the pattern, by one SELECT (an ASK
        when every term is given). The project keeps every triple in a named graph, so the
        default graph alone holds none."""
        pattern = {"s": subject, "p": predicate, "o": object, "g": graph_name}
        if isinstance(graph_name, DefaultGraph) or not self._can_hold(pattern.values()):
            return iter(())
        free = [name for name, term in pattern.items() if term is None]
        spelt = {name: f"?{name}" if term is None else str(term) for name, term in pattern.items()}
        triple = f"{spelt['s']} {spelt['p']} {spelt['o']}"
        if graph_name is None:
            where = self._in_project_graphs(triple)
        else:
            where = f"GRAPH {graph_name} {{ {triple} }}"
        if not free:
            held = self._answer(f"ASK {{ {where} }}")
            return iter([Quad(subject, predicate, object, graph_name)] if held else [])
        table = self._answer(f"SELECT {' '.join(spelt[name] for name in free)} WHERE {{ {where} }}")
        assert isinstance(table, Table)
        quads = []
        for row in table.rows:
            terms = pattern | dict(zip(free, row, strict=True))
            quads.append(Quad(terms["s"], terms["p"], terms["o"], terms["g"]))
            self._blank_nodes_seen.update(
                term for term in (terms["s"], terms["o"]) if isinstance(term, BlankNode)
            )
        return iter(quads)

    def _can_hold(self, terms) -> bool:
        """Whether a pattern with these terms can match on the server: not when it names a
        blank node, which SPARQL cannot; one the server gave is an error (see the module)."""
        for term in terms:
            if not isinstance(term, BlankNode):
                continue
            if term in self._blank_nodes_seen:
                raise QueryError(
                    f"cannot look up the server's blank node _:{term.value}: SPARQL cannot "
                    "name a blank node of the server in a query",
                    hint="give the node an IRI in the data, or validate on the embedded "
                    "store (drop --endpoint)",
                )
            return False
        return True

    def __len__(self) -> int:
        text = f"SELECT (COUNT(*) AS ?n) WHERE {{ {self._in_project_graphs('?s ?p ?o')} }}"
        table = self._answer(text)
        assert isinstance(table, Table)
        return int(table.rows[0][0].value) if table.rows else 0

    def close(self) -> None:
        self._client.close()


def _results(response: httpx.Response, form: str, row_limit: int | None) -> QueryOutcome:
    """Parse a SPARQL JSON answer completely; anything cut or malformed is an error."""
    try:
        content = _portable_json(response.content)
        answer = pyoxigraph.parse_query_results(content, format=QueryResultsFormat.JSON)
        if form == "ASK":
            return bool(answer)
        table = Table([variable.value for variable in answer.variables])
        for solution in answer:
            if row_limit is not None and len(table.rows) >= row_limit:
                table.truncated = True
                break
            table.rows.append(tuple(solution))
        return table
    except (SyntaxError, ValueError) as error:
        raise UpstreamError(f"the server's answer is truncated or unparsable: {error}") from None


def _portable_json(content: bytes) -> bytes:
    """SPARQL JSON results with Virtuoso's non-standard terms rewritten (see the module doc).

    Raises ValueError on JSON that does not parse (a cut answer) or has the wrong shape.
    """
    document = json.loads(content)
    changed = False
    try:
        for binding in document.get("results", {}).get("bindings", []):
            for term in binding.values():
                value = term.get("value")
                if term.get("type") == "bnode" and not BLANK_NODE_LABEL.fullmatch(value or ""):
                    term["value"] = "x" + str(value).encode("utf-8").hex()
                    changed = True
                elif term.get("datatype") == XSD_BOOLEAN and value in ("0", "1"):
                    term["value"] = "true" if value == "1" else "false"
                    changed = True
    except (AttributeError, TypeError) as error:
        raise ValueError(f"not SPARQL JSON results ({error})") from None
    return json.dumps(document).encode("utf-8") if changed else content
