"""Client configuration: where PayTrace lives, how long to wait, how often to retry."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRODUCTION_URL", "SANDBOX_URL", "RetryConfig", "Timeouts"]

PRODUCTION_URL = "https://api.paytrace.com"
SANDBOX_URL = "https://api.sandbox.paytrace.com"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for the TCP connection and for the response.

    The read default is generous because PayTrace documents 3 to 6 seconds for a sale, and a
    read timeout on a sale is an unknown outcome that costs a lookup to resolve.
    """

    connect: float = 5.0
    read: float = 60.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ValueError("timeouts must be positive")

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class RetryConfig:
    """Bounds of the retry loop (see ``_retry.decide_retry`` for *what* is retried).

    ``max_retries`` counts retries after the first attempt. Backoff is exponential from
    ``backoff_base`` seconds, capped at ``backoff_max``, with jitter; a server's Retry-After is
    honoured up to ``retry_after_max`` seconds.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.retry_after_max < 0:
            raise ValueError("backoff bounds must be >= 0")
