"""The fair queue the server's queries wait in, with real threads: turns, limits, no loss."""

from __future__ import annotations

import random
import threading
import time

import pytest

from hrkg.fair_queue import Busy, FairQueue
from polling import eventually


class Callers:
    """Threads that each wait for a thing, note who got it (in order), and hold it until
    told to give it back. A call is named by its asker's letter and a number: ``a2``."""

    def __init__(self, fair: FairQueue[str]) -> None:
        self.fair = fair
        self.served: list[str] = []
        self._release: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []

    def arrive(self, name: str, *, ahead: bool = False) -> None:
        """Call ``name`` starts waiting; returns once it is queued (or served at once)."""
        before = self._queued() + len(self.served)
        self._release[name] = threading.Event()
        thread = threading.Thread(target=self._take, args=(name, ahead), daemon=True)
        thread.start()
        self._threads.append(thread)
        eventually(lambda: self._queued() + len(self.served) == before + 1)

    def _queued(self) -> int:
        return sum(self.fair.waiting().values())

    def _take(self, name: str, ahead: bool) -> None:
        item = self.fair.get(asker=name[0], timeout=30, ahead=ahead)
        self.served.append(name)
        self._release[name].wait(30)
        self.fair.put(item, returned_by=None if ahead else name[0])

    def give_back(self, name: str) -> None:
        """``name`` returns its thing; wait until exactly one more call has been served."""
        count = len(self.served)
        self._release[name].set()
        eventually(lambda: len(self.served) == count + 1)

    def finish(self) -> None:
        for event in self._release.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout=10)


@pytest.fixture
def callers() -> Callers:
    return Callers(FairQueue())


@pytest.mark.parametrize(
    ("arrivals", "order"),
    [
        # one asker: first come, first served
        (["x1", "x2", "x3"], ["x1", "x2", "x3"]),
        # a flood from a, then b and c: b and c wait for one call of a, not for all of them
        (["a1", "a2", "a3", "b1", "c1"], ["a1", "b1", "c1", "a2", "a3"]),
        # askers take turns; each asker's calls keep their order
        (["a1", "b1", "a2", "b2", "c1"], ["a1", "b1", "c1", "a2", "b2"]),
    ],
    ids=["one-asker", "flood-then-others", "interleaved"],
)
def test_with_one_thing_askers_take_turns(callers: Callers, arrivals, order) -> None:
    """One thing, held first by z: each call gives it back as soon as it is served."""
    callers.fair.put("worker")
    callers.arrive("z1")
    for name in arrivals:
        callers.arrive(name)
    callers.give_back("z1")
    for name in order[:-1]:
        callers.give_back(name)
    assert callers.served == ["z1", *order]
    assert callers.fair.waiting() == {}
    callers.finish()
    assert callers.fair.idle() == 1 and callers.fair.held() == {}


def test_a_freed_thing_goes_to_the_asker_holding_fewest(callers: Callers) -> None:
    """a holds one thing with a slow call and has more waiting; b's quick call gives the
    other thing back: b's next call gets it, though a's turn came first."""
    for name in ("first", "second"):
        callers.fair.put(name)
    callers.arrive("a1")
    callers.arrive("b1")
    callers.arrive("a2")
    callers.arrive("b2")
    assert callers.fair.held() == {"a": 1, "b": 1}
    assert list(callers.fair.waiting()) == ["a", "b"]
    callers.give_back("b1")  # a holds 1, b now 0: b goes first
    assert callers.served[-1] == "b2"
    callers.give_back("a1")  # a holds 0, b 1: a
    assert callers.served[-1] == "a2"
    callers.finish()


def test_a_call_ahead_goes_before_every_asker(callers: Callers) -> None:
    callers.fair.put("worker")
    callers.arrive("a1")
    callers.arrive("b1")
    callers.arrive("!", ahead=True)
    assert list(callers.fair.waiting().items()) == [("!", 1), ("b", 1)]
    callers.give_back("a1")
    assert callers.served[-1] == "!"
    assert callers.fair.held() == {}, "a call ahead is not counted as held"
    callers.give_back("!")
    assert callers.served[-1] == "b1"
    callers.finish()


def test_an_idle_thing_is_taken_at_once_and_comes_back() -> None:
    fair: FairQueue[str] = FairQueue()
    fair.put("worker")
    assert fair.idle() == 1
    assert fair.get(asker="a", timeout=0) == "worker"
    assert fair.idle() == 0 and fair.waiting() == {} and fair.held() == {"a": 1}
    fair.put("worker", returned_by="a")
    assert fair.idle() == 1 and fair.held() == {}


@pytest.mark.parametrize("ahead", [False, True], ids=["asker", "ahead"])
def test_a_call_that_gives_up_leaves_no_trace(ahead: bool) -> None:
    fair: FairQueue[str] = FairQueue()
    with pytest.raises(Busy, match=r"within 0\.05 s"):
        fair.get(asker="a", timeout=0.05, ahead=ahead)
    assert fair.waiting() == {} and fair.held() == {}
    fair.put("worker")  # goes idle, not to the call that gave up
    assert fair.idle() == 1
    assert fair.get(asker="b", timeout=0) == "worker"


def test_a_call_that_gives_up_keeps_the_others_turns(callers: Callers) -> None:
    callers.fair.put("worker")
    callers.arrive("z1")
    callers.arrive("a1")
    with pytest.raises(Busy):
        callers.fair.get(asker="b", timeout=0.05)
    callers.arrive("c1")
    callers.give_back("z1")
    callers.give_back("a1")
    assert callers.served == ["z1", "a1", "c1"]
    callers.finish()


def test_under_contention_nothing_is_lost_or_shared() -> None:
    """Many threads borrow three things with short waits; each thing is held by one thread
    at a time, every call either gets one or gives up, and all three end up idle."""
    fair: FairQueue[int] = FairQueue()
    for item in range(3):
        fair.put(item)
    in_use: set[int] = set()
    guard = threading.Lock()
    problems: list[str] = []
    outcomes = {"got": 0, "busy": 0}

    def borrow(asker: str, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            try:
                item = fair.get(asker=asker, timeout=rng.choice([0.001, 0.01, 1.0]))
            except Busy:
                with guard:
                    outcomes["busy"] += 1
                continue
            with guard:
                if item in in_use:
                    problems.append(f"{item} handed out twice")
                in_use.add(item)
                outcomes["got"] += 1
            time.sleep(rng.random() / 1000)
            with guard:
                in_use.discard(item)
            fair.put(item, returned_by=asker)

    threads = [
        threading.Thread(target=borrow, args=(f"asker{n % 4}", n), daemon=True) for n in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert problems == []
    assert outcomes["got"] + outcomes["busy"] == 12 * 40 and outcomes["got"] > 0
    assert fair.idle() == 3 and fair.waiting() == {} and fair.held() == {}
    assert sorted(fair.get(timeout=0) for _ in range(3)) == [0, 1, 2]
