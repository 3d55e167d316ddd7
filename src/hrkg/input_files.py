"""Reading RDF files from outside, which may be wrong, huge or hostile.

Every problem becomes an :class:`InputError` that says what, where (file:line:col) and how to
fix it, before anything is stored. Parsing is pyoxigraph's: it fetches nothing (no remote
JSON-LD context, no external XML entity), and the checks here refuse what it would still
expand (XML entity declarations, the "billion laughs"). Sizes are capped by
``HRKG_MAX_INPUT_BYTES``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from pyoxigraph import Quad, RdfFormat

from hrkg.errors import HrkgError

#: Formats by name (``--format``) and by file suffix.
INPUT_FORMATS: dict[str, RdfFormat] = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "trig": RdfFormat.TRIG,
    "nquads": RdfFormat.N_QUADS,
    "jsonld": RdfFormat.JSON_LD,
    "xml": RdfFormat.RDF_XML,
}
SUFFIX_FORMATS = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".trig": "trig",
    ".nq": "nquads",
    ".jsonld": "jsonld",
    ".json": "jsonld",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
}
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


class InputError(HrkgError):
    """An input file cannot be read as RDF; nothing was stored."""


@dataclass(frozen=True)
class InputFile:
    """A parsed input file: its quads (default graph for triple formats) and where from."""

    path: Path
    format: str
    quads: list[Quad]


def format_of(path: Path, declared: str | None = None) -> str:
    """The format name: declared with ``--format``, else from the suffix."""
    if declared:
        if declared not in INPUT_FORMATS:
            raise InputError(
                f"unknown format {declared!r}",
                where=str(path),
                hint=f"choose one of {', '.join(INPUT_FORMATS)}",
            )
        return declared
    try:
        return SUFFIX_FORMATS[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"cannot tell the RDF format from the suffix {path.suffix!r}",
            where=str(path),
            hint=f"rename the file (.ttl, .trig, .nt, .nq, .jsonld, .rdf) or pass --input-format "
            f"({', '.join(INPUT_FORMATS)})",
        ) from None


def read_input(path: Path, *, declared_format: str | None = None, max_bytes: int) -> InputFile:
    """Read and parse one file, or raise an :class:`InputError` naming the problem."""
    fmt = format_of(path, declared_format)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror}", where=str(path)) from None
    if size > max_bytes:
        raise InputError(
            f"the file has {size:,} bytes, over the input limit of {max_bytes:,} bytes",
            where=str(path),
            hint="split it into smaller files, or raise HRKG_MAX_INPUT_BYTES",
        )
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty", where=str(path), hint="nothing to validate or add")
    _check_utf8(path, data)
    if fmt == "xml" and _ENTITY_DECLARATION.search(data):
        raise InputError(
            "RDF/XML with entity declarations (<!ENTITY …>) is refused",
            where=str(path),
            hint="entities can expand without bound ('billion laughs'); write the values out",
        )
    try:
        quads = list(pyoxigraph.parse(data, format=INPUT_FORMATS[fmt]))
    except SyntaxError as error:
        raise InputError(
            f"syntax error: {parser_message(error)}",
            where=located(path, error),
            hint=f"the file was read as {fmt}: fix the syntax, or pass --input-format if the "
            "format is wrong",
        ) from None
    if not quads:
        raise InputError("the file holds no triples", where=str(path))
    return InputFile(path, fmt, quads)


def _check_utf8(path: Path, data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            f"the file is not UTF-8 (byte 0x{data[error.start]:02x})",
            where=f"{path}:{line}:{column}",
            hint="RDF files are UTF-8: re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None


def parser_message(error: SyntaxError) -> str:
    """pyoxigraph's message without its own position prefix (we print file:line:col)."""
    message = str(error.args[0]) if error.args else str(error)
    return re.sub(
        r"^Parser error at line \d+ (between columns \d+ and \d+|column \d+): ", "", message
    )


def syntax_error_position(error: SyntaxError) -> str | None:
    """``line:column`` from pyoxigraph's SyntaxError (``args[1]`` holds the location), or
    None when the parser gives none (RDF/XML, and JSON-LD past the reading stage)."""
    if len(error.args) > 1 and isinstance(error.args[1], tuple) and len(error.args[1]) > 2:
        line, column = error.args[1][1], error.args[1][2]
        if isinstance(line, int) and isinstance(column, int):
            return f"{line}:{column}"
    match = re.search(r"line (\d+)\D+(\d+)", str(error))
    return f"{match.group(1)}:{match.group(2)}" if match else None


def located(path: Path, error: SyntaxError) -> str:
    """``file:line:column``, or the file alone when the position is unknown."""
    position = syntax_error_position(error)
    return f"{path}:{position}" if position else str(path)
