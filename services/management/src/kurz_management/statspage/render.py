"""The pages' HTML: a group's (behind its password) and a public link's, one look.
Everything that comes from users (group and link names, URLs, referrers, browsers) goes
through `_e`; nothing is put in a script or a style."""

from __future__ import annotations

from datetime import date

from kurz import push as web_push

from kurz_management import figures
from kurz_management.core.links.service import LinkRecord
from kurz_management.statspage.data import RANGES, Figures, PageGroup, PageStats

STATIC = figures.STATIC
_e, _n, _card = figures.e, figures.n, figures.card


def _layout(title: str, body: str, *, wide: bool = True) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{_e(title)}</title>
<link rel="icon" href="{STATIC}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{STATIC}/stats.css">
<link rel="stylesheet" href="{figures.FIGURES_CSS}">
<script src="{figures.CHART_JS}" defer></script>
</head>
<body class="{"wide" if wide else "narrow"}">
{body}
<footer class="foot">Statistics by kurz</footer>
</body>
</html>
"""


def login_page(action: str, *, error: str | None = None, wait: int = 0) -> str:
    """The password form. It names no group: it is the same for every address, a group
    or none, so group names cannot be read or guessed from it."""
    message = ""
    if wait:
        minutes = max(1, (wait + 59) // 60)
        message = (
            f'<p class="alert" role="alert" id="login-error">Too many wrong passwords. '
            f"Try again in {minutes} minute{'s' if minutes > 1 else ''}.</p>"
        )
    elif error:
        message = f'<p class="alert" role="alert" id="login-error">{_e(error)}</p>'
    body = f"""<main class="login">
<form class="card login-card" method="post" action="{_e(action)}" autocomplete="off">
<p class="eyebrow">Link statistics</p>
<h1>Protected statistics</h1>
<p class="muted">This page is protected. Enter the password you were given.</p>
{message}
<label for="password">Password</label>
<input id="password" name="password" type="password" required maxlength="1024"
 autocomplete="current-password" autofocus>
<button type="submit">View statistics</button>
</form>
</main>"""
    return _layout("Link statistics", body, wide=False)


def period_error_page(name: str, back: str, message: str) -> str:
    """A period the page cannot show, on the page of `name` (a group's or a link's)."""
    body = f"""<main class="login"><div class="card login-card">
<p class="eyebrow">Link statistics</p><h1>{_e(name)}</h1>
<p class="alert" role="alert" id="period-error">{_e(message)}</p>
<p><a href="{_e(back)}">Show the last 30 days</a></p>
</div></main>"""
    return _layout(f"{name}: statistics", body, wide=False)


def not_found_page() -> str:
    """A link page that is not public: the same for a private, a deleted and a missing
    link, so the page never tells which."""
    body = """<main class="login"><div class="card login-card">
<p class="eyebrow">Link statistics</p><h1>Not found</h1>
<p class="muted">There are no public statistics at this address.</p>
</div></main>"""
    return _layout("Not found", body, wide=False)


def unavailable_page() -> str:
    body = """<main class="login"><div class="card login-card">
<h1>Statistics unavailable</h1><p class="muted">The statistics cannot be read right now.
Please try again in a moment.</p>
</div></main>"""
    return _layout("Unavailable", body, wide=False)


def _notify_me(group: PageGroup, push_key: str | None) -> str:
    """The owners' "notify me" (kurz.push.SUBSCRIBE_JS, served as push.js): shown by the
    script only where the browser can take web push, for a group that pushes milestones."""
    if not group.push_notify or not push_key:
        return ""
    attrs = (
        f'data-key="{_e(push_key)}" data-sub="/stats/g/{group.id}/push" '
        f'data-sw="{web_push.SERVICE_WORKER_PATH}" data-scope="{web_push.SERVICE_WORKER_SCOPE}"'
    )
    return f"""<section id="k" class="notify" {attrs}>
<script src="{STATIC}/push.js" defer></script>
<button id="allow" type="button" hidden>Notify me of click milestones</button>
<p id="push-status" class="muted" role="status"></p>
</section>"""


def dashboard(group: PageGroup, stats: PageStats, today: date, push_key: str | None = None) -> str:
    header = f"""<h1 id="group-name">{_e(group.name)}</h1>
{_period_line(stats, group.time_zone)}
<nav class="ranges" aria-label="Period">{figures.ranges(stats.span, today, RANGES)}</nav>
{_notify_me(group, push_key)}"""
    cards = (
        _card("Clicks", stats.totals.clicks, "total-clicks")
        + _card("Unique visitors", stats.totals.visitors, "total-visitors")
        + _card("Links", stats.link_count, "total-links")
    )
    body = _page(header, cards, stats, _links(stats))
    return _layout(f"{group.name}: statistics", body)


def link_dashboard(link: LinkRecord, time_zone: str, stats: Figures, today: date) -> str:
    """One link's public page: its short URL and title (never its destination or note,
    which a password or rules may keep from visitors), then the figures."""
    title = f'<p class="muted" id="link-title">{_e(link.title)}</p>' if link.title else ""
    header = f"""<h1 id="link-name">{_e(link.short_url)}</h1>
{title}
{_period_line(stats, time_zone)}
<nav class="ranges" aria-label="Period">{figures.ranges(stats.span, today, RANGES)}</nav>"""
    cards = (
        _card("Clicks", stats.totals.clicks, "total-clicks")
        + _card("Unique visitors", stats.totals.visitors, "total-visitors")
        + _card("Clicks, all time", link.clicks, "total-all-time")
    )
    return _layout(f"{link.short_url}: statistics", _page(header, cards, stats))


def _period_line(stats: Figures, time_zone: str) -> str:
    span = stats.span
    return (
        f'<p class="muted">{_e(span.start.isoformat())} to {_e(span.end.isoformat())}\n'
        f" · days in {_e(time_zone)}</p>"
    )


def _page(header: str, cards: str, stats: Figures, after: str = "") -> str:
    """The header (its heading, period and ranges), the total cards, the chart with its
    numbers, the rankings, then `after`."""
    return f"""<header class="top"><div class="wrap">
<p class="eyebrow">Link statistics</p>
{header}
</div></header>
<main class="wrap">
<section class="cards" aria-label="Totals">
{cards}
</section>
{figures.chart_panel(stats.days)}
<div class="grid">
{figures.ranking("Top countries", "countries", stats.countries, figures.country)}
{figures.ranking("Devices", "devices", stats.devices, figures.device)}
{figures.ranking("Referrers", "referrers", stats.referrers, figures.referrer)}
</div>
{after}
</main>"""


def _links(stats: PageStats) -> str:
    if not stats.links:
        rows = '<tr><td colspan="3" class="empty">This group has no links yet</td></tr>'
    else:
        rows = "".join(
            f'<tr data-link="{link.id}" data-clicks="{link.clicks}" '
            f'data-visitors="{link.visitors}"><td class="link">'
            f'<a href="{_e(link.short_url)}" rel="noopener noreferrer">{_e(link.short_url)}</a>'
            f'<span class="title">{_e(link.title or "")}</span>'
            f'<span class="dest">{_e(link.url)}</span></td>'
            f'<td class="num">{_n(link.clicks)}</td><td class="num">{_n(link.visitors)}</td></tr>'
            for link in stats.links
        )
    more = ""
    if stats.link_count > len(stats.links):
        more = f'<p class="muted">The {len(stats.links)} most clicked of {stats.link_count}.</p>'
    return f"""<section class="panel" id="links"><h2>Links</h2>
<div class="scroll"><table class="table links"><thead><tr><th scope="col">Link</th>
<th scope="col" class="num">Clicks</th><th scope="col" class="num">Visitors</th></tr></thead>
<tbody>{rows}</tbody></table></div>{more}</section>"""
