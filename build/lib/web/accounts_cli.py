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
from streams import events as ev
from streams.bus import Bus
from web.accounts import PERSON_ROLES, AccountsState, apply_account, hash_password, token_sha256
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


def _publish(log: Bus, cls: type[ev.Event], **data) -> None:
    log.publish(cls(id=secrets.token_hex(12), source="/cli", time=datetime.now(UTC), **data))


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
    try:
        digest = hash_password(_password())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _publish(
        _log(data_dir, redis_url), ev.AccountCreated, user=name, role=role, password_hash=digest, site_id=site, by="cli"
    )
    click.echo(f"user {name} ({role}) created")


def _change(name: str, data_dir: Path, redis_url: str | None, **changes) -> None:
    log = _log(data_dir, redis_url)
    if name not in _state(log).users:
        raise click.ClickException(f"no user {name!r}")
    _publish(log, ev.AccountChanged, user=name, by="cli", **changes)


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
    try:
        digest = hash_password(_password())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _change(name, data_dir, redis_url, password_hash=digest)
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
    """Register a wall screen and return its link's token (known to the log only by its digest)."""
    token = secrets.token_urlsafe(24)
    _publish(log, ev.KioskRegistered, label=label, token_sha256=token_sha256(token), line_id=line, site_id=site, by=by)
    return token


@kiosks.command("add")
@click.argument("label")
@click.option("--line", default=None, help="Stay on this line.")
@click.option("--site", default=None, help="Show this site's lines only.")
@_data_dir
@_redis
def add_kiosk(label: str, line: str | None, site: str | None, data_dir: Path, redis_url: str | None) -> None:
    """Register a wall screen; prints the token of its link (/kiosk/TOKEN), shown only now."""
    click.echo(register_kiosk(_log(data_dir, redis_url), label, line, site, "cli"))


@kiosks.command("revoke")
@click.argument("label")
@_data_dir
@_redis
def revoke_kiosk(label: str, data_dir: Path, redis_url: str | None) -> None:
    """Revoke a wall screen: its screens are signed out on every worker within seconds."""
    log = _log(data_dir, redis_url)
    if label not in _state(log).kiosks:
        raise click.ClickException(f"no wall screen labelled {label!r}")
    _publish(log, ev.KioskRevoked, label=label, by="cli")
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
