"""Rules of law a task's JSON Schema cannot express, read from the BPMN task's properties and checked
by the engine before the task completes (a breach is a 422 naming the field, and nothing changes).

- `fine_limit_person` / `fine_limit_organization` (yuan), `fine_limit_basis`, `fine_field`: the most a
  procedure may fine a natural person or an organisation (the simplified procedure: APL Art. 51,
  200 / 3,000 yuan). The case's party decides which limit applies.
- `not_future_fields`: comma-separated date-time fields that may not lie after the clock's now.
- `choice_field`, `choice_value`, `choice_count_field`, `choice_max`, `choice_basis`: a choice the law
  allows only so many times in a case (the seizure period is extended once: ACL Art. 25); the count is
  kept in the case data by the diagram.
- `early_choice_field`, `early_choice_value`, `early_choice_until`, `early_choice_basis`: a choice not
  allowed until the day named by a case-data date field has passed (enforcement only after the
  reminder's deadline: ACL Art. 37).
- `rest_time_field`, `rest_time_override`, `night_from`, `night_until`, `rest_time_basis`: a date-time that
  may not fall at night or on a rest day of the legal calendar unless the override field is true (no
  enforcement at night or on holidays except in an emergency: ACL Art. 43). Rest days include ordinary
  weekends (the cautious reading of "法定节假日"); the night hours are properties of the diagram.

The limits are data in the diagram, so legal staff change them with the law, not the code.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.clock import CHINA_TZ, parse_instant
from engine.errors import InvalidInput, Problem, WorkflowError

PARTY_LIMITS = {"person": ("fine_limit_person", "公民"), "organization": ("fine_limit_organization", "法人或者其他组织")}


def check(
    properties: dict[str, str], case_data: dict[str, Any], form: dict[str, Any], now: datetime, bpmn_id: str,
    calendar: Any = None,
) -> None:
    problems = fine_limit_problems(properties, case_data.get("party") or {}, form, bpmn_id)
    problems += not_future_problems(properties, form, now)
    problems += limited_choice_problems(properties, case_data, form, bpmn_id)
    problems += early_choice_problems(properties, case_data, form, now)
    problems += rest_time_problems(properties, form, calendar)
    if problems:
        raise InvalidInput("the data breaks a rule of law for this task", problems)


def fine_limit_problems(properties: dict[str, str], party: dict[str, Any], form: dict[str, Any], bpmn_id: str) -> list[Problem]:
    field = properties.get("fine_field")
    if not field or field not in form:
        return []
    key, who = PARTY_LIMITS.get(party.get("type"), (None, None))
    if key is None or key not in properties:
        return []
    limit = _amount(properties[key], key, bpmn_id)
    amount = Decimal(str(form[field]))
    if amount <= limit:
        return []
    basis = properties.get("fine_limit_basis", "")
    return [Problem(
        f"罚款{amount}元超过本程序对{who}的限额{limit}元（{basis}），应当适用普通程序 "
        f"(the fine exceeds this procedure's limit of {limit} yuan for this party)",
        field=field, element_id=bpmn_id,
    )]


def not_future_problems(properties: dict[str, str], form: dict[str, Any], now: datetime) -> list[Problem]:
    problems = []
    for field in [f.strip() for f in properties.get("not_future_fields", "").split(",") if f.strip()]:
        value = form.get(field)
        if not isinstance(value, str):
            continue
        try:
            at = parse_instant(value)
        except ValueError:
            problems.append(Problem("需为带时区的ISO 8601时间 (ISO 8601 with a UTC offset)", field=field))
            continue
        if at > now:
            problems.append(Problem(f"不得晚于当前时间 (may not be in the future: {value})", field=field))
    return problems


def limited_choice_problems(properties: dict[str, str], data: dict[str, Any], form: dict[str, Any], bpmn_id: str) -> list[Problem]:
    field = properties.get("choice_field")
    if not field or form.get(field) != properties.get("choice_value"):
        return []
    maximum = int(_amount(properties.get("choice_max", "0"), "choice_max", bpmn_id))
    used = data.get(properties.get("choice_count_field", ""), 0)
    if not isinstance(used, int) or used < maximum:
        return []
    return [Problem(
        f"“{form[field]}”已使用{used}次，法定上限{maximum}次（{properties.get('choice_basis', '')}） "
        f"(the law allows this at most {maximum} time(s))",
        field=field, element_id=bpmn_id,
    )]


def early_choice_problems(properties: dict[str, str], data: dict[str, Any], form: dict[str, Any], now: datetime) -> list[Problem]:
    field = properties.get("early_choice_field")
    if not field or form.get(field) != properties.get("early_choice_value"):
        return []
    until = data.get(properties.get("early_choice_until", ""))
    try:
        last_day = date.fromisoformat(str(until)[:10])
    except ValueError:
        return []
    if now.astimezone(CHINA_TZ).date() > last_day:
        return []
    return [Problem(
        f"{last_day.isoformat()}（含当日）届满前不得选择“{form[field]}”（{properties.get('early_choice_basis', '')}） "
        f"(not before {last_day.isoformat()} has passed)",
        field=field,
    )]


def rest_time_problems(properties: dict[str, str], form: dict[str, Any], calendar: Any) -> list[Problem]:
    field = properties.get("rest_time_field")
    if not field or calendar is None or not isinstance(form.get(field), str):
        return []
    if form.get(properties.get("rest_time_override", "")) is True:
        return []
    try:
        local = parse_instant(form[field]).astimezone(CHINA_TZ)
    except ValueError:
        return [Problem("需为带时区的ISO 8601时间 (ISO 8601 with a UTC offset)", field=field)]
    night_from = time.fromisoformat(properties.get("night_from", "22:00"))
    night_until = time.fromisoformat(properties.get("night_until", "06:00"))
    basis = properties.get("rest_time_basis", "")
    if calendar.is_rest_day(local.date()):
        return [Problem(f"{local.date().isoformat()}为休息日或者法定节假日，不得实施（{basis}），情况紧急的除外 (a rest day)", field=field)]
    if local.time() >= night_from or local.time() < night_until:
        return [Problem(f"{local.strftime('%H:%M')}为夜间（{night_from:%H:%M}至次日{night_until:%H:%M}），不得实施（{basis}），情况紧急的除外 "
                        "(at night)", field=field)]
    return []


def _amount(text: str, key: str, bpmn_id: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise WorkflowError(f"task {bpmn_id}: property {key}={text!r} is not an amount") from exc
