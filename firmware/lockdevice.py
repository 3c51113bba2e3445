"""Lock device firmware logic (seed 004), written in the MicroPython subset.

This module is what would be copied to a board next to umqtt.simple and machine.Pin: it
imports nothing, uses no typing, dataclasses, f-strings or ``from __future__``, and gets its
MQTT client, relay pins and clock injected. On CPython, firmware.host supplies umqtt-like and
Pin-like objects (tests/unit/test_firmware_device.py keeps this module inside the subset).

Relay pin value 1 means the relay is energised and the machine may run: unlocked. The device
boots with every relay off (locked), publishes every lock state retained, honours
``command=lock|unlock`` with ``request=`` on ``$prefix/machine-access/$lock/command`` and echoes
the request in ``$prefix/machine-access/$lock/locked``; its device topics are
``$prefix/device/$device_id/{online,name,firmware,ip}``. Every bad input gets a status message
and changes nothing.
"""

# MicroPython subset: %-formatting, explicit loops and try/except instead of contextlib.
# ruff: noqa: UP031, SIM105, SIM110

FIRMWARE_VERSION = "machine-access-py 0.1.0"

# The payload limits match shared.mqtt.codec so the controller and device agree on what is valid.
MAX_PAYLOAD_BYTES = 1024
MAX_KEY_LENGTH = 32
MAX_VALUE_LENGTH = 256
MAX_NAME_LENGTH = 20
COMMAND_KEYS = ("command", "request")

_KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
_NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def parse_payload(msg):
    """Return (fields, None) for valid key=value bytes/str, or (None, reason)."""
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    if len(msg) > MAX_PAYLOAD_BYTES:
        return None, "payload too long: %d bytes (limit %d)" % (len(msg), MAX_PAYLOAD_BYTES)
    try:
        text = msg.decode("utf-8")
    except ValueError:
        return None, "payload is not UTF-8 text"
    fields = {}
    number = 0
    for line in text.split("\n"):
        number += 1
        if line == "":
            continue
        pos = line.find("=")
        if pos < 0:
            return None, "line %d: expected key=value" % number
        key = line[:pos]
        value = line[pos + 1 :]
        if key == "":
            return None, "line %d: empty key" % number
        if len(key) > MAX_KEY_LENGTH:
            return None, "line %d: key too long (limit %d)" % (number, MAX_KEY_LENGTH)
        for char in key:
            if char not in _KEY_CHARS:
                return None, "line %d: invalid key" % number
        if len(value) > MAX_VALUE_LENGTH:
            return None, "too long value for %s (limit %d)" % (key, MAX_VALUE_LENGTH)
        if "\r" in value:
            return None, "line %d: carriage return in value" % number
        if key in fields:
            return None, "duplicate key %s" % key
        fields[key] = value
    return fields, None


def format_payload(pairs):
    """Render a list of (key, value) pairs as key=value lines."""
    return "\n".join([key + "=" + value for key, value in pairs])


def valid_name(name):
    if not 0 < len(name) <= MAX_NAME_LENGTH:
        return False
    for char in name:
        if char not in _NAME_CHARS:
            return False
    return True


class LockDevice:
    """One device with ``len(relays)`` locks, driven by an umqtt.simple-style client."""

    def __init__(
        self,
        client,
        relays,
        device_id,
        prefix,
        name=None,
        ip="",
        relock_ms=0,
        ticks_ms=None,
        log=None,
        firmware=FIRMWARE_VERSION,
    ):
        self.client = client
        self.relays = relays
        self.device_id = device_id
        self.name = name or device_id
        self.ip = ip
        self.firmware = firmware
        self.relock_ms = relock_ms
        self.ticks_ms = ticks_ms
        self.log = log or _no_log
        # Seed 004's layout: the device tree and the machine-access tree under one prefix.
        self.base = prefix + "/device/" + device_id
        self.access = prefix + "/machine-access"
        self.locked = [True] * len(relays)
        self.requests = [None] * len(relays)
        self.relock_at = [None] * len(relays)
        self.running = False
        # Boot locked: whatever the pins did at power-up, the machines must not run.
        for relay in relays:
            relay.value(0)
        client.set_callback(self.on_message)

    # -- topics --------------------------------------------------------------------------
    def topic(self, field):
        return self.base + "/" + field

    def lock_topic(self, lock, field):
        return self.access + "/" + str(lock) + "/" + field

    # -- connection ----------------------------------------------------------------------
    def connect(self):
        """Connect with the last will "0" and announce everything (called on every reconnect)."""
        self.client.set_last_will(self.topic("online"), b"0", retain=True, qos=1)
        self.client.connect()
        # Name first, then subscribe: the retained name we get back is our own, not a stale one.
        self.publish(self.topic("name"), self.name, True)
        self.client.subscribe(self.topic("name"), 1)
        self.client.subscribe(self.access + "/command", 1)
        self.client.subscribe(self.access + "/+/command", 1)
        self.publish(self.topic("firmware"), self.firmware, True)
        self.publish(self.topic("ip"), self.ip, True)
        self.publish_all_states()
        # Online last: anyone who sees "1" can rely on our subscriptions being active.
        self.publish(self.topic("online"), "1", True)
        self.log("event=device_connected device=%s locks=%d" % (self.device_id, len(self.relays)))

    def shutdown(self):
        """Orderly stop: say we are going offline (no will on a clean disconnect), then leave."""
        self.publish(self.topic("online"), "0", True)
        self.client.disconnect()

    def publish(self, topic, payload, retain=False):
        self.client.publish(topic, payload, retain, 1)

    # -- locks ---------------------------------------------------------------------------
    def publish_state(self, lock):
        pairs = [("state", "locked" if self.locked[lock] else "unlocked")]
        if self.requests[lock] is not None:
            pairs.append(("request", self.requests[lock]))
        self.publish(self.lock_topic(lock, "locked"), format_payload(pairs), True)

    def publish_all_states(self):
        for lock in range(len(self.relays)):
            self.publish_state(lock)

    def set_lock(self, lock, locked, request):
        self.relays[lock].value(0 if locked else 1)
        self.locked[lock] = locked
        self.requests[lock] = request
        if not locked and self.relock_ms and self.ticks_ms is not None:
            self.relock_at[lock] = self.ticks_ms() + self.relock_ms
        else:
            self.relock_at[lock] = None
        self.log(
            "event=lock_changed device=%s lock=%d state=%s"
            % (self.device_id, lock, "locked" if locked else "unlocked")
        )
        # Lock and unlock are idempotent and always publish, so every command gets its echo.
        self.publish_state(lock)

    def tick(self, now):
        """Auto-relock locks whose unlock is older than relock_ms."""
        for lock in range(len(self.relays)):
            due = self.relock_at[lock]
            if due is not None and now - due >= 0:
                self.set_lock(lock, True, None)
                self.status("Auto-relocked after %d ms" % self.relock_ms, "info", None, lock)

    def status(self, message, level="warning", request=None, lock=None):
        pairs = [("message", message), ("level", level)]
        if request is not None:
            pairs.append(("request", request))
        topic = self.access + "/status" if lock is None else self.lock_topic(lock, "status")
        self.publish(topic, format_payload(pairs))
        self.log("event=device_status device=%s level=%s" % (self.device_id, level))

    # -- messages ------------------------------------------------------------------------
    def on_message(self, topic, msg):
        if isinstance(topic, bytes):
            topic = topic.decode("utf-8")
        if topic == self.topic("name"):
            self.on_name(msg)
        elif topic == self.access + "/command":
            self.on_refresh(msg)
        elif topic.startswith(self.access + "/") and topic.endswith("/command"):
            self.on_command(topic[len(self.access) + 1 : -len("/command")], msg)

    def on_name(self, msg):
        try:
            name = msg.decode("utf-8") if isinstance(msg, bytes) else msg
        except ValueError:
            name = ""
        if name == self.name:
            return
        if not valid_name(name):
            self.status("Invalid name: use 1-%d characters of A-Z a-z 0-9 - _" % MAX_NAME_LENGTH)
            # Put our real name back so the retained topic does not lie.
            self.publish(self.topic("name"), self.name, True)
            return
        self.name = name
        self.log("event=device_renamed device=%s" % self.device_id)

    def _command_fields(self, msg, lock):
        fields, error = parse_payload(msg)
        if error is not None:
            self.status("Malformed payload: " + error, "warning", None, lock)
            return None
        request = fields.get("request")
        for key in fields:
            if key not in COMMAND_KEYS:
                self.status("Unknown key: " + key, "warning", request, lock)
                return None
        if "command" not in fields:
            self.status("Missing key: command", "warning", request, lock)
            return None
        return fields

    def on_refresh(self, msg):
        fields = self._command_fields(msg, None)
        if fields is None:
            return
        if fields["command"] != "refresh":
            self.status("Unknown command: " + fields["command"], "warning", fields.get("request"))
            return
        self.publish_all_states()
        self.publish(self.topic("online"), "1", True)

    def on_command(self, index, msg):
        lock = _lock_index(index)
        if lock is None or lock >= len(self.relays):
            self.status("Unknown lock id: " + index)
            return
        fields = self._command_fields(msg, lock)
        if fields is None:
            return
        command = fields["command"]
        request = fields.get("request")
        if command == "unlock":
            self.set_lock(lock, False, request)
        elif command == "lock":
            self.set_lock(lock, True, request)
        else:
            self.status("Unknown command: " + command, "warning", request, lock)


def _lock_index(text):
    # Only canonical decimal indexes, so "01" cannot alias lock 1.
    if text == "" or len(text) > 3 or (len(text) > 1 and text[0] == "0"):
        return None
    for char in text:
        if char not in "0123456789":
            return None
    return int(text)


def _no_log(line):
    pass


def run(device, client, sleep_ms, ticks_ms, keepalive_ms=15000, backoff_ms=(100, 5000)):
    """The main loop: connect, wait for messages, auto-relock, ping; reconnect with backoff.

    ``client.wait_msg()`` must return after a short while even without traffic (on a board:
    a socket timeout). Returns when ``device.running`` becomes False.
    """
    device.running = True
    delay = backoff_ms[0]
    while device.running:
        try:
            device.connect()
            delay = backoff_ms[0]
            last_ping = ticks_ms()
            while device.running:
                client.wait_msg()
                now = ticks_ms()
                device.tick(now)
                if now - last_ping >= keepalive_ms // 2:
                    client.ping()
                    last_ping = now
            device.shutdown()
        except OSError as error:
            device.log("event=device_disconnected device=%s error=%s" % (device.device_id, error))
            try:
                client.disconnect()
            except OSError:
                pass
            if device.running:
                sleep_ms(delay)
                delay = min(delay * 2, backoff_ms[1])
