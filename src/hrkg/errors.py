"""The errors hrkg raises on purpose: each says what is wrong, where, and how to fix it.

The command line turns them into a message and exit code 2 (bad usage or bad input) without
a traceback; the server turns them into a 400. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class HrkgError(Exception):
    """Base class: ``what`` went wrong, ``where`` (file:line:col, parameter, query), ``hint``."""

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ContentError(HrkgError):
    """A file of the content folder is missing or does not parse."""


class QueryDefinitionError(HrkgError):
    """A stored query's header or body is malformed (a bug in queries/, not in the call)."""


class UnknownQueryError(HrkgError):
    """No stored query has that name."""


class ParameterError(HrkgError):
    """A parameter value is missing, undeclared, of the wrong type or not allowed."""


class QueryError(HrkgError):
    """An ad-hoc SPARQL text is malformed, too large, or not allowed (an update, SERVICE)."""


class QuerySyntaxError(QueryError):
    """The SPARQL text does not parse (HTTP 400)."""


class QueryRefused(QueryError):
    """The query asks for something refused by policy: an update, SERVICE (HTTP 403)."""


class QueryTooLarge(QueryError):
    """The query text is over the size limit (HTTP 413)."""


class QueryTimeout(QueryError):
    """The query ran past its time limit and was stopped (HTTP 503)."""


class QueryResourceLimit(QueryError):
    """The query needed more memory than a query may use and was stopped (HTTP 503)."""


class UpstreamError(QueryError):
    """The SPARQL server hrkg reads from (--endpoint) failed, refused or could not be
    reached: not the asker's fault (HTTP 502 when hrkg serves in front of it)."""


class QueryBusy(QueryError):
    """Every query worker stayed busy for as long as a query may wait (HTTP 503).

    Nothing was run; ``retry_after`` is how many seconds a client should wait before
    asking again (the ``Retry-After`` header).
    """

    def __init__(self, what: str, *, hint: str | None = None, retry_after: int = 1) -> None:
        super().__init__(what, hint=hint)
        self.retry_after = retry_after


class ExportError(HrkgError):
    """An export was asked in a way that cannot be honoured (unknown format or graph), or
    its temporary file could not be written."""
