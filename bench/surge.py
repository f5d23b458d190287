"""A crowd at a socialization event: 1 person registers alone, then 40 at once, against `rangkul run`.

    PYTHONPATH=. .venv/bin/python bench/surge.py                          # 150 ms per Bot API request
    PYTHONPATH=. .venv/bin/python bench/surge.py --concurrent-updates 1   # one update at a time, for comparison

Starts the fake Bot API in a separate process with LATENCY added to every request (Telegram seen from
Indonesia), then `rangkul run` as a real subprocess in a scratch folder with --config pointing at a copy of the
repository's settings.toml (SQLite). Each person goes through the whole of /daftar by hand, waiting for the
bot's answer before the next step, as a phone would. Prints the lone registration's time, the 40 people's times
(median and slowest), and the slowest divided by the lone one (target: at most 3). It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import load_settings
from tests.faketg.client import ControlClient
from tests.faketg.core import DEFAULT_TOKEN
from tests.faketg.process import spawn

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Ahmad", "Siti", "Budi", "Dewi", "Rahmat", "Nurul", "Hasan", "Aisyah", "Yusuf", "Fitri"]
LAST = ["Saputra", "Lestari", "Hidayat", "Rahmawati", "Gunawan", "Pratama", "Wulandari"]
VILLAGES = ["Kertak Baru Ilir", "Kertak Baru Ulu", "Mawar", "Teluk Dalam", "Antasan Besar", "Pasar Lama"]


class Applicant:
    """One person on their phone: act, then wait for the bot's answer (the control interface answers when it
    has arrived, so waiting costs the fake server one request rather than a polling loop)."""

    def __init__(self, client: ControlClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self.first = FIRST[user_id % len(FIRST)]

    async def _wait(self, count: int) -> list[dict[str, Any]]:
        messages = await self.client.messages(self.user_id, at_least=count, timeout=300)
        if len(messages) < count:
            raise TimeoutError(f"user {self.user_id}: no answer after {len(messages)} messages")
        return messages

    async def say(self, text: str, replies: int = 1) -> None:
        before = len(await self.client.messages(self.user_id))
        await self.client.send_text(self.user_id, text)
        await self._wait(before + replies)

    async def tap(self, label: str, replies: int = 1) -> None:
        messages = await self.client.messages(self.user_id)
        message = next(m for m in reversed(messages) if m["reply_markup"])
        await self.client.press(self.user_id, message["message_id"], label)
        await self._wait(len(messages) + replies)

    async def register(self) -> float:
        """Seconds from /daftar to the welcome message."""
        await self.client.user(self.user_id, self.first)
        started = time.monotonic()
        await self.say("/daftar")
        await self.tap("Setuju")
        await self.say(f"{self.first} {LAST[self.user_id % len(LAST)]}")
        await self.tap("Tokoh pemuda")
        await self.tap("26–40 tahun")
        await self.say("kalimantan selatan")
        await self.say("banjarmasin")
        await self.say("banjarmasin tengah")
        await self.tap(VILLAGES[self.user_id % len(VILLAGES)])
        await self.say(f"0812{self.user_id:08d}", replies=2)
        await self.say("Karang Taruna")
        await self.tap("✅ Simpan", replies=2)
        return time.monotonic() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(
    base: str, bot: subprocess.Popen[bytes], crowd_size: int
) -> tuple[float, dict[str, int], list[float]]:
    """The lone registration's time and Bot API requests, then the crowd's times."""
    async with ControlClient(base) as client:
        while not (await client.stats()).get("by_method", {}).get("getUpdates"):
            if bot.poll() is not None:
                raise SystemExit(f"rangkul run exited with {bot.returncode}")
            await asyncio.sleep(0.1)
        before = (await client.stats())["by_method"]
        lone = await Applicant(client, 9000).register()
        after = (await client.stats())["by_method"]
        requests = {m: n - before.get(m, 0) for m, n in after.items() if m != "getUpdates" and n > before.get(m, 0)}
        crowd = await asyncio.gather(*(Applicant(client, 9100 + i).register() for i in range(crowd_size)))
    return lone, requests, list(crowd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crowd", type=int, default=40, help="people registering at the same moment")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds added to every Bot API request")
    parser.add_argument("--concurrent-updates", type=int, default=None, help="telegram.concurrent_updates")
    parser.add_argument("--reply-rate", type=float, default=None, help="telegram.reply_rate_per_second")
    args = parser.parse_args()

    server, base = spawn("--port", str(_free_port()), "--latency", str(args.latency))
    scratch = Path(tempfile.mkdtemp(prefix="rangkul-surge-"))
    (scratch / "etc").mkdir()
    (scratch / "run").mkdir()
    shutil.copyfile(ROOT / "settings.toml", scratch / "etc" / "settings.toml")
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        "RANGKUL_BOT_TOKEN": DEFAULT_TOKEN,
        "RANGKUL_TELEGRAM__BASE_URL": f"{base}/bot",
        "RANGKUL_TELEGRAM__BASE_FILE_URL": f"{base}/file/bot",
        "RANGKUL_DATABASE__URL": f"sqlite+aiosqlite:///{scratch / 'rangkul.db'}",
        "RANGKUL_LOGGING__LEVEL": "WARNING",
    }
    if args.reply_rate is not None:
        env["RANGKUL_TELEGRAM__REPLY_RATE_PER_SECOND"] = str(args.reply_rate)
    if args.concurrent_updates is not None:
        env["RANGKUL_TELEGRAM__CONCURRENT_UPDATES"] = str(args.concurrent_updates)
    with (scratch / "bot.log").open("wb") as log:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(scratch / "etc" / "settings.toml")],
            cwd=scratch / "run",
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        lone, requests, crowd = asyncio.run(measure(base, bot, args.crowd))
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        server.terminate()
        server.wait(timeout=10)
    settings = load_settings(scratch / "etc" / "settings.toml", environ=env)
    shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"latency {args.latency * 1000:.0f} ms per request; telegram.concurrent_updates = "
        f"{settings.telegram.concurrent_updates}, telegram.reply_rate_per_second = "
        f"{settings.telegram.reply_rate_per_second:g}"
    )
    print(
        f"one person alone:   {lone:6.2f} s for the whole /daftar "
        f"({sum(requests.values())} Bot API requests: {requests})"
    )
    print(f"{len(crowd)} people at once:  median {statistics.median(crowd):6.2f} s, slowest {max(crowd):6.2f} s")
    print(f"slowest / alone:    {max(crowd) / lone:6.2f}x (target: at most 3x)")


if __name__ == "__main__":
    main()
