"""The process's own limits: a crowd of viewers, or an attacker's connections, is many sockets."""

from __future__ import annotations

import resource


def allow_open_files(wanted: int | None = None) -> None:
    """Raise the soft limit on open files to `wanted` (None: the hard limit); never above the
    hard limit, never down."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted is None:
        if hard == resource.RLIM_INFINITY:
            return  # the kernel refuses an infinite soft limit on open files
        wanted = hard
    elif hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
