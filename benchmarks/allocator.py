"""What mimalloc buys: hrkg on the C library's malloc, on mimalloc, and on mimalloc with the
options that trade load time and memory for faster questions, in turn, at one scale.

The ``hrkg`` command and ``run.py`` restart themselves on mimalloc (``hrkg.allocator``).
This measures that choice against the C library's own ``malloc``, and against mimalloc
with ``hrkg.allocator.FASTER_QUESTIONS_OPTIONS`` (large OS pages: the kernel's
transparent huge pages), which a user may set, in the same run. Each round starts one
fresh process per side (the order turns from round to round, so that the machine's drift
falls on all): it loads the dataset with ``hrkg.open``, then runs every stored question with
``run.py``'s parameters, one dropped warm-up and one kept run each, and reports its peak
memory and how much of it sat on huge pages. Each process says which malloc it ran on,
read from its own memory map; a round where mimalloc was asked for and not used stops
the run.

::

    python benchmarks/allocator.py [--scale 1M] [--repeat 5]

Results go to ``benchmarks/results/allocator-<scale>.json`` and a Markdown table to stdout:
median seconds on each, and two ratios: the C library's time ÷ mimalloc's, and the
options' ÷ mimalloc's without them (above 1, hrkg's default, mimalloc, is faster).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from functools import partial
from importlib.metadata import version
from pathlib import Path

import generate
from hrkg.allocator import (
    CHOICE_VARIABLE,
    FASTER_QUESTIONS_OPTIONS,
    active_allocator,
    restart_with_allocator,
    undecided_environment,
)
from process_memory import huge_pages_kb
from run import HrkgSide, timed_runs
from validation import parse_size

#: Seconds one question may run: the slowest stored question takes about 2 s at 1M.
QUERY_TIMEOUT = 120.0
#: hrkg's default, which the other sides are compared with.
DEFAULT = "mimalloc"
#: The side with FASTER_QUESTIONS_OPTIONS.
WITH_OPTIONS = "mimalloc, faster-questions options"
#: The sides: the variables each process starts with (None: unset, as a user's are), and
#: the malloc it must then run on.
SIDES: dict[str, tuple[dict[str, str | None], str]] = {
    "system": ({CHOICE_VARIABLE: "system", **dict.fromkeys(FASTER_QUESTIONS_OPTIONS)}, "system"),
    DEFAULT: ({CHOICE_VARIABLE: None, **dict.fromkeys(FASTER_QUESTIONS_OPTIONS)}, "mimalloc"),
    WITH_OPTIONS: ({CHOICE_VARIABLE: None, **FASTER_QUESTIONS_OPTIONS}, "mimalloc"),
}


def worker(folder: Path) -> dict:
    """One process's figures: the load, every question, the peak memory, the malloc and
    the memory on huge pages at the end."""
    side = HrkgSide(folder, None)
    started = time.perf_counter()
    side.load()
    load = time.perf_counter() - started
    questions = {}
    for name, plan in side.plan().items():
        runs, rows = timed_runs(partial(side.query, plan["text"]), 2, math.inf, QUERY_TIMEOUT)
        questions[name] = {"seconds": runs[-1], "rows": rows}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "malloc": active_allocator()[0],
        "options": {name: os.environ.get(name) for name in FASTER_QUESTIONS_OPTIONS},
        "load": load,
        "questions": questions,
        "peak_mb": peak_kib * 1024 / 1e6,
        "huge_pages_mb": huge_pages_kb() * 1024 / 1e6,
    }


def run_worker(folder: Path, variables: dict[str, str | None]) -> dict:
    """A fresh process with ``variables`` set or unset, started as a user's would be: it
    restarts itself."""
    environment = undecided_environment(os.environ)
    for name, value in variables.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    command = [sys.executable, __file__, "--worker", str(folder)]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=3600, env=environment
    )
    return json.loads(done.stdout)


def measure(folder: Path, repeat: int) -> dict[str, list[dict]]:
    """``repeat`` rounds, one process per side each, the order turning."""
    rounds: dict[str, list[dict]] = {name: [] for name in SIDES}
    names = list(SIDES)
    for number in range(repeat):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            variables, expected = SIDES[name]
            figures = run_worker(folder, variables)
            if figures["malloc"] != expected:
                raise SystemExit(
                    f"asked for {expected}, the process ran on {figures['malloc']}: "
                    "`make allocator` installs mimalloc"
                )
            rounds[name].append(figures)
            print(f"round {number + 1}, {name}: load {figures['load']:.2f} s", flush=True)
    return rounds


def summary(rounds: dict[str, list[dict]]) -> list[dict]:
    """Per operation: the median on each side (seconds; MB for the memory) and the ratios
    of the other sides to hrkg's default (``ratio``: the C library's; ``ratio_options``:
    with the options)."""

    def row(operation: str, pick) -> dict:
        medians = {name: statistics.median(pick(r) for r in runs) for name, runs in rounds.items()}
        return {
            "operation": operation,
            **medians,
            "ratio": medians["system"] / medians[DEFAULT],
            "ratio_options": medians[WITH_OPTIONS] / medians[DEFAULT],
        }

    rows = [row("load", lambda r: r["load"])]
    for name in rounds["system"][0]["questions"]:
        rows.append(row(f"question:{name}", lambda r, n=name: r["questions"][n]["seconds"]))
    peak = row("peak memory (MB)", lambda r: r["peak_mb"])
    huge = {
        name: statistics.median(r["huge_pages_mb"] for r in runs) for name, runs in rounds.items()
    }
    return [*rows, peak, {"operation": "on huge pages at the end (MB)", **huge}]


def table(rows: list[dict]) -> str:
    lines = [
        "| operation | C library's malloc | mimalloc (hrkg's default) | mimalloc with the "
        "options | ratio: C library's | ratio: with the options |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for entry in rows:
        ratios = [f"{entry[key]:.2f}" if key in entry else "" for key in ("ratio", "ratio_options")]
        lines.append(
            f"| {entry['operation']} | {entry['system']:.3g} | "
            f"{entry[DEFAULT]:.3g} | {entry[WITH_OPTIONS]:.3g} | "
            f"{ratios[0]} | {ratios[1]} |"
        )
    questions = [e for e in rows if e["operation"].startswith("question:")]
    against_system = statistics.geometric_mean(e["ratio"] for e in questions)
    with_options = statistics.geometric_mean(e["ratio_options"] for e in questions)
    lines.append(
        f"\nQuestions' geometric-mean ratio: C library's {against_system:.2f}, "
        f"with the options {with_options:.2f}. Seconds, but"
    )
    lines.append("MB for the memory. Each ratio is the other side's figure ÷ mimalloc's: above")
    lines.append("1, mimalloc is faster or holds less.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="1M")
    parser.add_argument("--repeat", type=int, default=5, help="rounds, each on both (5)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    if args.worker:
        restart_with_allocator()  # as the hrkg command does; a no-op on HRKG_MALLOC=system
        print(json.dumps(worker(args.worker)))
        return 0
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    rounds = measure(folder, args.repeat)
    for name, runs in rounds.items():
        rows = {q: {r["questions"][q]["rows"] for r in runs} for q in runs[0]["questions"]}
        if any(rows[q] != {rounds["system"][0]["questions"][q]["rows"]} for q in rows):
            raise SystemExit(f"the row counts differ between the mallocs ({name}): {rows}")
    rows = summary(rounds)
    print()
    print(table(rows))
    args.results.mkdir(parents=True, exist_ok=True)
    record = {
        "scale": args.scale,
        "triples": manifest.triples,
        "repeat": args.repeat,
        "summary": rows,
        "rounds": rounds,
        "environment": {
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "pyoxigraph": version("pyoxigraph"),
        },
    }
    path = args.results / f"allocator-{args.scale}.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
