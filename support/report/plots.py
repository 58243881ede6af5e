"""Plots for the report: a PNG of delivery latencies, drawn without a display."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from support.chaos.checker import Violation
    from support.chaos.history import History
    from support.hls.latency import Delays


def latency_histogram(seconds: list[float], title: str, marks: dict[str, float]) -> bytes:
    # Imported here: matplotlib takes 1.7 s to import, which every behave process (each
    # parallel worker, each dry run) paid for a plot only the @load scenario draws.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.hist([s * 1000 for s in seconds], bins=50, color="#4a7fb0")
    for name, value in marks.items():
        axes.axvline(value * 1000, linestyle="--", color="#c0392b", linewidth=1)
        axes.annotate(
            name, (value * 1000, axes.get_ylim()[1] * 0.95), rotation=90, fontsize=8, ha="right"
        )
    axes.set_xlabel("delivery latency (ms)")
    axes.set_ylabel("events delivered")
    axes.set_title(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


OUTCOME_COLOURS = {"ok": "#2e8b57", "failed": "#c0392b", "unknown": "#e67e22"}


def chaos_timeline(history: History, violations: list[Violation]) -> bytes:
    """A chaos run at a glance: each server's faults as bars, each actor's operations as dots
    coloured by outcome, and a red line at every operation a violation names."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    servers = sorted({f.server for f in history.faults})
    actors = sorted({op.actor for op in history.ops})
    rows = servers + actors
    figure = Figure(figsize=(12, 0.35 * len(rows) + 1.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    t0 = history.began
    for fault in history.faults:
        healed = fault.healed if fault.healed is not None else history.ended or fault.began
        colour = {"kill": "#7f8c8d", "pause": "#8e44ad", "restart": "#34495e"}[fault.action]
        axes.barh(rows.index(fault.server), max(healed - fault.began, 0.2), left=fault.began - t0,
                  color=colour, height=0.6)  # fmt: skip
    for outcome, colour in OUTCOME_COLOURS.items():
        ops = [op for op in history.ops if op.outcome == outcome]
        axes.scatter([op.invoked - t0 for op in ops], [rows.index(op.actor) for op in ops],
                     s=8, color=colour, label=outcome)  # fmt: skip
    for violation in violations:
        for op in violation.ops[:3]:
            axes.axvline(op.invoked - t0, color="#c0392b", linewidth=0.6, alpha=0.5)
    axes.set_yticks(range(len(rows)), rows, fontsize=8)
    axes.set_xlabel("seconds since the run began (bars: kill grey, pause purple, restart dark)")
    axes.set_title(f"chaos, seed {history.seed}: {len(history.ops)} operations, "
                   f"{len(history.faults)} faults, {len(violations)} violations")  # fmt: skip
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


DELAY_COLOURS = ("#4a7fb0", "#2e8b57", "#e67e22", "#8e44ad")


def delays_over_time(
    delays: list[Delays], title: str, bounds: Mapping[str, float] | None = None
) -> bytes:
    """Each kind of delay behind the camera against the seconds since the first was seen, with
    each bound the target promises as a dashed line."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    start = min((d.at for found in delays for d in found.seen), default=0.0)
    for found, colour in zip(delays, DELAY_COLOURS, strict=False):
        if found.seen:
            axes.plot([d.at - start for d in found.seen], [d.seconds for d in found.seen],
                      marker=".", linewidth=1, color=colour, label=found.name)  # fmt: skip
    for (name, bound), style in zip((bounds or {}).items(), ("--", ":"), strict=False):
        axes.axhline(
            bound, linestyle=style, color="#c0392b", linewidth=1, label=f"{name} {bound:g} s"
        )
    highest = max([d.seconds for found in delays for d in found.seen] + [*(bounds or {}).values()])
    axes.set_xlabel("seconds")
    axes.set_ylabel("behind the camera (s)")
    axes.set_ylim(0, highest * 1.45 if highest > 0 else 1)
    axes.set_title(title)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
