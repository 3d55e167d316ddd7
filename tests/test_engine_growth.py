"""``benchmarks/engine_growth.py``: the growth figures the scale target is judged on.

It runs for real on two small generated datasets: every stored question must be timed on
both, with the rows the store really gives, and ``run.py`` must take its figures only for
the very datasets it measured itself (a file left from other data would judge the wrong
run).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from test_generate import BENCHMARKS, benchmark_module

SCALES = ("2k", "5k")


@pytest.fixture(scope="module")
def growth(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """What the script wrote for two small scales, one round, and its data folder."""
    folder = tmp_path_factory.mktemp("growth")
    command = [
        sys.executable, str(BENCHMARKS / "engine_growth.py"), "--scales", ",".join(SCALES),
        "--repeat", "1", "--data-dir", str(folder / "data"), "--results", str(folder),
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return json.loads((folder / "engine_growth.json").read_text(encoding="utf-8")), folder


def _question_names() -> list[str]:
    return sorted(path.stem for path in (BENCHMARKS.parent / "queries").glob("*.rq"))


@pytest.mark.parametrize("name", _question_names())
def test_every_question_is_timed_on_every_scale_with_the_rows_it_gives(
    growth: tuple[dict, Path], name: str
) -> None:
    record, folder = growth
    for result in record["results"]:
        figures = result["questions"][name]
        assert len(figures["runs"]) == 1 and figures["seconds"] > 0
        side = benchmark_module("run").HrkgSide(folder / "data" / result["scale"], None)
        side.load()
        assert figures["rows"] == side.query(side.plan()[name]["text"])


def test_the_load_and_the_reference_queries_give_a_growth_exponent(
    growth: tuple[dict, Path],
) -> None:
    engine_growth = benchmark_module("engine_growth")
    small, large = growth[0]["results"]
    assert large["triples"] > small["triples"]
    assert math.isfinite(engine_growth.exponent(small, large, "load"))
    for name in engine_growth.REFERENCES:
        assert large["queries"][name]["rows"] > small["queries"][name]["rows"]
        assert math.isfinite(engine_growth.exponent(small, large, "queries", name))


def as_target_run(
    record: dict, folder: Path, file_name: str, same_data: bool
) -> tuple[Path, list[dict]]:
    """A copy of a growth ``record`` of two scales, named as the target's (100k, 1M) and
    written to ``file_name`` in a folder of its own under ``folder``; and the scale results
    of a ``run.py`` run that measured those very datasets (or, unless ``same_data``, a 100k
    dataset one triple larger)."""
    record = json.loads(json.dumps(record))
    for result, label in zip(record["results"], ("100k", "1M"), strict=True):
        result["scale"] = label
    target = folder / "as-target"
    target.mkdir(exist_ok=True)
    (target / file_name).write_text(json.dumps(record), encoding="utf-8")
    small, large = record["results"]
    results = [
        {"requested_triples": 100_000, "triples": small["triples"] + (0 if same_data else 1)},
        {"requested_triples": 1_000_000, "triples": large["triples"]},
    ]
    return target, results


@pytest.mark.parametrize("same_data", [True, False], ids=["same-datasets", "other-datasets"])
def test_run_takes_the_interleaved_figures_only_for_its_own_datasets(
    growth: tuple[dict, Path], same_data: bool
) -> None:
    target, results = as_target_run(growth[0], growth[1], "engine_growth.json", same_data)
    exponents = benchmark_module("run").interleaved_growth(target, results)
    if same_data:
        assert set(exponents) == {"load"} | {f"question:{name}" for name in _question_names()}
    else:
        assert exponents == {}
