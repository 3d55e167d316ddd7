"""The stored questions: one ``.rq`` file each, with a ``#+`` YAML header that documents it.

A header looks like this (every ``#+`` line, prefix removed, is one YAML document)::

    #+ summary: Newsroom items by date
    #+ description: Every newsroom item with its date, type, title and summary.
    #+ tags: [documents]
    #+ parameters:
    #+   year: {type: integer, description: Only items of this year}

Parameters are typed, checked, turned into RDF terms and bound with a ``VALUES`` block that
the catalog inserts at the start of the WHERE group, built from the terms' own N-Triples
form. A query that wants its parameters bound elsewhere (inside the subquery that should
run first, say) writes the block itself with every value unbound,
``VALUES (?iri ?label) { (UNDEF UNDEF) }``, naming exactly its parameters; the catalog
fills in that row, and the file still runs as it is in any SPARQL tool. A value therefore
never becomes query syntax: ``x" } UNION { ?s ?p ?o } #`` is just a string literal.
(pyoxigraph's ``substitutions`` cannot be used: it binds the variable after the group's
FILTERs are evaluated.) Every parameter must also be projected by the SELECT clause,
which some servers (Virtuoso) require of bound variables; the columns of parameters are
dropped from the answer.

A question's answer can be read a page at a time (:class:`Page`, ``LIMIT``/``OFFSET``
appended to the text, in the question's own ORDER BY), which is how the REST API and the
command line hand over answers longer than a server's row cap. ``format``, ``limit`` and
``offset`` are therefore no parameter names.

A malformed header, an undeclared parameter or a declared parameter the query never uses
fails loudly, at load time, with the file and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pyoxigraph import Literal, NamedNode

from hrkg.errors import ParameterError, QueryDefinitionError, UnknownQueryError
from hrkg.namespaces import expand_curie
from hrkg.results import Table
from hrkg.settings import DEFAULT_BASE_IRI
from hrkg.sparql_text import keywords, parameter_block, strip_comments, where_group_start

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAMETER_TYPES = ("iri", "string", "langstring", "date", "integer")
HEADER_KEYS = {"summary", "description", "tags", "parameters", "requires-one-of", "example"}
PARAMETER_KEYS = {"type", "description", "default", "allowed", "required", "minimum", "maximum"}
#: Longest string a parameter accepts; longer values are refused, never truncated.
MAX_PARAMETER_CHARS = 1000
#: Names the REST API and the command line use beside a question's own parameters.
RESERVED_PARAMETERS = ("format", "limit", "offset")
#: Largest page size or offset accepted (far past any answer; keeps the number sane).
MAX_PAGE_NUMBER = 10**9

Term = NamedNode | Literal

_DATE_PATTERNS = (
    (re.compile(r"^[0-9]{4}$"), "gYear", "%Y"),
    (re.compile(r"^[0-9]{4}-[0-9]{2}$"), "gYearMonth", "%Y-%m"),
    (re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), "date", "%Y-%m-%d"),
)
_IRI_FORBIDDEN = re.compile(r'[\s<>"{}|\\^`\x00-\x1f]')
#: Schemes taken as full IRIs; anything else before a colon must be a known prefix.
IRI_SCHEMES = frozenset({"http", "https", "urn", "tag", "mailto", "info", "did"})
_IRI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LANGSTRING = re.compile(r"^(?P<text>.*)@(?P<lang>[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$", re.DOTALL)


@dataclass(frozen=True)
class Parameter:
    """One typed parameter of a stored query."""

    name: str
    type: str
    description: str
    default: Any = None
    allowed: tuple[str, ...] = ()
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None

    def to_term(self, value: object, base_iri: str = DEFAULT_BASE_IRI) -> Term:
        """Check ``value`` against the type and the allowed values, and make it an RDF term."""
        if isinstance(value, bool) or value is None:
            raise self._error(value, f"a {self.type} value is needed")
        if isinstance(value, (NamedNode, Literal)):
            value = value.value
        if isinstance(value, int) and abs(value) >= 10**18:
            raise self._error("a very large number", "out of range for a whole-number parameter")
        if isinstance(value, (dt.date, int)):
            value = value.isoformat() if isinstance(value, dt.date) else str(value)
        if not isinstance(value, str):
            raise self._error(value, f"a {self.type} value is needed, not {type(value).__name__}")
        if len(value) > MAX_PARAMETER_CHARS:
            raise self._error(
                value[:40] + "…", f"longer than the limit of {MAX_PARAMETER_CHARS} characters"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self._error(
                value.encode("utf-8", "backslashreplace").decode("ascii", "replace"),
                "not valid Unicode text (undecodable bytes)",
                "pass the value as UTF-8 text",
            ) from None
        term = getattr(self, f"_{self.type}_term")(value, base_iri)
        if self.allowed and term.value not in self.allowed:
            raise self._error(value, "not one of the allowed values", ", ".join(self.allowed))
        return term

    def _iri_term(self, value: str, base_iri: str) -> NamedNode:
        iri = expand_curie(value, base_iri) or value
        scheme = iri.partition(":")[0].lower()
        if _IRI_SCHEME.match(iri) and scheme not in IRI_SCHEMES and iri == value:
            raise self._error(
                value,
                f"written with an unknown prefix {scheme!r}",
                "use a project prefix (person:, case:, document:, …) or a full http(s) IRI",
            )
        if not _IRI_SCHEME.match(iri) or _IRI_FORBIDDEN.search(iri):
            raise self._error(
                value,
                "not an absolute IRI",
                "give a full IRI (https://…) or a prefixed name such as person:amadou-sanogo",
            )
        try:
            return NamedNode(iri)
        except ValueError as error:
            raise self._error(value, f"not a valid IRI ({error})") from None

    def _string_term(self, value: str, base_iri: str) -> Literal:
        return Literal(value)

    def _langstring_term(self, value: str, base_iri: str) -> Literal:
        match = _LANGSTRING.match(value)
        if not match:
            raise self._error(
                value, "no language tag", 'write the text then @ and a tag: "Tombouctou@fr"'
            )
        return Literal(match["text"], language=match["lang"].lower())

    def _date_term(self, value: str, base_iri: str) -> Literal:
        for pattern, datatype, strptime_format in _DATE_PATTERNS:
            if pattern.match(value):
                try:
                    dt.datetime.strptime(value, strptime_format)
                except ValueError:
                    break
                return Literal(value, datatype=NamedNode(XSD + datatype))
        raise self._error(value, "not a date", "write YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2013-02")

    def _integer_term(self, value: str, base_iri: str) -> Literal:
        value = value.strip(" ")
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
            raise self._error(value, "not a whole number")
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise self._error(value, f"smaller than the minimum {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise self._error(value, f"larger than the maximum {self.maximum}")
        return Literal(str(number), datatype=NamedNode(XSD + "integer"))

    def _error(self, value: object, problem: str, hint: str | None = None) -> ParameterError:
        return ParameterError(
            f"{value!r} is {problem}"
            if not problem.startswith("a ")
            else f"{problem}, got {value!r}",
            where=f"parameter {self.name!r} ({self.type})",
            hint=hint or self.description,
        )


@dataclass(frozen=True)
class Page:
    """A slice of an answer in the question's own order: at most ``limit`` rows (None: all)
    after skipping ``offset``. Pages are stable while the data does not change."""

    limit: int | None = None
    offset: int = 0

    @classmethod
    def parse(cls, limit: object = None, offset: object = None) -> Page:
        """From text or numbers (a URL's query string, command-line options); a missing
        value is the default, a bad one a :class:`ParameterError` naming it."""
        return cls(_page_number("limit", limit, 1), _page_number("offset", offset, 0) or 0)

    @property
    def is_whole(self) -> bool:
        return self.limit is None and self.offset == 0

    def clauses(self) -> str:
        """The solution modifiers to append to a query that has none of its own."""
        limit = "" if self.limit is None else f"\nLIMIT {self.limit}"
        return limit + (f"\nOFFSET {self.offset}" if self.offset else "")

    def cut_from(self, whole: Table) -> Table | None:
        """This page of ``whole``, an answer from its first row in the same order; None when
        ``whole`` was cut at a row cap before the page's last row, which is then unknown."""
        end = None if self.limit is None else self.offset + self.limit
        if whole.truncated and (end is None or end > len(whole.rows)):
            return None
        return Table(whole.variables, whole.rows[self.offset : end])


def _page_number(name: str, value: object, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    whole = not isinstance(value, bool) and re.fullmatch(r"[0-9]{1,10}", text)
    number = int(text) if whole else None
    if number is None or not minimum <= number <= MAX_PAGE_NUMBER:
        raise ParameterError(
            f"{value!r} is not a whole number from {minimum} to {MAX_PAGE_NUMBER:,}",
            where=f"page {name}",
            hint="limit is how many rows a page holds, offset how many rows come before it",
        )
    return number


@dataclass(frozen=True)
class StoredQuery:
    """One stored question: its documentation, typed parameters and SPARQL text."""

    name: str
    path: Path
    summary: str
    description: str
    text: str
    tags: tuple[str, ...] = ()
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    requires_one_of: tuple[str, ...] = ()
    example: Mapping[str, str] = field(default_factory=dict)
    #: Where the bound values go, found once when the file is read.
    binding_site: BindingSite | None = None
    #: Whether the text has no LIMIT or OFFSET of its own, so that pages can be appended.
    pageable: bool = True

    @property
    def is_check(self) -> bool:
        """A check returns no rows on good data; a row is a problem to fix."""
        return self.name.endswith("-violation")

    def bind(
        self, values: Mapping[str, object], base_iri: str = DEFAULT_BASE_IRI
    ) -> dict[str, Term]:
        """Check every given value and return the terms to bind, defaults included."""
        unknown = sorted(set(values) - set(self.parameters))
        if unknown:
            declared = ", ".join(self.parameters) or "none"
            raise ParameterError(
                f"unknown parameter {', '.join(map(repr, unknown))}",
                where=f"query {self.name!r}",
                hint=f"this query takes: {declared} (see `hrkg query show {self.name}`)",
            )
        bound: dict[str, Term] = {}
        for name, parameter in self.parameters.items():
            value = values.get(name, parameter.default)
            if value is None or value == "":
                if parameter.required:
                    raise ParameterError(
                        "a value is required",
                        where=f"parameter {name!r} of query {self.name!r}",
                        hint=parameter.description,
                    )
                continue
            bound[name] = parameter.to_term(value, base_iri)
        if self.requires_one_of and not set(self.requires_one_of) & set(bound):
            raise ParameterError(
                f"one of {', '.join(self.requires_one_of)} is required",
                where=f"query {self.name!r}",
                hint=self.description,
            )
        return bound

    def sparql(
        self,
        bindings: Mapping[str, Term],
        base_iri: str = DEFAULT_BASE_IRI,
        page: Page | None = None,
    ) -> str:
        """The query text, re-based, with the bound terms in a VALUES block; one page of
        the answer if ``page`` says so."""
        text = self._bound_text(bindings, base_iri)
        if page is None or page.is_whole:
            return text
        if not self.pageable:
            raise ParameterError(
                "this question has a LIMIT or OFFSET of its own, so it cannot be paged",
                where=f"query {self.name!r}",
                hint="run it without limit and offset",
            )
        return text + page.clauses()

    def _bound_text(self, bindings: Mapping[str, Term], base_iri: str) -> str:

        def rebased(text: str) -> str:
            if base_iri == DEFAULT_BASE_IRI:
                return text
            return text.replace(f"<{DEFAULT_BASE_IRI}", f"<{base_iri}")

        if not bindings:
            return rebased(self.text)
        site = self.binding_site or binding_site(self.text, self.parameters)
        variables = site.variables or tuple(bindings)
        names = " ".join(f"?{name}" for name in variables)
        row = " ".join(str(bindings.get(name, "UNDEF")) for name in variables)
        values_block = f" VALUES ({names}) {{ ({row}) }} "
        return rebased(self.text[: site.start]) + values_block + rebased(self.text[site.end :])


@dataclass(frozen=True)
class BindingSite:
    """The span of a query's text that the VALUES block of bound parameters replaces.

    Either the query's own all-UNDEF block (its variables, in its order) or the empty span
    just inside the WHERE group (``variables`` empty: the bound parameters, in turn).
    """

    start: int
    end: int
    variables: tuple[str, ...] = ()


def binding_site(text: str, parameters: Collection[str]) -> BindingSite:
    """Where the bound values of ``text`` go; ``ValueError`` when that is ambiguous."""
    block = parameter_block(text, parameters)
    if block is not None:
        return BindingSite(block.start, block.end, block.variables)
    at = where_group_start(text)
    return BindingSite(at, at)


def _parse_header(path: Path, text: str) -> dict[str, Any]:
    lines = [line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        raise QueryDefinitionError(
            "no #+ header", where=str(path), hint="start the file with '#+ summary: …' lines"
        )
    try:
        header = yaml.safe_load("\n".join(lines))
    except Exception as error:  # PyYAML raises many kinds on hostile input; all mean "malformed"
        raise QueryDefinitionError(
            f"the #+ header is not valid YAML: {error}", where=str(path)
        ) from None
    if not isinstance(header, dict):
        raise QueryDefinitionError("the #+ header must be a YAML mapping", where=str(path))
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise QueryDefinitionError(
            f"unknown header key(s) {sorted(map(str, unknown))}",
            where=str(path),
            hint=f"allowed keys: {', '.join(sorted(HEADER_KEYS))}",
        )
    for key in ("summary", "description"):
        if not isinstance(header.get(key), str) or not header[key].strip():
            raise QueryDefinitionError(f"the header needs a '{key}' text", where=str(path))
    return header


def _parse_parameter(path: Path, name: str, spec: object) -> Parameter:
    where = f"{path}: parameter {name!r}"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
        raise QueryDefinitionError("a parameter name must be a SPARQL variable name", where=where)
    if name in RESERVED_PARAMETERS:
        raise QueryDefinitionError(
            f"{', '.join(RESERVED_PARAMETERS)} are reserved for the answer's format and pages",
            where=where,
            hint="give the parameter another name",
        )
    if not isinstance(spec, dict):
        raise QueryDefinitionError(
            "a parameter must be a mapping with type and description", where=where
        )
    unknown = set(spec) - PARAMETER_KEYS
    if unknown:
        raise QueryDefinitionError(
            f"unknown key(s) {sorted(map(str, unknown))}",
            where=where,
            hint=f"allowed: {sorted(PARAMETER_KEYS)}",
        )
    if spec.get("type") not in PARAMETER_TYPES:
        raise QueryDefinitionError(
            f"type {spec.get('type')!r} is not one of {', '.join(PARAMETER_TYPES)}", where=where
        )
    if not isinstance(spec.get("description"), str):
        raise QueryDefinitionError("a parameter needs a description", where=where)
    allowed = spec.get("allowed") or ()
    if not isinstance(allowed, list | tuple):
        raise QueryDefinitionError("'allowed' must be a list", where=where)
    for bound in ("minimum", "maximum"):
        value = spec.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise QueryDefinitionError(f"'{bound}' must be a whole number", where=where)
    default = spec.get("default")
    if isinstance(default, dt.date):
        default = default.isoformat()  # YAML reads 2013-02-01 as a date; keep it as text
    if default is not None and (isinstance(default, bool) or not isinstance(default, str | int)):
        raise QueryDefinitionError("'default' must be a string or a whole number", where=where)
    parameter = Parameter(
        name=name,
        type=spec["type"],
        description=spec["description"],
        default=default,
        allowed=tuple(str(value) for value in allowed),
        required=bool(spec.get("required", False)),
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
    )
    if parameter.default is not None:
        try:
            parameter.to_term(parameter.default)
        except ParameterError as error:
            raise QueryDefinitionError(
                f"the default is invalid: {error.what}", where=where
            ) from None
    return parameter


def _select_clause(body: str) -> str:
    match = re.search(r"\bSELECT\b(.*?)\bWHERE\b", body, re.IGNORECASE | re.DOTALL)
    return match.group(1) if match else ""


def load_query(path: Path, name: str) -> StoredQuery:
    """Read and check one ``.rq`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise QueryDefinitionError(
            f"the file is not UTF-8 (byte {error.start})", where=str(path), hint="save it as UTF-8"
        ) from None
    header = _parse_header(path, text)
    specs = header.get("parameters") or {}
    if not isinstance(specs, dict):
        raise QueryDefinitionError(
            "'parameters' must be a mapping of name to spec", where=str(path)
        )
    parameters = {str(key): _parse_parameter(path, str(key), spec) for key, spec in specs.items()}
    body = strip_comments(text)
    select = _select_clause(body)
    for parameter in parameters:
        if not re.search(rf"[?$]{parameter}\b", body):
            raise QueryDefinitionError(
                f"parameter {parameter!r} is declared but ?{parameter} never occurs in the query",
                where=str(path),
            )
        if select and not re.search(rf"[?$]{parameter}\b", select):
            raise QueryDefinitionError(
                f"parameter ?{parameter} must be projected by the SELECT clause",
                where=str(path),
                hint="bound variables must be projected (Virtuoso and others require it)",
            )
    for key in ("tags", "requires-one-of"):
        value = header.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str | int) for item in value)
        ):
            raise QueryDefinitionError(f"'{key}' must be a list of names", where=str(path))
    example = header.get("example")
    if example is not None and not isinstance(example, dict):
        raise QueryDefinitionError(
            "'example' must be a mapping of parameter to value", where=str(path)
        )
    requires_one_of = tuple(str(name) for name in header.get("requires-one-of") or ())
    if set(requires_one_of) - set(parameters):
        raise QueryDefinitionError("'requires-one-of' names undeclared parameters", where=str(path))
    try:
        where_group_start(text)
    except ValueError:
        raise QueryDefinitionError("no WHERE group found", where=str(path)) from None
    try:
        site = binding_site(text, parameters)
    except ValueError as error:
        raise QueryDefinitionError(
            str(error),
            where=str(path),
            hint="keep one VALUES block of UNDEF values naming exactly the parameters",
        ) from None
    tags = header.get("tags") or ()
    return StoredQuery(
        name=name,
        path=path,
        summary=header["summary"].strip(),
        description=" ".join(header["description"].split()),
        text=text,
        tags=tuple(str(tag) for tag in tags),
        parameters=parameters,
        requires_one_of=requires_one_of,
        example={str(k): str(v) for k, v in (header.get("example") or {}).items()},
        binding_site=site,
        pageable=not {"LIMIT", "OFFSET"} & keywords(body),
    )


class Catalog:
    """Every stored query of a ``queries/`` folder, by name (``checks/…`` for checks)."""

    def __init__(self, queries: Mapping[str, StoredQuery]) -> None:
        self._queries = dict(sorted(queries.items()))

    @classmethod
    def from_folder(cls, folder: Path) -> Catalog:
        if not folder.is_dir():
            raise QueryDefinitionError("no queries folder", where=str(folder))
        queries = {}
        for path in sorted(folder.rglob("*.rq")):
            name = path.relative_to(folder).with_suffix("").as_posix()
            queries[name] = load_query(path, name)
        return cls(queries)

    def __iter__(self):
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, name: object) -> bool:
        return name in self._queries

    def get(self, name: str) -> StoredQuery:
        try:
            return self._queries[name]
        except KeyError:
            close = [known for known in self._queries if name in known or known in name]
            raise UnknownQueryError(
                f"no stored query named {name!r}",
                hint=f"did you mean {', '.join(close)}?"
                if close
                else "`hrkg query list` shows them",
            ) from None

    @property
    def questions(self) -> list[StoredQuery]:
        return [query for query in self if not query.is_check]

    @property
    def checks(self) -> list[StoredQuery]:
        return [query for query in self if query.is_check]
