-- Groups made through the Vivoldi family deliver their webhooks as Vivoldi does (its
-- X-Vivoldi-* headers and signature); every other delivery keeps Standard Webhooks.
-- Each delivery records how it is signed, so a retry or replay signs the same way.
ALTER TABLE link_groups ADD COLUMN webhook_format text NOT NULL DEFAULT 'standard'
    CHECK (webhook_format IN ('standard', 'vivoldi'));
ALTER TABLE webhook_deliveries ADD COLUMN signing text NOT NULL DEFAULT 'standard'
    CHECK (signing IN ('standard', 'vivoldi'));
