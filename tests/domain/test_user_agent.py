"""Devices named as people name them, from the user agents county phones really send."""

from __future__ import annotations

import pytest

from server.domain.user_agent import describe, looks_like_user_agent

CASES = [
    # Chrome on Android since the user-agent reduction: no model, the hint gives it
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        '"Redmi Note 12"',
        ("Redmi Note 12", "android", "chrome", "120"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        None,
        ("", "android", "chrome", "120"),
    ),
    # WeChat's built-in browser on a Huawei, model in the user agent
    (
        "Mozilla/5.0 (Linux; Android 12; NOH-AN00 Build/HUAWEINOH-AN00; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
        "MMWEBSDK/20230405 MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 Weixin",
        None,
        ("NOH-AN00", "android", "wechat", "8"),
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 13; zh-cn; 22081212C Build/TKQ1.220829.002) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.127 "
        "Mobile Safari/537.36 XiaoMi/MiuiBrowser/17.7.80528",
        None,
        ("22081212C", "android", "miui_browser", "17"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 7.0; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/116.0.0.0 Mobile Safari/537.36",
        None,
        ("Pixel 7", "android", "chrome", "116"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        None,
        ("", "iphone", "safari", "17"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
        None,
        ("", "windows", "edge", "120"),
    ),
    ("reference client", None, ("", "other", "other", "")),
    ("", None, ("", "other", "other", "")),
]


@pytest.mark.parametrize(("ua", "hint", "expected"), CASES)
def test_describe(ua, hint, expected):
    label = describe(ua, hint)
    assert (label.model, label.kind, label.browser, label.version) == expected


def test_a_user_agent_sent_as_a_name_is_recognised():
    assert looks_like_user_agent(CASES[0][0])
    assert not looks_like_user_agent("老王的手机") and not looks_like_user_agent("")
