"""Request and response bodies of the lock controller's HTTP API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from shared.mqtt.topics import MAX_PREFIX_LENGTH, validate_prefix

__all__ = [
    "MAX_ID",
    "AccountIn",
    "AccountOut",
    "CheckoutOut",
    "CircleIn",
    "CircleOut",
    "EventOut",
    "IncomeOut",
    "MemberIn",
    "MembershipIn",
    "MembershipOut",
    "PaidSessionOut",
    "PricingIn",
    "TokenOut",
    "ToolIn",
    "ToolOut",
    "ToolPaymentOut",
]

NAME = r"^[A-Za-z0-9_.-]{1,64}$"
#: Largest row id: PostgreSQL's INTEGER; a bigger number would crash the database driver (500).
MAX_ID = 2**31 - 1


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"); they cannot be hashed or stored as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


#: Free text that can be stored: valid Unicode only.
Text = Annotated[str, AfterValidator(_encodable)]
#: An MQTT topic prefix: levels of [A-Za-z0-9_.-] separated by "/".
# The schema says what validate_prefix accepts (levels of [A-Za-z0-9_.-] separated by "/").
Prefix = Annotated[
    str,
    AfterValidator(validate_prefix),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$",
            "maxLength": MAX_PREFIX_LENGTH,
        }
    ),
]


class AccountIn(BaseModel):
    username: str = Field(pattern=NAME)
    password: Text = Field(min_length=8, max_length=200)


class AccountOut(BaseModel):
    id: int
    username: str
    circles: list[str]
    active_membership: bool


class CircleIn(BaseModel):
    name: str = Field(pattern=NAME)
    description: Text = Field(default="", max_length=1000)


class CircleOut(BaseModel):
    id: int
    name: str
    description: str
    members: list[str]


class MemberIn(BaseModel):
    account_id: int = Field(ge=1, le=MAX_ID)


class MembershipIn(BaseModel):
    starts_at: datetime | None = Field(default=None, description="default: now")
    days: int = Field(default=30, ge=1, le=3660)

    @model_validator(mode="after")
    def _ends_in_range(self) -> MembershipIn:
        # starts_at near year 9999 would overflow computing ends_at (a 500, not a clear 422).
        if self.starts_at is not None:
            try:
                self.starts_at + timedelta(days=self.days)
            except OverflowError:
                raise ValueError("starts_at + days is past the year 9999") from None
        return self


class MembershipOut(BaseModel):
    id: int
    account_id: int
    starts_at: datetime
    ends_at: datetime


Pricing = Literal["free", "member", "paid"]
PRICING = (
    "member: checkout needs a membership and the tool's circle (seed 004's flow); free: any"
    " account may check out; paid: minutes bought over a payment channel (docs/lock.md)"
)
#: Largest price: IOTA's supply fits in a BIGINT; a minute costs at most this many tokens.
MAX_PRICE = 2**53


def _check_price(pricing: str, price: int) -> None:
    if pricing == "paid" and price < 1:
        raise ValueError("a paid tool needs price_per_minute of at least 1")


# The same rule in the OpenAPI, so a client (or a fuzzer) reading the schema knows that a
# paid tool must name its price: either not paid, or paid with price_per_minute >= 1.
_PRICED_SCHEMA = ConfigDict(
    json_schema_extra={
        "anyOf": [
            {"properties": {"pricing": {"enum": ["free", "member"]}}},
            {
                "properties": {
                    "pricing": {"const": "paid"},
                    "price_per_minute": {"type": "integer", "minimum": 1},
                },
                "required": ["pricing", "price_per_minute"],
            },
        ]
    }
)


class ToolIn(BaseModel):
    model_config = _PRICED_SCHEMA

    name: str = Field(pattern=NAME)
    description: Text = Field(default="", max_length=1000)
    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    device_prefix: Prefix | None = Field(
        default=None,
        max_length=MAX_PREFIX_LENGTH,
        description="the device's MQTT prefix (seed 004's $prefix); default MQTT_PREFIX/device_id",
        examples=["machine-economy/lock-1"],
    )
    lock_index: int = Field(ge=0, le=999)
    circle_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    pricing: Pricing = Field(default="member", description=PRICING)
    price_per_minute: int = Field(default=0, ge=0, le=MAX_PRICE)
    min_minutes: int = Field(default=1, ge=1, le=1440)

    @model_validator(mode="after")
    def _priced(self) -> ToolIn:
        _check_price(self.pricing, self.price_per_minute)
        return self


class PricingIn(BaseModel):
    model_config = _PRICED_SCHEMA

    pricing: Pricing = Field(description=PRICING)
    price_per_minute: int = Field(default=0, ge=0, le=MAX_PRICE)
    min_minutes: int = Field(default=1, ge=1, le=1440)

    @model_validator(mode="after")
    def _priced(self) -> PricingIn:
        _check_price(self.pricing, self.price_per_minute)
        return self


class ToolOut(BaseModel):
    id: int
    name: str
    description: str
    device_id: str
    device_prefix: str
    lock_index: int
    circle: str | None
    holder: str | None
    checked_out_at: datetime | None
    device_online: bool | None = Field(description="None until the broker told us")
    device_name: str | None
    lock_state: str | None = Field(description="locked, unlocked, or None if never reported")
    lock_request: str | None
    pricing: str = Field(default="member", description=PRICING)
    price_per_minute: int = 0
    min_minutes: int = 1
    income: int = Field(default=0, description="paid for this tool's minutes, in total")
    session: PaidSessionOut | None = Field(default=None, description="the active paid session")


class PaidSessionOut(BaseModel):
    id: int
    tool_id: int
    tool: str
    channel_id: str
    payer: str = Field(description="the payer's channel router URL")
    started_at: datetime
    paid_until: datetime
    paid: int
    minutes: float = Field(description="minutes bought in total")
    seconds_left: float
    state: str = Field(description="active, ended or failed")
    ended_at: datetime | None
    detail: str


class ToolPaymentOut(BaseModel):
    id: int
    at: datetime
    channel_id: str
    tool_id: int | None
    session_id: int | None
    amount: int
    status: str = Field(description="accepted (bought time) or refused")
    seconds: float
    answer: str


class IncomeOut(BaseModel):
    total: int = Field(description="accepted payments, every tool")
    refused: int = Field(description="payments that bought nothing (kept by the channel)")
    tools: dict[str, int] = Field(description="tool name -> accepted payments")
    channel_received: int = Field(description="received on the channels, this period of each")
    wallet_balance: int | None = Field(description="the owner's settled payouts on the devnet")


class CheckoutOut(BaseModel):
    tool: ToolOut
    state: str
    request: str
    confirmed_in_ms: float
    took_over_from: str | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str
    account: str | None
    tool: str | None
    request_id: str | None
    detail: str
