"""Web push subscriptions (the Push API's `PushSubscription`) and kurz's VAPID keys.

A browser subscribes on a page of kurz (a push link's page on the short domain, or a
group's statistics page) and posts the subscription's JSON here. The edge writes it to
the click stream as an entry of its own (no SQL on the edge); the webhook worker stores
it in Postgres and sends to it (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID).
"""

from __future__ import annotations

import base64
import binascii
import enum
import time
from typing import Any, TypeAlias

import asyncpg
import msgspec
import redis.asyncio as aioredis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kurz import keys
from kurz.events import SUBSCRIPTION_FIELD
from kurz.settings import PushSettings

Conn: TypeAlias = "asyncpg.Connection[Any]"
MAX_BODY = 4096  # a subscription's JSON is a few hundred bytes
MAX_ENDPOINT = 2048
SERVICE_WORKER_PATH = "/_kurz/push-sw.js"
SERVICE_WORKER_SCOPE = "/_kurz/"  # narrow: the worker only receives pushes, it never
# sees a visit (a worker scoped to "/" would sit in front of every short link)


class Audience(enum.StrEnum):
    VISITOR = "visitor"  # subscribed on a push link: the link's (and group's) audience
    OWNER = "owner"  # subscribed on a group's statistics page: the group's milestones


class InvalidSubscription(ValueError):
    """What is wrong with a posted subscription, fit to show its sender."""


class Subscription(msgspec.Struct, array_like=True, frozen=True):
    """A subscription on the stream. Field order is the wire format: append at the end."""

    at: float
    audience: str
    workspace_id: int
    link_id: int | None
    group_id: int | None
    endpoint: str
    p256dh: str  # base64url, the browser's P-256 public key (65 bytes)
    auth: str  # base64url, the 16-byte authentication secret
    user_agent: str | None = None


class _Keys(msgspec.Struct):
    p256dh: str
    auth: str


class _Posted(msgspec.Struct):
    """PushSubscription.toJSON(): other members (expirationTime) are ignored."""

    endpoint: str
    keys: _Keys


_decoder = msgspec.json.Decoder(_Posted)
_stream_decoder = msgspec.msgpack.Decoder(Subscription)
_encoder = msgspec.msgpack.Encoder()


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding, as browsers and key tools write it."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def parse_subscription(body: bytes) -> tuple[str, str, str]:
    """(endpoint, p256dh, auth) of a posted subscription, checked; else InvalidSubscription."""
    if len(body) > MAX_BODY:
        raise InvalidSubscription(f"a subscription is at most {MAX_BODY} bytes")
    try:
        posted = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidSubscription(f"not a push subscription: {exc}") from None
    endpoint = posted.endpoint
    scheme, _, rest = endpoint.partition("://")
    if scheme not in ("https", "http") or not rest or len(endpoint) > MAX_ENDPOINT:
        raise InvalidSubscription("endpoint must be an http(s) URL of at most 2048 characters")
    try:
        public = b64url_decode(posted.keys.p256dh)
        secret = b64url_decode(posted.keys.auth)
    except (binascii.Error, ValueError):
        raise InvalidSubscription("keys must be base64url") from None
    if len(public) != 65 or public[0] != 4:
        raise InvalidSubscription("keys.p256dh must be an uncompressed P-256 point")
    if len(secret) != 16:
        raise InvalidSubscription("keys.auth must be 16 bytes")
    return endpoint, b64url(public), b64url(secret)


async def record(redis: aioredis.Redis, subscription: Subscription) -> None:
    """Put a subscription on the click stream, for the webhook worker to store."""
    await redis.xadd(keys.CLICK_STREAM, {SUBSCRIPTION_FIELD: _encoder.encode(subscription)})


def decode(data: bytes) -> Subscription:
    return _stream_decoder.decode(data)


def new_subscription(
    audience: Audience,
    workspace_id: int,
    link_id: int | None,
    group_id: int | None,
    posted: tuple[str, str, str],
    user_agent: str | None,
) -> Subscription:
    endpoint, p256dh, auth = posted
    return Subscription(
        time.time(), audience.value, workspace_id, link_id, group_id, endpoint, p256dh, auth,
        (user_agent or "")[:300] or None,
    )  # fmt: skip


def _private_key(setting: str) -> ec.EllipticCurvePrivateKey:
    if setting.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(setting.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the VAPID private key must be an EC P-256 key")
        return key
    return ec.derive_private_key(int.from_bytes(b64url_decode(setting), "big"), ec.SECP256R1())


def public_key(settings: PushSettings) -> str | None:
    """The application server key browsers subscribe with (base64url, uncompressed
    point); None when push is not configured."""
    if settings.vapid_public_key:
        return settings.vapid_public_key
    if not settings.vapid_private_key:
        return None
    point = (
        _private_key(settings.vapid_private_key)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64url(point)


def private_key_b64url(settings: PushSettings) -> str | None:
    """The private key as py_vapid reads it (base64url of the raw scalar)."""
    if not settings.vapid_private_key:
        return None
    number = _private_key(settings.vapid_private_key).private_numbers().private_value
    return b64url(number.to_bytes(32, "big"))


def new_vapid_keys() -> tuple[str, str]:
    """A fresh (private, public) pair, both base64url, as the settings take them."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private, b64url(public)


def check_keys(settings: PushSettings) -> None:
    """At start-up: a key that cannot be read, or a public key that is not the private
    key's, stops the service with one clear line instead of failing every delivery."""
    try:
        derived = public_key(PushSettings(vapid_private_key=settings.vapid_private_key))
        if settings.vapid_public_key and derived and derived != settings.vapid_public_key:
            raise ValueError(
                "KURZ_VAPID_PUBLIC_KEY is not the public key of KURZ_VAPID_PRIVATE_KEY"
            )
        key = settings.vapid_public_key
        if key and len(b64url_decode(key)) != 65:
            raise ValueError("KURZ_VAPID_PUBLIC_KEY must be an uncompressed P-256 point")
    except (ValueError, binascii.Error) as exc:
        raise SystemExit(f"kurz: invalid VAPID key: {exc}") from exc


async def store(conn: Conn, subscriptions: list[Subscription]) -> int:
    """Store subscriptions (idempotent: the same browser subscribing again refreshes its
    keys). One whose link or group is gone by now is dropped: it would never be sent to."""
    if not subscriptions:
        return 0
    rows = [
        (s.workspace_id, s.link_id, s.group_id, s.audience, s.endpoint, s.p256dh, s.auth,
         s.user_agent)
        for s in subscriptions
    ]  # fmt: skip
    columns = [list(column) for column in zip(*rows, strict=True)]
    status: str = await conn.execute(
        """INSERT INTO push_subscriptions AS p
               (workspace_id, link_id, group_id, audience, endpoint, p256dh, auth, user_agent)
           SELECT t.* FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                  $5::text[], $6::text[], $7::text[], $8::text[])
                  AS t (workspace_id, link_id, group_id, audience, endpoint, p256dh, auth, ua)
           WHERE (t.link_id IS NULL OR EXISTS (SELECT 1 FROM links l
                      WHERE l.id = t.link_id AND l.workspace_id = t.workspace_id))
             AND (t.group_id IS NULL OR EXISTS (SELECT 1 FROM link_groups g
                      WHERE g.id = t.group_id AND g.workspace_id = t.workspace_id))
           ON CONFLICT (endpoint, audience, link_id, group_id) DO UPDATE
               SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
                   user_agent = EXCLUDED.user_agent, updated_at = now()""",
        *columns,
    )
    return int(status.rsplit(" ", 1)[-1])


class Message(msgspec.Struct, frozen=True):
    """A notification to send: `link_id` reaches the link's visitors, `group_id` alone
    the visitors of the group's links, `owners` the group's owners instead."""

    workspace_id: int
    title: str
    body: str
    url: str | None
    link_id: int | None = None
    group_id: int | None = None
    owners: bool = False
    source: str = "api"
    dedupe_key: str | None = None


async def create_message(conn: Conn, message: Message) -> tuple[int, int] | None:
    """Queue `message` for each of its subscriptions, in the caller's transaction:
    (message id, recipients), or None when its dedupe key was used before."""
    audience = Audience.OWNER if message.owners else Audience.VISITOR
    target: int | None
    if message.link_id is not None:
        where, target = "link_id = $2", message.link_id
    else:
        where, target = "group_id = $2", message.group_id
    recipients = f"""SELECT id, endpoint FROM push_subscriptions
                     WHERE workspace_id = $1 AND {where} AND audience = $3"""
    row = await conn.fetchrow(
        f"""INSERT INTO push_messages (workspace_id, link_id, group_id, source, dedupe_key,
                title, body, url, recipients)
            VALUES ($1, $4, $5, $6, $7, $8, $9, $10,
                    (SELECT count(*) FROM ({recipients}) r))
            ON CONFLICT (workspace_id, dedupe_key) DO NOTHING
            RETURNING id, recipients""",
        message.workspace_id, target, audience.value, message.link_id, message.group_id,
        message.source, message.dedupe_key, message.title, message.body, message.url,
    )  # fmt: skip
    if row is None:
        return None
    message_id: int = row["id"]
    await conn.execute(
        f"""INSERT INTO push_deliveries (message_id, subscription_id, endpoint)
            SELECT $4, id, endpoint FROM ({recipients}) r""",
        message.workspace_id, target, audience.value, message_id,
    )  # fmt: skip
    return message_id, int(row["recipients"])


# The service worker both origins serve at SERVICE_WORKER_PATH: it shows what kurz sends
# and opens the message's URL when the notification is clicked. It handles no fetch, so
# it never stands between a browser and a page.
SERVICE_WORKER_JS = """\
self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener('push', function (e) {
  var m = {};
  try { m = e.data ? e.data.json() : {}; } catch (x) { m = {title: e.data.text()}; }
  e.waitUntil(self.registration.showNotification(m.title || '', {
    body: m.body || '', data: {url: m.url || null}, tag: m.id ? String(m.id) : undefined
  }));
});
self.addEventListener('notificationclick', function (e) {
  e.notification.close();
  var url = e.notification.data && e.notification.data.url;
  if (url) e.waitUntil(self.clients.openWindow(url));
});
"""

# The page side, shared by a push link's page and a statistics page's "notify me": the
# element #k carries data-key (the application server key), data-sw, data-scope and
# data-sub (where the subscription is posted); data-to, on a push link's page, is where
# the visitor goes on to whatever happens (granted, denied, dismissed, failed, or after
# 10 s), and #allow / #skip are its buttons. Without data-to (the statistics page),
# #allow is shown only where push works, and #push-status says how it went.
SUBSCRIBE_JS = (
    "(function(){var d=document.getElementById('k').dataset,done=false,"
    "allow=document.getElementById('allow'),skip=document.getElementById('skip'),"
    "st=document.getElementById('push-status');"
    "function say(t){if(st)st.textContent=t}"
    "function go(){if(d.to&&!done){done=true;location.replace(d.to)}}"
    "function key(s){s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';"
    "var r=atob(s),a=new Uint8Array(r.length);"
    "for(var i=0;i<r.length;i++)a[i]=r.charCodeAt(i);return a}"
    "function active(r){var w=r.installing||r.waiting;if(!w)return r;"
    "return new Promise(function(ok){w.addEventListener('statechange',function(){"
    "if(w.state==='activated')ok(r)})})}"
    "function subscribe(){return navigator.serviceWorker.register(d.sw,{scope:d.scope})"
    ".then(active).then(function(r){return r.pushManager.subscribe("
    "{userVisibleOnly:true,applicationServerKey:key(d.key)})})"
    ".then(function(s){return fetch(d.sub,{method:'POST',credentials:'same-origin',"
    "headers:{'content-type':'application/json'},body:JSON.stringify(s)})})"
    ".then(function(r){if(!r.ok)throw new Error('HTTP '+r.status)})}"
    "function ask(){if(d.to)setTimeout(go,10000);"
    "return Promise.resolve(Notification.requestPermission()).then(function(p){"
    "if(p!=='granted')throw new Error('not allowed');return subscribe()})}"
    "var can=!!d.key&&'serviceWorker' in navigator&&'PushManager' in window"
    "&&'Notification' in window&&Notification.permission!=='denied';"
    "if(d.to){if(!can){go();return}"
    "if(Notification.permission==='granted'){subscribe().then(go,go);return}"
    "allow.onclick=function(){ask().then(go,go)};skip.onclick=go;return}"
    "if(!can)return;allow.hidden=false;"
    "allow.onclick=function(){say('');ask().then(function(){allow.hidden=true;"
    "say('Notifications are on for this browser.')},function(){"
    "say('Notifications could not be turned on in this browser.')})}})();"
)

# What a page running SUBSCRIBE_JS needs beyond its own script: posting the
# subscription to its own origin and registering the worker from it.
SUBSCRIBE_CSP = "connect-src 'self'; worker-src 'self'"
