-- What Linkly's API counts and its links carry beyond kurz's own: each raw click's
-- Internet provider (named from its network, never from the address) and the visit's
-- query parameters ("name=value"), for the isp and top_params counters; a link's TikTok
-- pixel and whether its statistics are public.
ALTER TABLE clicks ADD COLUMN isp text, ADD COLUMN params text[];
ALTER TABLE links ADD COLUMN tiktok_pixel_id text,
                  ADD COLUMN public_analytics boolean NOT NULL DEFAULT false;
