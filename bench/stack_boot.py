"""Benchmark: embedded stack boot to ready, its memory at idle, and teardown.

    .venv/bin/python bench/stack_boot.py [--runs 5]

Prints one line per run and the medians, as recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from support.stack import EmbeddedStack


def rss_mib_by_group(groups: set[int]) -> float:
    """Resident memory of every process whose process group is one of the stack's servers."""
    total_kib = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            group = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
            if group not in groups:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total_kib / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    boots, memories, stops = [], [], []
    for run in range(1, runs + 1):
        stack = EmbeddedStack()
        stack.start()
        groups = {server.process.pid for server in stack.servers.values() if server.process}
        time.sleep(1.0)  # let start-up allocations settle before reading idle memory
        memory = rss_mib_by_group(groups)
        began = time.monotonic()
        stack.stop()
        stop = time.monotonic() - began
        boots.append(stack.boot_seconds)
        memories.append(memory)
        stops.append(stop)
        print(
            f"run {run}: ready in {stack.boot_seconds:.2f} s, {memory:.0f} MiB RSS, "
            f"stopped in {stop:.2f} s"
        )
    print(
        f"median of {runs}: ready in {statistics.median(boots):.2f} s "
        f"(min {min(boots):.2f}, max {max(boots):.2f}), "
        f"{statistics.median(memories):.0f} MiB RSS, stopped in {statistics.median(stops):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
