"""The canonical export written by one process or by two (hrkg.forked_export), in one run::

    python benchmarks/export_processes.py [--scale 1M] [--formats turtle,ntriples] [--repeat 5]

For each format, two fresh worker processes load the synthetic dataset into hrkg's
in-memory store and export it ``--repeat`` times: one with ``HRKG_EXPORT_PROCESSES=1``
(one process, the baseline), one with ``=2`` (the subjects shared with a forked helper,
see hrkg.forked_export). Time is the median export. Memory is sampled from outside, every
50 ms, as the proportional set size (PSS) of the worker plus that of its helper: PSS
counts a page the two share half to each, so the sum is what both hold together, where
their resident sizes would count the shared store twice. Reported: that sum's peak, and
what it was once the data was loaded. Every export must give the same bytes (SHA-256).
Results go to ``benchmarks/results/export_processes.json`` and a table to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import generate
import hrkg
from hrkg.allocator import restart_with_allocator
from process_memory import family_pss_kb
from run import environment
from validation import parse_size

SAMPLE_SECONDS = 0.05


def export_repeatedly(folder: Path, fmt: str, repeat: int) -> None:
    """In the worker: load, say so, then export ``repeat`` times, one JSON line each."""
    kg = hrkg.open(folder)
    print(json.dumps({"loaded": True}), flush=True)
    for _ in range(repeat):
        began = time.perf_counter()
        data = kg.export(fmt)
        seconds = time.perf_counter() - began
        digest = hashlib.sha256(data).hexdigest()
        del data
        print(json.dumps({"seconds": seconds, "bytes": digest}), flush=True)


class MemorySampler:
    """Samples the PSS of a process and its children until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.current_kb = 0
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = family_pss_kb(self.pid)
            self.current_kb = total
            self.peak_kb = max(self.peak_kb, total)
            time.sleep(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def measure(folder: Path, fmt: str, processes: str, repeat: int) -> dict:
    env = {**os.environ, "HRKG_EXPORT_PROCESSES": processes}
    command = [sys.executable, __file__, "--worker", str(folder), fmt, str(repeat)]
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    sampler = MemorySampler(worker.pid)
    after_load_kb = 0
    runs = []
    assert worker.stdout is not None
    for line in worker.stdout:
        record = json.loads(line)
        if record.get("loaded"):
            time.sleep(2 * SAMPLE_SECONDS)  # a sample of the loaded, idle worker
            after_load_kb = sampler.current_kb
        else:
            runs.append(record)
    sampler.stop()
    if worker.wait() != 0:
        raise SystemExit(f"the worker for {fmt} with {processes} process(es) failed")
    return {
        "median_seconds": statistics.median(run["seconds"] for run in runs),
        "runs": [run["seconds"] for run in runs],
        "sha256": sorted({run["bytes"] for run in runs}),
        "after_load_mb": after_load_kb / 1024,
        "peak_mb": sampler.peak_kb / 1024,
    }


def table(figures: dict[str, dict]) -> str:
    lines = [
        "| format | one process | two processes | speed-up | peak PSS, one | peak PSS, two | "
        "after load |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt, ways in figures.items():
        one, two = ways["1"], ways["2"]
        lines.append(
            f"| {fmt} | {one['median_seconds']:.2f} s | {two['median_seconds']:.2f} s | "
            f"{one['median_seconds'] / two['median_seconds']:.2f}× | {one['peak_mb']:,.0f} MB | "
            f"{two['peak_mb']:,.0f} MB | {one['after_load_mb']:,.0f} MB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1M", help="dataset size (10k, 100k, 1M; 1M)")
    parser.add_argument("--formats", default="turtle,ntriples", help="export formats")
    parser.add_argument("--repeat", type=int, default=5, help="exports per worker (5)")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    if args.worker:
        folder, fmt, repeat = args.worker
        export_repeatedly(Path(folder), fmt, int(repeat))
        return 0
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    figures = {}
    for fmt in (name.strip() for name in args.formats.split(",") if name.strip()):
        figures[fmt] = {n: measure(folder, fmt, n, args.repeat) for n in ("1", "2")}
        print(f"{fmt}: {json.dumps(figures[fmt])}", flush=True)
    result = {
        "scale": args.scale,
        "triples": manifest.triples,
        "repeat": args.repeat,
        "formats": figures,
        "environment": environment(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "export_processes.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(figures))
    differ = [
        fmt
        for fmt, ways in figures.items()
        if len({*ways["1"]["sha256"], *ways["2"]["sha256"]}) != 1
    ]
    if differ:
        print("one and two processes wrote different bytes: " + ", ".join(differ))
    return 1 if differ else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
