"""Sign-in accounts, wall screens and sessions, folded from the control log, the same on every worker.

Creating a user, changing a role or a password, disabling someone, registering or revoking a
wall screen, signing in and signing out are events on the control log
(streams.events.AccountCreated … SessionRevoked). Every worker applies them as they arrive, so
a change takes effect everywhere within the log's delay, and a restart rebuilds it all.

Passwords are kept only as argon2id hashes (argon2-cffi; hashes made by an earlier version with
werkzeug's scrypt still verify and are replaced by argon2 at the next sign-in). A wall screen's
link is a bearer secret known to the log only by its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import singledispatch

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from werkzeug.security import check_password_hash

from streams import events as ev

ROLES = ("wall", "manager", "executive", "admin")
PERSON_ROLES = ("manager", "executive", "admin")
DEFAULT_KIOSK = "default wall screen"
MIN_PASSWORD = 10
SESSION_DAYS = 30
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # keeps unknown names as slow as known ones


@dataclass
class User:
    role: str
    password_hash: str
    site_id: str | None = None  # None: every site
    disabled: bool = False
    password_changed: datetime | None = None  # sessions issued before this are over
    last_sign_in: datetime | None = None


@dataclass
class Kiosk:
    token_sha256: str
    line_id: str | None
    site_id: str | None
    revoked: bool = False


@dataclass
class Session:
    user: str
    role: str
    started: datetime
    client: str


@dataclass
class AccountsState:
    users: dict[str, User] = field(default_factory=dict)
    kiosks: dict[str, Kiosk] = field(default_factory=dict)  # label -> kiosk
    kiosk_by_hash: dict[str, str] = field(default_factory=dict)  # token sha256 -> label
    sessions: dict[str, Session] = field(default_factory=dict)  # started, not revoked (latest SESSIONS_KEPT)
    revoked: dict[str, datetime] = field(default_factory=dict)  # session id -> when


def token_sha256(token: str) -> str:
    """Return the digest a wall screen's token is known by."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Return an argon2id hash of a password of at least MIN_PASSWORD characters (ValueError otherwise)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    """Tell whether ``password`` matches a stored hash (argon2, or an older werkzeug scrypt hash)."""
    if stored.startswith("$argon2"):
        try:
            return _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored, password)
    except ValueError:
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether a stored hash should be replaced by a current argon2 one."""
    return not stored.startswith("$argon2") or _hasher.check_needs_rehash(stored)


def apply_account(state: AccountsState, event: ev.Event) -> AccountsState:
    """Fold one control event into the accounts state and return it."""
    _apply(event, state)
    return state


@singledispatch
def _apply(event: ev.Event, state: AccountsState) -> None:
    """Other events change nothing here."""


@_apply.register
def _(event: ev.AccountCreated, state: AccountsState) -> None:
    state.users[event.user] = User(event.role, event.password_hash, event.site_id, False, event.time)


@_apply.register
def _(event: ev.AccountChanged, state: AccountsState) -> None:
    user = state.users.get(event.user)
    if user is None:
        return
    if event.role is not None:
        user.role = event.role
    if event.site_id is not None:
        user.site_id = event.site_id or None  # "" clears the site: every site
    if event.disabled is not None:
        user.disabled = event.disabled
    if event.password_hash is not None:
        user.password_hash = event.password_hash
        if not event.keep_sessions:
            user.password_changed = event.time
    if event.end_sessions:
        user.password_changed = event.time


@_apply.register
def _(event: ev.KioskRegistered, state: AccountsState) -> None:
    old = state.kiosks.get(event.label)
    if old is not None:
        state.kiosk_by_hash.pop(old.token_sha256, None)
    state.kiosks[event.label] = Kiosk(event.token_sha256, event.line_id, event.site_id)
    state.kiosk_by_hash[event.token_sha256] = event.label


@_apply.register
def _(event: ev.KioskRevoked, state: AccountsState) -> None:
    kiosk = state.kiosks.get(event.label)
    if kiosk is not None:
        kiosk.revoked = True
        state.kiosk_by_hash.pop(kiosk.token_sha256, None)


SESSIONS_KEPT = 10_000


@_apply.register
def _(event: ev.SessionStarted, state: AccountsState) -> None:
    user = state.users.get(event.user)
    if user is not None and (user.last_sign_in is None or event.time > user.last_sign_in):
        user.last_sign_in = event.time
    if event.session_id not in state.revoked:
        state.sessions[event.session_id] = Session(event.user, event.role, event.time, event.client)
        if len(state.sessions) > SESSIONS_KEPT:
            state.sessions.pop(next(iter(state.sessions)))


@_apply.register
def _(event: ev.SessionRevoked, state: AccountsState) -> None:
    state.revoked[event.session_id] = event.time
    state.sessions.pop(event.session_id, None)


def forget_old(state: AccountsState, now: datetime) -> None:
    """Drop revocations of sessions that have expired anyway."""
    cutoff = now - timedelta(days=SESSION_DAYS + 1)
    state.revoked = {sid: at for sid, at in state.revoked.items() if at >= cutoff}


def kiosk_for_token(state: AccountsState, token: str) -> tuple[str, Kiosk] | None:
    """Return (label, kiosk) of a live wall-screen token, or None (compared by digest)."""
    digest = token_sha256(token)
    label = state.kiosk_by_hash.get(digest)
    kiosk = state.kiosks.get(label) if label is not None else None
    if kiosk is None or kiosk.revoked or not hmac.compare_digest(kiosk.token_sha256, digest):
        return None
    return label, kiosk  # type: ignore[return-value]


def verify(state: AccountsState, name: str, password: str) -> User | None:
    """Return the user if the password is right and the account enabled, else None (same work either way)."""
    user = state.users.get(name)
    ok = check_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or user.disabled or user.role not in PERSON_ROLES:
        return None
    return user


@dataclass(frozen=True)
class Who:
    """Who a request or a socket is, as far as access goes."""

    role: str
    user: str
    site_id: str | None = None  # None: every site
    line_id: str | None = None  # a wall screen bound to one line
    session_id: str | None = None


def session_who(state: AccountsState, session: dict) -> Who | None:
    """Return who a signed session cookie is, or None if it is no longer valid anywhere."""
    sid, role, user = session.get("sid"), session.get("role"), session.get("user")
    if not isinstance(sid, str) or sid in state.revoked or role not in ROLES or not isinstance(user, str):
        return None
    if role == "wall":
        found = kiosk_for_token(state, str(session.get("kiosk", "")))
        if found is None:
            return None
        label, kiosk = found
        return Who("wall", f"kiosk:{label}", kiosk.site_id, kiosk.line_id, sid)
    account = state.users.get(user)
    issued = session.get("issued")
    if account is None or account.disabled or account.role != role:
        return None
    if account.password_changed is not None and (
        not isinstance(issued, (int, float)) or issued < account.password_changed.timestamp()
    ):
        return None
    return Who(role, user, account.site_id, None, sid)
