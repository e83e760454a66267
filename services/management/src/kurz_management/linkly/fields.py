"""What each field of a Linkly link means, in one place for the link kurz answers and
the link a client sends (their OpenAPI descriptions)."""

LINK_FIELDS = {
    "url": "The destination.",
    "name": "The link's name (title).",
    "note": "A private note.",
    "head_tags": "Raw HTML for the <head> of the link page (custom domains only).",
    "body_tags": "Raw HTML for the <body> of the link page (custom domains only).",
    "forward_params": "Append the visit's query string to the destination.",
    "enabled": "false: the link answers 404.",
    "cloaking": "Show the destination inside a frame under the short URL.",
    "block_bots": "Answer known bots with 404.",
    "hide_referrer": "Send visitors on without a Referer header.",
    "utm_source": "utm_source added to the destination.",
    "utm_medium": "utm_medium added to the destination.",
    "utm_campaign": "utm_campaign added to the destination.",
    "utm_term": "utm_term added to the destination.",
    "utm_content": "utm_content added to the destination.",
    "og_title": "Title for link previews.",
    "og_description": "Description for link previews.",
    "og_image": "Image URL for link previews.",
    "fb_pixel_id": "Meta (Facebook) pixel id fired on the link page.",
    "ga4_tag_id": "Google Analytics 4 measurement id.",
    "gtm_id": "Google Tag Manager container id.",
    "tiktok_pixel_id": "TikTok pixel id fired on the link page.",
    "public_analytics": "Show the link's statistics to anyone, on kurz's page "
    "/stats/l/{id} of the management server; false (default): only through the API.",
    "expiry_destination": "Where visitors go once it has expired.",
    "expiry_clicks": "Counted clicks after which the link expires, as at its expiry time "
    "(kurz's click limit, exact under concurrency at the edge); null or 0: no limit.",
    "rules": "Routing rules, first match wins.",
}
