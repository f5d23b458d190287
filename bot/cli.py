"""The `rangkul` command: run the bot, manage the database. Every subcommand takes --config PATH."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import db, export_cli, maintenance, scratch
from bot.config import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    SQLITE_PREFIX,
    Settings,
    SettingsError,
    load_settings,
    load_token,
    sqlite_file,
)
from bot.logs import configure_logging

logger = logging.getLogger("rangkul")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"settings file (default: ${CONFIG_ENV} or ./{DEFAULT_CONFIG})",
    )
    parser = argparse.ArgumentParser(prog="rangkul", description="Rangkul election outreach bot", parents=[common])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run the bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="receive updates by webhook (settings [webhook])")

    database = commands.add_parser("db", parents=[common], help="database migrations")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", parents=[common], help="apply pending migrations")
    db_commands.add_parser("current", parents=[common], help="list migrations not yet applied")

    maintenance.add_commands(commands, common)

    templates = commands.add_parser("templates", parents=[common], help="message templates")
    template_commands = templates.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    template_commands.add_parser(
        "check", parents=[common], help="render every template with sample data and report what Telegram would refuse"
    )
    export_cli.add_parser(commands, common)
    return parser


def _fail(message: str) -> int:
    print(f"rangkul: {message}", file=sys.stderr)
    return 1


def _run(settings: Settings, webhook: bool) -> int:
    from bot.app import StartupError, serve
    from bot.catalog import unusable_folder

    token = load_token()
    if webhook and not settings.webhook.url:
        raise SettingsError("webhook.url is empty: set the public HTTPS URL Telegram should post updates to")
    if webhook and not settings.webhook.secret_token.get_secret_value():
        # Without it anyone who reaches the port could post updates in any user's name, an admin's included.
        raise SettingsError(
            "webhook.secret_token is empty: set RANGKUL_WEBHOOK__SECRET_TOKEN (e.g. $(openssl rand -hex 32))"
        )
    unusable = unusable_folder(settings.templates.dir)
    if unusable is not None:
        raise SettingsError(unusable)
    configure_logging(
        settings.logging.level, [token.get_secret_value(), settings.webhook.secret_token.get_secret_value()]
    )
    warn_about_settings(settings)
    scratch.clear_leftovers()
    try:
        asyncio.run(serve(settings, token.get_secret_value(), webhook=webhook))
    except StartupError as exc:
        return _fail(str(exc))
    return 0


def warn_about_settings(settings: Settings) -> None:
    """Settings the bot runs with but should not: one warning line each, at start."""
    if not settings.privacy.controller_contact:
        logger.warning(
            "privacy.controller_contact is not set: the privacy notice gives people no way to reach the data "
            "controller; set it to the e-mail address, phone number or postal address of your office's PPID "
            "(RANGKUL_PRIVACY__CONTROLLER_CONTACT)"
        )
    moved = _database_moved(settings)
    if moved is not None:
        logger.warning(moved)
    if settings.privacy.retention_until is None:
        logger.warning(
            "privacy.retention_until is empty: personal data never expires; UU PDP (Pasal 42-44) asks for a stated "
            "retention period: set the date after which figures' data is deleted (RANGKUL_PRIVACY__RETENTION_UNTIL)"
        )


def _database_moved(settings: Settings) -> str | None:
    """Before this release a database.url left unset meant rangkul.db in the working directory; now it is next to
    the settings file. A bot that would start on a new, empty file while ./rangkul.db exists says so."""
    used = sqlite_file(settings.database.url)
    if used is None or settings.source == "(built-in defaults)":
        return None
    old = Path.cwd() / "rangkul.db"
    if used.exists() or not old.exists() or old.resolve() == used.resolve():
        return None
    return (
        f"the database is {used}, which does not exist yet, but {old} does: a database.url left unset now means "
        f"rangkul.db next to the settings file; to go on with the existing one, set database.url = "
        f'"{SQLITE_PREFIX}{old.resolve()}" (or move the file)'
    )


def _db(settings: Settings, action: str) -> int:
    configure_logging(settings.logging.level)
    if action == "upgrade":
        db.upgrade_url(settings.database.url)
        print("database is up to date")
        return 0

    async def pending() -> list[str]:
        engine = db.create_engine(settings.database.url)
        try:
            return await db.pending_revisions(engine)
        finally:
            await engine.dispose()

    revisions = asyncio.run(pending())
    print("pending migrations: " + (", ".join(revisions) if revisions else "none"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config", None))
        if args.command == "run":
            return _run(settings, args.webhook)
        if args.command == "audit":
            return maintenance.audit_command(settings, args)
        if args.command == "purge":
            configure_logging(settings.logging.level)
            return maintenance.purge_command(settings, args)
        if args.command == "templates":
            from bot.template_check import main_check

            return main_check(settings.templates.dir)
        if args.command == "export":
            return export_cli.run(settings, args)
        return _db(settings, args.db_command)
    except SettingsError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"database or file error: {exc}")
    except KeyboardInterrupt:
        return 130


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
