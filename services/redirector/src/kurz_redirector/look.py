"""How the edge's pages look: the style sheet they share with the public statistics page
(same palette, card and form), and a workspace's branding on top of it (name, logo,
accent colour). Everything stays under the pages' strict CSP: the accent colour is a
second, tiny style element allowed by its own hash, the logo's origin is added to img-src
alone, and every value is validated on the way in and escaped on the way out."""

from __future__ import annotations

import base64
import functools
import hashlib
from html import escape

from kurz.branding import EdgeWorkspace

STYLE = (
    ":root{--bg:#f4f5f8;--panel:#fff;--ink:#1b2130;--muted:#667085;--line:#e4e7ec;"
    "--accent:#4f46e5;--on-accent:#fff;--alert:#b42318;--alert-bg:#fef3f2;"
    "color-scheme:light dark}"
    "@media(prefers-color-scheme:dark){:root{--bg:#0f1420;--panel:#171e2e;--ink:#e8ebf3;"
    "--muted:#98a2b3;--line:#273047;--accent:#8b85ff;--alert:#fda29b;--alert-bg:#3a1a1a}}"
    "*{box-sizing:border-box}"
    "body{margin:0;min-height:100vh;display:grid;place-items:center;padding:24px 16px;"
    "background:var(--bg);color:var(--ink);"
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',sans-serif}"
    ".card{width:100%;max-width:400px;padding:28px 24px;background:var(--panel);"
    "border:1px solid var(--line);border-radius:14px;overflow-wrap:anywhere;"
    "box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08)}"
    "h1{margin:0;font-size:1.5rem;line-height:1.25}p{margin:10px 0 0}main>p:first-child{margin:0}"
    "a{color:var(--accent)}.muted{color:var(--muted)}"
    ".brand{display:flex;align-items:center;gap:10px;margin:0 0 18px;font-weight:650}"
    ".brand img{width:32px;height:32px;object-fit:contain;border-radius:6px}"
    "label{display:block;margin-top:18px;font-weight:600;font-size:.9rem}"
    "input{display:block;width:100%;margin-top:6px;padding:11px 12px;font:inherit;"
    "color:var(--ink);background:var(--bg);border:1px solid var(--line);border-radius:10px}"
    "input:focus{outline:2px solid var(--accent);outline-offset:1px}"
    "button{margin-top:6px;padding:11px 14px;font:inherit;font-weight:650;"
    "color:var(--on-accent);background:var(--accent);border:0;border-radius:10px;cursor:pointer}"
    "form button{width:100%;margin-top:16px}"
    "#skip{color:var(--ink);background:none;border:1px solid var(--line)}"
    ".err{padding:10px 12px;border-radius:10px;color:var(--alert);background:var(--alert-bg);"
    "font-size:.9rem}"
    "iframe{position:fixed;inset:0;width:100%;height:100%;border:0}"
)


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.lru_cache(maxsize=1024)
def accent_style(accent: str) -> str:
    """The accent colour (validated "#rrggbb") and a text colour that reads on it."""
    red, green, blue = (int(accent[i : i + 2], 16) for i in (1, 3, 5))
    light = 0.299 * red + 0.587 * green + 0.114 * blue > 160
    return f":root{{--accent:{accent};--on-accent:{'#111' if light else '#fff'}}}"


def head(workspace: EdgeWorkspace | None) -> str:
    """The accent colour's style element, if the workspace has one."""
    if workspace is None or not workspace.accent_color:
        return ""
    return f"<style>{accent_style(workspace.accent_color)}</style>"


def header(workspace: EdgeWorkspace | None) -> str:
    """The workspace's name and logo above the page's own content."""
    if workspace is None or not (workspace.brand_name or workspace.logo_origin):
        return ""
    name = escape(workspace.brand_name or "")
    logo = (
        f'<img src="{escape(workspace.logo_url or "")}" alt="{name}">'
        if workspace.logo_origin
        else ""
    )
    text = f"<span>{name}</span>" if workspace.brand_name else ""
    return f'<p class="brand">{logo}{text}</p>'


def branded_csp(csp: str, workspace: EdgeWorkspace | None) -> str:
    """`csp` allowing the workspace's accent style and logo. Only directives the policy
    has are widened: a policy without style-src (raw tags) already allows inline style,
    and adding a hash there would switch 'unsafe-inline' off."""
    if workspace is None:
        return csp
    extra = {
        "style-src": csp_hash(accent_style(workspace.accent_color))
        if workspace.accent_color
        else None,
        "img-src": workspace.logo_origin,
    }
    directives = []
    for directive in csp.split("; "):
        name = directive.split(" ", 1)[0]
        source = extra.get(name)
        directives.append(f"{directive} {source}" if source else directive)
    return "; ".join(directives)
