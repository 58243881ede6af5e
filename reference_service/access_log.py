"""The service's logs hold no secret: the access log has no query strings (the webhooks' token),
and a request too malformed to parse is logged without its bytes (a header's start may be a
bearer token)."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError


class AccessLogger(AbstractAccessLogger):
    """`remote "METHOD /path" status bytes seconds`: the path, never its query."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            response.body_length,
            time,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot parse at ERROR, with a traceback quoting the offending
    bytes. It is the client's mistake: one WARNING line saying what was wrong, without them."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and error.code < 500:
            said = record.getMessage()
            record.msg = "%s: a malformed request answered %d (%s)"
            record.args = (said, error.code, type(error).__name__)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True
