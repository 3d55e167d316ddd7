"""How fast the validation gate checks a small change, against full pySHACL validation.

A researcher adds a few hundred triples to a graph of a million; the gate validates only
the focus nodes the change can affect, with the context their shapes read
(``kg.validator.check``). This benchmark measures that fast path on synthetic datasets
(``benchmarks/generate.py``) of growing size and, as the baseline in the same run, pySHACL
on the whole graph (reference graph + all data + the change, the same shapes and options),
so that the ratio means something on any machine::

    python benchmarks/validation.py [--scales 10k,100k,1M] [--full-up-to 100k] [--repeat 5]

Full validation takes minutes beyond 100k triples; above ``--full-up-to`` it is skipped
and its time *estimated* from the measured scales (a power law fitted to them), and the
table says so. The benchmark also proves it measures a working validator: the conforming
batch must give no violation, and the same batch with a negative count at least one.
Results go to ``benchmarks/results/validation.json``, and a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import pyoxigraph
import rdflib
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat
from rdflib.namespace import XSD

import generate
import hrkg
from hrkg.allocator import active_allocator, restart_with_allocator
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.shapes import load_reference_graph
from hrkg.validation.graph_access import to_rdflib
from hrkg.validation.incremental import validate_full
from hrkg.validation.report import Finding, Report

BENCHMARKS = Path(__file__).resolve().parent
SIZE_SUFFIXES = {"k": 1_000, "M": 1_000_000}
#: The issue's targets, printed beside the figures.
TARGET_FAST_SECONDS_AT_1M = 1.0
TARGET_SPEEDUP_AT_100K = 50.0


@dataclass
class ScaleResult:
    """One scale's figures; ``full_seconds`` is measured unless ``full_estimated``."""

    scale: str
    requested_triples: int
    triples: int
    store_quads: int
    load_seconds: float
    batch_triples: int
    fast_cold_seconds: float
    fast_median_seconds: float
    fast_runs_seconds: list[float]
    focus_nodes: int
    context_triples: int
    fast_path: bool
    batch_already_stored: int
    batch_violations: int
    batch_violation_examples: list[str]
    broken_batch_violations: int
    broken_node_count_violations: int
    full_seconds: float | None = None
    full_estimated: bool = False
    full_conforms: bool | None = None
    speedup: float | None = None


def parse_size(text: str) -> int:
    """``10k`` -> 10000, ``1M`` -> 1000000, ``2500`` -> 2500."""
    text = text.strip()
    if text and text[-1] in SIZE_SUFFIXES:
        return int(float(text[:-1]) * SIZE_SUFFIXES[text[-1]])
    return int(text)


COUNT = NamedNode(generate.PREFIXES["hr"] + "count")


def with_negative_count(quads: Sequence[Quad]) -> tuple[list[Quad], str]:
    """The batch with one count made negative (a change the gate must refuse), and its node."""
    negative = Literal("-3", datatype=NamedNode(str(XSD.nonNegativeInteger)))
    broken = list(quads)
    for index, quad in enumerate(broken):
        if quad.predicate == COUNT:
            broken[index] = Quad(quad.subject, COUNT, negative, quad.graph_name)
            return broken, quad.subject.value
    first = broken[0]
    return [*broken, Quad(first.subject, COUNT, negative, first.graph_name)], first.subject.value


def already_stored(kg: KnowledgeGraph, quads: Sequence[Quad]) -> int:
    """How many batch triples some graph already holds: restatements SHACL cannot see."""
    store = kg.store.oxigraph
    return sum(
        next(iter(store.quads_for_pattern(q.subject, q.predicate, q.object, None)), None)
        is not None
        for q in quads
    )


def describe(findings: Sequence[Finding], limit: int = 3) -> list[str]:
    """A few findings as one line each, so that the results file says what went wrong."""
    return [
        f"{f.focus_node} {f.value} ({f.source.rsplit('/', 1)[-1]})"
        for f in sorted(findings)[:limit]
    ]


def time_fast_path(
    kg: KnowledgeGraph, quads: Sequence[Quad], repeat: int
) -> tuple[float, list[float], Report]:
    """The cold first run (shapes parsed and analysed), then ``repeat`` warm runs.

    Garbage is collected before each run so that no run pays for the previous one's.
    """
    gc.collect()
    started = time.perf_counter()
    report = kg.validator.check(quads, [])
    cold = time.perf_counter() - started
    runs = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        report = kg.validator.check(quads, [])
        runs.append(time.perf_counter() - started)
    return cold, runs, report


def full_graph(kg: KnowledgeGraph, quads: Sequence[Quad]) -> rdflib.Graph:
    """Reference graph + every data file + the batch, as one rdflib graph (graphs merged)."""
    graph = load_reference_graph(kg.layout)
    for path in kg.layout.source_graph_files:
        for quad in pyoxigraph.parse(path=str(path), format=RdfFormat.TRIG):
            graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    for quad in quads:
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graph


def time_full(kg: KnowledgeGraph, quads: Sequence[Quad]) -> tuple[float, bool]:
    """pySHACL on everything, with the fast path's shapes and options; the graph is built first."""
    graph = full_graph(kg, quads)
    started = time.perf_counter()
    conforms, _, _ = validate_full(kg.validator.shapes, graph)
    return time.perf_counter() - started, conforms


def estimate_full(measured: list[tuple[int, float]], triples: int) -> float | None:
    """Full-validation seconds at ``triples`` from a power law fitted to the measured scales.

    One point gives linear growth; none gives no estimate.
    """
    if not measured:
        return None
    if len(measured) == 1:
        size, seconds = measured[0]
        return seconds * triples / size
    xs = [math.log(size) for size, _ in measured]
    ys = [math.log(seconds) for _, seconds in measured]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return math.exp(mean_y + slope * (math.log(triples) - mean_x))


def measure_scale(scale: str, triples: int, args: argparse.Namespace, full: bool) -> ScaleResult:
    """Generate (or reuse) the dataset, load it, time the fast path and, if asked, full."""
    folder = args.data_dir / scale
    manifest = generate.ensure_dataset(triples, args.seed, folder, args.documents_per_publisher)
    started = time.perf_counter()
    kg = hrkg.open(folder)
    load_seconds = time.perf_counter() - started
    quads = generate.batch(args.batch_triples, args.seed, folder)
    cold, runs, report = time_fast_path(kg, quads, args.repeat)
    broken_quads, broken_node = with_negative_count(quads)
    broken = kg.validator.check(broken_quads, [])
    caught = [f for f in broken.violations if f.focus_node == broken_node and f.path == COUNT.value]
    result = ScaleResult(
        scale=scale,
        requested_triples=triples,
        triples=manifest.triples,
        store_quads=len(kg.store),
        load_seconds=load_seconds,
        batch_triples=len(quads),
        fast_cold_seconds=cold,
        fast_median_seconds=statistics.median(runs),
        fast_runs_seconds=runs,
        focus_nodes=report.focus_nodes,
        context_triples=report.context_triples,
        fast_path=report.fast_path,
        batch_already_stored=already_stored(kg, quads),
        batch_violations=len(report.violations),
        batch_violation_examples=describe(report.violations),
        broken_batch_violations=len(broken.violations),
        broken_node_count_violations=len(caught),
    )
    if full:
        result.full_seconds, result.full_conforms = time_full(kg, quads)
        result.speedup = result.full_seconds / result.fast_median_seconds
    return result


def add_estimates(results: list[ScaleResult]) -> None:
    measured = [(r.triples, r.full_seconds) for r in results if r.full_seconds is not None]
    for result in results:
        if result.full_seconds is None:
            result.full_seconds = estimate_full(measured, result.triples)  # type: ignore[arg-type]
            result.full_estimated = result.full_seconds is not None
            if result.full_seconds is not None:
                result.speedup = result.full_seconds / result.fast_median_seconds


def markdown_table(results: list[ScaleResult]) -> str:
    lines = [
        "| scale | triples | fast path median (s) | focus nodes | context triples "
        "| full pySHACL (s) | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.full_seconds is None:
            full, speedup = "skipped", "–"
        elif r.full_estimated:
            full, speedup = f"~{r.full_seconds:.0f} (estimate)", f"~{r.speedup:.0f}×"
        else:
            full, speedup = f"{r.full_seconds:.2f}", f"{r.speedup:.0f}×"
        lines.append(
            f"| {r.scale} | {r.triples:,} | {r.fast_median_seconds:.3f} | {r.focus_nodes} "
            f"| {r.context_triples:,} | {full} | {speedup} |"
        )
    return "\n".join(lines)


def sanity_lines(results: list[ScaleResult]) -> tuple[list[str], bool]:
    """Whether the validator worked, so that the timings measure something real.

    The conforming batch must give no violation (and agree with full validation where
    that ran); the broken batch must give a count violation on the node it broke.
    """
    lines, ok = [], True
    for r in results:
        works = r.batch_violations == 0 and r.broken_node_count_violations >= 1 and r.fast_path
        path = "fast path used" if r.fast_path else "fast path NOT used (fell back to full)"
        lines.append(
            f"{r.scale}: conforming batch ({r.batch_triples} triples, {r.batch_already_stored} "
            f"already stored) -> {r.batch_violations} violations; negative count -> "
            f"{r.broken_node_count_violations} on the broken node "
            f"({r.broken_batch_violations} in all); {path}: {'ok' if works else 'FAILED'}"
        )
        lines += [f"    e.g. {example}" for example in r.batch_violation_examples]
        if r.full_conforms is not None and not r.full_estimated:
            agree = r.full_conforms == (r.batch_violations == 0)
            full = "conforms" if r.full_conforms else "does not conform"
            lines.append(
                f"    full pySHACL: data + batch {full}; the fast path "
                f"{'agrees' if agree else 'DISAGREES'}"
            )
            works = works and agree
        ok = ok and works
    return lines, ok


def target_lines(results: list[ScaleResult]) -> list[str]:
    lines = []
    for r in results:
        if r.requested_triples == 1_000_000:
            met = r.fast_median_seconds < TARGET_FAST_SECONDS_AT_1M
            lines.append(
                f"target: fast path at 1M under {TARGET_FAST_SECONDS_AT_1M:g} s: "
                f"{r.fast_median_seconds:.3f} s, {'met' if met else 'MISSED'}"
            )
        if r.requested_triples == 100_000 and r.speedup is not None and not r.full_estimated:
            met = r.speedup >= TARGET_SPEEDUP_AT_100K
            lines.append(
                f"target: at least {TARGET_SPEEDUP_AT_100K:g}× faster than full at 100k: "
                f"{r.speedup:.0f}×, {'met' if met else 'MISSED'}"
            )
    return lines


def write_results(path: Path, results: list[ScaleResult], args: argparse.Namespace) -> None:
    document = {
        "benchmark": "validation",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "malloc": active_allocator()[0],
        "versions": {name: version(name) for name in ("pyshacl", "rdflib", "pyoxigraph")},
        "seed": args.seed,
        "repeat": args.repeat,
        "batch_triples": args.batch_triples,
        "documents_per_publisher": args.documents_per_publisher,
        "scales": [asdict(result) for result in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="10k,100k,1M", help="dataset sizes, e.g. 10k,100k,1M")
    parser.add_argument(
        "--full-up-to", default="100k", help="run full pySHACL validation up to this size"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed fast-path runs per scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-triples", type=int, default=300)
    parser.add_argument(
        "--documents-per-publisher",
        type=int,
        default=generate.DOCUMENTS_PER_PUBLISHER,
        help="fan-in of the publisher hubs the batch restates (default %(default)s)",
    )
    parser.add_argument("--data-dir", type=Path, default=BENCHMARKS / "data")
    parser.add_argument("--results", type=Path, default=BENCHMARKS / "results" / "validation.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scales = [(label.strip(), parse_size(label)) for label in args.scales.split(",")]
    full_up_to = parse_size(args.full_up_to)
    results = []
    for label, triples in sorted(scales, key=lambda item: item[1]):
        print(f"{label}: generating or reusing, loading, validating …", flush=True)
        result = measure_scale(label, triples, args, full=triples <= full_up_to)
        results.append(result)
        full = "skipped" if result.full_seconds is None else f"{result.full_seconds:.2f} s"
        print(
            f"  loaded {result.store_quads:,} quads in {result.load_seconds:.1f} s; fast path "
            f"{result.fast_median_seconds:.3f} s (cold {result.fast_cold_seconds:.2f} s); "
            f"full {full}",
            flush=True,
        )
    add_estimates(results)
    write_results(args.results, results, args)
    print()
    print(markdown_table(results))
    print()
    for result in results:
        if result.full_estimated:
            print(
                f"{result.scale}: full validation skipped (est. {result.full_seconds:.0f} s, "
                "a power law fitted to the measured scales — an estimate, not a measurement)"
            )
    checks, ok = sanity_lines(results)
    print("\n".join(checks + target_lines(results)))
    print(f"\nresults written to {args.results}")
    return 0 if ok else 1


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    sys.exit(main())
