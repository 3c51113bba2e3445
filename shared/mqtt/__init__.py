"""MQTT for the lock devices: key=value codec, topics, ACL text and an asyncio client."""

from __future__ import annotations

from shared.mqtt.acl import render_acl
from shared.mqtt.client import Message, MqttClient, MqttError, Will
from shared.mqtt.codec import PayloadError, decode, encode
from shared.mqtt.topics import (
    AccessTopics,
    DeviceTopics,
    ParsedTopic,
    TopicError,
    device_prefix,
    parse_topic,
)
from shared.mqtt.url import MqttUrl, parse_mqtt_url

__all__ = [
    "AccessTopics",
    "DeviceTopics",
    "Message",
    "MqttClient",
    "MqttError",
    "MqttUrl",
    "ParsedTopic",
    "PayloadError",
    "TopicError",
    "Will",
    "decode",
    "device_prefix",
    "encode",
    "parse_mqtt_url",
    "parse_topic",
    "render_acl",
]
