"""`make lesson`: the seed's story, step by step, each mistake then its fix.

``STEP=n`` runs one step (1-8); ``LESSON_LANG=zh|en`` picks the language
(default: the locale's).  A throwaway Redis and Postgres (temporary dir,
free ports on 127.0.0.1) for the whole lesson, the steps' clusters beside
them; all removed at the end.  Exits 1 if a step did not show what it is
there to show.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from scripts.cluster import LaunchError, colour
from scripts.lab.language import lang_from
from scripts.lab.lesson import STEP_RUNS, run
from scripts.lab.lesson_text import SAY
from scripts.lab.throwaway import throwaway


def steps_from(raw: str) -> list[int]:
    if not raw:
        return sorted(STEP_RUNS)
    if not raw.isdigit() or int(raw) not in STEP_RUNS:
        raise ValueError(f"STEP must be a step from 1 to {len(STEP_RUNS)}, not {raw!r}")
    return [int(raw)]


def main() -> int:
    try:
        steps = steps_from(os.environ.get("STEP", ""))
        lang = lang_from(os.environ)
    except ValueError as exc:
        print(f"make lesson: {exc}", file=sys.stderr)
        return 2
    say = SAY[lang]
    print(colour("1", say["lesson"]), flush=True)
    started = time.monotonic()
    try:
        with throwaway("redis", nodes=2, name="lesson") as base:
            outcomes = asyncio.run(run(base, steps, lang))
    except LaunchError as exc:
        print(f"make lesson: {exc}", file=sys.stderr)
        return 1
    failed = [o.step for o in outcomes if not o.shown]
    if failed:
        print(colour("1;31", "\n" + say["failed"].format(n=len(failed), steps=", ".join(map(str, failed)))))
        return 1
    print(
        colour(
            "1;32",
            "\n" + say["done"].format(n=len(outcomes), of=len(STEP_RUNS), secs=time.monotonic() - started),
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
