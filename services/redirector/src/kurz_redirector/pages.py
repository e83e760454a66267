"""Every HTML page the edge serves: one layout, a few bodies, user data always escaped.

Inline scripts and the style sheet are constants, allowed by their hashes in each page's
Content-Security-Policy; values reach scripts through escaped data attributes, never by
being written into script text.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from kurz import push as web_push
from kurz.branding import EdgeWorkspace

from kurz_redirector import look

_STYLE = look.STYLE

_NAVIGATE_JS = "location.replace(document.getElementById('k').dataset.to);"
_SCHEME_JS = "location.href=document.getElementById('k').dataset.to;"
_PIXELS_JS = (
    "(function(){var d=document.getElementById('k').dataset,w=window;"
    "function load(u){var s=document.createElement('script');s.async=true;s.src=u;"
    "document.head.appendChild(s)}"
    "if(d.meta){var n=w.fbq=function(){n.callMethod?n.callMethod.apply(n,arguments)"
    ":n.queue.push(arguments)};w._fbq=w._fbq||n;n.push=n;n.loaded=true;n.version='2.0';"
    "n.queue=[];load('https://connect.facebook.net/en_US/fbevents.js');"
    "w.fbq('init',d.meta);w.fbq('track','PageView')}"
    "if(d.ga4||d.gtm){w.dataLayer=w.dataLayer||[]}"
    "if(d.ga4){w.gtag=function(){w.dataLayer.push(arguments)};w.gtag('js',new Date());"
    "w.gtag('config',d.ga4);"
    "load('https://www.googletagmanager.com/gtag/js?id='+encodeURIComponent(d.ga4))}"
    "if(d.gtm){w.dataLayer.push({'gtm.start':Date.now(),event:'gtm.js'});"
    "load('https://www.googletagmanager.com/gtm.js?id='+encodeURIComponent(d.gtm))}"
    # TikTok's own loader, condensed: ttq queues calls until events.js takes them over.
    "if(d.tiktok){w.TiktokAnalyticsObject='ttq';var t=w.ttq=w.ttq||[];"
    "t.methods=['page','track','identify','instances','debug','on','off','once','ready',"
    "'alias','group','enableCookie','disableCookie','holdConsent','revokeConsent',"
    "'grantConsent'];t.setAndDefer=function(o,m){o[m]=function(){"
    "o.push([m].concat(Array.prototype.slice.call(arguments,0)))}};"
    "for(var i=0;i<t.methods.length;i++)t.setAndDefer(t,t.methods[i]);"
    "t.instance=function(id){for(var e=t._i[id]||[],n=0;n<t.methods.length;n++)"
    "t.setAndDefer(e,t.methods[n]);return e};"
    "t.load=function(id,o){var u='https://analytics.tiktok.com/i18n/pixel/events.js';"
    "t._i=t._i||{};t._i[id]=[];t._i[id]._u=u;t._t=t._t||{};t._t[id]=+new Date;"
    "t._o=t._o||{};t._o[id]=o||{};"
    "load(u+'?sdkid='+encodeURIComponent(id)+'&lib=ttq')};"
    "t.load(d.tiktok);t.page()}"
    "setTimeout(function(){location.replace(d.to)},600)})();"
)
_PUSH_JS = web_push.SUBSCRIBE_JS


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_BASE_CSP = (
    f"default-src 'none'; style-src {_hash(_STYLE)}; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_NAVIGATE_CSP = f"{_BASE_CSP}; script-src {_hash(_NAVIGATE_JS)}"
_SCHEME_CSP = f"{_BASE_CSP}; script-src {_hash(_SCHEME_JS)}"
_PUSH_CSP = f"{_BASE_CSP}; script-src {_hash(_PUSH_JS)}; {web_push.SUBSCRIBE_CSP}"
_FRAME_CSP = f"{_BASE_CSP}; frame-src http: https:"
# Pixel scripts load further scripts of their own: trust flows from the hashed loader.
_PIXELS_CSP = (
    f"default-src 'none'; style-src {_hash(_STYLE)}; "
    f"script-src {_hash(_PIXELS_JS)} 'strict-dynamic' https:; img-src https: data:; "
    "connect-src https:; frame-src https:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Raw head/body tags are the owner's own markup on their verified domain: whatever it
# loads must run, so only framing and base-URI hijacking stay forbidden.
_RAW_TAGS_CSP = (
    "default-src https: data: 'unsafe-inline' 'unsafe-eval'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class Html:
    __slots__ = ("body", "csp")

    def __init__(self, body: str, csp: str) -> None:
        self.body = body.encode()
        self.csp = csp


def _layout(
    title: str,
    body: str,
    *,
    head: str = "",
    script: str = "",
    no_referrer: bool = False,
    brand: EdgeWorkspace | None = None,
    card: bool = True,
) -> str:
    """The page: `body` in a card under the workspace's name and logo (`card=False` for
    a page that is all frame). The CSP of a branded page comes from branded()."""
    referrer = '<meta name="referrer" content="no-referrer">' if no_referrer else ""
    script_tag = f"<script>{script}</script>" if script else ""
    if card:
        body = f'<div class="card">{look.header(brand)}{body}</div>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex"><link rel="icon" href="data:,">'
        f"{referrer}<title>{escape(title)}</title>{head}<style>{_STYLE}</style>"
        f"{look.head(brand)}</head><body>{body}{script_tag}</body></html>"
    )


def branded(csp: str, brand: EdgeWorkspace | None) -> str:
    return look.branded_csp(csp, brand)


def message(title: str, text: str, *, brand: EdgeWorkspace | None = None) -> Html:
    """Plain status pages: not found, not active yet, expired, blocked, and so on."""
    body = f'<h1>{escape(title)}</h1><p class="muted">{escape(text)}</p>'
    return Html(_layout(title, body, brand=brand), branded(_BASE_CSP, brand))


def _onward(to: str, label: str) -> str:
    return f'<p><a href="{escape(to)}">{escape(label)}</a></p>'


def _refresh(to: str) -> str:
    return f'<noscript><meta http-equiv="refresh" content="0;url={escape(to)}"></noscript>'


def navigate(to: str, *, no_referrer: bool = False, brand: EdgeWorkspace | None = None) -> Html:
    body = (
        f'<main id="k" data-to="{escape(to)}"><p>Redirecting…</p>{_onward(to, "Continue")}</main>'
    )
    return Html(
        _layout(
            "Redirecting", body, head=_refresh(to), script=_NAVIGATE_JS, no_referrer=no_referrer,
            brand=brand,
        ),
        branded(_NAVIGATE_CSP, brand),
    )  # fmt: skip


def scheme(to: str, *, brand: EdgeWorkspace | None = None) -> Html:
    """mailto:, tel: and sms: links: browsers handle a scripted navigation (and a tap on
    the link) far more reliably than a Location header with such a scheme."""
    body = f'<main id="k" data-to="{escape(to)}"><h1>Opening…</h1>{_onward(to, to)}</main>'
    return Html(
        _layout("Opening", body, script=_SCHEME_JS, brand=brand), branded(_SCHEME_CSP, brand)
    )


def frame(to: str, title: str | None) -> Html:
    body = f'<iframe src="{escape(to)}" title="{escape(title or "")}"></iframe>'
    return Html(_layout(title or "", body, card=False), _FRAME_CSP)


def pixels(
    to: str,
    *,
    meta: str | None,
    ga4: str | None,
    gtm: str | None,
    tiktok: str | None,
    head_tags: str | None,
    body_tags: str | None,
    no_referrer: bool = False,
    brand: EdgeWorkspace | None = None,
) -> Html:
    attrs = "".join(
        f' data-{name}="{escape(value)}"'
        for name, value in (("meta", meta), ("ga4", ga4), ("gtm", gtm), ("tiktok", tiktok))
        if value
    )
    noscript = ""
    if meta:
        noscript = (
            '<noscript><img height="1" width="1" alt="" src="https://www.facebook.com/tr?id='
            f'{escape(meta)}&amp;ev=PageView&amp;noscript=1"></noscript>'
        )
    body = (
        f'<main id="k" data-to="{escape(to)}"{attrs}><p>Redirecting…</p>'
        f"{_onward(to, 'Continue')}</main>{noscript}{body_tags or ''}"
    )
    head = _refresh(to) + (head_tags or "")
    csp = _RAW_TAGS_CSP if head_tags or body_tags else _PIXELS_CSP
    page = _layout(
        "Redirecting", body, head=head, script=_PIXELS_JS, no_referrer=no_referrer, brand=brand
    )
    return Html(page, branded(csp, brand))


def push(to: str, subscribe: str, key: str | None, brand: EdgeWorkspace | None = None) -> Html:
    """Asks for notifications, subscribes the browser (kurz.push.SUBSCRIBE_JS), posts
    the subscription to `subscribe`, then goes on to `to`; without a key (push not
    configured) it goes on at once."""
    attrs = (
        f'data-to="{escape(to)}" data-key="{escape(key or "")}" data-sub="{escape(subscribe)}" '
        f'data-sw="{web_push.SERVICE_WORKER_PATH}" data-scope="{web_push.SERVICE_WORKER_SCOPE}"'
    )
    body = (
        f'<main id="k" {attrs}><h1>Stay up to date?</h1>'
        "<p>Allow notifications from this site, or continue without them.</p>"
        '<p><button id="allow">Allow</button> <button id="skip">No thanks</button></p>'
        f"{_onward(to, 'Continue')}</main>"
    )
    page = _layout("Notifications", body, script=_PUSH_JS, brand=brand)
    return Html(page, branded(_PUSH_CSP, brand))


def preview(short_url: str, title: str | None, description: str | None, image: str | None) -> Html:
    """Open Graph and Twitter card tags for link-preview crawlers."""
    tags = [
        ("og:type", "website"),
        ("og:url", short_url),
        ("og:title", title),
        ("og:description", description),
        ("og:image", image),
        ("twitter:card", "summary_large_image" if image else "summary"),
        ("twitter:title", title),
        ("twitter:description", description),
        ("twitter:image", image),
    ]
    head = "".join(
        f'<meta {"name" if key.startswith("twitter:") else "property"}="{key}" '
        f'content="{escape(value)}">'
        for key, value in tags
        if value
    )
    if description:
        head += f'<meta name="description" content="{escape(description)}">'
    body = f"<h1>{escape(title or short_url)}</h1><p>{escape(description or '')}</p>"
    return Html(_layout(title or short_url, body, head=head), _BASE_CSP)


def password_form(
    action: str, *, error: str | None = None, brand: EdgeWorkspace | None = None
) -> Html:
    note = f'<p class="err" role="alert">{escape(error)}</p>' if error else ""
    body = (
        '<h1>This link is protected</h1><p class="muted">Enter the password you were given.</p>'
        f'<form method="post" action="{escape(action)}">{note}'
        '<label>Password <input type="password" name="password" required autofocus '
        'autocomplete="current-password"></label><button>Continue</button></form>'
    )
    return Html(_layout("Password required", body, brand=brand), branded(_BASE_CSP, brand))
