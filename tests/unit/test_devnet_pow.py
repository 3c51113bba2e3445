"""Proof of work and IRI's attachToTangle rules."""

from __future__ import annotations

import threading

import pytest

from shared.iota.bundle import Output, build_bundle
from shared.iota.curl import curl_hash
from shared.iota.pow import MAX_TIMESTAMP_VALUE, PowInterrupted, attach_bundle, find_nonce
from shared.iota.transaction import parse_many, trailing_zero_trits
from shared.iota.trinary import trytes_to_trits


@pytest.mark.parametrize("mwm", [1, 5, 9])
def test_nonce_meets_the_weight(mwm: int) -> None:
    trytes = build_bundle([Output("A" * 81, 0, message="POW")])[0]
    done = find_nonce(trytes_to_trits(trytes), mwm)
    assert trailing_zero_trits(curl_hash(done))[0] >= mwm
    assert (done[:-81] == trytes_to_trits(trytes)[:-81]).all()  # only the nonce changed


def test_attach_chains_the_bundle_like_iri() -> None:
    trytes = build_bundle([Output("A" * 81, 0, message="X" * 3000)])  # two transactions
    head_first = list(reversed(trytes))
    out = attach_bundle(head_first, "T" * 81, "B" * 81, 4, now_ms=123456)
    txs = parse_many(out).transactions
    assert [tx.current_index for tx in txs] == [0, 1]  # tail first
    tail, head = txs
    assert (head.trunk, head.branch) == ("T" * 81, "B" * 81)
    assert (tail.trunk, tail.branch) == (head.hash, "T" * 81)
    assert tail.attachment_timestamp == 123456
    assert tail.attachment_timestamp_lower == 0
    assert tail.attachment_timestamp_upper == MAX_TIMESTAMP_VALUE
    assert tail.tag == tail.obsolete_tag  # an empty tag takes the obsoleteTag


def test_interrupt_stops_the_search() -> None:
    stop = threading.Event()
    stop.set()
    trytes = build_bundle([Output("A" * 81, 0)])[0]
    with pytest.raises(PowInterrupted):
        find_nonce(trytes_to_trits(trytes), 30, interrupted=stop)


def test_attached_bundle_meets_the_weight_and_keeps_the_signed_part() -> None:
    # Three transactions, like a payment: the first 30 blocks are absorbed for all of them
    # in one bit-sliced call, the hash chaining each one's trunk comes from the search's
    # midstate; both are checked here against the independent full Curl hash.
    trytes = build_bundle([Output("A" * 81, 0, message="M" * 2200), Output("C" * 81, 0)])
    assert len(trytes) == 3
    out = attach_bundle(list(reversed(trytes)), "T" * 81, "B" * 81, 9)
    txs = parse_many(out).transactions
    for before, after in zip(trytes, out, strict=True):
        assert after[:2430] == before[:2430]  # signature .. bundle hash untouched
    for tx in txs:
        assert trailing_zero_trits(curl_hash(trytes_to_trits(tx.trytes)))[0] >= 9
    assert [tx.trunk for tx in txs] == [txs[1].hash, txs[2].hash, "T" * 81]
    assert attach_bundle([], "T" * 81, "B" * 81, 9) == []
