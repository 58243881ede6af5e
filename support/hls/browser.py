"""A real browser playing the stream: headless Chromium with hls.js, driven by Selenium.

The suite serves the player page itself (hls.js comes from node_modules, installed at bootstrap,
never fetched at run time). Playback counts only if it advances: over the watch, currentTime
grows with wall time (at least 0.8 times), decoded frames keep rising, the video is not paused,
and hls.js reports no fatal error. currentTime alone proves nothing: hls.js seeks to the live
edge, seconds ahead, before a frame has played (docs/embedded-stack.md).
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import port_for
from aiohttp import web

from support.hls.latency import Delay, Delays

HLS_JS = Path(__file__).resolve().parents[2] / "node_modules" / "hls.js" / "dist" / "hls.min.js"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
]  # fmt: skip
PROGRESS_RATIO = 0.8
# hls.js's liveSyncDurationCount on the player page: it plays this many target durations behind
# the live edge (the embedded platform's latency promise is derived from it: support/stack).
LIVE_SYNC_COUNT = 2


class BrowserUnavailable(RuntimeError):
    """Chromium, its driver or hls.js is not installed."""


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    if not HLS_JS.exists():
        missing.append(f"{HLS_JS} (npm install)")
    if missing:
        raise BrowserUnavailable(
            f"the browser scenarios need: {', '.join(missing)}; run make bootstrap"
        )


@dataclass(frozen=True)
class PlayerPage:
    """The suite's player page, served on a free loopback port."""

    runner: web.AppRunner
    port: int

    def url_for(self, hls_url: str) -> str:
        return f"http://127.0.0.1:{self.port}/?{urlencode({'src': hls_url})}"

    def media_url(self, name: str) -> str:
        """A file of the directory served with the page (serve_player's `media`), or one of the
        target's HLS under `upstream` relayed on the page's origin (name: the path below it)."""
        return f"http://127.0.0.1:{self.port}/media/{name}"

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve_player(media: Path | None = None, upstream: str | None = None) -> PlayerPage:
    """The player page and hls.js on a free port (started on the run's loop); with `media`, that
    directory too, under /media/ on the page's own origin: Chromium's network emulation holds
    back the page's own origin, not another (measured: a cross-origin fetch ran at full speed).
    With `upstream` (the target's HLS address), /media/ relays what is under it instead, byte
    for byte with its status and type, so a throttled page can play the target's streams."""
    page = resources.files("support.hls").joinpath("player.html").read_text()
    page = page.replace("LIVE_SYNC_COUNT", str(LIVE_SYNC_COUNT))

    async def player(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    async def hls_js(_: web.Request) -> web.FileResponse:
        return web.FileResponse(HLS_JS)

    app = web.Application()
    app.router.add_get("/", player)
    app.router.add_get("/hls.min.js", hls_js)
    if media is not None:
        app.router.add_static("/media/", media)
    elif upstream is not None:
        relay = aiohttp.ClientSession()
        base = upstream.rstrip("/")

        async def relayed(request: web.Request) -> web.Response:
            async with relay.get(f"{base}/{request.match_info['path']}") as answer:
                body = await answer.read()
                return web.Response(
                    body=body, status=answer.status, content_type=answer.content_type
                )

        async def close_relay(_: web.Application) -> None:
            await relay.close()

        app.router.add_get("/media/{path:.+}", relayed)
        app.on_cleanup.append(close_relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = port_for.select_random()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return PlayerPage(runner, port)


@dataclass
class Playback:
    samples: list[dict[str, Any]] = field(default_factory=list)  # time.time() + the page's state
    screenshot: bytes = b""

    @property
    def playing(self) -> list[dict[str, Any]]:
        return [s for s in self.samples if s.get("readyState", 0) >= 3]

    def problems(self, ratio: float = PROGRESS_RATIO) -> list[str]:
        """What is wrong with the playback: currentTime must keep up with wall time (`ratio`),
        decoded frames rise, the video is not paused, hls.js had no fatal error."""
        state = self.samples[-1] if self.samples else {}
        fatal = [e for e in state.get("errors", []) if e.get("fatal")]
        playing = self.playing
        if len(playing) < 2:
            return [f"the video never played (last state: {compact(state)})"]
        first, last = playing[0], playing[-1]
        wall = last["wall"] - first["wall"]
        media = last["currentTime"] - first["currentTime"]
        problems = []
        if media < ratio * wall:
            problems.append(f"currentTime advanced {media:.2f} s in {wall:.2f} s of wall time")
        if last["frames"] <= first["frames"]:
            problems.append(f"decoded frames stayed at {last['frames']}")
        if last.get("paused"):
            problems.append("the video is paused")
        if fatal:
            problems.append(f"hls.js reported fatal errors: {fatal}")
        return problems

    def between(self, since: float, until: float = float("inf")) -> Playback:
        """The samples taken from `since` to `until` (time.time())."""
        return Playback([s for s in self.samples if since <= s["wall"] < until])

    def after_stall(self, since: float) -> float | None:
        """When currentTime first moved on after `since` (time.time()), if it did."""
        samples = [s for s in self.samples if s["wall"] >= since and "currentTime" in s]
        moved = [s["wall"] for s in samples if s["currentTime"] > samples[0]["currentTime"] + 0.1]
        return moved[0] if moved else None

    def played_on_for(self, since: float) -> float:
        """Seconds of video played since currentTime moved on after `since`."""
        moved = self.after_stall(since)
        playing = self.between(moved).playing if moved is not None else []
        return playing[-1]["currentTime"] - playing[0]["currentTime"] if playing else 0.0

    def problems_across(
        self, dropped_at: float, resumed_at: float, *, plays_on: float
    ) -> list[str]:
        """Playing before the broadcaster dropped, and again after she came back for `plays_on`
        seconds of video, on one page load (a reload would be a new timeOrigin), without a
        fatal hls.js error. Right after the return the player's buffer is one fragment: a
        short wait for the next is a live player's normal rebuffering, reported, not failed."""
        problems = [f"before the drop: {p}" for p in self.between(0, dropped_at).problems()]
        played_on = self.after_stall(resumed_at)
        if played_on is None:
            errors = self.samples[-1].get("errors", []) if self.samples else []
            seen = sorted({str(e.get("details")) for e in errors}) or ["no error"]
            problems.append(
                "after the broadcaster came back, currentTime never moved on "
                f"(hls.js reported: {', '.join(seen)})"
            )
        else:
            after = self.between(played_on)
            problems += [f"after the stall: {p}" for p in after.problems(ratio=0.0)]
            played = self.played_on_for(resumed_at)
            if played < plays_on:
                problems.append(
                    f"after the stall it played {played:.2f} s of video, not {plays_on:.2f} s"
                )
        loads = {s["loadedAt"] for s in self.samples if "loadedAt" in s}
        if len(loads) > 1:
            problems.append(f"the page was loaded {len(loads)} times")
        return list(dict.fromkeys(problems))

    def behind(self) -> Delays:
        """How far the picture on screen was behind the camera, once a second while playing
        (support/hls/player.html reads the publisher's stamps; support/hls/latency.py)."""
        state = self.samples[-1] if self.samples else {}
        seen = [Delay(float(b["at"]), float(b["seconds"])) for b in state.get("behind", [])]
        unmeasured = [] if seen else ["the page found no stamp near the picture it showed"]
        return Delays("sent to played (browser)", seen, unmeasured)

    def switches(self) -> list[dict[str, Any]]:
        """hls.js's switches between renditions: when, to which level, its height and bit rate."""
        state = self.samples[-1] if self.samples else {}
        return list(state.get("switches", []))

    def level_at(self, instant: float) -> dict[str, Any] | None:
        """The rendition playing at `instant` (time.time()): the last switch before it."""
        before = [s for s in self.switches() if s["at"] <= instant]
        return before[-1] if before else None

    def top_height(self) -> int:
        """The height of the tallest rendition the player was offered (0: none)."""
        state = self.samples[-1] if self.samples else {}
        return max((level["height"] for level in state.get("levels", [])), default=0)

    def below(self, height: int, instant: float) -> bool:
        """Whether the rendition playing at `instant` is shorter than `height` lines."""
        level = self.level_at(instant)
        return level is not None and level["height"] < height

    def stalls(self) -> str:
        """The player's own account: its waiting and playing events, with their times."""
        state = self.samples[-1] if self.samples else {}
        return ", ".join(str(e) for e in state.get("events", [])) or "no events"

    def summary(self) -> str:
        if len(self.playing) < 2:
            return "no playback"
        first, last = self.playing[0], self.playing[-1]
        media = last["currentTime"] - first["currentTime"]
        frames = last["frames"] - first["frames"]
        return (
            f"played {media:.2f} s of video in {last['wall'] - first['wall']:.2f} s, "
            f"{frames} frames decoded, {last.get('dropped', 0)} dropped; "
            f"'playing' {last.get('playingAt') or 0:.0f} ms after the page loaded"
        )


def compact(state: dict[str, Any]) -> dict[str, Any]:
    keys = ("readyState", "currentTime", "frames", "paused", "errors", "supported")
    return {key: state.get(key) for key in keys}


class Player:
    """Headless Chromium on the player page, sampled every 0.5 s on a thread of its own until it
    is stopped, while the scenario goes on (a broadcaster drops, comes back)."""

    def __init__(self, page_url: str) -> None:
        require_browser()
        self.page_url = page_url
        self.playback = Playback()
        self.throttled: tuple[float, float | None] | None = None  # since when, at what rate
        self._network: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="browser", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        profile = tempfile.mkdtemp(prefix="nova-chromium-")
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        try:
            driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
            try:
                driver.get(self.page_url)
                while not self._stop.is_set():
                    while not self._network.empty():  # throttle(): emulation needs Network on
                        driver.execute_cdp_cmd("Network.enable", {})
                        driver.execute_cdp_cmd(
                            "Network.emulateNetworkConditions", self._network.get()
                        )
                    state = driver.execute_script("return window.__player || {}")
                    self.playback.samples.append({"wall": time.time(), **state})
                    self._stop.wait(0.5)  # the sampling period of the measurement
                self.playback.screenshot = driver.get_screenshot_as_png()
            finally:
                driver.quit()
        except BaseException as error:  # reported by stop(), on the scenario's thread
            self._error = error
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def throttle(self, kbit_per_second: float | None) -> None:
        """Chromium's own network emulation from the next sample on: at most this much download
        throughput (None: the network as it is)."""
        rate = -1 if kbit_per_second is None else kbit_per_second * 1000 / 8  # bytes a second
        self.throttled = (time.time(), kbit_per_second)
        self._network.put(
            {"offline": False, "latency": 0, "downloadThroughput": rate, "uploadThroughput": -1}
        )

    def wait_until(self, done: Callable[[Playback], bool], *, within: float) -> bool:
        """Until `done(playback)` holds, at most `within` seconds; whether it held."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self._thread.is_alive():
            if done(self.playback):
                return True
            time.sleep(0.25)
        return done(self.playback)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def stop(self) -> Playback:
        """Stop sampling and close the browser; what it played."""
        self.close()
        if self._error is not None:
            raise BrowserUnavailable(f"the browser failed: {self._error!r}") from self._error
        return self.playback


def play(page_url: str, seconds: float) -> Playback:
    """Open the player in headless Chromium and sample it every 0.5 s for `seconds` (and until
    it has played, or 10 s more)."""
    player = Player(page_url)
    began = time.time()
    player.wait_until(
        lambda p: time.time() - began >= seconds and len(p.playing) >= 2, within=seconds + 10
    )
    return player.stop()
