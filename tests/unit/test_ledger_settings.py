"""The ledger's settings: a good consortium loads, every mistake names its variable and
no secret is echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.crypto import encode_public_key, seed_of
from services.ledger.settings import LedgerSettings
from shared.settings import SettingsError, load_settings

KEYS = [Ed25519PrivateKey.generate() for _ in range(3)]
PARTICIPANTS = [
    {"name": n, "url": f"http://ledger-{n}:8100/", "public_key": encode_public_key(k.public_key())}
    for n, k in zip(["a", "b", "c"], KEYS, strict=True)
]


def env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    base = {
        "LEDGER_PARTICIPANT": "a",
        "LEDGER_PARTICIPANTS": json.dumps(PARTICIPANTS),
        "LEDGER_PRIVATE_KEY": seed_of(KEYS[0]),
    }
    base.update(values)
    for key, value in base.items():
        monkeypatch.setenv(key, value)


def test_a_good_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, LEDGER_USERS=json.dumps({"auditor": "scrypt$16384$8$1$c2FsdA==$ZGln"}))
    settings = load_settings(LedgerSettings)
    assert settings.me.name == "a" and [p.name for p in settings.peers] == ["b", "c"]
    assert settings.me.url == "http://ledger-a:8100"  # trailing slash dropped
    assert settings.database().endswith("ledger-a.db")


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"LEDGER_PARTICIPANT": "z"}, "LEDGER_PARTICIPANTS: Value error, LEDGER_PARTICIPANT 'z'"),
        ({"LEDGER_PARTICIPANTS": json.dumps(PARTICIPANTS[:1])}, "at least 2 participants"),
        ({"LEDGER_PARTICIPANTS": json.dumps([PARTICIPANTS[0]] * 2)}, "names must be unique"),
        (
            {
                "LEDGER_PARTICIPANTS": json.dumps(
                    [dict(PARTICIPANTS[0], public_key="eA=="), *PARTICIPANTS[1:]]
                )
            },
            "public key must be 32 bytes",
        ),
        (
            {"LEDGER_USERS": '{"u": "plain"}'},
            "LEDGER_USERS: Value error, user u: give a scrypt hash",
        ),
        ({"LEDGER_USERS": "not json"}, "LEDGER_USERS"),
        ({"LEDGER_ADMIN_PASSWORD": "short"}, "LEDGER_ADMIN_PASSWORD: Value error, use at least 8"),
        ({"LEDGER_MAX_TTL": "5"}, "LEDGER_MAX_TTL: Value error, smaller than LEDGER_DEFAULT_TTL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"LEDGER_PRIVATE_KEY": "c2VjcmV0LXNlZWQ="}, "LEDGER_PRIVATE_KEY"),
    ],
)
def test_mistakes_name_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    values: dict[str, str],
    text: str,
) -> None:
    env(monkeypatch, **values)
    with pytest.raises(SettingsError) as info:
        load_settings(LedgerSettings)
    assert text in str(info.value)
    for secret in ("short", "c2VjcmV0LXNlZWQ=", "mysql://x", seed_of(KEYS[0])):
        if secret in values.values() or secret == seed_of(KEYS[0]):
            assert secret not in str(info.value)


def test_keys_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The compose way: a generated hex secret as the private key, public keys in files."""
    from services.ledger.app import load_identity
    from services.ledger.crypto import private_key_from_seed

    secret = "0123456789abcdef" * 2
    own = encode_public_key(private_key_from_seed(secret).public_key())
    (tmp_path / "a.pub").write_text(own + "\n")
    (tmp_path / "key").write_text(secret)
    listed = [
        {"name": "a", "url": "http://a:1", "public_key_file": str(tmp_path / "a.pub")},
        PARTICIPANTS[1],
    ]
    monkeypatch.delenv("LEDGER_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("LEDGER_PARTICIPANT", "a")
    monkeypatch.setenv("LEDGER_PARTICIPANTS", json.dumps(listed))
    monkeypatch.setenv("LEDGER_PRIVATE_KEY_FILE", str(tmp_path / "key"))
    settings = load_settings(LedgerSettings)
    assert settings.me.public_key == own
    assert load_identity(settings).name == "a"
    listed[0]["public_key_file"] = str(tmp_path / "missing.pub")
    monkeypatch.setenv("LEDGER_PARTICIPANTS", json.dumps(listed))
    with pytest.raises(SettingsError) as info:
        load_settings(LedgerSettings)
    assert "cannot read public_key_file" in str(info.value)
    assert secret not in str(info.value)
