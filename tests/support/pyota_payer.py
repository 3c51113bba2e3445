"""A paying client no one here wrote: PyOTA 2.1.0's own ``send_transfer`` (its address
generator, input selection, signing and remainder), funded from the devnet's faucet."""

from __future__ import annotations

from iota import Address, Iota, ProposedTransaction, Tag, TryteString

from shared.iota.signing import address_of
from tests.support.devnet import DevnetProcess, random_seed

__all__ = ["PyotaPayer"]


class PyotaPayer:
    """A fresh seed (security 1, so PyOTA's pure-Python signing stays quick) holding
    ``funds`` confirmed tokens; ``pay`` sends value with PyOTA and waits for a milestone."""

    def __init__(self, devnet: DevnetProcess, funds: int) -> None:
        self.devnet = devnet
        self.seed = random_seed()
        self.api = Iota(devnet.api_url, self.seed)
        first = address_of(self.seed, 0, 1)
        devnet.wait_confirmed([devnet.faucet(first, funds)["tail"]])

    def pay(self, to: str, value: int, *, confirm: bool = True, timeout: float = 60) -> str:
        """Send ``value`` to ``to`` (81 or 90 trytes); its tail hash (confirmed if ``confirm``)."""
        result = self.api.send_transfer(
            depth=3,
            transfers=[
                ProposedTransaction(
                    address=Address(to[:81]),
                    value=value,
                    tag=Tag(b"PYOTA9PAYER"),
                    message=TryteString.from_unicode("paid with PyOTA"),
                )
            ],
            min_weight_magnitude=self.devnet.mwm,
            security_level=1,
        )
        tail = str(result["bundle"].tail_transaction.hash)
        if confirm:
            self.devnet.wait_confirmed([tail], timeout=timeout)
        return tail
