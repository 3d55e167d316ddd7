"""How the work of each question grows with the data, counted in instructions, not seconds.

``engine_growth.py`` finds that from 100k to 1M triples time grows faster than the data,
for the stored questions and for reference queries of fixed work per row alike. Time
cannot tell whether a query does more work per row on the larger store, or the same work
more slowly, each lookup missing the processor's caches more often as the store outgrows
them. Instructions can: valgrind's callgrind counts every instruction the process
executes, and the count hardly moves from one run of the same build and data to the next
(by a few thousand in billions), however busy the machine is. So this script loads each
scale into a process of its own under callgrind and runs every reference query and
stored question there twice, keeping the second run's count (the first may pay for
things done once). The load's count leaves out the interpreter's start-up and imports,
counted apart.

The counts are split without instrumenting hrkg: the process calls ``os.getppid()`` after
its imports, after the load and before and after every run, and callgrind, started with
``--dump-before=getppid``, writes the count since the last call to a file of its own at
each call.

::

    python benchmarks/instruction_growth.py [--scales 100k,1M] [--max-exponent E]

Results go to ``benchmarks/results/instruction_growth.json`` and a Markdown table to
stdout: millions of instructions per scale, per answer row, and the exponent between the
last two scales (1 is work growing as the data does), beside the exponent of time from
``engine_growth.json`` when that file measured the same scales. With ``--max-exponent``
the script exits 1 when a stored question's count grows faster than that: a question
that does more work per row as the data grows (a join that fans out, a quadratic
pattern), found without timing anything.

The counted processes run on the ``malloc`` the ``hrkg`` command restarts on (each
records which), and the scales run side by side (``--jobs``): the counts do not depend on
what else runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import generate
from engine_growth import PREFIXES, REFERENCES
from engine_growth import exponent as seconds_exponent
from hrkg.allocator import active_allocator, restart_with_allocator
from run import growth_exponent
from validation import parse_size

#: The libc function whose calls cut the counts into parts (see the module docstring).
MARKER = "getppid"
#: Runs of each query in the child; the last one's count is kept.
RUNS = 2
#: Parts callgrind writes per run: the garbage collection before it (not kept), the run.
PARTS_PER_RUN = 2
#: Seconds one scale's process may take under callgrind (1M: about six minutes).
SCALE_TIMEOUT = 3600


class CountError(RuntimeError):
    """callgrind did not give one count per step: the figures would be misattributed."""


def child(folder: Path) -> int:
    """Load ``folder``, then run every query ``RUNS`` times, calling the marker once the
    interpreter has started and imported hrkg, after the load, and before and after each
    run; print one JSON line per query (its name, kind and rows).

    Garbage is collected before each run, as ``run.py``'s timed runs do: otherwise a full
    collection of the objects the load left (tens of millions of instructions) would fall
    into whichever run crossed the collector's threshold, at one scale and not the other.
    """
    from run import HrkgSide  # imported here: the parent needs none of hrkg's store

    os.getppid()
    print(json.dumps({"malloc": active_allocator()[0]}), flush=True)
    side = HrkgSide(folder, None)
    side.load()
    os.getppid()
    jobs = [("queries", name, PREFIXES + text) for name, text in REFERENCES.items()]
    jobs += [("questions", name, plan["text"]) for name, plan in side.plan().items()]
    for kind, name, text in jobs:
        for _ in range(RUNS):
            gc.collect()
            os.getppid()
            rows = side.query(text)
            os.getppid()
        print(json.dumps({"kind": kind, "name": name, "rows": rows}), flush=True)
    return 0


def valgrind_command() -> list[str]:
    """The callgrind command line, or a clear error when valgrind is missing."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit(
            "error: valgrind is not installed; `make valgrind` installs Debian's package "
            "(apt-get install valgrind)"
        )
    return [valgrind, "--tool=callgrind", f"--dump-before={MARKER}", "--quiet"]


def part_counts(folder: Path, prefix: str) -> list[int]:
    """The instruction count of each part callgrind wrote (``prefix.<pid>.<part>``), in
    the order of the parts; the count at exit, in the file without a part number, is not
    one of them."""
    parts = []
    for path in folder.glob(f"{prefix}.*.*"):
        number = path.name.rsplit(".", 1)[1]
        if number.isdigit():
            parts.append((int(number), summary_count(path)))
    return [count for _, count in sorted(parts)]


def summary_count(path: Path) -> int:
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise CountError(f"{path} has no 'summary:' line; is it a callgrind output file?")


def count_scale(label: str, args: argparse.Namespace) -> dict:
    """One scale under callgrind: the load's count and every query's, with its rows."""
    folder = args.data_dir / label
    manifest = generate.ensure_dataset(parse_size(label), args.seed, folder)
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="callgrind-") as scratch:
        command = [
            *valgrind_command(),
            f"--callgrind-out-file={scratch}/{label}.%p",
            sys.executable, __file__, "--child", str(folder),
        ]  # fmt: skip
        done = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=SCALE_TIMEOUT
        )
        if done.returncode != 0:
            raise CountError(f"{label}: the counted process failed:\n{done.stderr[-2000:]}")
        counts = part_counts(Path(scratch), label)
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    answered = [line for line in printed if "rows" in line]
    per_query = RUNS * PARTS_PER_RUN
    if len(counts) != 2 + per_query * len(answered):
        raise CountError(
            f"{label}: callgrind wrote {len(counts)} parts for the start-up, the load and "
            f"{len(answered)} queries run {RUNS} times; something else called {MARKER}()"
        )
    result: dict = {
        "scale": label,
        "triples": manifest.triples,
        "malloc": printed[0]["malloc"],
        "start_up": {"instructions": counts[0]},
        "load": {"instructions": counts[1]},
        "queries": {},
        "questions": {},
    }
    for index, query in enumerate(answered):
        first = 2 + per_query * index
        runs = counts[first + PARTS_PER_RUN - 1 : first + per_query : PARTS_PER_RUN]
        instructions = runs[-1]
        rows = query["rows"]
        result[query["kind"]][query["name"]] = {
            "instructions": instructions,
            "runs": runs,
            "rows": rows,
            "instructions_per_row": instructions / rows if rows else None,
        }
    print(f"{label}: counted the load and {len(answered)} queries", flush=True)
    return result


def exponent(small: dict, large: dict, kind: str, name: str | None = None) -> float:
    """log(count ratio) / log(data ratio) between two scales' results: 1 is linear.

    ``kind`` is ``queries`` (the reference queries) or ``questions`` with a ``name``, or
    ``load``."""
    first, last = (
        (small[kind], large[kind]) if name is None else (small[kind][name], large[kind][name])
    )
    return growth_exponent(
        first["instructions"], last["instructions"], small["triples"], large["triples"]
    )


def time_exponents(results: list[dict], timings: Path) -> dict[str, float]:
    """The growth of time that ``engine_growth.json`` measured between the same two scales
    of the same datasets, per query name; empty when it measured others."""
    try:
        timed = json.loads(timings.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return {}
    by_scale = {(r["scale"], r["triples"]): r for r in timed}
    small, large = (by_scale.get((r["scale"], r["triples"])) for r in results[-2:])
    if small is None or large is None:
        return {}
    growth = {"load": seconds_exponent(small, large, "load")}
    for kind in ("queries", "questions"):
        for name, figures in large[kind].items():
            if small[kind].get(name, {}).get("seconds") and figures["seconds"]:
                growth[name] = seconds_exponent(small, large, kind, name)
    return growth


def table(results: list[dict], timed: dict[str, float]) -> str:
    small, large = results[-2], results[-1]
    header = (
        "| query | "
        + " | ".join(f"{r['scale']} M instr." for r in results)
        + " | per row | exponent | time's exponent |"
    )
    lines = [header, "|---|" + "---:|" * (len(results) + 3)]

    def row(label: str, kind: str, name: str | None) -> str:
        figures = [r[kind] if name is None else r[kind][name] for r in results]
        counts = " | ".join(f"{f['instructions'] / 1e6:,.1f}" for f in figures)
        per_row = figures[-1].get("instructions_per_row")
        per_row_text = f"{per_row:,.0f}" if per_row else "–"
        time_text = f"^{timed[name or 'load']:.2f}" if (name or "load") in timed else "–"
        growth = exponent(small, large, kind, name)
        return f"| {label} | {counts} | {per_row_text} | ^{growth:.2f} | {time_text} |"

    lines.append(row("load", "load", None))
    lines += [row(name, "queries", name) for name in REFERENCES]
    lines += [row(f"question: {name}", "questions", name) for name in large["questions"]]
    return "\n".join(lines)


def over_limit(results: list[dict], max_exponent: float) -> dict[str, float]:
    """The stored questions whose count grows faster than ``max_exponent`` between the
    last two scales, with their exponents."""
    small, large = results[-2], results[-1]
    growth = {name: exponent(small, large, "questions", name) for name in large["questions"]}
    return {name: value for name, value in growth.items() if value > max_exponent}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="100k,1M", help="two or more (100k,1M)")
    parser.add_argument(
        "--max-exponent", type=float, help="exit 1 if a question's count grows faster"
    )
    parser.add_argument("--jobs", type=int, default=2, help="scales counted at once (2)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    labels = args.scales.split(",")
    if len(labels) < 2:
        parser.error("--scales needs two scales or more, e.g. 100k,1M")
    for label in labels:
        try:
            parse_size(label)
        except ValueError:
            parser.error(f"--scales: {label!r} is not a size; write 100k, 1M or 2500")
    valgrind_command()  # fails early, before any data is generated
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda label: count_scale(label, args), labels))
    except (CountError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    timed = time_exponents(results, args.results / "engine_growth.json")
    print()
    print(table(results, timed))
    print(
        "\nexponent: of the instruction count between the last two scales; time's exponent:"
        " engine_growth.json's for the same datasets, where it has them"
    )
    record = {
        "results": results,
        "time_exponents": timed,
        "environment": {
            "python": platform.python_version(),
            "pyoxigraph": version("pyoxigraph"),
            "valgrind": subprocess.run(
                ["valgrind", "--version"], capture_output=True, text=True
            ).stdout.strip(),
        },
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "instruction_growth.json"
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"results written to {path}")
    if args.max_exponent is not None:
        offenders = over_limit(results, args.max_exponent)
        for name, value in offenders.items():
            print(f"error: question {name}'s work grows with ^{value:.2f}, over the limit "
                  f"^{args.max_exponent}", file=sys.stderr)  # fmt: skip
        if offenders:
            return 1
    return 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the counts are its processes'
    raise SystemExit(main())
