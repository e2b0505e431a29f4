"""``citywall``: the command line (demo, serve, check-config, models, token)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from wall.config.loading import ConfigError, load_settings
from wall.config.settings import Settings

log = logging.getLogger("citywall")


def _serve(settings: Settings, banner: list[str] | None = None) -> None:
    import uvicorn

    from wall.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
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
        f"  wall:        {base}/wall/main#token={tokens['viewer']}",
        f"  one panel:   {base}/wall/main?panel=0,0#token={tokens['viewer']}",
        f"  console:     {base}/console#token={tokens['duty_officer']}",
        f"  API docs:    {base}/docs",
        f"  health:      {base}/healthz",
        "  tokens (Authorization: Bearer …):",
        *(f"    {role:<13} {secret}" for role, secret in tokens.items()),
        "",
    ]
    _serve(settings, banner)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the service from a config file."""
    settings = load_settings(Path(args.config))
    _serve(settings)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file; print every error with key path and line."""
    from vision.errors import ManifestInvalid
    from vision.manifest import load_manifests

    try:
        settings = load_settings(Path(args.config))
    except ConfigError as err:
        print(f"{err.source}: {len(err.issues)} error(s)", file=sys.stderr)
        for issue in sorted(err.issues, key=lambda i: (i.line or 0, i.path)):
            print(f"  {issue}", file=sys.stderr)
        return 1
    manifests_dir = settings.models.manifests_dir
    try:
        manifests = load_manifests(manifests_dir) if manifests_dir.is_dir() else []
    except ManifestInvalid as err:
        print(str(err), file=sys.stderr)
        return 1
    print(
        f"{args.config}: OK ({len(settings.cameras)} camera(s), "
        f"{len(manifests)} model manifest(s))"
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


def cmd_token_create(args: argparse.Namespace) -> int:
    """Mint an API token and print it once."""
    from wall.platform.auth import Role
    from wall.platform.store.sqlite import SqliteStore

    settings = load_settings(Path(args.config)) if args.config else Settings()

    async def create() -> str:
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        async with SqliteStore(settings.storage.sqlite_path) as store:
            issued = await store.create_token(args.name, Role(args.role), args.wall)
            return issued.secret

    print(asyncio.run(create()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    from wall.platform.auth import Role

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
    check.set_defaults(func=cmd_check_config)

    models = sub.add_parser("models", help="model weights")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download and verify model weights")
    fetch.add_argument("--config")
    fetch.set_defaults(func=cmd_models_fetch)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="mint a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--name", required=True)
    create.add_argument("--wall", help="bind a display token to one wall")
    create.add_argument("--config")
    create.set_defaults(func=cmd_token_create)
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
