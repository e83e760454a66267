"""What each field of a native link means: one text per camelCase body field, shared by
the request bodies (create, change, bulk) and the link object in answers, so the OpenAPI
document describes every field the same way everywhere."""

from __future__ import annotations

LINK_FIELD_DOCS: dict[str, str] = {
    "url": "Destination: an http(s) URL, or for linkType MAILTO/TEL/SMS the address or number.",
    "domain": "Short domain of the link: the shared default domain when omitted, or one of "
    "the workspace's verified custom domains.",
    "customSlug": "Path of the short URL (letters, digits, - and _); a random one when omitted.",
    "slug": "Path of the short URL (the same as customSlug; give one of them).",
    "title": "A title for the link, shown in lists and on link pages.",
    "description": "A description, used for link previews.",
    "image": "URL of the preview image (og:image) of the link page.",
    "redirectType": "How visitors are sent on: PERMANENT_301, TEMPORARY_302 (default), "
    "TEMPORARY_307, PERMANENT_308, or PAGE_200 (a page that forwards).",
    "linkType": "What the destination is: URL (default), MAILTO, TEL or SMS.",
    "cloaked": "Show the destination inside a frame under the short URL.",
    "password": "A password visitors must enter before they are sent on (stored hashed; "
    "answers only say hasPassword).",
    "expiresAt": "When the link stops redirecting (ISO 8601); afterwards expiryUrl, or 404.",
    "maxClicks": "Counted clicks after which the link stops redirecting.",
    "tagIds": "Ids of the workspace's tags to attach (see /api/v1/tags).",
    "forwardParameters": "Append the visit's query string to the destination.",
    "blockBots": "Answer known bots with 404 instead of redirecting them.",
    "utmSource": "utm_source added to the destination.",
    "utmMedium": "utm_medium added to the destination.",
    "utmCampaign": "utm_campaign added to the destination.",
    "utmTerm": "utm_term added to the destination.",
    "utmContent": "utm_content added to the destination.",
    "metaPixelId": "Meta (Facebook) pixel id fired on the link page.",
    "googleTagId": "Google Analytics 4 measurement id fired on the link page.",
    "webhookUrls": "URLs that receive a signed link.clicked webhook on every counted click "
    "(one URL, or a list; answers give them comma-separated).",
    "note": "A private note; never shown to visitors.",
    "startsAt": "When the link starts redirecting (ISO 8601); before it, 404.",
    "expiryUrl": "Where visitors go once the link has expired or reached maxClicks.",
    "deleteAt": "When the link is deleted by itself (ISO 8601).",
    "hideReferrer": "Send visitors on without a Referer header.",
    "gtmId": "Google Tag Manager container id fired on the link page.",
    "tiktokPixelId": "TikTok pixel id fired on the link page.",
    "ogTitle": "Title for link previews (og:title); title when omitted.",
    "headTags": "Raw HTML for the <head> of the link page (custom domains only).",
    "bodyTags": "Raw HTML for the <body> of the link page (custom domains only).",
    "rules": "Routing rules, first match wins: by country, platform or language, or a "
    "rotator weighted by percentage; no match goes to url.",
    "groupId": "Id of the link group the link belongs to.",
    "enabled": "false: the link answers 404 until enabled again (default true).",
    "qrBypass": "QR codes carry the destination itself, so scans skip the short URL.",
    "pushSubscribe": "Offer visitors push notifications on the link page.",
    "publicAnalytics": "Show the link's statistics to anyone on its public page (statsUrl); "
    "false (default): only through the API.",
}

LINK_OUT_DOCS: dict[str, str] = {
    "id": "The link's id, a string of digits (a number is taken wherever an id is sent).",
    **{name: text for name, text in LINK_FIELD_DOCS.items() if name != "customSlug"},
    "url": "The destination, with the link's UTM parameters appended (those it already "
    "has are kept): where a plain visit goes.",
    "slug": "Path of the short URL.",
    "shortCode": "Path of the short URL (the same as slug).",
    "shortUrl": "The short URL visitors use.",
    "hasPassword": "Whether visitors must enter a password.",
    "password": "Always null: a password is stored hashed and never returned (see hasPassword).",
    "webhookUrls": "The link's webhook URLs, comma-separated; null: none.",
    "tagIds": "Ids of the link's tags.",
    "tags": "The link's tags, each as {tag: {id, name, color}}.",
    "isActive": "Whether a visit now would be counted and sent on: enabled, started, "
    "not expired and under its click limit.",
    "statsUrl": "The link's public statistics page while publicAnalytics is true, else null.",
    "clicks": "Counted clicks so far (bots excluded).",
    "clickCount": "Counted clicks so far (the same as clicks).",
    "gtmContainerId": "Google Tag Manager container id (the same as gtmId).",
    "skipSocialCrawlerTracking": "Always true: visits of link-preview crawlers and other "
    "bots are never counted as clicks.",
    "qrCode": "The link's QR code images: {pngUrl, svgUrl} (sizes with ?size=).",
    "workspaceId": "Id of the link's workspace.",
    "createdBy": "Who created the link: the API key ({id, name, email: null}); null for "
    "links made by the command line or an import.",
    "createdAt": "When the link was created.",
    "updatedAt": "When the link last changed.",
}
