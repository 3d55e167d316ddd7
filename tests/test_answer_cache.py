"""The answer cache on its own: budget, eviction order, one run for calls at once, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from hrkg.answer_cache import AnswerCache, Served
from polling import eventually


class Counted:
    """A computation that counts its runs and gives ``value`` of ``size`` bytes."""

    def __init__(self, value: object, size: int) -> None:
        self.value, self.size, self.runs = value, size, 0

    def __call__(self) -> tuple[object, int]:
        self.runs += 1
        return self.value, self.size


def test_a_kept_answer_is_served_without_running_again() -> None:
    cache: AnswerCache[str, object] = AnswerCache(max_bytes=100)
    compute = Counted(["row"], 10)
    assert cache.get("q", compute) == (["row"], Served.MISS)
    assert cache.get("q", compute) == (["row"], Served.HIT)
    assert compute.runs == 1 and (cache.hits, cache.misses) == (1, 1)
    assert cache.size_bytes == 10 and len(cache) == 1


@pytest.mark.parametrize(
    ("sizes", "touched", "kept"),
    [
        # Three of 40 bytes in a budget of 100: the oldest goes.
        ([40, 40, 40], [], ["b", "c"]),
        # Reading "a" makes it the most recent: "b" goes instead.
        ([40, 40, 40], ["a"], ["a", "c"]),
        # A large answer pushes out as many old ones as it needs.
        ([30, 30, 90], [], ["c"]),
        # An answer larger than the whole budget is handed back, never kept.
        ([30, 30, 101], [], ["a", "b"]),
    ],
    ids=["oldest-out", "recent-read-stays", "large-evicts-several", "oversized-not-kept"],
)
def test_the_budget_keeps_the_most_recently_used(
    sizes: list[int], touched: list[str], kept: list[str]
) -> None:
    cache: AnswerCache[str, str] = AnswerCache(max_bytes=100)
    names = ["a", "b", "c"]
    for name, size in zip(names[:2], sizes[:2], strict=True):
        cache.get(name, Counted(name, size))
    for name in touched:
        assert cache.get(name, Counted("unused", 1))[1] is Served.HIT
    assert cache.get("c", Counted("c", sizes[2])) == ("c", Served.MISS)
    served = {name: cache.get(name, Counted(name, 0))[1] for name in names}
    assert sorted(name for name, how in served.items() if how is Served.HIT) == kept
    assert cache.size_bytes <= 100


def test_a_zero_budget_keeps_nothing() -> None:
    cache: AnswerCache[str, str] = AnswerCache(max_bytes=0)
    compute = Counted("x", 1)
    assert [cache.get("q", compute)[1] for _ in range(3)] == [Served.MISS] * 3
    assert compute.runs == 3 and len(cache) == 0


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        AnswerCache(max_bytes=-1)


class Gate:
    """A computation that waits until released, so that other calls arrive meanwhile."""

    def __init__(self, outcome: Callable[[], tuple[object, int]]) -> None:
        self.outcome = outcome
        self.started = threading.Event()
        self.release = threading.Event()
        self.runs = 0

    def __call__(self) -> tuple[object, int]:
        self.runs += 1
        self.started.set()
        assert self.release.wait(30)
        return self.outcome()


def _call_from_threads(
    cache: AnswerCache, key: str, compute: Callable, callers: int
) -> tuple[list, list[BaseException], list[threading.Thread]]:
    results: list = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            results.append(cache.get(key, compute))
        except BaseException as error:  # handed to the test
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    return results, errors, threads


@pytest.mark.parametrize("max_bytes", [0, 100], ids=["no-budget", "budget"])
def test_identical_calls_at_once_share_one_run(max_bytes: int) -> None:
    """Eight calls for one key while the first is computing: one run; the others wait
    for it and get its answer, whether or not the budget then keeps it."""
    cache: AnswerCache[str, str] = AnswerCache(max_bytes)
    gate = Gate(lambda: ("answer", 10))
    results, errors, threads = _call_from_threads(cache, "q", gate, 8)
    assert gate.started.wait(30)
    eventually(lambda: cache.waiting() == 7)
    assert cache.misses == 1 and results == []
    gate.release.set()
    for thread in threads:
        thread.join(30)
    assert errors == [] and gate.runs == 1
    assert sorted(how.value for _, how in results) == ["collapsed"] * 7 + ["miss"]
    assert {value for value, _ in results} == {"answer"}
    assert len(cache) == (1 if max_bytes else 0)


def test_an_error_goes_to_the_calls_waiting_then_and_is_not_kept() -> None:
    cache: AnswerCache[str, str] = AnswerCache(max_bytes=100)

    def fail() -> tuple[str, int]:
        raise TimeoutError("stopped at the time limit")

    gate = Gate(fail)
    results, errors, threads = _call_from_threads(cache, "q", gate, 4)
    assert gate.started.wait(30)
    eventually(lambda: cache.waiting() == 3)
    gate.release.set()
    for thread in threads:
        thread.join(30)
    assert results == [] and gate.runs == 1 and cache.waiting() == 0
    assert len(errors) == 4 and all(isinstance(error, TimeoutError) for error in errors)
    assert cache.get("q", Counted("now it works", 5)) == ("now it works", Served.MISS)


def test_clear_forgets_kept_answers() -> None:
    cache: AnswerCache[str, str] = AnswerCache(max_bytes=100)
    cache.get("q", Counted("old", 10))
    cache.clear()
    assert cache.get("q", Counted("new", 10)) == ("new", Served.MISS)
    assert cache.size_bytes == 10


def test_many_threads_many_keys_lose_and_mix_nothing() -> None:
    """12 threads × 200 calls over 30 keys in a budget that holds about 10: every call
    gets its own key's value, and the byte count matches what is kept."""
    cache: AnswerCache[int, str] = AnswerCache(max_bytes=100)
    wrong: list[tuple[int, str]] = []

    def work(seed: int) -> None:
        for step in range(200):
            key = (seed * 7 + step * 13) % 30
            value, _ = cache.get(key, lambda key=key: (f"value {key}", 10))
            if value != f"value {key}":
                wrong.append((key, value))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert wrong == []
    assert cache.size_bytes == 10 * len(cache) <= 100
    assert cache.hits + cache.misses == 12 * 200
