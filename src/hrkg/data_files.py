"""The dataset's own files: one canonical TriG file per source graph, written atomically.

Canonical means sorted quads, only the prefixes the file uses, pyoxigraph's layout: the
same content always gives the same bytes, so a change to the data shows as a small diff.
Atomic means written to a temporary file in the same folder, flushed to disk, then renamed
over the old file: a reader (or a crash) sees the old file or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
from pyoxigraph import NamedNode, Quad, RdfFormat

from hrkg.export import canonical_quads
from hrkg.namespaces import all_prefixes


def used_prefixes(quads: Iterable[Quad], prefixes: Mapping[str, str]) -> dict[str, str]:
    """The prefixes whose namespace some IRI of the quads (or a datatype) starts with."""
    iris: set[str] = set()
    for quad in quads:
        for term in quad:
            if isinstance(term, NamedNode):
                iris.add(term.value)
            elif isinstance(term, pyoxigraph.Literal):
                iris.add(term.datatype.value)
    used = {
        prefix: namespace
        for prefix, namespace in prefixes.items()
        if any(iri.startswith(namespace) and iri != namespace for iri in iris)
    }
    return dict(sorted(used.items()))


def store_normalised(quads: Iterable[Quad]) -> list[Quad]:
    """The quads as a triple store gives them back: literals in canonical lexical form.

    Oxigraph stores "176.0"^^xsd:decimal as "176" and every integer subtype as xsd:integer;
    writing data files in that form means they read back from any store exactly as written.
    """
    store = pyoxigraph.Store()
    store.extend(quads)
    return list(store)


def canonical_trig(quads: Iterable[Quad], prefixes: Mapping[str, str] | None = None) -> bytes:
    """Quads as canonical TriG bytes: store-normalised literals, sorted, used prefixes only."""
    ordered = canonical_quads(store_normalised(quads))
    chosen = used_prefixes(ordered, prefixes or all_prefixes())
    text = (pyoxigraph.serialize(ordered, format=RdfFormat.TRIG, prefixes=chosen) or b"").decode()
    return _space_subject_blocks(text).encode("utf-8")


def _space_subject_blocks(text: str) -> str:
    """A blank line before each subject block after the first of a graph, for readers.

    pyoxigraph escapes line breaks inside literals, so every physical line is syntax: a
    line indented by exactly one tab opens a subject block.
    """
    lines: list[str] = []
    for line in text.splitlines():
        opens_block = line.startswith("\t") and not line.startswith("\t\t")
        if opens_block and lines and not lines[-1].endswith("{"):
            lines.append("")
        lines.append(line)
    return "\n".join(lines) + "\n"


def read_trig(path: Path) -> list[Quad]:
    return list(pyoxigraph.parse(path=str(path), format=RdfFormat.TRIG))


def is_canonical(path: Path) -> bool:
    return path.read_bytes() == canonical_trig(read_trig(path))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that no reader or crash ever sees a partial file."""
    with replacing(path) as handle:
        handle.write(data)


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A new file to write, which replaces ``path`` when the block ends without an error:
    no reader or crash ever sees a partial file. If the block raises, the file and any
    folder made for it are removed, and ``path`` is left as it was."""
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), _mode_for(path))  # mkstemp makes it private (0600)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        for folder in made:  # the deepest first
            folder.rmdir()
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _mode_for(path: Path) -> int:
    """The permissions a file written at ``path`` gets: those of the file it replaces, or
    for a new file what ``open`` would give it (0666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it (setting it to
    read it back would race with other threads creating files)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def format_file(path: Path) -> bool:
    """Rewrite one data file in canonical form; True when it changed."""
    canonical = canonical_trig(read_trig(path))
    if path.read_bytes() == canonical:
        return False
    write_atomically(path, canonical)
    return True


#: Written (atomically) once every new file is safely on disk: the commit point.
JOURNAL_NAME = ".hrkg-commit.json"
LOCK_NAME = ".hrkg.lock"


def _write_temporary(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fchmod(handle.fileno(), _mode_for(path))
        os.fsync(handle.fileno())
    return Path(temporary)


def _fault_injection_pause() -> None:
    """Pause between commit steps when ``HRKG_COMMIT_STEP_DELAY`` (seconds) is set.

    For crash tests only: it widens the window in which a kill lands mid-commit, so that a
    fault-injection test exercises recovery instead of mostly killing before or after.
    """
    delay = os.environ.get("HRKG_COMMIT_STEP_DELAY")
    if delay:
        time.sleep(float(delay))


def commit_files(data_dir: Path, contents: Mapping[Path, bytes]) -> None:
    """Replace several files as one change: after any crash, recovery gives all or nothing.

    1. each new content goes to a temporary file beside its target, flushed to disk;
    2. a journal naming every (temporary, target) pair is written atomically — the commit
       point: before it, recovery deletes the temporaries (all old); after it, recovery
       renames them (all new);
    3. the temporaries are renamed over their targets, then the journal is removed.
    Call under the dataset lock (:func:`dataset_lock`).
    """
    temporaries: dict[Path, Path] = {}
    try:
        for path, data in contents.items():
            temporaries[path] = _write_temporary(path, data)
            _fault_injection_pause()
    except BaseException:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
        raise
    journal = {str(target): str(temporary) for target, temporary in temporaries.items()}
    write_atomically(data_dir / JOURNAL_NAME, json.dumps(journal, indent=1).encode("utf-8"))
    _fault_injection_pause()
    _roll_forward(data_dir, journal)


def _roll_forward(data_dir: Path, journal: Mapping[str, str]) -> None:
    for target, temporary in journal.items():
        if Path(temporary).exists():
            os.replace(temporary, target)
            _fault_injection_pause()
    for folder in {Path(target).parent for target in journal} | {data_dir}:
        _fsync_directory(folder)
    (data_dir / JOURNAL_NAME).unlink(missing_ok=True)
    _fsync_directory(data_dir)


def recover(data_dir: Path) -> str | None:
    """Finish or undo a change that a crash interrupted; says which, or None if none was.

    Call under the dataset lock, before reading the files.
    """
    journal_path = data_dir / JOURNAL_NAME
    outcome = None
    if journal_path.exists():
        try:
            journal = json.loads(journal_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = None
        if isinstance(journal, dict):
            _roll_forward(data_dir, journal)
            outcome = "completed an interrupted addition"
        else:
            journal_path.unlink(missing_ok=True)
    for stray in data_dir.rglob(".*.tmp"):
        stray.unlink(missing_ok=True)
        outcome = outcome or "removed the temporary files of an interrupted addition"
    return outcome


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def dataset_lock(data_dir: Path, timeout: float = 60.0):
    """The lock that serialises writers of one dataset (a file lock: works across processes)."""
    from filelock import FileLock

    return FileLock(str(data_dir / LOCK_NAME), timeout=timeout)
