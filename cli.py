"""The ``tf`` command: every way to run, feed, query and administer the product, as sub-commands.

    tf run            the product (``python app.py`` is the same command)
    tf push           the customers' push gateway beside workers on Redis (tracker sockets)
    tf emulate        the line emulator alone (``python -m line_emulator``)
    tf kpis           KPIs of an event file or of the history (``python -m factory.kpis``)
    tf users …        sign-in accounts; tf kiosks … wall screens
    tf backfill       rebuild the history's KPI sums from its events, with a progress bar
    tf verify         check a unit's birth certificate (JSON) against the plant's public key

Sub-commands are imported only when called, so ``tf kpis`` does not load the web stack and
``tf run`` can put gevent in place before anything imports the network or threading modules.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

# name -> "module:attribute" of a click command (or group)
COMMANDS = {
    "run": "app:run_command",
    "push": "web.push.tracker_gateway:push_command",
    "emulate": "line_emulator.cli:emulate",
    "whatif": "line_emulator.whatif:whatif",
    "kpis": "factory.kpis_cli:kpis",
    "users": "web.accounts_cli:users",
    "kiosks": "web.accounts_cli:kiosks",
    "backfill": "factory.history.backfill:backfill",
    "verify": "web.verify_cli:verify",
}


def prepare_serving(argv: Sequence[str]) -> None:
    """Patch the standard library for gevent, unless the development server was asked for.

    Must run before anything imports socket, ssl or threading: serving thousands of sockets
    on greenlets needs every blocking call in the process to yield.
    """
    if "--dev" in argv or "--help" in argv or "-h" in argv:
        return
    from gevent import monkey

    monkey.patch_all()


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        if cmd_name == "run":
            prepare_serving(sys.argv)
        module, _, name = target.partition(":")
        return getattr(importlib.import_module(module), name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def tf() -> None:
    """Transparent Factory: a live window into mass-customisation lines."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tf`` command line; return its exit status."""
    try:
        tf.main(args=list(argv) if argv is not None else None, prog_name="tf", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
