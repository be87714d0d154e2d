"""api/web/refusals.py: the engine's messages in the page's language (Chinese by default, English on
request), exact ones, ones that mean something else at one field, and ones carrying values."""
from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from api.web.i18n import compile_catalogues
from api.web.refusals import EXACT, explain
from engine.core import Core


@pytest.fixture(scope="module", autouse=True)
def _catalogues() -> None:
    compile_catalogues()


@pytest.fixture
def app(sqlite_db: Any, tmp_path: Any) -> Any:
    from dataclasses import replace

    from engine.clock import FrozenClock
    from engine.settings import from_env
    from tests.conftest import START

    return create_app(Core(replace(from_env({}), database_url=sqlite_db.url, data_dir=tmp_path), clock=FrozenClock(START), db=sqlite_db))


@pytest.mark.parametrize("message, field, chinese", [
    ("user 12 is not an officer of 广州市天河区市场监督管理局", "officer_ids", "用户 12 不是广州市天河区市场监督管理局的执法人员。"),
    ("officer officer2 holds no valid enforcement certificate", "officer_ids", "执法人员 officer2 没有有效的行政执法证件。"),
    ("ISO 8601 with a UTC offset, not in the future, e.g. 2026-03-02T09:00:00+08:00", "clue_received_at",
     "请输入有效且不晚于当前时间的日期和时间。"),
    ("ISO 8601 with a UTC offset, not in the future", "captured_at", "请输入不晚于当前时间的时间。"),
    ("广州市天河区市场监督管理局 is not competent for matter 440201003001 (销售商品不明码标价)", None, "本机关对该执法事项没有管辖权。"),
    ("version 3 is not executable", "process_id", "该执法事项办案流程的第 3 版不可执行，请联系流程设计人员。"),
    ("this needs one of the roles: officer, agency_head", None, "此操作需要以下角色之一：执法人员、机关负责人。"),
    ("an integer", "agency_id", "请选择机关。"),
    ("an integer", "seed", "请输入整数。"),
    ("1 to 2000 characters", "reply", "请填写给投诉举报人的答复（1至2000字）。"),
    ("1 to 200 characters", "subject", "请填写1至200个字符。"),
    ("'findings' is a required property", "findings", "此项为必填项。"),
    ("'两千' is not of type 'number'", "fine", "请输入数字。"),
    ("'x\ny' is too long", "text", "文字过长。"),
    ("0 is less than or equal to the minimum of 0", "fine", "数值过小。"),
    ("'c' is not valid under any of the given schemas", "tier", "请从选项中选择。"),
    ("'9点' does not match '^([01][0-9]|2[0-3]):[0-5][0-9]$'", "hearing_time", "格式不正确。"),
    ("task 立案审批 is completed, not ready", None, "任务“立案审批”当前为“已办”，已不能办理，未作任何更改。"),
    ("something the pages have not met", None, "something the pages have not met"),
])
def test_messages_in_chinese(app: Any, message: str, field: str | None, chinese: str) -> None:
    with app.test_request_context("/"):
        assert explain(message, field) == chinese


def test_english_on_request_and_every_exact_message_translated(app: Any) -> None:
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = "en"
        assert explain("user 12 is not an officer of X") == "User 12 is not an officer of X."
    with app.test_request_context("/"):
        untranslated = [m for m, said in EXACT.items() if str(said) == m or not any("\u4e00" <= c <= "\u9fff" for c in str(said))]
    assert not untranslated
