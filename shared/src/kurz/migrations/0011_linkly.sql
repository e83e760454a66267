-- What Linkly's statistics count beyond kurz's own: each raw click's Internet provider
-- (named from its network, never from the address) and the visit's query parameters
-- ("name=value"), for the isp and top_params counters.
ALTER TABLE clicks ADD COLUMN isp text, ADD COLUMN params text[];
