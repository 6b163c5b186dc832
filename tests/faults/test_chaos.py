"""`make chaos` runs, bounded, and prints its table with no session lost in redis mode
and no failure of /user/me while Postgres was frozen."""

from __future__ import annotations

import re
import subprocess

from scripts.cluster import ROOT


def test_make_chaos_prints_its_table_and_redis_mode_loses_no_session() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "chaos", "STORES=redis", "DURATION=35", "USERS=10", "NODES=2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "| session lost | 0 |" in out
    requests = int(re.search(r"\| requests \| ([\d,]+) \|", out).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert requests > 100
    for fault in ("node2 killed", "Postgres frozen", "rolling restart", "Redis killed"):
        assert re.search(rf"\| {fault}[^|]*\| \d+\.\d s \|", out), fault
    # A hung database costs only its own routes: /user/me did not fail while it was frozen.
    spared = re.search(r"\| Postgres frozen: /user/me \(no database\) failed \| 0 of ([\d,]+) \|", out)
    assert spared and int(spared.group(1).replace(",", "")) > 10, out[-2000:]
    saved = re.search(r"saved (reports/chaos-[\d-]+\.md)", out)
    assert saved and (ROOT / saved.group(1)).exists()
