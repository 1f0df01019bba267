//! The API's store: SQLite by default (a file under `.calor/`), PostgreSQL at scale, through
//! sqlx's `Any` driver with one set of migrations (`api/migrations`) and queries written in
//! the SQL both accept (`$n` parameters, `BIGINT` unix seconds, `TEXT`).
use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Row};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

/// A sign-in challenge as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRow {
    pub nonce: String,
    pub domain: String,
    pub uri: String,
    pub statement: String,
    pub chain_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A session as kept (token digests only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub wallet: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Connects (creating a SQLite file if missing) and applies the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let url = if let Some(path) = url.strip_prefix("sqlite://") {
            if let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            {
                if !dir.as_os_str().is_empty() {
                    let _ = std::fs::create_dir_all(dir);
                }
            }
            if url.contains('?') {
                url.to_string()
            } else {
                format!("{url}?mode=rwc")
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.to_string()
        } else {
            return Err(StoreError::UnsupportedUrl(url.into()));
        };
        // SQLite in WAL mode: readers run beside the one writer, and a writer waits for the
        // lock (busy_timeout) instead of failing; every write transaction here begins with its
        // write, so none has to upgrade a read lock.
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        use sqlx::Executor;
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The pool, for the modules that keep their own tables (the index, jobs).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn insert_challenge(&self, c: &ChallengeRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_challenges (nonce, domain, uri, statement, chain_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.nonce)
        .bind(&c.domain)
        .bind(&c.uri)
        .bind(&c.statement)
        .bind(&c.chain_id)
        .bind(c.issued_at)
        .bind(c.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn challenge(&self, nonce: &str) -> Result<Option<ChallengeRow>, StoreError> {
        let row = sqlx::query(
            "SELECT nonce, domain, uri, statement, chain_id, issued_at, expires_at, used_at \
             FROM auth_challenges WHERE nonce = $1",
        )
        .bind(nonce)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| ChallengeRow {
            nonce: r.get(0),
            domain: r.get(1),
            uri: r.get(2),
            statement: r.get(3),
            chain_id: r.get(4),
            issued_at: r.get(5),
            expires_at: r.get(6),
            used_at: r.get(7),
        }))
    }

    /// Marks the challenge used, if it is unused and unexpired at `now`. Whether this call
    /// took it: of two concurrent sign-ins with one nonce, exactly one does.
    pub async fn consume_challenge(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
        let done: AnyQueryResult = sqlx::query(
            "UPDATE auth_challenges SET used_at = $1 \
             WHERE nonce = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(nonce)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets challenges that expired before `before` (used or not).
    pub async fn prune_challenges(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM auth_challenges WHERE expires_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn insert_session(
        &self,
        access_digest: &str,
        refresh_digest: &str,
        wallet: &str,
        now: i64,
        access_expires_at: i64,
        refresh_expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (access_digest, refresh_digest, wallet, created_at, access_expires_at, refresh_expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(access_digest)
        .bind(refresh_digest)
        .bind(wallet)
        .bind(now)
        .bind(access_expires_at)
        .bind(refresh_expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session_by_access(&self, digest: &str) -> Result<Option<SessionRow>, StoreError> {
        self.session_where("access_digest", digest).await
    }

    pub async fn session_by_refresh(&self, digest: &str) -> Result<Option<SessionRow>, StoreError> {
        self.session_where("refresh_digest", digest).await
    }

    async fn session_where(
        &self,
        column: &str,
        digest: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        // `column` is one of two names fixed above, never input.
        let row = sqlx::query(&format!(
            "SELECT wallet, access_expires_at, refresh_expires_at, revoked_at FROM sessions WHERE {column} = $1"
        ))
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| SessionRow {
            wallet: r.get(0),
            access_expires_at: r.get(1),
            refresh_expires_at: r.get(2),
            revoked_at: r.get(3),
        }))
    }

    /// Revokes the session holding this refresh digest if it is live; whether this call did
    /// (a refresh token works once: of two concurrent refreshes, one wins).
    pub async fn revoke_by_refresh(&self, digest: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE refresh_digest = $2 AND revoked_at IS NULL AND refresh_expires_at > $1",
        )
        .bind(now)
        .bind(digest)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn revoke_by_access(&self, digest: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE access_digest = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(digest)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
