"""The closing summary states the run's wall time, not behave's own clock."""

from __future__ import annotations

import io

from behave.configuration import Configuration
from behave.reporter.summary import SummaryReporter

from support.report.summary import tell_wall_time


def test_the_summary_says_how_long_the_run_really_took() -> None:
    reporter = SummaryReporter(Configuration(command_args=[], load_config=False))
    reporter.testrun_started()
    tell_wall_time([object(), reporter], 83.25)
    reporter.testrun_finished()
    out = io.StringIO()
    reporter.print_duration(out)
    assert out.getvalue() == "Took 1min 23.250s\n"
