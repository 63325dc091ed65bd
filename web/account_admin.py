"""Managing accounts and wall screens: the checks and the control events, shared by ``tf users``/``tf kiosks``
and the admin pages.

Each function looks at the folded accounts state, refuses what must not happen (with a reason
people read) and returns the control event to publish, never publishing itself: the command
line writes to the log directly, a page through the app. So both make the same events, and the
same refusals hold for both. An admin cannot disable or demote the last enabled admin: nobody
could then manage accounts from the browser.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from streams import events as ev
from web.accounts import MIN_PASSWORD, PERSON_ROLES, AccountsState, hash_password, token_sha256

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_LABEL = 80


class Refused(ValueError):
    """A change the accounts state does not allow; its text says why, for the person who asked."""


@dataclass(frozen=True)
class Change:
    """A control event to publish, and the secret made for it (a password or a screen's token) to show once."""

    cls: type[ev.Event]
    data: dict[str, Any] = field(default_factory=dict)
    secret: str | None = None


def new_password() -> str:
    """Return a generated password (about 96 random bits, well over MIN_PASSWORD characters)."""
    return secrets.token_urlsafe(12)


def enabled_admins(state: AccountsState) -> set[str]:
    """Return the names of the admins who can sign in."""
    return {name for name, user in state.users.items() if user.role == "admin" and not user.disabled}


def _keep_an_admin(state: AccountsState, name: str, role: str | None, disabled: bool | None) -> None:
    loses_admin = (role is not None and role != "admin") or disabled is True
    if loses_admin and enabled_admins(state) == {name}:
        raise Refused(f"{name} is the last enabled admin: make another admin first")


def _check_site(role: str, site: str | None, sites: Collection[str] | None) -> None:
    if site is None:
        return
    if role == "admin":
        raise Refused("an admin manages every site: leave the site empty")
    if sites is not None and site not in sites:
        raise Refused(f"no site {site!r}")


def _hash(password: str) -> str:
    try:
        return hash_password(password)
    except ValueError as exc:
        raise Refused(str(exc)) from None


def create_user(
    state: AccountsState,
    name: str,
    role: str,
    by: str,
    *,
    site: str | None = None,
    password: str | None = None,
    sites: Collection[str] | None = None,
    replace: bool = False,
) -> Change:
    """Return the AccountCreated of a new account (a generated password when ``password`` is None).

    ``replace``: re-create an existing account (the command line's way to start one over).
    """
    if not USER_NAME.fullmatch(name or ""):
        raise Refused("a user name is 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    if role not in PERSON_ROLES:
        raise Refused(f"the role must be one of {', '.join(PERSON_ROLES)}")
    if name in state.users:
        if not replace:
            raise Refused(f"user {name} exists already")
        _keep_an_admin(state, name, role, False)
    _check_site(role, site, sites)
    generated = password is None
    password = new_password() if password is None else password
    data = {"user": name, "role": role, "password_hash": _hash(password), "site_id": site, "by": by}
    return Change(ev.AccountCreated, data, password if generated else None)


def _known(state: AccountsState, name: str) -> None:
    if name not in state.users:
        raise Refused(f"no user {name!r}")


def change_user(
    state: AccountsState,
    name: str,
    by: str,
    *,
    role: str | None = None,
    site: str | None = None,
    disabled: bool | None = None,
    sites: Collection[str] | None = None,
) -> Change:
    """Return the AccountChanged of a new role, site ("" : every site) or disabled flag (None: unchanged)."""
    _known(state, name)
    if role is not None and role not in PERSON_ROLES:
        raise Refused(f"the role must be one of {', '.join(PERSON_ROLES)}")
    _keep_an_admin(state, name, role, disabled)
    if site:
        _check_site(role or state.users[name].role, site, sites)
    elif role == "admin" and site is None and state.users[name].site_id is not None:
        site = ""  # an admin manages every site
    changes = {"role": role, "site_id": site, "disabled": disabled}
    return Change(ev.AccountChanged, {"user": name, "by": by, **{k: v for k, v in changes.items() if v is not None}})


def reset_password(state: AccountsState, name: str, by: str, password: str | None = None) -> Change:
    """Return the AccountChanged of a new password (generated when None): the account's sessions end."""
    _known(state, name)
    generated = password is None
    password = new_password() if password is None else password
    return Change(
        ev.AccountChanged, {"user": name, "by": by, "password_hash": _hash(password)}, password if generated else None
    )


def end_sessions(state: AccountsState, name: str, by: str) -> Change:
    """Return the AccountChanged that signs an account out everywhere (every session started before it ends)."""
    _known(state, name)
    return Change(ev.AccountChanged, {"user": name, "by": by, "end_sessions": True})


def register_kiosk(
    state: AccountsState | None,
    label: str,
    by: str,
    *,
    line: str | None = None,
    site: str | None = None,
    lines: dict[str, str] | None = None,
) -> Change:
    """Return the KioskRegistered of a wall screen; the secret is its link's token (the log keeps its digest).

    ``lines`` (line -> site), when given, checks the line and the site against the plant. A
    label in use is refused, unless that screen was revoked (its label may be used again).
    """
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL or _CONTROL.search(label):
        raise Refused(f"a wall screen's label is 1 to {MAX_LABEL} characters, with no control characters")
    if state is not None and label in state.kiosks and not state.kiosks[label].revoked:
        raise Refused(f"a wall screen labelled {label!r} exists already: revoke it first")
    if lines is not None:
        if line is not None and line not in lines:
            raise Refused(f"no line {line!r}")
        if site is not None and site not in set(lines.values()):
            raise Refused(f"no site {site!r}")
        if line is not None and site is not None and lines[line] != site:
            raise Refused(f"line {line} is not at site {site}")
    token = secrets.token_urlsafe(24)
    data = {"label": label, "token_sha256": token_sha256(token), "line_id": line, "site_id": site, "by": by}
    return Change(ev.KioskRegistered, data, token)


def revoke_kiosk(state: AccountsState, label: str, by: str) -> Change:
    """Return the KioskRevoked of a wall screen: its screens are signed out on every worker."""
    if label not in state.kiosks:
        raise Refused(f"no wall screen labelled {label!r}")
    if state.kiosks[label].revoked:
        raise Refused(f"wall screen {label!r} is revoked already")
    return Change(ev.KioskRevoked, {"label": label, "by": by})


__all__ = [
    "MIN_PASSWORD",
    "Change",
    "Refused",
    "change_user",
    "create_user",
    "enabled_admins",
    "end_sessions",
    "new_password",
    "register_kiosk",
    "reset_password",
    "revoke_kiosk",
]
