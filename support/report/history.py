"""The Allure report's memory across runs: the previous report's `history/` copied into the new
results before `allure generate` (so Trend, retries and flaky marks have something to show),
and `executor.json`, which names the run that produced them (CI's run, or this machine).

Allure keeps a run's history in the generated report (`history/`), not in the results; a new
report starts from nothing unless that folder is put back into the results first. Locally the
previous report is `reports/allure-report`; in CI the workflow restores it from a cache.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def carry_history(previous_report: Path, results: Path) -> int:
    """Copy the previous report's history into the results; how many runs it remembers."""
    source = previous_report / "history"
    if not source.is_dir():
        return 0
    target = results / "history"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return len(trend(target))


def trend(history: Path) -> list[dict[str, Any]]:
    """The runs Allure remembers, newest first (history-trend.json)."""
    path = history / "history-trend.json"
    try:
        runs = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return runs if isinstance(runs, list) else []


def executor(env: Mapping[str, str], previous_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Who ran it: a GitHub Actions run (its number, its page) or this machine, numbered
    after the runs the history holds, so the Trend's points are in order."""
    order = 1 + max((int(run.get("buildOrder") or 0) for run in previous_runs), default=0)
    if env.get("GITHUB_RUN_ID"):
        server, repo = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", "")
        run_url = f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}"
        number = int(env.get("GITHUB_RUN_NUMBER") or order)
        return {
            "name": "GitHub Actions",
            "type": "github",
            "buildName": f"{env.get('GITHUB_WORKFLOW', 'acceptance')} #{number}",
            "buildOrder": number,
            "buildUrl": run_url,
            "reportName": f"Nova acceptance, {env.get('GITHUB_REF_NAME', '')}".rstrip(", "),
        }
    return {
        "name": f"local run on {socket.gethostname()}",
        "type": "local",
        "buildName": f"local run {order}",
        "buildOrder": order,
        "reportName": "Nova acceptance",
    }


def prepare(results: Path, previous_report: Path, env: Mapping[str, str] | None = None) -> str:
    """Make the results remember the previous report and name their run; what was done."""
    if not results.is_dir():
        raise FileNotFoundError(f"no Allure results at {results}: run make accept first")
    named = results / "executor.json"
    if named.exists():  # reported before: its history is already the one before this run
        run = json.loads(named.read_text())
        return f"{run['buildName']}: reported again, with the history it had"
    remembered = carry_history(previous_report, results)
    run = executor(os.environ if env is None else env, trend(results / "history"))
    named.write_text(json.dumps(run, indent=2) + "\n")
    return f"{run['buildName']}: the report remembers {remembered} earlier run(s)"
