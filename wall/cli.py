"""``citywall``: the command line (demo, serve, check-config, models, token, audit)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from wall.config.loading import ConfigError, load_settings
from wall.config.settings import Settings

if TYPE_CHECKING:
    from wall.platform.token_service import TokenService

log = logging.getLogger("citywall")


def _serve(settings: Settings, banner: list[str] | None = None) -> None:
    from wall.api.server import build_server
    from wall.app import create_app

    server = build_server(
        create_app(settings),
        settings,
        host=settings.api.host,
        port=settings.api.port,
        access_log=False,
    )
    if banner:
        print("\n".join(banner), flush=True)
    server.run()


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole service with embedded defaults."""
    from wall.demo import demo_settings, demo_tokens, ensure_media

    data_dir = Path(args.data_dir)
    media_dir = Path(args.media_dir) if args.media_dir else data_dir / "media"
    settings = demo_settings(data_dir, args.port, args.host, media_dir)
    ensure_media(media_dir)
    tokens = asyncio.run(demo_tokens(settings))
    base = f"http://{args.host}:{args.port}"
    banner = [
        "",
        "citywall demo — 巴中市城市运行指挥中心 (demo)",
        f"  live video:  {base}/live#token={tokens['viewer']}",
        f"  wall:        {base}/wall/main#token={tokens['display-main']}",
        f"  one panel:   {base}/wall/main?panel=0,0#token={tokens['display-main']}",
        f"  duty wall:   {base}/wall/duty#token={tokens['display-duty']}",
        f"  console:     {base}/console#token={tokens['duty_officer']}",
        f"  API docs:    {base}/docs",
        f"  health:      {base}/healthz",
        "  tokens (Authorization: Bearer …):",
        *(f"    {name:<13} {secret}" for name, secret in tokens.items()),
        "",
    ]
    _serve(settings, banner)
    return 0


class _EveryLayout(frozenset[str]):
    """Takes any layout id: the first pass, which only finds the database."""

    def __contains__(self, item: object) -> bool:
        return True


def load_site(path: Path, *, resolve_env: bool = True) -> Settings:
    """Load a config whose walls may name shipped layouts or saved ones.

    Layouts saved through the API live in the config's own database, so the
    file is read twice: once to find that database (layout names unchecked),
    then with the shipped and the saved layout ids. If the first pass fails,
    the second reports every error against the shipped layouts alone.

    Raises:
        ConfigError: every problem of the file, each at its line.
    """
    from wall.config.consistency import builtin_layout_ids
    from wall.walls.store import saved_layout_ids

    saved: frozenset[str] = frozenset()
    with contextlib.suppress(ConfigError):
        first = load_settings(path, resolve_env=resolve_env, layout_ids=_EveryLayout())
        saved = saved_layout_ids(first.storage.sqlite_path)
    known = builtin_layout_ids() | saved
    return load_settings(path, resolve_env=resolve_env, layout_ids=known)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the service from a config file."""
    settings = load_site(Path(args.config))
    _serve(settings)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file; print every error with key path and line."""
    from vision.errors import ManifestInvalid
    from vision.manifest import load_manifests

    try:
        settings = load_site(Path(args.config), resolve_env=not args.no_env)
    except ConfigError as err:
        print(f"{err.source}: {len(err.issues)} error(s)", file=sys.stderr)
        for issue in err.issues:  # sorted by line
            print(f"  {issue}", file=sys.stderr)
        return 1
    manifests_dir = settings.models.manifests_dir
    try:
        manifests = load_manifests(manifests_dir) if manifests_dir.is_dir() else []
    except ManifestInvalid as err:
        print(str(err), file=sys.stderr)
        return 1
    unresolved = ", ${NAME} references not resolved" if args.no_env else ""
    print(
        f"{args.config}: OK ({len(settings.cameras)} camera(s), "
        f"{len(manifests)} model manifest(s){unresolved})"
    )
    return 0


def cmd_models_fetch(args: argparse.Namespace) -> int:
    """Download and verify model weights."""
    from vision.errors import FetchFailed, ManifestInvalid, WeightsHashMismatch
    from vision.onnx.fetch import fetch_all

    settings = load_settings(Path(args.config)) if args.config else Settings()
    try:
        results = fetch_all(
            settings.models.manifests_dir, settings.models.cache_dir, dynamic_batch=True
        )
    except (FetchFailed, WeightsHashMismatch, ManifestInvalid) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for r in results:
        print(f"{r.name}: {r.action} {r.path} sha256={r.sha256}")
    return 0


@asynccontextmanager
async def _token_service(config: str | None) -> AsyncIterator[TokenService]:
    # the CLI writes the database directly; a running service notices
    # revocations within auth.revocation_check_s
    from wall.platform.store.sqlite import SqliteStore
    from wall.platform.token_service import TokenService

    settings = load_settings(Path(config)) if config else Settings()
    walls = [w.id for w in settings.walls] if config else None
    settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
    async with SqliteStore(settings.storage.sqlite_path) as store:
        yield TokenService(store.tokens, settings.auth, walls=walls)


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in the environment
        return "cli"


def _run_token_command(args: argparse.Namespace) -> int:
    from wall.platform.errors import ServiceError

    async def run() -> int:
        async with _token_service(args.config) as tokens:
            code: int = await args.token_func(tokens, args)
            return code

    try:
        return asyncio.run(run())
    except ServiceError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1


async def _token_create(tokens: TokenService, args: argparse.Namespace) -> int:
    from wall.platform.auth import Role

    issued = await tokens.issue(
        _cli_actor(), args.name, Role(args.role), args.wall, args.expires_in
    )
    print(issued.secret)
    return 0


async def _token_list(tokens: TokenService, args: argparse.Namespace) -> int:
    from wall.platform.token_service import token_table

    print("\n".join(token_table(await tokens.tokens())))
    return 0


async def _token_revoke(tokens: TokenService, args: argparse.Namespace) -> int:
    record = await tokens.revoke(_cli_actor(), args.id)
    print(f"revoked token {record.id} ({record.name})")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Walk the audit log's hash chain; exit 1 at the first break."""
    from wall.platform.store.migrations import StoreError
    from wall.platform.store.sqlite.audit import verify_database

    settings = load_settings(Path(args.config)) if args.config else Settings()
    try:
        verdict = verify_database(settings.storage.sqlite_path)
    except StoreError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    print(verdict.summary(), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def _add_audit_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    audit = sub.add_parser("audit", help="the append-only audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the audit hash chain")
    verify.add_argument("--config")
    verify.set_defaults(func=cmd_audit_verify)


def _add_token_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    from wall.platform.auth import Role

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="mint a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--wall", help="bind a display token to one wall")
    create.add_argument(
        "--expires-in",
        help="lifetime: 12h, 30d, 8w or never (display tokens only);"
        " default auth.token_lifetime_days, never for display tokens",
    )
    create.add_argument("--config")
    create.set_defaults(func=_run_token_command, token_func=_token_create)
    listing = token_sub.add_parser("list", help="every token (never a secret)")
    listing.add_argument("--config")
    listing.set_defaults(func=_run_token_command, token_func=_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    revoke.add_argument("--config")
    revoke.set_defaults(func=_run_token_command, token_func=_token_revoke)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(prog="citywall", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the demo wall with embedded defaults")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--data-dir", default="data")
    demo.add_argument("--media-dir", help="demo clips (default: DATA_DIR/media)")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the service from a config file")
    serve.add_argument("--config", required=True)
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("config")
    check.add_argument(
        "--no-env",
        action="store_true",
        help="check ${NAME} references without resolving them (no variable needed)",
    )
    check.set_defaults(func=cmd_check_config)

    models = sub.add_parser("models", help="model weights")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download and verify model weights")
    fetch.add_argument("--config")
    fetch.set_defaults(func=cmd_models_fetch)

    _add_token_commands(sub)
    _add_audit_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``citywall`` console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as err:
        print(str(err), file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
