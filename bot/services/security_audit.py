"""Rows of the security audit trail (`security_events`)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.tables import SecurityEvent

VERIFICATION_LOCKED = "verification_locked"
LOGIN_LOCKED = "login_locked"


def record(
    session: Session,
    kind: str,
    subject: str,
    *,
    conversation_id: Optional[str] = None,
    details: Optional[Dict[str, Any]] = None,
) -> SecurityEvent:
    event = SecurityEvent(
        kind=kind,
        subject=subject[:128],
        conversation_id=(conversation_id or None) and conversation_id[:128],
        details=details or None,
    )
    session.add(event)
    session.flush()
    return event


def events(session: Session, kind: Optional[str] = None) -> List[SecurityEvent]:
    query = select(SecurityEvent).order_by(SecurityEvent.id)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    return list(session.execute(query).scalars())
