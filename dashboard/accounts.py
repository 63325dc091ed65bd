"""Users and wall-screen (kiosk) tokens, kept in a JSON file in the data folder.

Passwords are stored only as salted hashes (werkzeug's scrypt). Kiosk tokens are long-lived
bearer secrets like API keys: kept in the same owner-only file so the start-up banner can show
the default wall screen's link again; each can be revoked. The file is replaced atomically.

    python -m dashboard.accounts add-user NAME --role manager     (asks for the password)
    python -m dashboard.accounts add-kiosk "Hall A wall" [--line ac1]
    python -m dashboard.accounts revoke-kiosk "Hall A wall"
    python -m dashboard.accounts list
"""

from __future__ import annotations

import argparse
import getpass
import hmac
import json
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("wall", "manager", "executive", "admin")
DEFAULT_KIOSK = "default wall screen"


class Accounts:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._doc: dict[str, Any] = {"users": {}, "kiosks": {}}
        if path is not None and path.exists():
            self._doc = json.loads(path.read_text(encoding="utf-8"))

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._doc, f, indent=2)
        os.replace(tmp, self._path)

    def add_user(self, name: str, role: str, password: str) -> None:
        """Create or replace a user."""
        if role not in ROLES or role == "wall":
            raise ValueError(f"role must be one of manager, executive, admin (got {role!r})")
        if len(password) < 10:
            raise ValueError("a password needs at least 10 characters")
        with self._lock:
            self._doc["users"][name] = {"role": role, "hash": generate_password_hash(password)}
            self._save()

    def verify(self, name: str, password: str) -> str | None:
        """Return the user's role if the password is right, else None (same work either way)."""
        user = self._doc["users"].get(name)
        stored = user["hash"] if user else _DUMMY_HASH
        ok = check_password_hash(stored, password)
        return user["role"] if user and ok else None

    def ensure_admin(self) -> str | None:
        """On a first start with no users, create ``admin`` with a random password and return it."""
        with self._lock:
            if self._doc["users"]:
                return None
        password = secrets.token_urlsafe(12)
        self.add_user("admin", "admin", password)
        return password

    def add_kiosk(self, label: str, line: str | None = None) -> str:
        """Create a wall-screen token and return it."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._doc["kiosks"][label] = {"token": token, "line": line, "revoked": False}
            self._save()
        return token

    def default_kiosk(self) -> str:
        """Return the default wall screen's token, creating it on the first start."""
        kiosk = self._doc["kiosks"].get(DEFAULT_KIOSK)
        if kiosk is None or kiosk["revoked"]:
            return self.add_kiosk(DEFAULT_KIOSK)
        return kiosk["token"]

    def kiosk(self, token: str) -> dict[str, Any] | None:
        """Return the live kiosk entry of ``token`` (constant-time comparison), or None."""
        found = None
        for label, kiosk in self._doc["kiosks"].items():
            if hmac.compare_digest(kiosk["token"].encode(), token.encode()) and not kiosk["revoked"]:
                found = {"label": label, "line": kiosk["line"]}
        return found

    def revoke_kiosk(self, label: str) -> bool:
        with self._lock:
            kiosk = self._doc["kiosks"].get(label)
            if kiosk is None:
                return False
            kiosk["revoked"] = True
            self._save()
            return True

    def listing(self) -> dict[str, Any]:
        return {
            "users": {n: u["role"] for n, u in self._doc["users"].items()},
            "kiosks": {label: {"line": k["line"], "revoked": k["revoked"]} for label, k in self._doc["kiosks"].items()},
        }


_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))  # keeps unknown names as slow as known ones


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.accounts", description="Manage logins and wall screens.")
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    sub = parser.add_subparsers(dest="command", required=True)
    add_user = sub.add_parser("add-user")
    add_user.add_argument("name")
    add_user.add_argument("--role", required=True, choices=["manager", "executive", "admin"])
    add_kiosk = sub.add_parser("add-kiosk")
    add_kiosk.add_argument("label")
    add_kiosk.add_argument("--line")
    revoke = sub.add_parser("revoke-kiosk")
    revoke.add_argument("label")
    sub.add_parser("list")
    args = parser.parse_args(argv)
    accounts = Accounts(args.data_dir / "accounts.json")
    if args.command == "add-user":
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        try:
            accounts.add_user(args.name, args.role, password)
        except ValueError as exc:
            parser.error(str(exc))
    elif args.command == "add-kiosk":
        print(accounts.add_kiosk(args.label, args.line))
    elif args.command == "revoke-kiosk":
        if not accounts.revoke_kiosk(args.label):
            parser.error(f"no wall screen labelled {args.label!r}")
    else:
        print(json.dumps(accounts.listing(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
