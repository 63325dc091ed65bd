"""``python -m line_emulator``: the same as ``tf emulate``."""

from line_emulator.cli import emulate

if __name__ == "__main__":
    emulate(prog_name="python -m line_emulator")
