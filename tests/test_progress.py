"""Progress bars: drawn on a real terminal (a pseudo-terminal as standard error) for a
load and an export large enough to show one, and never mixed into standard output, which
may be the file an answer or an export is sent to.

The content folder is synthetic (``benchmarks/generate.py``): the Mali data is far below
the size at which a bar appears.
"""

from __future__ import annotations

import csv
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

import hrkg
from hrkg.progress import PROGRESS_THRESHOLD_BYTES

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
#: Enough triples for the data files and the Turtle export to pass the threshold.
TRIPLES = 150_000
#: The terminal's control sequences (colours, cursor moves), left out of what it received.
CONTROL_SEQUENCE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: How long a command may stay silent on the terminal before the test gives up on it.
COMMAND_SECONDS = 300


@pytest.fixture(scope="module")
def large_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("large") / "content"
    command = [sys.executable, str(BENCHMARKS / "generate.py"), "--triples", str(TRIPLES)]
    subprocess.run([*command, "--out", str(out)], check=True, capture_output=True)
    data_bytes = sum(path.stat().st_size for path in (out / "data").rglob("*") if path.is_file())
    assert data_bytes > PROGRESS_THRESHOLD_BYTES, "too small to show a loading bar"
    return out


def run_with_a_terminal_for_stderr(arguments: list[str], stdout: Path) -> str:
    """Run ``hrkg ARGUMENTS`` with standard output into ``stdout`` and standard error on a
    pseudo-terminal; the text the terminal received, once the command has succeeded."""
    primary, secondary = pty.openpty()
    environment = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    environment.pop("NO_COLOR", None)
    with stdout.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hrkg", *arguments],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=secondary,
            env=environment,
        )
    os.close(secondary)
    received = []
    while True:  # drained as it comes, so that a full terminal never blocks the command
        if not select.select([primary], [], [], COMMAND_SECONDS)[0]:
            process.kill()
            pytest.fail(f"hrkg {' '.join(arguments)} wrote nothing for {COMMAND_SECONDS} s")
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the command closed its end
            break
        if not chunk:
            break
        received.append(chunk)
    os.close(primary)
    terminal = CONTROL_SEQUENCE.sub("", b"".join(received).decode("utf-8", "replace"))
    assert process.wait(timeout=COMMAND_SECONDS) == 0, terminal
    return terminal


def test_an_answer_sent_to_a_file_holds_none_of_the_loading_bar(
    large_folder: Path, tmp_path: Path
) -> None:
    answer = tmp_path / "summary.csv"
    arguments = ["--data-dir", str(large_folder), "query", "run", "summary", "--format", "csv"]
    terminal = run_with_a_terminal_for_stderr(arguments, answer)
    assert "loading" in terminal, "the bar was drawn on the terminal"
    rows = list(csv.reader(answer.open(newline="", encoding="utf-8")))
    assert rows[0] == ["class", "label", "entities"], "the file starts with the header"
    assert all(len(row) == 3 for row in rows)


@pytest.mark.parametrize("into", ["--output", "stdout"])
def test_a_large_export_counts_its_bytes_on_the_terminal_and_writes_the_same_bytes(
    large_folder: Path, tmp_path: Path, into: str
) -> None:
    expected = hrkg.open(large_folder).export("turtle")
    assert len(expected) > PROGRESS_THRESHOLD_BYTES, "too small to show an export bar"
    target = tmp_path / "export.ttl"
    arguments = ["--data-dir", str(large_folder), "export"]
    if into == "--output":
        stdout = tmp_path / "stdout"
        terminal = run_with_a_terminal_for_stderr([*arguments, "-o", str(target)], stdout)
        assert f"wrote {len(expected):,} bytes of turtle" in terminal
        assert stdout.read_bytes() == b"", "nothing but the file gets the export"
    else:
        terminal = run_with_a_terminal_for_stderr(arguments, target)
    assert "exporting turtle" in terminal
    assert target.read_bytes() == expected
