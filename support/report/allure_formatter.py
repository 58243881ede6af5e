"""allure-behave's formatter, made to report what this suite's feature files say.

- Scenarios under `Rule:` are reported too: allure-behave 2.16 wraps only `feature.scenarios`,
  so rule scenarios were missing and attaching evidence to them failed with `KeyError: None`.
- The suite's tags become Allure labels and links: `@epic:x`, `@owner:x`, `@severity:x` and
  `@contract:section` (a link to that section of docs/contract/README.md); a scenario's story is
  the Rule it belongs to.
- Each result names its scenario's place (a `location` label, `features/x.feature:LINE`: an
  outline's example names its row's line) and links to that scenario in the living specification,
  which `make report` writes beside the report's index.html (support/report/specification.py).
"""

from __future__ import annotations

from typing import Any

from allure_behave.formatter import AllureFormatter as BaseAllureFormatter
from allure_commons.model2 import Label, Link, TestResult

from support.report.specification import anchor, location_of

CONTRACT_DOC = "docs/contract/README.md"
LABELS = ("epic", "owner", "severity")


class AllureFormatter(BaseAllureFormatter):  # type: ignore[misc]
    def __init__(self, stream_opener: Any, config: Any) -> None:
        super().__init__(stream_opener, config)
        contract = config.userdata.get("contract_url", CONTRACT_DOC)
        listener, start = self.listener, self.listener.start_scenario

        def start_scenario(scenario: Any) -> None:
            start(scenario)
            enrich(listener.logger.get_test(listener.current_scenario_uuid), scenario, contract)

        self.listener.start_scenario = start_scenario

    def feature(self, feature: Any) -> None:
        super().feature(feature)
        for rule in getattr(feature, "rules", ()):
            self._wrap_scenario(rule.scenarios)


def enrich(result: TestResult, scenario: Any, contract: str) -> None:
    rule = rule_of(scenario)
    tags = [str(t) for t in (*scenario.feature.tags, *(rule.tags if rule else ()), *scenario.tags)]
    translated = {tag for tag in tags if tag.partition(":")[0] in (*LABELS, "contract")}
    result.labels = [
        label for label in result.labels
        if not (label.name == "tag" and label.value in translated)
        and not (label.name == "severity" and any(t.startswith("severity:") for t in translated))
    ]  # fmt: skip
    for tag in sorted(translated):
        key, _, value = tag.partition(":")
        if key == "contract":
            result.links.append(
                Link(type="link", url=f"{contract}#{value}", name=f"contract: {value}")
            )
        else:
            result.labels.append(Label(name=key, value=value))
    if rule is not None:
        result.labels.append(Label(name="story", value=rule.name))
    location = location_of(scenario)
    result.labels.append(Label(name="location", value=location))
    result.links.append(
        Link(type="link", url=f"specification.html#{anchor(location)}", name="living specification")
    )


def rule_of(scenario: Any) -> Any:
    """The Rule a scenario is under, an outline's example through its outline; or None."""
    parent = scenario.parent
    if type(parent).__name__ == "ScenarioOutline":
        parent = parent.parent
    return parent if type(parent).__name__ == "Rule" else None
