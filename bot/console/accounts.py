"""Agent accounts and console logins.

Passwords are hashed with scrypt (`hashlib.scrypt`, standard library: memory-hard, no extra
dependency) and a random per-password salt; the parameters are stored with the hash so they
can be raised later without breaking existing accounts. A login creates a random session
token for the browser cookie; the database keeps only its SHA-256 and an expiry time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.tables import Agent, AgentSession
from bot.db.types import utcnow
from bot.domain.vocabulary import LABELS_ZH
from bot.services.errors import ServiceError

ROLES = ("agent", "supervisor")
ROLE_LABELS = LABELS_ZH["agent_role"]
MIN_PASSWORD_LENGTH = 8
SESSION_COOKIE = "aftersales_console"  # the console login cookie (HttpOnly, SameSite=Strict)
_USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,64}")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


class AccountError(ServiceError, ValueError):
    """Bad account data or a failed login; the message is Chinese."""


@dataclass(frozen=True)
class SignedInAgent:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @classmethod
    def of(cls, agent: Agent) -> "SignedInAgent":
        return cls(agent.id, agent.username, agent.display_name, agent.role)


# ---- passwords ----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---- accounts -----------------------------------------------------------------------------


def create_agent(
    session: Session, username: str, password: str, *, role: str = "agent", display_name: Optional[str] = None
) -> Agent:
    username = (username or "").strip()
    if not _USERNAME.fullmatch(username):
        raise AccountError("用户名只能包含字母、数字、下划线、点和连字符，长度 2–64。")
    if role not in ROLES:
        raise AccountError(f"角色「{role}」无效，可选：agent（客服）、supervisor（主管）。")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")
    agent = Agent(
        username=username,
        display_name=(display_name or "").strip() or username,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(agent)
    except IntegrityError:
        raise AccountError(f"用户名 {username} 已存在。") from None
    return agent


def list_agents(session: Session) -> List[Agent]:
    return list(session.execute(select(Agent).order_by(Agent.username)).scalars())


def set_password(session: Session, username: str, password: str) -> Agent:
    agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
    if agent is None:
        raise AccountError(f"找不到客服账号 {username}。")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")
    agent.password_hash = hash_password(password)
    session.execute(update(AgentSession).where(AgentSession.agent_id == agent.id).values(ended_at=utcnow()))
    return agent


# ---- logins -------------------------------------------------------------------------------


def log_in(
    session: Session, username: str, password: str, *, lifetime: timedelta, now: Optional[datetime] = None
) -> "tuple[str, SignedInAgent]":
    """`(session token, agent)`; one message for an unknown user and a wrong password alike."""
    now = now or utcnow()
    agent = session.execute(select(Agent).where(Agent.username == (username or "").strip())).scalar_one_or_none()
    if agent is None:
        verify_password(password or "", hash_password("timing-equaliser"))  # same work for unknown names
        raise AccountError("用户名或密码错误。")
    if not verify_password(password or "", agent.password_hash):
        raise AccountError("用户名或密码错误。")
    if not agent.active:
        raise AccountError("该账号已停用，请联系主管。")
    token = secrets.token_urlsafe(32)
    session.add(
        AgentSession(token_hash=_token_hash(token), agent_id=agent.id, created_at=now, expires_at=now + lifetime)
    )
    agent.last_login_at = now
    session.flush()
    return token, SignedInAgent.of(agent)


def agent_for_token(
    session: Session, token: Optional[str], *, now: Optional[datetime] = None
) -> Optional[SignedInAgent]:
    """The signed-in agent of a cookie token, or None when unknown, ended or expired."""
    if not token:
        return None
    now = now or utcnow()
    row = session.execute(
        select(AgentSession, Agent)
        .join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    login, agent = row
    if login.ended_at is not None or login.expires_at <= now or not agent.active:
        return None
    return SignedInAgent.of(agent)


def log_out(session: Session, token: Optional[str], *, now: Optional[datetime] = None) -> None:
    if token:
        session.execute(
            update(AgentSession)
            .where(AgentSession.token_hash == _token_hash(token), AgentSession.ended_at.is_(None))
            .values(ended_at=now or utcnow())
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ---- login throttles ----------------------------------------------------------------------


class LoginThrottles:
    """Failed logins per account and per client address (bot/throttles.py): once either is
    used up, every login of that account / from that client is refused until the window
    has room again, the right password too."""

    def __init__(self, per_account: str, per_client: str, redis_url: str = "", namespace: str = "") -> None:
        from bot.throttles import Throttle

        self.account = Throttle("login-account", per_account, redis_url, namespace)
        self.client = Throttle("login-client", per_client, redis_url, namespace)

    @classmethod
    def from_settings(cls, settings) -> "LoginThrottles":
        return cls(
            settings.login_attempts_per_account,
            settings.login_attempts_per_client,
            settings.redis_url,
            settings.database_url,
        )

    def wait_seconds(self, username: str, client: str) -> int:
        """0 when a login may be tried, else the seconds until it may."""
        waits = [
            throttle.retry_after_seconds(key) for throttle, key in self._keys(username, client) if throttle.blocked(key)
        ]
        return max(waits, default=0)

    def failed(self, username: str, client: str) -> Optional[str]:
        """Counts a failed login; what was locked by it ("account:<name>" / "client:<address>"), if anything."""
        locked = None
        for throttle, key in self._keys(username, client):
            throttle.hit(key)
            if throttle.blocked(key):
                locked = locked or f"{throttle.name.split('-')[1]}:{key}"
        return locked

    def _keys(self, username: str, client: str):
        return ((self.account, (username or "").strip().lower()[:64]), (self.client, client))
