"""Bearer JWTs (RS256): who is calling."""

from __future__ import annotations

import uuid

import jwt
from aiohttp import web

from reference_service.domain import ApiError


class TokenVerifier:
    def __init__(self, public_key: str) -> None:
        self.public_key = public_key

    def user_id(self, request: web.Request) -> uuid.UUID:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "unauthorized", "a bearer token is required")
        try:
            claims = jwt.decode(
                token.strip(),
                self.public_key,
                algorithms=["RS256"],
                options={"require": ["sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise ApiError(401, "unauthorized", f"invalid token: {error}") from None
        try:
            return uuid.UUID(str(claims["sub"]))
        except ValueError:
            raise ApiError(401, "unauthorized", "the token's sub is not a user id") from None
