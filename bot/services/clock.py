"""The shop's clock: "today" and calendar dates are taken in the shop's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from bot.db.types import as_utc, utcnow

# a date without a time (`*_days_ago`, or "2026-11-20") becomes the start of that day in the
# shop's zone: never later than "now" on that day, and "N days ago" is then at least N × 24 hours,
# as the policy engine counts a payment date without a time
DATE_ONLY_TIME_OF_DAY = time(0, 0)


def shop_zone(name: Optional[str] = None) -> ZoneInfo:
    if name is None:
        from bot.config import get_settings

        name = get_settings().timezone
    return ZoneInfo(name)


def shop_today(now: Optional[datetime] = None, zone: Optional[ZoneInfo] = None) -> date:
    return to_shop_time(now or utcnow(), zone).date()


def to_shop_time(moment: datetime, zone: Optional[ZoneInfo] = None) -> datetime:
    return as_utc(moment).astimezone(zone or shop_zone())


def shop_date(moment: Optional[datetime], zone: Optional[ZoneInfo] = None) -> Optional[date]:
    """The calendar date of `moment` in the shop's zone (None stays None)."""
    return None if moment is None else to_shop_time(moment, zone).date()


def local_moment(day: date, zone: Optional[ZoneInfo] = None, at: time = DATE_ONLY_TIME_OF_DAY) -> datetime:
    """`day` at `at` o'clock in the shop's zone, as aware UTC."""
    return datetime.combine(day, at, tzinfo=zone or shop_zone()).astimezone(timezone.utc)
