"""The drivers of a fleet: which id token the next arriving driver presents.

One person cannot charge at two stations at once, and a CSMS rightly answers ConcurrentTx when an
id token already has a session elsewhere. So a fleet shares one pool: an arriving driver takes a
token nobody is using, and gives it back when the session ends. When every token is in use, a
random one is reused — the CSMS's answer to that is worth seeing too.
"""

from __future__ import annotations

import random
from collections.abc import Iterable


class TokenPool:
    __slots__ = ("_tokens", "_in_use", "_rng")

    def __init__(self, tokens: Iterable[str], rng: random.Random | None = None):
        self._tokens = list(dict.fromkeys(tokens))
        if not self._tokens:
            raise ValueError("at least one id token is needed")
        self._in_use: dict[str, int] = {}
        self._rng = rng or random.Random()

    def take(self) -> str:
        """A token for an arriving driver, preferring one not in use."""
        rng = self._rng
        for _ in range(8):  # cheap when few are in use
            token = rng.choice(self._tokens)
            if token not in self._in_use:
                break
        else:
            free = [t for t in self._tokens if t not in self._in_use]
            token = rng.choice(free) if free else rng.choice(self._tokens)
        self.hold(token)
        return token

    def hold(self, token: str) -> None:
        """Mark ``token`` as charging somewhere (also for tokens from outside the pool, e.g. remote start)."""
        self._in_use[token] = self._in_use.get(token, 0) + 1

    def release(self, token: str) -> None:
        count = self._in_use.get(token, 0)
        if count <= 1:
            self._in_use.pop(token, None)
        else:
            self._in_use[token] = count - 1

    @property
    def in_use(self) -> int:
        return len(self._in_use)
