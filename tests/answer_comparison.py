"""Comparing two answers to the same question as SPARQL defines them, not byte for byte.

SPARQL leaves free the order of rows without ORDER BY (and of ties under it), and the order
of the parts of a GROUP_CONCAT, which follows each store's own iteration order: so the
embedded store, a remote server, and the same data on disk or in memory may each spell a
correct answer differently. Rows are compared sorted, and GROUP_CONCAT cells as the sorted
list of their parts. Servers also differ on GROUP_CONCAT's type: Virtuoso returns a plain
string where Oxigraph keeps the parts' common language tag, and an empty string over no
values where Oxigraph leaves the cell unbound (SPARQL 1.1 section 18.5.1.7 leaves both
open); comparing the parts' text covers that too.
"""

from __future__ import annotations

import csv
import io
import re

from hrkg.results import Table


def group_concat_columns(text: str) -> set[str]:
    """The variables a query binds to a GROUP_CONCAT: ``(GROUP_CONCAT(…) AS ?name)``."""
    blank = lambda match: " " * len(match.group())  # noqa: E731 (keeps every offset)
    code = re.sub(r"(?m)^\s*#.*$", blank, text)
    code = re.sub(r'"[^"\n]*"', blank, code)
    names = set()
    for call in re.finditer(r"\bGROUP_CONCAT\s*\(", code, re.IGNORECASE):
        depth, index = 1, call.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(code[index], 0)
            index += 1
        alias = re.match(r"\s*AS\s+[?$](\w+)", code[index:], re.IGNORECASE)
        assert alias, f"GROUP_CONCAT(…) without AS ?name at offset {call.start()}"
        names.add(alias.group(1))
    return names


def comparable(table: Table, concatenated: set[str]) -> dict:
    """Sorted rows of N-Triples cells; GROUP_CONCAT cells as their sorted parts."""

    def cell(variable: str, term) -> object:
        if variable in concatenated:
            text = term.value if term is not None else ""
            return ("parts", *sorted(part for part in text.split("; ") if part))
        return None if term is None else str(term)

    rows = [
        [cell(variable, term) for variable, term in zip(table.variables, row, strict=True)]
        for row in table.rows
    ]
    return {"variables": table.variables, "rows": sorted(rows, key=repr)}


def read_csv(text: str, concatenated: set[str]) -> dict:
    """A CSV answer as its header and sorted rows; GROUP_CONCAT cells as sorted parts."""
    header, *rows = csv.reader(io.StringIO(text))

    def cell(name: str, value: str) -> object:
        return sorted(part for part in value.split("; ") if part) if name in concatenated else value

    cells = [[cell(name, value) for name, value in zip(header, row, strict=True)] for row in rows]
    return {"header": header, "rows": sorted(cells, key=repr)}
