"""allure-behave's formatter, also for scenarios grouped under `Rule:`.

allure-behave 2.16 wraps only `feature.scenarios` in its report context; scenarios under a Rule
are missing from the report, and attaching evidence to them fails with `KeyError: None`.
"""

from __future__ import annotations

from typing import Any

from allure_behave.formatter import AllureFormatter as BaseAllureFormatter


class AllureFormatter(BaseAllureFormatter):  # type: ignore[misc]
    def feature(self, feature: Any) -> None:
        super().feature(feature)
        for rule in getattr(feature, "rules", ()):
            self._wrap_scenario(rule.scenarios)
