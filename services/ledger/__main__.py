"""``python -m services.ledger``: run a participant configured from the environment.

Helpers for setting one up::

    python -m services.ledger keygen          # a new key: LEDGER_PRIVATE_KEY and its public key
    python -m services.ledger public-key F    # the public key of a PEM key file
    python -m services.ledger public-key-of F # the public key of a LEDGER_PRIVATE_KEY in file F
    python -m services.ledger hash-password   # reads a password on stdin, prints its scrypt hash
"""

from __future__ import annotations

import logging
import re
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.crypto import encode_public_key, load_or_create_key, seed_of
from services.ledger.settings import LedgerSettings
from shared.auth import hash_password
from shared.service_main import run_service

_TOKEN = re.compile(r"token=[^&\s\"']+")


class RedactTokens(logging.Filter):
    """uvicorn logs websocket URLs; the token in their query string is a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message:
            record.msg = _TOKEN.sub("token=<redacted>", message)
            record.args = ()
        return True


def main(argv: list[str]) -> int:
    if argv[:1] == ["keygen"]:
        key = Ed25519PrivateKey.generate()
        print(f"LEDGER_PRIVATE_KEY={seed_of(key)}")
        print(f"public_key={encode_public_key(key.public_key())}")
        return 0
    if argv[:1] == ["public-key"] and len(argv) == 2:
        from pathlib import Path

        print(encode_public_key(load_or_create_key(Path(argv[1])).public_key()))
        return 0
    if argv[:1] == ["public-key-of"] and len(argv) == 2:
        # deploy/init-secrets.sh: the public key of a generated LEDGER_PRIVATE_KEY secret.
        from pathlib import Path

        from services.ledger.crypto import private_key_from_seed

        secret = Path(argv[1]).read_text(encoding="ascii")
        print(encode_public_key(private_key_from_seed(secret).public_key()))
        return 0
    if argv[:1] == ["hash-password"]:
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 8:
            print("use at least 8 characters", file=sys.stderr)
            return 2
        print(hash_password(password))
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    run_service(
        LedgerSettings,
        "services.ledger.app:create_app",
        name=lambda settings: f"ledger-{settings.ledger_participant}",
        configured=_redact_tokens,
        options=lambda settings: {
            "ws_max_size": settings.ledger_max_message_bytes,
            "timeout_keep_alive": 30,
            "ws": "auto",
        },
    )
    return 0


def _redact_tokens(_settings: LedgerSettings) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactTokens())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
