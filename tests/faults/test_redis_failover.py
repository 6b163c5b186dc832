"""The Redis master dies under load; its replica takes over (Sentinel, and
Redis Cluster).  The measuring is scripts/lab/failover.py (`make failover`):
these tests hold its figures to what docs/scaling-out.md promises."""

from __future__ import annotations

import pytest

from scripts.cluster.redis_topology import REPLICATED
from scripts.lab import failover
from tests.faults.conftest import MakeCluster


@pytest.mark.parametrize("topology", REPLICATED)
async def test_the_master_dies_under_load_and_users_are_back_within_seconds_with_their_sessions(
    topology: str, own_cluster: MakeCluster
) -> None:
    cfg = await own_cluster(redis_topology=topology)
    result = await failover.measure(cfg, users=12, workers=6)
    print(failover.table([result]))  # the figures, with -s

    assert result.failed > 0  # the stop hit the users' master
    # Seen by users for a few seconds: the sentinels wait 1 s before they
    # call the master down, a cluster 2 s; then a vote and a promotion.
    assert result.window < 15
    # Each failure an honest 503 in the envelope: not a 500, not a 401
    # (which would log the user out).
    assert set(result.statuses) == {503}, result.statuses
    # Written before the stop, so on the replica: every session survives,
    # on every node, and the nodes followed by themselves.
    assert result.kept == result.sessions
    assert result.nodes_restarted == 0
    assert result.login_after  # writes go to the new master
    assert result.promoted  # its replica is the master now
