"""The synthetic data the scale benchmarks time: it must conform, and give every question work.

A question that answers nothing on the synthetic data is timed doing nothing: its figure
says nothing about scale (the ``reports`` question did so until the generator wrote country
pages listing their documents). So, with the parameters ``benchmarks/run.py`` itself
chooses, every stored question must return rows.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
#: Big enough (about 60 documents) that the example parameters select some rows: the
#: ``reports`` example asks for the reports of 2013, one year of twenty.
TRIPLES = 20_000


def benchmark_module(name: str):
    """A script of ``benchmarks/`` imported as a module (they import each other by name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small synthetic folder written with ``--check``, and what the script printed."""
    out = tmp_path_factory.mktemp("synthetic") / "content"
    command = [
        sys.executable, str(BENCHMARKS / "generate.py"), "--triples", str(TRIPLES),
        "--out", str(out), "--check",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return out, finished.stdout


@pytest.fixture(scope="module")
def benchmark_side(generated: tuple[Path, str]):
    """The benchmark's own hrkg side over the folder, loaded: it plans the question texts."""
    side = benchmark_module("run").HrkgSide(generated[0], None)
    side.load()
    return side


def _question_names() -> list[str]:
    return sorted(path.stem for path in (BENCHMARKS.parent / "queries").glob("*.rq"))


def test_the_generated_data_conforms_to_the_shapes_and_passes_every_check(
    generated: tuple[Path, str],
) -> None:
    _, printed = generated
    assert ", 0 violations," in printed
    checks = [line for line in printed.splitlines() if line.startswith("check ")]
    assert checks and all(line.endswith(": 0 rows") for line in checks)


def test_the_generated_data_is_about_the_size_asked_for(generated: tuple[Path, str]) -> None:
    folder, _ = generated
    manifest = json.loads((folder / "synthetic.json").read_text(encoding="utf-8"))
    assert abs(manifest["triples"] - TRIPLES) <= TRIPLES * 0.02


@pytest.mark.parametrize("name", _question_names())
def test_every_question_the_benchmark_times_returns_rows(benchmark_side, name: str) -> None:
    plans = benchmark_side.plan()
    assert name in plans, f"the benchmark does not time {name}"
    assert benchmark_side.query(plans[name]["text"]) > 0, (
        f"{name} returns nothing on the synthetic data with {plans[name]['params']}: "
        "its benchmark figure would time an empty answer"
    )


@pytest.fixture(scope="module")
def generate_module():
    return benchmark_module("generate")


def test_a_kept_folder_gets_the_questions_as_they_are_now(
    generated: tuple[Path, str], generate_module
) -> None:
    """The benchmark reuses a generated folder, but times the repository's questions: a
    folder kept from before a question changed must not be timed on the old text."""
    out, _ = generated
    kept = out / "queries" / "cases.rq"
    kept.write_text("# the question as it was when the folder was generated\n", encoding="utf-8")
    graphs = sorted((out / "data" / "graphs").iterdir())
    written = [path.stat().st_mtime_ns for path in graphs]
    manifest = generate_module.ensure_dataset(TRIPLES, 1, out)
    assert manifest.requested_triples == TRIPLES
    assert kept.read_bytes() == (BENCHMARKS.parent / "queries" / "cases.rq").read_bytes()
    assert [path.stat().st_mtime_ns for path in graphs] == written, "the data was rewritten"


def test_a_change_to_the_ontology_makes_the_folder_stale(
    generate_module, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data is written from the ontology and copied with it, so a folder generated
    from another ontology is regenerated, not reused."""
    repository = tmp_path / "repository"
    shutil.copytree(BENCHMARKS.parent / "ontology", repository / "ontology")
    monkeypatch.setattr(generate_module, "REPO_ROOT", repository)
    before = generate_module.generator_fingerprint()
    with (repository / "ontology" / "hrkg.ttl").open("a", encoding="utf-8") as ontology:
        ontology.write("\n# a change\n")
    assert generate_module.generator_fingerprint() != before
