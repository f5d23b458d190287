"""`rangkul run` as a real subprocess, pointed at the local fake Bot API server, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.faketg import FakeBotApiServer


class BotProcess:
    """One `python -m bot run` child with its own settings file and log; start, signal, wait.

    Run as an office deploys it: the working directory is neither the repository nor the settings file's folder
    (a copy of the repository's settings.toml in WORKDIR/etc), and nothing points at the repository's templates.
    """

    def __init__(self, server: FakeBotApiServer, workdir: Path, database_url: str, *args: str, **env: str) -> None:
        self.server = server
        self.workdir = workdir / "cwd"
        self.workdir.mkdir(exist_ok=True)
        self.config_path = workdir / "etc" / "settings.toml"
        if not self.config_path.exists():
            self.config_path.parent.mkdir(exist_ok=True)
            shutil.copyfile(ROOT / "settings.toml", self.config_path)
        self.args = args
        self.log_path = workdir / "bot.log"
        environ = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "RANGKUL_CONFIG")}
        self.env = {
            **environ,
            "RANGKUL_BOT_TOKEN": server.fake.token,
            "RANGKUL_TELEGRAM__BASE_URL": server.base_url,
            "RANGKUL_TELEGRAM__BASE_FILE_URL": server.base_file_url,
            "RANGKUL_DATABASE__URL": database_url,
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(self.config_path),
            *self.args,
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=log,
            stdin=asyncio.subprocess.DEVNULL,
        )
        log.close()

    async def wait_polling(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has asked for updates (it is then fully started)."""
        calls_before = len(self.server.fake.calls("getUpdates"))

        def polling() -> bool:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"bot exited early with {self.process.returncode}:\n{self.log()}")
            return len(self.server.fake.calls("getUpdates")) > calls_before

        await self.server.fake.wait_for(polling, timeout)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self) -> int:
        self.signal(signal.SIGTERM)
        return await self.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def __aenter__(self) -> BotProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
