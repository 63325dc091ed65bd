"""``tf users …`` and ``tf kiosks …``: manage sign-in accounts and wall screens, live, on every worker.

Each command appends an event to the control log (the data directory's file, or the workers'
Redis with ``--redis-url``); running workers apply it within a second or two.

    tf users add NAME --role manager [--site qingdao]   (asks for the password; or reads it from stdin)
    tf users disable NAME / enable NAME / passwd NAME / list
    tf kiosks add "Hall A wall" [--line ac1 | --site qingdao]   (prints the wall screen's link token)
    tf kiosks revoke "Hall A wall" / list
"""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from config import ROOT
from streams.bus import Bus
from web import account_admin
from web.account_admin import Change, Refused
from web.accounts import PERSON_ROLES, AccountsState, apply_account
from web.control_log import open_control_log

_data_dir = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=ROOT / "data",
    envvar="TF_DATA_DIR",
    show_default=True,
    help="The app's data directory (its control log lives there).",
)
_redis = click.option(
    "--redis-url", default=None, envvar="TF_REDIS_URL", help="The workers' Redis (the control log is shared there)."
)


def _log(data_dir: Path, redis_url: str | None) -> Bus:
    return open_control_log(data_dir, redis_url)


def _state(log: Bus) -> AccountsState:
    state, after = AccountsState(), None
    while entries := log.read(after, limit=10_000):
        for _, event in entries:
            apply_account(state, event)
        after = entries[-1][0]
    return state


def _publish(log: Bus, change: Change) -> None:
    log.publish(change.cls(id=secrets.token_hex(12), source="/cli", time=datetime.now(UTC), **change.data))


def _refused(exc: Refused) -> click.ClickException:
    return click.ClickException(str(exc))


def _password() -> str:
    if sys.stdin.isatty():
        first, second = getpass.getpass("password: "), getpass.getpass("again: ")
        if first != second:
            raise click.ClickException("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


@click.group()
def users() -> None:
    """Manage sign-in accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(PERSON_ROLES))
@click.option("--site", default=None, help="Only this site (default: every site).")
@_data_dir
@_redis
def add_user(name: str, role: str, site: str | None, data_dir: Path, redis_url: str | None) -> None:
    """Create (or re-create) an account."""
    log = _log(data_dir, redis_url)
    try:
        change = account_admin.create_user(
            _state(log), name, role, "cli", site=site, password=_password(), replace=True
        )
    except Refused as exc:
        raise _refused(exc) from None
    _publish(log, change)
    click.echo(f"user {name} ({role}) created")


def _change(name: str, data_dir: Path, redis_url: str | None, disabled: bool) -> None:
    log = _log(data_dir, redis_url)
    try:
        _publish(log, account_admin.change_user(_state(log), name, "cli", disabled=disabled))
    except Refused as exc:
        raise _refused(exc) from None


@users.command("disable")
@click.argument("name")
@_data_dir
@_redis
def disable_user(name: str, data_dir: Path, redis_url: str | None) -> None:
    """Disable an account: its sessions end on every worker."""
    _change(name, data_dir, redis_url, disabled=True)
    click.echo(f"user {name} disabled")


@users.command("enable")
@click.argument("name")
@_data_dir
@_redis
def enable_user(name: str, data_dir: Path, redis_url: str | None) -> None:
    """Enable a disabled account again."""
    _change(name, data_dir, redis_url, disabled=False)
    click.echo(f"user {name} enabled")


@users.command("passwd")
@click.argument("name")
@_data_dir
@_redis
def set_password(name: str, data_dir: Path, redis_url: str | None) -> None:
    """Set a new password: the account's sessions end."""
    log = _log(data_dir, redis_url)
    try:
        _publish(log, account_admin.reset_password(_state(log), name, "cli", _password()))
    except Refused as exc:
        raise _refused(exc) from None
    click.echo(f"password of {name} changed")


@users.command("list")
@_data_dir
@_redis
def list_users(data_dir: Path, redis_url: str | None) -> None:
    """List accounts (JSON)."""
    state = _state(_log(data_dir, redis_url))
    click.echo(
        json.dumps(
            {n: {"role": u.role, "site": u.site_id, "disabled": u.disabled} for n, u in state.users.items()}, indent=2
        )
    )


@click.group()
def kiosks() -> None:
    """Manage wall screens."""


def register_kiosk(log: Bus, label: str, line: str | None, site: str | None, by: str) -> str:
    """Register (or register anew) a wall screen and return its link's token (known to the log only by its digest)."""
    change = account_admin.register_kiosk(None, label, by, line=line, site=site)
    _publish(log, change)
    return change.secret  # type: ignore[return-value]


@kiosks.command("add")
@click.argument("label")
@click.option("--line", default=None, help="Stay on this line.")
@click.option("--site", default=None, help="Show this site's lines only.")
@_data_dir
@_redis
def add_kiosk(label: str, line: str | None, site: str | None, data_dir: Path, redis_url: str | None) -> None:
    """Register a wall screen; prints the token of its link (/kiosk/TOKEN), shown only now."""
    try:
        click.echo(register_kiosk(_log(data_dir, redis_url), label, line, site, "cli"))
    except Refused as exc:
        raise _refused(exc) from None


@kiosks.command("revoke")
@click.argument("label")
@_data_dir
@_redis
def revoke_kiosk(label: str, data_dir: Path, redis_url: str | None) -> None:
    """Revoke a wall screen: its screens are signed out on every worker within seconds."""
    log = _log(data_dir, redis_url)
    try:
        _publish(log, account_admin.revoke_kiosk(_state(log), label, "cli"))
    except Refused as exc:
        raise _refused(exc) from None
    click.echo(f"wall screen {label!r} revoked")


@kiosks.command("list")
@_data_dir
@_redis
def list_kiosks(data_dir: Path, redis_url: str | None) -> None:
    """List wall screens (JSON)."""
    state = _state(_log(data_dir, redis_url))
    click.echo(
        json.dumps(
            {label: {"line": k.line_id, "site": k.site_id, "revoked": k.revoked} for label, k in state.kiosks.items()},
            indent=2,
        )
    )


__all__ = ["kiosks", "register_kiosk", "users"]
