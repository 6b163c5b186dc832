"""The launcher: one machine, no Docker, the whole cluster under supervisord.

``make up`` and the test fixtures both call :func:`up` with a
:class:`ClusterConfig`, so the tests run what a user runs.  Every file
lives in the run dir: configs, data, logs, sockets.  supervisord (a pip
package: no system service manager needed) owns the processes, restarts a
node that dies, and makes ``down`` one ``shutdown``.

    config.py          the settings (each declared once) and what follows from them
    ports.py           free ports, taken ports
    postgres.py        initdb, the project database
    redis_topology.py  its own Redis: one server, Sentinel or Cluster
    render.py          nginx.conf and supervisord.conf (jinja2)
    supervisor.py      supervisorctl, pids
    readiness.py       the waits: stores, nodes, nginx
    commands.py        up, down, status, logs, stop/start a node, restarts, clean
    cli.py             the command line
"""

from scripts.cluster.commands import (
    clean,
    down,
    logs,
    restart,
    rolling_restart,
    start_node,
    status,
    stop_node,
    up,
)
from scripts.cluster.common import ROOT, VENV_BIN, LaunchError, colour, new_run_dir, nginx_bin, say
from scripts.cluster.config import ClusterConfig, launcher_setting
from scripts.cluster.ports import free_ports, port_in_use
from scripts.cluster.render import COMPOSE_NGINX, COMPOSE_NODE_PORT, render_compose_nginx
from scripts.cluster.supervisor import is_running, kill_process, pid_alive, process_pid, supervisorctl

__all__ = [
    "COMPOSE_NGINX",
    "COMPOSE_NODE_PORT",
    "ROOT",
    "VENV_BIN",
    "ClusterConfig",
    "LaunchError",
    "clean",
    "colour",
    "down",
    "free_ports",
    "is_running",
    "kill_process",
    "launcher_setting",
    "logs",
    "new_run_dir",
    "nginx_bin",
    "pid_alive",
    "port_in_use",
    "process_pid",
    "render_compose_nginx",
    "restart",
    "rolling_restart",
    "say",
    "start_node",
    "status",
    "stop_node",
    "supervisorctl",
    "up",
]
