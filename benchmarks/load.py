"""A bounded load test of ``hrkg serve`` on the loopback interface.

Starts the server as a user does (``hrkg serve`` in its own process, on a free port of
127.0.0.1), sends a fixed number of requests at a fixed concurrency, then stops it::

    python benchmarks/load.py [--requests 2000] [--concurrency 16] [--max-seconds 300]

The requests mix the three ways the server is used: stored questions through the REST
API, SPARQL queries by GET on ``/sparql``, and entity pages as a browser asks for them.
Each URL is fetched once before the clock starts (the figures are for a warm server: with
its answer cache, which the server has by default, the mix is then served from the
cache; ``HRKG_CACHE_BYTES=0`` in the environment measures every request run anew).
Every answer must be a 200: anything else, a timeout included, is an error, and the
script exits 1 when there is one. The run is bounded twice: by the request count and by
``--max-seconds`` for the whole run, after which the requests not yet sent count as
errors. Throughput and p50/p90/p99 latency, overall and by kind, go to stdout and to
``benchmarks/results/load.json``. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import httpx

from hrkg.allocator import active_allocator
from hrkg.server.config import ServerConfig

BENCHMARKS = Path(__file__).resolve().parent
HOST = "127.0.0.1"
SPARQL_JSON = "application/sparql-results+json"
SPARQL_QUERIES = (
    "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)",
    "PREFIX hr: <https://w3id.org/hrkg/def/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?person ?name WHERE { ?person a hr:Person ; rdfs:label ?name } ORDER BY ?name",
    "SELECT ?p ?o WHERE { <https://w3id.org/hrkg/id/person/amadou-sanogo> ?p ?o }",
    "ASK { ?s ?p ?o }",
)


@dataclass(frozen=True)
class Target:
    """One request of the mix: its kind, path, query parameters and Accept header."""

    kind: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    accept: str = SPARQL_JSON


#: The mix: each target is sent equally often (so 6 API : 4 SPARQL : 4 page requests).
TARGETS = (
    Target("api", "/api/queries/reports", (("year", "2013"),)),
    Target("api", "/api/queries/timeline", (("from", "2012"), ("to", "2014"))),
    Target("api", "/api/queries/entity", (("label", "Sanogo"),)),
    Target("api", "/api/queries/office-holders"),
    Target("api", "/api/queries/summary"),
    Target("api", "/api/queries/cases"),
    *(Target("sparql", "/sparql", (("query", text),)) for text in SPARQL_QUERIES),
    Target("page", "/id/person/amadou-sanogo", accept="text/html"),
    Target("page", "/id/place/timbuktu", accept="text/html"),
    Target("page", "/id/document/2013-05-21-annual-report-mali-2013", accept="text/html"),
    Target("page", "/def/Case", accept="text/html"),
)


@dataclass
class Outcome:
    kind: str
    seconds: float
    error: str | None = None


@dataclass
class Summary:
    """Latencies in milliseconds."""

    requests: int
    errors: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass
class Result:
    requests: int
    concurrency: int
    seconds: float
    throughput_rps: float
    overall: Summary
    by_kind: dict[str, Summary]
    error_samples: list[str]
    server_workers: int
    #: The server's answer cache budget (``HRKG_CACHE_BYTES``; 0: every request is run).
    server_cache_bytes: int
    machine: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def summarise(outcomes: list[Outcome]) -> Summary:
    """Latencies of the successful requests (None when there is none)."""
    millis = sorted(o.seconds * 1000 for o in outcomes if o.error is None)
    errors = sum(o.error is not None for o in outcomes)
    if not millis:
        return Summary(len(outcomes), errors, None, None, None, None)
    cuts = statistics.quantiles(millis, n=100, method="inclusive") if len(millis) > 1 else None
    p50, p90, p99 = (cuts[49], cuts[89], cuts[98]) if cuts else (millis[0],) * 3
    return Summary(
        requests=len(outcomes),
        errors=errors,
        p50_ms=round(p50, 2),
        p90_ms=round(p90, 2),
        p99_ms=round(p99, 2),
        max_ms=round(millis[-1], 2),
    )


async def send(client: httpx.AsyncClient, target: Target) -> Outcome:
    start = time.perf_counter()
    try:
        response = await client.get(
            target.path, params=list(target.params), headers={"Accept": target.accept}
        )
        await response.aread()
    except httpx.HTTPError as error:
        return Outcome(target.kind, time.perf_counter() - start, f"{target.path}: {error!r}")
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        reason = response.text.strip()[:200]
        return Outcome(target.kind, elapsed, f"{target.path}: {response.status_code} {reason}")
    return Outcome(target.kind, elapsed)


async def load(
    url: str, plan: list[Target], concurrency: int, timeout: float, max_seconds: float
) -> tuple[list[Outcome], float]:
    """Send ``plan`` with ``concurrency`` workers; (outcomes, wall seconds of the run)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeouts = httpx.Timeout(timeout, connect=5.0)
    async with httpx.AsyncClient(base_url=url, timeout=timeouts, limits=limits) as client:
        for target in dict.fromkeys(plan):  # warm-up: each URL once, not counted
            warm = await send(client, target)
            if warm.error:
                raise SystemExit(f"the warm-up request failed: {warm.error}")
        queue = iter(plan)
        outcomes: list[Outcome] = []

        async def worker() -> None:
            for target in queue:  # a shared iterator: each target is taken by one worker
                outcomes.append(await send(client, target))

        start = time.perf_counter()
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        done, pending = await asyncio.wait(workers, timeout=max_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = time.perf_counter() - start
        for task in done:
            task.result()  # a bug in the worker itself must not pass silently
    missing = len(plan) - len(outcomes)
    outcomes += [Outcome("unsent", 0.0, f"not sent within --max-seconds {max_seconds}")] * missing
    return outcomes, elapsed


def start_server(port: int, log) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "hrkg", "serve", "--host", HOST, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/api/queries", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(process)
    log.seek(0)
    raise SystemExit("hrkg serve did not start:\n" + log.read().decode()[-2000:])


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def markdown(result: Result) -> str:
    lines = [
        f"{result.requests} requests at concurrency {result.concurrency} in "
        f"{result.seconds:.2f} s: **{result.throughput_rps:.0f} req/s**, "
        f"{result.overall.errors} errors (server: {result.server_workers} query workers, "
        f"answer cache {result.server_cache_bytes / 1024**2:g} MiB)",
        "",
        "| kind | requests | errors | p50 ms | p90 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, s in [*result.by_kind.items(), ("all", result.overall)]:
        lines.append(
            f"| {kind} | {s.requests} | {s.errors} | {s.p50_ms} | {s.p90_ms} | {s.p99_ms} "
            f"| {s.max_ms} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests to send (2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (30)")
    parser.add_argument(
        "--max-seconds", type=float, default=300.0, help="bound on the whole run (300)"
    )
    parser.add_argument("--seed", type=int, default=1, help="order of the mix (1)")
    parser.add_argument(
        "--output", type=Path, default=BENCHMARKS / "results" / "load.json", help="JSON results"
    )
    args = parser.parse_args(argv)
    if args.requests < 1 or not 1 <= args.concurrency <= 256:
        parser.error("--requests must be positive and --concurrency between 1 and 256")

    plan = [TARGETS[i % len(TARGETS)] for i in range(args.requests)]
    random.Random(args.seed).shuffle(plan)
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        process = start_server(port, log)
        server_malloc = active_allocator(process.pid)[0]  # the command restarts on its own
        try:
            outcomes, seconds = asyncio.run(
                load(
                    f"http://{HOST}:{port}", plan, args.concurrency, args.timeout, args.max_seconds
                )
            )
        finally:
            stop_server(process)

    kinds = sorted({o.kind for o in outcomes})
    overall = summarise(outcomes)
    answered = overall.requests - sum(o.kind == "unsent" for o in outcomes)
    result = Result(
        requests=args.requests,
        concurrency=args.concurrency,
        seconds=round(seconds, 3),
        throughput_rps=round(answered / seconds, 1) if seconds else 0.0,
        overall=overall,
        by_kind={kind: summarise([o for o in outcomes if o.kind == kind]) for kind in kinds},
        error_samples=sorted({o.error for o in outcomes if o.error})[:10],
        server_workers=int(os.environ.get("HRKG_QUERY_WORKERS", "2")),
        server_cache_bytes=ServerConfig().cache_bytes,
        machine={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": str(os.cpu_count()),
            "hrkg": version("hrkg"),
            "httpx": version("httpx"),
            "server_malloc": server_malloc,
        },
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    for sample in result.error_samples:
        print(f"error: {sample}", file=sys.stderr)
    print(f"results written to {args.output}", file=sys.stderr)
    return 1 if overall.errors else 0


if __name__ == "__main__":
    sys.exit(main())
