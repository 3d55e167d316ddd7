"""What an export costs in memory beyond the store, in bytes returned or written to a file::

    python benchmarks/export_memory.py [--scale 1M] [--formats turtle,nquads]

For each format, two fresh processes load the synthetic dataset into hrkg's in-memory
store and export it: one through ``kg.export`` (the bytes, whole, as the Python API returns
them), the baseline; one through ``kg.export_to`` into a file (as ``hrkg export -o`` does),
which writes each piece as it is made. Each reports its peak resident memory after the load
and after the export; the difference is what the export itself held. Both outputs must be
the same bytes (compared by SHA-256). Results go to ``benchmarks/results/export_memory.json``
and a Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generate
import hrkg
from hrkg.allocator import restart_with_allocator
from run import environment
from validation import parse_size


def peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_once(folder: Path, fmt: str, way: str) -> dict:
    """In this process: load, then export one way; the figures as JSON on stdout."""
    kg = hrkg.open(folder)
    after_load = peak_mb()
    began = time.perf_counter()
    if way == "bytes":
        data = kg.export(fmt)
        seconds, peak = time.perf_counter() - began, peak_mb()
        size, digest = len(data), hashlib.sha256(data).hexdigest()
    else:
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / f"export.{fmt}"
            with path.open("wb") as output:
                kg.export_to(output, fmt)
            seconds, peak = time.perf_counter() - began, peak_mb()
            with path.open("rb") as written:  # read in pieces, after the peak is taken
                size, digest = (
                    path.stat().st_size,
                    hashlib.file_digest(written, "sha256").hexdigest(),
                )
    return {
        "seconds": seconds,
        "bytes": size,
        "sha256": digest,
        "peak_after_load_mb": after_load,
        "peak_mb": peak,
        "export_mb": peak - after_load,
    }


def in_fresh_process(folder: Path, fmt: str, way: str) -> dict:
    command = [sys.executable, __file__, "--worker", str(folder), fmt, way]
    finished = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def table(figures: dict[str, dict]) -> str:
    lines = [
        "| format | output | held by the export, bytes | held, to a file | "
        "time, bytes | time, to a file |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt, ways in figures.items():
        whole, streamed = ways["bytes"], ways["file"]
        lines.append(
            f"| {fmt} | {whole['bytes'] / 1e6:,.1f} MB | {whole['export_mb']:,.0f} MB | "
            f"{streamed['export_mb']:,.0f} MB | {whole['seconds']:.2f} s | "
            f"{streamed['seconds']:.2f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="1M", help="dataset size (10k, 100k, 1M; 1M)")
    parser.add_argument("--formats", default="turtle,nquads", help="export formats")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    generate.add_dataset_options(parser)
    args = parser.parse_args(argv)
    if args.worker:
        folder, fmt, way = args.worker
        print(json.dumps(export_once(Path(folder), fmt, way)))
        return 0
    folder = args.data_dir / args.scale
    manifest = generate.ensure_dataset(parse_size(args.scale), args.seed, folder)
    figures = {}
    for fmt in (name.strip() for name in args.formats.split(",") if name.strip()):
        figures[fmt] = {way: in_fresh_process(folder, fmt, way) for way in ("bytes", "file")}
        print(f"{fmt}: {json.dumps(figures[fmt])}", flush=True)
    result = {
        "scale": args.scale,
        "triples": manifest.triples,
        "formats": figures,
        "environment": environment(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / "export_memory.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(figures))
    differ = [
        fmt for fmt, ways in figures.items() if ways["bytes"]["sha256"] != ways["file"]["sha256"]
    ]
    if differ:
        print("the two ways wrote different bytes: " + ", ".join(differ))
    return 1 if differ else 0


if __name__ == "__main__":
    restart_with_allocator()  # as the hrkg command does: the figures are its processes'
    raise SystemExit(main())
