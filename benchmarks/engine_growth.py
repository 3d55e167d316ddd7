"""How time grows with the store's size, measured so that the machine's drift cannot fake it.

The scale target asks that, from 100k to 1M triples, time grow no faster than the data.
``run.py`` measures each scale in a worker of its own, minutes apart, and this machine's
speed drifts by a fifth or more over minutes: enough to move a growth exponent by 0.1
either way (one run's 100k load took 0.29 s, the next's 0.40 s). So here every scale is
loaded into one process, and each query runs on each scale in turn, round after round,
so that a slow spell falls on every scale alike. Two kinds of query run:

- *reference queries*, whose work per row is fixed (a type scan, then one and two
  lookups per row): the store's own growth, which no query text can change, since every
  lookup gets dearer as the store grows (bigger indexes, fewer cache hits);
- *every stored question*, with ``run.py``'s parameters: its growth, to set against the
  reference queries'. A question that grows much faster than they do does more work per
  row as the data grows (a join that fans out, a quadratic pattern); one that grows as
  they do is made of lookups.

The *load* is timed the same way, each ``hrkg.open`` in a fresh process, one scale after
the other in every round.

::

    python benchmarks/engine_growth.py [--scales 10k,100k,1M] [--repeat 7]

Results go to ``benchmarks/results/engine_growth.json`` (``run.py`` shows them under its
targets) and a Markdown table to stdout: median seconds per scale, and the exponent
between the last two scales (log of the time ratio over log of the data ratio; 1 is
linear).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path

import generate
import hrkg
from hrkg.allocator import active_allocator, restart_with_allocator
from run import HrkgSide, growth_exponent, timed_runs
from validation import parse_size

#: Seconds one query may run on one scale: the slowest stored question takes about 2 s at 1M.
QUERY_TIMEOUT = 120.0
PREFIXES = (
    "PREFIX hr: <https://w3id.org/hrkg/def/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
#: Reference queries, each a fixed amount of work per answer row.
REFERENCES = {
    "type scan": "SELECT ?case WHERE { ?case a hr:Case }",
    "+ one lookup": "SELECT ?case ?place WHERE { ?case a hr:Case ; hr:place ?place }",
    "+ two lookups": (
        "SELECT ?case ?name WHERE { ?case a hr:Case ; hr:place ?place . ?place rdfs:label ?name }"
    ),
}


@dataclass
class Scale:
    """One loaded dataset and the text of every stored question on it (a question's
    parameters can differ by scale: ``entity`` asks about a person the dataset has)."""

    label: str
    triples: int
    side: HrkgSide
    questions: dict[str, str]


def load_scale(label: str, args: argparse.Namespace) -> Scale:
    folder = args.data_dir / label
    manifest = generate.ensure_dataset(parse_size(label), args.seed, folder)
    side = HrkgSide(folder, None)
    side.load()
    questions = {name: plan["text"] for name, plan in side.plan().items()}
    print(f"{label}: loaded {manifest.triples} triples", flush=True)
    return Scale(label, manifest.triples, side, questions)


def interleaved(scales: list[Scale], texts: list[str], repeat: int) -> list[dict]:
    """``repeat`` rounds, each running a query on every scale in turn (``texts``: its text
    on each): per scale, the median seconds and the rows.

    Each run kept follows one of the same query on the same store whose time is dropped,
    as in a run of one scale. Without it the smaller store would start each round in
    caches the larger one had just filled, and its cold runs would make every growth look
    slower than it is (by 0.2–0.4 in the exponent from 10k to 100k, here).
    """
    rows = [scale.side.query(text) for scale, text in zip(scales, texts, strict=True)]
    runs: list[list[float]] = [[] for _ in scales]
    for _ in range(repeat):
        for scale, text, times in zip(scales, texts, runs, strict=True):
            warm_up_and_kept, _ = timed_runs(
                partial(scale.side.query, text), 2, math.inf, QUERY_TIMEOUT
            )
            times.append(warm_up_and_kept[-1])
    return [
        {"seconds": statistics.median(times), "rows": count, "runs": times}
        for times, count in zip(runs, rows, strict=True)
    ]


def load_seconds(folder: Path) -> float:
    """One ``hrkg.open(folder)`` in a fresh process, as a user's first command pays it."""
    command = [sys.executable, __file__, "--time-load", str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return float(done.stdout)


def interleaved_loads(folders: list[Path], repeat: int) -> list[dict]:
    """``repeat`` rounds of one load per scale: per scale, the median seconds.

    The scales' files are already in the page cache, as ``load_scale`` read them.
    """
    runs: list[list[float]] = [[] for _ in folders]
    for _ in range(repeat):
        for folder, times in zip(folders, runs, strict=True):
            times.append(load_seconds(folder))
    return [{"seconds": statistics.median(times), "runs": times} for times in runs]


def exponent(small: dict, large: dict, kind: str, name: str | None = None) -> float:
    """log(time ratio) / log(data ratio) between two scales' results: 1 is linear.

    ``kind`` is ``queries`` (the reference queries) or ``questions`` with a ``name``, or
    ``load``."""
    first, last = (
        (small[kind], large[kind]) if name is None else (small[kind][name], large[kind][name])
    )
    return growth_exponent(first["seconds"], last["seconds"], small["triples"], large["triples"])


def measure(scales: list[Scale], repeat: int) -> list[dict]:
    """Every reference query and stored question, interleaved over the scales."""
    results = [
        {"scale": s.label, "triples": s.triples, "queries": {}, "questions": {}} for s in scales
    ]
    loads = interleaved_loads([s.side.folder for s in scales], repeat)
    for result, figures in zip(results, loads, strict=True):
        result["load"] = figures
    print("load: " + ", ".join(f"{r['scale']} {r['load']['seconds']:.3f} s" for r in results))
    queries = [
        *(("queries", name, [PREFIXES + text] * len(scales)) for name, text in REFERENCES.items()),
        *(("questions", name, [s.questions[name] for s in scales]) for name in scales[0].questions),
    ]
    for key, name, texts in queries:
        for result, figures in zip(results, interleaved(scales, texts, repeat), strict=True):
            rows = figures["rows"]
            figures["microseconds_per_row"] = figures["seconds"] / rows * 1e6 if rows else None
            result[key][name] = figures
        cells = ", ".join(f"{r['scale']} {r[key][name]['seconds']:.4f} s" for r in results)
        print(f"{name}: {cells}", flush=True)
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| query | " + " | ".join(f"{r['scale']} s" for r in results) + " | exponent |",
        "|---|" + "---:|" * (len(results) + 1),
        "| load | "
        + " | ".join(f"{r['load']['seconds']:.3g}" for r in results)
        + (
            f" | ^{exponent(results[-2], results[-1], 'load'):.2f} |"
            if len(results) > 1
            else " | – |"
        ),
    ]
    for key, names in (("queries", REFERENCES), ("questions", results[0]["questions"])):
        for name in names:
            cells = [f"{r[key][name]['seconds']:.3g}" for r in results]
            growth = (
                f"^{exponent(results[-2], results[-1], key, name):.2f}" if len(results) > 1 else "–"
            )
            label = name if key == "queries" else f"question: {name}"
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="10k,100k,1M")
    parser.add_argument("--repeat", type=int, default=7, help="rounds over the scales (7)")
    parser.add_argument("--time-load", type=Path, help=argparse.SUPPRESS)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    if args.time_load:
        started = time.perf_counter()
        hrkg.open(args.time_load)
        print(time.perf_counter() - started)
        return 0
    scales = [load_scale(label, args) for label in args.scales.split(",")]
    results = measure(scales, args.repeat)
    print()
    print(table(results))
    print("\nexponent: between the last two scales; the reference queries' is the store's own")
    args.results.mkdir(parents=True, exist_ok=True)
    record = {
        "results": results,
        "repeat": args.repeat,
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pyoxigraph": version("pyoxigraph"),
            "malloc": active_allocator()[0],
        },
    }
    path = args.results / "engine_growth.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
