"""The report's two steps around `allure generate` (make report):

python -m support.tools.report prepare RESULTS PREVIOUS_REPORT
    carry the previous report's history into the results and name the run
    (support/report/history.py)
python -m support.tools.report specification REPORT
    write REPORT/specification.html, the living specification, from the generated report
    and the feature files, and print what changed and what flakes
    (support/report/specification.py)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from support.report.history import prepare
from support.report.specification import write

FEATURES = Path("features")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.tools.report")
    commands = parser.add_subparsers(dest="command", required=True)
    before = commands.add_parser("prepare", help="before allure generate")
    before.add_argument("results", type=Path, help="the run's Allure results")
    before.add_argument("previous", type=Path, help="the previous generated report")
    after = commands.add_parser("specification", help="after allure generate")
    after.add_argument("report", type=Path, help="the generated Allure report")
    args = parser.parse_args(argv)
    try:
        if args.command == "prepare":
            print(prepare(args.results, args.previous))
        else:
            print(write(FEATURES, args.report))
    except FileNotFoundError as error:
        print(f"make report: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
