"""Contract v1 (docs/contract/): every REST answer the suite reads is checked against it."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "docs" / "contract"


class ContractViolation(AssertionError):
    """An answer the contract does not allow; says which operation, status and rule.

    The harness polls with it conclusive (support/harness/polling.py): a poll that sees it fails
    at once, whatever a later poll would have seen.
    """


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACT_DIR / "openapi.json").read_text())
    return document


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/components/responses/"):
        node = openapi()["components"]["responses"][node["$ref"].rsplit("/", 1)[1]]
    return node


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The documented operation matching a concrete path, with its path template."""
    for template, operations in openapi()["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return template, operations[method.lower()]
    raise ContractViolation(f"{method} {path} is not an operation of the contract")


@cache
def response_validator(method: str, template: str, status: int) -> Draft202012Validator | None:
    """The schema of one documented answer, compiled once; None if it has no JSON body."""
    spec = openapi()["paths"][template][method.lower()]
    content = resolve(spec["responses"][str(status)]).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    return Draft202012Validator(
        {"components": openapi()["components"], **schema}, format_checker=FormatChecker()
    )


def check_response(method: str, path: str, status: int, body: Any) -> None:
    template, spec = operation(method, path)
    responses = spec["responses"]
    if str(status) not in responses:
        raise ContractViolation(
            f"{method} {template} answered {status}, which the contract does not allow "
            f"(documented: {', '.join(sorted(responses))}); body: {json.dumps(body)[:300]}"
        )
    validator = response_validator(method, template, status)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        rules = "; ".join(f"at {e.json_path}: {e.message}" for e in errors[:5])
        raise ContractViolation(
            f"{method} {template} answered {status} against the contract: {rules}"
        )


@cache
def events_schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTRACT_DIR / "events.schema.json").read_text())
    return document


def event_problems(channel: str, event: Any) -> list[str]:
    """What is wrong with a WebSocket ("ws") or Kafka ("kafka") event; [] if nothing."""
    name = (
        event.get("event" if channel == "ws" else "event_type") if isinstance(event, dict) else None
    )
    definition = f"{channel}_{str(name).replace('.', '_')}"
    if definition not in events_schema()["$defs"] or definition.endswith("_event"):
        return [f"{name!r} is not a {channel} event of the contract"]
    return [
        f"at {e.json_path}: {e.message}" for e in event_validator(definition).iter_errors(event)
    ]


@cache
def event_validator(definition: str) -> Draft202012Validator:
    """Built once per event kind: a crowd of viewers checks every frame it hears."""
    schema = {**events_schema(), "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema, format_checker=FormatChecker())


@cache
def stores() -> dict[str, Any]:
    """The store names the suite reads (stores.json): tables, columns, keys and the topic."""
    document: dict[str, Any] = json.loads((CONTRACT_DIR / "stores.json").read_text())
    return document


def coverage() -> dict[str, list[str]]:
    """docs/contract/coverage.md: each rule of the contract and what checks it, as written there
    (`features/FILE: scenario`, `tests/FILE::test`, or `pending: issue N`)."""
    rows = {}
    for line in (CONTRACT_DIR / "coverage.md").read_text().splitlines():
        found = re.match(r"\| `(.+)` \| (.+) \|$", line)
        if found:
            rows[found[1]] = found[2].split("; ")
    return rows
