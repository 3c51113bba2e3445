"""ChannelWriter / ChannelReader against an in-memory IRI fake (no PoW, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.iota.curl import curl_hash
from shared.iota.trinary import int_from_trits, trits_to_trytes, trytes_to_trits
from shared.mam import NodeApiError, create_channel
from shared.mam.codec import json_from_trytes
from shared.mam.store import ChannelStore
from shared.mam.tangle import ChannelReader, ChannelWriter, NodeApi

SEED = "TANGLE9TEST9SEED" + "9" * 65


def _hash(trytes: str) -> str:
    return trits_to_trytes(curl_hash(trytes_to_trits(trytes), 81))


def _index(trytes: str) -> int:
    return int_from_trits(trytes_to_trits(trytes[2331:2340]))


class FakeIri(NodeApi):
    """Keeps transactions in a dict; attachToTangle fills trunk/branch, no PoW."""

    def __init__(self) -> None:
        super().__init__("http://fake.invalid")
        self.transactions: dict[str, str] = {}
        self.fail_attach = False

    def call(self, command: str, **params: Any) -> dict[str, Any]:
        if command == "getTransactionsToApprove":
            return {"trunkTransaction": "9" * 81, "branchTransaction": "9" * 81}
        if command == "attachToTangle":
            if self.fail_attach:
                raise NodeApiError("attachToTangle: HTTP 500: boom")
            # IRI's linking (PROTOCOLS.md 1): head gets trunk/branch, each lower one the
            # hash of the next as trunk; PoW is left out.
            ordered = sorted(params["trytes"], key=_index, reverse=True)
            trunk, branch = params["trunkTransaction"], params["branchTransaction"]
            out = []
            for trytes in ordered:
                linked = trytes[:2430] + trunk + branch + trytes[2592:]
                out.append(linked)
                trunk = _hash(linked)
                branch = params["trunkTransaction"]
            return {"trytes": list(reversed(out))}
        if command in ("storeTransactions", "broadcastTransactions"):
            for trytes in params["trytes"]:
                self.transactions[_hash(trytes)] = trytes
            return {}
        if command == "findTransactions":
            wanted = set(params["addresses"])
            hashes = [h for h, t in self.transactions.items() if t[2187:2268] in wanted]
            return {"hashes": hashes}
        if command == "getTrytes":
            return {"trytes": [self.transactions.get(h, "9" * 2673) for h in params["hashes"]]}
        raise AssertionError(command)


@pytest.mark.parametrize(
    ("mode", "side_key", "security"), [("public", None, 1), ("restricted", "KEY", 2)]
)
def test_written_messages_are_read_in_order(mode: str, side_key: str | None, security: int) -> None:
    node = FakeIri()
    writer = ChannelWriter(node, create_channel(SEED, security, mode, side_key), tag="MAMTEST")  # type: ignore[arg-type]
    first_root = writer.publish_json({"command": "hello"}).message.root
    writer.publish("A" * 3000)  # two transactions
    published = writer.publish_json({"command": "goodbye"})
    assert len(published.hashes) >= 1

    reader = ChannelReader(node, mode, side_key)  # type: ignore[arg-type]
    messages = reader.fetch_all(first_root)
    assert [json_from_trytes(m.message) for m in (messages[0], messages[2])] == [
        {"command": "hello"},
        {"command": "goodbye"},
    ]
    assert messages[1].message == "A" * 3000
    assert messages[0].tag.startswith("MAMTEST")
    assert messages[2].next_root == writer.state.next_root
    assert reader.fetch(messages[2].next_root) is None
    assert len(reader.fetch_all(first_root, limit=2)) == 2


def test_reader_skips_spam_and_wrong_keys() -> None:
    node = FakeIri()
    writer = ChannelWriter(node, create_channel(SEED, 1, "restricted", "RIGHT"))
    message = writer.prepare("REAL")
    # someone else puts junk at the same address first
    junk = ChannelWriter(node, create_channel("J" * 81, 1, "public"))
    junk.attach(type(message)("ABC" * 900, message.root, message.address, message.next_root))
    writer.attach(message)
    assert ChannelReader(node, "restricted", "RIGHT").fetch(message.root).message == "REAL"  # type: ignore[union-attr]
    assert ChannelReader(node, "restricted", "WRONG").fetch(message.root) is None


def test_failed_attach_keeps_the_spent_leaf_and_can_retry(tmp_path: Path) -> None:
    node = FakeIri()
    store = ChannelStore.in_directory(tmp_path)
    writer = ChannelWriter.open(node, store, SEED, security=1)
    node.fail_attach = True
    with pytest.raises(NodeApiError) as caught:
        writer.publish("LOST")
    prepared = caught.value.mam_message
    assert prepared is not None
    assert store.position(SEED, 1).start == 1  # type: ignore[union-attr]
    node.fail_attach = False
    writer.attach(prepared)  # type: ignore[arg-type]
    writer.publish("NEXT")
    fetched = ChannelReader(node).fetch_all(prepared.root)  # type: ignore[attr-defined]
    assert [m.message for m in fetched] == ["LOST", "NEXT"]


def test_node_errors_are_clear() -> None:
    node = NodeApi("http://127.0.0.1:9", timeout=2)
    with pytest.raises(NodeApiError, match="unreachable"):
        node.find_transactions(["A" * 81])
    node.close()
