"""Working days on the official Chinese calendar, and the Monday–Friday fallback beyond its data."""

import logging
from datetime import date

import pytest

from bot.policy import workdays
from bot.policy.workdays import add_working_days, is_working_day


def test_ordinary_week():
    assert add_working_days(date(2025, 6, 16), 3) == date(2025, 6, 19)  # Mon -> Thu
    assert add_working_days(date(2025, 6, 20), 1) == date(2025, 6, 23)  # Fri -> Mon
    assert add_working_days(date(2025, 6, 21), 1) == date(2025, 6, 23)  # Sat -> Mon


def test_zero_days_is_the_start_and_negative_is_refused():
    assert add_working_days(date(2025, 10, 3), 0) == date(2025, 10, 3)
    with pytest.raises(ValueError):
        add_working_days(date(2025, 6, 16), -1)


def test_national_day_2025_is_skipped():
    # 2025-10-01..10-08 are public holidays
    for day in range(1, 9):
        assert not is_working_day(date(2025, 10, day))
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)


def test_make_up_working_days_are_counted():
    # 调休: Sunday 2025-09-28 and Saturday 2025-10-11 are working days
    assert is_working_day(date(2025, 9, 28)) and is_working_day(date(2025, 10, 11))
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)


def test_spring_festival_2025():
    # 2025-01-28..02-04 off; Sunday 01-26 and Saturday 02-08 are make-up working days
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert add_working_days(date(2025, 1, 25), 1) == date(2025, 1, 26)


def test_beyond_the_calendar_data_falls_back_to_monday_to_friday_with_one_warning(monkeypatch, caplog):
    monkeypatch.setattr(workdays, "_fallback_warned", False)
    with caplog.at_level(logging.WARNING, logger="bot.policy.workdays"):
        assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Fri -> Mon
        assert add_working_days(date(2099, 1, 5), 5) == date(2099, 1, 12)
    warnings = [r for r in caplog.records if r.name == "bot.policy.workdays"]
    assert len(warnings) == 1
    assert "2099" in warnings[0].getMessage()
