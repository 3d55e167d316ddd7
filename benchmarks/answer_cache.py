"""What the server's answer cache saves, on a synthetic dataset, in one run::

    python benchmarks/answer_cache.py [--scale 1M] [--questions cases,concerns,timeline]

Through the path a request takes (the served knowledge graph, its workers on disk, the
pickled answer back), for each chosen stored question with its example parameters:

- **first** and **again**: the question asked once (run by a worker) and then a second
  time (served from the cache), and their ratio;
- **at once**: ``--callers`` threads asking at the same moment, as readers opening the
  same page do. With identical texts they share one run (single flight); the baseline is
  the same number of texts made distinct by a comment, each run by a worker as before
  the cache. Wall time of both and the ratio.

- **paging**: the first ``--pages`` pages of ``--page-rows`` rows, as a reader clicking
  "next" gets them. Each page is cut from the whole answer, which the first page fetches
  and keeps; the baseline runs each page as a query of its own (``LIMIT``/``OFFSET``), as
  the server did before. The time of the first page and of all pages, both ways.

Every answer served from the cache, shared or cut must equal the one a worker gave.
Results go to ``benchmarks/results/answer_cache.json`` and Markdown tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import generate
from hrkg.allocator import restart_with_allocator
from hrkg.catalog import Page
from hrkg.server import ServerConfig
from hrkg.server.state import ServerState
from run import HrkgSide, environment
from validation import parse_size

BENCHMARKS = Path(__file__).resolve().parent
HEAVY_QUESTIONS = "cases,concerns,timeline,killings"


def at_once(state: ServerState, texts: list[str]) -> tuple[float, list]:
    """Every text asked from its own thread at the same moment: wall time and answers."""
    answers: list = [None] * len(texts)
    start = threading.Barrier(len(texts) + 1)

    def ask(index: int) -> None:
        start.wait()
        answers[index] = state.kg.store.query(texts[index])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, answers


def timed(function, *args):
    began = time.perf_counter()
    answer = function(*args)
    return time.perf_counter() - began, answer


def paging(state: ServerState, name: str, params: dict, pages: int, rows: int) -> dict:
    """The first ``pages`` pages cut from the kept answer, against each page run alone."""
    stored = state.kg.catalog.get(name)
    wanted = [Page(limit=rows, offset=number * rows) for number in range(pages)]
    cut = [timed(state.kg.run, stored, params, page) for page in wanted]
    cut_times, cut_pages = [seconds for seconds, _ in cut], [answer for _, answer in cut]
    bindings = stored.bind(params, state.kg.settings.base_iri)
    alone_times, alone_pages = [], []
    for number, page in enumerate(wanted):  # a comment of its own: no page is found kept
        text = f"{stored.sparql(bindings, state.kg.settings.base_iri, page)}\n# page {number}"
        seconds, answer = timed(state.kg.store.query, text)
        alone_times.append(seconds)
        alone_pages.append(answer.without(stored.parameters))
    return {
        "pages": pages,
        "page_rows": rows,
        "cut_first_seconds": cut_times[0],
        "cut_all_seconds": sum(cut_times),
        "alone_first_seconds": alone_times[0],
        "alone_all_seconds": sum(alone_times),
        "all_speedup": sum(alone_times) / sum(cut_times),
        "pages_equal": [page.rows for page in cut_pages] == [page.rows for page in alone_pages],
    }


def measure(folder: Path, names: list[str], callers: int, pages: int, page_rows: int) -> dict:
    config = ServerConfig(workers=2, timeout=600.0, max_rows=10_000_000)
    state = ServerState.open(config, data_dir=folder)
    try:
        side = HrkgSide(folder, None)
        side.kg = state.kg
        plans = side.plan()
        figures = {}
        for name in names:
            text = plans[name]["text"]
            first, answer = timed(state.kg.store.query, text)
            again, kept = timed(state.kg.store.query, text)
            distinct = [f"{text}\n# {number}" for number in range(callers)]
            separately, _ = at_once(state, distinct)
            shared_text = f"{text}\n# shared"
            shared, answers = at_once(state, [shared_text] * callers)
            figures[name] = {
                "rows": len(answer.rows),
                "first_seconds": first,
                "again_seconds": again,
                "again_speedup": first / again,
                "distinct_at_once_seconds": separately,
                "identical_at_once_seconds": shared,
                "at_once_speedup": separately / shared,
                "answers_equal": kept.rows == answer.rows
                and all(other.rows == answer.rows for other in answers),
                "paging": paging(state, name, plans[name]["params"], pages, page_rows),
            }
            print(f"{name}: {json.dumps(figures[name])}", flush=True)
    finally:
        state.close()
    return figures


def table(figures: dict[str, dict], callers: int) -> str:
    lines = [
        f"| question | rows | first | again | speed-up | {callers} distinct at once | "
        f"{callers} identical at once | speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, f in figures.items():
        lines.append(
            f"| {name} | {f['rows']} | {f['first_seconds']:.3g} s | {f['again_seconds']:.2g} s | "
            f"{f['again_speedup']:,.0f}× | {f['distinct_at_once_seconds']:.3g} s | "
            f"{f['identical_at_once_seconds']:.3g} s | {f['at_once_speedup']:.1f}× |"
        )
    return "\n".join(lines)


def paging_table(figures: dict[str, dict]) -> str:
    first = next(iter(figures.values()))["paging"]
    lines = [
        f"| question | first page, cut | first page, alone | {first['pages']} pages of "
        f"{first['page_rows']}, cut | {first['pages']} pages, alone | speed-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, f in figures.items():
        p = f["paging"]
        lines.append(
            f"| {name} | {p['cut_first_seconds']:.3g} s | {p['alone_first_seconds']:.3g} s | "
            f"{p['cut_all_seconds']:.3g} s | {p['alone_all_seconds']:.3g} s | "
            f"{p['all_speedup']:.1f}× |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1M", help="dataset size (10k, 100k, 1M; 1M)")
    parser.add_argument("--questions", default=HEAVY_QUESTIONS, help="stored questions")
    parser.add_argument("--callers", type=int, default=8, help="readers at once (8)")
    parser.add_argument("--pages", type=int, default=5, help="pages read in turn (5)")
    parser.add_argument("--page-rows", type=int, default=50, help="rows per page (50)")
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    names = [name.strip() for name in args.questions.split(",") if name.strip()]
    figures = measure(folder, names, args.callers, args.pages, args.page_rows)
    result = {
        "scale": args.scale,
        "triples": manifest.triples,
        "callers": args.callers,
        "workers": 2,
        "questions": figures,
        "environment": environment(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "answer_cache.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(figures, args.callers))
    print()
    print(paging_table(figures))
    wrong = [
        name
        for name, f in figures.items()
        if not (f["answers_equal"] and f["paging"]["pages_equal"])
    ]
    if wrong:
        print("answers differ: " + ", ".join(wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
