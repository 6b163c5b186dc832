"""The launcher's command line: the command and its own arguments; the settings come from the environment."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from node.settings import SettingsError, values_from_env
from scripts.cluster import commands
from scripts.cluster.common import ROOT, LaunchError, colour, say
from scripts.cluster.config import ClusterConfig, launcher_setting
from scripts.cluster.render import COMPOSE_NGINX, render_compose_nginx
from scripts.cluster.settings_table import settings_table

USAGE = """python -m scripts.cluster COMMAND: the cluster on one machine, under supervisord

Settings are environment variables (`python -m scripts.cluster settings` lists them):
    NODES=5 SESSION_STORE=memory python -m scripts.cluster up
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.cluster", description=USAGE, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start, or apply a changed configuration")
    sub.add_parser("down", help="stop everything this run dir started")
    sub.add_parser("status", help="processes, and whether each node is ready")
    p_logs = sub.add_parser("logs", help="the last lines of the logs")
    p_logs.add_argument("--node", type=int)
    p_logs.add_argument("--follow", action="store_true")
    p_logs.add_argument("--lines", type=int, default=30)
    for name in ("stop-node", "start-node"):
        sub.add_parser(name).add_argument("index", type=int, metavar="N")
    sub.add_parser("restart", help="restart every node at once")
    sub.add_parser("rolling-restart", help="restart the nodes one by one, each drained first")
    sub.add_parser("clean", help="delete the run dir, data included")
    sub.add_parser("compose-nginx", help=f"render {COMPOSE_NGINX.relative_to(ROOT)} for compose.yaml")
    sub.add_parser("settings", help="the settings, their defaults and meaning (markdown)")
    return parser


def main(argv: list[str], env: Mapping[str, str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args, env)
    except (LaunchError, SettingsError) as exc:
        print(f"{colour('1;31', 'error:')} {exc}", flush=True, file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.command == "settings":
        print(settings_table())
        return 0
    if args.command == "compose-nginx":
        COMPOSE_NGINX.write_text(render_compose_nginx())
        print(f"wrote {COMPOSE_NGINX.relative_to(ROOT)}")
        return 0
    if args.command == "up":
        commands.up(ClusterConfig.from_env(env))
        return 0
    values_from_env(ClusterConfig, env)  # a bad value is named, whichever command
    run_dir = Path(launcher_setting("run_dir", env))
    if args.command == "clean":
        commands.clean(run_dir, quiet=False)
        return 0
    if args.command == "down":
        if (run_dir / "cluster.json").exists():
            commands.down(ClusterConfig.load(run_dir))
        else:
            say(f"nothing running in {commands.shown(run_dir)}")
        return 0
    # The other commands act on what the last `up` in this run dir started.
    cfg = ClusterConfig.load(run_dir)
    if args.command == "status":
        return commands.status(cfg)
    if args.command == "logs":
        return commands.logs(cfg, node=args.node, follow=args.follow, lines=args.lines)
    {
        "stop-node": lambda: commands.stop_node(cfg, args.index, quiet=False),
        "start-node": lambda: commands.start_node(cfg, args.index, quiet=False),
        "restart": lambda: commands.restart(cfg, quiet=False),
        "rolling-restart": lambda: commands.rolling_restart(cfg),
    }[args.command]()
    return 0
