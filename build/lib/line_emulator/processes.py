"""The type of a SimPy process body, shared by the emulator's modules.

A process is a generator that yields SimPy events and may return a value (``yield from`` a
sub-process hands it back), so ``Iterator`` is too narrow for ``env.process``.
"""

from collections.abc import Generator
from typing import Any

import simpy

Process = Generator[simpy.Event, Any, Any]
