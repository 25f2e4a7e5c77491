"""All service configuration, read from the environment with embedded defaults.

Nothing has to be configured: without any variable the service keeps a SQLite file in ``./data`` and holds
sessions and rate limits in memory. ``DATABASE_URL`` (postgresql://...) selects PostgreSQL and ``REDIS_URL``
(redis://...) moves shared state to Redis so several processes can serve one database.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from survey_platform.net import PROXY_HEADERS, IPNetwork, ProxyConfigError, parse_networks

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_QUESTIONNAIRES_DIR = PACKAGE_ROOT.parent / "questionnaires"


class SettingsError(ValueError):
    """A configuration variable has a value that cannot be used; the message names the variable."""


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Immutable service configuration (one instance per application)."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    redis_namespace: str = "survey"
    questionnaires_dir: Path = DEFAULT_QUESTIONNAIRES_DIR
    host: str = "127.0.0.1"
    port: int = 8000
    # Request limits
    max_body_bytes: int = 1_000_000
    max_batch_body_bytes: int = 32_000_000
    max_batch_items: int = 5_000
    max_photo_bytes: int = 10_000_000
    # Photos sent together with one audit (multipart submission); its body limit is this × max_photo_bytes
    max_audit_photos: int = 10
    # Public submissions per client address and minute (0 disables rate limiting)
    rate_limit_per_minute: int = 600
    # New anonymous responses per (salted client address hash, campaign) in any hour (0: no limit)
    anon_responses_per_hour: int = 20
    # Failed sign-ins allowed per account and per client address within the window, then 429 (0: no limit)
    login_failures: int = 10
    login_window_seconds: int = 15 * 60
    # Reverse proxies whose Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are believed (IPs or networks,
    # comma-separated); requests from any other peer are taken at their own address
    trusted_proxies: str = ""
    # The one header the trusted proxies write: "x-forwarded-for" (with X-Forwarded-Proto) or "forwarded" (RFC 7239)
    proxy_header: str = "x-forwarded-for"
    # Group-commit writer: flush after this many rows or this many milliseconds
    write_batch_rows: int = 2_000
    write_batch_ms: float = 4.0
    # SQLite durability: "normal" (WAL: survives process crashes, may lose the last commits on power loss) or "full"
    sqlite_synchronous: str = "normal"
    # PostgreSQL pool
    db_pool_min: int = 2
    db_pool_max: int = 10
    # Accounts
    session_ttl_seconds: int = 12 * 3600
    password_iterations: int = 600_000
    # Session cookies are Secure ("auto": except over plain HTTP when serving on a loopback address; "true"; "false")
    cookie_secure: str = "auto"
    # Salt for hashing client addresses in rate-limit keys (random per process when unset)
    address_salt: str = ""
    # The public address of the survey pages (e.g. https://survey.example.org), encoded in QR codes and posters;
    # empty: the address of the request (admin pages) — the `qr` command then needs --base-url
    public_url: str = ""
    # `serve`: freeze the objects alive after start-up and collect garbage less often (see survey_platform/gc_tuning.py)
    gc_tuning: bool = True

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database file used when no ``DATABASE_URL`` is set."""
        return self.data_dir / "survey.sqlite"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def max_audit_upload_bytes(self) -> int:
        """Body limit of a multipart audit: every photo at its maximum size plus room for the audit JSON."""
        return self.max_audit_photos * self.max_photo_bytes + self.max_body_bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "DATA_DIR" in env:
            values["data_dir"] = Path(env["DATA_DIR"])
        if env.get("DATABASE_URL"):
            values["database_url"] = _database_url(env["DATABASE_URL"])
        if env.get("REDIS_URL"):
            values["redis_url"] = _redis_url(env["REDIS_URL"])
        if "QUESTIONNAIRES_DIR" in env:
            values["questionnaires_dir"] = Path(env["QUESTIONNAIRES_DIR"])
        for name, field in _ENV_FIELDS.items():
            if name in env:
                values[field] = _convert(name, env[name], type(getattr(_DEFAULTS, field)))
        values.update(overrides)
        if str(values.get("sqlite_synchronous", "normal")).lower() not in {"normal", "full"}:
            raise SettingsError(
                f"SURVEY_SQLITE_SYNCHRONOUS={values['sqlite_synchronous']!r}: expected normal or full"
            )
        secure = str(values.get("cookie_secure", "auto")).strip().lower()
        secure = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false", "off": "false"}.get(
            secure, secure
        )
        if secure not in {"auto", "true", "false"}:
            raise SettingsError(
                f"SURVEY_COOKIE_SECURE={values['cookie_secure']!r}: expected auto, true or false"
            )
        values["cookie_secure"] = secure
        values["public_url"] = public_url(str(values.get("public_url", "")))
        header = str(values.get("proxy_header", "x-forwarded-for")).strip().lower()
        if header not in PROXY_HEADERS:
            raise SettingsError(f"SURVEY_PROXY_HEADER={header!r}: expected {' or '.join(PROXY_HEADERS)}")
        values["proxy_header"] = header
        try:
            parse_networks(str(values.get("trusted_proxies", "")))
        except ProxyConfigError as error:
            raise SettingsError(f"SURVEY_TRUSTED_PROXIES: {error}") from None
        return cls(**values)  # type: ignore[arg-type]

    @property
    def trusted_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    def secure_cookies(self, scheme: str) -> bool:
        """Whether cookies set on a request over ``scheme`` get the Secure flag (``SURVEY_COOKIE_SECURE``)."""
        if self.cookie_secure == "auto":
            return scheme == "https" or not self.serves_loopback
        return self.cookie_secure == "true"

    @property
    def serves_loopback(self) -> bool:
        """Whether ``serve`` listens on a loopback address only (127.0.0.0/8, ::1, localhost)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


_DEFAULTS = Settings()
_ENV_FIELDS: dict[str, str] = {
    "SURVEY_REDIS_NAMESPACE": "redis_namespace",
    "HOST": "host",
    "PORT": "port",
    "SURVEY_MAX_BODY_BYTES": "max_body_bytes",
    "SURVEY_MAX_BATCH_BODY_BYTES": "max_batch_body_bytes",
    "SURVEY_MAX_BATCH_ITEMS": "max_batch_items",
    "SURVEY_MAX_PHOTO_BYTES": "max_photo_bytes",
    "SURVEY_MAX_AUDIT_PHOTOS": "max_audit_photos",
    "SURVEY_RATE_LIMIT_PER_MINUTE": "rate_limit_per_minute",
    "SURVEY_ANON_RESPONSES_PER_HOUR": "anon_responses_per_hour",
    "SURVEY_LOGIN_FAILURES": "login_failures",
    "SURVEY_LOGIN_WINDOW_SECONDS": "login_window_seconds",
    "SURVEY_TRUSTED_PROXIES": "trusted_proxies",
    "SURVEY_PROXY_HEADER": "proxy_header",
    "SURVEY_WRITE_BATCH_ROWS": "write_batch_rows",
    "SURVEY_WRITE_BATCH_MS": "write_batch_ms",
    "SURVEY_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "SURVEY_DB_POOL_MIN": "db_pool_min",
    "SURVEY_DB_POOL_MAX": "db_pool_max",
    "SURVEY_SESSION_TTL_SECONDS": "session_ttl_seconds",
    "SURVEY_PASSWORD_ITERATIONS": "password_iterations",
    "SURVEY_COOKIE_SECURE": "cookie_secure",
    "SURVEY_ADDRESS_SALT": "address_salt",
    "SURVEY_GC_TUNING": "gc_tuning",
    "SURVEY_PUBLIC_URL": "public_url",
}


def _convert(name: str, raw: str, kind: type) -> object:
    text = raw.strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            value: object = int(text)
        elif kind is float:
            value = float(text)
        else:
            return raw
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a {kind.__name__}") from None
    if isinstance(value, int | float) and value < 0:
        raise SettingsError(f"{name}={raw!r}: must not be negative")
    return value


def _database_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError(
            f"DATABASE_URL={url!r}: only postgresql://... is supported (SQLite is the default)"
        )
    return url


def public_url(url: str, name: str = "SURVEY_PUBLIC_URL") -> str:
    """``url`` without its trailing slash if it is an absolute http(s) address with no query or fragment ("" stays
    ""); SettingsError naming ``name`` otherwise."""
    text = url.strip()
    if not text:
        return ""
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"{name}={url!r}: expected an absolute http(s) address such as https://survey.example.org "
            "(no query, no fragment)"
        )
    return text.rstrip("/")


def _redis_url(url: str) -> str:
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL={url!r}: expected redis://host:port/db")
    return url
