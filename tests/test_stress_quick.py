"""The quick variant of the hostile-load benchmark (``benchmarks/stress.py --quick``), and
its memory-hungry query made deterministic.

It starts ``hrkg serve`` on a free loopback port, sends expensive and cheap queries side by
side for 5 s, then malformed HTTP on raw sockets, and exits 0 only when every expectation
holds (see the script's docstring). Its JSON goes to a temporary folder, not to
``benchmarks/results/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "stress.py"
#: Sorting a three-way product materialises it: gigabytes within a few seconds.
SORTED_PRODUCT = "SELECT ?a ?c ?f WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?a"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads memory from /proc")
def test_stress_quick_exits_0(tmp_path: Path) -> None:
    output = tmp_path / "stress.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert output.exists(), run.stderr[-3000:]
    result = json.loads(output.read_text(encoding="utf-8"))
    failed = {e["name"]: e["detail"] for e in result["expectations"] if not e["ok"]}
    assert not failed, "\n".join(f"{k}: {v}" for k, v in failed.items()) + "\n" + run.stderr[-3000:]
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]


@pytest.mark.slow
def test_a_query_over_the_memory_ceiling_gets_503() -> None:
    """The stress run's sorted product, made deterministic: a low memory ceiling and a long
    time limit, so that memory runs out first."""
    from starlette.testclient import TestClient

    from hrkg.server import ServerConfig, create_app
    from hrkg.server.state import ServerState

    config = ServerConfig(timeout=60.0, workers=1, worker_memory_bytes=768 * 1024**2)
    state = ServerState.open(config)
    try:
        with TestClient(create_app(state)) as client:
            response = client.get("/sparql", params={"query": SORTED_PRODUCT})
            after = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    finally:
        state.close()
    assert after.status_code == 200, "the server answers again after a worker ran out of memory"
    assert response.status_code == 503, f"{response.status_code}: {response.text}"
