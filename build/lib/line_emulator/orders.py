"""Customer orders: which options a customer picks, the unit code and the public tracking token."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from factory.layout import Line, Product

TokenSource = Callable[[], str]


def random_token() -> str:
    """Return a fresh public tracking token: 128 bits from the OS's CSPRNG, URL-safe."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Order:
    order_id: str
    unit_code: str
    tracking_token: str
    options: dict[str, str]
    extra_work_s: dict[str, float]  # station id -> seconds the chosen options add there


class OrderBook:
    """Draws customer configurations for one line and numbers its orders."""

    def __init__(
        self, line: Line, product: Product, rng: random.Random, new_token: TokenSource, first_number: int = 1
    ) -> None:
        self._line = line
        self._product = product
        self._rng = rng
        self._new_token = new_token
        self._count = first_number - 1  # a restarted plant continues its numbering

    def new_order(self, placed_at: datetime) -> Order:
        """Return the next order: options drawn by popularity among the allowed configurations."""
        self._count += 1
        for _ in range(1000):  # rules forbid a few combinations: draw again
            options = {
                o.id: self._rng.choices(o.choices, weights=[c.weight for c in o.choices])[0].id
                for o in self._product.options
            }
            if not self._product.violations(options):
                break
        else:
            options = dict(self._product.configurations()[0][0])
        line_tag = self._line.id.upper()
        return Order(
            order_id=f"SO-{placed_at:%y%m%d}-{line_tag}-{self._count:05d}",
            unit_code=f"{self._product.unit_prefix}{placed_at:%y%m}-{line_tag}-{self._count:05d}",
            tracking_token=self._new_token(),
            options=options,
            extra_work_s=self._product.extra_work_s(options),
        )
