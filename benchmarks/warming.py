"""What `hrkg serve --warm` saves a question's first reader, on a synthetic dataset::

    python benchmarks/warming.py [--scale 1M]

Two servers over the same data, one after the other, each with two workers on disk (the
default): one started as before, one with ``--warm``. For every question that warming
answers (those that need no parameter), in the same run:

- **cold first**: its first reader on the server without warming (the question runs in
  a worker), the baseline;
- **warmed first**: its first reader on the warmed server once warming is done (the
  answer is kept), and the ratio.

Also the time each server took to start (warming runs after the server can answer, so it
should not add to it) and how long one round of warming took. Every warmed answer must
equal the one computed for the cold reader. Results go to
``benchmarks/results/warming.json`` and a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import generate
from hrkg.allocator import restart_with_allocator
from hrkg.catalog import Page
from hrkg.server import ServerConfig
from hrkg.server.state import ServerState
from hrkg.server.warming import questions_to_warm
from run import environment
from validation import parse_size

#: Long enough for any question at 1M on disk: none is skipped for its time limit here.
TIMEOUT_SECONDS = 600.0
#: How long one warming round may take before the benchmark gives up.
ROUND_LIMIT_SECONDS = 3600.0


def first_readers(state: ServerState) -> dict[str, tuple[float, object]]:
    """Each warmed question asked once, as the browser interface asks it: time and answer."""
    answers = {}
    for question in questions_to_warm(state.kg.catalog):
        began = time.perf_counter()
        table = state.kg.run(question, {}, Page())
        answers[question.name] = (time.perf_counter() - began, table)
    return answers


def measure(folder: Path) -> dict:
    config = dict(workers=2, timeout=TIMEOUT_SECONDS, max_rows=10_000_000)
    began = time.perf_counter()
    cold = ServerState.open(ServerConfig(**config), data_dir=folder)
    cold_start = time.perf_counter() - began
    try:
        computed = first_readers(cold)
    finally:
        cold.close()
    began = time.perf_counter()
    warm = ServerState.open(ServerConfig(**config, warm=True), data_dir=folder)
    warm_start = time.perf_counter() - began
    try:
        assert warm.warmer is not None
        if not warm.warmer.wait(ROUND_LIMIT_SECONDS):
            raise SystemExit(f"warming took longer than {ROUND_LIMIT_SECONDS:g} s")
        round_seconds = time.perf_counter() - began - warm_start
        skipped = dict(warm.warmer.skipped)
        kept = first_readers(warm)
    finally:
        warm.close()
    questions = {
        name: {
            "rows": len(table.rows),
            "cold_first_seconds": seconds,
            "warmed_first_seconds": kept[name][0],
            "speedup": seconds / kept[name][0],
            "answers_equal": kept[name][1].rows == table.rows,
        }
        for name, (seconds, table) in computed.items()
    }
    return {
        "cold_start_seconds": cold_start,
        "warm_start_seconds": warm_start,
        "round_seconds": round_seconds,
        "skipped": skipped,
        "questions": questions,
    }


def table(figures: dict) -> str:
    lines = [
        "| question | rows | first reader, cold | first reader, warmed | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, f in figures["questions"].items():
        lines.append(
            f"| {name} | {f['rows']} | {f['cold_first_seconds']:.3g} s | "
            f"{f['warmed_first_seconds']:.2g} s | {f['speedup']:,.0f}× |"
        )
    lines.append("")
    lines.append(
        f"Start: {figures['cold_start_seconds']:.1f} s cold, {figures['warm_start_seconds']:.1f} s "
        f"with --warm; one warming round: {figures['round_seconds']:.1f} s"
        + (f"; skipped: {', '.join(figures['skipped'])}" if figures["skipped"] else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1M", help="dataset size (10k, 100k, 1M; 1M)")
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    figures = measure(folder)
    result = {
        "scale": args.scale,
        "triples": manifest.triples,
        "workers": 2,
        **figures,
        "environment": environment(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "warming.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(figures))
    wrong = [name for name, f in figures["questions"].items() if not f["answers_equal"]]
    if wrong or figures["skipped"]:
        print("answers differ or skipped: " + ", ".join([*wrong, *figures["skipped"]]))
    return 1 if wrong or figures["skipped"] else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
