"""What the ledger's read API shows of a ledger and of its transactions (with the
certificate of the round that committed them), built in the caller's session."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from services.ledger.statements import iso
from services.ledger.tables import LedgerRow, RoundRow, TransactionRow

__all__ = ["certificate", "ledger_item", "transaction_items"]


def certificate(session: Session, rid: str) -> list[dict[str, str]]:
    row = session.get(RoundRow, rid)
    if row is None or not row.certificate_json:
        return []
    signatures = json.loads(row.certificate_json)
    return [{"participant": p, "signature": s} for p, s in sorted(signatures.items())]


def ledger_item(session: Session, row: LedgerRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "metadata": json.loads(row.metadata_json),
        "size": row.size,
        "root_hash": row.root_hash,
        "round": row.last_round,
        "signatures": certificate(session, row.last_round),
    }


def transaction_items(session: Session, rows: list[TransactionRow]) -> list[dict[str, Any]]:
    rounds: dict[str, RoundRow | None] = {}
    items = []
    for row in rows:
        if row.round_id not in rounds:
            rounds[row.round_id] = session.get(RoundRow, row.round_id)
        rnd = rounds[row.round_id]
        entry = json.loads(row.entry_json)
        txn = entry["txn"]
        attachments = txn.get("~attach", [])
        items.append(
            {
                "txn": txn,
                "seq_no": row.seq_no,
                "metadata": entry["txnMetadata"],
                "attachments": attachments if isinstance(attachments, list) else [],
                "signer_icon": None,
                "signer_label": (txn.get("msg~sig") or {}).get("signer"),
                "date": iso(row.created_at),
                "status": None,
                "leaf_hash": row.leaf_hash,
                "commit": {
                    "round": row.round_id,
                    "size": rnd.new_size if rnd else None,
                    "root_hash": rnd.new_root if rnd else None,
                    "signatures": certificate(session, row.round_id),
                },
            }
        )
    return items
