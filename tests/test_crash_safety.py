"""Crash safety of `hrkg add`: killed at random moments, or racing other writers, the
dataset is always exactly the old one or exactly the new one, and parses.

Fault injection: each trial starts a real `hrkg add` process and kills it with SIGKILL
at a random moment. ``HRKG_COMMIT_STEP_DELAY`` widens the commit steps so that many kills
land inside the commit; the test counts where they landed and requires some did, so it
cannot pass by only ever killing before or after the write.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import hrkg
from hrkg.data_files import JOURNAL_NAME

GOOD = Path(__file__).parent / "good_input" / "new-case.ttl"
SOURCE = "document:amnesty-mali-country-page"
TARGET = Path("data/graphs/amnesty-mali-country-page.trig")
CHANGELOG = Path("data/changelog.trig")
TRIALS = int(os.environ.get("HRKG_CRASH_TRIALS", "50"))
HRKG = [str(Path(sys.executable).with_name("hrkg"))]


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _add(folder: Path, batch: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *HRKG,
            "--data-dir",
            str(folder),
            "add",
            str(batch),
            "--source",
            SOURCE,
            "--agent",
            "crash-test",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> dict[str, object]:
    """The pristine content folder, and the target file's bytes before and after an addition."""
    pristine = tmp_path_factory.mktemp("pristine")
    for part in ("ontology", "queries", "data"):
        shutil.copytree(repo_root / part, pristine / part)
    finished = tmp_path_factory.mktemp("finished")
    shutil.copytree(pristine, finished, dirs_exist_ok=True)
    assert _add(finished, GOOD).wait(timeout=120) == 0
    return {
        "pristine": pristine,
        "old": _digest(pristine / TARGET),
        "new": _digest(finished / TARGET),
        "duration": None,
    }


def _landing(folder: Path) -> str:
    """Where the kill landed, judged from what it left on disk (before recovery)."""
    data = folder / "data"
    if (data / JOURNAL_NAME).exists():
        return "after the commit point (journal left)"
    if any(data.glob("**/.*.tmp")):
        return "before the commit point (temporary files left)"
    return "outside the commit"


def test_sigkill_at_random_moments_leaves_old_or_new(states: dict, tmp_path: Path) -> None:
    rng = random.Random(20261125)
    landings: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for trial in range(TRIALS):
        folder = tmp_path / f"trial-{trial}"
        shutil.copytree(states["pristine"], folder)
        process = _add(folder, GOOD, HRKG_COMMIT_STEP_DELAY="0.08")
        time.sleep(rng.uniform(0.2, 1.8))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        landings[_landing(folder)] += 1
        kg = hrkg.open(folder)  # opening recovers an interrupted addition first
        target = _digest(folder / TARGET)
        assert target in (states["old"], states["new"]), f"trial {trial}: a mixed file"
        changes = len(kg.query("changelog"))
        if target == states["old"]:
            outcomes["old"] += 1
            assert changes == 0, f"trial {trial}: changelog records an addition that is not there"
        else:
            outcomes["new"] += 1
            assert changes == 1, f"trial {trial}: the addition is there but not recorded"
        assert not (folder / "data" / JOURNAL_NAME).exists()
        assert not list((folder / "data").glob("**/.*.tmp"))
        assert kg.run(kg.catalog.get("checks/provenance-violation"), {}).rows == []
        shutil.rmtree(folder)
    print(f"\n{TRIALS} kills: {dict(landings)}; outcomes {dict(outcomes)}")
    mid_commit = sum(count for where, count in landings.items() if where != "outside the commit")
    assert mid_commit >= max(1, TRIALS // 25), (
        f"too few kills landed inside the commit to test recovery: {dict(landings)}"
    )
    assert outcomes["old"] and outcomes["new"], "kills must land both before and after the commit"


def test_four_concurrent_writers_each_land_exactly_once(states: dict, tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    shutil.copytree(states["pristine"], folder)
    text = GOOD.read_text(encoding="utf-8")
    batches = []
    for index in range(4):
        batch = tmp_path / f"batch-{index}.ttl"
        batch.write_text(text.replace("test-new-case", f"test-new-case-{index}"), encoding="utf-8")
        batches.append(batch)
    writers = [_add(folder, batch) for batch in batches]
    assert [writer.wait(timeout=180) for writer in writers] == [0, 0, 0, 0]
    kg = hrkg.open(folder)
    cases = [row["case"] for row in kg.query("cases").values()]
    for index in range(4):
        assert cases.count(f"https://w3id.org/hrkg/id/case/test-new-case-{index}") == 1
    assert len(kg.query("changelog")) == 4
    assert {row["inputFile"] for row in kg.query("changelog").values()} == {b.name for b in batches}
