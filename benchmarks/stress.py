"""``hrkg serve`` under hostile load, on the loopback interface, bounded and self-stopping.

Starts the server as a user does (``hrkg serve --port <free> --timeout 2`` in its own
process on 127.0.0.1), then:

1. **Expensive next to cheap.** One client sends queries that cannot finish in time
   (three-way cartesian products, joins of ``(p|!p)*`` property paths, a sorted product
   that materialises gigabytes and may meet the workers' memory ceiling first)
   at concurrency 8 for ``--seconds`` (30; 5 with ``--quick``), while another client, from
   another loopback address (``127.0.0.2``, since the server takes turns by client
   address), sends cheap ones (``ASK``, a stored question) at concurrency 2. Expected:
   every expensive query is answered 503 (stopped at the time limit or the memory
   ceiling, or refused after waiting its turn too long), none hangs; every cheap one is
   answered correctly (errors must be 0), with p50/p99 latency
   and the longest wait for any cheap answer reported. Meanwhile the resident memory of
   the server and all its worker processes is sampled from ``/proc`` every 0.5 s; its
   maximum must stay under ``--memory-limit-gb``: by default what the server's own
   settings promise, each worker's memory ceiling (``HRKG_WORKER_MEMORY``) times the
   workers, plus :data:`SERVER_ALLOWANCE` for the server process itself.
2. **Malformed HTTP**, on raw sockets: a 64 KiB header line, 200 headers of 100 bytes,
   bad percent-encodings, invalid UTF-8 in the query string, path traversal (``/../``,
   ``/static/../..``, encoded slashes, ``/vendor/yasgui/../..``), a bogus method, a bogus
   version, a garbage request line, bodies over the size limit (declared, sent, chunked),
   conflicting lengths. Expected: each gets a 4xx (or 505 for the unknown HTTP version),
   or the server closes the connection without answering; never a 2xx or another 5xx,
   never a file from outside the served folders.
3. **Still standing.** A normal query is answered afterwards, the server is alive, and
   its log (workers included) holds no Python traceback.

Results go to ``benchmarks/results/stress.json`` (``--output``) and a summary to stdout;
the exit code is 1 when any expectation fails. The run is bounded by ``--max-seconds``
(300; 120 with ``--quick``) and stops the server, and any worker it left, by process id.
Linux only (memory is read from ``/proc``). Traffic goes to 127.0.0.1 only::

    python benchmarks/stress.py [--quick] [--seconds 30] [--memory-limit-gb G]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote

import httpx
from rdflib.namespace import RDFS

import load
from hrkg.allocator import active_allocator
from hrkg.server.config import ServerConfig

BENCHMARKS = Path(__file__).resolve().parent
HOST = "127.0.0.1"
#: Memory the server process itself may use beside its workers and its answer cache (at the
#: Mali data it stays near 200 MiB).
SERVER_ALLOWANCE = 512 * 1024**2
#: Where the cheap client connects from: another address, so another client to the server.
CHEAP_SOURCE = "127.0.0.2"
SPARQL_JSON = "application/sparql-results+json"
LABEL = f"<{RDFS.label}>"
ANY_STEP = f"({LABEL}|!{LABEL})*"
#: Queries that cannot finish within a 2 s limit on the Mali data (2,119 quads).
EXPENSIVE = {
    "cartesian-count": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    # Sorting materialises the product: this one is after memory rather than time.
    "sorted-product": "SELECT ?a ?c ?f WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?a",
    "path-join": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s {ANY_STEP} ?o . ?o {ANY_STEP} ?x . "
    f"?x {ANY_STEP} ?y }}",
    "path-sequence": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s {ANY_STEP}/{ANY_STEP}/{ANY_STEP} ?o . "
    "?a ?b ?c }",
}
CHEAP = {
    "ask": ("/sparql", {"query": "ASK { ?s ?p ?o }"}),
    "question": ("/api/queries/office-holders", {}),
}
#: Numbers that make each query text unique (see :func:`unique`).
REQUEST_NUMBERS = itertools.count(1)
#: Seconds a malformed request may go unanswered (and the connection open) before it is a hang.
RAW_TIMEOUT = 15.0
#: Bytes of files outside the served folders that a traversal must never return.
LEAK_MARKERS = (b"root:x:0:0", b"[build-system]", b'"devDependencies"', b'"dependencies"')


@dataclass
class Latencies:
    """Requests of one kind: how many, how they ended, and latency of the good ones (ms)."""

    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    error_samples: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    kind: str
    seconds: float
    status: str
    error: str | None = None
    #: When the answer came (time.monotonic()), to find the longest wait between answers.
    finished: float = field(default_factory=time.monotonic)


def summarise(outcomes: list[Outcome]) -> Latencies:
    good = sorted(o.seconds * 1000 for o in outcomes if o.error is None)
    result = Latencies(
        requests=len(outcomes),
        errors=sum(o.error is not None for o in outcomes),
        statuses=dict(sorted(Counter(o.status for o in outcomes).items())),
        error_samples=sorted({o.error for o in outcomes if o.error})[:5],
    )
    if good:
        cuts = statistics.quantiles(good, n=100, method="inclusive") if len(good) > 1 else None
        result.p50_ms = round(cuts[49] if cuts else good[0], 1)
        result.p99_ms = round(cuts[98] if cuts else good[0], 1)
        result.max_ms = round(good[-1], 1)
    return result


# -- the server and its memory -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


#: The server runs without its answer cache: every query the clients send must reach the
#: workers, since the workers under load are what is measured.
SERVER_ENVIRONMENT = {"HRKG_CACHE_BYTES": "0"}


def start_server(port: int, timeout: float, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "hrkg", "serve", "--host", HOST, "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--timeout", str(timeout)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **SERVER_ENVIRONMENT},
    )
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/api/queries", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    stop_server(process, set())
    log.seek(0)
    raise SystemExit("hrkg serve did not start:\n" + log.read().decode()[-2000:])


def stop_server(process: subprocess.Popen, seen: set[int]) -> None:
    """SIGTERM (uvicorn shuts down and stops the workers), SIGKILL if that hangs; then any
    worker process seen during the run that is somehow still there."""
    load.stop_server(process)
    for pid in seen - {process.pid}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def descendants(root: int) -> set[int]:
    """The process and every process below it, from the ppid fields of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


def resident_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


class MemorySampler(threading.Thread):
    """Every ``interval`` s: the summed RSS of the server and its descendants."""

    def __init__(self, root: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.samples: list[int] = []
        self.max_processes = 0
        self.seen: set[int] = set()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = descendants(self.root)
            self.seen |= pids
            self.max_processes = max(self.max_processes, len(pids))
            self.samples.append(sum(resident_bytes(pid) for pid in pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


# -- phase 1: expensive and cheap queries side by side ---------------------------------------


def unique(query: str) -> str:
    """The query with a comment of its own, so that identical queries running at the same
    time are not answered by one run (as the server does), as a hostile client would."""
    return f"{query}\n# {next(REQUEST_NUMBERS)}"


async def expensive_request(client: httpx.AsyncClient, kind: str) -> Outcome:
    start = time.perf_counter()
    try:
        response = await client.get("/sparql", params={"query": unique(EXPENSIVE[kind])})
    except httpx.TimeoutException:
        return Outcome(kind, time.perf_counter() - start, "hang", f"{kind}: no answer (hang)")
    except httpx.HTTPError as error:
        return Outcome(kind, time.perf_counter() - start, "transport", f"{kind}: {error!r}")
    elapsed = time.perf_counter() - start
    status = str(response.status_code)
    if response.status_code != 503:
        return Outcome(kind, elapsed, status, f"{kind}: {status} {response.text.strip()[:160]}")
    # Stopped at the time limit, its worker killed at the memory ceiling, or never run
    # because its turn did not come in time (with Retry-After): all are 503.
    if "retry-after" in response.headers:
        stopped_by = "busy"
    else:
        stopped_by = "time" if "was stopped" in response.text else "worker stopped"
    return Outcome(kind, elapsed, f"503 ({stopped_by})")


async def cheap_request(client: httpx.AsyncClient, kind: str) -> Outcome:
    path, params = CHEAP[kind]
    if "query" in params:
        params = {"query": unique(params["query"])}
    start = time.perf_counter()
    try:
        response = await client.get(path, params=params, headers={"accept": SPARQL_JSON})
    except httpx.HTTPError as error:
        return Outcome(kind, time.perf_counter() - start, "transport", f"{kind}: {error!r}")
    elapsed = time.perf_counter() - start
    status = str(response.status_code)
    if response.status_code != 200:
        return Outcome(kind, elapsed, status, f"{kind}: {status} {response.text.strip()[:160]}")
    try:
        document = response.json()
        right = (
            document["boolean"] is True
            if kind == "ask"
            else len(document["results"]["bindings"]) == 4
        )
    except (ValueError, KeyError, TypeError):
        right = False
    error = None if right else f"{kind}: wrong answer {response.text[:160]}"
    return Outcome(kind, elapsed, status, error)


async def keep_sending(
    url: str,
    concurrency: int,
    kinds: list[str],
    send,
    until: float,
    timeout: float,
    max_requests: int,
    source: str | None = None,
) -> list[Outcome]:
    """``concurrency`` loops, each sending the next kind in turn, until ``until`` or until
    ``max_requests`` have been sent; from the address ``source`` if given."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.AsyncHTTPTransport(limits=limits, local_address=source)
    timeouts = httpx.Timeout(timeout, connect=10.0)
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(base_url=url, timeout=timeouts, transport=transport) as client:
        sent = 0

        async def loop(offset: int) -> None:
            nonlocal sent
            turn = offset
            while time.monotonic() < until and sent < max_requests:
                sent += 1
                outcomes.append(await send(client, kinds[turn % len(kinds)]))
                turn += 1

        await asyncio.gather(*(loop(i) for i in range(concurrency)))
    return outcomes


# -- phase 2: malformed HTTP on raw sockets ---------------------------------------------------


@dataclass
class RawCase:
    """Bytes to send on a fresh connection (the body may go out in chunks)."""

    name: str
    head: bytes
    body_chunks: int = 0
    chunk: bytes = b""
    #: A status outside 4xx that is right for this case (505 for an unknown HTTP version).
    also_right: int | None = None


def raw_cases(max_body: int) -> list[RawCase]:
    ask = quote("ASK { ?s ?p ?o }")
    host = b"Host: 127.0.0.1\r\n"

    def get(target: bytes, extra: bytes = b"") -> bytes:
        return b"GET " + target + b" HTTP/1.1\r\n" + host + extra + b"Connection: close\r\n\r\n"

    over = max_body + 1024 * 1024
    chunk = b"#" * 65536
    chunked_body = (b"%x\r\n" % len(chunk)) + chunk + b"\r\n"
    post = b"POST /sparql HTTP/1.1\r\n" + host + b"Content-Type: application/sparql-query\r\n"
    return [
        RawCase("header line of 64 KiB", get(b"/sparql", b"X-Big: " + b"a" * 65600 + b"\r\n")),
        RawCase(
            "200 headers of 100 bytes",
            get(b"/sparql", b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(200))),
        ),
        RawCase("bad percent-encoding %zz", get(b"/sparql?query=%zz")),
        RawCase("overlong UTF-8 %C0%AF", get(b"/api/queries/reports?year=%C0%AF")),
        RawCase("overlong UTF-8 in a path", get(b"/id/%C0%AF%C0%AF/etc/passwd")),
        RawCase("invalid UTF-8 in the query string", get(b"/sparql?query=ASK\xff\xfe{}")),
        RawCase("invalid UTF-8 in a question", get(b"/api/queries/entity?label=\xff\xc0\xaf")),
        RawCase("NUL in the query string", get(b"/sparql?query=ASK%00{}")),
        RawCase("traversal /../../etc/passwd", get(b"/../../etc/passwd")),
        RawCase("traversal /static/../../pyproject.toml", get(b"/static/../../pyproject.toml")),
        RawCase(
            "traversal /static/%2e%2e/%2e%2e/pyproject.toml",
            get(b"/static/%2e%2e/%2e%2e/pyproject.toml"),
        ),
        RawCase("traversal /id/../..%2f..%2fetc/passwd", get(b"/id/../..%2f..%2fetc/passwd")),
        RawCase(
            "traversal /vendor/yasgui/../../../../package.json",
            get(b"/vendor/yasgui/../../../../package.json"),
        ),
        RawCase(
            "traversal /static/..%5c..%5cpyproject.toml", get(b"/static/..%5c..%5cpyproject.toml")
        ),
        RawCase(
            "bogus method",
            b"FROB /sparql?query=" + ask.encode() + b" HTTP/1.1\r\n" + host + b"\r\n",
        ),
        RawCase(
            "bogus version",
            b"GET /sparql?query=" + ask.encode() + b" HTTP/7.3\r\n" + host + b"\r\n",
            also_right=505,  # HTTP Version Not Supported (RFC 9110, 15.6.6)
        ),
        RawCase(
            "garbage request line", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 hello\r\n\r\n"
        ),
        RawCase("request line without version", b"GET /sparql\r\n\r\n"),
        RawCase("header without a colon", get(b"/sparql", b"this is not a header\r\n")),
        RawCase("negative Content-Length", post + b"Content-Length: -1\r\n\r\n"),
        RawCase(
            "conflicting Content-Length",
            post + b"Content-Length: 5\r\nContent-Length: 50\r\n\r\nASK {",
        ),
        RawCase(
            "Content-Length with chunked",
            post + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        RawCase(
            f"declared body of {over:,} bytes",
            post + b"Content-Length: %d\r\n\r\n" % over,
            over // len(chunk) + 1,
            chunk,
        ),
        RawCase(
            f"chunked body of {over:,} bytes",
            post + b"Transfer-Encoding: chunked\r\n\r\n",
            over // len(chunk) + 1,
            chunked_body,
        ),
        RawCase(
            "query string of 200 KiB",
            get(b"/sparql?query=" + quote("ASK {} #" + "x" * 200_000).encode()),
        ),
    ]


@dataclass
class RawResult:
    name: str
    ok: bool
    status: int | None
    detail: str


async def send_raw(port: int, case: RawCase, timeout: float) -> RawResult:
    """Send the case; read the status line, or see the connection closed without one."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
    except (OSError, asyncio.TimeoutError) as error:
        return RawResult(case.name, False, None, f"cannot connect: {error!r}")

    async def write_all() -> None:
        try:
            writer.write(case.head)
            await writer.drain()
            for _ in range(case.body_chunks):
                writer.write(case.chunk)
                await writer.drain()
            if case.body_chunks and case.chunk.endswith(b"\r\n"):
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the server stopped reading: fine, its answer is what counts

    async def read_answer() -> bytes:
        """One answer: its head, then as much body as Content-Length says (keep-alive
        connections stay open, so the end of the answer is not the end of the stream)."""
        data = b""
        with contextlib.suppress(ConnectionError, OSError):
            while b"\r\n\r\n" not in data and len(data) < 1_000_000:
                piece = await reader.read(65536)
                if not piece:
                    return data
                data += piece
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.lower().split(b"\r\n")
                    if line.startswith(b"content-length:")
                    and line.split(b":", 1)[1].strip().isdigit()
                ),
                0,
            )
            while len(body) < min(length, 1_000_000):
                piece = await reader.read(65536)
                if not piece:
                    break
                body += piece
            data = head + b"\r\n\r\n" + body
        return data

    sending = asyncio.create_task(write_all())
    try:
        data: bytes | None = await asyncio.wait_for(read_answer(), timeout)
    except asyncio.TimeoutError:
        data = None
    sending.cancel()
    await asyncio.gather(sending, return_exceptions=True)
    writer.close()
    with contextlib.suppress(ConnectionError, OSError, asyncio.TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 2)
    if data is None:
        return RawResult(case.name, False, None, f"no answer and not closed within {timeout} s")
    if not data:
        return RawResult(case.name, True, None, "closed by the server without an answer")
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return RawResult(case.name, False, None, f"not an HTTP answer: {line[:80]!r}")
    status = int(parts[1])
    leaked = [marker.decode() for marker in LEAK_MARKERS if marker in data]
    ok = (400 <= status < 500 or status == case.also_right) and not leaked
    detail = line + (f"; LEAKED {leaked}" if leaked else "")
    return RawResult(case.name, ok, status, detail)


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Expectation:
    name: str
    ok: bool
    detail: str


@dataclass
class Result:
    mode: str
    load_seconds: float
    server_timeout_s: float
    expensive_concurrency: int
    cheap_concurrency: int
    expensive: Latencies
    expensive_by_query: dict[str, Latencies]
    cheap: Latencies
    cheap_by_kind: dict[str, Latencies]
    #: The longest time, from the start of the load, without any cheap answer.
    cheap_longest_wait_s: float
    memory_max_bytes: int
    memory_bound_bytes: int
    memory_samples: int
    max_processes: int
    malformed: list[RawResult]
    after: str
    expectations: list[Expectation]
    #: The exception line of each Python traceback in the server's log (workers included).
    server_tracebacks: list[str]
    wall_seconds: float
    machine: dict[str, str] = field(default_factory=dict)


async def run(port: int, args: argparse.Namespace) -> dict:
    url = f"http://{HOST}:{port}"
    started = time.monotonic()
    until = started + args.seconds
    common = {"until": until, "timeout": args.client_timeout, "max_requests": args.max_requests}
    expensive, cheap = await asyncio.gather(
        keep_sending(url, args.expensive_concurrency, list(EXPENSIVE), expensive_request, **common),
        keep_sending(
            url, args.cheap_concurrency, list(CHEAP), cheap_request, **common, source=CHEAP_SOURCE
        ),
    )
    malformed = [
        await send_raw(port, case, RAW_TIMEOUT) for case in raw_cases(ServerConfig().max_body_bytes)
    ]
    try:
        async with httpx.AsyncClient(base_url=url, timeout=args.client_timeout) as client:
            response = await client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        after = f"{response.status_code} {response.text.strip()[:80]}"
        after_ok = response.status_code == 200 and response.json().get("boolean") is True
    except (httpx.HTTPError, ValueError) as error:
        after, after_ok = repr(error), False
    return {
        "started": started,
        "expensive": expensive,
        "cheap": cheap,
        "malformed": malformed,
        "after": after,
        "after_ok": after_ok,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s of load (for CI)")
    parser.add_argument("--seconds", type=float, help="seconds of load (30; 5 with --quick)")
    parser.add_argument("--timeout", type=float, default=2.0, help="server query timeout (2)")
    parser.add_argument("--expensive-concurrency", type=int, default=8)
    parser.add_argument("--cheap-concurrency", type=int, default=2)
    parser.add_argument(
        "--client-timeout", type=float, default=60.0, help="seconds before a request is a hang"
    )
    parser.add_argument(
        "--memory-limit-gb",
        type=float,
        help="RSS bound (default: the workers' memory ceilings plus 0.5 GiB for the server)",
    )
    parser.add_argument(
        "--max-requests", type=int, help="requests per client at most (5000; 500 with --quick)"
    )
    parser.add_argument("--max-seconds", type=float, help="bound on the run (300; 120 quick)")
    parser.add_argument(
        "--output", type=Path, default=BENCHMARKS / "results" / "stress.json", help="JSON results"
    )
    args = parser.parse_args(argv)
    if args.seconds is None:
        args.seconds = 5.0 if args.quick else 30.0
    if args.max_seconds is None:
        args.max_seconds = 120.0 if args.quick else 300.0
    if args.max_requests is None:
        args.max_requests = 500 if args.quick else 5000
    if not (0 < args.seconds < args.max_seconds and 1 <= args.expensive_concurrency <= 64):
        parser.error("--seconds must be positive and under --max-seconds; concurrency 1-64")

    started = time.monotonic()
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = start_server(port, args.timeout, log)
        server_malloc = active_allocator(process.pid)[0]  # the command restarts on its own
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            outcome = asyncio.run(asyncio.wait_for(run(port, args), args.max_seconds))
            timed_out = False
        except asyncio.TimeoutError:
            outcome, timed_out = None, True
        finally:
            sampler.stop()
            alive = process.poll() is None
            stop_server(process, sampler.seen)
        log.seek(0)
        server_log = log.read().decode(errors="replace")

    bound = (
        int(args.memory_limit_gb * 1024**3)
        if args.memory_limit_gb is not None
        else promised_memory(ServerConfig(cache_bytes=0))
    )
    memory_max = max(sampler.samples, default=0)
    expectations = [
        Expectation("the run ended within --max-seconds", not timed_out, f"{args.max_seconds} s"),
        Expectation("the server stayed up", alive, "alive" if alive else "it exited"),
        Expectation(
            "memory stayed under the bound",
            0 < memory_max <= bound,
            f"max {memory_max / 1024**2:,.0f} MiB of {bound / 1024**2:,.0f} MiB",
        ),
    ]  # fmt: skip
    if outcome is None:
        print(f"the run went past --max-seconds {args.max_seconds}", file=sys.stderr)
        print(server_log[-2000:], file=sys.stderr)
        return 1
    expensive = summarise(outcome["expensive"])
    cheap = summarise(outcome["cheap"])
    tracebacks = traceback_lines(server_log)
    malformed: list[RawResult] = outcome["malformed"]
    expectations += [
        Expectation(
            "every expensive query answered 503, none hanging",
            expensive.requests > 0 and expensive.errors == 0,
            f"{expensive.requests - expensive.errors} of {expensive.requests} answered 503 "
            f"{expensive.statuses}"
            + (f"; {expensive.error_samples[0]}" if expensive.error_samples else ""),
        ),
        Expectation(
            "every cheap query answered right",
            cheap.requests > 0 and cheap.errors == 0,
            f"{cheap.requests} requests, {cheap.errors} errors",
        ),
        *(Expectation(f"malformed: {r.name}", r.ok, r.detail) for r in malformed),
        Expectation("a normal query answered afterwards", outcome["after_ok"], outcome["after"]),
        Expectation(
            "no traceback in the server's log",
            not tracebacks,
            "; ".join(tracebacks)[:300] or "none",
        ),
    ]
    result = Result(
        mode="quick" if args.quick else "full",
        load_seconds=args.seconds,
        server_timeout_s=args.timeout,
        expensive_concurrency=args.expensive_concurrency,
        cheap_concurrency=args.cheap_concurrency,
        expensive=expensive,
        expensive_by_query={
            kind: summarise([o for o in outcome["expensive"] if o.kind == kind])
            for kind in EXPENSIVE
        },
        cheap=cheap,
        cheap_by_kind={
            kind: summarise([o for o in outcome["cheap"] if o.kind == kind]) for kind in CHEAP
        },
        cheap_longest_wait_s=longest_wait(outcome["started"], outcome["cheap"]),
        memory_max_bytes=memory_max,
        memory_bound_bytes=bound,
        memory_samples=len(sampler.samples),
        max_processes=sampler.max_processes,
        malformed=malformed,
        after=outcome["after"],
        expectations=expectations,
        server_tracebacks=tracebacks,
        wall_seconds=round(time.monotonic() - started, 1),
        machine={
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": str(os.cpu_count()),
            "hrkg": version("hrkg"),
            "uvicorn": version("uvicorn"),
            "pyoxigraph": version("pyoxigraph"),
            "server_malloc": server_malloc,
        },
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    print(report(result))
    print(f"results written to {args.output}", file=sys.stderr)
    failed = [e for e in expectations if not e.ok]
    if failed and server_log.strip():
        print("server log (end):\n" + server_log[-2000:], file=sys.stderr)
    return 1 if failed else 0


def promised_memory(config: ServerConfig) -> int:
    """What the server's settings bound its memory to: each worker's ceiling, plus the
    server's own allowance. Without a worker ceiling nothing is promised: no bound."""
    if not config.worker_memory_bytes:
        raise SystemExit("no worker memory ceiling (HRKG_WORKER_MEMORY=0): give --memory-limit-gb")
    return config.workers * config.worker_memory_bytes + config.cache_bytes + SERVER_ALLOWANCE


def traceback_lines(log: str) -> list[str]:
    """The last line (the exception) of each Python traceback in a log."""
    found, inside = [], False
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            inside = True
        elif inside and line and not line.startswith((" ", "\t")):
            found.append(line.strip())
            inside = False
    return found


def longest_wait(started: float, outcomes: list[Outcome]) -> float:
    """The longest stretch from ``started`` with no good answer among ``outcomes``."""
    times = [started, *sorted(o.finished for o in outcomes if o.error is None)]
    return round(max(b - a for a, b in itertools.pairwise(times)), 2) if times[1:] else 0.0


def report(result: Result) -> str:
    e, c = result.expensive, result.cheap
    lines = [
        f"{result.mode} run: {result.load_seconds:g} s of load, server timeout "
        f"{result.server_timeout_s:g} s, wall {result.wall_seconds} s",
        f"expensive (concurrency {result.expensive_concurrency}): {e.requests} requests, "
        f"statuses {e.statuses}, latency p50 {e.p50_ms} ms p99 {e.p99_ms} ms max {e.max_ms} ms",
        f"cheap (concurrency {result.cheap_concurrency}): {c.requests} requests, {c.errors} "
        f"errors, p50 {c.p50_ms} ms, p99 {c.p99_ms} ms, max {c.max_ms} ms, longest wait "
        f"for any cheap answer {result.cheap_longest_wait_s} s",
        f"memory: max {result.memory_max_bytes / 1024**2:,.0f} MiB over {result.memory_samples} "
        f"samples (bound {result.memory_bound_bytes / 1024**2:,.0f} MiB), up to "
        f"{result.max_processes} processes",
        "",
        "| expectation | ok | detail |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {x.name} | {'yes' if x.ok else 'NO'} | {x.detail} |" for x in result.expectations]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
