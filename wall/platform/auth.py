"""Roles, permissions and bearer-token authentication (O1).

One roles model for the whole service: :data:`ROLE_PERMISSIONS` says what a
role may do, :class:`Authenticator` turns a bearer token into a
:class:`Principal`, and :func:`authorize` checks one permission, optionally on
one wall. The HTTP glue is :func:`wall.api.access.requires`.

Failed authentications are logged with the client address and throttled per
address (:class:`~wall.platform.throttle.FailureThrottle`). Error messages
and logs say what is missing or wrong but never echo a token.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from wall.platform.auth_settings import AuthSettings as AuthSettings
from wall.platform.clock import utc_now
from wall.platform.throttle import FailureThrottle
from wall.platform.token_usage import TokenUsage
from wall.platform.tokens import TokenLookup

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 512
"""Longer credentials are rejected before hashing."""

MIN_BOOTSTRAP_SECRET_LENGTH = 16
"""A shorter bootstrap admin secret is refused at start-up."""

BOOTSTRAP_ADMIN_NAME = "bootstrap-admin"
"""Principal name of the env-provided admin token."""


class Role(StrEnum):
    """Who a token belongs to."""

    ADMIN = "admin"
    DUTY_OFFICER = "duty_officer"
    OPERATOR = "operator"
    GRID_WORKER = "grid_worker"
    VIEWER = "viewer"


class Permission(StrEnum):
    """One thing a principal may do."""

    VIEW_CAMERAS = "view_cameras"
    VIEW_LIVE = "view_live"
    SWITCH_LAYOUTS = "switch_layouts"
    PUSH_TILES = "push_tiles"
    EDIT_LAYOUTS = "edit_layouts"
    MANAGE_TOKENS = "manage_tokens"
    VIEW_AUDIT = "view_audit"
    REPORT_CASES = "report_cases"
    ACK_ALARMS = "ack_alarms"


VIEW_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.VIEW_CAMERAS, Permission.VIEW_LIVE}
)
"""All a wall-bound display token can ever do."""

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(Permission),
        Role.DUTY_OFFICER: VIEW_PERMISSIONS
        | {
            Permission.SWITCH_LAYOUTS,
            Permission.PUSH_TILES,
            Permission.ACK_ALARMS,
            Permission.VIEW_AUDIT,
        },
        Role.OPERATOR: VIEW_PERMISSIONS | {Permission.PUSH_TILES},
        Role.GRID_WORKER: frozenset({Permission.REPORT_CASES, Permission.VIEW_CAMERAS}),
        Role.VIEWER: VIEW_PERMISSIONS,
    }
)
"""Permissions of each role; only admins edit layouts and manage tokens."""


class AuthError(Exception):
    """Base of authentication and authorisation failures.

    Attributes:
        message: Safe to show to the client; never contains a token.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(AuthError):
    """No usable credentials (the API answers 401)."""


class MissingCredentials(Unauthorized):
    """Nothing was presented: not a guess, so not counted by the throttle."""


class TooManyFailures(Unauthorized):
    """The client address failed too often; refused unchecked (the API answers 429).

    A subclass of :class:`Unauthorized`, so code that knows only that one
    still refuses the request.

    Attributes:
        retry_after_s: Seconds until the address may try again.
    """

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(
            "too many failed authentications from this address;"
            f" retry in {retry_after_s:.0f} s"
        )
        self.retry_after_s = retry_after_s


class AccessDenied(AuthError):
    """Authenticated, but not allowed (the API answers 403).

    Attributes:
        permission: The permission that was refused.
        wall_id: The wall the action targeted, if any.
    """

    def __init__(
        self, message: str, permission: Permission, wall_id: str | None
    ) -> None:
        super().__init__(message)
        self.permission = permission
        self.wall_id = wall_id


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    Attributes:
        token_id: Stored token id; ``None`` for the bootstrap admin.
        name: Token name, used as the audit-log actor.
        role: Role.
        wall_id: Set for a display token bound to one wall.
    """

    token_id: int | None
    name: str
    role: Role
    wall_id: str | None = None


def permissions_for(principal: Principal) -> frozenset[Permission]:
    """Return what a principal may do.

    A wall-bound display token keeps only the view permissions of its role.

    Args:
        principal: The caller.

    Examples:
        >>> sorted(permissions_for(Principal(1, "wall-1", Role.ADMIN, "wall-1")))
        [<Permission.VIEW_CAMERAS: 'view_cameras'>, <Permission.VIEW_LIVE: 'view_live'>]
    """
    granted = ROLE_PERMISSIONS[principal.role]
    if principal.wall_id is not None:
        return granted & VIEW_PERMISSIONS
    return granted


def authorize(
    principal: Principal, permission: Permission, wall_id: str | None = None
) -> None:
    """Check that ``principal`` may do ``permission`` (on ``wall_id``, if given).

    A wall-bound token may act only on its own wall; an action that names no
    wall (e.g. watching one camera) is allowed if the permission is a view one.

    Args:
        principal: The caller.
        permission: What they want to do.
        wall_id: The wall the action targets, if it targets one.

    Raises:
        Forbidden: If the role lacks the permission or the wall is not theirs.
    """
    if (
        principal.wall_id is not None
        and wall_id is not None
        and wall_id != principal.wall_id
    ):
        raise AccessDenied(
            f"token is bound to wall {principal.wall_id!r}"
            f" and cannot act on wall {wall_id!r}",
            permission,
            wall_id,
        )
    if permission not in permissions_for(principal):
        if principal.wall_id is not None:
            message = f"a wall display token may only view, not {permission}"
        else:
            message = f"role {principal.role} lacks permission {permission}"
        raise AccessDenied(message, permission, wall_id)


def bootstrap_secret_from_env(
    settings: AuthSettings, environ: Mapping[str, str] | None = None
) -> str | None:
    """Read the bootstrap admin secret from the env variable named in settings.

    Args:
        settings: Auth settings (``admin_token_env``).
        environ: Environment to read; defaults to ``os.environ``.

    Returns:
        The secret, or ``None`` if disabled, unset or empty.
    """
    if settings.admin_token_env is None:
        return None
    env = os.environ if environ is None else environ
    return env.get(settings.admin_token_env) or None


def _bearer(authorization_header: str | None, query_token: str | None) -> str:
    if authorization_header is not None:
        scheme, _, credentials = authorization_header.strip().partition(" ")
        if not scheme:
            raise Unauthorized(
                "Authorization header is empty; expected 'Bearer <token>'"
            )
        if scheme.lower() != "bearer":
            raise Unauthorized(
                "unsupported Authorization scheme; expected 'Bearer <token>'"
            )
        token = credentials.strip()
        if not token:
            raise Unauthorized("Authorization header has no token after 'Bearer'")
    elif query_token is not None and query_token.strip():
        token = query_token.strip()
    else:
        raise MissingCredentials(
            "missing credentials: send 'Authorization: Bearer <token>'"
        )
    if len(token) > MAX_TOKEN_LENGTH or any(ch.isspace() for ch in token):
        raise Unauthorized("malformed bearer token")
    return token


class Authenticator:
    """Turns bearer tokens into principals.

    Args:
        store: Where issued tokens are looked up.
        bootstrap_admin_secret: Extra admin secret from the environment (see
            :func:`bootstrap_secret_from_env`); its principal is
            ``"bootstrap-admin"``.
        now: UTC clock: expiry and last-used times.
        usage: Where last-used times are noted for batched writes; ``None``
            keeps none.
        throttle: Counts failures per client address; ``None`` throttles none.

    Raises:
        ValueError: If the bootstrap secret is shorter than 16 characters.
    """

    def __init__(
        self,
        store: TokenLookup,
        bootstrap_admin_secret: str | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
        usage: TokenUsage | None = None,
        throttle: FailureThrottle | None = None,
    ) -> None:
        if bootstrap_admin_secret is not None and (
            len(bootstrap_admin_secret) < MIN_BOOTSTRAP_SECRET_LENGTH
        ):
            raise ValueError(
                "bootstrap admin secret must be at least"
                f" {MIN_BOOTSTRAP_SECRET_LENGTH} characters"
            )
        self._store = store
        self._bootstrap = bootstrap_admin_secret
        self._now = now
        self._usage = usage
        self._throttle = throttle
        if bootstrap_admin_secret is not None:
            logger.warning(
                "auth: bootstrap admin token from the environment is enabled"
            )

    async def authenticate(
        self,
        authorization_header: str | None,
        query_token: str | None = None,
        *,
        client: str | None = None,
    ) -> Principal:
        """Authenticate a request.

        The header wins when both are given; ``query_token`` is for WebSocket
        and player URLs that cannot set headers. A presented credential that
        fails counts against ``client``; an address over the limit is refused
        before its credential is even looked at, so it learns nothing.

        Args:
            authorization_header: Raw ``Authorization`` header value, if any.
            query_token: Token from the ``access_token`` query parameter.
            client: The client's address (``request.client.host``); ``None``
                (unknown) is logged but not throttled.

        Returns:
            The caller.

        Raises:
            TooManyFailures: If ``client`` is throttled.
            Unauthorized: If credentials are missing, malformed, unknown,
                revoked, expired or carry an unknown role.
        """
        if self._throttle is not None and client is not None:
            retry_after_s = self._throttle.retry_after_s(client)
            if retry_after_s is not None:
                raise TooManyFailures(retry_after_s)
        try:
            return await self._principal(authorization_header, query_token)
        except MissingCredentials:
            raise
        except Unauthorized as err:
            self._failed(client, err)
            raise

    def _failed(self, client: str | None, err: Unauthorized) -> None:
        # the message names what is wrong, never the credential itself
        logger.warning(
            "auth: refused credentials from %s: %s", client or "unknown", err.message
        )
        throttle = self._throttle
        if throttle is not None and client is not None and throttle.fail(client):
            logger.warning("auth: %s throttled after repeated failures", client)

    async def _principal(
        self, authorization_header: str | None, query_token: str | None
    ) -> Principal:
        token = _bearer(authorization_header, query_token)
        if self._bootstrap is not None and hmac.compare_digest(
            token.encode("utf-8"), self._bootstrap.encode("utf-8")
        ):
            return Principal(token_id=None, name=BOOTSTRAP_ADMIN_NAME, role=Role.ADMIN)
        record = await self._store.find_token(token)
        if record is None:
            raise Unauthorized("invalid or revoked token")
        now = self._now()
        if record.expired(now):
            raise Unauthorized("token expired")
        try:
            role = Role(record.role)
        except ValueError:
            logger.warning("auth: token %d has unknown role %r", record.id, record.role)
            raise Unauthorized("token has an unknown role") from None
        if self._usage is not None:
            self._usage.used(record.id, now)
        return Principal(
            token_id=record.id, name=record.name, role=role, wall_id=record.wall_id
        )

    authorize = staticmethod(authorize)
