"""What `make up`, `down`, `status` and the others do to a cluster in its run dir."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from node.mistakes import WHAT
from scripts.cluster import redis_topology
from scripts.cluster.common import LaunchError, colour, is_root, say, secret_file, write
from scripts.cluster.config import ClusterConfig
from scripts.cluster.ports import port_in_use
from scripts.cluster.postgres import init_postgres, remove_outside_data
from scripts.cluster.readiness import (
    wait_back,
    wait_behind_nginx,
    wait_nodes_ready,
    wait_stores,
    wait_supervisord_gone,
)
from scripts.cluster.render import render_nginx, render_supervisor
from scripts.cluster.supervisor import is_running, start_supervisord, supervisorctl, supervisord_pid

# supervisorctl talks to supervisord over a unix socket in the run dir, and
# a socket's path is limited to about 107 bytes.
_MAX_SOCKET_PATH = 100


def up(cfg: ClusterConfig, *, timeout: float = 90.0, quiet: bool = False) -> None:
    """Start the cluster in ``cfg.run_dir``, or bring a running one in line
    with ``cfg``, and return once every node is ready behind nginx."""
    cfg.check_frontend()
    _prepare_run_dir(cfg)
    running = is_running(cfg)
    _check_ports_free(cfg, running)
    _write_configs(cfg, quiet=quiet)
    if running:
        if not quiet:
            say("cluster already running: applying the configuration")
        supervisorctl(cfg, "reread")
        supervisorctl(cfg, "update")
    else:
        if not quiet:
            say(f"starting supervisord in {cfg.run_dir}")
        start_supervisord(cfg)
    asyncio.run(_start(cfg, timeout))
    if not quiet:
        _print_welcome(cfg)


def _prepare_run_dir(cfg: ClusterConfig) -> None:
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    if is_root():
        cfg.run_dir.chmod(0o755)  # Postgres runs as its own user and must enter it
    if len(str(cfg.socket_path)) > _MAX_SOCKET_PATH:
        raise LaunchError(f"run dir path too long for a unix socket: {cfg.run_dir}")
    for sub in ("logs", "nginx/tmp"):
        (cfg.run_dir / sub).mkdir(parents=True, exist_ok=True)
    # supervisord opens its own log before it sets its umask (077): made
    # here, ours only.  Logs of an earlier run, made before that umask, too.
    (cfg.log_dir / "supervisord.log").touch(0o600)
    for log in cfg.log_dir.iterdir():
        log.chmod(0o600)


def _check_ports_free(cfg: ClusterConfig, running: bool) -> None:
    """Every port ``cfg`` binds is free, but for those the running cluster of this run dir holds."""
    held = ClusterConfig.load(cfg.run_dir).ports().values() if running else []
    taken = [f"{what} {port}" for what, port in cfg.ports().items() if port not in held and port_in_use(port)]
    if taken:
        raise LaunchError(f"port already in use on 127.0.0.1: {', '.join(taken)}; pick others")


def _write_configs(cfg: ClusterConfig, *, quiet: bool) -> None:
    if cfg.own_postgres:
        init_postgres(cfg, quiet=quiet)
    if cfg.own_redis:
        redis_topology.write_configs(
            cfg.redis_topology,
            cfg.redis_processes,
            password=secret_file(cfg.run_dir / "redis-password"),
            layout_file=cfg.run_dir / "redis-layout.json",
        )
    write(cfg.run_dir / "nginx" / "nginx.conf", render_nginx(cfg))
    write(cfg.supervisor_conf, render_supervisor(cfg), 0o600)  # the nodes' passwords are in it
    cfg.save()


async def _start(cfg: ClusterConfig, wait: float) -> None:
    """The stores first, then the nodes, then nginx: each once the one before answers."""
    await wait_stores(cfg, wait)
    await asyncio.to_thread(supervisorctl, cfg, "start", "nodes:*")
    await wait_nodes_ready(cfg, cfg.node_names(), wait)
    nginx = await asyncio.to_thread(supervisorctl, cfg, "status", "nginx", check=False)
    if "RUNNING" in nginx.stdout:
        await asyncio.to_thread(supervisorctl, cfg, "signal", "HUP", "nginx")  # reload the new config
    else:
        await asyncio.to_thread(supervisorctl, cfg, "start", "nginx")
    await wait_behind_nginx(cfg, cfg.node_names(), wait)


def _print_welcome(cfg: ClusterConfig) -> None:
    api = cfg.url + "/api"
    code = """python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["code"])'"""
    # Shows the login's answer (on stderr) and keeps its token; a failed
    # login (memory mode: "wrong code") leaves TOKEN empty.
    token = (
        "python3 -c 'import json,sys; d=json.load(sys.stdin); "
        """print(json.dumps(d), file=sys.stderr); print(d.get("data", ""))'"""
    )
    body = """'{"phone":"'$PHONE'","code":"'$CODE'"}'"""
    lines = [
        # A new phone each time: a phone may get one code a minute (SECURITY.md).
        "  PHONE=139$(shuf -i 10000000-99999999 -n 1); "
        f"curl -s -X POST '{api}/user/code?phone='$PHONE; echo; "
        f"CODE=$(curl -s '{api}/dev/sms/latest?phone='$PHONE | {code})",
        f"  TOKEN=$(curl -s {api}/user/login -H 'content-type: application/json' -d {body} | {token})",
        f'  for i in 1 2 3; do curl -s {api}/user/me -H "authorization: $TOKEN" -D - '
        "| grep -iE '^(HTTP|x-node)|success'; done",
    ]
    for name in cfg.mistakes:
        # Loud on purpose: a cluster that makes a mistake must not pass for the fix.
        print(colour("1;41", f" MISTAKE={name} ") + " " + colour("1;31", f"on purpose: {WHAT[name]}"))
    print(
        f"\n{colour('1;32', 'Cluster ready:')} {cfg.url}  ({cfg.nodes} nodes; {cfg.strategy})\n"
        + _pages(cfg)
        + "    The journey, explained: make try\n"
        "Try it by hand (send a code, log in with it, then ask three nodes who you are):\n"
        + "\n".join(lines)
        + "\n"
    )


def _pages(cfg: ClusterConfig) -> str:
    if not cfg.frontend:
        return f"The page: {cfg.url}/"
    # FRONTEND: the course's own pages at /, the lab's moved aside.
    return (
        f"The course's pages: {cfg.url}/ (from {cfg.frontend}; log in at {cfg.url}/login.html)\n"
        f"The lab's page: {cfg.url}/lab/"
    )


def down(cfg: ClusterConfig, *, timeout: float = 60.0, quiet: bool = False) -> None:
    pid = supervisord_pid(cfg)
    if pid is None:
        if not quiet:
            say(f"nothing running in {shown(cfg.run_dir)}")
        return
    if supervisorctl(cfg, "shutdown", check=False).returncode != 0:
        os.kill(pid, signal.SIGTERM)
    asyncio.run(wait_supervisord_gone(cfg, timeout))
    if not quiet:
        say(f"cluster stopped; its data is kept in {shown(cfg.run_dir)} (make clean deletes it)")


def shown(path: Path) -> str:
    """``path`` as a user would type it: relative to the current dir if under it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def sessions_note(cfg: ClusterConfig) -> str:
    """What happens to the sessions a node held when it stops, in this mode."""
    return {
        "memory": "the sessions it held in memory are gone",
        "replicated": "the other nodes hold copies of its sessions",
        "redis": "its sessions are in Redis: none lost",
    }.get(cfg.session_store, f"sessions in {cfg.session_store}")


_COLUMNS = "{:<8} {:<24} {:<9} {:>9} {:>13}  {}"


def status(cfg: ClusterConfig) -> int:
    if not is_running(cfg):
        print(f"cluster is not running (run dir {cfg.run_dir})")
        return 1
    print(supervisorctl(cfg, "status", check=False).stdout.rstrip())
    print(f"\n{cfg.strategy}    nginx: {cfg.url}")
    print("\n".join(asyncio.run(_probe(cfg))))
    return 0


async def _probe(cfg: ClusterConfig) -> list[str]:
    """A line per node (ready, not ready or down; requests; store errors;
    then why it is not ready or down), and nginx's counters."""
    lines = [_COLUMNS.format("node", "address", "state", "requests", "store errors", "detail").rstrip()]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        for index, name in enumerate(cfg.node_names(), start=1):
            counts, detail = ("-", "-"), ""
            try:
                async with http.get(cfg.node_url(index) + "/readyz") as resp:
                    body = await resp.json()
                    state = "ready" if resp.status == 200 else "not ready"
                    if resp.status != 200:
                        detail = json.dumps(body.get("data"))
                async with http.get(cfg.node_url(index) + "/metrics") as resp:
                    counts = _served_and_errors(await resp.text())
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                state, detail = "down", type(exc).__name__
            lines.append(_COLUMNS.format(name, cfg.node_url(index), state, *counts, detail).rstrip())
        try:
            async with http.get(cfg.url + "/nginx_status") as resp:
                text = " ".join((await resp.text()).split())
                lines.append(f"nginx    {text}" if resp.status == 200 else f"nginx    status {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            lines.append(f"nginx    down ({type(exc).__name__})")
    return lines


def _served_and_errors(exposition: str) -> tuple[str, str]:
    """Requests answered and session-store errors, from a node's /metrics."""
    totals = {"sessionlab_http_requests": 0.0, "sessionlab_session_store_errors": 0.0}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name.removesuffix("_total") in totals and sample.name.endswith("_total"):
                totals[sample.name.removesuffix("_total")] += sample.value
    return f"{totals['sessionlab_http_requests']:,.0f}", f"{totals['sessionlab_session_store_errors']:,.0f}"


def logs(cfg: ClusterConfig, *, node: int | None, follow: bool, lines: int) -> int:
    wanted = [cfg.log_dir / f"node{node}.log"] if node is not None else sorted(cfg.log_dir.glob("*.log"))
    files = [f for f in wanted if f.exists()]
    if not files:
        print(f"no logs in {cfg.log_dir}")
        return 1
    return subprocess.call(["tail", "-n", str(lines), *(["-F"] if follow else []), *map(str, files)])


def _check_running(cfg: ClusterConfig) -> None:
    if not is_running(cfg):
        raise LaunchError(f"cluster is not running (run dir {cfg.run_dir})")


def _check_node(cfg: ClusterConfig, index: int) -> None:
    _check_running(cfg)
    if not 1 <= index <= cfg.nodes:
        raise LaunchError(f"NODE must be 1..{cfg.nodes}, not {index}")


def stop_node(cfg: ClusterConfig, index: int, *, quiet: bool = True) -> None:
    _check_node(cfg, index)
    supervisorctl(cfg, "stop", f"nodes:node{index}")
    if not quiet:
        say(f"node{index} stopped; nginx sends its requests to the others; {sessions_note(cfg)}")


def start_node(cfg: ClusterConfig, index: int, *, timeout: float = 60.0, quiet: bool = True) -> None:
    _check_node(cfg, index)
    supervisorctl(cfg, "start", f"nodes:node{index}")
    asyncio.run(wait_back(cfg, [f"node{index}"], timeout))
    if not quiet:
        say(f"node{index} started, ready and answering through nginx")


def restart(cfg: ClusterConfig, *, timeout: float = 60.0, quiet: bool = True) -> None:
    """Restart every node (to load edited code) and wait until ready."""
    _check_running(cfg)
    supervisorctl(cfg, "restart", "nodes:*")
    asyncio.run(wait_nodes_ready(cfg, cfg.node_names(), timeout))
    if not quiet:
        lost = "; the sessions they held in memory are gone" if cfg.session_store == "memory" else ""
        say(f"{cfg.nodes} nodes restarted at once and ready{lost}")


def rolling_restart(cfg: ClusterConfig, *, timeout: float = 60.0, quiet: bool = False) -> None:
    """Restart the nodes one at a time, each back behind nginx before the
    next goes: a stopping node is drained (node/server.py), so no request is
    lost.  nginx is not reloaded: that would close clients' idle connections."""
    _check_running(cfg)
    for name in cfg.node_names():
        if not quiet:
            say(f"restarting {name}")
        supervisorctl(cfg, "stop", f"nodes:{name}")
        supervisorctl(cfg, "start", f"nodes:{name}")
        asyncio.run(wait_back(cfg, [name], timeout))
    if not quiet:
        say(f"{cfg.nodes} nodes restarted one by one, each back behind nginx before the next")


def clean(run_dir: Path, *, quiet: bool = True) -> None:
    """Delete the run dir, data included; the cluster must be down."""
    run_dir = Path(run_dir).resolve()
    if is_running(ClusterConfig(run_dir=run_dir)):
        raise LaunchError("the cluster is running: `make down` first")
    existed = run_dir.exists()
    remove_outside_data(run_dir)
    shutil.rmtree(run_dir, ignore_errors=True)
    if not quiet:
        say(
            f"deleted {shown(run_dir)} (configs, logs, Postgres and Redis data)"
            if existed
            else f"nothing to delete: no {shown(run_dir)}"
        )
