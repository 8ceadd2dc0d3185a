"""The shop-signed customer identity (shared contract 3).

A shop that knows who is logged in on its website signs a short-lived JWT (HS256, secret
AFTERSALES_SHOP_JWT_SECRET) with the customer's id in `sub` and an expiry in `exp`:

    {"sub": "shop-c-10021", "exp": 1795000000, "iat": 1794996400}

Only a token with a valid signature, an `exp` in the future and a non-empty `sub` is honoured;
anything else (forged, expired, other algorithm, no secret configured) is ignored as if no
token had been sent, so a bad token never grants anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import jwt

ALGORITHM = "HS256"
MAX_CUSTOMER_ID_LENGTH = 128


@dataclass(frozen=True)
class VerifiedIdentity:
    customer_id: str
    expires_at: float  # the token's `exp`: the identity is not to be trusted after it


def verified_identity(
    token: Optional[str], secret: Optional[str], *, leeway_seconds: int = 30
) -> Optional[VerifiedIdentity]:
    if not token or not secret or not isinstance(token, str):
        return None
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}, leeway=leeway_seconds
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_CUSTOMER_ID_LENGTH:
        return None
    return VerifiedIdentity(subject.strip(), float(claims["exp"]))


def verified_customer_id(token: Optional[str], secret: Optional[str], *, leeway_seconds: int = 30) -> Optional[str]:
    identity = verified_identity(token, secret, leeway_seconds=leeway_seconds)
    return identity.customer_id if identity else None


def sign_customer_token(
    customer_id: str, secret: str, *, lifetime_seconds: int = 3600, now: Optional[float] = None
) -> str:
    """What a shop's backend does (used by the demo page and the tests)."""
    issued = int(now if now is not None else time.time())
    return jwt.encode(
        {"sub": customer_id, "iat": issued, "exp": issued + lifetime_seconds}, secret, algorithm=ALGORITHM
    )
