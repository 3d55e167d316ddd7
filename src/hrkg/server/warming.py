"""Stored questions answered before anyone asks, so that their first reader gets a kept answer.

The answer cache helps the second reader of a question only. At a million triples the
first reader of ``cases`` waits seconds for a worker on disk (7 s in the scale
benchmark), and every update drops the kept answers, so the first reader after each
update waits again. With ``hrkg serve --warm``, the server runs each stored question
that needs no parameter in the background: when it starts, and again after each update.
It asks each the way the browser interface and the REST API do (the whole answer, no
page), so that the answer is kept under the key their requests look it up by.

Warming gives way to readers. It runs one question at a time, and starts the next only
while every worker is idle and no query waits, so a reader finds a free worker unless a
single worker is the only one. A question that fails (over its time limit, say) is
skipped and logged; a reader who asks it later runs it as before. Each finished round is
logged too (``hrkg serve --warm`` prints it), with how long it took.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from hrkg.catalog import Page, StoredQuery
from hrkg.errors import HrkgError
from hrkg.knowledge_graph import KnowledgeGraph
from hrkg.query_runner import ASKER, IsolatedQueryRunner

log = logging.getLogger("hrkg.server")

#: The asker warming queries take turns as (see :data:`hrkg.query_runner.ASKER`).
WARMING_ASKER = "(warming)"
#: How often warming looks whether the workers are all idle again, in seconds.
IDLE_POLL_SECONDS = 0.05


def questions_to_warm(questions: Iterable[StoredQuery]) -> list[StoredQuery]:
    """The stored questions that run without any parameter given."""
    return [
        question
        for question in questions
        if not question.requires_one_of
        and not any(parameter.required for parameter in question.parameters.values())
    ]


class AnswerWarmer:
    """A background thread that runs :func:`questions_to_warm` over ``kg`` whenever asked.

    Each :meth:`rewarm` starts a round over every question (a round under way starts over:
    the data it warmed is gone); :meth:`wait` blocks until the last round asked for is done.
    """

    def __init__(self, kg: KnowledgeGraph, runner: IsolatedQueryRunner) -> None:
        self._kg = kg
        self._runner = runner
        self.questions = questions_to_warm(kg.catalog)
        self._changed = threading.Condition()
        self._asked = 0  # rounds asked for
        self._done = 0  # the last round finished
        self._stopped = False
        #: Questions of the last finished round that could not be answered, with why.
        self.skipped: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="hrkg-warming", daemon=True)
        self._thread.start()

    def rewarm(self) -> None:
        """Warm every question afresh (the server's data changed, or the server started)."""
        with self._changed:
            self._asked += 1
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the last round asked for is done; False if ``timeout`` came first."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._stopped or self._done == self._asked, timeout
            )

    def stop(self) -> None:
        """Stop after the question running now (the runner's close waits for it anyway)."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def _run(self) -> None:
        ASKER.set(WARMING_ASKER)  # this thread's own context: its queries take their own turn
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopped or self._asked > self._done)
                if self._stopped:
                    return
                round_ = self._asked
            started = time.monotonic()
            log.info("answering %d stored questions ahead, in the background", len(self.questions))
            skipped = self._warm_round(round_)
            with self._changed:
                if self._asked != round_ or self._stopped:  # overtaken: the next round follows
                    continue
                self._done = round_
                self.skipped = skipped
                self._changed.notify_all()
            log.info(
                "answered %d stored questions ahead in %.1f s%s",
                len(self.questions) - len(skipped),
                time.monotonic() - started,
                f" ({len(skipped)} could not be: {', '.join(skipped)})" if skipped else "",
            )

    def _warm_round(self, round_: int) -> dict[str, str]:
        skipped: dict[str, str] = {}
        for question in self.questions:
            if not self._wait_for_idle_workers(round_):
                break
            try:
                self._kg.run(question, {}, Page())
            except HrkgError as error:
                skipped[question.name] = error.message
                log.warning("could not answer %r ahead: %s", question.name, error.message)
        return skipped

    def _wait_for_idle_workers(self, round_: int) -> bool:
        """Wait until every worker is idle and no query waits; False when the round is
        overtaken by a newer one or warming stops."""
        while True:
            with self._changed:
                if self._stopped or self._asked != round_:
                    return False
            runner = self._runner
            if runner.idle_workers() == runner.worker_count and not runner.waiting():
                return True
            time.sleep(IDLE_POLL_SECONDS)
