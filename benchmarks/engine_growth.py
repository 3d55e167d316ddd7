"""How the store's own cost per answer row grows with its size: the yardstick for growth.

The scale target asks that, from 100k to 1M triples, time grow no faster than the data.
A question can miss it in two ways: its own work per row grows (a join that fans out more
as the data grows, a quadratic pattern), or every lookup in the store gets dearer as the
store grows (bigger indexes, fewer cache hits), which no query text can change. This
script measures the second alone: reference queries whose work per row is fixed (a type
scan, then one and two lookups per row) on the same synthetic datasets as ``run.py``, on
hrkg's default in-memory store, in microseconds per row and as a growth exponent::

    python benchmarks/engine_growth.py [--scales 10k,100k,1M] [--repeat 7]

An exponent above 1 here is the engine's, and it bounds what the stored questions can
reach. Results go to ``benchmarks/results/engine_growth.json`` and a Markdown table to
stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
from importlib.metadata import version
from pathlib import Path

import generate
import hrkg
from run import timed_runs
from validation import parse_size

BENCHMARKS = Path(__file__).resolve().parent
#: Seconds one reference query may run: a linear scan, far below this at 1M.
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


def measure(kg: hrkg.KnowledgeGraph, text: str, repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs (after one warm-up), and the rows answered."""
    rows = len(kg.store.query(text).rows)
    runs, _ = timed_runs(lambda: kg.store.query(text), repeat, math.inf, QUERY_TIMEOUT)
    return statistics.median(runs), rows


def run_scale(label: str, args: argparse.Namespace) -> dict:
    folder = args.data_dir / label
    manifest = generate.ensure_dataset(parse_size(label), args.seed, folder)
    kg = hrkg.open(folder)
    figures = {}
    for name, query in REFERENCES.items():
        seconds, rows = measure(kg, PREFIXES + query, args.repeat)
        per_row = seconds / rows * 1e6
        figures[name] = {"seconds": seconds, "rows": rows, "microseconds_per_row": per_row}
        print(f"{label} {name}: {rows} rows, {seconds:.4f} s, {per_row:.2f} µs/row")
    return {"scale": label, "triples": manifest.triples, "queries": figures}


def exponent(small: dict, large: dict, name: str) -> float:
    """log(time ratio) / log(data ratio): 1 is linear."""
    ratio = large["queries"][name]["seconds"] / small["queries"][name]["seconds"]
    return math.log(ratio) / math.log(large["triples"] / small["triples"])


def table(results: list[dict]) -> str:
    lines = [
        "| reference query | "
        + " | ".join(f"{r['scale']} µs/row" for r in results)
        + " | exponent |",
        "|---|" + "---:|" * (len(results) + 1),
    ]
    for name in REFERENCES:
        cells = [f"{r['queries'][name]['microseconds_per_row']:.2f}" for r in results]
        growth = f"^{exponent(results[-2], results[-1], name):.2f}" if len(results) > 1 else "–"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="10k,100k,1M")
    parser.add_argument("--repeat", type=int, default=7)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    results = [run_scale(label, args) for label in args.scales.split(",")]
    print()
    print(table(results))
    print("\nexponent: between the last two scales; above 1 is the store's, not the query's")
    args.results.mkdir(parents=True, exist_ok=True)
    record = {
        "results": results,
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pyoxigraph": version("pyoxigraph"),
        },
    }
    path = args.results / "engine_growth.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
