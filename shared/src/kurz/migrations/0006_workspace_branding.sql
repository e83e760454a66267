-- kurz: a workspace's look on the edge's pages (name, logo, accent colour) and where its
-- unknown or ended links go instead of kurz's own pages. NULL: not set, kurz's default.
ALTER TABLE workspaces
    ADD COLUMN brand_name             text,
    ADD COLUMN logo_url               text,
    ADD COLUMN accent_color           text CHECK (accent_color ~ '^#[0-9a-f]{6}$'),
    ADD COLUMN base_url_redirect      text,
    ADD COLUMN invalid_link_redirect  text,
    ADD COLUMN expired_link_redirect  text;
