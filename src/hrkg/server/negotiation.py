"""Content negotiation: the ``Accept`` header (with q-values) or an explicit ``format``."""

from __future__ import annotations

from collections.abc import Mapping

#: Result formats of SELECT/ASK: name -> media type (first is the default).
RESULT_MEDIA = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
#: Graph formats of CONSTRUCT/DESCRIBE and of entity descriptions.
GRAPH_MEDIA = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "xml": "application/rdf+xml",
}
ALIASES = {
    "application/json": "json",
    "text/xml": "xml",
    "application/xml": "xml",
    "text/plain": None,
}


def _accepted(accept: str) -> list[tuple[float, int, str]]:
    ranked = []
    for index, part in enumerate(accept.split(",")):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, index, media.lower()))
    return sorted(ranked)


def choose(
    accept: str | None, offered: Mapping[str, str], explicit: str | None = None
) -> str | None:
    """The offered format name to answer with; None when nothing acceptable is offered.

    ``explicit`` (a ``?format=`` value, name or media type) wins over the header; an
    absent or ``*/*`` header gets the first offered format.
    """
    names = list(offered)
    if explicit:
        explicit = explicit.lower()
        if explicit in offered:
            return explicit
        by_media = {media: name for name, media in offered.items()}
        return by_media.get(explicit) or (
            ALIASES.get(explicit) if ALIASES.get(explicit) in offered else None
        )
    if not accept:
        return names[0]
    for _, _, media in _accepted(accept):
        if media in ("*/*", "application/*", "text/*") and (
            media == "*/*" or any(offered[name].startswith(media[:-1]) for name in names)
        ):
            return (
                names[0]
                if media == "*/*"
                else next(n for n in names if offered[n].startswith(media[:-1]))
            )
        for name in names:
            if offered[name] == media:
                return name
        alias = ALIASES.get(media)
        if alias in offered:
            return alias
    return None


def wants_html(accept: str | None) -> bool:
    """A browser asks for text/html before any RDF type."""
    if not accept:
        return False
    for _, _, media in _accepted(accept):
        if media == "text/html" or media == "application/xhtml+xml":
            return True
        if media in GRAPH_MEDIA.values() or media in ("*/*",):
            return False
    return False
