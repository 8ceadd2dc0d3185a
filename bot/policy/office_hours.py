"""When human agents work (shop/policy.yml `handoff.office_hours`), in the shop's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import FrozenSet
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


@dataclass(frozen=True)
class OfficeHours:
    days: FrozenSet[int]  # ISO weekdays: 1 = Monday … 7 = Sunday
    opens: time
    closes: time  # later than `opens` on the same day

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        local = moment.astimezone(zone)
        return local.isoweekday() in self.days and self.opens <= local.time().replace(tzinfo=None) < self.closes

    def describe(self) -> str:
        """How buyers read the hours: 「每天 09:00–21:00」「周一至周五 09:00–18:00」."""
        days = sorted(self.days)
        if len(days) == 7:
            which = "每天"
        elif len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            which = f"{WEEKDAY_NAMES[days[0]]}至{WEEKDAY_NAMES[days[-1]]}"
        else:
            which = "、".join(WEEKDAY_NAMES[day] for day in days)
        return f"{which} {self.opens:%H:%M}–{self.closes:%H:%M}"
