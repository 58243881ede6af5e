"""People of the scenarios and the bearer tokens that say who they are."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support.core.target import TargetError


@dataclass(frozen=True)
class Person:
    name: str
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)


class TokenIssuer:
    """Signs RS256 tokens with the target's key, as the platform's identity service would."""

    def __init__(self, private_key: str) -> None:
        # Loading a PEM key checks it (tens of ms); load once per run, not per token.
        try:
            key = serialization.load_pem_private_key(private_key.encode(), password=None)
        except ValueError as error:
            raise TargetError(f"the JWT signing key is not a PEM private key: {error}") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TargetError(f"the JWT signing key must be RSA (RS256), not {type(key).__name__}")
        self.private_key = key

    def token_for(self, person: Person, lifetime: float = 3600.0) -> str:
        issued = int(time.time())
        claims = {
            "sub": str(person.user_id),
            "name": person.name,
            "iat": issued,
            "exp": issued + int(lifetime),
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256")


def forged_token(person: Person) -> str:
    """A well-formed token signed by a key the platform has never seen."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"sub": str(person.user_id)}, stranger, algorithm="RS256")


def visitor_token(issuer: TokenIssuer, credentials: str) -> str | None:
    """The token a visitor presents, from the words a scenario uses for it."""
    visitor = Person("visitor")
    tokens: dict[str, Callable[[], str | None]] = {
        "no token": lambda: None,
        "a valid token": lambda: issuer.token_for(visitor),
        "a forged token": lambda: forged_token(visitor),
        "an expired token": lambda: issuer.token_for(visitor, lifetime=-60),
        "a malformed token": lambda: "this-is-not-a-jwt",
    }
    if credentials not in tokens:
        raise ValueError(f"unknown credentials {credentials!r}; known: {', '.join(tokens)}")
    return tokens[credentials]()
