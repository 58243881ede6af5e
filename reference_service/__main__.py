"""`python -m reference_service api`: the HTTP service; `... analytics`: the analytics consumer,
supervised (`... analytics-consumer` is the consumer alone)."""

from __future__ import annotations

import logging
import sys

from reference_service.config import ConfigError, Settings

COMMANDS = ("api", "analytics", "analytics-consumer")
USAGE = f"usage: python -m reference_service {{{'|'.join(COMMANDS)}}}"


def main(argv: list[str]) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"reference_service: {error}", file=sys.stderr)
        return 2
    if argv[0] == "analytics":
        from reference_service.supervise import supervise

        return supervise([sys.executable, "-m", "reference_service", "analytics-consumer"])
    if argv[0] == "analytics-consumer":
        import faulthandler

        from reference_service.analytics import run

        faulthandler.enable()  # a crash in librdkafka leaves the Python stacks in the log
        return run(settings)

    from aiohttp import web

    from reference_service.access_log import AccessLogger, MalformedRequests
    from reference_service.app import create_app

    logging.getLogger("aiohttp.server").addFilter(MalformedRequests())
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=5,
        access_log_class=AccessLogger,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
