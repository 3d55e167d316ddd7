"""A large export written by two processes at once: the second half by a forked copy.

The canonical export of the triple formats spends its time in Python (fetching, merging
and sorting each subject's triples, see :mod:`hrkg.export`), on one core. Its subjects
are listed in export order before any of them is written, so the work splits cleanly: a
forked child writes the second half of the subjects into a temporary file while this
process writes the first half into the output, and the child's bytes then follow, less
the prefix lines its writer repeats. The Turtle and N-Triples writers carry nothing from
one subject to the next, so the bytes are the ones a single process writes (the tests
compare them, with the cut at every subject of the Mali data).

What it costs is memory. Reading Oxigraph's in-memory store writes to it (reference
counts), so the child's copy-on-write pages come to about half the store. At 1M triples
(``benchmarks/export_processes.py``) a Turtle export took 2.46 s rather than 3.11 s, and
the two processes together peaked at 748 MB rather than 460 MB.

So it is done only where it is safe and pays (:func:`two_processes_allowed`): on Linux,
in a process with a single thread (a thread that holds a lock at the moment of the fork
would leave the child waiting for it forever), with two cores or more, from
:data:`MIN_SUBJECTS` subjects on, and while the machine's available memory exceeds this
process's resident memory. The caller also makes sure the store is in memory: an on-disk
store's database is not safe to use across a fork. ``HRKG_EXPORT_PROCESSES=1`` turns it
off, and ``=2`` asks for it whatever the size and the memory. Should the child fail, the
caller writes the whole export itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import BinaryIO, NoReturn

from hrkg.errors import ExportError

#: ``1``: one process always; ``2``: two whenever it is safe; unset: when it pays.
PROCESSES_VARIABLE = "HRKG_EXPORT_PROCESSES"
#: Fewer subjects than this export in well under a second: a fork would cost more than
#: it saves.
MIN_SUBJECTS = 10_000
#: Writes ``[first, end)`` of the items, as a document of its own, into the output.
PartWriter = Callable[[int, int, BinaryIO], None]


def two_processes_allowed(items: int) -> bool:
    """Whether an export of ``items`` subjects may be written by two processes here."""
    setting = os.environ.get(PROCESSES_VARIABLE, "").strip()
    if setting not in ("", "1", "2"):
        raise ExportError(
            f"{PROCESSES_VARIABLE}={setting!r} is not a number of processes an export can use",
            hint="set it to 1 (one process) or 2 (two, where it is safe), or leave it unset",
        )
    if setting == "1" or items < 2 or not _fork_is_safe():
        return False
    if setting == "2":
        return True
    return items >= MIN_SUBJECTS and len(os.sched_getaffinity(0)) >= 2 and _memory_to_spare()


def _fork_is_safe() -> bool:
    return sys.platform == "linux" and threading.active_count() == 1


def _memory_to_spare() -> bool:
    """Whether the machine has more memory available than this process holds (the child
    needs about half of it); False when that cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            available = next(
                int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")
            )
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, StopIteration):
        return False
    return available > resident


def write_in_two_processes(
    write_part: PartWriter,
    items: int,
    output: BinaryIO,
    repeated_lines: bytes | None,
    middle: int | None = None,
) -> bool:
    """Write items ``[0, items)`` into ``output``: the first ``middle`` (half, by default)
    here, the others in a forked child. ``repeated_lines`` starts the header lines that
    each part's writer writes (``b"@prefix "`` for Turtle; None: no header), which the
    second part drops.

    Returns False if the child failed: ``output`` then holds part of the export, and the
    caller writes it again whole. An error in this process's part stops the child and
    propagates.
    """
    middle = items // 2 if middle is None else middle
    start = output.tell()
    with tempfile.TemporaryFile(prefix="hrkg-export-") as second_half:
        child = os.fork()
        if child == 0:
            _write_and_exit(write_part, middle, items, second_half)
        try:
            write_part(0, middle, output)
            _, status = os.waitpid(child, 0)
        except BaseException:  # an error in this part, or Ctrl-C: the child's work is moot
            _stop(child)
            raise
        if os.waitstatus_to_exitcode(status) != 0:
            return False
        second_half.seek(0)
        if repeated_lines is not None and output.tell() > start:
            _skip_lines_starting(second_half, repeated_lines, output)
        shutil.copyfileobj(second_half, output)
    return True


def _write_and_exit(write_part: PartWriter, first: int, end: int, into: BinaryIO) -> NoReturn:
    """The child's whole life: write its part, then leave without running the parent's
    exit handlers or flushing the parent's buffers a second time."""
    code = 1
    try:
        write_part(first, end, into)
        into.flush()
        code = 0
    finally:
        os._exit(code)


def _stop(child: int) -> None:
    """Kill the child, unless it has ended already, and reap it."""
    try:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _skip_lines_starting(source: BinaryIO, start: bytes, output: BinaryIO) -> None:
    """Read past the lines at the top of ``source`` that begin with ``start``; the first
    line that does not goes to ``output``."""
    for line in iter(source.readline, b""):
        if not line.startswith(start):
            output.write(line)
            return
