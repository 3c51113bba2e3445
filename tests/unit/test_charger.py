"""The EV charger built in docs/adding-a-machine.md: its settings, its app's API, and the
tutorial itself, whose code blocks must be the repository's files as they are."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.charger.app import create_app
from services.charger.settings import ChargerSettings

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "adding-a-machine.md"
SEED = "A" * 81


def test_defaults_and_a_bad_price(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NAME", "PORT", "PRICE"):
        monkeypatch.delenv(name, raising=False)
    settings = ChargerSettings(seed=SEED)
    assert (settings.name, settings.port, settings.price) == ("charger", 3005, 5)
    with pytest.raises(ValidationError, match="price"):
        ChargerSettings(seed=SEED, price=0)


def test_the_charger_takes_energy_orders(tmp_path: Path) -> None:
    app = create_app(ChargerSettings(seed=SEED, data_dir=tmp_path))
    paths = app.other_asgi_app.openapi()["paths"]  # the FastAPI app inside Socket.IO's
    assert {"/energy-orders", "/energy-orders/{order_id}", "/books", "/health"} <= set(paths)


# ```python file=<path>: the block is that whole file; ```python excerpt=<path>: the block
# appears in that file word for word (shown dedented: at any indentation there).
BLOCK = re.compile(r"^```\w* (file|excerpt)=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


BLOCKS = [(m[1], m[2], m[3]) for m in BLOCK.finditer(TUTORIAL.read_text())]


def test_the_tutorial_shows_every_file_of_the_charger_whole() -> None:
    shown = {path for kind, path, _ in BLOCKS if kind == "file"}
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "services/charger").glob("*.py")}
    assert package <= shown, package - shown


@pytest.mark.parametrize(
    ("kind", "path", "text"), BLOCKS, ids=[f"{kind}={path}" for kind, path, _ in BLOCKS]
)
def test_each_code_block_of_the_tutorial_is_the_file_as_it_is(
    kind: str, path: str, text: str
) -> None:
    source = (ROOT / path).read_text()
    if kind == "file":
        assert text == source, f"docs/adding-a-machine.md shows another {path}"
    else:
        indented = (textwrap.indent(text, " " * width) for width in range(0, 17, 4))
        assert any(block in source for block in indented), (
            f"docs/adding-a-machine.md quotes what {path} does not say"
        )
