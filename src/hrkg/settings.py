"""Every path, IRI and limit hrkg uses, in one place, with its default and its override.

Values come from the environment (``HRKG_*``) so that the command line, the Python API and
the server agree without passing settings around; an explicit argument always wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The base IRI the files in ontology/ and data/ are written with.
DEFAULT_BASE_IRI = "https://w3id.org/hrkg/"


def _checkout_root() -> Path | None:
    """The repository root when hrkg runs from a checkout (src/hrkg -> ../..)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "ontology").is_dir() and (root / "queries").is_dir() and (root / "data").is_dir():
        return root
    return None


def default_content_root() -> Path:
    """Where ontology/, queries/ and data/ are: HRKG_DATA_DIR, a checkout, or the wheel."""
    if env := os.environ.get("HRKG_DATA_DIR"):
        return Path(env)
    return _checkout_root() or Path(__file__).resolve().parent / "_content"


def _int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from error


def _float_from_env(name: str) -> float | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from error


@dataclass(frozen=True)
class Settings:
    """The knobs of one hrkg session. Each field documents its default."""

    #: Folder holding ontology/, queries/ and data/ (``--data-dir``, ``HRKG_DATA_DIR``).
    content_root: Path = field(default_factory=default_content_root)
    #: Base IRI of every term and entity (``HRKG_BASE_IRI``); files are re-based on load.
    base_iri: str = field(default_factory=lambda: os.environ.get("HRKG_BASE_IRI", DEFAULT_BASE_IRI))
    #: Largest RDF file accepted from outside, in bytes (``HRKG_MAX_INPUT_BYTES``, 50 MiB).
    max_input_bytes: int = field(
        default_factory=lambda: _int_from_env("HRKG_MAX_INPUT_BYTES", 50 * 1024 * 1024)
    )
    #: Longest SPARQL text accepted, in characters (``HRKG_MAX_QUERY_CHARS``, 100 000).
    max_query_chars: int = field(
        default_factory=lambda: _int_from_env("HRKG_MAX_QUERY_CHARS", 100_000)
    )

    #: Rows an answer may hold before it is cut, and says so (``HRKG_MAX_ROWS``, 1 000 000).
    max_result_rows: int = field(default_factory=lambda: _int_from_env("HRKG_MAX_ROWS", 1_000_000))
    #: Seconds a query may run; None (the default) for no limit (``HRKG_QUERY_TIMEOUT``).
    #: When set, queries run in worker processes over an on-disk store, killed at the limit.
    query_timeout: float | None = field(
        default_factory=lambda: _float_from_env("HRKG_QUERY_TIMEOUT")
    )

    def __post_init__(self) -> None:
        if not self.base_iri.endswith("/"):
            raise ValueError(f"the base IRI must end with '/', got {self.base_iri!r}")
