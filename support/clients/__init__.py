"""The platform's clients: the REST API, a WebSocket viewer, Prometheus, broadcasters, attackers."""
