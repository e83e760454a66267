"""Vivoldi link request and response shapes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from kurz_management import constraints as c
from kurz_management.vivoldi.fields import YN
from kurz_management.vivoldi.paging import Page

# The redirects Vivoldi offers: a page (200), permanent (301) or temporary (302).
REDIRECT_TYPES = (200, 301, 302)
RedirectCode = Annotated[int, c.declared(enum=list(REDIRECT_TYPES))]

Text = str | None | UnsetType
# A short link's path, as Vivoldi names a link; and a short domain, with its scheme or not.
LinkId = Annotated[
    str, c.declared(minLength=1, pattern=c.anchored(c.validation.SLUG_PATTERN.pattern))
]
Title = Annotated[str, c.text_meta(c.validation.TEXT_LIMITS["title"])]
Description = Annotated[str, c.text_meta(c.validation.TEXT_LIMITS["description"])]
Note = Annotated[str, c.text_meta(c.validation.TEXT_LIMITS["note"])]
Password = Annotated[str, c.text_meta(c.validation.TEXT_LIMITS["password"])]
# "https://vvd.bz" or a bare host; "" is the default domain.
VivoldiDomain = Annotated[
    str, c.declared(maxLength=300, pattern=c.anchored(f"(?:(?:https?://)?{c.HOST}/?)?"))
]
OptionalSlug = Annotated[str, c.declared(pattern=c.anchored(f"(?:{c.SLUG})?"))]
DayOrTime = Annotated[str, c.declared(pattern=c.anchored(f"{c.DATE}(?: {c.TIME})?"))]


class LinkSettings(msgspec.Struct, kw_only=True):
    """Fields create and update share. Left out: not given; null: cleared (update).

    Fields:
        redirectType: HTTP status of the redirect: 301, 302 (default), or 200 for a page
            that forwards.
        grpIdx: The link group (0 or null on update: leave the group).
        ttl: The link's title ("" on update leaves it unchanged).
        description: A description, for link previews.
        metaImg: URL of the preview image.
        memo: A private note.
        notfSubscYn: Y: offer visitors push notifications.
        qrBypassYn: Y: the QR code carries the destination itself.
        pwd: A password visitors must enter.
        strtYmdt: When the link starts redirecting (YYYY-MM-DD HH:MM:SS).
        expireYmdt: When it stops redirecting.
        expireUrl: Where visitors go once it has expired.
        acesMaxCnt: Counted clicks after which it stops (0: unlimited).
        delYmdt: When it deletes itself.
    """

    redirectType: RedirectCode | UnsetType | None = UNSET
    grpIdx: c.IdOrZero | UnsetType | None = UNSET  # 0 or null on update: leave the group
    ttl: Title | UnsetType | None = UNSET  # "" on update leaves it unchanged
    description: Description | UnsetType | None = UNSET
    metaImg: c.OptionalWebUrl | UnsetType | None = UNSET
    memo: Note | UnsetType | None = UNSET
    notfSubscYn: YN | UnsetType | None = UNSET
    qrBypassYn: YN | UnsetType | None = UNSET
    pwd: Password | UnsetType | None = UNSET
    strtYmdt: c.VivoldiTime | UnsetType | None = UNSET
    expireYmdt: c.VivoldiTime | UnsetType | None = UNSET
    expireUrl: c.OptionalWebUrl | UnsetType | None = UNSET
    acesMaxCnt: c.MaxClicks | UnsetType | None = UNSET  # 0: unlimited
    delYmdt: c.VivoldiTime | UnsetType | None = UNSET  # scheduled deletion


class VivoldiLinkCreate(LinkSettings, kw_only=True):
    """POST /api/link/v2/create, and each item of /api/link/v1/createBulk.

    Fields:
        url: The destination.
        reuseYn: Y: when a link to the same URL exists, answer its (first) short URL
            instead of making another.
        domain: Short domain (https://host or host); default: the default domain.
        brandLinkId: The short URL's path; empty or absent: generated.
    """

    url: c.WebUrl
    reuseYn: YN | UnsetType | None = UNSET  # Y: the first link to this URL, if there is one
    domain: VivoldiDomain | UnsetType | None = UNSET  # "https://vvd.bz" or a bare host
    brandLinkId: OptionalSlug | UnsetType | None = UNSET  # custom slug; "": generated


class VivoldiLinkUpdate(LinkSettings, kw_only=True):
    """PUT /api/link/v2/update: linkId + domain identify the link.

    Fields:
        linkId: The link's path: with domain, it names the link.
        domain: Its short domain; default: the default domain.
        url: A new destination.
    """

    linkId: LinkId
    domain: VivoldiDomain | UnsetType | None = UNSET
    url: c.WebUrl | UnsetType | None = UNSET


class VivoldiBulkCreate(msgspec.Struct, kw_only=True):
    """Fields:
    links: The links to create: all or nothing.
    """

    links: list[VivoldiLinkCreate]


class VivoldiLink(msgspec.Struct):
    """One link in /api/link/v1/list.

    Fields:
        idx: The link's id.
        linkId: Its path.
        typeIdx: Its kind: 103 (URL) for a web link, 0 for kurz's mailto:, tel: and sms:
            links, which Vivoldi does not have.
        typeNm: Its kind's name: URL, MAILTO, TEL or SMS.
        domain: Its short domain.
        shortUrl: The short URL.
        url: The destination.
        redirectType: HTTP status of the redirect: 301, 302 (default), or 200 for a page
            that forwards.
        grpIdx: The link group (0 or null on update: leave the group).
        ttl: The link's title ("" on update leaves it unchanged).
        description: A description, for link previews.
        metaImg: URL of the preview image.
        memo: A private note.
        notfSubscYn: Y: offer visitors push notifications.
        qrBypassYn: Y: the QR code carries the destination itself.
        strtYmdt: When the link starts redirecting (YYYY-MM-DD HH:MM:SS).
        expireYmdt: When it stops redirecting.
        expireUrl: Where visitors go once it has expired.
        acesMaxCnt: Counted clicks after which it stops (0: unlimited).
        delYmdt: When it deletes itself.
        pwdYn: Y: protected by a password.
        acesCnt: Counted clicks so far.
        regYmdt: When it was created (YYYY-MM-DD HH:MM:SS).
        modYmdt: When it last changed.
    """

    idx: int
    linkId: str
    typeIdx: int
    typeNm: str
    domain: str
    shortUrl: str
    url: str
    redirectType: int
    grpIdx: int | None
    ttl: str | None
    description: str | None
    metaImg: str | None
    memo: str | None
    notfSubscYn: YN
    qrBypassYn: YN
    pwdYn: YN
    strtYmdt: str | None
    expireYmdt: str | None
    expireUrl: str | None
    acesMaxCnt: int
    acesCnt: int
    delYmdt: str | None
    regYmdt: str
    modYmdt: str


class VivoldiLinkListQuery(msgspec.Struct, kw_only=True):
    """GET /api/link/v1/list.

    Fields:
        regStartYmdt: Created at or after (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS).
        regEndYmdt: Created at or before (a bare day covers the whole day).
        pages: Page number, from 1 (30 links a page).
        grpIdx: Only this group's links.
        domain: Only this short domain's links.
        searchKwd: Text found in the URL, linkId, title or memo.
        linkId: Only the link with this path.
        ttl: Only links whose title contains this.
        memo: Only links whose memo contains this.
        url: Only links to exactly this URL.
    """

    regStartYmdt: DayOrTime | None = None  # inclusive
    regEndYmdt: DayOrTime | None = None  # inclusive: a bare day covers the whole day
    pages: Page = 1
    grpIdx: c.Id | None = None
    domain: VivoldiDomain | None = None
    searchKwd: c.Text | None = None  # part of the URL, linkId, title or memo
    linkId: LinkId | None = None  # exactly this link
    ttl: c.Text | None = None  # part of the title
    memo: c.Text | None = None  # part of the memo
    url: c.Text | None = None  # exactly this destination (any text: no link, no match)


class VivoldiLinkDeleteQuery(msgspec.Struct, kw_only=True):
    """DELETE /api/link/v1/delete.

    Fields:
        linkId: The link's path.
        domain: Its short domain; default: the default domain.
    """

    linkId: LinkId
    domain: VivoldiDomain | None = None
