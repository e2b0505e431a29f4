from __future__ import annotations

import random

from devices.backoff import Backoff


def test_s2_backoff_grows_with_jitter_and_caps_at_30s() -> None:
    b = Backoff(initial_s=0.5, max_s=30.0, rng=random.Random(7))
    delays = [b.next_delay_s() for _ in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert all(d <= 30.0 for d in delays)
    assert delays[-1] >= 15.0  # at the cap, jitter keeps it in [cap/2, cap]
    assert len(set(delays)) == len(delays)  # jittered


def test_backoff_reset_starts_again() -> None:
    b = Backoff(initial_s=1.0, max_s=30.0, rng=random.Random(1))
    for _ in range(6):
        b.next_delay_s()
    b.reset()
    assert b.next_delay_s() <= 1.0
