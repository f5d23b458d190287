"""Run the fake Bot API standalone: `python -m tests.faketg --port 8081`."""

from __future__ import annotations

import argparse
import asyncio
import signal

from .core import DEFAULT_TOKEN, FakeTelegram
from .server import FakeBotApiServer


async def serve(fake: FakeTelegram, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with FakeBotApiServer(fake, host, port) as server:
        print(f"listening on http://{server.host}:{server.port}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m tests.faketg", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--rate-limit", type=int, default=None, help="sends per second across all chats")
    parser.add_argument("--per-chat-rate-limit", type=int, default=None, help="sends per second per chat")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--paid-rate-limit", type=int, default=1000, help="paid broadcasts per second, 0 = off")
    parser.add_argument("--auto-users", action="store_true", help="treat unknown positive chat ids as users")
    args = parser.parse_args(argv)
    fake = FakeTelegram(args.token)
    fake.configure(
        rate_limit=args.rate_limit,
        per_chat_rate_limit=args.per_chat_rate_limit,
        latency=args.latency,
        paid_rate_limit=args.paid_rate_limit or None,
        auto_users=args.auto_users,
    )
    asyncio.run(serve(fake, args.host, args.port))


if __name__ == "__main__":
    main()
