"""Latency of the lock's paths on loopback: MQTT echo, REST checkout/checkin, paid unlock.

Starts a real Mosquitto, one firmware device and the lock controller as processes and prints,
after a calibration of the machine in the same run (bench/calibration.py):

- raw MQTT command -> ``locked`` echo (a paho client talking to the device directly);
- REST checkout -> unlock echo -> reply, and checkin, one after the other (``--cycles``);
  target: checkout p50 <= 3x the raw echo p50 of the same run (issue 23);
- pay-per-use (unless ``--skip-paid``): a devnet, a payer channel node
  (``python -m services.channels``) and a second controller that sells a tool by the minute;
  each payment opens a new session (a minute of 0.2 s, no grace, so the watcher locks the
  tool again before the next one), timed from the payer's ``POST /channels/{id}/pay`` to
  ``state=unlocked`` on ``$prefix/machine-access/N/locked`` seen by a subscriber; target:
  p50 < 20 ms, p99 < 50 ms.

    uv run python bench/lock/bench_lock.py [--cycles 500] [--payments 100] [--skip-paid]
        [--profile DIR]

``--profile DIR`` runs the REST controller under cProfile (``DIR/controller.prof``).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.calibration import calibrate, calibration_line  # noqa: E402
from shared.mqtt.acl import render_acl  # noqa: E402
from shared.mqtt.client import set_no_delay  # noqa: E402
from shared.mqtt.codec import decode  # noqa: E402
from tests.support.channels import ChannelProcess  # noqa: E402
from tests.support.devnet import DevnetProcess, random_seed  # noqa: E402
from tests.support.mosquitto import MosquittoProcess, free_port  # noqa: E402

PREFIX = "bench"
DEVICE = f"{PREFIX}/dev-1"
USERS = {"lock-controller": "bench-controller", "dev-1": "bench-device"}
ADMIN = ("admin", "bench-admin-pw")
PAID_LOCK = 0  # the paid tool's lock; the member tool is on lock 1
PRICE = 1  # per minute
MINUTE = 0.2  # seconds in a minute of the paid controller's clock

Row = tuple[str, list[float], str]


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return p(0.5) * 1000, p(0.99) * 1000, sum(ordered) / len(ordered) * 1000


def _spawn(
    module: str, env: dict[str, str], log: Path, python: list[str] | None = None
) -> subprocess.Popen[bytes]:
    full = dict(os.environ, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", **env)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, *(python or []), "-m", module],
            env=full,
            cwd=ROOT,
            stdout=out,
            stderr=out,
        )


def _controller(
    broker: MosquittoProcess,
    data: Path,
    log: Path,
    python: list[str] | None = None,
    timeout: float = 120,
    **env: str,
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = _spawn(
        "services.lock",
        {
            "MQTT_URL": broker.url("lock-controller", USERS["lock-controller"]),
            "MQTT_PREFIX": PREFIX,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATA_DIR": str(data),
            "LOCK_ADMIN_USERNAME": ADMIN[0],
            "LOCK_ADMIN_PASSWORD": ADMIN[1],
            # The benchmark sends thousands of writes from one address.
            "RATE_LIMIT_PER_SECOND": "0",
            **env,
        },
        log,
        python,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the controller did not start:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health").json().get("broker_connected"):
                break
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.05)
    time.sleep(0.5)  # let the device's retained state arrive
    return proc, base


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # SIGINT, not SIGTERM: uvicorn re-raises the signal it shut down for, and only the
    # KeyboardInterrupt of SIGINT lets cProfile (--profile) write its file on the way out.
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class _Watch:
    """A paho subscriber stamping each message of one topic with ``perf_counter``."""

    def __init__(self, broker: MosquittoProcess, topic: str, client_id: str) -> None:
        self.inbox: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.username_pw_set("lock-controller", USERS["lock-controller"])
        self.client.on_socket_open = set_no_delay
        self.client.on_message = lambda c, u, m: self.inbox.put(
            (time.perf_counter(), decode(bytes(m.payload)))
        )
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(topic, 1)
        self.client.loop_start()
        time.sleep(0.3)
        self.drain()

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get()

    def until(self, match: Callable[[dict[str, str]], bool], timeout: float = 10) -> float:
        """The arrival time of the first message matching, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            at, fields = self.inbox.get(timeout=max(0.001, deadline - time.monotonic()))
            if match(fields):
                return at

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _request_is(request: str) -> Callable[[dict[str, str]], bool]:
    return lambda fields: fields.get("request") == request


def bench_raw(broker: MosquittoProcess, cycles: int) -> list[float]:
    watch = _Watch(broker, f"{DEVICE}/machine-access/1/locked", "bench-raw")
    samples = []
    try:
        for i in range(cycles):
            command = "unlock" if i % 2 == 0 else "lock"
            request = f"raw-{i}"
            started = time.perf_counter()
            watch.client.publish(
                f"{DEVICE}/machine-access/1/command",
                f"request={request}\ncommand={command}",
                qos=1,
            )
            samples.append(watch.until(_request_is(request)) - started)
    finally:
        watch.close()
    return samples


def _admin_headers(http: httpx.Client) -> dict[str, str]:
    token = http.post("/auth/token", auth=ADMIN).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def bench_rest(base: str, cycles: int) -> tuple[list[float], list[float]]:
    http = httpx.Client(base_url=base, timeout=10)
    headers = _admin_headers(http)
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


def bench_paid(
    broker: MosquittoProcess, tmp: Path, payments: int
) -> tuple[list[float], list[float]]:
    """Payment -> ``state=unlocked`` on MQTT, and payment -> the payer's answer."""
    devnet = DevnetProcess(tmp / "devnet", milestone_interval=0.5)
    devnet.start(timeout=600)
    payer = ChannelProcess("payer", devnet, tmp / "payer")
    proc: subprocess.Popen[bytes] | None = None
    watch: _Watch | None = None
    try:
        payer.start(timeout=600)
        payer.fund(payments * PRICE + 100)
        data = tmp / "paid-data"
        proc, base = _controller(
            broker,
            data,
            tmp / "paid-controller.log",
            timeout=600,  # the channel node and the wallet start slowly under load
            LOCK_CHANNEL_SEED=random_seed(),
            LOCK_CHANNEL_NODE_URL=devnet.api_url,
            LOCK_CHANNEL_MWM=str(devnet.mwm),
            LOCK_CHANNEL_WATCH_INTERVAL="0.3",
            LOCK_CHANNEL_MIN_TIMEOUT="1",
            LOCK_MINUTE_SECONDS=str(MINUTE),
            LOCK_GRACE_SECONDS="0",
        )
        http = httpx.Client(base_url=base, timeout=30)
        tool = http.post(
            "/tools",
            json={
                "name": "bench-paid",
                "device_id": "dev-1",
                "lock_index": PAID_LOCK,
                "pricing": "paid",
                "price_per_minute": PRICE,
                "min_minutes": 1,
            },
            headers=_admin_headers(http),
        ).json()
        body = {"peer": f"{base}/channels/peer", "amount": payments * PRICE, "timeout": 600}
        cid = str(payer.call("POST", "/channels", json=body)["channel_id"])
        payer.wait(cid, lambda s: s["status"] == "open", timeout=120)
        watch = _Watch(broker, f"{DEVICE}/machine-access/{PAID_LOCK}/locked", "bench-paid")
        unlocked, answered = [], []
        for _ in range(payments):
            watch.drain()
            started = time.perf_counter()
            reply = payer.client.post(
                f"/channels/{cid}/pay", json={"amount": PRICE, "message": {"tool_id": tool["id"]}}
            )
            answered.append(time.perf_counter() - started)
            assert reply.status_code == 200, reply.text
            assert reply.json()["response"]["state"] == "unlocked", reply.text
            seen = watch.until(lambda f: f.get("state") == "unlocked")
            unlocked.append(seen - started)
            # The watcher locks once the paid minute is over (no grace): a new session next.
            watch.until(lambda f: f.get("state") == "locked", timeout=30)
            time.sleep(0.05)  # the watcher writes the session's end after the echo
        return unlocked, answered
    finally:
        if watch is not None:
            watch.close()
        if proc is not None:
            _stop(proc)
        payer.__exit__(None, None, None)
        devnet.__exit__(None, None, None)


def _table(title: str, rows: list[Row]) -> None:
    print(title)
    print(f"{'path':<52} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}  target")
    for name, samples, target in rows:
        p50, p99, mean = _percentiles(samples)
        print(f"{name:<52} {p50:8.2f} {p99:8.2f} {mean:8.2f}  {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cycles", type=int, default=500, help="checkout/checkin cycles")
    parser.add_argument("--payments", type=int, default=100, help="paid sessions")
    parser.add_argument("--skip-paid", action="store_true", help="no devnet, no paid part")
    parser.add_argument("--profile", type=Path, help="cProfile the REST controller here")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    calibration = calibrate(tmp)
    procs: list[subprocess.Popen[bytes]] = []
    paid: tuple[list[float], list[float]] | None = None
    with MosquittoProcess(users=USERS, acl=render_acl(PREFIX)) as broker:
        try:
            procs.append(
                _spawn(
                    "firmware",
                    {
                        "MQTT_URL": broker.url("dev-1", USERS["dev-1"]),
                        "MQTT_PREFIX": DEVICE,
                        "DEVICE_ID": "dev-1",
                        "DEVICE_LOCKS": "2",
                    },
                    tmp / "device.log",
                )
            )
            python: list[str] | None = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                python = ["-m", "cProfile", "-o", str(args.profile / "controller.prof")]
            controller, base = _controller(broker, tmp / "data", tmp / "controller.log", python)
            try:
                raw = bench_raw(broker, args.cycles)
                out, back = bench_rest(base, args.cycles)
            finally:
                _stop(controller)
            if not args.skip_paid:
                paid = bench_paid(broker, tmp, args.payments)
        finally:
            for proc in procs:
                _stop(proc)
            shutil.rmtree(tmp, ignore_errors=True)
    print(calibration_line(calibration))
    raw_p50 = _percentiles(raw)[0]
    ratio = _percentiles(out)[0] / raw_p50
    _table(
        f"lock latency on loopback, {args.cycles} cycles",
        [
            ("raw MQTT command -> locked echo", raw, "p50 < 10, p99 < 50"),
            (
                "REST checkout -> unlock echo -> reply",
                out,
                f"p50 <= 3x raw = {3 * raw_p50:.2f}: {ratio:.1f}x",
            ),
            ("REST checkin -> lock echo -> reply", back, "p50 < 10, p99 < 50"),
        ],
    )
    if paid is not None:
        _table(
            f"pay-per-use, {args.payments} payments, each a new session",
            [
                ("payment -> state=unlocked on MQTT", paid[0], "p50 < 20, p99 < 50"),
                ("payment -> answer to the payer", paid[1], ""),
            ],
        )
    print(f"load at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
