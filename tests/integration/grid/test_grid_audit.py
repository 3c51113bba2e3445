"""The grid's audit trail with real processes: a devnet, three ledger participants
(tests/support/ledger.py) and the grid. The grid is SIGKILLed after the ledger committed a
record and before the grid marked it sent; restarted, it finds the record in the ledger and
does not send it again. A traded slice (a producer's quote, a consumer's usage, a payment
request) appears on every participant with the same root and signatures that verify."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.energy.messages import ProducerOutput, Usage
from shared.energy.slices import now_ms, slice_at
from shared.iota.validation import with_checksum
from tests.integration.grid.conftest import grid_env
from tests.integration.grid.parties import Party, wait_for
from tests.integration.ledger.conftest import audit, verify_proof
from tests.integration.robot.machines import ServiceProcess
from tests.support.devnet import DevnetProcess
from tests.support.ledger import PASSWORD, USER, LedgerCluster

pytestmark = pytest.mark.integration

LEDGER = "grid-settlements"
SLICE = 3


def start(env: dict[str, str], data: Path, started: list[ServiceProcess]) -> ServiceProcess:
    grid = ServiceProcess("grid", env, data)
    started.append(grid)
    return grid.start(timeout=240)


def audit_status(grid: ServiceProcess) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{grid.url}/audit", timeout=10).json()
    return body


@pytest.mark.timeout(300)
def test_settled_slices_are_recorded_once_on_every_participant(
    devnet: DevnetProcess, tmp_path: Path, grid_factory: list[ServiceProcess]
) -> None:
    cluster = LedgerCluster(tmp_path / "ledger", ["grid", "producer", "consumer"])
    # The participants and the grid start together (the grid's outbox waits for the ledger).
    for name in cluster.names:
        cluster.start(name, wait=False)
    try:
        data = tmp_path / "grid"
        env = grid_env(
            devnet,
            data,
            grid_ledger_url=cluster.url("grid"),
            grid_ledger_username=USER,
            grid_ledger_password=PASSWORD,
            grid_ledger_ttl=3,
        )
        env["FAULT_PAUSE"] = "grid.after_record:120"
        grid = start(env, data, grid_factory)
        for name in cluster.names:
            cluster.wait_ready(name)
        wind = Party(devnet, tmp_path, "PRODUCER9WIND")
        jake = Party(devnet, tmp_path, "CONSUMER9JAKE")
        try:
            assert wind.register(grid.url, "producer").status_code == 200
            assert jake.register(grid.url, "consumer").status_code == 200
            slot = slice_at(now_ms() + 6000, SLICE)
            wind.publish(
                ProducerOutput(slot.start, slot.end, 3.0, 100, wind.wallet.new_address("paid"))
            )
            jake.publish(Usage(slot.start, slot.end, 0.4))
            # the traded slice is the first record (a slice in which nothing happened is not
            # recorded): committed in the ledger, then the grid pauses; kill it there
            paused = wait_for(
                "the pause after the first record",
                lambda: re.search(
                    r"event=fault_pause point=grid.after_record no=(\S+)",
                    grid.log_path.read_text(),
                ),
                60,
            ).group(1)
            assert audit_status(grid)["pending"] >= 1
            grid.kill()
            first = cluster.ledger_by_name("grid", LEDGER)
            assert first is not None and first["size"] == 1

            del env["FAULT_PAUSE"]
            grid = start(env, data, grid_factory)

            def recorded() -> dict[str, Any] | None:
                status = audit_status(grid)
                mine = [r for r in status["recent"] if r["kind"] == "slice"]
                traded = [r for r in mine if r["ref"] == slot.start]
                return traded[0] if traded and status["pending"] == 0 else None

            record = wait_for("the traded slice in the ledger", recorded, 90)
            assert record["no"] == paused
            request = jake.payment_requests()[0]
            request_address = request.payment_id_or_address
            # the consumer pays: the confirmed payment and the producer's payout follow
            devnet.faucet(with_checksum(jake.wallet.new_address("top-up")), 100)
            wait_for("funds", lambda: jake.wallet.spendable_balance() >= request.owed, 30)
            jake.wallet.send(request.owed, request_address)

            def paid_out() -> dict[str, Any] | None:
                status = audit_status(grid)
                kinds = {r["kind"] for r in status["recent"]}
                return status if {"payment", "payout"} <= kinds and not status["pending"] else None

            wait_for("the payment and payout in the ledger", paid_out, 60)
        finally:
            wind.close()
            jake.close()

        # every participant: the same transactions and root, every signature verifies
        state = audit(cluster, LEDGER)
        nos = [t["txn"]["no"] for t in state["txns"]]
        assert nos.count(paused) == 1 and len(nos) == len(set(nos)), nos
        assert nos[0] == paused
        status = audit_status(grid)
        assert status["sent"] == len(nos) and status["lastSeqNo"] == len(nos)
        assert "event=audit_reconciled no=" + paused in grid.log_path.read_text()

        txn = state["txns"][record["seqNo"] - 1]["txn"]
        assert txn["no"] == record["no"] and txn["doc_type"] == "SettledSlice"
        assert (txn["departure_station"], txn["arrival_station"]) == (
            "PRODUCER9WIND",
            "CONSUMER9JAKE",
        )
        assert txn["slice"]["price"] == 100 and txn["slice"]["usage"] == pytest.approx(0.4)
        [request] = txn["slice"]["requests"]
        assert (request["consumer"], request["owed"]) == ("CONSUMER9JAKE", 40)
        assert request["paymentIdOrAddress"] == request_address
        # the money flow: payment (consumer -> grid, 20 % cut) and payout (grid -> producer)
        by_type = {t["txn"]["doc_type"]: t["txn"] for t in state["txns"]}
        payment, payout = by_type["Payment"], by_type["Payout"]
        assert (payment["departure_station"], payment["arrival_station"]) == (
            "CONSUMER9JAKE",
            "grid",
        )
        assert (payment["payment"]["value"], payment["payment"]["cut"]) == (40, 8)
        assert payment["payment"]["paymentIdOrAddress"] == request_address
        assert payment["refs"] == [txn["no"]]
        assert (payout["arrival_station"], payout["payout"]["amount"]) == ("PRODUCER9WIND", 32)
        assert payout["refs"] == [payment["no"]] and len(payout["payout"]["tailHash"]) == 81
        # the link the dashboard shows is the inclusion proof, checkable offline
        path = record["proofUrl"].removeprefix(cluster.url("grid"))
        for name in cluster.names:
            ledger_id = cluster.ledger_by_name(name, LEDGER)["id"]  # type: ignore[index]
            proof = cluster.get(name, path.replace(f"/{status['ledgerId']}/", f"/{ledger_id}/"))
            assert proof.status_code == 200 and verify_proof(proof.json()), name
    finally:
        cluster.stop_all()
