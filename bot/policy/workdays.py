"""Working days on the official Chinese calendar (国务院办公厅 holiday notices).

Public holidays are skipped and 调休 make-up working days (a Saturday or Sunday declared a
working day) are counted, using the data shipped with the `chinesecalendar` package.

Limitation: `chinesecalendar` only knows the years it ships data for (the State Council
publishes each year's holidays late in the year before). For a date outside those years this
module falls back to Monday–Friday, which ignores that year's holidays and make-up days; it
logs a warning the first time that happens so the answer is never silently wrong. Updating
the `chinesecalendar` package removes the fallback for newly published years.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

logger = logging.getLogger(__name__)

_fallback_warned = False


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_fallback(day)
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (`start` itself is not counted; n=0 gives `start`)."""
    if n < 0:
        raise ValueError(f"工作日天数不能为负数：{n}")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def _warn_fallback(day: date) -> None:
    global _fallback_warned
    if not _fallback_warned:
        _fallback_warned = True
        logger.warning(
            "chinesecalendar 没有 %s 年的法定节假日数据，工作日暂按周一至周五计算（未计节假日和调休）；"
            "请升级 chinesecalendar 包。",
            day.year,
        )
