"""The installed package answers questions without a checkout: the wheel carries the content."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def wheel(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(repo_root),
        ],
        check=True,
        timeout=300,
    )
    [built] = out.glob("hrkg-*.whl")
    return built


def test_wheel_carries_ontology_queries_and_data(wheel: Path, repo_root: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for part in (
        "ontology/hrkg.ttl",
        "queries/cases.rq",
        "data/sources/amnesty-mali-country-page.txt",
    ):
        assert f"hrkg/_content/{part}" in names
    graphs = {path.name for path in (repo_root / "data" / "graphs").glob("*.trig")}
    assert graphs == {
        Path(name).name for name in names if name.startswith("hrkg/_content/data/graphs/")
    }
    assert "hrkg/py.typed" in names


def test_installed_wheel_answers_from_its_own_content(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    environment = {**os.environ, "PYTHONPATH": str(target)}
    environment.pop("HRKG_DATA_DIR", None)
    program = "import hrkg; print(hrkg.__file__); print(len(hrkg.open().query('reports')))"
    completed = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    location, count = completed.stdout.split()
    assert location.startswith(str(target)), "the installed copy, not the checkout, answered"
    assert int(count) == 10
