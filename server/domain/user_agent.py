"""A device as a supervisor would name it: "Redmi Note 12 · 微信", "iPhone · Safari 17",
"Windows 电脑 · Edge 120", read from what the phone told us at login.

Why not a user-agent library: the page needs a model and a browser, not a device database,
and the phones a county uses send a handful of shapes. Chrome on Android no longer puts the
model in the user agent (it says "K"); the model then comes from the `Sec-CH-UA-Model`
client hint, which the field app's pages ask for (`Accept-CH`). Nothing here is trusted: it
is a label, shown next to the device id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (pattern, browser name) in the order they must be tried: the Chinese apps and vendor
# browsers put "Chrome/…" and "Safari/…" in their strings too.
_BROWSERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"MicroMessenger/([\d.]+)", "wechat"),
        (r"DingTalk/([\d.]+)", "dingtalk"),
        (r"\bQQ/([\d.]+)", "qq"),
        (r"MQQBrowser/([\d.]+)", "qq_browser"),
        (r"UCBrowser/([\d.]+)", "uc"),
        (r"HuaweiBrowser/([\d.]+)", "huawei_browser"),
        (r"HeyTapBrowser/([\d.]+)", "heytap_browser"),
        (r"MiuiBrowser/([\d.]+)", "miui_browser"),
        (r"VivoBrowser/([\d.]+)", "vivo_browser"),
        (r"Quark/([\d.]+)", "quark"),
        (r"SamsungBrowser/([\d.]+)", "samsung_browser"),
        (r"EdgA?/([\d.]+)", "edge"),
        (r"Firefox/([\d.]+)", "firefox"),
        (r"CriOS/([\d.]+)", "chrome"),
        (r"Chrome/([\d.]+)", "chrome"),
        (r"Version/([\d.]+).*Safari/", "safari"),
    )
)
_ANDROID = re.compile(r"Android\s*([\d.]*)[^;)]*;\s*(?:[a-z]{2}[-_][A-Za-z]{2};\s*)?([^;)]*)")
_NOT_A_MODEL = {"", "k", "wv", "mobile", "linux", "u"}


@dataclass(frozen=True)
class DeviceLabel:
    """What a device is: `model` (a phone's model, when known), `kind` (a catalog word:
    android, iphone, ipad, windows, mac, linux, other) and `browser` (a catalog word) with
    its major `version`."""

    model: str
    kind: str
    browser: str
    version: str


def describe(user_agent: str | None, model_hint: str | None = None) -> DeviceLabel:
    ua = (user_agent or "")[:512]
    model = _clean(model_hint)
    kind = "other"
    if "iPhone" in ua:
        kind = "iphone"
    elif "iPad" in ua:
        kind = "ipad"
    elif "Android" in ua:
        kind = "android"
        m = _ANDROID.search(ua)
        if m and not model:
            model = _clean(m.group(2).split(" Build/")[0])
    elif "Windows" in ua:
        kind = "windows"
    elif "Macintosh" in ua or "Mac OS X" in ua:
        kind = "mac"
    elif "Linux" in ua or "X11" in ua:
        kind = "linux"
    browser, version = "other", ""
    for pattern, name in _BROWSERS:
        m = pattern.search(ua)
        if m:
            browser, version = name, m.group(1).split(".")[0]
            break
    return DeviceLabel(model, kind, browser, version)


def _clean(text: str | None) -> str:
    """A model name as sent (client hints are quoted), or "" for the placeholders."""
    value = (text or "").strip().strip('"').strip()[:64]
    return "" if value.lower() in _NOT_A_MODEL else value


def looks_like_user_agent(text: str | None) -> bool:
    """Older field apps sent their user agent as the device's name."""
    return bool(text) and ("Mozilla/" in text or "AppleWebKit" in text)  # type: ignore[operator]
