"""The memory a process and its children hold together, read from Linux's /proc.

A forked child shares its parent's pages until either writes to them, so their resident
sizes added up would count the shared pages twice. Their proportional set sizes (PSS)
count each shared page once, split between the processes that map it: the sum is what
they hold together.
"""

from __future__ import annotations


def _rollup_kb(pid: int | str, field: str) -> int:
    """One field of the process's /proc/PID/smaps_rollup, in KiB (0 once the process is
    gone, or where the kernel does not report the field)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            return next(int(line.split()[1]) for line in rollup if line.startswith(f"{field}:"))
    except (OSError, StopIteration, ValueError):
        return 0


def pss_kb(pid: int) -> int:
    """The process's proportional set size, in KiB (0 once it is gone)."""
    return _rollup_kb(pid, "Pss")


def huge_pages_kb(pid: int | str = "self") -> int:
    """The process's memory on transparent huge pages, in KiB (0 once it is gone, or where
    the kernel gives none)."""
    return _rollup_kb(pid, "AnonHugePages")


def children(pid: int) -> list[int]:
    """The process's children now (none once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


def family_pss_kb(pid: int) -> int:
    """The PSS of the process and of its children, added up."""
    return pss_kb(pid) + sum(pss_kb(child) for child in children(pid))
