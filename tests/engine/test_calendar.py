"""The legal calendar against time-limits.md sections 0, 1G, 2 and P13 (real dates throughout)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources

import pytest
from lunardate import LunarDate

from engine.calendar import (
    Due,
    LegalCalendar,
    deadline,
    due,
    late_fee,
    legal_date,
    load_default_calendar,
    provisional_year_entry,
    qingming,
)
from engine.errors import CalendarUnavailable, InvalidInput

D = date.fromisoformat


def span(first: str, last: str) -> set[date]:
    a, b = D(first), D(last)
    return {a + timedelta(days=i) for i in range((b - a).days + 1)}


def days_of(*items: str) -> set[date]:
    return {D(x) for x in items}


@pytest.fixture(scope="module")
def cal() -> LegalCalendar:
    return load_default_calendar()


@pytest.fixture(scope="module")
def raw() -> dict:
    text = resources.files("engine").joinpath("data/holidays.json").read_text(encoding="utf-8")
    return json.loads(text)


# --- shipped data ------------------------------------------------------------------------------

# time-limits.md section 2, typed in from the table.
NOTICE_OFF = {
    2024: span("2024-01-01", "2024-01-01") | span("2024-02-10", "2024-02-17")
    | span("2024-04-04", "2024-04-06") | span("2024-05-01", "2024-05-05")
    | span("2024-06-10", "2024-06-10") | span("2024-09-15", "2024-09-17")
    | span("2024-10-01", "2024-10-07"),
    2025: span("2025-01-01", "2025-01-01") | span("2025-01-28", "2025-02-04")
    | span("2025-04-04", "2025-04-06") | span("2025-05-01", "2025-05-05")
    | span("2025-05-31", "2025-06-02") | span("2025-10-01", "2025-10-08"),
    2026: span("2026-01-01", "2026-01-03") | span("2026-02-15", "2026-02-23")
    | span("2026-04-04", "2026-04-06") | span("2026-05-01", "2026-05-05")
    | span("2026-06-19", "2026-06-21") | span("2026-09-25", "2026-09-27")
    | span("2026-10-01", "2026-10-07"),
}
NOTICE_WORK = {
    2024: days_of("2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11",
                  "2024-09-14", "2024-09-29", "2024-10-12"),
    2025: days_of("2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"),
    2026: days_of("2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
                  "2026-10-10"),
}
# 2024-2026 from time-limits.md; 2019-2023 cross-checked day by day against chinesecalendar 1.11.0.
WORKING_DAY_TOTALS = {2019: 250, 2020: 249, 2021: 250, 2022: 249, 2023: 249,
                      2024: 251, 2025: 248, 2026: 248}


def entry(raw: dict, year: int) -> dict:
    (found,) = [e for e in raw["years"] if e["year"] == year]
    return found


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_shipped_2024_to_2026_match_the_notices_exactly(raw, year):
    days = entry(raw, year)["days"]
    assert {D(d["date"]) for d in days if d["isOffDay"]} == NOTICE_OFF[year]
    assert {D(d["date"]) for d in days if not d["isOffDay"]} == NOTICE_WORK[year]


def test_every_year_2019_to_2026_has_one_entry_with_its_notice(raw):
    assert [e["year"] for e in raw["years"]] == list(range(2019, 2027))
    for e in raw["years"]:
        assert e["papers"], e["year"]
        first = e["notices"][0]
        assert first["title"] == f"国务院办公厅关于{e['year']}年部分节假日安排的通知"
        assert D(first["date"]).year == e["year"] - 1


@pytest.mark.parametrize(("year", "total"), sorted(WORKING_DAY_TOTALS.items()))
def test_working_day_totals(cal, year, total):
    one_year = span(f"{year}-01-01", f"{year}-12-31")
    assert sum(cal.is_working_day(d) for d in one_year) == total


def test_changed_arrangements_2019_and_2020(cal):
    # 2019 Labour Day became 1-4 May with Sundays 28 April and 5 May worked.
    assert cal.is_rest_day(D("2019-05-03"))
    assert cal.is_working_day(D("2019-05-05"))
    # 2020 Spring Festival extended to 2 February: Saturday 1 February no longer worked.
    assert cal.is_rest_day(D("2020-02-01"))
    assert cal.is_working_day(D("2020-02-03"))


def test_working_day_semantics(cal):
    assert cal.is_working_day(D("2026-02-28"))  # 调休 working Saturday
    assert cal.is_rest_day(D("2026-03-07"))  # ordinary Saturday
    assert cal.is_rest_day(D("2026-02-20"))  # Friday inside the Spring Festival
    assert cal.is_working_day(D("2026-02-24"))
    assert cal.holiday_name(D("2026-10-05")) == "国庆节"
    assert cal.holiday_name(D("2026-03-10")) is None


# --- worked timeline, time-limits.md 1G --------------------------------------------------------


def test_payment_due_15_calendar_days(cal):
    d = cal.due("2026-03-02", 15, "calendar_days")
    assert d == Due(D("2026-03-17"), datetime(2026, 3, 17, 23, 59, 59, tzinfo=d.at.tzinfo), False)
    assert deadline("2026-03-02", 15, "calendar_days") == "2026-03-17T23:59:59+08:00"


def test_reconsideration_60_days_rolls_past_labour_day(cal):
    assert cal.due("2026-03-02", 60, "days").date == D("2026-05-06")


def test_litigation_6_months_and_court_window_3_months(cal):
    assert cal.due("2026-03-02", 6, "months").date == D("2026-09-02")
    assert cal.due("2026-09-02", 3, "months").date == D("2026-12-02")


def test_ten_working_days_after_reminder(cal):
    assert cal.due("2026-09-03", 10, "working_days").date == D("2026-09-17")
    assert cal.due("2026-09-03", 10, "working").date == D("2026-09-17")


def test_month_end_ends_on_adjusted_working_saturday(cal):
    assert cal.due("2025-08-31", 6, "months").date == D("2026-02-28")
    strict = LegalCalendar(_years(cal), adjusted_weekend_is_working=False)
    assert strict.due("2025-08-31", 6, "months").date == D("2026-03-02")


def test_years_use_the_month_rule(cal):
    assert cal.due("2024-02-29", 1, "years").date == D("2025-02-28")  # Friday
    assert cal.due("2024-03-02", 2, "years").date == D("2026-03-02")


# --- last-day rule -----------------------------------------------------------------------------


def test_calendar_period_ending_on_adjusted_saturday_2024_09_14(cal):
    assert D("2024-08-30") + timedelta(days=15) == D("2024-09-14")
    assert cal.due("2024-08-30", 15, "calendar").date == D("2024-09-14")


def test_calendar_period_ending_on_ordinary_saturday_moves_to_monday(cal):
    assert cal.due("2026-03-02", 12, "days").date == D("2026-03-16")
    lenient = LegalCalendar(_years(cal), weekend_is_rest_for_last_day=False)
    assert lenient.due("2026-03-02", 12, "days").date == D("2026-03-14")
    # Holidays still move the last day under that reading.
    assert lenient.due("2026-03-02", 60, "days").date == D("2026-05-06")


def test_holidays_inside_a_calendar_period_are_counted(cal):
    assert cal.due("2026-02-10", 15, "days").date == D("2026-02-25")


# --- working-day periods -----------------------------------------------------------------------


def test_working_days_across_2026_spring_festival(cal):
    # 02-13 (Fri) 1, 02-14 (调休 Sat) 2, 02-15..23 off, 02-24 3, 02-25 4, 02-26 5.
    assert cal.due("2026-02-12", 5, "working_days").date == D("2026-02-26")
    # ... 02-27 6, 02-28 (调休 Sat) 7, 03-02..06 8-12, 03-09..11 13-15.
    assert cal.due("2026-02-12", 15, "working_days").date == D("2026-03-11")


def test_start_day_on_a_holiday(cal):
    # Counting begins with the first working day after the start: 02-24 is day 1.
    assert cal.due("2026-02-16", 5, "working_days").date == D("2026-02-28")
    assert cal.due("2026-10-01", 15, "calendar_days").date == D("2026-10-16")
    assert cal.due("2026-10-01", 0, "working_days").date == D("2026-10-08")


# --- hours and input forms ---------------------------------------------------------------------


def test_hours_are_exact_and_never_roll(cal):
    d = cal.due("2026-09-30T20:00:00+08:00", 24, "hours")
    assert d.at.isoformat() == "2026-10-01T20:00:00+08:00"
    assert d.date == D("2026-10-01")
    assert d.provisional is False
    utc_start = datetime(2026, 3, 2, 2, 25, tzinfo=UTC)
    assert deadline(utc_start, 24, "hours") == "2026-03-03T10:25:00+08:00"


def test_hours_need_an_instant(cal):
    with pytest.raises(TypeError):
        cal.due("2026-03-02", 24, "hours")


def test_aware_datetime_is_converted_to_china_date_first(cal):
    # 2026-03-01 17:30 UTC is 2026-03-02 01:30 in China.
    assert legal_date("2026-03-01T17:30:00Z") == D("2026-03-02")
    assert cal.due("2026-03-01T17:30:00+00:00", 15, "days").date == D("2026-03-17")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    assert cal.due(start, 15, "days").date == D("2026-03-17")


@pytest.mark.parametrize("start", ["2026-03-02T10:00:00", datetime(2026, 3, 2, 10, 0)])
def test_naive_datetime_refused(cal, start):
    with pytest.raises(ValueError, match="offset"):
        cal.due(start, 15, "days")


def test_unknown_unit_refused(cal):
    with pytest.raises(ValueError, match="fortnights"):
        cal.due("2026-03-02", 1, "fortnights")


def test_negative_amount_refused(cal):
    with pytest.raises(ValueError):
        cal.due("2026-03-02", -1, "days")


def test_module_level_due_uses_default_calendar():
    assert load_default_calendar() is load_default_calendar()
    assert due("2026-03-02", 15, "days").date == D("2026-03-17")


# --- late-payment fine (APL Art. 72(1), P13) ---------------------------------------------------


def test_late_fee_in_time_is_zero():
    assert late_fee("1000", "2026-03-17", "2026-03-17T18:00:00+08:00") == "0.00"
    assert late_fee(1000, "2026-03-17T23:59:59+08:00", "2026-03-10") == "0.00"


def test_late_fee_before_cap():
    assert late_fee("1000", "2026-03-17", "2026-03-18") == "30.00"  # day 1
    assert late_fee("1000", "2026-03-17", "2026-04-19") == "990.00"  # day 33
    assert late_fee("333.33", "2026-03-17", "2026-03-18") == "10.00"  # 9.9999 rounded


def test_late_fee_cap_reached_on_day_34():
    assert (D("2026-04-20") - D("2026-03-17")).days == 34
    assert late_fee("1000", "2026-03-17", "2026-04-20") == "1000.00"
    assert late_fee("1000", "2026-03-17", "2026-12-31") == "1000.00"


def test_late_fee_compares_china_dates():
    # 16:30 UTC on the due date is 00:30 the next day in China: one day late.
    assert late_fee("1000", "2026-03-17T23:59:59+08:00", "2026-03-17T16:30:00Z") == "30.00"


def test_late_fee_refuses_naive_and_negative():
    with pytest.raises(ValueError):
        late_fee("1000", "2026-03-17", "2026-03-18T10:00:00")
    with pytest.raises(ValueError):
        late_fee("-1", "2026-03-17", "2026-03-18")


# --- provisional and unavailable years ---------------------------------------------------------


def test_lunar_dates_of_2027_spring_festival():
    assert LunarDate.from_solar_date(2027, 2, 6) == LunarDate(2027, 1, 1)
    assert LunarDate.from_solar_date(2027, 2, 5).year == 2026  # 除夕, last day of the old year
    off = {D(d["date"]) for d in provisional_year_entry(2027)["days"] if d["name"] == "春节"}
    assert off == span("2027-02-05", "2027-02-08")


def test_2027_deadline_is_provisional_and_skips_spring_festival(cal):
    assert cal.is_provisional_year(2027)
    assert not cal.is_provisional_year(2026)
    assert cal.provisional_years() == [2027]
    # 2026-12-07 + 60 days = 2027-02-05 (除夕); 02-06..08 off; 02-09 Tuesday.
    d = cal.due("2026-12-07", 60, "days")
    assert d.date == D("2027-02-09")
    assert d.provisional is True
    assert cal.is_working_day(d.date)
    assert all(cal.is_rest_day(x) for x in span("2027-02-05", "2027-02-08"))
    assert deadline("2026-12-07", 60, "days") == "2027-02-09T23:59:59+08:00"


def test_90_day_limit_into_2027_is_provisional(cal):
    d = cal.due("2026-11-15", 90, "calendar_days")
    assert d.date == D("2027-02-15")  # 02-13 is a Saturday
    assert d.provisional


def test_working_days_across_2027_spring_festival(cal):
    d = cal.due("2027-02-04", 2, "working_days")
    assert d.date == D("2027-02-10")
    assert d.provisional


def test_period_inside_published_years_is_not_provisional(cal):
    assert cal.due("2026-11-01", 30, "days") == Due(
        D("2026-12-01"), cal.due("2026-11-01", 30, "days").at, False
    )
    assert not cal.due("2026-12-01", 20, "working_days").provisional


def test_provisional_calendar_can_be_switched_off(cal):
    strict = LegalCalendar(_years(cal), allow_provisional=False)
    with pytest.raises(CalendarUnavailable):
        strict.due("2026-12-07", 60, "days")


def test_years_before_the_data_are_unavailable(cal):
    with pytest.raises(CalendarUnavailable):
        cal.is_working_day(D("2018-06-01"))
    with pytest.raises(CalendarUnavailable):
        cal.due("2018-12-01", 10, "days")
    assert not cal.is_provisional_year(2018)


def test_with_year_replaces_the_provisional_year(cal):
    published = {
        "year": 2027,
        "papers": ["test notice"],
        "days": [{"name": "春节", "date": x.isoformat(), "isOffDay": True}
                 for x in span("2027-02-05", "2027-02-12")]
        + [{"name": "春节", "date": "2027-02-20", "isOffDay": False}],
    }
    updated = cal.with_year(published)
    assert not updated.is_provisional_year(2027)
    assert cal.is_provisional_year(2027)  # the original is untouched
    d = updated.due("2026-12-07", 60, "days")
    assert d.date == D("2027-02-15")
    assert not d.provisional
    assert updated.is_working_day(D("2027-02-20"))


def test_a_loaded_provisional_entry_stays_provisional(cal):
    loaded = cal.with_year(provisional_year_entry(2027))
    assert loaded.is_provisional_year(2027)
    assert loaded.provisional_years(2027) == [2027]
    assert loaded.due("2026-12-07", 60, "days") == cal.due("2026-12-07", 60, "days")


def test_with_year_refuses_a_weekday_as_adjusted_working_day(cal):
    bad = {"year": 2027, "papers": [], "days": [
        {"name": "x", "date": "2027-03-03", "isOffDay": False}]}
    with pytest.raises(InvalidInput) as caught:
        cal.with_year(bad)
    assert caught.value.problems[0].field == "days[0]"


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_days_are_off_in_the_notices_under_the_2024_revision(cal, year):
    statutory = {D(d["date"]) for d in provisional_year_entry(year)["days"]}
    assert len(statutory) == 13
    assert all(cal.is_rest_day(x) for x in statutory)


def test_qingming_matches_the_notices():
    expected = {2019: "04-05", 2020: "04-04", 2021: "04-04", 2022: "04-05",
                2023: "04-05", 2024: "04-04", 2025: "04-04", 2026: "04-05", 2027: "04-05"}
    assert {y: qingming(y).strftime("%m-%d") for y in expected} == expected


def _years(cal: LegalCalendar) -> list[dict]:
    return [cal.year_entry(y) for y in cal.data_years]
