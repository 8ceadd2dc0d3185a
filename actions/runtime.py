"""What the actions use of the process's runtime (bot/bootstrap.py): the shop's policy, one
transaction on the database, and the shop's clock; plus the date format buyers read."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from typing import Iterator

from sqlalchemy.orm import Session

from bot import bootstrap
from bot.policy import PolicyConfig


def policy() -> PolicyConfig:
    return bootstrap.current().policy


@contextmanager
def database() -> Iterator[Session]:
    with bootstrap.current().unit_of_work() as unit:
        yield unit.session


def today() -> date:
    return bootstrap.current().clock.today()


def now() -> datetime:
    return bootstrap.current().clock.now()


def format_moment(moment) -> str:
    """A deadline as buyers read it: 11月23日 14:00."""
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        zone = bootstrap.current().clock.zone
        local = moment.astimezone(zone) if moment.tzinfo else moment
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{moment.month}月{moment.day}日"
