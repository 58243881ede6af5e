"""A packager's output directory served over HTTP on a free loopback port, as a web server would
serve it (aiohttp's static files answer Range requests with 206): the tests and the benchmarks
judge third-party packagers' output (ffmpeg's) through it, and a browser's player page plays it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web


async def open_to_every_origin(_: web.Request, response: web.StreamResponse) -> None:
    """As HLS servers answer (and nginx here): a player page on another origin may read it."""
    response.headers["Access-Control-Allow-Origin"] = "*"


@asynccontextmanager
async def served(directory: Path) -> AsyncIterator[str]:
    """The base URL under which `directory`'s files are served: `{base}/index.m3u8`."""
    app = web.Application()
    app.router.add_static("/hls/", directory)
    app.on_response_prepare.append(open_to_every_origin)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hls"
    finally:
        await runner.cleanup()
