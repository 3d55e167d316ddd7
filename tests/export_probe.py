"""An export run in a fresh interpreter, for tests/test_forked_export.py::

    python tests/export_probe.py CASE DATA_DIR FORMAT [OUTPUT]

A fresh interpreter has the single thread `hrkg export` has, which the two-process
export needs (the test process has the threads of other tests' servers). The probe counts
the forks the export makes and prints one JSON object: ``forks``, and ``sha256`` and
``bytes`` of what it wrote (``digests`` for ``cuts``). ``HRKG_EXPORT_PROCESSES`` comes from
the environment, as for users. The cases:

- ``export``: ``kg.export(FORMAT)``;
- ``cli``: ``hrkg export --format FORMAT -o OUTPUT``, the command line in this process;
- ``cuts``: the export once for every number of runs the subjects can be cut into, from
  two to one per subject (so that every subject begins a run of its own in some export);
- ``no-room``: the same as ``export``, but a file may hold only 512 bytes here, so the
  forked helper cannot write its first run into its file and dies (SIGXFSZ); ``failed``
  counts such failures;
- ``thread``: the same as ``export``, with a second thread running;
- ``blank-early`` and ``blank-late``: an in-memory store whose one blank node is only ever
  an object, held by a subject in the first or in the second of two runs (this process
  writes the first, all but always; the helper always writes the last), which each finds
  only as it writes (see hrkg.export._stream_triples).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import threading
from functools import partial
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

import hrkg
from hrkg import export
from hrkg.export import export_dataset
from hrkg.forked_export import write_in_two_processes
from hrkg.store import OxigraphStore

forks: list[int] = []
_fork = os.fork


def counted_fork() -> int:
    forks.append(1)
    return _fork()


os.fork = counted_fork


def digest(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


#: How many times the helper failed (write_in_two_processes returned False).
failed = 0


def counted_outcome(*args, **options) -> bool:
    global failed
    done = write_in_two_processes(*args, **options)
    failed += not done
    return done


def store_with_a_lone_blank_object(late: bool) -> OxigraphStore:
    """40 subjects; the one that points to a blank node is the 3rd, or the 38th."""
    store = OxigraphStore()
    graph = NamedNode("https://example.org/graph/source")
    for number in range(40):
        subject = NamedNode(f"https://example.org/thing/{number:02d}")
        value = Literal(f"thing {number}")
        store.oxigraph.add(Quad(subject, NamedNode("https://example.org/name"), value, graph))
    holder = NamedNode(f"https://example.org/thing/{37 if late else 2:02d}")
    store.oxigraph.add(Quad(holder, NamedNode("https://example.org/link"), BlankNode(), graph))
    return store


def main(case: str, data_dir: str, fmt: str, output: str | None = None) -> dict:
    if case.startswith("blank-"):
        export.write_in_two_processes = partial(write_in_two_processes, runs=2)
        store = store_with_a_lone_blank_object(late=case == "blank-late")
        return {**digest(export_dataset(store, fmt, {})), "forks": len(forks)}
    kg = hrkg.open(data_dir)
    if case == "cli":
        from hrkg.cli import app

        command = ["--data-dir", data_dir, "export", "--format", fmt, "-o", str(output)]
        app(command, standalone_mode=False)
        return {**digest(Path(output).read_bytes()), "forks": len(forks)}
    if case == "cuts":
        source = export._Source.of(kg.store.oxigraph, None)
        listed = export._subjects(source)
        blank = export._blank_triples(export._quads_around_blank_subjects(source, listed))
        subjects = len(export._in_export_order(listed, blank))
        digests = set()
        for runs in range(2, subjects + 1):
            export.write_in_two_processes = partial(write_in_two_processes, runs=runs)
            digests.add(hashlib.sha256(kg.export(fmt)).hexdigest())
        return {"digests": sorted(digests), "forks": len(forks), "subjects": subjects}
    if case == "no-room":
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, hard))
        export.write_in_two_processes = counted_outcome
        return {**digest(kg.export(fmt)), "forks": len(forks), "failed": failed}
    if case == "thread":
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        try:
            return {**digest(kg.export(fmt)), "forks": len(forks)}
        finally:
            stop.set()
    return {**digest(kg.export(fmt)), "forks": len(forks)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
