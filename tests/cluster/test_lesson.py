"""`make lesson`: every step shows its mistake and its fix, told in Chinese,
on the test cluster and clusters it starts beside it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scripts.cluster import ClusterConfig
from scripts.lab.lesson import STEP_RUNS, run
from scripts.lab.lesson_text import STEPS


async def test_every_step_of_the_lesson_shows_its_mistake_and_its_fix(
    redis_cluster: ClusterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = await run(redis_cluster, sorted(STEP_RUNS), "zh")
    assert [(o.step, o.shown, o.why) for o in outcomes] == [(n, True, "") for n in sorted(STEP_RUNS)]
    told = capsys.readouterr().out
    for text in STEPS["zh"].values():
        assert text["title"] in told and text["take"] in told
    assert "错误做法" in told and "正确做法" in told and "wrong code" in told
    # No cluster of the lesson's is left behind.
    assert not [line for line in told.splitlines() if "Traceback" in line]


def test_a_step_that_does_not_exist_is_refused_before_anything_starts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.lesson"],
        env={**os.environ, "STEP": "9", "LESSON_LANG": "en"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "STEP must be a step from 1 to 8, not '9'" in done.stderr
