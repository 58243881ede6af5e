"""The embedded target: the real servers and the reference service as plain local processes.

`EmbeddedStack().start()` picks free loopback ports, starts the stores and nginx in parallel, then
the reference service and its analytics consumer, and returns the `Target` that points at them.
Every server logs into one run directory, which outlives the run so its logs can be read.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support.core.target import Target
from support.hls.browser import LIVE_SYNC_COUNT
from support.stack import launchers
from support.stack.ports import PortClaims
from support.stack.server import Server, StackError

__all__ = ["EmbeddedStack", "Server", "StackError"]

DEFAULT_ROOT = Path(os.environ.get("NOVA_STACK_ROOT", "/tmp/nova-acceptance"))  # noqa: S108 - world-readable on purpose
STORES = ("postgres", "redis", "clickhouse", "kafka", "nginx")
APPLICATIONS = ("service", "analytics")


KEEP_RUNS = 20

# The embedded platform's latency promise (docs/contract/README.md, "Latency"), derived from its
# settings. A frame waits in its fragment until the fragment closes (FRAGMENT: nginx-rtmp's
# hls_fragment, cut at the next keyframe, one a second), then nginx-rtmp writes it and lists it
# (LISTING allows for that and for a viewer's fetch). A player learns of it at its next reload,
# at most one target duration later, and plays LIVE_SYNC_COUNT target durations behind the live
# edge it knows (hls.js's liveSyncDurationCount, the player page's setting).
FRAGMENT = (
    1.0  # seconds: hls_fragment in templates/nginx.conf (tests/test_stack.py holds them equal)
)
TARGET_DURATION = 1.0  # EXT-X-TARGETDURATION nginx-rtmp writes for 1 s fragments
LISTING = 0.5
SEGMENT_DELAY_BOUND = FRAGMENT + LISTING
PLAYBACK_DELAY_BOUND = FRAGMENT + TARGET_DURATION * (1 + LIVE_SYNC_COUNT) + LISTING


def prune_runs(root: Path) -> None:
    """Keep the logs of the last runs; older run directories go. Stacks booting side by side
    prune at once: a directory another one removed meanwhile is passed over."""
    runs = sorted((when, run) for run in root.glob("run-*") if (when := modified(run)) is not None)
    for _, old in runs[:-KEEP_RUNS]:
        shutil.rmtree(old, ignore_errors=True)


def modified(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def free_ports(claims: PortClaims) -> launchers.Ports:
    return launchers.Ports(*claims.claim(len(fields(launchers.Ports))))


def write_jwt_keys(keys_dir: Path) -> str:
    """A fresh RS256 key pair per run: the service gets the public half, the suite signs."""
    keys_dir.mkdir()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (keys_dir / "jwt_public.pem").write_bytes(public_pem)
    # The token nginx-rtmp presents on every webhook call: only the ingest may call them.
    (keys_dir / "webhook_token").write_text(secrets.token_urlsafe(32))
    return private_pem


class EmbeddedStack:
    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        # initdb, postgres and nginx's workers need to traverse every parent directory.
        self.root.chmod(0o755)
        prune_runs(self.root)
        self.run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self.root))
        self.run_dir.chmod(0o755)
        self.claims = PortClaims()
        self.ports = free_ports(self.claims)
        self.servers: dict[str, Server] = {}
        self.boot_seconds = 0.0

    def start(self) -> Target:
        began = time.monotonic()
        private_key = write_jwt_keys(self.run_dir / "keys")
        builders: dict[str, Callable[[], Server]] = {
            "postgres": lambda: launchers.postgres(self.run_dir, self.ports, self.root),
            "redis": lambda: launchers.redis(self.run_dir, self.ports),
            "clickhouse": lambda: launchers.clickhouse(self.run_dir, self.ports),
            "kafka": lambda: launchers.kafka(self.run_dir, self.ports),
            "nginx": lambda: launchers.nginx(self.run_dir, self.ports),
            "service": lambda: launchers.service(self.run_dir, self.ports),
            "analytics": lambda: launchers.analytics(self.run_dir, self.ports),
        }
        try:
            # The service needs the stores at start-up; nginx needs the service only when a
            # broadcaster publishes, so it starts with the stores.
            self._start_all({name: builders[name] for name in STORES})
            self._start_all({name: builders[name] for name in APPLICATIONS})
        except BaseException:
            self.stop()
            raise
        self.boot_seconds = time.monotonic() - began
        return self.target(private_key)

    def target(self, private_key: str) -> Target:
        ports = self.ports
        return Target(
            kind="embedded",
            api_url=f"http://127.0.0.1:{ports.service}",
            rtmp_url=f"rtmp://127.0.0.1:{ports.rtmp}/live",
            hls_url=f"http://127.0.0.1:{ports.hls}/hls",
            metrics_url=f"http://127.0.0.1:{ports.service}/metrics",
            pg_dsn=f"postgresql://postgres@127.0.0.1:{ports.postgres}/postgres",
            redis_url=f"redis://127.0.0.1:{ports.redis}/0",
            kafka_bootstrap=f"127.0.0.1:{ports.kafka}",
            clickhouse_url=f"clickhouse://127.0.0.1:{ports.clickhouse_tcp}/default",
            jwt_private_key=private_key,
            segment_delay_bound=SEGMENT_DELAY_BOUND,
            playback_delay_bound=PLAYBACK_DELAY_BOUND,
        )

    def _start_all(self, builders: dict[str, Callable[[], Server]]) -> None:
        def start(name: str) -> None:
            server = builders[name]()
            self.servers[name] = server
            server.start()

        with ThreadPoolExecutor(max_workers=len(builders)) as pool:
            futures = {name: pool.submit(start, name) for name in builders}
        failures = [str(f.exception()) for f in futures.values() if f.exception() is not None]
        if failures:
            raise StackError("the embedded stack did not start:\n" + "\n".join(failures))

    def stop_server(self, name: str) -> None:
        self._server(name).stop()

    def start_server(self, name: str) -> None:
        self._server(name).start()

    def ensure_running(self, name: str) -> None:
        """Start the server unless it runs: the cleanup of a scenario that stopped it."""
        if not self._server(name).running():
            self.start_server(name)

    def _server(self, name: str) -> Server:
        if name not in self.servers:
            raise StackError(f"no server named {name!r}; the stack has {sorted(self.servers)}")
        return self.servers[name]

    def stop(self) -> None:
        """Stop everything that runs, applications first; keep the logs, drop the data."""
        errors = self._stop_each(APPLICATIONS) + self._stop_each(STORES)
        for server in self.servers.values():
            server.close()
        self.claims.release()
        for data in ("postgres/data", "clickhouse/data"):
            shutil.rmtree(self.run_dir / data, ignore_errors=True)
        if errors:
            raise StackError("some servers did not stop cleanly:\n" + "\n".join(errors))

    def _stop_each(self, names: Iterable[str]) -> list[str]:
        errors = []
        for name in names:
            server = self.servers.get(name)
            if server is None or not server.running():
                continue
            try:
                server.stop()
            except Exception as error:
                errors.append(f"{name}: {error}")
        return errors

    @property
    def webhook_token(self) -> str:
        """The secret nginx-rtmp presents on every webhook call (contract: ingest)."""
        return (self.run_dir / "keys" / "webhook_token").read_text()

    def logs(self) -> dict[str, list[Path]]:
        return {name: list(server.logs) for name, server in self.servers.items()}


@contextmanager
def booted(root: Path = DEFAULT_ROOT) -> Iterator[tuple[EmbeddedStack, Target]]:
    """An embedded stack for the length of a `with` block, stopped however the block ends."""
    stack = EmbeddedStack(root)
    target = stack.start()
    try:
        yield stack, target
    finally:
        stack.stop()
