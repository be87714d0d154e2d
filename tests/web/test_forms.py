"""Task forms: JSON Schema + UI schema to fields, posted HTML form to JSON data (no database)."""
from __future__ import annotations

import json
from pathlib import Path

from werkzeug.datastructures import MultiDict

from api.web.forms import attach_errors, data_from, fields_of
from engine.errors import Problem

FORMS = Path(__file__).resolve().parents[2] / "forms"


def form(name: str) -> tuple[dict, dict]:
    return (json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8")),
            json.loads((FORMS / f"{name}.uischema.json").read_text(encoding="utf-8")))


def test_fields_follow_the_ui_order_and_widgets():  # type: ignore[no-untyped-def]
    schema, ui = form("investigate")
    fields = {f.name: f for f in fields_of(schema, ui)}
    assert [f.name for f in fields_of(schema, ui)] == ui["ui:order"]
    assert fields["findings"].widget == "textarea" and fields["findings"].rows == 5 and fields["findings"].required
    assert fields["proposed_outcome"].widget == "radio"
    assert [c.label for c in fields["proposed_outcome"].choices] == ["拟给予行政处罚", "拟不予行政处罚", "拟移送其他机关"]
    assert fields["proposed_penalties"].widget == "checkboxes" and fields["proposed_penalties"].value == []
    assert fields["proposed_fine_amount"].widget == "number" and fields["proposed_fine_amount"].help == "单位：元"
    assert fields["investigation_ended_on"].widget == "date"
    assert fields["is_major"].widget == "boolean"
    assert fields["no_punish_ground"].widget == "select" and not fields["no_punish_ground"].required


def test_posted_values_become_typed_json():  # type: ignore[no-untyped-def]
    schema, _ = form("investigate")
    posted = MultiDict([
        ("findings", " 事实 "), ("proposed_fine_amount", "2000"), ("proposed_confiscation_value", "12.5"),
        ("is_major", "false"), ("hearing_scope_other", "true"), ("proposed_penalties.present", "1"),
        ("proposed_penalties", "warning"), ("proposed_penalties", "fine"), ("transfer_target", ""),
        ("not_in_the_form", "x"),
    ])
    assert data_from(schema, posted) == {
        "findings": "事实", "proposed_fine_amount": 2000, "proposed_confiscation_value": 12.5, "is_major": False,
        "hearing_scope_other": True, "proposed_penalties": ["warning", "fine"],
    }


def test_unparseable_numbers_pass_as_text_for_the_schema_to_name():  # type: ignore[no-untyped-def]
    schema, _ = form("investigate")
    assert data_from(schema, MultiDict([("proposed_fine_amount", "两千")])) == {"proposed_fine_amount": "两千"}


def test_unchecked_checkboxes_are_an_empty_list():  # type: ignore[no-untyped-def]
    schema, _ = form("investigate")
    assert data_from(schema, MultiDict([("proposed_penalties.present", "1")])) == {"proposed_penalties": []}


def test_local_times_are_china_time_with_offset():  # type: ignore[no-untyped-def]
    schema, ui = form("prior_notice")
    data = data_from(schema, MultiDict([("served_at", "2026-03-12T10:00")]))
    assert data == {"served_at": "2026-03-12T10:00:00+08:00"}
    field = next(f for f in fields_of(schema, ui, {"served_at": "2026-03-12T02:00:00+00:00"}) if f.name == "served_at")
    assert field.widget == "datetime" and field.value == "2026-03-12T10:00"


def test_errors_go_to_their_fields():  # type: ignore[no-untyped-def]
    schema, ui = form("verify_clue")
    fields = fields_of(schema, ui)
    loose = attach_errors(fields, [Problem("必填", field="clue_source"), Problem("whole form", field="data")])
    assert next(f for f in fields if f.name == "clue_source").errors == ["必填"]
    assert loose == ["whole form"]


def test_every_form_of_the_project_renders():  # type: ignore[no-untyped-def]
    for path in sorted(FORMS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        ui = json.loads(path.with_name(path.name.replace(".schema.", ".uischema.")).read_text(encoding="utf-8"))
        fields = fields_of(schema, ui)
        assert {f.name for f in fields} == set(schema["properties"]), path.name
        assert all(f.label and f.label != f.name for f in fields), path.name


def test_objects_become_groups_and_arrays_of_objects_rows():  # type: ignore[no-untyped-def]
    schema = json.loads((FORMS / "documents" / "inquiry_record.schema.json").read_text(encoding="utf-8"))
    ui = json.loads((FORMS / "documents" / "inquiry_record.uischema.json").read_text(encoding="utf-8"))
    fields = {f.name: f for f in fields_of(schema, ui, {"qa": [{"q": "问一", "a": "答一"}]})}
    assert fields["person"].widget == "group" and [c.name for c in fields["person"].children][:2] == ["person.name", "person.id_number"]
    assert fields["qa"].widget == "rows" and len(fields["qa"].item_rows) == 1 + 3  # the item and ui:options.blank_rows
    assert [c.value for c in fields["qa"].item_rows[0]] == ["问一", "答一"]
    posted = MultiDict([("person.name", " 陈示例 "), ("qa.present", "1"), ("qa.0.q", "问一"), ("qa.0.a", "答一"),
                        ("qa.1.q", ""), ("qa.1.a", ""), ("qa.2.q", "问三"), ("place", "")])
    assert data_from(schema, posted) == {"person": {"name": "陈示例"}, "qa": [{"q": "问一", "a": "答一"}, {"q": "问三"}]}
    loose = attach_errors(list(fields.values()), [Problem("缺", field="person.phone"), Problem("缺答", field="qa.0.a")])
    assert loose == [] and fields["person"].children[3].errors == ["缺"] and fields["qa"].item_rows[0][1].errors == ["缺答"]


def test_a_group_of_unticked_checkboxes_is_left_out():  # type: ignore[no-untyped-def]
    schema, _ = form("decide")
    posted = MultiDict([("discretion_facts.mitigating.present", "1"), ("discretion_facts.aggravating.present", "1")])
    assert "discretion_facts" not in data_from(schema, posted)
    posted.add("discretion_facts.minor", "true")
    assert data_from(schema, posted)["discretion_facts"] == {"minor": True, "mitigating": [], "aggravating": []}
