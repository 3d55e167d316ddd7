"""hrkg: a human-rights knowledge graph toolkit, starting with Mali.

The public API::

    import hrkg
    kg = hrkg.open()                      # the Mali dataset, in an in-memory Oxigraph store
    table = kg.query("cases")             # a stored question -> Table of RDF terms
    kg.query("timeline", from_="2012")    # parameters by name (a trailing _ avoids keywords)
    turtle = kg.export("turtle")          # deterministic bytes

The names below are imported on first use, not with the package, so that the ``hrkg``
command can restart itself on a faster ``malloc`` (:mod:`hrkg.allocator`) before it pays
for rdflib, pySHACL and Oxigraph.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from hrkg.catalog import Page
    from hrkg.errors import HrkgError
    from hrkg.knowledge_graph import KnowledgeGraph, Stats
    from hrkg.knowledge_graph import open_knowledge_graph as open
    from hrkg.results import Table

#: Public name -> (module, attribute in it).
_PUBLIC = {
    "HrkgError": ("hrkg.errors", "HrkgError"),
    "KnowledgeGraph": ("hrkg.knowledge_graph", "KnowledgeGraph"),
    "Page": ("hrkg.catalog", "Page"),
    "Stats": ("hrkg.knowledge_graph", "Stats"),
    "Table": ("hrkg.results", "Table"),
    "open": ("hrkg.knowledge_graph", "open_knowledge_graph"),
}

__all__ = ["HrkgError", "KnowledgeGraph", "Page", "Stats", "Table", "__version__", "open"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'hrkg' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
