"""``hrkg serve``: a SPARQL 1.1 endpoint, a REST API for the stored questions, linked-data
pages for every entity, and a browser interface — a thin layer over the same
:class:`~hrkg.knowledge_graph.KnowledgeGraph` as the command line.
"""

from hrkg.server.app import create_app
from hrkg.server.config import ServerConfig

__all__ = ["ServerConfig", "create_app"]
