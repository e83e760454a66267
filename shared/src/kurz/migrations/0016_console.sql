-- kurz: the web console's people. A user signs in with an e-mail and a password and
-- works in the workspaces they are a member of, as an owner (everything, API keys and
-- webhooks included) or a member (links, tags, groups and statistics).
CREATE TABLE console_users (
    id             bigserial PRIMARY KEY,
    email          text NOT NULL,
    password_hash  text NOT NULL,      -- argon2id
    created_at     timestamptz NOT NULL DEFAULT now(),
    signed_in_at   timestamptz
);
-- E-mail addresses are compared without case: one account per address.
CREATE UNIQUE INDEX console_users_email ON console_users (lower(email));

CREATE TABLE console_memberships (
    user_id       bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role          text NOT NULL CHECK (role IN ('owner', 'member')),
    PRIMARY KEY (user_id, workspace_id)
);
CREATE INDEX console_memberships_workspace ON console_memberships (workspace_id);

-- Server-side sessions: the cookie holds a random token, the table its SHA-256, so a
-- database read does not yield a usable cookie and signing out ends the session for good.
CREATE TABLE console_sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
