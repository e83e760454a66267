-- Two of Linkly's link fields: a TikTok pixel fired on the link's pixel page (as the
-- Meta, GA4 and GTM ids are), and whether the link's statistics are public on its own
-- page, /stats/l/{id} on the management server (off unless the owner turns it on).
ALTER TABLE links ADD COLUMN tiktok_pixel_id text,
    ADD COLUMN public_analytics boolean NOT NULL DEFAULT false;
