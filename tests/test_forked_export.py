"""The export written by two processes (hrkg.forked_export): the same bytes as one process
writes, and one process whenever two would be unsafe or fail.

Each export runs in a fresh interpreter (``tests/export_probe.py``), which counts the forks:
the test process itself has the threads of other tests' servers, and the two-process
export is never made from a process with threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from hrkg.errors import ExportError
from hrkg.forked_export import MIN_SUBJECTS, two_processes_allowed

PROBE = Path(__file__).with_name("export_probe.py")
BENCHMARKS = REPO_ROOT / "benchmarks"
#: The formats a second process may write half of; RDF/XML never is.
SPLIT_FORMATS = ["turtle", "ntriples"]


def probe(case: str, processes: str | None, *args: str, data_dir: Path = REPO_ROOT) -> dict:
    """Run the probe's ``case`` with HRKG_EXPORT_PROCESSES set to ``processes`` (None:
    unset) and return what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "HRKG_EXPORT_PROCESSES"}
    if processes is not None:
        env["HRKG_EXPORT_PROCESSES"] = processes
    done = subprocess.run(
        [sys.executable, str(PROBE), case, str(data_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic folder with more subjects than MIN_SUBJECTS (about 12,000)."""
    folder = tmp_path_factory.mktemp("synthetic") / "120k"
    subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "generate.py"),
            "--triples",
            "120000",
            "--out",
            str(folder),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


@pytest.mark.parametrize("fmt", [*SPLIT_FORMATS, "xml"])
def test_two_processes_write_the_bytes_one_process_writes(fmt: str) -> None:
    alone = probe("export", "1", fmt)
    shared = probe("export", "2", fmt)
    assert alone["forks"] == 0
    assert shared["forks"] == (1 if fmt in SPLIT_FORMATS else 0)
    assert shared["sha256"] == alone["sha256"] and shared["bytes"] == alone["bytes"]


@pytest.mark.parametrize("fmt", SPLIT_FORMATS)
def test_a_run_may_begin_at_any_subject(fmt: str) -> None:
    """The subjects of the Mali data cut into every number of runs, up to one per subject,
    give the same bytes: no writer state is carried from one subject to the next, and only
    the repeated prefix lines of the helper's runs are dropped."""
    alone = probe("export", "1", fmt)
    cuts = probe("cuts", "2", fmt)
    assert cuts["subjects"] > 200
    assert cuts["forks"] == cuts["subjects"] - 1
    assert cuts["digests"] == [alone["sha256"]]


@pytest.mark.parametrize("fmt", SPLIT_FORMATS)
def test_the_command_line_export_into_a_file_is_the_same(fmt: str, tmp_path: Path) -> None:
    alone = probe("cli", "1", fmt, str(tmp_path / "alone"))
    shared = probe("cli", "2", fmt, str(tmp_path / "shared"))
    assert (alone["forks"], shared["forks"]) == (0, 1)
    assert shared["sha256"] == alone["sha256"]


def test_a_large_export_uses_two_processes_by_itself(synthetic: Path) -> None:
    """Unset, the variable leaves the choice to hrkg: the Mali data is too small to be
    worth a fork, the synthetic folder is not (on a machine of two cores or more)."""
    cores = len(os.sched_getaffinity(0))
    small = probe("export", None, "turtle")
    large = probe("export", None, "turtle", data_dir=synthetic)
    alone = probe("export", "1", "turtle", data_dir=synthetic)
    assert small["forks"] == 0
    assert large["forks"] == (1 if cores >= 2 else 0)
    assert large["sha256"] == alone["sha256"]


def test_a_helper_that_dies_leaves_the_whole_export_to_this_process() -> None:
    """The helper's files may not grow past 512 bytes here, so it is killed as it writes
    the first run it took; the export is written again by this process, with the same
    bytes."""
    alone = probe("export", "1", "ntriples")
    shared = probe("no-room", "2", "ntriples")
    assert (shared["forks"], shared["failed"]) == (1, 1)
    assert shared["sha256"] == alone["sha256"]


def test_a_process_with_threads_never_forks() -> None:
    alone = probe("export", "1", "turtle")
    threaded = probe("thread", "2", "turtle")
    assert threaded["forks"] == 0 and threaded["sha256"] == alone["sha256"]


@pytest.mark.parametrize("where", ["blank-early", "blank-late"])
@pytest.mark.parametrize("fmt", SPLIT_FORMATS)
def test_a_blank_node_found_late_in_either_process_restarts_the_export_alone(
    where: str, fmt: str
) -> None:
    """A blank node that is no subject is found only as a run is written (in this
    process's run, or in the helper's): the export starts again in one process and
    writes what one process writes."""
    alone = probe(where, "1", fmt)
    shared = probe(where, "2", fmt)
    assert shared["forks"] == 1
    assert shared["sha256"] == alone["sha256"]


@pytest.mark.parametrize("value", ["3", "two", "0"])
def test_a_bad_number_of_export_processes_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRKG_EXPORT_PROCESSES", value)
    with pytest.raises(ExportError, match="not a number of processes an export can use"):
        two_processes_allowed(MIN_SUBJECTS)
