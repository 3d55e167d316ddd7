"""What a SPARQL server's refusals and failures become in hrkg: the error class a caller
can act on (a time-out is served as 503, a syntax error as 400) and a hint naming the
setting to change.

The bodies are Virtuoso 7.2's own, recorded from the test servers of
``test_external_stores.py``, which also drives most of them live. One cannot be driven
at will: Virtuoso's anytime query (a ``timeout`` parameter in the endpoint URL) nearly
always answers with part of the rows and an ``X-SQL-State`` header, and only now and then
cancels the query instead (SR189, seen once in a full run of the suite). So the
classification itself is tested here, over every recorded body.
"""

from __future__ import annotations

import pytest

from hrkg.errors import QueryError, QuerySyntaxError, QueryTimeout, UpstreamError
from hrkg.remote_store import server_error

HEAVY = (
    "SELECT ?c (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) < STR(?f)) } "
    "GROUP BY ?c LIMIT 3"
)

#: name: (status, body, error class, words its hint must hold; None: no hint)
RECORDED = {
    "past MaxQueryExecutionTime": (
        500,
        "Virtuoso S1T00 Error SR171: Transaction timed out\n\nSPARQL query:\n"
        f"define sql:big-data-const 0 {HEAVY}",
        QueryTimeout,
        "MaxQueryExecutionTime",
    ),
    "cancelled (anytime query)": (
        500,
        "Virtuoso HY008 Error SR189: Async statement killed by SQLCancel.\n\nSPARQL query:\n"
        f"define sql:big-data-const 0 {HEAVY}",
        QueryTimeout,
        "timeout parameter",
    ),
    "refused on estimated cost": (
        500,
        "Virtuoso 42000 Error The estimated execution time 16375592 (sec) exceeds the limit "
        "of 400 (sec).\n\nSPARQL query:\nSELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . "
        "?j ?k ?l } LIMIT 10",
        UpstreamError,
        "MaxQueryCostEstimationTime = 0",
    ),
    "syntax error": (
        400,
        "Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error at '}' before '}'"
        "\n\nSPARQL query:\ndefine sql:big-data-const 0 SELECT * WHERE { ?s ?p }",
        QuerySyntaxError,
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_a_server_error_is_classified_with_its_hint(name: str) -> None:
    status, body, kind, hint_words = RECORDED[name]
    error = server_error(status, body)
    assert type(error) is kind
    assert isinstance(error, QueryError)
    assert f"the server answered {status}" in str(error) and body.split("\n")[0] in str(error)
    if hint_words is None:
        assert error.hint is None
    else:
        assert error.hint and hint_words in error.hint


def test_an_unknown_failure_is_an_upstream_error_without_a_hint() -> None:
    error = server_error(502, "<html>Bad Gateway</html>")
    assert type(error) is UpstreamError and error.hint is None
