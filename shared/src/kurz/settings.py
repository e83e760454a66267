"""Every environment variable kurz reads, declared once, grouped by concern."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from kurz import keys, redis_topology


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str = "postgresql://postgres@127.0.0.1:5432/kurz"
    replica_url: str | None = None  # read-only replica for the redirector's fallback reads
    pool_min: int = 1
    pool_max: int = 10


class RedisSettings(msgspec.Struct, frozen=True):
    url: str = "redis://127.0.0.1:6379/0"
    # The click stream is trimmed only below what every consumer group acknowledged
    # (kurz.stream_watch); past these, kurz alerts and consumers report not ready.
    stream_high_water_bytes: int = 1_073_741_824
    stream_behind_seconds: float = 300.0  # oldest unacknowledged entry older than this
    # Click streams the redirector spreads its batches over, each read by every consumer
    # group: more than one lets a Redis Cluster put them on several masters.
    stream_shards: int = 1

    def __post_init__(self) -> None:
        redis_topology.check(self.url)  # one line at start, not a traceback at first use
        if not 1 <= self.stream_shards <= 1024:
            raise ValueError(f"KURZ_STREAM_SHARDS must be 1 to 1024, got {self.stream_shards}")

    @property
    def click_streams(self) -> list[str]:
        return keys.click_streams(self.stream_shards)


class EdgeSettings(msgspec.Struct, frozen=True):
    default_domain: str = "127.0.0.1:8080"  # host of the default short domain
    public_scheme: str = "http"
    country_header: str | None = None  # trusted edge header, e.g. CF-IPCountry
    geoip_mmdb: str | None = None
    cache_size: int = 200_000  # links held in the redirector's process
    cache_ttl: float = 60.0  # safety net behind pub/sub invalidation
    # The write-ahead spool of click events while Redis is away (local disk, fsynced
    # before the answer): its directory (a volume of its own) and its bound in bytes.
    spool_dir: str = str(Path(tempfile.gettempdir()) / "kurz-edge-spool")
    spool_bytes: int = 256 * 1024 * 1024
    # Redis replicas that must have each batch of click events before the visitors get
    # their answers (WAIT), and how long to wait for them; 0: do not wait.
    wait_replicas: int = 0
    wait_ms: int = 500
    cookie_secret: str = "dev-only-change-me"
    visitor_secret: str = "dev-only-change-me"
    password_attempts: int = 5  # wrong answers per visitor and link per window
    password_window: int = 300


class ApiSettings(msgspec.Struct, frozen=True):
    rate_limit: int = 20  # requests per second per API key
    max_body_bytes: int = 2_000_000
    bulk_max: int = 1000
    # How a custom domain proves it is the workspace's: "dns" (a TXT record holding the
    # domain's token) or "trust" (every domain verified at once: local dev and tests).
    domain_verification: str = "dns"


class WebhookSettings(msgspec.Struct, frozen=True):
    allow_private_targets: bool = False
    timeout: float = 5.0
    retry_schedule: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200)
    concurrency: int = 200
    per_endpoint_concurrency: int = 8
    disable_after: int = 20  # dead deliveries in a row that disable an endpoint
    claim_idle_ms: int = 30_000  # stream entries pending this long on a consumer: taken over
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "kurz@localhost"


class PushSettings(msgspec.Struct, frozen=True):
    """Web push (VAPID, RFC 8292). The private key signs deliveries (the webhook worker
    alone needs it); the public key is the `applicationServerKey` browsers subscribe
    with, derived from the private key when not given. Without keys, push pages go
    straight on and nothing is sent."""

    vapid_private_key: str | None = None  # base64url of the raw P-256 scalar, or PEM
    vapid_public_key: str | None = None  # base64url of the uncompressed point
    vapid_subject: str = "mailto:kurz@localhost"  # how a push service reaches the sender
    ttl: int = 86_400  # seconds a push service keeps a message for an offline browser


class AggregatorSettings(msgspec.Struct, frozen=True):
    consumer: str | None = None  # consumer name in the group; default host-pid
    batch_size: int = 5000  # stream entries per transaction (at most)
    concurrency: int = 2  # consumers (each its own batches and connection) per process
    block_ms: int = 1000  # how long one XREADGROUP waits for new entries
    claim_idle_ms: int = 30_000  # pending this long on another consumer: taken over
    click_retention_days: int = 400  # raw clicks kept (day partitions); 0 keeps all
    visitor_mark_days: int = 35  # unique-visitor marks kept for late events; 0 keeps all
    maintenance_interval: float = 3600.0  # seconds between partition and mark upkeep
    cache_ttl: float = 30.0  # workspace time zones and group flags, seconds
    isp_lookup: bool = True  # name each click's provider from its network (bundled ASN data)


class ServerSettings(msgspec.Struct, frozen=True):
    host: str = "127.0.0.1"
    port: int | None = None  # each service has its own default
    workers: int = 1
    server: str = "uvicorn"  # or "granian"
    # Peers whose X-Forwarded-For/-Proto count (kurz.proxies); uvicorn's variable and rules.
    forwarded_allow_ips: str = "127.0.0.1"
    # HTTP limits under uvicorn (kurz.http_guard): one client cannot stall the others.
    max_header_bytes: int = 16_384  # request line and headers, else 431
    max_url_bytes: int = 8_192  # request target, else 414
    head_timeout: float = 10.0  # seconds for a request head to arrive whole, else 408
    max_connections: int = 10_000  # per process, below its descriptor limit


class Settings(msgspec.Struct, frozen=True):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    edge: EdgeSettings = EdgeSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    push: PushSettings = PushSettings()
    aggregator: AggregatorSettings = AggregatorSettings()
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"  # console: readable lines, for `kurz run`
    access_log: bool = False  # uvicorn's line per HTTP request
    shutdown_grace: float = 20.0


# Environment variable → (section, field). The single list of what kurz reads.
ENVIRONMENT: dict[str, tuple[str | None, str]] = {
    "KURZ_HOST": ("server", "host"),
    "KURZ_PORT": ("server", "port"),
    "KURZ_WORKERS": ("server", "workers"),
    "KURZ_SERVER": ("server", "server"),
    "FORWARDED_ALLOW_IPS": ("server", "forwarded_allow_ips"),
    "KURZ_HTTP_MAX_HEADER_BYTES": ("server", "max_header_bytes"),
    "KURZ_HTTP_MAX_URL_BYTES": ("server", "max_url_bytes"),
    "KURZ_HTTP_HEAD_TIMEOUT": ("server", "head_timeout"),
    "KURZ_HTTP_MAX_CONNECTIONS": ("server", "max_connections"),
    "DATABASE_URL": ("database", "url"),
    "DATABASE_REPLICA_URL": ("database", "replica_url"),
    "DATABASE_POOL_MIN": ("database", "pool_min"),
    "DATABASE_POOL_MAX": ("database", "pool_max"),
    "REDIS_URL": ("redis", "url"),
    "KURZ_STREAM_HIGH_WATER": ("redis", "stream_high_water_bytes"),
    "KURZ_STREAM_BEHIND_SECONDS": ("redis", "stream_behind_seconds"),
    "KURZ_STREAM_SHARDS": ("redis", "stream_shards"),
    "KURZ_DEFAULT_DOMAIN": ("edge", "default_domain"),
    "KURZ_PUBLIC_SCHEME": ("edge", "public_scheme"),
    "KURZ_COUNTRY_HEADER": ("edge", "country_header"),
    "KURZ_GEOIP_MMDB": ("edge", "geoip_mmdb"),
    "KURZ_EDGE_CACHE_SIZE": ("edge", "cache_size"),
    "KURZ_EDGE_CACHE_TTL": ("edge", "cache_ttl"),
    "KURZ_EDGE_SPOOL_DIR": ("edge", "spool_dir"),
    "KURZ_EDGE_SPOOL_BYTES": ("edge", "spool_bytes"),
    "KURZ_EDGE_WAIT_REPLICAS": ("edge", "wait_replicas"),
    "KURZ_EDGE_WAIT_MS": ("edge", "wait_ms"),
    "KURZ_COOKIE_SECRET": ("edge", "cookie_secret"),
    "KURZ_VISITOR_SECRET": ("edge", "visitor_secret"),
    "KURZ_PASSWORD_ATTEMPTS": ("edge", "password_attempts"),
    "KURZ_PASSWORD_WINDOW": ("edge", "password_window"),
    "KURZ_API_RATE_LIMIT": ("api", "rate_limit"),
    "KURZ_API_MAX_BODY": ("api", "max_body_bytes"),
    "KURZ_BULK_MAX": ("api", "bulk_max"),
    "KURZ_DOMAIN_VERIFICATION": ("api", "domain_verification"),
    "KURZ_WEBHOOK_ALLOW_PRIVATE": ("webhooks", "allow_private_targets"),
    "KURZ_WEBHOOK_TIMEOUT": ("webhooks", "timeout"),
    "KURZ_WEBHOOK_RETRY_SCHEDULE": ("webhooks", "retry_schedule"),
    "KURZ_WEBHOOK_CONCURRENCY": ("webhooks", "concurrency"),
    "KURZ_WEBHOOK_PER_ENDPOINT": ("webhooks", "per_endpoint_concurrency"),
    "KURZ_WEBHOOK_DISABLE_AFTER": ("webhooks", "disable_after"),
    "KURZ_WEBHOOK_CLAIM_IDLE_MS": ("webhooks", "claim_idle_ms"),
    "KURZ_SMTP_HOST": ("webhooks", "smtp_host"),
    "KURZ_SMTP_PORT": ("webhooks", "smtp_port"),
    "KURZ_SMTP_TLS": ("webhooks", "smtp_tls"),
    "KURZ_SMTP_USER": ("webhooks", "smtp_user"),
    "KURZ_SMTP_PASSWORD": ("webhooks", "smtp_password"),
    "KURZ_MAIL_FROM": ("webhooks", "mail_from"),
    "KURZ_VAPID_PRIVATE_KEY": ("push", "vapid_private_key"),
    "KURZ_VAPID_PUBLIC_KEY": ("push", "vapid_public_key"),
    "KURZ_VAPID_SUBJECT": ("push", "vapid_subject"),
    "KURZ_PUSH_TTL": ("push", "ttl"),
    "KURZ_AGGREGATOR_CONSUMER": ("aggregator", "consumer"),
    "KURZ_AGGREGATOR_BATCH": ("aggregator", "batch_size"),
    "KURZ_AGGREGATOR_CONCURRENCY": ("aggregator", "concurrency"),
    "KURZ_AGGREGATOR_BLOCK_MS": ("aggregator", "block_ms"),
    "KURZ_AGGREGATOR_CLAIM_IDLE_MS": ("aggregator", "claim_idle_ms"),
    "KURZ_CLICK_RETENTION_DAYS": ("aggregator", "click_retention_days"),
    "KURZ_VISITOR_MARK_DAYS": ("aggregator", "visitor_mark_days"),
    "KURZ_AGGREGATOR_MAINTENANCE_INTERVAL": ("aggregator", "maintenance_interval"),
    "KURZ_AGGREGATOR_CACHE_TTL": ("aggregator", "cache_ttl"),
    "KURZ_ISP_LOOKUP": ("aggregator", "isp_lookup"),
    "KURZ_LOG_LEVEL": (None, "log_level"),
    "KURZ_LOG_FORMAT": (None, "log_format"),
    "KURZ_ACCESS_LOG": (None, "access_log"),
    "KURZ_SHUTDOWN_GRACE": (None, "shutdown_grace"),
}

_LIST_FIELDS = {"retry_schedule"}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment; a malformed value raises a clear error."""
    env = os.environ if environ is None else environ
    raw: dict[str, dict[str, object]] = {}
    top: dict[str, object] = {}
    for name, (section, field) in ENVIRONMENT.items():
        if name not in env or env[name] == "":
            continue
        value: object = env[name]
        if field in _LIST_FIELDS:
            value = [float(v) for v in env[name].split(",") if v.strip()]
        if section is None:
            top[field] = value
        else:
            raw.setdefault(section, {})[field] = value
    try:
        return msgspec.convert({**top, **raw}, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SystemExit(f"kurz: invalid configuration: {exc}") from exc
