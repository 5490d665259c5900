"""Browser sessions for supervisors: a signed cookie, its CSRF token, and who is behind it.

Why a signed cookie and no session table: the office pages are a handful of forms for a few
supervisors per county, and a stateless cookie needs no migration and no clean-up job. The
cookie carries the user id, a random nonce, the time of issue and a fingerprint of the
password hash, signed with HMAC-SHA256 under the server secret. A changed password or a
disabled account therefore ends every session at once; logging out clears the cookie.

Every visitor, even before logging in, gets a session (anonymous until login) so that the
login form itself carries a CSRF token. Logging in issues a fresh nonce (no fixation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, select

from server.models import Area, User
from server.services import audit
from server.services.auth import still_holds
from server.services.scope import Scope, scope_of

COOKIE = "xj_web"
MAX_AGE = 12 * 3600  # an office working day, then log in again
WEB_ROLES = ("supervisor", "admin")
HOME = "/review"  # where a supervisor lands after login
_SESSION_CONTEXT = b"xunjian.web-session.v1|"
_CSRF_CONTEXT = b"xunjian.web-csrf.v1|"


@dataclass(frozen=True)
class WebSession:
    """What a verified cookie says. `user_id` is None before login."""

    user_id: int | None
    nonce: str
    issued: int
    pw: str = ""


@dataclass(frozen=True)
class Viewer:
    """A logged-in supervisor or admin, as the office pages see them."""

    user: User
    area: Area
    scope: Scope
    session: WebSession


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, context: bytes, message: bytes) -> bytes:
    return hmac.new(secret.encode(), context + message, hashlib.sha256).digest()


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a new password ends old sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def new_session(user: User | None = None) -> WebSession:
    return WebSession(
        user_id=user.id if user else None,
        nonce=secrets.token_urlsafe(18),
        issued=int(time.time()),
        pw=password_fingerprint(user) if user else "",
    )


def encode(secret: str, session: WebSession) -> str:
    body = json.dumps(
        {"u": session.user_id, "n": session.nonce, "t": session.issued, "p": session.pw},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(body)}.{_b64(_mac(secret, _SESSION_CONTEXT, body))}"


def decode(secret: str, value: str | None, now: float | None = None) -> WebSession | None:
    """The session in a cookie value, or None when it is forged, malformed or expired."""
    if not value or value.count(".") != 1 or len(value) > 1024:
        return None
    body_b64, mac_b64 = value.split(".")
    try:
        body, mac = _unb64(body_b64), _unb64(mac_b64)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, _SESSION_CONTEXT, body)):
        return None
    try:
        data = json.loads(body)
        session = WebSession(
            user_id=data["u"], nonce=str(data["n"]), issued=int(data["t"]), pw=str(data["p"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - session.issued
    if not 0 <= age < MAX_AGE + 60:  # a minute of slack for clock steps
        return None
    return session


def csrf_token(secret: str, session: WebSession) -> str:
    """The token every POST form of this session must carry (tied to the session's nonce)."""
    return _b64(_mac(secret, _CSRF_CONTEXT, session.nonce.encode()))


def csrf_ok(secret: str, session: WebSession | None, token: object) -> bool:
    if session is None or not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token.encode(), csrf_token(secret, session).encode())


def viewer(db: Session, session: WebSession | None) -> Viewer | None:
    """The active supervisor/admin behind a session, or None (anonymous, disabled, demoted,
    or the password changed since the cookie was issued)."""
    if session is None or session.user_id is None:
        return None
    user = db.get(User, session.user_id)
    if user is None or not user.active or user.role not in WEB_ROLES:
        return None
    if not hmac.compare_digest(session.pw, password_fingerprint(user)):
        return None
    area = db.get(Area, user.area_id)
    if area is None:
        return None
    return Viewer(user, area, scope_of(db, user), session)


def log_in(
    db: Session, username: str, password: str, verified: str | None
) -> tuple[str, User | None]:
    """("ok", user) for an active supervisor or admin whose password `auth.verified_hash`
    checked before this write transaction, written to the audit log; else
    ("bad_credentials" | "inspector", None). Which part was wrong is never told: a wrong
    password and an unknown or disabled user answer alike."""
    user = db.exec(select(User).where(User.username == username)).first()
    ok = bool(username and password) and still_holds(user, verified)
    if not ok or user is None:
        return "bad_credentials", None
    if user.role not in WEB_ROLES:
        return "inspector", None
    audit.record(db, "web.login", user_id=user.id, target_type="user", target_id=user.id)
    return "ok", user


def log_out(db: Session, user_id: int) -> None:
    if db.get(User, user_id) is not None:
        audit.record(db, "web.logout", user_id=user_id, target_type="user", target_id=user_id)


def set_language(db: Session, user_id: int, lang: str) -> None:
    """The account's own language, used wherever this person logs in."""
    user = db.get(User, user_id)
    if user is not None and user.lang != lang:
        user.lang = lang
        db.add(user)


def safe_next(target: str | None, default: str = HOME) -> str:
    """A local path to go to after login; anything that could leave the site is refused."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
