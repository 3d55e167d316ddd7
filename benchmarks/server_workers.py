"""What ``hrkg serve`` answers in, with workers reading the store on disk or in memory.

The server runs every query in a killable worker process (``hrkg.query_runner``). By
default a worker reads a compacted copy of the on-disk store; with ``--in-memory`` it
first copies the data into an in-memory store. This script measures both on the same
synthetic dataset (``benchmarks/generate.py``), through the path a request takes (the
served knowledge graph, its worker, the pickled answer back), in the same run::

    python benchmarks/server_workers.py [--scale 1M] [--repeat 3]

For each kind of worker: how long the server takes to be ready (load, copy, first
worker), and the median time of every stored question with its example parameters (IRIs
the synthetic data lacks are swapped for one it has, as ``run.py`` does). The answers of
both must have the same row counts. Results go to ``benchmarks/results/server_workers.json``
and a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from functools import partial
from importlib.metadata import version
from pathlib import Path

import generate
from hrkg.allocator import active_allocator, restart_with_allocator
from hrkg.server import ServerConfig
from hrkg.server.state import ServerState
from run import HrkgSide, timed_runs
from validation import parse_size

BENCHMARKS = Path(__file__).resolve().parent
KINDS = {"disk": False, "in memory": True}


def measure(folder: Path, in_memory: bool, repeat: int) -> dict:
    """Server start-up, then each question's median through the workers."""
    # No answer cache: every run of a question must reach the worker.
    config = ServerConfig(
        workers=1, timeout=600.0, max_rows=10_000_000, in_memory=in_memory, cache_bytes=0
    )
    started = time.perf_counter()
    state = ServerState.open(config, data_dir=folder)
    ready = time.perf_counter() - started
    try:
        side = HrkgSide(folder, None)
        side.kg = state.kg
        questions = {}
        for name, plan in side.plan().items():
            runs, answer = timed_runs(
                partial(state.kg.store.query, plan["text"]), repeat, math.inf, config.timeout
            )
            questions[name] = {"seconds": statistics.median(runs), "rows": len(answer.rows)}
    finally:
        state.close()
    return {"ready_seconds": ready, "questions": questions}


def table(figures: dict[str, dict]) -> str:
    disk, memory = figures["disk"], figures["in memory"]
    lines = [
        "| | workers on disk (s) | workers in memory (s) | disk ÷ memory |",
        "|---|---:|---:|---:|",
        f"| server ready | {disk['ready_seconds']:.1f} | {memory['ready_seconds']:.1f} | |",
    ]
    for name in sorted(disk["questions"]):
        slow, fast = disk["questions"][name]["seconds"], memory["questions"][name]["seconds"]
        lines.append(f"| {name} | {slow:.3g} | {fast:.3g} | {slow / fast:.1f}× |")
    return "\n".join(lines)


def disagreements(figures: dict[str, dict]) -> list[str]:
    disk, memory = figures["disk"]["questions"], figures["in memory"]["questions"]
    return [
        f"{name}: {disk[name]['rows']} rows from disk, {memory[name]['rows']} from memory"
        for name in disk
        if disk[name]["rows"] != memory[name]["rows"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="1M")
    parser.add_argument("--repeat", type=int, default=3)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    figures = {}
    for kind, in_memory in KINDS.items():
        print(f"{args.scale}: server with workers {kind} …", flush=True)
        figures[kind] = measure(folder, in_memory, args.repeat)
    print()
    print(table(figures))
    problems = disagreements(figures)
    for problem in problems:
        print(f"MISMATCH {problem}")
    record = {
        "scale": args.scale,
        "triples": manifest.triples,
        "repeat": args.repeat,
        "workers": figures,
        "problems": problems,
        "environment": {
            "python": platform.python_version(),
            "pyoxigraph": version("pyoxigraph"),
            # Read in this process, whose environment the query workers inherit.
            "malloc": active_allocator()[0],
        },
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "server_workers.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
