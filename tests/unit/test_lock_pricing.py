"""Pay-per-use pricing (issue 23): who may check out which kind of tool, and what a price is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.lock.policy import checkout_refusal
from services.lock.schemas import PricingIn, ToolIn

NOW = datetime(2026, 12, 7, tzinfo=UTC)
MEMBER = [(NOW - timedelta(days=1), NOW + timedelta(days=1))]


def test_free_tool_needs_no_membership_nor_circle() -> None:
    refusal = checkout_refusal(
        tool_circle="laser", account_circles=[], memberships=[], now=NOW, pricing="free"
    )
    assert refusal is None


def test_paid_tool_is_never_checked_out() -> None:
    refusal = checkout_refusal(
        tool_circle=None, account_circles=[], memberships=MEMBER, now=NOW, pricing="paid"
    )
    assert refusal is not None and "payment channel" in refusal


def test_member_tool_keeps_p2k16_rules() -> None:
    assert checkout_refusal(tool_circle=None, account_circles=[], memberships=[], now=NOW) == (
        "no active membership"
    )
    allowed = checkout_refusal(tool_circle=None, account_circles=[], memberships=MEMBER, now=NOW)
    assert allowed is None


def test_paid_needs_a_price() -> None:
    with pytest.raises(ValidationError, match="price_per_minute"):
        PricingIn(pricing="paid")
    with pytest.raises(ValidationError, match="price_per_minute"):
        ToolIn(name="laser", device_id="lock-1", lock_index=0, pricing="paid")
    tool = ToolIn(name="laser", device_id="lock-1", lock_index=0)
    assert (tool.pricing, tool.price_per_minute, tool.min_minutes) == ("member", 0, 1)
    assert PricingIn(pricing="paid", price_per_minute=10, min_minutes=5).min_minutes == 5
    with pytest.raises(ValidationError):
        PricingIn.model_validate({"pricing": "rented"})
