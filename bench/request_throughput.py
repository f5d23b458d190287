"""Throughput of python-telegram-bot request backends against the fake Bot API in another process.

    PYTHONPATH=. .venv/bin/python bench/request_throughput.py --messages 5000 --in-flight 128 --latency 0.05 \\
        --backend aiohttp

Starts `python -m tests.faketg` in a separate process (so client and server get a core each), creates the
users through its control API, then sends `--messages` sendMessage calls through a PTB `Bot` with at most
`--in-flight` requests outstanding, and prints what it measured. No assertions: it only reports.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections import Counter
from pathlib import Path

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bot.request import AiohttpRequest
from tests.faketg.client import ControlClient
from tests.faketg.core import DEFAULT_TOKEN
from tests.faketg.process import spawn

FIRST_USER = 1_000_000


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of another process (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_request(backend: str, in_flight: int) -> BaseRequest:
    # The pool holds every request in flight; generous timeouts so the figures measure throughput, not errors.
    backend_class = HTTPXRequest if backend == "httpx" else AiohttpRequest
    return backend_class(
        connection_pool_size=in_flight, read_timeout=30, write_timeout=30, connect_timeout=30, pool_timeout=30
    )


async def create_users(control_url: str, count: int) -> None:
    async with ControlClient(control_url) as control:
        ids = iter(range(FIRST_USER, FIRST_USER + count))

        async def worker() -> None:
            for user_id in ids:
                await control.user(user_id, f"Pemilih {user_id}")

        await asyncio.gather(*(worker() for _ in range(32)))


async def run(args: argparse.Namespace, base: str) -> None:
    users = min(args.users, args.messages)
    await create_users(base, users)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    async with Bot(DEFAULT_TOKEN, base_url=f"{base}/bot", request=make_request(args.backend, args.in_flight)) as bot:
        numbers = iter(range(args.messages))

        async def worker() -> None:
            for number in numbers:
                started = time.perf_counter()
                try:
                    await bot.send_message(FIRST_USER + number % users, f"Halo, ini pesan nomor {number}.")
                except Exception as err:
                    errors[type(err).__name__] += 1
                else:
                    latencies.append(time.perf_counter() - started)

        server_cpu_before = process_cpu_seconds(args.server_pid)
        wall_before, cpu_before = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(args.in_flight)))
        wall, cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
        server_cpu_after = process_cpu_seconds(args.server_pid)

    sent = len(latencies)
    print(f"backend            {args.backend}")
    print(f"messages           {args.messages} ({sent} ok, {sum(errors.values())} failed {dict(errors)})")
    print(f"in flight          {args.in_flight}")
    print(f"server latency     {args.latency * 1000:.0f} ms")
    print(f"total seconds      {wall:.2f}")
    print(f"messages/s         {sent / wall:.0f}")
    print(f"client CPU/message {cpu / args.messages * 1e6:.0f} µs (client CPU {cpu / wall:.0%} of one core)")
    if server_cpu_before is not None and server_cpu_after is not None:
        server_cpu = server_cpu_after - server_cpu_before
        print(f"server CPU/message {server_cpu / args.messages * 1e6:.0f} µs (server CPU {server_cpu / wall:.0%})")
    if latencies:
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"request time       median {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=128)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the fake server waits per request")
    parser.add_argument("--backend", choices=["aiohttp", "httpx"], default="aiohttp")
    parser.add_argument("--users", type=int, default=5000, help="distinct recipients (at most --messages)")
    parser.add_argument("--port", type=int, default=0, help="port for the fake server (0: any free one)")
    args = parser.parse_args()
    process, base = spawn("--port", str(args.port), "--latency", str(args.latency))
    args.server_pid = process.pid
    try:
        asyncio.run(run(args, base))
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
