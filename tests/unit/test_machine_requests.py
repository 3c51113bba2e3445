"""Validation of customer orders and energy orders, and the machine settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.robot.settings import RobotSettings
from services.wind.settings import ProviderSettings
from shared.machine.requests import OrderRejected, OrderRequest, parse_order
from shared.machine.settings import slug
from shared.settings import SettingsError, load_settings

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def test_empty_order_is_a_default_product() -> None:
    assert parse_order(None) == OrderRequest(product="product", customer=None)
    assert parse_order({}) == OrderRequest()
    assert parse_order({"product": " Laptop ", "customer": "ann"}).product == "Laptop"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("buy", "must be a JSON object, got str"),
        ([1, 2], "must be a JSON object, got list"),
        (42, "must be a JSON object, got int"),
        ({"product": ""}, "product"),
        ({"product": 5}, "product"),
        ({"product": "x" * 65}, "product"),
        ({"product": "<script>"}, "product"),
        ({"prodcut": "typo"}, "prodcut"),
    ],
)
def test_malformed_orders_are_rejected_with_a_reason(data: Any, reason: str) -> None:
    with pytest.raises(OrderRejected) as info:
        parse_order(data)
    assert reason in info.value.reason


@given(json_values)
def test_any_json_either_parses_or_is_rejected_cleanly(data: Any) -> None:
    try:
        order = parse_order(data)
    except OrderRejected as rejected:
        assert rejected.reason
    else:
        assert 1 <= len(order.product) <= 64


SEED = "A" * 81


def test_settings_defaults_and_database_named_after_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEED", SEED)
    monkeypatch.setenv("NAME", "Robot 2")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    robot = load_settings(RobotSettings)
    assert robot.resolved_database_url() == f"sqlite:///{tmp_path.resolve()}/robot-2.sqlite"
    assert robot.price == 100 and robot.provider_share == 0.1
    monkeypatch.setenv("NAME", "wind")
    wind = load_settings(ProviderSettings)
    assert wind.resolved_database_url().endswith("/wind.sqlite")
    assert slug("robot 1") == "robot-1" and slug("!!") == "machine"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SEED", "A" * 80),
        ("SEED", "a" * 81),
        ("PORT", "70000"),
        ("PRICE", "0"),
        ("PROVIDER_SHARE", "1.5"),
        ("IOTA_NODE_URL", "localhost:14265"),
        ("MACHINE_TOKEN", "short"),
        ("ORDER_TIMEOUT", "-1"),
    ],
)
def test_bad_settings_name_the_variable_and_hide_the_seed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str
) -> None:
    monkeypatch.setenv("SEED", SEED)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings(RobotSettings)
    assert f"{variable}:" in info.value.message
    assert (
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        not in capsys.readouterr().err
    )
