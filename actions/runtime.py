"""What the action server shares between actions: settings, database, policy and the clock.

The policy file is loaded when the action server starts, so a broken file stops the start
with a message naming the bad key instead of failing later in a conversation.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Iterator

from sqlalchemy.orm import Session

from bot.config import get_settings
from bot.db.engine import session_scope
from bot.db.schema import migrated_engine
from bot.policy import PolicyConfig, load_policy
from bot.services.clock import shop_today, shop_zone


@lru_cache(maxsize=1)
def policy() -> PolicyConfig:
    return load_policy(get_settings().policy_file)


@contextmanager
def database() -> Iterator[Session]:
    with session_scope(migrated_engine(get_settings().database_url)) as session:
        yield session


def today() -> date:
    return shop_today()


def now() -> datetime:
    return datetime.now(shop_zone())


def format_moment(moment) -> str:
    """A deadline as buyers read it: 11月23日 14:00."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        local = moment.astimezone(shop_zone()) if moment.tzinfo else moment
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{moment.month}月{moment.day}日"


policy()
