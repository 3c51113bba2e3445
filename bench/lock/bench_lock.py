"""Latency of the lock path on loopback: REST checkout/checkin and raw MQTT command -> echo.

Starts a real Mosquitto, one firmware device and the lock controller as processes, then prints
p50/p99 over N cycles. Target: p50 < 10 ms, p99 < 50 ms.

    uv run python bench/lock/bench_lock.py [--cycles 500]
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shared.mqtt.acl import render_acl  # noqa: E402
from shared.mqtt.client import set_no_delay  # noqa: E402
from shared.mqtt.codec import decode  # noqa: E402
from tests.support.mosquitto import MosquittoProcess, free_port  # noqa: E402

PREFIX = "bench"
USERS = {"lock-controller": "bench-controller", "dev-1": "bench-device"}
ADMIN = ("admin", "bench-admin-pw")


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return p(0.5) * 1000, p(0.99) * 1000, statistics.fmean(ordered) * 1000


def _spawn(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    full = dict(os.environ, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", **env)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module], env=full, cwd=ROOT, stdout=out, stderr=out
        )


def bench_raw(broker: MosquittoProcess, cycles: int) -> list[float]:
    inbox: queue.Queue[bytes] = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw")
    client.username_pw_set("lock-controller", USERS["lock-controller"])
    client.on_socket_open = set_no_delay
    client.on_message = lambda c, u, m: inbox.put(bytes(m.payload))
    client.connect(broker.host, broker.port)
    client.subscribe(f"{PREFIX}/dev-1/machine-access/0/locked", 1)
    client.loop_start()
    time.sleep(0.3)
    while not inbox.empty():
        inbox.get()
    samples = []
    for i in range(cycles):
        command = "unlock" if i % 2 == 0 else "lock"
        request = f"raw-{i}"
        started = time.perf_counter()
        client.publish(
            f"{PREFIX}/dev-1/machine-access/0/command",
            f"request={request}\ncommand={command}",
            qos=1,
        )
        while decode(inbox.get(timeout=5)).get("request") != request:
            pass
        samples.append(time.perf_counter() - started)
    client.disconnect()
    client.loop_stop()
    return samples


def bench_rest(base: str, cycles: int) -> tuple[list[float], list[float]]:
    http = httpx.Client(base_url=base, timeout=10)
    token = http.post("/auth/token", auth=ADMIN).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = http.get("/me", headers=headers).json()
    http.post(f"/accounts/{me['id']}/memberships", json={"days": 1}, headers=headers)
    tool = http.post(
        "/tools",
        json={"name": "bench-tool", "device_id": "dev-1", "lock_index": 1},
        headers=headers,
    ).json()
    out, back = [], []
    for _ in range(cycles):
        started = time.perf_counter()
        reply = http.post(f"/tools/{tool['id']}/checkout", headers=headers)
        out.append(time.perf_counter() - started)
        assert reply.status_code == 200, reply.text
        started = time.perf_counter()
        reply = http.post(f"/tools/{tool['id']}/checkin", headers=headers)
        back.append(time.perf_counter() - started)
        assert reply.status_code == 200, reply.text
    return out, back


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    procs: list[subprocess.Popen[bytes]] = []
    with MosquittoProcess(users=USERS, acl=render_acl(PREFIX)) as broker:
        try:
            procs.append(
                _spawn(
                    "firmware",
                    {
                        "MQTT_URL": broker.url("dev-1", USERS["dev-1"]),
                        "MQTT_PREFIX": f"{PREFIX}/dev-1",
                        "DEVICE_ID": "dev-1",
                        "DEVICE_LOCKS": "2",
                    },
                    tmp / "device.log",
                )
            )
            port = free_port()
            procs.append(
                _spawn(
                    "services.lock",
                    {
                        "MQTT_URL": broker.url("lock-controller", USERS["lock-controller"]),
                        "MQTT_PREFIX": PREFIX,
                        "PORT": str(port),
                        "HOST": "127.0.0.1",
                        "DATA_DIR": str(tmp / "data"),
                        "LOCK_ADMIN_USERNAME": ADMIN[0],
                        "LOCK_ADMIN_PASSWORD": ADMIN[1],
                    },
                    tmp / "controller.log",
                )
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(400):
                try:
                    if httpx.get(f"{base}/health").json()["broker_connected"]:
                        break
                except (httpx.TransportError, ValueError):
                    pass
                time.sleep(0.05)
            time.sleep(0.5)  # let the device's retained state arrive
            raw = bench_raw(broker, args.cycles)
            out, back = bench_rest(base, args.cycles)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"lock latency on loopback, {args.cycles} cycles (target p50 < 10 ms, p99 < 50 ms)")
    print(f"{'path':<44} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, samples in (
        ("raw MQTT command -> locked echo", raw),
        ("REST checkout -> unlock echo -> reply", out),
        ("REST checkin -> lock echo -> reply", back),
    ):
        p50, p99, mean = _percentiles(samples)
        print(f"{name:<44} {p50:8.2f} {p99:8.2f} {mean:8.2f}")


if __name__ == "__main__":
    main()
