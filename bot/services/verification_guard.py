"""The phone-digit check of an order, throttled per ORDER over all conversations.

The dialogue allows 3 tries per conversation; a new conversation used to start again, so
all 10,000 endings fell in under an hour. Wrong digits for one order now count against that
order wherever they come from (bot/throttles.py, AFTERSALES_VERIFY_ATTEMPTS_PER_ORDER);
once the limit is used up the order is locked for the rest of the window, even for the
right digits, the lock-out is written to the security audit trail once, and the dialogue
offers the buyer a person (`utter_verification_failed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.services import orders, security_audit
from bot.throttles import Throttle


@dataclass(frozen=True)
class OwnerCheck:
    verified: bool
    locked: bool = False


def _throttle() -> Throttle:
    settings = get_settings()
    return Throttle("verify-order", settings.verify_attempts_per_order, settings.redis_url, settings.database_url)


def check_owner(
    session: Session, order_number: str, phone_last4: str, *, conversation_id: Optional[str] = None
) -> OwnerCheck:
    throttle = _throttle()
    if throttle.blocked(order_number):
        return OwnerCheck(verified=False, locked=True)
    if orders.verify_order_owner(session, order_number, phone_last4) is not None:
        return OwnerCheck(verified=True)
    if throttle.hit(order_number) and not throttle.blocked(order_number):
        return OwnerCheck(verified=False)
    security_audit.record(
        session,
        security_audit.VERIFICATION_LOCKED,
        order_number,
        conversation_id=conversation_id,
        details={"limit": get_settings().verify_attempts_per_order},
    )
    return OwnerCheck(verified=False, locked=True)
