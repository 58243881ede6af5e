"""A network that vanishes silently, cut with the kernel's own firewall (nftables).

Every packet of one TCP connection is dropped, both ways, from the moment of the cut: no FIN,
no RST, as when a broadcaster's uplink dies. The connection is known by the local port of its
client end, so nothing else on the machine is touched; the rules live in a table of their own,
which `restore` deletes whole.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


class CutUnavailable(RuntimeError):
    """This machine cannot cut a connection: no nft, or not allowed to change the firewall."""


def why_not() -> str | None:
    """Why connections cannot be cut here, or None if they can."""
    if shutil.which("nft") is None:
        return "nftables (the nft command) is not installed"
    if os.geteuid() != 0:
        return "cutting a connection needs root (nftables rules)"
    probe = f"nova_probe_{os.getpid()}"
    made = subprocess.run(
        ["nft", "add", "table", "inet", probe], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:  # a container without CAP_NET_ADMIN, a kernel without nf_tables
        return f"the firewall cannot be changed here: {made.stderr.strip()}"
    subprocess.run(["nft", "delete", "table", "inet", probe], capture_output=True, check=False)
    return None


@dataclass
class Cut:
    port: int  # the local port of the connection's client end
    table: str = ""

    def __post_init__(self) -> None:
        self.table = f"nova_cut_{os.getpid()}_{self.port}"

    def apply(self) -> None:
        reason = why_not()
        if reason:
            raise CutUnavailable(reason)
        rules = f"""
table inet {self.table} {{
    chain output {{
        type filter hook output priority -10; policy accept;
        tcp sport {self.port} drop
        tcp dport {self.port} drop
    }}
    chain input {{
        type filter hook input priority -10; policy accept;
        tcp sport {self.port} drop
        tcp dport {self.port} drop
    }}
}}
"""
        done = subprocess.run(
            ["nft", "-f", "-"], input=rules, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise CutUnavailable(f"nft refused the rules: {done.stderr.strip()}")

    def restore(self) -> None:
        subprocess.run(
            ["nft", "delete", "table", "inet", self.table], capture_output=True, check=False
        )
