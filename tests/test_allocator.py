"""hrkg's processes restart on mimalloc (hrkg.allocator): real processes, real loader.

What each process runs on is read from the process itself (``hrkg --version`` reads its own
memory map; the server's is read from /proc), not from the environment it was given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from external_servers import free_port, running
from hrkg.allocator import (
    CHOICE_VARIABLE,
    FASTER_QUESTIONS_OPTIONS,
    AllocatorError,
    active_allocator,
    chosen_library,
    preloaded_environment,
    undecided_environment,
)
from test_generate import BENCHMARKS, benchmark_module

REPO_ROOT = Path(__file__).resolve().parents[1]
MIMALLOC = chosen_library({})
needs_mimalloc = pytest.mark.skipif(
    MIMALLOC is None, reason="mimalloc is not on this machine (`make allocator` installs it)"
)


def _huge_pages_mode() -> str | None:
    """When the kernel gives transparent huge pages: "always", "madvise" (to memory a
    process asks them for, as mimalloc does), "never", or None where it cannot say."""
    try:
        setting = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return None
    return setting.partition("[")[2].partition("]")[0] or None


HUGE_PAGES_MODE = _huge_pages_mode()
needs_huge_pages = pytest.mark.skipif(
    HUGE_PAGES_MODE not in ("always", "madvise"),
    reason=f"this kernel gives no transparent huge pages ({HUGE_PAGES_MODE})",
)
#: Whether a process that does not ask for huge pages gets none (else the kernel decides).
only_asked_get_huge_pages = HUGE_PAGES_MODE == "madvise"

#: The two ways a user starts the command line.
ENTRY_POINTS = {
    "console script": [str(Path(sys.executable).with_name("hrkg"))],
    "python -m hrkg": [sys.executable, "-m", "hrkg"],
}


def _environment(**changes: str | None) -> dict[str, str]:
    """This environment without hrkg's allocator variables, with ``changes`` applied (None:
    the variable is unset)."""
    environment = undecided_environment(os.environ)
    for name, value in changes.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def _run(entry: list[str], *args: str, **changes: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*entry, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_environment(**changes),
    )


@needs_mimalloc
@pytest.mark.parametrize("entry", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_the_command_line_runs_on_mimalloc(entry: list[str]) -> None:
    completed = _run(entry, "--version")
    assert completed.returncode == 0, completed.stderr
    assert "malloc: mimalloc (" in completed.stdout
    # The restarted process runs the command once: one version banner, no loader warning.
    assert completed.stdout.count("hrkg ") == 1
    assert "ld.so" not in completed.stderr


@needs_mimalloc
def test_a_library_named_by_path_is_preloaded() -> None:
    completed = _run(ENTRY_POINTS["console script"], "--version", **{CHOICE_VARIABLE: MIMALLOC})
    assert completed.returncode == 0, completed.stderr
    [line] = [line for line in completed.stdout.splitlines() if "malloc: " in line]
    name, _, path = line.partition("malloc: ")[2].partition(" (")
    assert name == "mimalloc"
    assert Path(path.rstrip(")")).resolve() == Path(MIMALLOC).resolve()


@needs_mimalloc
def test_the_command_answers_the_same_on_mimalloc() -> None:
    """A whole question through the restarted process: same rows as on the C library's
    malloc."""
    entry = ENTRY_POINTS["console script"]
    args = ("query", "run", "office-holders", "--format", "csv")
    on_mimalloc = _run(entry, *args)
    on_system = _run(entry, *args, **{CHOICE_VARIABLE: "system"})
    assert on_mimalloc.returncode == on_system.returncode == 0, on_mimalloc.stderr
    assert on_mimalloc.stdout == on_system.stdout
    assert "Diouncounda Traoré" in on_mimalloc.stdout


@needs_mimalloc
def test_the_version_names_the_mimalloc_options_in_effect() -> None:
    """What a Python session must set besides LD_PRELOAD to run as the command does."""
    entry = ENTRY_POINTS["console script"]
    none_set = {name: None for name in os.environ if name.startswith("MIMALLOC_")}
    plain = _run(entry, "--version", **none_set)
    assert plain.returncode == 0, plain.stderr
    assert "mimalloc options" not in plain.stdout
    with_options = _run(entry, "--version", **{**none_set, **FASTER_QUESTIONS_OPTIONS})
    assert with_options.returncode == 0, with_options.stderr
    expected = " ".join(
        f"{name}={value}" for name, value in sorted(FASTER_QUESTIONS_OPTIONS.items())
    )
    assert f"mimalloc options: {expected}" in with_options.stdout.splitlines()


@pytest.mark.parametrize("entry", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_system_keeps_the_c_librarys_malloc(entry: list[str]) -> None:
    completed = _run(entry, "--version", **{CHOICE_VARIABLE: "system"})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1].endswith("malloc: system")


def test_a_missing_library_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "libmissing.so"
    completed = _run(ENTRY_POINTS["console script"], "stats", **{CHOICE_VARIABLE: str(missing)})
    assert completed.returncode == 2
    assert completed.stdout == ""  # nothing was run
    assert f"{CHOICE_VARIABLE}: no library at {missing}" in completed.stderr
    assert "hint: set it to the path of libmimalloc.so.2, or to 'system'" in completed.stderr
    assert "Traceback" not in completed.stderr


@contextmanager
def _serving(**changes: str | None) -> Iterator[subprocess.Popen]:
    """``hrkg serve`` on the Mali data, started as a user starts it, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [*ENTRY_POINTS["python -m hrkg"], "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_environment(**changes),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/queries", timeout=2).is_success:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "hrkg serve exited"
            assert time.monotonic() < deadline, "hrkg serve did not answer within 60 s"
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        assert process.wait(timeout=30) is not None


@needs_mimalloc
def test_the_server_keeps_its_process_id() -> None:
    """The restart replaces the program in place: whoever started ``hrkg serve`` still
    holds its process (to signal, to wait for), and that process runs on mimalloc."""
    with _serving() as process:
        name, path = active_allocator(process.pid)
        assert name == "mimalloc"
        assert Path(path).resolve() == Path(MIMALLOC).resolve()


@needs_mimalloc
@needs_huge_pages
@pytest.mark.parametrize("with_options", [True, False], ids=["with-options", "without"])
def test_mimalloc_options_pass_through_the_restart(with_options: bool) -> None:
    """A user's ``MIMALLOC_*`` options reach the restarted process: with the faster-questions
    options the server holds its store on huge pages (read from its own memory map); hrkg
    sets none, so without them it holds none."""
    if not with_options and not only_asked_get_huge_pages:
        pytest.skip(f"the kernel gives huge pages unasked ({HUGE_PAGES_MODE})")
    huge_pages_kb = benchmark_module("process_memory").huge_pages_kb
    options = FASTER_QUESTIONS_OPTIONS if with_options else dict.fromkeys(FASTER_QUESTIONS_OPTIONS)
    with _serving(**options) as process:
        assert (huge_pages_kb(process.pid) > 0) is with_options


@pytest.mark.parametrize(
    ("environ", "expected_preload"),
    [
        ({CHOICE_VARIABLE: "system"}, None),
        ({CHOICE_VARIABLE: "system", "LD_PRELOAD": "libother.so"}, "libother.so"),
        ({CHOICE_VARIABLE: sys.executable}, sys.executable),
        (
            {CHOICE_VARIABLE: sys.executable, "LD_PRELOAD": "libother.so"},
            f"{sys.executable} libother.so",
        ),
        # Already first or elsewhere in the list: not added twice.
        (
            {CHOICE_VARIABLE: sys.executable, "LD_PRELOAD": f"libother.so {sys.executable}"},
            f"libother.so {sys.executable}",
        ),
    ],
    ids=["system", "system-keeps-others", "path", "path-before-others", "already-there"],
)
def test_the_preload_list(environ: dict[str, str], expected_preload: str | None) -> None:
    """Any existing file can be named (the interpreter stands in for a library here: the
    list is only built, nothing is loaded)."""
    environment = preloaded_environment(environ)
    assert environment.get("LD_PRELOAD") == expected_preload
    assert {k: v for k, v in environment.items() if k != "LD_PRELOAD"} == {
        k: v for k, v in environ.items() if k != "LD_PRELOAD"
    }


def test_a_folder_is_not_a_library(tmp_path: Path) -> None:
    with pytest.raises(AllocatorError, match="no library at"):
        preloaded_environment({CHOICE_VARIABLE: str(tmp_path)})


@needs_mimalloc
def test_unset_finds_mimalloc_and_puts_it_first() -> None:
    environment = preloaded_environment({"LD_PRELOAD": "libother.so"})
    assert environment["LD_PRELOAD"] == f"{MIMALLOC} libother.so"


def test_a_process_that_is_gone_counts_as_system() -> None:
    process = subprocess.Popen(["true"])
    process.wait(timeout=30)
    assert active_allocator(process.pid) == ("system", None)


def _once_linked(process_id: int) -> int:
    """Wait until the dynamic loader has mapped the C library into the process (it maps
    preloaded libraries before it), so that its memory map tells its ``malloc``."""
    deadline = time.monotonic() + 30
    while "libc.so" not in Path(f"/proc/{process_id}/maps").read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "the process never mapped the C library"
        time.sleep(0.01)
    return process_id


@needs_mimalloc
def test_external_servers_run_on_their_own_malloc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A benchmark restarted on mimalloc starts the Oxigraph server and Virtuoso through
    ``external_servers.running``: they must not inherit hrkg's preload, or their timings
    would not be those of the servers as shipped."""
    monkeypatch.setenv("LD_PRELOAD", MIMALLOC)
    monkeypatch.setenv("HRKG_MALLOC_RESTARTED", "1")
    inheriting = subprocess.Popen(["sleep", "30"])
    try:
        with running("sleep", ["sleep", "30"], tmp_path, lambda: True) as server:
            assert active_allocator(_once_linked(inheriting.pid))[0] == "mimalloc"
            assert active_allocator(_once_linked(server.pid)) == ("system", None)
    finally:
        inheriting.kill()
        inheriting.wait(timeout=30)


#: The benchmark scripts whose figures are hrkg's own processes (in the script or in the
#: workers it starts): each chooses its malloc first, as the hrkg command does. load.py and
#: stress.py only send requests; the `hrkg serve` they start restarts by itself.
RESTARTING_SCRIPTS = [
    "answer_cache", "engine_growth", "export_memory", "export_processes", "external_stores",
    "instruction_growth", "run", "server_workers", "validation", "warming",
]  # fmt: skip


@pytest.mark.parametrize("script", RESTARTING_SCRIPTS)
def test_benchmark_scripts_choose_their_malloc_first(script: str, tmp_path: Path) -> None:
    """A missing library stops the script before it reads an option or writes a file."""
    missing = tmp_path / "libmissing.so"
    finished = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{script}.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(**{CHOICE_VARIABLE: str(missing)}),
        check=False,
    )
    assert finished.returncode == 2, finished.stdout + finished.stderr
    assert finished.stdout == ""  # not even the help
    assert f"{CHOICE_VARIABLE}: no library at {missing}" in finished.stderr


def test_every_benchmark_script_is_classified() -> None:
    """A new script that measures hrkg in its own process joins the list above."""
    scripts = {p.stem for p in BENCHMARKS.glob("*.py")}
    helpers = {"generate", "process_memory", "allocator"}  # no figures, or its own A/B
    clients = {"load", "stress"}
    assert scripts - helpers - clients == set(RESTARTING_SCRIPTS)


# benchmarks/allocator.py: the A/B measurement behind the choice, run for real on a small
# generated dataset (one round: one process per malloc).


@pytest.fixture(scope="module")
def allocator_benchmark(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("allocator")
    command = [
        sys.executable, str(BENCHMARKS / "allocator.py"), "--scale", "2k", "--repeat", "1",
        "--data-dir", str(folder / "data"), "--results", str(folder),
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads((folder / "allocator-2k.json").read_text(encoding="utf-8")), folder


@needs_mimalloc
def test_each_side_ran_on_its_malloc(allocator_benchmark: tuple[dict, Path]) -> None:
    record, _ = allocator_benchmark
    assert {name: [r["malloc"] for r in runs] for name, runs in record["rounds"].items()} == {
        "system": ["system"],
        "mimalloc": ["mimalloc"],
        "mimalloc, faster-questions options": ["mimalloc"],
    }
    options = {name: runs[0]["options"] for name, runs in record["rounds"].items()}
    assert options == {
        "system": dict.fromkeys(FASTER_QUESTIONS_OPTIONS),
        "mimalloc": dict.fromkeys(FASTER_QUESTIONS_OPTIONS),
        "mimalloc, faster-questions options": FASTER_QUESTIONS_OPTIONS,
    }


@needs_mimalloc
@needs_huge_pages
def test_only_the_side_with_the_options_ran_on_huge_pages(
    allocator_benchmark: tuple[dict, Path],
) -> None:
    record, _ = allocator_benchmark
    huge = {name: runs[0]["huge_pages_mb"] for name, runs in record["rounds"].items()}
    assert huge["mimalloc, faster-questions options"] > 0
    if only_asked_get_huge_pages:
        assert huge["system"] == huge["mimalloc"] == 0


@needs_mimalloc
@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO_ROOT / "queries").glob("*.rq")))
def test_every_question_is_timed_on_every_side_with_the_rows_it_gives(
    allocator_benchmark: tuple[dict, Path], name: str
) -> None:
    record, folder = allocator_benchmark
    side = benchmark_module("run").HrkgSide(folder / "data" / "2k", None)
    side.load()
    rows = side.query(side.plan()[name]["text"])
    for runs in record["rounds"].values():
        assert runs[0]["questions"][name]["rows"] == rows
        assert runs[0]["questions"][name]["seconds"] > 0
    entry = next(e for e in record["summary"] if e["operation"] == f"question:{name}")
    assert entry["ratio"] == pytest.approx(entry["system"] / entry["mimalloc"])
    with_options = entry["mimalloc, faster-questions options"]
    assert entry["ratio_options"] == pytest.approx(with_options / entry["mimalloc"])
