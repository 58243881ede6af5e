"""Where the suite points: every endpoint of the system under test, in one frozen object.

Precedence per endpoint: behave userdata (`-D api_url=...`) > environment (`NOVA_API_URL`) >
nothing. Nothing configured at all means the embedded stack; a partial configuration is an error
that names what is missing, because a suite half pointed at staging judges nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class TargetError(RuntimeError):
    """The target is misconfigured or one of its endpoints does not answer."""


@dataclass(frozen=True)
class Target:
    kind: str
    api_url: str
    rtmp_url: str
    hls_url: str
    metrics_url: str
    pg_dsn: str
    redis_url: str
    kafka_bootstrap: str
    clickhouse_url: str
    jwt_private_key: str
    # How far behind the broadcaster's camera, in seconds, the target promises a viewer is
    # (docs/contract/README.md, "Latency"): a segment listed in its playlist, and the picture in
    # a browser. The embedded stack's are derived from its settings; an external target
    # declares its own, or its delays are reported against no bound.
    segment_delay_bound: float | None = None
    playback_delay_bound: float | None = None

    def describe(self) -> str:
        """What was resolved, one endpoint a line, without secrets."""
        lines = [f"target: {self.kind}"]
        for name in ENDPOINTS:
            lines.append(f"  {name:<16} {redact(getattr(self, name))}")
        for name in BOUNDS:
            value = getattr(self, name)
            lines.append(f"  {name:<20} {'not declared' if value is None else f'{value:g} s'}")
        return "\n".join(lines)


BOUNDS = ("segment_delay_bound", "playback_delay_bound")
ENDPOINTS = tuple(
    f.name for f in fields(Target) if f.name not in ("kind", "jwt_private_key", *BOUNDS)
)


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def env_name(endpoint: str) -> str:
    return f"NOVA_{endpoint.upper()}"


def configured(userdata: Mapping[str, str], environ: Mapping[str, str]) -> Target | None:
    """The external target the user configured, or None for the embedded stack."""
    values: dict[str, Any] = {}
    for name in (*ENDPOINTS, "jwt_private_key", "jwt_private_key_file", *BOUNDS):
        value = userdata.get(name) or environ.get(env_name(name))
        if value:
            values[name] = value
    if not values:
        return None
    if "jwt_private_key_file" in values:
        path = Path(values.pop("jwt_private_key_file"))
        try:
            values["jwt_private_key"] = path.read_text()
        except OSError as error:
            raise TargetError(f"cannot read the JWT signing key at {path}: {error}") from None
    bounds: dict[str, Any] = {
        name: bound(name, values.pop(name)) for name in BOUNDS if name in values
    }
    missing = [name for name in (*ENDPOINTS, "jwt_private_key") if name not in values]
    if missing:
        wanted = ", ".join(
            f"{name} ({env_name(name)}"
            + (f" or {env_name('jwt_private_key_file')})" if name == "jwt_private_key" else ")")
            for name in missing
        )
        raise TargetError(
            f"an external target needs every endpoint; missing: {wanted}. "
            "Configure none of them to run against the embedded stack."
        )
    return Target(kind="external", **values, **bounds)


def bound(name: str, value: str) -> float:
    """A declared delay bound: a positive number of seconds."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise TargetError(f"{env_name(name)} must be a positive number of seconds, not {value!r}")
    return seconds


def check_stream_urls(target: Target, publish_url: str, *hls_urls: str) -> None:
    """The service hands out addresses on the endpoints the suite was given, or it would judge
    servers other than the ones it probed (a staging service pointing at production ingest)."""
    wrong = [
        f"{what} {redact(given)} is not under the configured {name} {redact(base)}"
        for what, given, name, base in (
            ("publish_url", publish_url, "rtmp_url", target.rtmp_url),
            *(("hls_url", url, "hls_url", target.hls_url) for url in hls_urls),
        )
        if not under(given, base)
    ]
    if wrong:
        raise TargetError(
            "the service and the suite disagree about the endpoints: "
            + "; ".join(wrong)
            + ". Configure the endpoints the service hands out (or fix the service's own)."
        )


def under(url: str, base: str) -> bool:
    """`url` lives under `base`: same scheme, host and port (defaults filled in), path below."""
    defaults = {"rtmp": 1935, "http": 80, "https": 443}

    def where(address: str) -> tuple[str, str, int | None]:
        parts = urlsplit(address)
        return parts.scheme, (parts.hostname or ""), parts.port or defaults.get(parts.scheme)

    path, base_path = urlsplit(url).path, urlsplit(base).path.rstrip("/")
    return where(url) == where(base) and path.startswith(base_path + "/")
