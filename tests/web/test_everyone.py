"""Login and logout as each role, the language switch, and what a wrong password shows."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

LANDING = [
    ("officer1", "/inbox", "我的待办"),
    ("reviewer1", "/inbox", "我的待办"),
    ("head1", "/inbox", "我的待办"),
    ("supervisor1", "/supervision", "法定期限监督"),
    ("designer1", "/procedures", "程序库"),
    ("admin", "/cases", "案件"),
]


@pytest.mark.parametrize(("username", "path", "heading"), LANDING)
def test_each_role_logs_in_to_its_start_page_and_out(pages, username, path, heading):  # type: ignore[no-untyped-def]
    page = pages.login(username)
    assert page.url.endswith(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile("/login$"))
    expect(page.get_by_role("status")).to_contain_text("您已退出登录")
    page.goto(path)
    expect(page).to_have_url(re.compile("/login"))


def test_wrong_password_is_refused(pages):  # type: ignore[no-untyped-def]
    page = pages.new()
    page.goto("/login")
    page.get_by_label("用户名").fill("officer1")
    page.get_by_label("密码").fill(PASSWORD + "x")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误。")


def test_language_switches_to_english_and_back(pages):  # type: ignore[no-untyped-def]
    page = pages.login("officer1")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("My tasks")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Cases", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("案件")
    assert page.url.endswith("/cases")


def test_login_and_navigation_by_keyboard(pages):  # type: ignore[no-untyped-def]
    page = pages.new()
    page.goto("/login")
    expect(page.get_by_label("用户名")).to_be_focused()  # autofocus
    page.keyboard.type("officer1")
    page.keyboard.press("Tab")
    expect(page.get_by_label("密码")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("我的待办")
    page.keyboard.press("Tab")  # the first stop of every page is the skip link
    expect(page.get_by_role("link", name="跳到正文")).to_be_focused()
    page.get_by_role("link", name="案件", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("案件")
