"""A remote SPARQL 1.1 server as hrkg's store: same commands, someone else's triplestore.

For users who outgrow one machine: ``--endpoint URL`` runs every reading command against
Virtuoso, Oxigraph server, Fuseki, GraphDB or Neptune. The server's default graph must be
the union of its named graphs (each server's setting is in the README).

Known traps are handled here, not left to callers:

- queries go by GET, or by form POST when long; never as a direct
  ``application/sparql-query`` POST, on which Virtuoso hangs;
- every HTTP call has a timeout (a stuck server must not hang hrkg);
- a truncated or unparsable answer is an error, never a partial result (the Oxigraph
  server can answer a timed-out query with status 200 and a cut body);
- an answer the server capped (Virtuoso's ``ResultSetMaxRows``, signalled by the
  ``X-SPARQL-MaxRows`` header) is an error, not a silently short table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph
from pyoxigraph import NamedNode, Quad, QueryResultsFormat, RdfFormat

from hrkg.errors import QueryError, QuerySyntaxError, QueryTimeout
from hrkg.results import Table
from hrkg.sparql_text import code_tokens
from hrkg.store import QueryOutcome, check_read_only

#: Above this many characters a query goes by form POST rather than GET.
MAX_GET_CHARS = 4000
CAPPED_HEADERS = ("x-sparql-maxrows",)


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


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of them in the text's code."""
    for _, token in code_tokens(text):
        word = token.upper()
        if word in {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
            return word
    raise QuerySyntaxError("not a SPARQL query (no SELECT, ASK, CONSTRUCT or DESCRIBE)")


class RemoteStore:
    """The :class:`~hrkg.store.Store` interface over the SPARQL 1.1 protocol."""

    def __init__(
        self, endpoint: Endpoint, *, base_iri: str, max_query_chars: int = 100_000
    ) -> None:
        self.endpoint = endpoint
        self.base_iri = base_iri
        self.max_query_chars = max_query_chars
        self._client = endpoint.client()

    def _get(self, text: str, accept: str, params: list[tuple[str, str]]) -> httpx.Response:
        headers = {"Accept": accept}
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
                hint="raise --endpoint-timeout, or narrow the query",
            ) from None
        except httpx.HTTPError as error:
            raise QueryError(f"cannot reach {self.endpoint.query_url}: {error}") from None
        if response.status_code >= 400:
            kind = QuerySyntaxError if response.status_code == 400 else QueryError
            raise kind(f"the server answered {response.status_code}: {response.text.strip()[:500]}")
        capped = [name for name in CAPPED_HEADERS if name in response.headers]
        if capped:
            raise QueryError(
                f"the server capped the answer ({capped[0]}: {response.headers[capped[0]]})",
                hint="raise the server's result limit (Virtuoso: ResultSetMaxRows), "
                "or narrow the query",
            )
        return response

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        row_limit: int | None = None,
    ) -> QueryOutcome:
        check_read_only(text, self.max_query_chars)
        params = [("default-graph-uri", g.value) for g in default_graphs or ()]
        params += [("named-graph-uri", g.value) for g in named_graphs or ()]
        form = query_form(text)
        if form in {"SELECT", "ASK"}:
            response = self._get(text, "application/sparql-results+json", params)
            return _results(response, form, row_limit)
        response = self._get(text, "application/n-triples", params)
        try:
            triples = list(pyoxigraph.parse(response.content, format=RdfFormat.N_TRIPLES))
        except SyntaxError as error:
            raise QueryError(f"the server's answer is truncated or unparsable: {error}") from None
        return [quad.triple for quad in triples][: row_limit or None]

    def _in_project_graphs(self, pattern: str) -> str:
        """``GRAPH ?g { pattern }`` restricted to graphs under the base IRI."""
        return f'GRAPH ?g {{ {pattern} }} FILTER(STRSTARTS(STR(?g), "{self.base_iri}"))'

    def graph_names(self) -> list[NamedNode]:
        """The project's named graphs on the server (those under the base IRI)."""
        text = f"SELECT DISTINCT ?g WHERE {{ {self._in_project_graphs('?s ?p ?o')} }}"
        table = self.query(text)
        assert isinstance(table, Table)
        return sorted(
            (row[0] for row in table.rows if isinstance(row[0], NamedNode)), key=lambda g: g.value
        )

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        selector = f"VALUES ?g {{ {graph} }}" if graph is not None else ""
        text = f"SELECT ?s ?p ?o ?g WHERE {{ {selector} {self._in_project_graphs('?s ?p ?o')} }}"
        table = self.query(text)
        assert isinstance(table, Table)
        return iter([Quad(s, p, o, g) for s, p, o, g in table.rows])

    def __len__(self) -> int:
        text = f"SELECT (COUNT(*) AS ?n) WHERE {{ {self._in_project_graphs('?s ?p ?o')} }}"
        table = self.query(text)
        assert isinstance(table, Table)
        return int(table.rows[0][0].value) if table.rows else 0

    def close(self) -> None:
        self._client.close()


def _results(response: httpx.Response, form: str, row_limit: int | None) -> QueryOutcome:
    """Parse a SPARQL JSON answer completely; anything cut or malformed is an error."""
    try:
        answer = pyoxigraph.parse_query_results(response.content, format=QueryResultsFormat.JSON)
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
        raise QueryError(f"the server's answer is truncated or unparsable: {error}") from None
