"""The asyncio MQTT face against a real Mosquitto: will, subscribe, reconnect, refusal."""

from __future__ import annotations

import asyncio

import pytest

from shared.mqtt.client import Message, MqttClient, MqttError, Will
from tests.integration.lock.conftest import PREFIX, USERS
from tests.support.mosquitto import MosquittoProcess

pytestmark = pytest.mark.integration


async def _next(client: MqttClient, topic: str, timeout: float = 5) -> Message:
    async def find() -> Message:
        async for message in client.messages():
            if message.topic == topic:
                return message
        raise AssertionError

    return await asyncio.wait_for(find(), timeout)


async def test_subscribe_survives_broker_restart(broker: MosquittoProcess) -> None:
    url = broker.url("observer", USERS["observer"])
    device_url = broker.url("lock-a", USERS["lock-a"])
    topic = f"{PREFIX}/lock-a/device/lock-a/online"
    async with (
        MqttClient(url) as watcher,
        MqttClient(device_url, will=Will(topic, b"0"), reconnect_max=0.5) as device,
    ):
        await watcher.subscribe(f"{PREFIX}/#")
        await watcher.wait_connected(5)
        await device.wait_connected(5)
        await device.publish(topic, b"1", retain=True)
        assert (await _next(watcher, topic)).payload == b"1"

        await asyncio.to_thread(broker.kill)
        await asyncio.sleep(0.2)
        assert not device.connected
        with pytest.raises(MqttError):
            await device.publish(topic, b"1")
        await asyncio.to_thread(broker.start)
        await watcher.wait_connected(10)
        await device.wait_connected(10)
        # The watcher's subscription was renewed on reconnect.
        await device.publish(topic, b"1", retain=True)
        assert (await _next(watcher, topic)).payload == b"1"
        assert watcher.connects >= 2


async def test_wrong_password_is_reported(broker: MosquittoProcess) -> None:
    async with MqttClient(broker.url("observer", "wrong")) as client:
        with pytest.raises(MqttError, match="not connected"):
            await client.wait_connected(1)
        assert client.last_error is not None
