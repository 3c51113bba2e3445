"""The seed-001 energy roles a grid registrant declares: a *seller* publishes its output
with a price and an address and is paid for it, a *buyer* publishes its usage and pays the
grid's payment requests, a party that is *both* (a battery) does either in each slice.

The seed's registration names the role in ``itemType`` (``producer`` or ``consumer``);
the kit adds an optional ``role`` field to the body (extra fields were always ignored by
the seed's API), so any ``itemType`` (``battery``) can declare what it does::

    {"itemName": "Battery", "itemType": "battery", "role": "both", "root": ..., "sideKey": ...}

:func:`declared_role` is the one place that maps a registration to its role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BUYER",
    "ROLE_NAMES",
    "SELLER",
    "SELLER_AND_BUYER",
    "SELLING_ROLES",
    "Role",
    "RoleName",
    "buys",
    "declared_role",
    "sells",
]

RoleName = Literal["seller", "buyer", "both"]
ROLE_NAMES: tuple[RoleName, ...] = ("seller", "buyer", "both")
SELLING_ROLES: tuple[RoleName, ...] = ("seller", "both")
BUYING_ROLES: tuple[RoleName, ...] = ("buyer", "both")

# The seed's itemType strings and the roles they declare.
_SEED_ITEM_TYPES: dict[str, RoleName] = {"producer": "seller", "consumer": "buyer"}


@dataclass(frozen=True, slots=True)
class Role:
    """What a party registers as: its ``itemType`` and the role it declares."""

    name: RoleName
    item_type: str

    @property
    def sells(self) -> bool:
        return sells(self.name)

    @property
    def buys(self) -> bool:
        return buys(self.name)

    @property
    def declared(self) -> RoleName | None:
        """The ``role`` field a registration sends: none when its ``itemType`` says it."""
        return None if _SEED_ITEM_TYPES.get(self.item_type) == self.name else self.name


SELLER = Role("seller", "producer")
BUYER = Role("buyer", "consumer")
SELLER_AND_BUYER = Role("both", "battery")


def declared_role(item_type: str, role: str | None) -> RoleName | None:
    """The role of a registration: ``role`` when it declares one, else the one its seed
    ``itemType`` names (``producer`` sells, ``consumer`` buys); None for anything else."""
    if role is not None:
        return next((name for name in ROLE_NAMES if name == role), None)
    return _SEED_ITEM_TYPES.get(item_type)


def sells(role: str | None) -> bool:
    """Whether a registration with ``role`` offers output (is quoted and paid)."""
    return role in SELLING_ROLES


def buys(role: str | None) -> bool:
    """Whether a registration with ``role`` publishes usage (is billed, gets a return
    channel)."""
    return role in BUYING_ROLES
