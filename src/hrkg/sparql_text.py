"""Lexical look at SPARQL text: its keywords and braces outside comments, strings and IRIs.

Enough to find where the WHERE group opens and whether a text asks for something hrkg
refuses (an update, ``SERVICE``), without a second SPARQL parser; the store's own parser
judges everything else.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

_IRI = re.compile(r"<[^\s<>\"{}|^`\\]*>")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)


def code_tokens(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, token)`` for each bare word, ``{`` and ``}`` that is code.

    Words right after ``?``/``$`` (variables) or ``:`` (local names) are skipped, so a
    variable called ``?service`` is not the keyword SERVICE.
    """
    i, length = 0, len(text)
    while i < length:
        char = text[i]
        if char == "#":
            newline = text.find("\n", i)
            i = length if newline < 0 else newline + 1
        elif char in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else char
            i += len(quote)
            while i < length and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
        elif char == "<" and (iri := _IRI.match(text, i)):
            i = iri.end()
        elif char in "{}":
            yield i, char
            i += 1
        elif char in "?$:" or char.isalnum() or char == "_":
            word = _WORD.match(text, i + 1 if char in "?$:" else i)
            end = word.end() if word else i + 1
            if char not in "?$:" and word:
                yield i, word.group(0)
            i = max(end, i + 1)
        else:
            i += 1


def strip_comments(text: str) -> str:
    """The text with every ``#`` comment removed (a ``#`` in a string or IRI stays)."""
    pieces, i, length = [], 0, len(text)
    while i < length:
        char = text[i]
        if char == "#":
            newline = text.find("\n", i)
            i = length if newline < 0 else newline
        elif char in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else char
            end = i + len(quote)
            while end < length and not text.startswith(quote, end):
                end += 2 if text[end] == "\\" else 1
            end += len(quote)
            pieces.append(text[i:end])
            i = end
        elif char == "<" and (iri := _IRI.match(text, i)):
            pieces.append(iri.group(0))
            i = iri.end()
        else:
            pieces.append(char)
            i += 1
    return "".join(pieces)


def where_group_start(text: str) -> int:
    """The offset just after the first ``{`` of the text: the one opening the WHERE group.

    The prologue and SELECT clause of a query hold no brace (a projected ``EXISTS {…}``
    would; stored queries must not use one).
    """
    for offset, token in code_tokens(text):
        if token == "{":
            return offset + 1
    raise ValueError("no '{' opens a WHERE group")


_VARIABLE = r"[?$][A-Za-z_][A-Za-z0-9_]*"
_ALL_UNDEF_BLOCK = re.compile(
    rf"\s*\(\s*((?:{_VARIABLE}\s*)+)\)\s*\{{\s*\(\s*((?:UNDEF\s*)+)\)\s*\}}", re.IGNORECASE
)


@dataclass(frozen=True)
class UndefValuesBlock:
    """A ``VALUES (?a ?b) { (UNDEF UNDEF) }`` block: one row, every variable unbound."""

    start: int
    end: int
    variables: tuple[str, ...]


def undef_values_blocks(text: str) -> list[UndefValuesBlock]:
    """Every one-row, all-``UNDEF`` VALUES block of the code, in the parenthesised form.

    Such a block binds nothing, so a query can carry one as the place where its
    parameters are to be bound, and still run as it is in any SPARQL tool.
    """
    blocks = []
    for offset, token in code_tokens(text):
        if token.upper() != "VALUES":
            continue
        match = _ALL_UNDEF_BLOCK.match(text, offset + len(token))
        if not match:
            continue
        variables = tuple(name[1:] for name in re.findall(_VARIABLE, match.group(1)))
        if len(match.group(2).split()) == len(variables):
            blocks.append(UndefValuesBlock(offset, match.end(), variables))
    return blocks


def parameter_block(text: str, parameters: Collection[str]) -> UndefValuesBlock | None:
    """The all-``UNDEF`` VALUES block naming exactly the parameters, if the text has one.

    Two such blocks are an error (``ValueError``): the values would go to only one of them.
    """
    if not parameters:
        return None
    wanted = set(parameters)
    blocks = [
        block
        for block in undef_values_blocks(text)
        if set(block.variables) == wanted and len(block.variables) == len(wanted)
    ]
    if len(blocks) > 1:
        raise ValueError(f"{len(blocks)} VALUES blocks of UNDEF values name the parameters")
    return blocks[0] if blocks else None


def keywords(text: str) -> set[str]:
    """The upper-cased bare words of the text (keywords, function names, prefixes)."""
    return {token.upper() for _, token in code_tokens(text) if token not in "{}"}


def is_update(text: str) -> bool:
    """Whether the text is a SPARQL Update (its first keyword after the prologue)."""
    for _, token in code_tokens(text):
        word = token.upper()
        if word in {"PREFIX", "BASE", "{", "}"}:
            continue
        if word in UPDATE_KEYWORDS:
            return True
        if word in {"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"}:
            return False
    return False


_FROM = re.compile(r"\bFROM\s+(?:NAMED\s+)?(<[^<>\s]*>|[A-Za-z_][\w.-]*:[^\s{}]*)", re.IGNORECASE)


def dataset_clause_iris(text: str) -> list[str]:
    """The graphs named by ``FROM`` / ``FROM NAMED`` clauses (prefixed names left as written)."""
    return [
        match.group(1)[1:-1] if match.group(1).startswith("<") else match.group(1)
        for match in _FROM.finditer(strip_comments(text))
    ]
