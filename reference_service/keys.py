"""Typed application state."""

from aiohttp import web

from reference_service.auth import TokenVerifier
from reference_service.config import Settings
from reference_service.hub import Hub
from reference_service.metrics import Metrics
from reference_service.platform import Platform

SETTINGS = web.AppKey("settings", Settings)
AUTH = web.AppKey("auth", TokenVerifier)
METRICS = web.AppKey("metrics", Metrics)
HUB = web.AppKey("hub", Hub)
PLATFORM = web.AppKey("platform", Platform)
