"""hrkg: a human-rights knowledge graph toolkit, starting with Mali.

The public API::

    import hrkg
    kg = hrkg.open()                      # the Mali dataset, in an in-memory Oxigraph store
    table = kg.query("cases")             # a stored question -> Table of RDF terms
    kg.query("timeline", from_="2012")    # parameters by name (a trailing _ avoids keywords)
    turtle = kg.export("turtle")          # deterministic bytes
"""

__version__ = "0.1.0"

from hrkg.catalog import Page
from hrkg.errors import HrkgError
from hrkg.knowledge_graph import KnowledgeGraph, Stats
from hrkg.knowledge_graph import open_knowledge_graph as open
from hrkg.results import Table

__all__ = ["HrkgError", "KnowledgeGraph", "Page", "Stats", "Table", "__version__", "open"]
