"""The devnet's settings: every DEVNET_* environment variable, typed and validated at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.ratelimit import RateLimitSettings
from shared.settings import LogLevel, Seed

__all__ = ["PUBLIC_TEST_COORDINATOR_SEED", "PUBLIC_TEST_FAUCET_SEED", "DevnetSettings"]

# PUBLIC TEST SEEDS: they are printed in this file and in docs/devnet.md, so anyone
# can spend what they hold. They exist so a devnet works with zero configuration;
# never send anything of value to addresses derived from them.
PUBLIC_TEST_FAUCET_SEED = "DEVNET9PUBLIC9TEST9SEED9DO9NOT9USE9FOR9ANYTHING9REAL9" + "9" * 28
PUBLIC_TEST_COORDINATOR_SEED = "DEVNET9PUBLIC9COORDINATOR9SEED9DO9NOT9USE9FOR9ANYTHING9" + "9" * 26


class DevnetSettings(RateLimitSettings):
    """Configuration of ``python -m services.devnet`` (see docs/devnet.md)."""

    model_config = SettingsConfigDict(env_prefix="DEVNET_", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(14265, ge=1, le=65535)
    zmq_port: int = Field(5556, ge=1, le=65535)
    mwm: int = Field(9, ge=1, le=27)
    milestone_interval: float = Field(1.0, gt=0, le=3600)
    snapshot: Path | None = None
    faucet_seed: Seed = SecretStr(PUBLIC_TEST_FAUCET_SEED)
    faucet_max: int = Field(1_000_000_000, ge=1)
    faucet_token: SecretStr | None = None
    # With no faucet token, POST /faucet is off unless this says open (shared/auth.py).
    faucet_open: bool = False
    coordinator_seed: Seed = SecretStr(PUBLIC_TEST_COORDINATOR_SEED)
    data_dir: Path = Path("data/devnet")
    database_url: str | None = None
    max_merges: int = Field(16, ge=0, le=1000)
    # Clients' attachToTangle: proof-of-work bounds (the coordinator's own is not bounded).
    attach_max_mwm: int = Field(14, ge=1, le=243)
    attach_max_transactions: int = Field(100, ge=1, le=10_000)
    attach_timeout: float = Field(60.0, gt=0, le=3600)
    attach_concurrency: int = Field(2, ge=1, le=64)
    # Large reads (getTrytes of more than 1,000 hashes, findTransactions answering more
    # than 1,000): this many are answered at once, each streamed in pieces; others wait
    # up to read_wait seconds for a turn, then get 503. Small reads never wait.
    read_concurrency: int = Field(2, ge=1, le=64)
    read_wait: float = Field(10.0, gt=0, le=600)
    # A streamed answer the client does not take within this many seconds is cut off.
    read_timeout: float = Field(60.0, gt=0, le=3600)
    # Faucet requests that may wait for the previous payment at once; more get 503.
    faucet_max_waiting: int = Field(16, ge=1, le=10_000)
    # Local snapshots: keep this many milestones of history (0 = keep everything).
    prune_depth: int = Field(0, ge=0)
    prune_interval: float = Field(60.0, gt=0, le=86400)
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR, any case")

    @field_validator("snapshot")
    @classmethod
    def _snapshot_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"snapshot file {value} does not exist")
        return value

    @field_validator("prune_depth")
    @classmethod
    def _depth(cls, value: int) -> int:
        if 0 < value < 10:
            raise ValueError("must be 0 (no pruning) or at least 10 milestones")
        return value

    @model_validator(mode="after")
    def _attach_cap_allows_the_node(self) -> DevnetSettings:
        if self.attach_max_mwm < self.mwm:
            raise ValueError(
                f"DEVNET_ATTACH_MAX_MWM ({self.attach_max_mwm}) is below DEVNET_MWM ({self.mwm}):"
                " no client could attach"
            )
        return self

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'tangle.sqlite'}"
