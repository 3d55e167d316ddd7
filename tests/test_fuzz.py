"""Fuzz targets for the two parsers that read files written by people: query headers and
input data.

(a) **The ``#+`` header of a stored query.** Hypothesis writes headers three ways: YAML
dumped from random mappings (the real keys with values of every YAML type, random keys,
nesting), YAML-ish lines built from tokens (anchors, tags, flow and block syntax, tabs),
and real headers from ``queries/`` with lines cut, doubled, re-indented or flipped; the
bytes may hold text that is not valid UTF-8. Each goes into a ``.rq`` file with a valid
body. :func:`load_query` must return a :class:`StoredQuery` (one the REST API can list)
or raise a :class:`QueryDefinitionError` that names the file, and nothing else.

(b) **The validation entry point.** Real lines of ``tests/good_input/new-case.ttl`` and
``tests/bad_input/*`` are mutated (characters flipped, files cut, lines doubled or
swapped, quotes, braces, NUL and invalid UTF-8 inserted), or replaced by arbitrary bytes,
and written to a ``.ttl`` file (sometimes to the seed's own suffix). ``kg.validate(path)``
must return a :class:`Report` (that renders as JSON and Turtle) or raise an
:class:`HrkgError` naming the file, and the line for syntax and encoding errors; nothing
else. And nothing stored changes: the store has the same quads before and after.

Known bugs of ``src/`` are data (:data:`KNOWN_BUGS`): an exception of the recorded type,
raised in the recorded hrkg function, is counted as a hypothesis event instead of failing
the fuzz target, and each bug has a regression test marked ``xfail(strict=True)``, which
fails as XPASS once it is fixed, so that its entry is removed.

Few examples in the normal suite (the "quick" profile, derandomized); ``make fuzz``
(``HRKG_LONG_TESTS=1``) loads the "long" profile, with random examples and many more.
"""

from __future__ import annotations

import json
import re
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from hypothesis import currently_in_test_context, event, given, note, settings
from hypothesis import strategies as st
from rdflib import namespace

import hrkg
from hrkg.catalog import HEADER_KEYS, PARAMETER_KEYS, PARAMETER_TYPES, StoredQuery, load_query
from hrkg.errors import HrkgError, QueryDefinitionError
from hrkg.server.rest_api import describe
from hrkg.validation.report import Report
from hypothesis_profiles import PROFILE

TESTS = Path(__file__).resolve().parent
QUERIES = TESTS.parent / "queries"
SEEDS = [TESTS / "good_input" / "new-case.ttl", *sorted((TESTS / "bad_input").iterdir())]


def examples(share: float) -> settings:
    """The profile with a share of its examples."""
    return settings(PROFILE, max_examples=max(1, round(PROFILE.max_examples * share)))


def record(text: str, *, kind: str = "note") -> None:
    """A hypothesis note or event; nothing in the plain regression tests, which have none."""
    if currently_in_test_context():
        (event if kind == "event" else note)(text)


# -- known bugs in src/ ------------------------------------------------------------------------


PACKAGE = Path(hrkg.__file__).resolve().parent


def raised_in(error: BaseException) -> str:
    """``module.function`` of the innermost frame of the hrkg package the error passed through."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename).resolve().is_relative_to(PACKAGE)
    ]
    if not frames:
        return ""
    return f"{Path(frames[-1].filename).stem}.{frames[-1].name}"


@dataclass(frozen=True)
class KnownBug:
    """A bug of ``src/``: the error it raises (of ``error``'s type, raised in the hrkg
    function ``where``, its text matching ``message``), and a file that reproduces it.

    A bug that shows as a wrong :class:`HrkgError` rather than as another exception says so
    with ``bad_error``, and its regression test fails with AssertionError. ``reason`` is the
    bug as found (file and line at the time).
    """

    name: str
    reason: str
    error: type[BaseException]
    where: str
    reproducer: bytes
    message: str = ""
    suffix: str = ".rq"
    bad_error: Callable[[HrkgError], bool] | None = None
    #: Fixed since it was found: the reproducer stays as a regression test.
    fixed: bool = False

    def matches(self, error: BaseException) -> bool:
        if self.bad_error is not None:
            return isinstance(error, HrkgError) and self.bad_error(error)
        return (
            isinstance(error, self.error)
            and raised_in(error) == self.where
            and re.search(self.message, str(error)) is not None
        )


def _header(*lines: str) -> bytes:
    return "".join(f"#+ {line}\n" for line in lines).encode("utf-8") + SELECT_BODY.encode()


SELECT_BODY = "SELECT ?s ?o WHERE { ?s ?p ?o }\n"
HEADER = ("summary: s", "description: d")

KNOWN_BUGS = (
    KnownBug(
        "header-not-utf8",
        "src/hrkg/catalog.py:297 load_query reads the file with path.read_text(encoding='utf-8') "
        "and lets UnicodeDecodeError out: a .rq file that is not UTF-8 ends in a traceback, "
        "not a QueryDefinitionError naming the file",
        UnicodeDecodeError,
        "catalog.load_query",
        b"#+ summary: caf\xe9\n#+ description: d\n" + SELECT_BODY.encode(),
        fixed=True,
    ),
    KnownBug(
        "yaml-value-error",
        "src/hrkg/catalog.py:226-227 _parse_header catches only yaml.YAMLError, but PyYAML's "
        "constructors raise plain ValueError for '!!float x', '!!timestamp 2001-13-45' and an "
        "integer of more than 4300 digits ('Exceeds the limit'): a traceback, not a "
        "QueryDefinitionError naming the file",
        ValueError,
        "catalog._parse_header",
        _header(*HEADER, "tags: [" + "9" * 5000 + "]"),
        fixed=True,
    ),
    KnownBug(
        "yaml-index-error",
        "src/hrkg/catalog.py:236-237 _parse_header catches yaml.YAMLError, ValueError and "
        "RecursionError from yaml.safe_load, but PyYAML raises IndexError for an empty '!!int' "
        "scalar ('#+ tags: !!int'): a traceback, not a QueryDefinitionError naming the file",
        IndexError,
        "catalog._parse_header",
        _header(*HEADER, "tags: !!int"),
        fixed=True,
    ),
    KnownBug(
        "yaml-deep-nesting",
        "src/hrkg/catalog.py:226-227 _parse_header catches only yaml.YAMLError; PyYAML's parser "
        "is recursive and a header nested a few thousand levels deep raises RecursionError",
        RecursionError,
        "catalog._parse_header",
        _header(*HEADER, "tags: " + "[" * 5000 + "]" * 5000),
        fixed=True,
    ),
    KnownBug(
        "header-keys-of-mixed-types",
        "src/hrkg/catalog.py:236 (and :257 for a parameter's keys) sorted(unknown) of unknown keys "
        "of different types (an int and a str: '#+ 1: a' next to '#+ b: c') raises TypeError",
        TypeError,
        "catalog._parse_header",
        _header(*HEADER, "1: a", "b: c"),
        "not supported between instances",
        fixed=True,
    ),
    KnownBug(
        "parameter-keys-of-mixed-types",
        "src/hrkg/catalog.py:257 _parse_parameter sorts unknown spec keys of different types "
        "({type: string, description: x, 1: 2, b: 3}) and raises TypeError",
        TypeError,
        "catalog._parse_parameter",
        _header(*HEADER, "parameters: {o: {type: string, description: x, 1: 2, b: 3}}"),
        "not supported between instances",
        fixed=True,
    ),
    KnownBug(
        "header-value-not-a-list",
        "src/hrkg/catalog.py:319-320 and :326-333 load_query does tuple(...) and set(...) of "
        "'requires-one-of' and 'tags' unchecked: 'tags: 5' or 'requires-one-of: 5' raises "
        "TypeError (not iterable), 'requires-one-of: [[a]]' TypeError (unhashable)",
        TypeError,
        "catalog.load_query",
        _header(*HEADER, "tags: 5"),
        fixed=True,
    ),
    KnownBug(
        "example-not-a-mapping",
        "src/hrkg/catalog.py:336 load_query calls header.get('example').items() unchecked: "
        "'example: [1, 2]' raises AttributeError",
        AttributeError,
        "catalog.load_query",
        _header(*HEADER, "example: [1, 2]"),
        fixed=True,
    ),
    KnownBug(
        "bound-not-a-number",
        "src/hrkg/catalog.py:138-141 _integer_term compares the value with minimum/maximum as "
        "given in the header; _parse_parameter (:277-278) never checks they are numbers, so "
        "{type: integer, default: 5, minimum: abc} raises TypeError while checking the default",
        TypeError,
        "catalog._integer_term",
        _header(
            *HEADER, "parameters: {o: {type: integer, description: x, default: 5, minimum: a}}"
        ),
        fixed=True,
    ),
    KnownBug(
        "default-not-json",
        "src/hrkg/catalog.py:274 keeps a parameter's default as YAML made it: 'default: "
        "2013-02-01' is a datetime.date, accepted for a date parameter, and then GET "
        "/api/queries (src/hrkg/server/rest_api.py:48 describe) cannot write it as JSON (a 500)",
        TypeError,
        "",
        _header(*HEADER, "parameters: {o: {type: date, description: x, default: 2013-02-01}}"),
        "not JSON serializable",
        fixed=True,
    ),
    KnownBug(
        "syntax-error-position-none",
        "src/hrkg/input_files.py:138-139 syntax_error_position formats pyoxigraph's location "
        "tuple without checking it: the RDF/XML parser (and JSON-LD for errors found after "
        "reading, such as '@type value must be a string') gives (None, None, …), so the error "
        "says 'file.rdf:None:None' instead of a line and column (or of the file alone)",
        AssertionError,
        "",
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        b"<rdf:Description rdf:about='x y'/></rdf:RDF>\n",
        suffix=".rdf",
        bad_error=lambda error: bool(error.where) and error.where.endswith(":None:None"),
        fixed=True,
    ),
)


def known_bug(error: BaseException) -> KnownBug | None:
    """The open bug this error shows, if any (a fixed one is a failure again)."""
    return next((bug for bug in KNOWN_BUGS if not bug.fixed and bug.matches(error)), None)


# -- (a) query headers -------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(PARAMETER_TYPES),
    st.dates(),
    st.sampled_from(["2013-02-01", "yes", "no", "~", "null", ".inf", "0x1F", "1e3", "", " "]),
)
YAML_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), children, max_size=3),
    ),
    max_leaves=8,
)
NAMES = st.one_of(st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z"), st.text(max_size=8))


@st.composite
def parameter_specs(draw) -> dict:
    spec = {
        "type": draw(st.one_of(st.sampled_from(PARAMETER_TYPES), YAML_VALUES)),
        "description": draw(st.one_of(st.text(max_size=30), YAML_VALUES)),
    }
    for key in sorted(PARAMETER_KEYS - {"type", "description"}):
        if draw(st.booleans()):
            spec[key] = draw(YAML_VALUES)
    if draw(st.booleans()):
        spec[draw(st.text(max_size=8))] = draw(YAML_VALUES)
    return spec


@st.composite
def header_mappings(draw) -> dict:
    """A header as a mapping: the real keys, mostly, with values of any YAML type."""
    header: dict = {}
    for key in ("summary", "description"):
        if draw(st.integers(0, 9)):
            header[key] = draw(st.one_of(st.text(min_size=1, max_size=40), YAML_VALUES))
    for key in sorted(HEADER_KEYS - {"summary", "description"}):
        if draw(st.booleans()):
            header[key] = draw(
                st.dictionaries(NAMES, parameter_specs(), max_size=3)
                if key == "parameters"
                else YAML_VALUES
            )
    if draw(st.integers(0, 4)) == 0:
        header[draw(st.one_of(st.text(max_size=10), st.integers()))] = draw(YAML_VALUES)
    return header


YAML_TOKENS = (
    "summary:", "description:", "tags:", "parameters:", "requires-one-of:", "example:",
    "  year:", "    type: integer", "    type: date", "    description: d", "    default: 2013",
    "    allowed: [a, b]", "    required: true", "    minimum: 1900", "- ", "[", "]", "{", "}",
    ":", ",", "&a ", "*a", "<<: *a", "!!python/object/apply:os.system ['true']", "!!binary ",
    "!!int ", "!!str ", "!!set ", "|", ">", "? ", "%YAML 1.1", "%TAG ! tag:x,2000:", "---",
    "...", "\t", "'", '"', "#", "@", "`", "\\", "\x00", "\x85", "\u2028", "\ufeff", "é",
    "\ud800", "\udcff", "9" * 30,
)  # fmt: skip


def yamlish_lines() -> st.SearchStrategy[list[str]]:
    line = st.lists(st.one_of(st.sampled_from(YAML_TOKENS), st.text(max_size=10)), max_size=5).map(
        "".join
    )
    return st.lists(line, min_size=1, max_size=8)


def real_header_lines() -> list[list[str]]:
    """The header lines of every stored query, ``#+`` removed."""
    headers = []
    for path in sorted(QUERIES.rglob("*.rq")):
        lines = path.read_text("utf-8").splitlines()
        headers.append([line[2:].removeprefix(" ") for line in lines if line.startswith("#+")])
    return headers


REAL_HEADERS = real_header_lines()


@st.composite
def mutated_real_headers(draw) -> list[str]:
    lines = list(draw(st.sampled_from(REAL_HEADERS)))
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["cut", "double", "indent", "dedent", "flip", "insert"]))
        if operation == "cut":
            del lines[at]
        elif operation == "double":
            lines.insert(at, lines[at])
        elif operation == "indent":
            lines[at] = draw(st.sampled_from([" ", "  ", "\t", "      "])) + lines[at]
        elif operation == "dedent":
            lines[at] = lines[at].lstrip()
        else:
            text = lines[at]
            spot = draw(st.integers(0, len(text)))
            piece = draw(st.one_of(st.sampled_from(YAML_TOKENS), st.text(max_size=3)))
            cut = 1 if operation == "flip" else 0
            lines[at] = text[:spot] + piece + text[spot + cut :]
    return lines


@st.composite
def query_files(draw) -> tuple[bytes, str]:
    """The bytes of a .rq file and how its header was made (for the statistics)."""
    kind = draw(st.sampled_from(["mapping", "yaml-ish", "real, mutated"]))
    names: list[str] = []
    if kind == "mapping":
        header = draw(header_mappings())
        parameters = header.get("parameters")
        if isinstance(parameters, dict):
            names = [str(name) for name in parameters]
        try:
            dumped = yaml.safe_dump(
                header,
                allow_unicode=draw(st.booleans()),
                default_flow_style=draw(st.sampled_from([False, True, None])),
                sort_keys=False,
                width=draw(st.integers(10, 200)),
            )
        except yaml.YAMLError:  # a mapping PyYAML cannot write out (not our code)
            dumped = "summary: s\ndescription: d\n"
        lines = dumped.splitlines()
    elif kind == "yaml-ish":
        lines = draw(yamlish_lines())
    else:
        lines = draw(mutated_real_headers())
    prefix = draw(st.sampled_from(["#+ ", "#+", "#+  ", "#+\t"]))
    header_text = "".join(f"{prefix}{line}\n" for line in lines)
    # A body that uses the declared names, so that well-formed headers load.
    variables = [name for name in names if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
    projected = " ".join(f"?{name}" for name in ["s", *variables])
    patterns = " ".join(f"OPTIONAL {{ ?s ?p ?{name} }}" for name in variables)
    body = f"SELECT {projected} WHERE {{ ?s ?p ?o . {patterns} }}\n"
    # Lone surrogates become bytes that are not UTF-8; so may some random bytes.
    data = (header_text + body).encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(header_text)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data, kind


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A folder for the files each example writes (one file, overwritten)."""
    with tempfile.TemporaryDirectory(prefix="hrkg-fuzz-") as folder:
        yield Path(folder)


def check_query_file(path: Path, data: bytes, *, tolerate_known_bugs: bool = True) -> None:
    """A StoredQuery the REST API can describe, or a QueryDefinitionError naming the file."""
    path.write_bytes(data)
    try:
        stored = load_query(path, path.stem)
        assert isinstance(stored, StoredQuery)
        assert all(p.type in PARAMETER_TYPES for p in stored.parameters.values())
        json.dumps(describe(stored))  # what GET /api/queries answers
        record("loaded", kind="event")
    except QueryDefinitionError as error:
        assert str(path) in error.message, f"the error does not name the file: {error.message}"
        record("QueryDefinitionError", kind="event")
    except Exception as error:
        bug = known_bug(error)
        if bug is None or not tolerate_known_bugs:
            raise
        record(f"known bug: {bug.name}", kind="event")


@given(query_files())
@examples(2.0)
def test_query_header_parser(scratch: Path, file: tuple[bytes, str]) -> None:
    data, kind = file
    record(f"header: {kind}", kind="event")
    record(data.decode("utf-8", errors="backslashreplace"))
    check_query_file(scratch / "fuzz.rq", data)


# -- (b) the validation entry point -------------------------------------------------------------

INSERTS = (
    b'"', b"'", b'"""', b"<", b">", b"{", b"}", b"[", b"]", b"(", b")", b".", b";", b",",
    b"#", b"@", b"^^", b"_:", b":", b"\\", b"\\u0000", b"\\uD800", b"\\U0010FFFF",
    b"\\U00110000", b"\x00", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\n",
    b"\r", b"\t", b" ", b"@prefix x: <", b"@base <", b"PREFIX", b"a", b"true", b"1e999",
    b"-0", b"9" * 40, b"<!ENTITY x 'y'>", b"<!DOCTYPE r [", b"]>", b"&x;", b"@en", b"@",
    b'"x"^^<%s>' % str(namespace.XSD.date).encode(), b"<https://w3id.org/hrkg/id/case/x>",
    b"hr:", b"hr:Nope", b"case:", b"\xe2\x80\xae", "é".encode(), "\U0001f600".encode(),
)  # fmt: skip


def _other_formats() -> list[tuple[str, bytes]]:
    """The good input in the other input syntaxes (real statements, other parsers)."""
    quads = list(pyoxigraph.parse(path=str(SEEDS[0]), format=pyoxigraph.RdfFormat.TURTLE))
    triples = [quad.triple for quad in quads]
    return [
        (".nt", pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES)),
        (".rdf", pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.RDF_XML)),
        (".jsonld", pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.JSON_LD)),
    ]


SEED_FILES = [(path.suffix, path.read_bytes()) for path in SEEDS] + _other_formats()


@st.composite
def input_files(draw) -> tuple[str, bytes]:
    """(suffix, bytes): a seed mutated a few times, or arbitrary bytes."""
    suffix, data = draw(st.sampled_from(SEED_FILES))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([".ttl", suffix])), draw(st.binary(max_size=200))
    lines = data.splitlines(keepends=True) or [b""]
    for _ in range(draw(st.integers(1, 5))):
        operation = draw(
            st.sampled_from(["flip", "insert", "cut", "truncate", "double", "swap", "splice"])
        )
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        spot = draw(st.integers(0, len(line)))
        if operation == "flip" and line:
            spot = min(spot, len(line) - 1)
            byte = draw(
                st.one_of(st.integers(0, 255).map(lambda b: bytes([b])), st.sampled_from(INSERTS))
            )
            lines[at] = line[:spot] + byte + line[spot + 1 :]
        elif operation == "insert":
            lines[at] = line[:spot] + draw(st.sampled_from(INSERTS)) + line[spot:]
        elif operation == "cut" and len(lines) > 1:
            del lines[at]
        elif operation == "truncate":
            lines = [*lines[:at], line[:spot]]
        elif operation == "double":
            lines.insert(at, line)
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif operation == "splice":
            _, donor = draw(st.sampled_from(SEED_FILES))
            donor_lines = donor.splitlines(keepends=True) or [b""]
            lines.insert(at, draw(st.sampled_from(donor_lines)))
    suffix = draw(st.sampled_from([".ttl", ".ttl", suffix]))
    return suffix, b"".join(lines)


def _fingerprint(kg: hrkg.KnowledgeGraph) -> tuple[int, list[str]]:
    return len(kg.store), [name.value for name in kg.store.graph_names()]


def check_input_file(
    kg: hrkg.KnowledgeGraph, path: Path, data: bytes, *, tolerate_known_bugs: bool = True
) -> None:
    """A Report, or an HrkgError naming the file (and line), and the store unchanged."""
    path.write_bytes(data)
    before = _fingerprint(kg)
    try:
        report = kg.validate(path)
        assert isinstance(report, Report)
        json.loads(report.to_json())
        report.to_turtle()
        record("conforms" if report.conforms() else "does not conform", kind="event")
    except HrkgError as error:
        bug = known_bug(error)
        if bug is not None and tolerate_known_bugs:
            record(f"known bug: {bug.name}", kind="event")
            return
        assert error.where and error.where.startswith(str(path)), f"no file in {error.message}"
        if "syntax error" in error.what or "not UTF-8" in error.what:
            position = re.fullmatch(rf"{re.escape(str(path))}(?::(\d+):(\d+))?", error.where)
            assert position, f"not file:line:column: {error.where!r}"
            if position[1] is None:
                # RDF/XML, and JSON-LD past its reading stage, say no position: the file alone.
                unplaced = path.suffix in (".rdf", ".jsonld") and "syntax error" in error.what
                assert unplaced, f"no line and column in {error.where!r}"
            else:
                # Turtle ends a line at CR or LF (its EOL is [#xD#xA]+).
                lines = data.count(b"\n") + data.count(b"\r") + 1
                assert 1 <= int(position[1]) <= lines, error.where
        record(f"{type(error).__name__}: {error.what[:40]}", kind="event")
    except Exception as error:
        bug = known_bug(error)
        if bug is None or not tolerate_known_bugs:
            raise
        record(f"known bug: {bug.name}", kind="event")
    finally:
        assert _fingerprint(kg) == before, "validation changed the store"


@given(input_files())
@examples(1.5)
def test_validation_entry_point(
    kg: hrkg.KnowledgeGraph, scratch: Path, file: tuple[str, bytes]
) -> None:
    suffix, data = file
    record(repr(data))
    check_input_file(kg, scratch / f"fuzz{suffix}", data)


# -- the known bugs, reproduced ------------------------------------------------------------------


@pytest.mark.parametrize(
    "bug",
    [
        pytest.param(
            bug,
            id=bug.name,
            marks=()
            if bug.fixed
            else pytest.mark.xfail(strict=True, raises=bug.error, reason=bug.reason),
        )
        for bug in KNOWN_BUGS
    ],
)
def test_bug_reproducer(kg: hrkg.KnowledgeGraph, scratch: Path, bug: KnownBug) -> None:
    """Each bug found here, reproduced. A fixed one must stay fixed. An open one must fail
    with the recorded error, raised where recorded (any other failure is reported as such,
    so that the entry the fuzz targets rely on stays exact), and fails the suite as XPASS
    once it is fixed: then mark it fixed."""
    path = scratch / f"known{bug.suffix}"
    try:
        if bug.suffix == ".rq":
            check_query_file(path, bug.reproducer, tolerate_known_bugs=False)
        else:
            check_input_file(kg, path, bug.reproducer, tolerate_known_bugs=False)
    except bug.error as error:
        if bug.bad_error is None and not bug.matches(error):
            pytest.fail(f"{bug.name}: raised {error!r} in {raised_in(error)!r}, not as recorded")
        raise
