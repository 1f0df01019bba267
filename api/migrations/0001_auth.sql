-- Sign-in challenges: each nonce answers one sign-in, once, before it expires.
CREATE TABLE auth_challenges (
    nonce TEXT PRIMARY KEY,
    domain TEXT NOT NULL,
    uri TEXT NOT NULL,
    statement TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX auth_challenges_expiry ON auth_challenges (expires_at);

-- Sessions of signed-in wallets. Only SHA-256 digests of the tokens are kept.
CREATE TABLE sessions (
    access_digest TEXT PRIMARY KEY,
    refresh_digest TEXT NOT NULL UNIQUE,
    wallet TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_wallet ON sessions (wallet);
