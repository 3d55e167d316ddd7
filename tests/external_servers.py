"""Throw-away triplestore servers for the external-store tests: Oxigraph server and Virtuoso.

Each server runs as a child process of the test session, in a temporary folder, on free
ports of the loopback interface, and is stopped at the end (terminate, then kill). A
missing server program is a test failure, not a skip: `make servers` installs Virtuoso
(Debian's virtuoso-opensource) and `make install` the Oxigraph server (the ``oxigraph``
package of the dev extra). The context managers here start them; the test module turns
them into session fixtures.

Virtuoso runs ``virtuoso-t +foreground`` on its own database, configured by
``servers/virtuoso.ini.template``; the system service the Debian package sets up is never
used. Its SPARQL endpoints: ``/sparql`` (read) and ``/sparql-auth`` (read and write,
Digest authentication; a new database's ``dba`` password is ``dba``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hrkg.allocator import undecided_environment
from hrkg.remote_store import Endpoint

VIRTUOSO_TEMPLATE = Path(__file__).parent / "servers" / "virtuoso.ini.template"
#: Seconds a server may take to answer its first query (Virtuoso creates its database).
START_SECONDS = 90.0
#: Seconds a stopped server may take to exit before it is killed.
STOP_SECONDS = 15.0
#: Virtuoso's administrator in a new database (its documented default account).
VIRTUOSO_USER = VIRTUOSO_PASSWORD = "dba"
#: Rows Virtuoso gives at most (ResultSetMaxRows): well above any stored question's answer.
VIRTUOSO_MAX_ROWS = 100_000


@dataclass(frozen=True)
class RunningServer:
    """A started server: where to query it and how to write to it."""

    name: str
    query_url: str
    update_url: str | None = None
    graph_store_url: str | None = None
    user: str | None = None
    password: str | None = None
    auth: str = "basic"

    def endpoint(self, timeout: float = 60.0) -> Endpoint:
        return Endpoint(
            query_url=self.query_url,
            update_url=self.update_url,
            graph_store_url=self.graph_store_url,
            user=self.user,
            password=self.password,
            auth=self.auth,
            timeout=timeout,
        )

    def push_options(self) -> list[str]:
        """The global options of ``hrkg push`` that write to this server."""
        if self.graph_store_url:
            return ["--graph-store", self.graph_store_url, *self.credentials()]
        return ["--update-endpoint", self.update_url or "", *self.credentials()]

    def add_options(self) -> list[str]:
        """The global options of ``hrkg add`` on this server: read it, write by Update."""
        return [
            "--endpoint",
            self.query_url,
            "--update-endpoint",
            self.update_url or "",
            *self.credentials(),
        ]

    def credentials(self) -> list[str]:
        if not self.user:
            return []
        return [
            *("--endpoint-user", self.user, "--endpoint-password", self.password or ""),
            *("--endpoint-auth", self.auth),
        ]


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ask(query_url: str) -> Callable[[], bool]:
    """A readiness check: the endpoint answers ``ASK {}`` with status 200."""

    def ready() -> bool:
        try:
            response = httpx.get(
                query_url,
                params={"query": "ASK {}"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=5.0,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    return ready


def oxigraph_program() -> str:
    """The Oxigraph server program of this environment (next to its Python), else on PATH."""
    beside_python = Path(sys.executable).parent / "oxigraph"
    found = str(beside_python) if beside_python.exists() else shutil.which("oxigraph")
    if not found:
        pytest.fail(
            "the Oxigraph server program `oxigraph` is missing: run `make install` "
            "(it comes with the dev extra: pip install -e '.[dev]')",
            pytrace=False,
        )
    return found


def virtuoso_program() -> str:
    found = shutil.which("virtuoso-t")
    if not found:
        pytest.fail(
            "Virtuoso's `virtuoso-t` is missing: run `make servers` "
            "(it installs Debian's virtuoso-opensource non-interactively)",
            pytrace=False,
        )
    return found


@contextlib.contextmanager
def running(
    name: str, command: list[str], folder: Path, ready: Callable[[], bool]
) -> Iterator[subprocess.Popen]:
    """Run ``command`` in ``folder`` until the block ends; wait until ``ready()`` first.

    Output goes to ``folder/server.log``, whose end is quoted when the server dies or
    never gets ready.
    """
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # A server runs on its own malloc, as its package ships it, even when a
            # benchmark that starts it runs on the one hrkg preloads.
            env=undecided_environment(os.environ),
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                state = (
                    f"exited with code {process.returncode}"
                    if process.poll() is not None
                    else f"did not answer within {START_SECONDS:g} s"
                )
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                pytest.fail(f"{name} {state}: {' '.join(command)}\n{tail}", pytrace=False)
            time.sleep(0.25)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def oxigraph_server(folder: Path, *, timeout_s: int | None = None) -> Iterator[RunningServer]:
    """The Oxigraph server on a store in ``folder``, its default graph the union of all."""
    folder.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{free_port()}"
    command = [oxigraph_program(), "serve", "--location", str(folder / "store")]
    command += ["--bind", base.removeprefix("http://"), "--union-default-graph"]
    if timeout_s is not None:
        command += ["--timeout-s", str(timeout_s)]
    server = RunningServer(
        "oxigraph", f"{base}/query", update_url=f"{base}/update", graph_store_url=f"{base}/store"
    )
    with running("the Oxigraph server", command, folder, answers_ask(server.query_url)):
        yield server


def virtuoso_ini(
    folder: Path, *, max_rows: int, max_seconds: int, max_estimate_seconds: int
) -> tuple[Path, int]:
    """Write ``folder/virtuoso.ini`` from the template; returns it and the HTTP port."""
    http_port = free_port()
    text = string.Template(VIRTUOSO_TEMPLATE.read_text(encoding="utf-8")).substitute(
        dir=str(folder),
        sql_port=free_port(),
        http_port=http_port,
        max_rows=max_rows,
        max_seconds=max_seconds,
        max_estimate_seconds=max_estimate_seconds,
    )
    ini = folder / "virtuoso.ini"
    ini.write_text(text, encoding="utf-8")
    return ini, http_port


@contextlib.contextmanager
def virtuoso_server(
    folder: Path,
    *,
    max_rows: int = VIRTUOSO_MAX_ROWS,
    max_seconds: int = 60,
    max_estimate_seconds: int = 0,
) -> Iterator[RunningServer]:
    """Virtuoso on a new database in ``folder``; writes go by SPARQL Update with Digest.

    ``max_estimate_seconds`` is 0 (no refusal on estimated cost) unless a test checks that
    refusal: Virtuoso's estimates vary between databases, so a limit makes tests flaky.
    """
    program = virtuoso_program()
    folder.mkdir(parents=True, exist_ok=True)
    ini, http_port = virtuoso_ini(
        folder,
        max_rows=max_rows,
        max_seconds=max_seconds,
        max_estimate_seconds=max_estimate_seconds,
    )
    base = f"http://127.0.0.1:{http_port}"
    server = RunningServer(
        "virtuoso",
        f"{base}/sparql",
        update_url=f"{base}/sparql-auth",
        user=VIRTUOSO_USER,
        password=VIRTUOSO_PASSWORD,
        auth="digest",
    )
    command = [program, "+foreground", "+configfile", str(ini)]
    with running("Virtuoso", command, folder, answers_ask(server.query_url)):
        yield server
