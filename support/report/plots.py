"""Plots for the report: a PNG of delivery latencies, drawn without a display."""

from __future__ import annotations

import io


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
