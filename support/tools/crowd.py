"""The verdict on a Locust crowd (bench/crowd.py): every viewer was told every event exactly
once, in order, and nothing failed; with the delivery percentiles Locust merged across workers."""

from __future__ import annotations


def transcript_problems(heard: list[str], expected: list[str]) -> list[str]:
    """What differs between the events a viewer heard and those it must hear, once each."""
    if heard == expected:
        return []
    return [f"expected {expected}, heard {heard}"]


def verdict(rows: list[dict[str, str]], viewers: int) -> tuple[bool, str]:
    """From Locust's stats CSV rows: all transcripts right and no failure; the figures."""
    by_name = {row["Name"]: row for row in rows}
    transcripts = by_name.get("transcript", {})
    told = int(transcripts.get("Request Count", 0)) - int(transcripts.get("Failure Count", 0))
    failures = sum(int(row["Failure Count"]) for row in rows if row["Name"] != "Aggregated")
    lines = [f"{told} of {viewers} viewers were told every event once, in order; "
             f"{failures} failures"]  # fmt: skip
    for row in rows:
        if row["Name"].startswith("deliver"):
            lines.append(
                f"  {row['Name']}: {row['Request Count']} deliveries, p50 {row['50%']} ms, "
                f"p95 {row['95%']} ms, p99 {row['99%']} ms, max {row['100%']} ms"
            )
    return told == viewers and failures == 0, "\n".join(lines)
