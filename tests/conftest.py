"""Fixtures: the embedded stack, booted once for the tests that need real stores."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import port_for
import psutil
import pytest

from support.core.target import Target
from support.harness.identity import Person, TokenIssuer
from support.harness.polling import eventually
from support.stack import EmbeddedStack, booted

WEBHOOKS = (
    "/api/v1/streams/auth",
    "/api/v1/streams/done",
    "/api/v1/streams/update",
    "/api/v1/streams/rendition",
)


@dataclass
class Http:
    """A plain client for the service: tests speak to it the way nginx and users do."""

    base_url: str
    webhook_token: str = ""  # presented on the webhooks, as nginx-rtmp does

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        form: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        headers = {"Content-Type": content_type} if raw is not None else {}
        data = raw
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if (
            path.split("?", maxsplit=1)[0] in WEBHOOKS
            and self.webhook_token
            and "token=" not in path
        ):
            path += f"?token={self.webhook_token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        return status, json.loads(text) if text else None


@pytest.fixture(scope="session")
def embedded() -> Iterator[tuple[EmbeddedStack, Target]]:
    with booted() as stack_and_target:
        yield stack_and_target


@pytest.fixture(scope="session")
def stack(embedded: tuple[EmbeddedStack, Target]) -> EmbeddedStack:
    return embedded[0]


@pytest.fixture(scope="session")
def target(embedded: tuple[EmbeddedStack, Target]) -> Target:
    return embedded[1]


@pytest.fixture(scope="session")
def http(stack: EmbeddedStack, target: Target) -> Http:
    return Http(target.api_url, (stack.run_dir / "keys" / "webhook_token").read_text())


@pytest.fixture(scope="session")
def issuer(target: Target) -> TokenIssuer:
    return TokenIssuer(target.jwt_private_key)


@pytest.fixture
def ada(issuer: TokenIssuer) -> tuple[Person, str]:
    person = Person("Ada")
    return person, issuer.token_for(person)


# ---- ffmpeg's own RTMP server, an implementation nobody here wrote -------------------------


@pytest.fixture
def ffmpeg_listener(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """`ffmpeg -listen 1`: an RTMP server that records what it receives, untouched, to FLV."""
    port, out = free_port(), tmp_path / "received.flv"
    url = f"rtmp://127.0.0.1:{port}/live/x"
    process = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-listen", "1", "-i", url, "-c", "copy",
         "-y", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    eventually(lambda: listening(process.pid, port), within=10, what="ffmpeg listening")
    yield url, out, process
    process.kill()
    process.wait()


def listening(pid: int, port: int) -> None:
    ports = {c.laddr.port for c in psutil.Process(pid).net_connections() if c.status == "LISTEN"}
    assert port in ports, f"not yet listening on {port}"


def free_port() -> int:
    port: int = port_for.select_random()
    return port
