# mypy: disallow-untyped-decorators=False
# (behave's step and fixture decorators carry no types)
"""behave hooks: resolve the target (booting the embedded stack if none is configured), hold the
run's loop and clients, give each scenario a fresh world, and keep evidence of failures."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import allure
import parse
from behave import register_type
from behave.fixture import fixture, use_fixture_by_tag
from behave.model import Scenario, Step
from behave.runner import Context

from support.clients.api import STREAM_ACTIONS, ApiClient
from support.core.limits import allow_open_files
from support.core.loop import RunLoop
from support.core.target import configured
from support.harness import netcut
from support.harness.faults import SERVERS
from support.harness.identity import TokenIssuer
from support.harness.phrases import one_of
from support.harness.probes import probe
from support.harness.world import Marks, Run, World
from support.hls.browser import PlayerPage, serve_player
from support.report import allure_environment
from support.report.evidence import evidence, log_marks
from support.report.summary import tell_wall_time
from support.stack import EmbeddedStack
from support.stores.clickhouse import ClickHouseChecker
from support.stores.kafka import KafkaChecker
from support.stores.postgres import PostgresChecker
from support.stores.redis import RedisChecker


@parse.with_pattern(r"[A-Z][a-z]+")
def parse_name(text: str) -> str:
    return text


# People in steps are capitalised first names: "Ada", "Ben"; calls on a stream are its verbs;
# the servers under the platform are named by what they do ("the event broker").
register_type(Name=parse_name, StreamAction=one_of(STREAM_ACTIONS), Server=one_of(SERVERS))


def say(message: str) -> None:
    """To the terminal even while behave captures output."""
    print(message, file=sys.__stderr__, flush=True)


def interrupted(signum: int, _frame: object) -> None:
    """SIGTERM (a CI job cancelled, `kill`) ends the run as Ctrl-C does: the stack is torn down."""
    raise KeyboardInterrupt(f"signal {signum}")


def before_all(context: Context) -> None:
    began = time.monotonic()
    signal.signal(signal.SIGTERM, interrupted)
    userdata = context.config.userdata
    target = configured(userdata, os.environ)
    stack = None
    if target is None:
        stack = EmbeddedStack()
        context.add_cleanup(stack.stop)
        target = stack.start()
        say(f"embedded stack ready in {stack.boot_seconds:.2f} s (logs in {stack.run_dir})")
    say(target.describe())
    began = time.monotonic()
    probe(target)
    say(f"every endpoint answered in {time.monotonic() - began:.2f} s")
    allow_open_files()
    loop = RunLoop()
    api, pages = loop.run(open_clients(target.api_url))
    context.run = Run(
        began=began,
        target=target,
        loop=loop,
        api=api,
        pages=pages,
        crowd_size=int(userdata.get("crowd") or os.environ.get("NOVA_CROWD", "1000")),
        tokens=TokenIssuer(target.jwt_private_key),
        postgres=PostgresChecker(target.pg_dsn),
        redis=RedisChecker(target.redis_url),
        kafka=KafkaChecker(target.kafka_bootstrap),
        clickhouse=ClickHouseChecker(target.clickhouse_url),
        stack=stack,
    )
    context.add_cleanup(context.run.close)
    results = allure_results(context)
    if results is not None:
        allure_environment.write(results, target, stack)


def after_all(context: Context) -> None:
    if hasattr(context, "run"):
        tell_wall_time(context.config.reporters, time.monotonic() - context.run.began)


def allure_results(context: Context) -> Path | None:
    """Where the Allure formatter writes, if it is one of the run's formatters."""
    for name, output in zip(context.config.format, context.config.outputs, strict=False):
        if "allure" in name.lower() and output.name:
            return Path(output.name)
    return None


async def open_clients(api_url: str) -> tuple[ApiClient, aiohttp.ClientSession]:
    """The REST client and the viewers' session, made on the run's loop (aiohttp needs that).

    Viewers get their own session without a connection limit: each open page holds one.
    """
    return ApiClient(api_url), aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


@fixture
def embedded_stack_only(context: Context) -> Iterator[None]:
    """@fault scenarios stop and start servers, @embedded ones read their logs: only the
    embedded stack lets the suite do either."""
    if context.run.stack is None:
        context.scenario.skip("this scenario stops servers or reads their logs: embedded only")
    yield


@fixture
def player_page(context: Context) -> Iterator[PlayerPage]:
    """@browser scenarios: the suite's hls.js player page, served for the scenario."""
    page = context.run.loop.run(serve_player(upstream=context.run.target.hls_url))
    context.world.watching.page = page
    yield page
    for player in context.world.watching.players.values():
        player.close()
    context.run.loop.run(page.close())


@fixture
def network_cut(context: Context) -> Iterator[None]:
    """@netcut scenarios make a broadcaster's network vanish with the kernel's firewall."""
    reason = netcut.why_not()
    if reason:
        context.scenario.skip(f"this scenario cuts a connection silently, and here {reason}")
    yield


FIXTURES = {
    "fault": embedded_stack_only,
    "embedded": embedded_stack_only,
    "browser": player_page,
    "netcut": network_cut,
}


def before_scenario(context: Context, scenario: Scenario) -> None:
    marks = Marks(kafka=context.run.kafka.mark(), logs=log_marks(context.run.stack))
    context.world = World(context.run, marks=marks)
    for tag in scenario.effective_tags:
        if tag in FIXTURES:
            use_fixture_by_tag(tag, context, FIXTURES)


def after_step(context: Context, step: Step) -> None:
    # Allure has closed the scenario by after_scenario; a failed step is the last moment to attach.
    if step.status == "failed":
        attach_evidence(context)


def attach_evidence(context: Context) -> None:
    for name, text in evidence(context.world):
        allure.attach(text, name=name, attachment_type=allure.attachment_type.TEXT)
