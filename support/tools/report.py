"""Before `allure generate`: carry the previous report's history into the results and name the
run (support/report/history.py). `python -m support.tools.report RESULTS PREVIOUS_REPORT`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from support.report.history import prepare


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tools.report")
    parser.add_argument("results", type=Path, help="the run's Allure results")
    parser.add_argument("previous", type=Path, help="the previous generated report")
    args = parser.parse_args(argv)
    try:
        print(prepare(args.results, args.previous))
    except FileNotFoundError as error:
        print(f"make report: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
