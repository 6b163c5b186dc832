"""The configs a cluster runs from, rendered with jinja2: nginx.conf and supervisord.conf."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import jinja2

from node.settings import Settings, default_of
from scripts.cluster.common import ROOT, VENV_BIN, is_root, nginx_bin, redis_bin
from scripts.cluster.config import ClusterConfig
from scripts.cluster.postgres import pg_bin

COMPOSE_NGINX = ROOT / "nginx" / "compose.conf"
COMPOSE_NODE_PORT: int = default_of(Settings, "port")  # compose's nodes listen on their default

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader([ROOT / "nginx", Path(__file__).parent / "templates"]),
    undefined=jinja2.StrictUndefined,  # a placeholder the launcher does not fill is an error
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)
_COMMON = "redirect_stderr=true\nstdout_logfile_maxbytes=20MB\nstdout_logfile_backups=2"


def _nginx(cfg: ClusterConfig, *, servers: list[str], **paths: str) -> str:
    return _TEMPLATES.get_template("nginx.conf.template").render(
        servers=servers,
        sticky=cfg.balance == "sticky",
        strategy=cfg.strategy,
        login_rate=cfg.login_rate,
        login_burst=cfg.login_burst,
        frontend=cfg.frontend,
        **paths,
    )


def render_nginx(cfg: ClusterConfig) -> str:
    """nginx.conf for `make up`: every path in the run dir, nodes on 127.0.0.1."""
    # Workers read the page from the checkout and write temp files in the
    # run dir, both the launching user's; as root that user is root.
    user = "user root;" if is_root() else "# no user directive: nginx runs as whoever starts it"
    return _nginx(
        cfg,
        servers=[f"127.0.0.1:{port}" for port in cfg.node_ports],
        user=user,
        listen=f"127.0.0.1:{cfg.port}",
        pid_file=f"{cfg.run_dir}/nginx/nginx.pid",
        error_log=f"{cfg.log_dir}/nginx-error.log",
        access_log=f"{cfg.log_dir}/nginx-access.log",
        temp_dir=f"{cfg.run_dir}/nginx/tmp",
        static_dir=str(ROOT / "nginx" / "static"),
    )


def render_compose_nginx() -> str:
    """nginx.conf for compose.yaml (the official nginx image), from the same
    template and defaults as `make up`: nodes by service name, logs to the
    container's output, listening on every interface of the container."""
    cfg = ClusterConfig(run_dir=Path("/tmp"))
    header = (
        "# Rendered from nginx/nginx.conf.template by `python -m scripts.cluster compose-nginx`\n"
        "# for compose.yaml; tests/unit/test_compose.py checks it is up to date.\n"
    )
    return header + _nginx(
        cfg,
        servers=[f"{name}:{COMPOSE_NODE_PORT}" for name in cfg.node_names()],
        user="user nginx;",
        listen=f"{cfg.port}",
        pid_file="/tmp/nginx.pid",
        error_log="/dev/stderr",
        access_log="/dev/stdout",
        temp_dir="/var/cache/nginx",
        static_dir="/usr/share/nginx/html",
    )


def _env_line(env: dict[str, str]) -> str:
    # supervisord expands %(...)s in values: escape % itself.
    return ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in env.items())


def _postgres_command(cfg: ClusterConfig) -> str:
    durability = [] if cfg.pg_durable else ["-c fsync=off", "-c synchronous_commit=off"]
    return " ".join(
        [
            str(pg_bin() / "postgres"),
            f"-D {cfg.pgdata.resolve()}",
            f"-p {cfg.pg_port}",
            "-c listen_addresses=127.0.0.1",
            # TCP only: no socket file to place where both users can write.
            "-c unix_socket_directories=''",
            *durability,
        ]
    )


def render_supervisor(cfg: ClusterConfig) -> str:
    redis = [{"name": p.name, "command": p.command(redis_bin())} for p in cfg.redis_processes]
    nodes: list[dict[str, Any]] = [
        {"name": name, "environment": _env_line(cfg.node_environment(index))}
        for index, name in enumerate(cfg.node_names(), start=1)
    ]
    return _TEMPLATES.get_template("supervisord.conf.j2").render(
        logs=cfg.log_dir,
        run_dir=cfg.run_dir,
        socket=cfg.socket_path,
        user=getpass.getuser() if is_root() else "",
        common=_COMMON,
        redis=redis,
        postgres=_postgres_command(cfg) if cfg.own_postgres else "",
        nodes=nodes,
        python=VENV_BIN / "python",
        root=ROOT,
        nginx=nginx_bin(),
    )
