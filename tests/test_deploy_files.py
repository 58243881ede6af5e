"""The compose stack and the embedded stack cannot drift: same templates, same variables."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from support.stack.launchers import Ports, service_env
from support.target import ENDPOINTS, env_name

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose" / "docker-compose.yml").read_text())


def test_the_nginx_image_fills_every_placeholder_of_the_shared_template() -> None:
    template = (ROOT / "support" / "stack" / "templates" / "nginx.conf").read_text()
    dockerfile = (ROOT / "compose" / "nginx" / "Dockerfile").read_text()
    placeholders = set(re.findall(r"\{\{(\w+)\}\}", template))
    filled = set(re.findall(r"s#\{\{(\w+)\}\}#", dockerfile))
    assert placeholders == filled
    assert "COPY support/stack/templates/nginx.conf" in dockerfile


def test_the_service_gets_the_same_settings_in_both_stacks() -> None:
    embedded = set(service_env(Path("/run"), Ports(*range(1, 9))))
    container_only = {"HOST", "PORT"}  # set by the service image
    embedded_only = {"KAFKA_SESSION_TIMEOUT_MS"}  # Tansu's slow group join; Apache Kafka keeps 6 s
    composed = set(COMPOSE["services"]["service"]["environment"])
    assert composed == embedded - container_only - embedded_only


def test_the_compose_target_gives_the_suite_every_endpoint() -> None:
    lines = (ROOT / "compose" / "suite.env").read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert names == {env_name(e) for e in ENDPOINTS} | {"NOVA_JWT_PRIVATE_KEY_FILE"}
