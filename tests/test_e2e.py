"""End to end: `rangkul run` as a subprocess against the local fake Bot API server over HTTP."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.botprocess import BotProcess
from tests.conftest import ADMIN_ID, ROOT
from tests.faketg import FakeBotApiServer, FakeTelegram

pytestmark = pytest.mark.e2e


@pytest.fixture
async def server() -> AsyncIterator[FakeBotApiServer]:
    async with FakeBotApiServer(FakeTelegram()) as server:
        yield server


def _bot(server: FakeBotApiServer, tmp_path: Path, database_url: str, *args: str, **env: str) -> BotProcess:
    return BotProcess(server, tmp_path, database_url, *args, RANGKUL_ROLES__BOOTSTRAP_ADMINS=f"[{ADMIN_ID}]", **env)


async def test_bot_answers_start_and_sets_menus_then_stops_cleanly(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    fake = server.fake
    fake.user(ADMIN_ID, "Admin")
    async with _bot(server, tmp_path, database_url, RANGKUL_LOGGING__LEVEL="DEBUG") as bot:
        await bot.wait_polling()
        fake.user(1, "Siti")
        fake.send_text(1, "/start")
        [welcome] = await fake.wait_for_message(1, timeout=10)
        assert welcome.shown.startswith("Selamat datang di Rangkul, Siti!")
        fake.send_text(1, "/bantuan")
        await fake.wait_for_message(1, count=2, timeout=10)
        assert "Perintah yang dapat Anda gunakan" in fake.sent_texts(1)[1]
        assert await bot.stop() == 0
    figure_menu = [c["command"] for c in fake.commands[("default", "")]]
    assert figure_menu == [
        "start",
        "daftar",
        "profil",
        "berhenti",
        "lanjut",
        "dataku",
        "hapusdata",
        "komitmen",
        "bahasa",
        "bantuan",
        "batal",
    ]
    # One menu, in Indonesian, whatever language the Telegram app runs in (/bahasa gives a chat its own).
    assert ("default", "en") not in fake.commands
    admin_menu = [c["command"] for c in fake.commands[(f"chat:{ADMIN_ID}", "")]]
    assert admin_menu[-3:] == ["undangan", "peran", "audit"]
    log = bot.log()
    assert "Traceback" not in log
    assert fake.token.split(":")[1] not in log  # the secret part of the token never reaches the log
    assert "Rangkul stopped" in log


ORGANIZERS = 120


async def _seed_organizers(database_url: str) -> None:
    from bot import db
    from models import Person, RoleGrant

    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    async with db.session_factory(engine)() as session:
        people = [Person(telegram_id=500_000 + index, first_name="Petugas") for index in range(ORGANIZERS)]
        session.add_all(people)
        await session.flush()
        session.add_all(RoleGrant(person_id=p.id or 0, role="organizer", region_code="63.71") for p in people)
        await session.commit()
    await engine.dispose()


async def test_many_role_holders_menus_are_set_beside_the_bot_not_before_it_answers(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    """With 120 role holders and 150 ms per setMyCommands, setting every chat's menu takes about 18 s: before,
    the bot answered nobody and sent nothing until they were all set. Now a /start is answered at once, every
    menu is still set, and a stop in the middle ends promptly."""
    fake = server.fake
    await _seed_organizers(database_url)
    fake.configure(latency_for={"setMyCommands": 0.15})
    async with _bot(server, tmp_path, database_url) as bot:
        await bot.wait_polling()
        fake.user(1, "Siti")
        fake.send_text(1, "/start")
        await fake.wait_for_message(1, timeout=5)
        chat_menus = [call for call in fake.calls("setMyCommands") if "scope" in call and "chat" in str(call["scope"])]
        assert len(chat_menus) < ORGANIZERS, "answered while the role holders' menus were still being set"
        for _ in range(100):
            if ("chat:500119", "") in fake.commands:
                break
            await asyncio.sleep(0.5)
        assert all((f"chat:{500_000 + index}", "") in fake.commands for index in range(ORGANIZERS))
        assert await bot.stop() == 0
    assert "Traceback" not in bot.log()


async def test_a_stop_while_menus_are_being_set_ends_promptly(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    fake = server.fake
    await _seed_organizers(database_url)
    fake.configure(latency_for={"setMyCommands": 0.15})
    async with _bot(server, tmp_path, database_url) as bot:
        await bot.wait_polling()
        started = time.monotonic()
        assert await bot.stop() == 0
        assert time.monotonic() - started < 10
    assert "Traceback" not in bot.log()


async def test_sigterm_with_a_request_in_flight_loses_no_update(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    fake = server.fake
    fake.user(2, "Andi")
    bot = _bot(server, tmp_path, database_url)
    async with bot:
        await bot.wait_polling()
        fake.configure(latency_for={"sendMessage": 1.5})
        fake.send_text(2, "/start")
        await fake.wait_for(lambda: any(r.method == "sendMessage" and r.status is None for r in fake.requests))
        bot.signal(signal.SIGTERM)
        assert await bot.wait() == 0
    assert len(fake.sent_texts(2)) == 1  # the reply in flight was completed before exit
    fake.configure(latency_for={})
    fake.send_text(2, "/bantuan")  # written while the bot is down
    async with bot:
        await fake.wait_for_message(2, count=2, timeout=15)
        assert await bot.stop() == 0
    assert fake.sent_texts(2)[0].startswith("Selamat datang")
    assert "Perintah yang dapat Anda gunakan" in fake.sent_texts(2)[1]
    assert len(fake.sent_texts(2)) == 2  # nothing answered twice
    assert fake.pending_updates() == []
    assert "Traceback" not in bot.log()


async def _run_to_exit(bot: BotProcess) -> tuple[int, str]:
    async with bot:
        code = await bot.wait(timeout=30)
    return code, bot.log()


# A record of the bot's own logging at INFO or WARNING ("2026-01-01 10:00:00,000 WARNING bot.app: ...").
_ROUTINE_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) ")


def _besides_routine_records(log: str) -> list[str]:
    """The lines of LOG that are not INFO or WARNING records: an ERROR record (asyncio's "Unclosed connector")
    and the lines it is continued on are kept."""
    return [line for line in log.splitlines() if not _ROUTINE_RECORD.match(line)]


async def test_wrong_token_missing_token_and_unreachable_api_exit_with_one_line(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    wrong = _bot(server, tmp_path, database_url, RANGKUL_BOT_TOKEN="123456:WRONG-token-abcdefghijklmnopqrstuvwxyz")
    code, log = await _run_to_exit(wrong)
    assert code == 1
    rejected = "rangkul: the Bot API rejected RANGKUL_BOT_TOKEN: check the token from @BotFather"
    # Nothing after the line: no aiohttp session left open ("ERROR asyncio: Unclosed connector", ...).
    assert _besides_routine_records(log) == [rejected], log
    assert "WRONG-token" not in log
    # With the routine records turned off, standard error holds exactly the one line.
    wrong = _bot(
        server,
        tmp_path,
        database_url,
        RANGKUL_BOT_TOKEN="123456:WRONG-token-abcdefghijklmnopqrstuvwxyz",
        RANGKUL_LOGGING__LEVEL="ERROR",
    )
    wrong.log_path.unlink()
    code, log = await _run_to_exit(wrong)
    assert (code, log) == (1, rejected + "\n")

    missing = _bot(server, tmp_path, database_url, RANGKUL_BOT_TOKEN="")
    missing.log_path.unlink()
    code, log = await _run_to_exit(missing)
    assert (code, log) == (
        1,
        "rangkul: RANGKUL_BOT_TOKEN is not set: create a bot with @BotFather and export its token\n",
    )

    unreachable = _bot(
        server,
        tmp_path,
        database_url,
        RANGKUL_TELEGRAM__BASE_URL="http://127.0.0.1:9/bot",
        RANGKUL_TELEGRAM__STARTUP_ATTEMPTS="2",
    )
    unreachable.log_path.unlink()
    code, log = await _run_to_exit(unreachable)
    assert code == 1
    assert log.count("not reachable (attempt") == 1
    [line] = _besides_routine_records(log)
    assert line.startswith("rangkul: cannot reach the Bot API at http://127.0.0.1:9/bot<token> after 2 attempts"), log
    assert "\n" not in line and "Traceback" not in log
    unreachable = _bot(
        server,
        tmp_path,
        database_url,
        RANGKUL_TELEGRAM__BASE_URL="http://127.0.0.1:9/bot",
        RANGKUL_TELEGRAM__STARTUP_ATTEMPTS="1",
        RANGKUL_LOGGING__LEVEL="ERROR",
    )
    unreachable.log_path.unlink()
    code, log = await _run_to_exit(unreachable)
    assert (code, log) == (1, line.replace("after 2 attempts", "after 1 attempts") + "\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_receives_updates_with_the_secret_only(
    server: FakeBotApiServer, tmp_path: Path, database_url: str
) -> None:
    fake = server.fake
    port = _free_port()
    bot = _bot(
        server,
        tmp_path,
        database_url,
        "--webhook",
        RANGKUL_WEBHOOK__URL=f"http://127.0.0.1:{port}/telegram",
        RANGKUL_WEBHOOK__LISTEN="127.0.0.1",
        RANGKUL_WEBHOOK__PORT=str(port),
        RANGKUL_WEBHOOK__SECRET_TOKEN="rahasia-webhook_123",
    )
    async with bot:
        await fake.wait_for(lambda: fake.webhook is not None and bool(fake.webhook.url), timeout=20)
        assert fake.calls("setWebhook")[-1]["secret_token"] == "rahasia-webhook_123"
        fake.user(3, "Wati")
        fake.send_text(3, "/start")
        [welcome] = await fake.wait_for_message(3, timeout=10)
        assert welcome.shown.startswith("Selamat datang di Rangkul, Wati!")
        forged = {
            "update_id": 999,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 3, "type": "private"},
                "from": {"id": 3, "is_bot": False, "first_name": "X"},
                "text": "/start",
            },
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/telegram", json=forged) as response,
        ):
            assert response.status == 403
        assert await bot.stop() == 0
    assert len(fake.sent_texts(3)) == 1
    assert "rahasia-webhook_123" not in bot.log()


def test_python_m_bot_and_console_script_show_help() -> None:
    for command in (
        [sys.executable, "-m", "bot", "--help"],
        [str(Path(sys.executable).parent / "rangkul"), "run", "--help"],
    ):
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        assert result.returncode == 0, result.stderr
        assert "--config" in result.stdout
