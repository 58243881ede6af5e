"""Every rule the contract states has a scenario or test that checks it (docs/contract/coverage.md).

The rules are read from the contract itself: each documented status of each operation, each
event, each metric family, and each rule of rules.json. A rule without a row, a row for a rule
the contract no longer states, and a row naming a scenario or test that does not exist all fail.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

from support.core.contract import CONTRACT_DIR, coverage, events_schema, openapi

ROOT = CONTRACT_DIR.parent.parent
METHODS = ("get", "post", "put", "patch", "delete")


def contract_rules() -> set[str]:
    rules = {
        f"{method.upper()} {path} {status}"
        for path, operations in openapi()["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
        for status in operation["responses"]
    }
    for definition, schema in events_schema()["$defs"].items():
        channel, _, name = definition.partition("_")
        if name == "event":
            continue
        tag = "event" if channel == "ws" else "event_type"
        event = schema["properties"][tag]["const"]
        rules.add(f"{'WebSocket' if channel == 'ws' else 'Kafka'} event {event}")
    metrics = json.loads((CONTRACT_DIR / "metrics.json").read_text())
    rules |= {f"metric {family}" for family in metrics["families"]}
    rules |= set(json.loads((CONTRACT_DIR / "rules.json").read_text())["rules"])
    return rules


def scenarios(feature: Path) -> set[str]:
    text = feature.read_text()
    return set(re.findall(r"^\s*Scenario(?: Outline)?: (.+?)\s*$", text, re.MULTILINE))


def missing_reference(reference: str) -> str | None:
    """Why a row's reference does not resolve, or None if it names something that exists."""
    if "::" in reference:
        path, _, test = reference.partition("::")
        source = ROOT / path
        if not source.exists() or f"def {test}(" not in source.read_text():
            return f"no test {reference}"
        return None
    path, _, scenario = reference.partition(": ")
    feature = ROOT / path
    if not feature.exists() or scenario not in scenarios(feature):
        return f"no scenario {scenario!r} in {path}"
    return None


def test_every_rule_of_the_contract_has_a_row_and_every_row_a_rule() -> None:
    rules, rows = contract_rules(), coverage()
    assert rules - rows.keys() == set(), "rules with no row in coverage.md"
    assert rows.keys() - rules == set(), "rows for rules the contract does not state"


def test_every_row_names_scenarios_and_tests_that_exist() -> None:
    problems, pending = [], []
    for rule, checked_by in coverage().items():
        if checked_by[0].startswith("pending: issue "):
            pending.append(f"{rule}: {checked_by[0]}")
            continue
        problems += [
            f"{rule}: {why}"
            for reference in checked_by
            if (why := missing_reference(reference)) is not None
        ]
    assert problems == []
    for rule in pending:
        warnings.warn(f"no check yet for {rule}", stacklevel=1)


def test_the_suites_metric_names_are_the_contracts() -> None:
    from support.clients.metrics import NAMES

    families = json.loads((CONTRACT_DIR / "metrics.json").read_text())["families"]
    suffixes = ("_total", "_count", "_sum", "_bucket")
    for name, (sample, _) in NAMES.items():
        family = next((sample.removesuffix(s) for s in suffixes if sample.endswith(s)), sample)
        assert family in families, f"the suite's {name!r} reads {sample}, not in metrics.json"
