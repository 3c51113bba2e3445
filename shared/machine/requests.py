"""Validation of what clients send a machine: a customer's `order`, a robot's energy order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["EnergyOrderRequest", "OrderRejected", "OrderRequest", "parse_order"]

_NAME_PATTERN = r"^[\w .,:()#+/-]+$"


class OrderRejected(ValueError):
    """An order the machine will not take; ``reason`` is shown to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OrderRequest(BaseModel):
    """The body of a Socket.IO ``order``: everything is optional, unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product: str = Field(default="product", min_length=1, max_length=64, pattern=_NAME_PATTERN)
    customer: str | None = Field(default=None, min_length=1, max_length=64, pattern=_NAME_PATTERN)


class EnergyOrderRequest(BaseModel):
    """``POST /energy-orders``: a robot tells its provider of an order it is about to pay."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    robot: str = Field(min_length=1, max_length=64, pattern=_NAME_PATTERN)
    amount: int = Field(gt=0, le=2_779_530_283_277_761)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ())) or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_order(data: Any) -> OrderRequest:
    """Validate a Socket.IO ``order`` payload (None or an object); raise OrderRejected."""
    if data is None:
        return OrderRequest()
    if not isinstance(data, dict):
        raise OrderRejected(f"order must be a JSON object, got {type(data).__name__}")
    try:
        return OrderRequest.model_validate(data)
    except ValidationError as error:
        raise OrderRejected(f"malformed order: {_describe(error)}") from None
