"""API tokens: list, issue (the secret is shown once) and revoke; admins only (O1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status
from pydantic import Field

from wall.api.access import requires
from wall.api.deps import runtime_of
from wall.platform.auth import Permission, Principal, Role
from wall.platform.tokens import TokenRecord
from wall.platform.wire import WireModel, WireTime

router = APIRouter(prefix="/api/v1", tags=["tokens"])

CanManage = Annotated[Principal, Depends(requires(Permission.MANAGE_TOKENS))]
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Token id.")]


class TokenOut(WireModel):
    """A stored token; never its secret."""

    id: int
    name: str
    role: str = Field(description="Role name (an unknown one cannot log in).")
    wall_id: str | None = Field(description="The wall a display token is bound to.")
    created_at: WireTime
    last_used_at: WireTime | None = Field(
        description="Last successful use; written in batches, so up to"
        " `auth.last_used_flush_s` behind."
    )
    expires_at: WireTime | None = Field(description="End of validity; null: never.")
    revoked_at: WireTime | None = Field(description="Revocation time; null: active.")

    @classmethod
    def of(cls, record: TokenRecord) -> TokenOut:
        """The wire form of a stored token."""
        return cls(
            id=record.id,
            name=record.name,
            role=record.role,
            wall_id=record.wall_id,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
        )


class TokenList(WireModel):
    """Every token, revoked ones included, by id."""

    tokens: list[TokenOut]


class TokenCreate(WireModel):
    """A token to issue."""

    name: str = Field(min_length=1, max_length=200, description="Human label.")
    role: Role
    wall_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Bind a display token to this wall (it may then only view).",
    )
    expires_in: str | None = Field(
        None,
        max_length=20,
        description="Lifetime: `12h`, `30d`, `8w` or `never` (wall display tokens"
        " only). Default: `auth.token_lifetime_days` for people, never for"
        " displays.",
    )


class TokenIssued(WireModel):
    """A new token; the secret is shown this once and never again."""

    token: TokenOut
    secret: str = Field(description="The bearer secret. Store it now.")


@router.get("/tokens", summary="Every API token (never a secret)")
async def list_tokens(request: Request, _: CanManage) -> TokenList:
    """Id, name, role, wall, created, last used, expiry and revocation."""
    records = await runtime_of(request).tokens.tokens()
    return TokenList(tokens=[TokenOut.of(r) for r in records])


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a token; the secret is returned once",
)
async def create_token(
    request: Request, principal: CanManage, body: TokenCreate
) -> TokenIssued:
    """Issue a token (audited as ``token.create``)."""
    issued = await runtime_of(request).tokens.issue(
        principal.name, body.name, body.role, body.wall_id, body.expires_in
    )
    return TokenIssued(token=TokenOut.of(issued.record), secret=issued.secret)


@router.delete("/tokens/{token_id}", summary="Revoke a token")
async def revoke_token(
    request: Request, principal: CanManage, token_id: TokenId
) -> TokenOut:
    """Revoke a token (audited as ``token.revoke``).

    Its open WebSockets close with code 4401 ("token revoked") and its live
    video sessions end, at once.
    """
    record = await runtime_of(request).tokens.revoke(principal.name, token_id)
    return TokenOut.of(record)
