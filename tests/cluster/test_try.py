"""`make try`, as a learner runs it: back to back, in each mode, the lesson
and nothing else (no traceback, no refusal by a rule)."""

from __future__ import annotations

import re
import subprocess

import pytest

from scripts.cluster import ROOT, ClusterConfig


def make_try(cfg: ClusterConfig) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "try", f"RUN_DIR={cfg.run_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("mode", ["redis", "memory"])
def test_make_try_three_times_back_to_back_tells_the_lesson(
    mode: str, redis_cluster: ClusterConfig, memory_cluster: ClusterConfig
) -> None:
    cfg = redis_cluster if mode == "redis" else memory_cluster
    for _ in range(3):
        result = make_try(cfg)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "Traceback" not in out and "not the session bug" not in out, out
        verdict = out.split("verdict: ", 1)[1]
        assert verdict.startswith(cfg.strategy), out
        if mode == "redis":
            assert "every step worked on node1, node2, node3" in verdict, out
            # No step answered 401 (its status column; the code itself may hold "401").
            assert not re.search(r"node\d+\s+401\b", out), out
        else:
            # The code on one node, the login elsewhere, then the token known on one node only.
            assert "wrong code" in out and "log in on node" in out, out
            assert "unknown on" in verdict and "each node's memory is its own" in verdict, out
