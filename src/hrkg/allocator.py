"""hrkg's own processes run on mimalloc, a faster ``malloc``, where the machine has it.

Oxigraph is Rust, and every term, index entry and intermediate row it makes goes through
the C library's ``malloc``. At 1M triples, with glibc's the stored questions take 1.2–1.4
times as long as with mimalloc (geometric mean, three runs) and the load 1.1–1.4 times,
for the same peak memory (``benchmarks/allocator.py`` measures both in turn).

A process chooses its ``malloc`` only as it starts, through ``LD_PRELOAD``, so the ``hrkg``
command and the benchmark scripts start themselves once more with mimalloc preloaded:
:func:`restart_with_allocator` replaces the running program (``execve``: same process id,
same open files and standard input, same arguments) before anything is read or loaded.

A Python session that imports hrkg keeps the ``malloc`` it started with: start it with
``LD_PRELOAD`` set to the path ``hrkg --version`` prints to get the same speed.

``HRKG_MALLOC`` chooses, on Linux (elsewhere nothing is preloaded): unset, mimalloc if one
of :data:`SEARCHED` exists; ``system``, never preload; or the path of a ``malloc`` library
to preload.

mimalloc's own options pass through the restart (``MIMALLOC_*``, read by mimalloc itself),
and ``hrkg --version`` prints those in effect. hrkg sets none.
:data:`FASTER_QUESTIONS_OPTIONS` (large OS pages: the kernel's transparent huge pages, on
which a question's lookups across hundreds of MB miss the processor's cache of page
addresses less often) make the questions a few percent faster, but the load slower and the
peak memory higher (``benchmarks/allocator.py`` measures them; the figures are in the
README's Scale section). A command that loads the data for one question is then slower
overall; a server that loads once and answers many questions gains, and may set them.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from hrkg.errors import HrkgError

#: The variable a user sets to choose: unset, ``system``, or a library's path.
CHOICE_VARIABLE = "HRKG_MALLOC"
#: Set in the restarted process, so that it never restarts again.
RESTARTED_VARIABLE = "HRKG_MALLOC_RESTARTED"
#: Where mimalloc 2 is found on Linux: Debian's and Ubuntu's libmimalloc2.0 under a
#: multiarch folder, other distributions' under lib64 or lib, a source build under
#: /usr/local.
SEARCHED = (
    "/usr/lib/*-linux-gnu/libmimalloc.so.2",
    "/usr/lib64/libmimalloc.so.2",
    "/usr/lib/libmimalloc.so.2",
    "/usr/local/lib/libmimalloc.so.2",
)

#: mimalloc options that trade a slower load and more memory for faster questions (see
#: above); ``benchmarks/allocator.py`` measures them as a side of their own. (With
#: ``MIMALLOC_RESERVE_OS_MEMORY=1GiB`` as well, an earlier run held 1,075 MB during an
#: export, past the 1 GB target, for no faster questions.)
FASTER_QUESTIONS_OPTIONS = {"MIMALLOC_LARGE_OS_PAGES": "1"}

#: A malloc library's file name (libmimalloc.so.2.0, libjemalloc.so.2, libtcmalloc.so.4);
#: the C library's own lives in libc and never matches.
_PRELOADED_MALLOC = re.compile(r"lib(\w*malloc)\b")


class AllocatorError(HrkgError):
    """``HRKG_MALLOC`` names a library that is not there."""


def chosen_library(environ: Mapping[str, str]) -> str | None:
    """The ``malloc`` library to preload, or None for the C library's own."""
    choice = environ.get(CHOICE_VARIABLE, "").strip()
    if choice == "system" or not sys.platform.startswith("linux"):
        return None  # LD_PRELOAD is the Linux loader's
    if choice:
        if not Path(choice).is_file():
            raise AllocatorError(
                f"no library at {choice}",
                where=CHOICE_VARIABLE,
                hint="set it to the path of libmimalloc.so.2, or to 'system' "
                "for the C library's malloc",
            )
        return choice
    for pattern in SEARCHED:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def preloaded_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` whose ``LD_PRELOAD`` starts with the chosen library.

    Libraries already preloaded stay, after it; the copy is unchanged when there is no
    library to preload or it is there already.
    """
    environment = dict(environ)
    library = chosen_library(environ)
    preloaded = environment.get("LD_PRELOAD", "").split()
    if library is not None and library not in preloaded:
        environment["LD_PRELOAD"] = " ".join([library, *preloaded])
    return environment


def undecided_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environ`` without hrkg's choice, its restart mark or ``LD_PRELOAD``: a
    process started with it chooses its ``malloc`` afresh, as a user's first one does."""
    dropped = (CHOICE_VARIABLE, RESTARTED_VARIABLE, "LD_PRELOAD")
    return {name: value for name, value in environ.items() if name not in dropped}


def restart_with_allocator() -> None:
    """Start this program again with the chosen ``malloc`` preloaded; return if there is
    nothing to do (no library, already preloaded, or already restarted once).

    Call it first thing in a process's entry point, never inside a library call or a test
    run: the running program is replaced. On a bad ``HRKG_MALLOC`` it prints the error
    and exits with status 2, as the command line does for bad input.
    """
    if os.environ.get(RESTARTED_VARIABLE) or not sys.executable:
        return
    try:
        environment = preloaded_environment(os.environ)
    except AllocatorError as error:
        print(f"error: {error.message}", file=sys.stderr)
        raise SystemExit(2) from None
    if environment.get("LD_PRELOAD") == os.environ.get("LD_PRELOAD"):
        return
    environment[RESTARTED_VARIABLE] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, sys.orig_argv, environment)
    except (OSError, ValueError):
        return  # the interpreter cannot be started again here: go on with this malloc


def active_allocator(process_id: int | None = None) -> tuple[str, str | None]:
    """The ``malloc`` a process runs on (this one, or the one with ``process_id``): a
    preloaded one's name and path (``mimalloc``, ``jemalloc``, …), or ``("system", None)``
    for the C library's own.

    Read from the process's own memory map, so it tells what the loader did, not what was
    asked (a library that failed to preload is only warned about by the loader). A process
    whose map cannot be read (gone, another user's, not Linux) counts as ``system``.
    """
    process = "self" if process_id is None else str(process_id)
    try:
        maps = Path(f"/proc/{process}/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "system", None
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6:
            continue
        path = fields[5].strip()
        found = _PRELOADED_MALLOC.match(Path(path).name)
        if found:
            return found.group(1), path
    return "system", None
