"""``benchmarks/instruction_growth.py``: how each question's work grows, in instructions.

It runs for real, under valgrind, on two small generated datasets: every stored question
must be counted on both with the rows the store really gives, the counts must be cut at
the right places, and the growth limit must fail exactly the questions over it.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hrkg.allocator import chosen_library
from test_engine_growth import as_target_run
from test_generate import BENCHMARKS, benchmark_module

SCALES = ("2k", "5k")
#: Low enough that some questions grow past it between two datasets this small (their
#: fixed costs, parsing and planning, weigh most there) and others do not.
LIMIT = 0.2
SCRIPT = BENCHMARKS / "instruction_growth.py"


def _run(*options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, str, int]:
    """What the script wrote and printed for two small scales with a low limit."""
    folder = tmp_path_factory.mktemp("instructions")
    finished = _run(
        "--scales", ",".join(SCALES), "--max-exponent", str(LIMIT),
        "--data-dir", str(folder / "data"), "--results", str(folder),
    )  # fmt: skip
    assert finished.returncode in (0, 1), finished.stdout + finished.stderr
    record = json.loads((folder / "instruction_growth.json").read_text(encoding="utf-8"))
    return record, folder, finished.stderr, finished.returncode


def _question_names() -> list[str]:
    return sorted(path.stem for path in (BENCHMARKS.parent / "queries").glob("*.rq"))


@pytest.mark.parametrize("name", _question_names())
def test_every_question_is_counted_on_every_scale_with_the_rows_it_gives(
    counted: tuple[dict, Path, str, int], name: str
) -> None:
    record, folder, _, _ = counted
    for result in record["results"]:
        figures = result["questions"][name]
        assert len(figures["runs"]) == 2 and figures["instructions"] == figures["runs"][-1]
        side = benchmark_module("run").HrkgSide(folder / "data" / result["scale"], None)
        side.load()
        assert figures["rows"] == side.query(side.plan()[name]["text"])


def test_the_parts_are_cut_where_the_work_is(counted: tuple[dict, Path, str, int]) -> None:
    """The start-up (the interpreter, its imports) costs more than the load of a small
    store, which costs more than any query on it; the load grows with the data; and
    a reference query with more lookups per row costs more than one with fewer. A count
    shifted by one part would break each of these."""
    references = benchmark_module("engine_growth").REFERENCES
    small, large = counted[0]["results"]
    assert large["load"]["instructions"] > small["load"]["instructions"]
    for result in (small, large):
        queries = result["queries"]
        biggest = max(f["instructions"] for f in (*queries.values(), *result["questions"].values()))
        assert result["start_up"]["instructions"] > result["load"]["instructions"] > biggest
        counts = [queries[name]["instructions"] for name in references]
        assert counts == sorted(counts) and len(set(counts)) == len(counts)


def test_each_scale_was_counted_on_the_malloc_the_hrkg_command_uses(
    counted: tuple[dict, Path, str, int],
) -> None:
    """Read by the counted process from its own memory map, under valgrind."""
    expected = "system" if chosen_library(os.environ) is None else "mimalloc"
    assert [result["malloc"] for result in counted[0]["results"]] == [expected] * len(SCALES)


def test_the_limit_fails_exactly_the_questions_over_it(
    counted: tuple[dict, Path, str, int],
) -> None:
    record, _, stderr, returncode = counted
    script = benchmark_module("instruction_growth")
    over = script.over_limit(record["results"], LIMIT)
    assert over, "no question grew past the limit: lower LIMIT so that the test can fail"
    assert len(over) < len(_question_names()), "every question is over: raise LIMIT"
    assert returncode == 1
    named = {
        line.removeprefix("error: question ").split("'s ", 1)[0]
        for line in stderr.splitlines()
        if line.startswith("error: question ")
    }
    assert named == set(over)
    assert script.over_limit(record["results"], max(over.values())) == {}


def test_a_machine_without_valgrind_is_told_how_to_install_it(tmp_path: Path) -> None:
    environment = {**os.environ, "PATH": str(tmp_path)}
    folders = ("--data-dir", str(tmp_path), "--results", str(tmp_path))
    finished = _run("--scales", "2k,5k", *folders, env=environment)
    assert finished.returncode != 0
    assert "valgrind is not installed" in finished.stderr and "make valgrind" in finished.stderr
    assert list(tmp_path.iterdir()) == [], "nothing should be generated before the check"


def test_a_file_that_is_not_callgrind_output_is_named_in_the_error(tmp_path: Path) -> None:
    stray = tmp_path / "scale.123.1"
    stray.write_text("events: Ir\n", encoding="utf-8")
    script = benchmark_module("instruction_growth")
    with pytest.raises(script.CountError, match=re.escape("scale.123.1")):
        script.part_counts(tmp_path, "scale")


@pytest.mark.parametrize("same_data", [True, False], ids=["same-datasets", "other-datasets"])
def test_run_shows_the_counts_only_for_its_own_datasets(
    counted: tuple[dict, Path, str, int], tmp_path: Path, same_data: bool
) -> None:
    """``run.py``'s results page quotes the counts beside its timings, but only when they
    were made on the very datasets it timed (a file left from other data would mislead)."""
    record = counted[0]
    target, results = as_target_run(record, tmp_path, "instruction_growth.json", same_data)
    lines = benchmark_module("run").instruction_growth_lines(target, results)
    if same_data:
        script = benchmark_module("instruction_growth")
        steepest = max(script.over_limit(record["results"], -math.inf).items(), key=lambda i: i[1])
        assert f"the steepest question {steepest[0]} ^{steepest[1]:.2f}" in lines[0]
    else:
        assert lines == []


@pytest.mark.parametrize(
    ("scales", "message"),
    [("2k", "needs two scales or more"), ("2k,ten", "'ten' is not a size")],
    ids=["one-scale", "not-a-size"],
)
def test_bad_scales_are_refused_before_anything_runs(
    tmp_path: Path, scales: str, message: str
) -> None:
    finished = _run("--scales", scales, "--data-dir", str(tmp_path), "--results", str(tmp_path))
    assert finished.returncode == 2 and message in finished.stderr
    assert list(tmp_path.iterdir()) == []
