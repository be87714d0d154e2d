"""The two interpretive choices of time-limits.md section 0 are ZHIFA_* settings with the stated defaults."""
from __future__ import annotations

from datetime import date

import pytest

from engine.core import calendar_from_settings
from engine.settings import from_env


def test_defaults_are_the_standard_reading() -> None:
    settings = from_env({})
    assert settings.adjusted_weekend_is_working is True
    assert settings.weekend_is_rest_for_last_day is True
    assert settings.provisional_calendar is True
    cal = calendar_from_settings(settings)
    assert cal.is_working_day(date(2026, 2, 28))  # 调休 working Saturday
    assert cal.due("2026-03-02", 12, "calendar_days").date == date(2026, 3, 16)


def test_each_choice_can_be_switched() -> None:
    cal = calendar_from_settings(from_env({
        "ZHIFA_ADJUSTED_WEEKEND_IS_WORKING": "false", "ZHIFA_WEEKEND_IS_REST_FOR_LAST_DAY": "0",
        "ZHIFA_PROVISIONAL_CALENDAR": "off",
    }))
    assert not cal.is_working_day(date(2026, 2, 28))
    assert cal.due("2026-03-02", 12, "calendar_days").date == date(2026, 3, 14)
    assert not cal.allow_provisional


def test_a_setting_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(ValueError, match="ZHIFA_ADJUSTED_WEEKEND_IS_WORKING"):
        from_env({"ZHIFA_ADJUSTED_WEEKEND_IS_WORKING": "perhaps"})
