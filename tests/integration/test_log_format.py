"""Every service logs in the one documented format (docs/architecture.md, shared/logs.py).

Each service runs as a real ``python -m services.<name>`` process; every line it writes
(tracebacks aside, which follow on indented lines) must match ``LINE_PATTERN`` and name the
service, and its own start-up event must be among them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.logs import LINE_PATTERN
from tests.integration.robot.machines import ServiceProcess, machine_env
from tests.support.devnet import DevnetProcess, devnet_fixture
from tests.support.process import free_port

pytestmark = pytest.mark.integration

MACHINES = ("robot", "wind", "solar")


def _check(text: str, service: str) -> list[str]:
    """The messages of ``text``'s records, after checking every line is in the format."""
    messages = []
    for line in text.splitlines():
        if line.startswith("  "):
            continue  # a traceback under the record it belongs to
        match = LINE_PATTERN.match(line)
        assert match is not None, f"{service}: line not in the documented format: {line!r}"
        assert match["service"] == service, line
        messages.append(match["message"])
    assert messages, f"{service} wrote no log line"
    return messages


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    # LOG_LEVEL in lower case: every service takes it in any case
    data = tmp_path_factory.mktemp("devnet")
    with devnet_fixture(data, extra_env={"DEVNET_LOG_LEVEL": "info"}) as node:
        yield node


@pytest.fixture(scope="module")
def services(
    devnet: DevnetProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, ServiceProcess]]:
    tmp_path = tmp_path_factory.mktemp("log-format")
    processes: dict[str, ServiceProcess] = {}
    for name in MACHINES:
        env = machine_env(devnet, name, tmp_path / name, log_level="info")
        processes[name] = ServiceProcess(name, env, tmp_path / name)
    dashboard_env = {
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "NAME": "dashboard",
        "FAUCET_URL": devnet.api_url,
        "LOG_LEVEL": "info",
    }
    processes["dashboard"] = ServiceProcess("dashboard", dashboard_env, tmp_path / "dashboard")
    try:
        with ThreadPoolExecutor(len(processes)) as pool:
            # generous: the machines load their hashing kernels at start, slow on a busy CI
            for future in [pool.submit(p.start, 240) for p in processes.values()]:
                future.result()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def test_devnet_logs_in_the_documented_format(devnet: DevnetProcess) -> None:
    messages = _check(devnet.log_path.read_text(errors="replace"), "devnet")
    assert any(m.startswith("event=devnet_started ") for m in messages), messages
    assert any(m.startswith("event=milestone ") for m in messages), messages


@pytest.mark.parametrize("name", [*MACHINES, "dashboard"])
def test_service_logs_in_the_documented_format(
    services: dict[str, ServiceProcess], name: str
) -> None:
    process = services[name]
    messages = _check(process.log_path.read_text(errors="replace"), name)
    # its own key=value event, and uvicorn's free text quoted into one field
    assert any(m.startswith("event=") for m in messages), messages
    assert any(m.startswith('msg="Uvicorn running on') for m in messages), messages
