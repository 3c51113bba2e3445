"""Who may check out a tool: the p2k16 rules as one pure function."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

__all__ = ["checkout_refusal"]


def checkout_refusal(
    *,
    tool_circle: str | None,
    account_circles: Iterable[str],
    memberships: Iterable[tuple[datetime, datetime]],
    now: datetime,
    pricing: str = "member",
) -> str | None:
    """Return why the account may not check the tool out, or None if it may.

    A ``free`` tool is for any account; a ``paid`` one is bought by the minute over a
    payment channel, never checked out (issue 23); ``member`` is p2k16's rule.
    """
    if pricing == "free":
        return None
    if pricing == "paid":
        return "this tool is paid by the minute over a payment channel (docs/lock.md)"
    if not any(start <= now < end for start, end in memberships):
        return "no active membership"
    if tool_circle is not None and tool_circle not in set(account_circles):
        return f"not a member of circle {tool_circle!r}, which this tool requires"
    return None
