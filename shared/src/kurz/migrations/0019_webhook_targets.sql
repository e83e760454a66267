-- kurz: a change counter for what may have a webhook or notification to deliver.
--
-- The webhook worker passes over the click events of links that have nothing to deliver
-- without decoding them: it keeps the ids of the links, groups and workspaces that may
-- have something, and loads them again when this counter moves. Every change that can
-- add such a target moves the counter in its own transaction, so a worker that reads the
-- counter after the change committed (it reads it for every batch, after reading the
-- batch) decides every later click with the change in view. Removing a target moves
-- nothing: a set that is too large costs only a look at the facts, never a delivery.
CREATE TABLE webhook_targets_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint NOT NULL DEFAULT 0
);
INSERT INTO webhook_targets_version DEFAULT VALUES;

-- An upsert: the counter moves even if its row was deleted.
CREATE FUNCTION kurz_webhook_targets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_targets_version AS v (only_row, version) VALUES (true, 1)
    ON CONFLICT (only_row) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER links_webhook_targets_insert AFTER INSERT ON links FOR EACH ROW
    WHEN (cardinality(NEW.webhook_urls) > 0)
    EXECUTE FUNCTION kurz_webhook_targets_changed();
CREATE TRIGGER links_webhook_targets_update AFTER UPDATE OF webhook_urls ON links FOR EACH ROW
    WHEN (cardinality(NEW.webhook_urls) > 0 AND NEW.webhook_urls IS DISTINCT FROM OLD.webhook_urls)
    EXECUTE FUNCTION kurz_webhook_targets_changed();

CREATE TRIGGER webhooks_targets_insert AFTER INSERT ON webhooks FOR EACH ROW
    WHEN (NEW.enabled)
    EXECUTE FUNCTION kurz_webhook_targets_changed();
CREATE TRIGGER webhooks_targets_update AFTER UPDATE ON webhooks FOR EACH ROW
    WHEN (NEW.enabled AND (NOT OLD.enabled OR NEW.link_id IS DISTINCT FROM OLD.link_id
                           OR NEW.workspace_id <> OLD.workspace_id))
    EXECUTE FUNCTION kurz_webhook_targets_changed();

CREATE TRIGGER link_groups_targets_insert AFTER INSERT ON link_groups FOR EACH ROW
    WHEN (NEW.webhook_enabled OR NEW.mail_notify OR NEW.push_notify)
    EXECUTE FUNCTION kurz_webhook_targets_changed();
CREATE TRIGGER link_groups_targets_update AFTER UPDATE ON link_groups FOR EACH ROW
    WHEN ((NEW.webhook_enabled AND NOT OLD.webhook_enabled)
          OR (NEW.mail_notify AND NOT OLD.mail_notify)
          OR (NEW.push_notify AND NOT OLD.push_notify))
    EXECUTE FUNCTION kurz_webhook_targets_changed();

-- The worker's load of the links with URLs of their own, without reading every link.
CREATE INDEX links_with_webhook_urls ON links (id) WHERE cardinality(webhook_urls) > 0;
