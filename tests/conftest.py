"""Fixtures: the embedded stack, booted once for the tests that need real stores."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from support.identity import Person, TokenIssuer
from support.stack import EmbeddedStack
from support.target import Target

WEBHOOKS = ("/api/v1/streams/auth", "/api/v1/streams/done", "/api/v1/streams/update")


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
def booted() -> Iterator[tuple[EmbeddedStack, Target]]:
    stack = EmbeddedStack()
    target = stack.start()
    yield stack, target
    stack.stop()


@pytest.fixture(scope="session")
def stack(booted: tuple[EmbeddedStack, Target]) -> EmbeddedStack:
    return booted[0]


@pytest.fixture(scope="session")
def target(booted: tuple[EmbeddedStack, Target]) -> Target:
    return booted[1]


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
