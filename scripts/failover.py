"""The Redis master dies under load: what do users see?  (`make failover`)

For each topology with a replica to promote (sentinel, cluster), on a
throwaway cluster of its own: users log in, the replicas catch up, then
the users keep asking who they are through nginx while the master that
holds the first user's session is stopped.  ``supervisorctl stop``, not a
kill: supervisord would start a killed master again within a second,
before the sentinels (or the other masters) have called it dead.  The run
goes on until requests have succeeded for a while again.  Then every
session is checked on every node, one more user logs in (a write, on the
new master), and the old master is started again: it must come back as a
replica, not as a second master.

The figures (the table in docs/scaling-out.md): how long users saw errors
after the stop, how many requests failed and with which status, how many
sessions survived, how many node processes had to restart (none).
"""

from __future__ import annotations

import argparse
import asyncio
import os

from scripts.cluster import launcher_setting, say
from scripts.cluster.redis_topology import REPLICATED, replicated_list
from scripts.lab.failover import measure, table
from scripts.lab.reports import save, stamp
from scripts.lab.throwaway import throwaway


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.failover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--topologies", type=replicated_list, default=list(REPLICATED))
    parser.add_argument("--users", type=int, default=20, choices=range(1, 10_001), metavar="N")
    parser.add_argument("--nodes", type=int, default=launcher_setting("nodes", os.environ))
    args = parser.parse_args(argv)
    topologies = args.topologies
    if not topologies:
        parser.error(f"--topologies: at least one of {', '.join(REPLICATED)}")
    results = []
    for topology in topologies:
        say(f"{topology}: starting a throwaway cluster")
        with throwaway(
            "redis", nodes=args.nodes, name=f"failover-{topology}", redis_topology=topology
        ) as cfg:
            say(f"{topology}: {args.users} users logged in; stopping the master under them")
            results.append(asyncio.run(measure(cfg, users=args.users)))
    save(
        f"failover-{stamp()}",
        f"make failover ({args.users} users, {args.nodes} nodes)",
        table(results),
        show=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
