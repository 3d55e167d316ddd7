"""A large export written by two processes at once: this one and a forked copy.

The canonical export of the triple formats spends its time in Python (fetching, merging
and sorting each subject's triples, see :mod:`hrkg.export`), on one core. Its subjects
are listed in export order before any of them is written, so the work splits cleanly.
The subjects are cut into runs; this process writes runs from the first on, straight
into the output, while a forked child writes runs from the last one back, each into a
temporary file. The last run is the child's; each process takes every other run from a
pipe that holds one byte for each, so that the two meet wherever their speeds make them
meet. The child's runs then follow in order, less the prefix lines its writer repeats.
The Turtle and N-Triples writers carry nothing from one subject to the next, so the
bytes are the ones a single process writes (the tests compare them, with the subjects of
the Mali data cut into every number of runs, up to one per subject).

Runs taken as the processes come free, rather than a cut in the middle, because the two
are not equally fast: the child pays for copying the pages it writes to, and with the
subjects cut in two it finished 0.1–0.7 s after this process at 1M triples. Interleaved,
30 exports each way, the runs took 2.41 s (median) where halves took 2.72 s.

What it costs is memory. Reading Oxigraph's in-memory store writes to it (reference
counts), so the child's copy-on-write pages come to about half the store. At 1M triples
(``benchmarks/export_processes.py``, which samples the memory of both every 50 ms) a
Turtle export took 2.47 s rather than 3.53 s in one process, and the two processes
together peaked at 742 MB rather than 499 MB.

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
import select
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import BinaryIO, NoReturn

from hrkg.errors import ExportError

#: ``1``: one process always; ``2``: two whenever it is safe; unset: when it pays.
PROCESSES_VARIABLE = "HRKG_EXPORT_PROCESSES"
#: Fewer subjects than this export in well under a second: a fork would cost more than
#: it saves.
MIN_SUBJECTS = 10_000
#: How many runs the items are cut into, which the two processes take in turn: enough
#: that the one finishing last waits little (a run of a 1M-triple export takes about
#: 0.05 s), few enough that the child's files and repeated headers cost nothing.
RUNS = 64
#: Writes the items of the runs given, one after the other, as one document into the output.
PartWriter = Callable[[Iterable[range], BinaryIO], None]


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
    runs: int = RUNS,
) -> bool:
    """Write items ``[0, items)`` into ``output``, shared with a forked child: this process
    takes runs of items from the front, the child from the back, until they meet.
    ``repeated_lines`` starts the header lines that each document's writer writes
    (``b"@prefix "`` for Turtle; None: no header), which the child's documents drop.

    The items are cut into ``runs`` runs (fewer if there are fewer items). The last run is
    the child's from the start; for each of the others a pipe holds one byte, which a
    process takes before it writes the run, so that every run is written once, by
    whichever process is free first, and the two finish within a run of each other
    however their speeds differ. They do differ: the child pays for copying the pages it
    writes to, and took 15–50% longer over the same number of subjects at 1M triples, so
    an even cut left this process waiting for it. This process writes its runs straight
    into ``output``, as one document; the child writes each of its runs into a file of
    its own, and they follow in order.

    Returns False if the child failed: ``output`` then holds part of the export, and the
    caller writes it again whole. An error in this process's part stops the child and
    propagates.
    """
    cut = _cut(items, runs)
    start = output.tell()
    shared = len(cut) - 1  # the last run is the child's
    with _run_tokens(shared) as tokens, tempfile.TemporaryDirectory(prefix="hrkg-") as folder:
        child = os.fork()
        if child == 0:
            _write_back_and_exit(write_part, cut, tokens, Path(folder))
        front: list[range] = []
        try:
            write_part(_taken_from_the_front(cut[:shared], tokens, front), output)
            _, status = os.waitpid(child, 0)
        except BaseException:  # an error in this part, or Ctrl-C: the child's work is moot
            _stop(child)
            raise
        if os.waitstatus_to_exitcode(status) != 0:
            return False
        for index in range(len(front), len(cut)):
            with open(Path(folder) / _run_file(index), "rb") as part:
                if repeated_lines is not None and output.tell() > start:
                    _skip_lines_starting(part, repeated_lines, output)
                shutil.copyfileobj(part, output)
    return True


def _cut(items: int, runs: int) -> list[range]:
    """``[0, items)`` cut into ``runs`` runs of nearly equal length (fewer if need be)."""
    runs = max(1, min(runs, items, select.PIPE_BUF))
    bounds = [items * number // runs for number in range(runs + 1)]
    return [range(first, end) for first, end in pairwise(bounds)]


@contextmanager
def _run_tokens(count: int) -> Iterator[int]:
    """The reading end of a pipe that holds ``count`` bytes, one per run to share, and
    has no writer left: reading one byte takes a run (a pipe hands each byte to one
    reader), and an empty read means that none is left. ``count`` is under PIPE_BUF, so
    the bytes go in with one write, before anyone reads."""
    reading, writing = os.pipe()
    try:
        os.write(writing, bytes(count))
    finally:
        os.close(writing)
    try:
        yield reading
    finally:
        os.close(reading)


def _take_a_run(tokens: int) -> bool:
    return os.read(tokens, 1) != b""


def _taken_from_the_front(cut: list[range], tokens: int, taken: list[range]) -> Iterator[range]:
    """The runs from the first on, each taken as it is reached, until none is left;
    ``taken`` lists them."""
    for run in cut:
        if not _take_a_run(tokens):
            return
        taken.append(run)
        yield run


def _run_file(index: int) -> str:
    return f"run-{index:04d}"


def _write_back_and_exit(
    write_part: PartWriter, cut: list[range], tokens: int, folder: Path
) -> NoReturn:
    """The child's whole life: write the last run, then runs back from it while any is
    left, each into a file of its own; then leave without running the parent's exit
    handlers or flushing the parent's buffers a second time."""
    code = 1
    try:
        for index in reversed(range(len(cut))):
            if index < len(cut) - 1 and not _take_a_run(tokens):
                break
            with open(folder / _run_file(index), "wb") as part:
                write_part([cut[index]], part)
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
