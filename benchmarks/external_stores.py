"""The stored questions on real triplestore servers at scale, against the embedded store::

    python benchmarks/external_stores.py [--scale 1M] [--repeat 3]

For users who outgrow one machine: the synthetic dataset of ``run.py`` goes to an Oxigraph
server and to Virtuoso by ``hrkg push``, each started on loopback by the test set-up's own
helpers (``tests/external_servers.py``; ``make servers`` installs Virtuoso), and every
stored question is asked of each with the parameters ``run.py`` times. For each server:
how long the push took, each question's median time over ``--repeat`` runs (after one
run that also gives the answer), and whether that answer is the embedded store's (rows
compared as the differential tests compare them). The embedded store, in memory, is the
baseline of the same run. Results go to ``benchmarks/results/external_stores.json`` and
a Markdown table to stdout.

The exit code is 1 if an answer differs, a server failed, or a question is *far* slower
on a server than embedded: over :data:`SLOW_RATIO` times its embedded time and over
:data:`SLOW_FLOOR_SECONDS`. A server pays HTTP and its own planner, so a few times, even
tens of times, slower is expected; hundreds of times slower means the server's planner
re-runs part of the question for every row, as Virtuoso 7.2 did with an earlier
``search`` (56 s and 74 s in two runs at 100k triples, against 0.03 s embedded). No test
can catch that, since tests assert no times; this ratio against the same run's embedded
store can, and ``make bench-ci`` runs it at 100k (``--results`` in
``benchmarks/results/ci``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import generate
import hrkg
import hrkg.push
from hrkg.allocator import restart_with_allocator
from run import HrkgSide, environment, timed_runs
from validation import parse_size

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))
from answer_comparison import comparable, group_concat_columns  # noqa: E402
from external_servers import RunningServer, oxigraph_server, virtuoso_server  # noqa: E402

#: Seconds a question may take on a server (Virtuoso's own limit and hrkg's wait).
QUERY_LIMIT_SECONDS = 600
#: A question slower on a server than both of these (times its embedded median, and
#: seconds) is a planner fault, not the cost of a server: see the module's notes.
SLOW_RATIO = 100
SLOW_FLOOR_SECONDS = 2.0


ServerStarter = Callable[[Path], contextlib.AbstractContextManager[RunningServer]]
SERVERS: dict[str, ServerStarter] = {
    "Oxigraph server": oxigraph_server,
    "Virtuoso": partial(virtuoso_server, max_seconds=QUERY_LIMIT_SECONDS),
}


def ask_all(kg: hrkg.KnowledgeGraph, params: dict[str, dict], repeat: int) -> Iterator:
    """Each question's name, median seconds of ``repeat`` runs after a first one, and the
    first run's answer."""
    for name, given in params.items():
        ask = partial(kg.query, name, **given)
        answer = ask()
        runs, _ = timed_runs(ask, repeat, math.inf, QUERY_LIMIT_SECONDS)
        yield name, statistics.median(runs), answer


def measure_server(
    start: ServerStarter,
    side: HrkgSide,
    params: dict[str, dict],
    embedded: dict[str, tuple[object, float]],
    repeat: int,
) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="hrkg-bench-server-") as folder,
        start(Path(folder)) as server,
    ):
        endpoint = server.endpoint(timeout=QUERY_LIMIT_SECONDS)
        began = time.perf_counter()
        report = hrkg.push.push(side.kg.store.quads(), endpoint)
        push_seconds = time.perf_counter() - began
        remote = hrkg.open(side.folder, endpoint=endpoint)
        questions = {}
        for name, seconds, answer in ask_all(remote, params, repeat):
            concatenated = group_concat_columns(remote.catalog.get(name).text)
            embedded_answer, embedded_seconds = embedded[name]
            agree = comparable(answer, concatenated) == comparable(embedded_answer, concatenated)
            questions[name] = {
                "seconds": seconds,
                "agree": agree,
                "slow": far_slower(seconds, embedded_seconds),
            }
    return {"push_seconds": push_seconds, "pushed_triples": report.triples, "questions": questions}


def far_slower(server_seconds: float, embedded_seconds: float) -> bool:
    """Whether a server's time is a planner fault rather than a server's cost (see
    :data:`SLOW_RATIO`)."""
    return server_seconds > SLOW_FLOOR_SECONDS and server_seconds > SLOW_RATIO * embedded_seconds


def table(result: dict) -> str:
    names = list(result["servers"])
    lines = [
        "| question | rows | embedded (in memory) | " + " | ".join(names) + " |",
        "|---|---:|---:|" + "---:|" * len(names),
    ]
    for name, figures in result["embedded"].items():
        cells = []
        for server in names:
            found = result["servers"][server]["questions"].get(name)
            mark = "" if found and found["agree"] else " (differs)"
            mark += " (far slower)" if found and found.get("slow") else ""
            cells.append(f"{found['seconds']:.3g} s{mark}" if found else "–")
        row = [name, str(figures["rows"]), f"{figures['seconds']:.3g} s", *cells]
        lines.append("| " + " | ".join(row) + " |")
    servers = result["servers"].values()
    pushed = max((figures["pushed_triples"] for figures in servers), default=0)
    pushes = ", ".join(
        f"{server} {figures['push_seconds']:.1f} s" for server, figures in result["servers"].items()
    )
    lines += ["", f"`hrkg push` of {pushed:,} triples (each graph's own): {pushes}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1M", help="dataset size (10k, 100k, 1M; 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per question")
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    side = HrkgSide(folder, None)
    side.load()
    params = {name: plan["params"] for name, plan in side.plan().items()}
    embedded = {}
    result: dict = {"scale": args.scale, "triples": manifest.triples, "embedded": {}}
    for name, seconds, answer in ask_all(side.kg, params, args.repeat):
        embedded[name] = (answer, seconds)
        result["embedded"][name] = {"seconds": seconds, "rows": len(answer.rows)}
    result["servers"] = {
        server: measure_server(start, side, params, embedded, args.repeat)
        for server, start in SERVERS.items()
    }
    result["environment"] = environment()
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "external_stores.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result))
    differing = [
        f"{server}: {name}"
        for server, figures in result["servers"].items()
        for name, question in figures["questions"].items()
        if not question["agree"]
    ]
    slow = [
        f"{server}: {name} {question['seconds']:.3g} s"
        for server, figures in result["servers"].items()
        for name, question in figures["questions"].items()
        if question["slow"]
    ]
    if differing:
        print("answers that differ from the embedded store's: " + "; ".join(differing))
    if slow:
        print(
            f"far slower than embedded (over {SLOW_RATIO}x and {SLOW_FLOOR_SECONDS:g} s), a "
            "server planner fault to find and avoid: " + "; ".join(slow)
        )
    return 1 if differing or slow else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
