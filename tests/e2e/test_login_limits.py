"""Password guessing on the phone is slowed, and the field app says so in words (issue 7,
part 3): the server's 429 `too_many_logins` with Retry-After becomes "尝试次数太多，请 15
分钟后再登录" under the form, never a bare code."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_too_many_attempts_are_told_in_the_app(make_phone, live_server):
    phone = make_phone()
    page = phone.goto()
    page.wait_for_selector("#username")
    # an account nobody has: the shared demo server's real accounts stay usable
    for n in range(11):  # XUNJIAN_LOGIN_FAILURES_PER_ACCOUNT is 10
        page.fill("#username", "guesser")
        page.fill("#password", f"guess-{n}")
        page.click("form button[type=submit]")
        page.wait_for_function(
            "() => document.querySelector('#login-error').textContent !== ''"
            " && !document.querySelector('form button[type=submit]').disabled"
        )
        if n < 10:
            assert "用户名或密码" in page.text_content("#login-error")
    text = page.text_content("#login-error")
    assert "尝试次数太多" in text and "15 分钟" in text, text
    phone.shot("login-too-many")
