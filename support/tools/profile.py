"""Where a process spends its time, from py-spy's raw output (`py-spy record --format raw`):
one collapsed stack a line, its frames joined by ';' (outermost first), then its sample count."""

from __future__ import annotations

from collections import Counter


def self_time(collapsed: str) -> Counter[str]:
    """Samples per innermost frame: where the process was when sampled."""
    samples: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[stack.rsplit(";", 1)[-1]] += int(count)
    return samples


def top(collapsed: str, n: int = 12) -> str:
    """The `n` frames the most samples ended in, each with its share of all samples."""
    samples = self_time(collapsed)
    total = sum(samples.values()) or 1
    return "\n".join(f"{count / total:6.1%}  {frame}" for frame, count in samples.most_common(n))
