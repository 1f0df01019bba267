//! Wallet sign-in: a challenge (Sign-In With Solana input with a single-use nonce kept in the
//! store, so replicas agree), its verification by `calor_client::siws`, and short-lived
//! bearer sessions with a rotating refresh token. Tokens are random; only their SHA-256
//! digests are stored.
use std::time::Duration;

use base64::Engine as _;
use calor_client::siws::{format_rfc3339, Challenge, SignInMessage, SiwsError};
use calor_client::Pubkey;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{ChallengeRow, Store, StoreError};

/// What this API binds sign-ins to.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The app's host (and port), as its browser origin names it.
    pub domain: String,
    /// This API's URI.
    pub uri: String,
    pub statement: String,
    pub chain_id: String,
    pub challenge_ttl: Duration,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

/// The longest an access token may live.
pub const MAX_ACCESS_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    SignIn(#[from] SiwsError),
    #[error("the address is not a base58 public key")]
    BadAddress,
    #[error("the signature is not 64 bytes")]
    BadSignatureLength,
    #[error("this sign-in's nonce was not issued here")]
    UnknownNonce,
    #[error("this sign-in's nonce was used already")]
    NonceUsed,
    #[error("the token is unknown, expired or revoked")]
    InvalidToken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The Wallet Standard `SolanaSignInInput` a wallet's `signIn` takes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInInput {
    pub domain: String,
    pub statement: String,
    pub uri: String,
    pub version: String,
    pub chain_id: String,
    pub nonce: String,
    pub issued_at: String,
    pub expiration_time: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub wallet: String,
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}

#[derive(Clone)]
pub struct Auth {
    store: Store,
    settings: AuthSettings,
}

impl Auth {
    pub fn new(store: Store, settings: AuthSettings) -> Self {
        Self { store, settings }
    }

    /// Issues a challenge valid from `now` for `challenge_ttl`.
    pub async fn challenge(&self, now: i64) -> Result<SignInInput, AuthError> {
        let s = &self.settings;
        let row = ChallengeRow {
            nonce: random_token(16),
            domain: s.domain.clone(),
            uri: s.uri.clone(),
            statement: s.statement.clone(),
            chain_id: s.chain_id.clone(),
            issued_at: now,
            expires_at: now + s.challenge_ttl.as_secs() as i64,
            used_at: None,
        };
        self.store.insert_challenge(&row).await?;
        // Forget what expired a day ago; a failure here does not stop the sign-in.
        let _ = self.store.prune_challenges(now - 86_400).await;
        Ok(SignInInput {
            domain: row.domain,
            statement: row.statement,
            uri: row.uri,
            version: "1".into(),
            chain_id: row.chain_id,
            nonce: row.nonce,
            issued_at: format_rfc3339(row.issued_at),
            expiration_time: format_rfc3339(row.expires_at),
        })
    }

    /// Verifies a signed answer to one of this API's challenges and opens a session for its
    /// wallet. The nonce is spent only by a sign-in that verifies.
    pub async fn verify(
        &self,
        address: &str,
        message: &[u8],
        signature: &[u8],
        now: i64,
    ) -> Result<Tokens, AuthError> {
        let signer: Pubkey = address.parse().map_err(|_| AuthError::BadAddress)?;
        let signature: &[u8; 64] = signature
            .try_into()
            .map_err(|_| AuthError::BadSignatureLength)?;
        let text = std::str::from_utf8(message).map_err(|_| SiwsError::NotUtf8)?;
        let nonce = SignInMessage::parse(text)?
            .nonce
            .ok_or(SiwsError::Mismatch { field: "nonce" })?;
        let row = self
            .store
            .challenge(&nonce)
            .await?
            .ok_or(AuthError::UnknownNonce)?;
        if row.used_at.is_some() {
            return Err(AuthError::NonceUsed);
        }
        let challenge = Challenge {
            domain: row.domain,
            uri: row.uri,
            statement: row.statement,
            chain_id: row.chain_id,
            nonce: row.nonce,
            issued_at: row.issued_at,
            expires_at: row.expires_at,
        };
        challenge.verify(message, signature, &signer, now)?;
        if !self.store.consume_challenge(&nonce, now).await? {
            return Err(AuthError::NonceUsed);
        }
        self.open_session(&signer.to_string(), now).await
    }

    /// A new pair for a live refresh token, which stops working.
    pub async fn refresh(&self, refresh_token: &str, now: i64) -> Result<Tokens, AuthError> {
        let digest = digest(refresh_token);
        let session = self
            .store
            .session_by_refresh(&digest)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if !self.store.revoke_by_refresh(&digest, now).await? {
            return Err(AuthError::InvalidToken);
        }
        self.open_session(&session.wallet, now).await
    }

    /// The wallet a live access token belongs to.
    pub async fn wallet(&self, access_token: &str, now: i64) -> Result<String, AuthError> {
        match self.store.session_by_access(&digest(access_token)).await? {
            Some(s) if s.revoked_at.is_none() && now < s.access_expires_at => Ok(s.wallet),
            _ => Err(AuthError::InvalidToken),
        }
    }

    pub async fn sign_out(&self, access_token: &str, now: i64) -> Result<(), AuthError> {
        self.wallet(access_token, now).await?;
        self.store
            .revoke_by_access(&digest(access_token), now)
            .await?;
        Ok(())
    }

    async fn open_session(&self, wallet: &str, now: i64) -> Result<Tokens, AuthError> {
        let (access, refresh) = (random_token(32), random_token(32));
        let s = &self.settings;
        self.store
            .insert_session(
                &digest(&access),
                &digest(&refresh),
                wallet,
                now,
                now + s.access_ttl.as_secs() as i64,
                now + s.refresh_ttl.as_secs() as i64,
            )
            .await?;
        Ok(Tokens {
            wallet: wallet.into(),
            access_token: access,
            token_type: "Bearer",
            expires_in: s.access_ttl.as_secs(),
            refresh_token: refresh,
            refresh_expires_in: s.refresh_ttl.as_secs(),
        })
    }
}

/// `bytes` random bytes from the OS, base64url without padding.
/// A nonce for a wallet-signed message: 24 letters and digits (base58 of 16 random bytes,
/// padded), as the access verifier requires.
pub fn random_nonce() -> String {
    let mut buf = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    buf.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
