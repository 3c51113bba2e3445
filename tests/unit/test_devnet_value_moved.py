"""What the devnet's explorer counts as tokens moved (``valueMoved``, the dashboard's total).

The moves are a value bundle's ``[address, value]`` in bundle order, as the node stores
them (services/devnet/store.py ``value_bundles``): outputs, then inputs, then the
remainder (the layout of PyOTA, shared/iota/wallet_bundle.py and the faucet).
"""

from __future__ import annotations

import json

from services.devnet.explorer import _value_moved

A, B, C, R = ("A" * 81, "B" * 81, "C" * 81, "R" * 81)


def test_a_faucet_payment_counts_the_payment_not_the_remainder() -> None:
    supply = 2_779_530_283_277_761
    moves = [[B, 100], [A, -supply], [R, supply - 100]]
    assert _value_moved([(7, json.dumps(moves))]) == {7: 100}


def test_change_to_an_input_address_and_several_outputs() -> None:
    moves = [[B, 10], [C, 5], [A, -40], [A, 25]]  # 25 back to the sender's own address
    assert _value_moved([(3, json.dumps(moves))]) == {3: 15}
    back_to_itself = [[A, 40], [A, -40]]
    assert _value_moved([(3, json.dumps(back_to_itself))]) == {3: 0}


def test_bundles_add_up_per_milestone() -> None:
    rows = [
        (1, json.dumps([[B, 100], [A, -1000], [R, 900]])),
        (1, json.dumps([[C, 10], [B, -100], [R, 90]])),
        (2, json.dumps([[C, 1], [R, -900], [A, 899]])),
    ]
    assert _value_moved(rows) == {1: 110, 2: 1}
