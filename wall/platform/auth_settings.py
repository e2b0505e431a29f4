"""The ``auth`` section of the settings: bootstrap admin, token lifetime, throttling."""

from __future__ import annotations

from pydantic import Field

from wall.platform.wire import WireModel


class AuthSettings(WireModel):
    """Authentication."""

    admin_token_env: str | None = Field(
        "CITYWALL_ADMIN_TOKEN",
        description="Env variable whose value, if set, is accepted as an admin token.",
    )
    token_lifetime_days: int | None = Field(
        90,
        ge=1,
        le=3650,
        description="Lifetime of a new person's token unless one is given"
        " (`--expires-in`); wall display tokens never expire unless given one."
        " null: tokens do not expire.",
    )
    failure_limit: int = Field(
        10,
        ge=1,
        le=10_000,
        description="Failed authentications from one address within"
        " `failure_window_s` after which that address is refused (429).",
    )
    failure_window_s: float = Field(60.0, gt=0, le=86_400)
    failure_block_s: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="How long a throttled address is refused, seconds.",
    )
    last_used_flush_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        description="Seconds between batched writes of tokens' last-used times.",
    )
    revocation_check_s: float = Field(
        0.5,
        gt=0,
        le=60,
        description="Seconds between checks that open sockets' tokens are"
        " still valid (revocations made by the CLI, expiry).",
    )
