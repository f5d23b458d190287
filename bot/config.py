"""Settings: settings.toml overridden by RANGKUL_SECTION__KEY variables; the token only from the environment."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

TOKEN_ENV = "RANGKUL_BOT_TOKEN"
CONFIG_ENV = "RANGKUL_CONFIG"
ENV_PREFIX = "RANGKUL_"
DEFAULT_CONFIG = "settings.toml"
# Shape of a BotFather token: "<bot id>:<secret>". Checked before any network call so a typo fails fast.
TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class SettingsError(Exception):
    """A settings problem, phrased as one line that names the file, key or variable."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramSettings(_Section):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    startup_attempts: int = Field(default=10, ge=1)
    # Updates of different chats handled at once; one chat's updates always run one after another, in order.
    concurrent_updates: int = Field(default=64, ge=1, le=256)
    # Replies to people (not broadcasts) per second across all chats; 0 = no limit of our own. Telegram's ~30/s
    # is for bulk notifications (which the delivery engine paces); its 429 answers are waited out either way.
    reply_rate_per_second: float = Field(default=0.0, ge=0, le=1000)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///rangkul.db"
    echo: bool = False
    # SQLite only: how long a write waits for another connection's write lock before it fails (and is retried).
    busy_timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class RolesSettings(_Section):
    bootstrap_admins: list[int] = Field(default_factory=list)

    @field_validator("bootstrap_admins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value


class LocaleSettings(_Section):
    default: str = "id"
    timezone: str = "Asia/Makassar"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from bot.i18n import AVAILABLE_LOCALES

        if value not in AVAILABLE_LOCALES:
            raise ValueError(f"must be one of {', '.join(AVAILABLE_LOCALES)}")
        return value


# The law an election runs under, which decides what the templates say about money politics and reporting:
# "pemilu" (UU 7/2017: DPR, DPD, President) or "pilkada" (UU 10/2016: governor, regent, mayor). Since MK
# decision 135/PUU-XXII/2024 national and local elections are held apart, so an office runs one kind at a time.
ElectionKind = Literal["pemilu", "pilkada"]


class ElectionSettings(_Section):
    name: str = "Pemilihan Umum 2029"
    # Voting day; every text that prints it says what it is ("Hari pemungutan suara <name>: <date>").
    date: dt.date = dt.date(2029, 2, 14)
    kind: ElectionKind = "pemilu"


# What makes privacy.controller_contact reach someone: an e-mail address, or a postal address ("Jl."/"Jalan"
# or a five-digit kode pos); a phone number is checked with phonenumbers.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
POSTAL_ADDRESS = re.compile(r"(?<![\w.])(?:jl\.|jln\.|jalan\s)|(?<![\d.+-])\d{5}(?![\d.-])", re.IGNORECASE)


def reaches_someone(contact: str) -> bool:
    """Whether CONTACT holds an e-mail address, a phone number or a postal address (not only a name)."""
    import phonenumbers

    if EMAIL.search(contact) or POSTAL_ADDRESS.search(contact):
        return True
    return any(True for _ in phonenumbers.PhoneNumberMatcher(contact, "ID"))


class PrivacySettings(_Section):
    controller_name: str = "Komisi Pemilihan Umum Provinsi Kalimantan Selatan"
    # Empty: `rangkul run` warns at start, and the notice says the PPID can be reached at the office.
    controller_contact: str = ""
    # The day personal data is kept until (in locale.timezone): once it has passed, `rangkul purge` and the bot's
    # daily job delete every figure's personal data. None (an empty value) = no date: nothing expires.
    retention_until: dt.date | None = dt.date(2029, 12, 31)
    # A conversation (registration, profile edit, broadcast composer) untouched this long is abandoned: deleted
    # with the answers and previews it held.
    conversation_expiry_hours: float = Field(default=24.0, gt=0, le=24 * 366)

    @field_validator("retention_until", mode="before")
    @classmethod
    def _empty_is_no_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("must be a date written YYYY-MM-DD (e.g. 2029-12-31), or empty for no date") from exc
        if isinstance(value, dt.datetime):
            raise ValueError("must be a date written YYYY-MM-DD (e.g. 2029-12-31), without a time of day")
        return value

    @field_validator("controller_contact")
    @classmethod
    def _reaches_someone(cls, value: str) -> str:
        value = value.strip()
        if value and not reaches_someone(value):
            raise ValueError(
                "must hold an e-mail address, a phone number or a postal address (Jl./Jalan …, or a 5-digit "
                "postal code) where people reach the office's PPID, or be left empty"
            )
        return value

    @property
    def conversation_expiry(self) -> dt.timedelta:
        return dt.timedelta(hours=self.conversation_expiry_hours)


class WebhookSettings(_Section):
    url: str = ""
    # Only the reverse proxy in front of the bot should reach it.
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    path: str = "telegram"
    secret_token: SecretStr = SecretStr("")

    @field_validator("secret_token")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


class RegistrationSettings(_Section):
    # Province codes people may choose (e.g. the nine of Wilayah III); empty means all 38.
    provinces: list[str] = Field(default_factory=list)

    @field_validator("provinces")
    @classmethod
    def _known_provinces(cls, value: list[str]) -> list[str]:
        from bot import regions

        for code in value:
            region = regions.get(code)
            if region is None or region.level != 1:
                raise ValueError(f"{code!r} is not a Kemendagri province code")
        return value


class QuietPeriod(_Section):
    """A masa tenang: no broadcast may be confirmed or sent between start and end.

    A nationwide period starts at 00:00 WIT (+09:00) on its first day and ends at 24:00 WIB (00:00+07:00 of
    voting day), so that it covers all three zones; `rangkul run` logs a warning for one that does not (right
    only for a local election held in a single zone).
    """

    name: str
    start: dt.datetime
    end: dt.datetime

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("must include a UTC offset, e.g. 2029-02-11T00:00:00+09:00")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> QuietPeriod:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


# Voting day is 14 February 2029; the masa tenang is the three days before it, across the whole country: from
# 00:00 WIT (the first hour anywhere) on 11 February to 24:00 WIB (the last) on 13 February.
PEMILU_2029_QUIET_PERIOD = QuietPeriod(
    name="Masa tenang Pemilu 2029",
    start=dt.datetime(2029, 2, 11, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    end=dt.datetime(2029, 2, 14, tzinfo=dt.timezone(dt.timedelta(hours=7))),
)


class BroadcastSettings(_Section):
    # Messages per second across all chats; Telegram allows about 30, the rest is left for replies to people.
    rate_per_second: float = Field(default=25.0, gt=0, le=1000)
    # Requests in flight at most: 1,000 messages/s with 300 ms per request need about 300 (plus headroom).
    max_in_flight: int = Field(default=1024, ge=1, le=4096)
    # Telegram's paid broadcasts (allow_paid_broadcast, paid in Stars), up to 1000 messages per second;
    # the default stays a little under that ceiling, as rate_per_second does under 30.
    allow_paid_broadcast: bool = False
    paid_rate_per_second: float = Field(default=950.0, gt=0, le=1000)
    # How often the organizer's status message is refreshed, in seconds (Telegram dislikes faster edits).
    status_interval_seconds: float = Field(default=5.0, ge=1)
    # Attempts per recipient for 429 answers and connections that provably failed before sending.
    max_attempts: int = Field(default=5, ge=1, le=20)
    quiet_periods: list[QuietPeriod] = Field(default_factory=lambda: [PEMILU_2029_QUIET_PERIOD.model_copy()])
    # The hour (0-23, in locale.timezone) at which what a quiet period held back is sent: the first one at or
    # after the period's end, rather than the midnight before voting day.
    quiet_release_hour: int = Field(default=6, ge=0, le=23)


def bundled_templates_dir() -> Path:
    """The message templates that ship with Rangkul: installed as package data (bot/templates) by a wheel, or
    the repository's own templates/ folder when running from a checkout or an editable install."""
    package = Path(__file__).resolve().parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


class RepliesSettings(_Section):
    # Messages a figure may send the officers in one day (in locale.timezone); beyond it they are not stored.
    per_figure_per_day: int = Field(default=20, ge=1, le=1000)


class ExportSettings(_Section):
    # Whether organizers may export the figures of their own scope (phone numbers partly masked); admins always may.
    organizers_allowed: bool = False


class TemplatesSettings(_Section):
    # Unset: the templates that ship with Rangkul, wherever it is installed.
    dir: Path = Field(default_factory=bundled_templates_dir)


class LoggingSettings(_Section):
    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    roles: RolesSettings = RolesSettings()
    locale: LocaleSettings = LocaleSettings()
    election: ElectionSettings = ElectionSettings()
    privacy: PrivacySettings = PrivacySettings()
    webhook: WebhookSettings = WebhookSettings()
    registration: RegistrationSettings = RegistrationSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    replies: RepliesSettings = RepliesSettings()
    export: ExportSettings = ExportSettings()
    templates: TemplatesSettings = TemplatesSettings()
    logging: LoggingSettings = LoggingSettings()
    # Where the settings came from, for error messages and relative paths.
    source: str = Field(default="(built-in defaults)", exclude=True)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.locale.timezone)


def _env_value(raw: str) -> Any:
    """Read an environment value as a TOML value when it is one ("[1, 2]", "2029-02-14", "true"), else as text."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = ""
        if match:
            lineno = int(match.group(1))
            lines = text.splitlines()
            if 0 < lineno <= len(lines):
                where = f" in `{lines[lineno - 1].strip()}`"
        raise SettingsError(f"{path} is not valid TOML: {exc}{where}") from exc


def _resolve_relative_paths(data: dict[str, Any], base: Path) -> None:
    """Make the file's relative paths (templates.dir, a SQLite database file, the default one included) relative
    to the file's folder, not to whatever working directory a service manager or container starts the bot in."""
    templates = data.get("templates")
    if isinstance(templates, dict) and isinstance(templates.get("dir"), str):
        folder = Path(templates["dir"]).expanduser()
        templates["dir"] = str(folder if folder.is_absolute() else base / folder)
    # The default database too: a bot started from another folder must find the same rangkul.db, not quietly
    # make an empty one wherever it was started.
    database = data.setdefault("database", {})
    if isinstance(database, dict):
        url = database.get("url", DatabaseSettings.model_fields["url"].default)
        if isinstance(url, str):
            database["url"] = absolute_sqlite_url(url, base)


SQLITE_PREFIX = "sqlite+aiosqlite:///"


def sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL names (None for any other URL, an in-memory or a `file:` URI database)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    path = url[len(SQLITE_PREFIX) :].partition("?")[0]
    return None if not path or path == ":memory:" or path.startswith("file:") else Path(path)


def absolute_sqlite_url(url: str, base: Path) -> str:
    """URL with a relative SQLite file made relative to BASE; any other URL unchanged."""
    path = sqlite_file(url)
    if path is None or path.is_absolute():
        return url
    query = url.partition("?")[2]
    return SQLITE_PREFIX + str(base / path) + (f"?{query}" if query else "")


def _apply_environment(data: dict[str, Any], environ: dict[str, str]) -> list[str]:
    """Overlay RANGKUL_SECTION__KEY variables onto the file's data; return the variable names used."""
    used = []
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if not section or not key:
            continue
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise SettingsError(f"{name}: [{section}] is not a section")
        target[key] = _env_value(raw)
        used.append(name)
    return used


def load_settings(path: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Load settings from PATH (or RANGKUL_CONFIG, or ./settings.toml when it exists) plus the environment."""
    environ = dict(os.environ) if environ is None else environ
    explicit = path is not None or CONFIG_ENV in environ
    config_path = Path(path if path is not None else environ.get(CONFIG_ENV, DEFAULT_CONFIG))
    data: dict[str, Any] = {}
    source = "(built-in defaults)"
    if config_path.exists() or explicit:
        data = _read_toml(config_path)
        source = str(config_path)
        _resolve_relative_paths(data, config_path.resolve().parent)
    env_names = _apply_environment(data, environ)
    try:
        settings = Settings.model_validate({**data, "source": source})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        env_name = ENV_PREFIX + "__".join(str(part) for part in error["loc"][:2]).upper()
        origin = f"environment variable {env_name}" if env_name in env_names else source
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        raise SettingsError(f"settings error in {origin}: {key}: {message}") from exc
    return settings


def load_token(environ: dict[str, str] | None = None) -> SecretStr:
    """Read the bot token from RANGKUL_BOT_TOKEN (never from a file, so it stays out of version control)."""
    environ = dict(os.environ) if environ is None else environ
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise SettingsError(f"{TOKEN_ENV} is not set: create a bot with @BotFather and export its token")
    if not TOKEN_PATTERN.match(token):
        raise SettingsError(f"{TOKEN_ENV} does not look like a bot token (expected <digits>:<secret>)")
    return SecretStr(token)
