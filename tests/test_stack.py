"""The embedded stack's launcher: clear failures, no survivors, one server restarted in a run."""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import port_for
import pytest

import support.stack
from support.stack import KEEP_RUNS, StackError, booted, prune_runs
from support.stack.ports import PortClaims
from support.stack.server import CheckedServer


def process_groups() -> set[int]:
    groups = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        groups.add(int(fields[2]))
    return groups


def health(api_url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_server_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    server = CheckedServer(
        "doomed",
        [
            sys.executable,
            "-c",
            "print('listening... no: config is broken', flush=True); raise SystemExit(3)",
        ],
        log=tmp_path / "doomed.log",
        ports=[],
        ready=lambda: False,
        timeout=5,
    )
    with pytest.raises(StackError) as failed:
        server.start()
    message = str(failed.value)
    assert "doomed exited with code 3 while starting" in message
    assert "config is broken" in message


def test_a_server_that_never_gets_ready_is_reported_within_its_timeout(tmp_path: Path) -> None:
    server = CheckedServer(
        "sleepy",
        [sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(60)"],
        log=tmp_path / "sleepy.log",
        ports=[],
        ready=lambda: False,
        timeout=1,
    )
    with pytest.raises(StackError) as failed:
        server.start()
    assert "sleepy did not get ready within 1 s" in str(failed.value)
    assert "warming up" in str(failed.value)
    assert server.process is None


def test_a_server_refuses_a_port_that_is_already_held(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = CheckedServer(
            "squatter",
            [sys.executable, "-c", "pass"],
            log=tmp_path / "squatter.log",
            ports=[port],
            ready=lambda: True,
        )
        with pytest.raises(StackError, match=rf"squatter: port \[{port}\] is already in use"):
            server.start()


def test_one_server_restarts_without_disturbing_the_others_and_none_survives() -> None:
    with booted() as (stack, target):
        groups = {n: server.process.pid for n, server in stack.servers.items() if server.process}
        assert set(groups) == {
            "postgres",
            "redis",
            "clickhouse",
            "kafka",
            "nginx",
            "service",
            "analytics",
        }
        stack.stop_server("redis")
        status, report = health(target.api_url)
        assert status == 503
        assert str(report["dependencies"]["redis"]).startswith("failing")  # type: ignore[index]
        assert report["dependencies"]["postgres"] == "ok"  # type: ignore[index]
        stack.start_server("redis")
        assert health(target.api_url)[0] == 200
    survivors = set(groups.values()) & process_groups()
    assert not survivors, f"processes of the stack survived: {survivors}"
    assert (stack.run_dir / "service" / "service.log").stat().st_size > 0, "logs are kept"


def test_a_port_another_stack_claimed_is_never_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = PortClaims(tmp_path), PortClaims(tmp_path)
    taken = first.claim(3)
    offered = iter([*taken, 40001, 40002])
    monkeypatch.setattr(port_for, "select_random", lambda exclude_ports: next(offered))
    assert second.claim(2) == [40001, 40002]
    first.release()
    offered = iter(taken)
    assert PortClaims(tmp_path).claim(1) == taken[:1]  # released: free to claim again
    second.release()


def test_pruning_passes_over_a_run_another_stack_removed_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(KEEP_RUNS + 2):
        (tmp_path / f"run-{number:02}").mkdir()
    gone = tmp_path / "run-vanished"  # listed, then removed by another stack's pruning
    listed = [*sorted(tmp_path.glob("run-*")), gone]
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(listed))
    prune_runs(tmp_path)
    assert len([p for p in listed if p.exists()]) == KEEP_RUNS


def test_the_latency_promise_is_derived_from_the_fragment_the_ingest_is_given() -> None:
    """The embedded platform's bounds (the contract's "Latency") come from FRAGMENT, so it must be
    the hls_fragment nginx-rtmp is configured with."""
    template = (Path(support.stack.__file__).parent / "templates" / "nginx.conf").read_text()
    assert f"hls_fragment {support.stack.FRAGMENT:g}s;" in template
    assert support.stack.PLAYBACK_DELAY_BOUND == 4.5
    assert support.stack.SEGMENT_DELAY_BOUND == 1.5
