"""The two checks of a value read from a user (a parameter, a file, a sweep): an integer, a finite number.

Booleans are ints in Python, but ``True`` is never a width or a seed; a file
or a TOML table may hold NaN, infinity or an integer of hundreds of digits,
none of which is a setting.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["is_int", "is_number"]


def is_int(value, low: int | None = None, high: int | None = None) -> bool:
    """Whether ``value`` is an integer (a NumPy one too), not a bool, in ``[low, high]`` (None: unbounded).

    >>> is_int(3, 1), is_int(True), is_int(2.0), is_int(np.int64(5), 0, 4), is_int(-7)
    (True, False, False, False, True)
    """
    return bool(isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and (low is None or value >= low) and (high is None or value <= high))


def is_number(value, low: float = -math.inf, *, strict: bool = False) -> bool:
    """Whether ``value`` is a finite real number (not a bool) at least ``low`` (above it if ``strict``).

    >>> is_number(0.5, 0), is_number(float("nan")), is_number(0, 0, strict=True), is_number(10**400)
    (True, False, False, False)
    """
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        return False
    try:
        value = float(value)
    except OverflowError:  # an integer of hundreds of digits, from a file
        return False
    return math.isfinite(value) and (value > low if strict else value >= low)
