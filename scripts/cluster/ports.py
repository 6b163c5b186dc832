"""Ports on 127.0.0.1: free ones for a throwaway cluster, and whether one is taken."""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

# Every port this process has handed out: a port chosen for a cluster is
# free until that cluster starts, and must not go to another meanwhile.
_handed_out: set[int] = set()
_lock = threading.Lock()


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, each held open until all are
    chosen, none handed out before by this process, and below the kernel's
    ephemeral range: a port from that range, once released, may go to an
    outgoing connection before its service starts."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError):
        low = 32768
    socks: list[socket.socket] = []
    with _lock:
        try:
            while len(socks) < count:
                port = random.randint(20000, low - 1)
                if port in _handed_out:
                    continue
                sock = socket.socket()
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    sock.close()
                    continue
                socks.append(sock)
            ports = [int(sock.getsockname()[1]) for sock in socks]
            _handed_out.update(ports)
            return ports
        finally:
            for sock in socks:
                sock.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
