-- What a link answer says about who made it and how its tags look.
--
-- created_by_key: the API key that created the link (NULL for links made before this
-- column, by the CLI or an import); a revoked key stays, so the link keeps its creator.
-- tags.color: the colour a tag is shown in, as #rrggbb; NULL for none.
ALTER TABLE links ADD COLUMN created_by_key bigint REFERENCES api_keys (id) ON DELETE SET NULL;
ALTER TABLE tags ADD COLUMN color text CHECK (color ~ '^#[0-9a-f]{6}$');
