"""The benchmarks' judgements on recorded figures: the far-slower gate and the growth target.

Tests assert no times, so a server planner fault that only costs time (Virtuoso once took
74 s over ``search`` at 100k triples, against 0.03 s embedded) is caught by the benchmark
instead, as a ratio against the embedded store in the same run: the one timing judgement
CI acts on (``benchmarks/external_stores.py``). These cases are figures the benchmark
recorded: the fault must trip the gate, and the ordinary cost of a server (HTTP, another
planner) must not, or CI would fail on a slow day.

``benchmarks/run.py`` judges the growth target on the figures ``engine_growth.py`` took
with the scales interleaved, where there are some, rather than on its own workers'
figures, which the machine's drift between them can bend.
"""

from __future__ import annotations

import pytest

from test_generate import benchmark_module

external_stores = benchmark_module("external_stores")

#: (server seconds, embedded seconds, far slower?), each from a run of the benchmark.
RECORDED = {
    "search on Virtuoso at 100k, before the fix": (74.2, 0.0236, True),
    "search on Virtuoso at 100k, fixed": (0.521, 0.0236, False),
    "concerns on Virtuoso at 1M (27 times)": (19.0, 0.712, False),
    "entity on Virtuoso at 1M (257 times, under a second)": (0.9, 0.0035, False),
    "cases on the Oxigraph server at 1M": (4.07, 1.79, False),
}


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_only_a_planner_fault_counts_as_far_slower(case: str) -> None:
    server_seconds, embedded_seconds, expected = RECORDED[case]
    assert external_stores.far_slower(server_seconds, embedded_seconds) is expected


run = benchmark_module("run")


def _scale(requested: int, triples: int, seconds: dict[str, float]) -> dict:
    operations = [{"operation": op, "hrkg": {"median_seconds": s}} for op, s in seconds.items()]
    return {"requested_triples": requested, "triples": triples, "operations": operations}


#: One run's figures (seconds at 100k and at 1M, each scale in its own workers) and what
#: ``engine_growth.py`` measured of the same operations with the scales interleaved.
SEPARATE = {
    "load": (0.291, 4.19),
    "question:office-holders": (0.00897, 0.158),
    "question:cases": (0.152, 1.81),
    "export": (0.29, 2.47),
}
INTERLEAVED = {"load": 1.17, "question:office-holders": 1.02, "question:cases": 1.05}


@pytest.mark.parametrize(
    ("interleaved", "verdict", "named", "not_named"),
    [
        ({}, "MISSED", ["office-holders ^1.25", "load ^1.16"], []),
        (
            INTERLEAVED,
            "MISSED",
            ["load ^1.17", "steepest question is cases ^1.05"],
            ["office-holders ^1.25"],
        ),
        (
            {**INTERLEAVED, "load": 1.04},
            "met",
            ["every operation ≤ ^1.1 (highest cases ^1.05)", "office-holders ^1.25"],
            ["office-holders ^1.25"],
        ),
    ],
    ids=["separate-workers-only", "interleaved-load-steep", "interleaved-all-within"],
)
def test_growth_is_judged_on_the_interleaved_figures_where_there_are_some(
    interleaved: dict[str, float], verdict: str, named: list[str], not_named: list[str]
) -> None:
    results = [
        _scale(100_000, 99_980, {op: small for op, (small, _) in SEPARATE.items()}),
        _scale(1_000_000, 1_000_726, {op: large for op, (_, large) in SEPARATE.items()}),
    ]
    _, figure, judged = run.growth_target(results, interleaved)
    assert judged == verdict
    judged_part = figure.split("; in this run's separate workers")[0]
    for text in named:
        assert text in figure
    for text in not_named:
        assert text not in judged_part


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ({"10k": "mimalloc", "1M": "mimalloc"}, "mimalloc"),
        # A result recorded before the malloc was recorded (the 10M run) counts as the C library's.
        ({"1M": "mimalloc", "10M": None}, "mimalloc (1M), system (10M)"),
        (
            {"10k": "system", "100k": "mimalloc", "1M": "system"},
            "system (10k, 1M), mimalloc (100k)",
        ),
    ],
    ids=["one", "older-result", "mixed"],
)
def test_the_results_say_which_malloc_each_scale_ran_on(
    recorded: dict[str, str | None], expected: str
) -> None:
    results = [
        {"scale": scale, "environment": {} if name is None else {"malloc": name}}
        for scale, name in recorded.items()
    ]
    assert run.mallocs(results) == expected
