//! Access to a rental's instance (its web terminal, its Jupyter secret): a message the
//! rental's renter signs with their wallet, checked by the provider's provisioner itself
//! against the rental's `renter` on chain. No central service can open a shell: only a fresh
//! signature of the renter's key does.
//!
//! The message is a Sign-In With Solana text (the layout of [`crate::siws`], so a wallet's
//! `signMessage` or `signIn` shows it as a sign-in) whose fields bind it to one use:
//!
//! ```text
//! node1.example.com:9100 wants you to sign in with your Solana account:
//! <renter>
//!
//! Open a terminal on Calor rental <rental>
//!
//! URI: https://node1.example.com:9100
//! Version: 1
//! Nonce: <16 to 64 letters or digits, chosen by the client, used once>
//! Issued At: 2026-12-01T10:00:00Z
//! Expiration Time: 2026-12-01T10:05:00Z
//! ```
//!
//! The domain and URI name this provider's endpoint (a message for another provider is
//! refused), the statement names the rental and what is opened (a message for another rental
//! or for Jupyter cannot open a terminal), the expiry is at most [`MAX_VALIDITY_SECS`] after
//! the issue time. Keeping each nonce until its message expires is the verifier's caller's
//! part (see [`NonceCache`]).
use std::collections::HashMap;

use crate::siws::{self, format_rfc3339, parse_rfc3339, SignInMessage, SiwsError, CLOCK_SKEW_SECS};
use crate::Pubkey;

/// The longest an access message may be valid.
pub const MAX_VALIDITY_SECS: i64 = 300;
const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=64;

/// What a signed access message opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessAction {
    Terminal,
    Jupyter,
}

impl AccessAction {
    /// The statement the renter signs for `rental`.
    pub fn statement(self, rental: &Pubkey) -> String {
        match self {
            Self::Terminal => format!("Open a terminal on Calor rental {rental}"),
            Self::Jupyter => format!("Open Jupyter on Calor rental {rental}"),
        }
    }
}

/// A provider endpoint as access messages name it: the URI the client connects to and its
/// host (with port), the message's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub domain: String,
    pub uri: String,
}

impl Endpoint {
    /// From a base URL such as `http://127.0.0.1:9100` or `https://node1.example.com`.
    pub fn from_url(url: &str) -> Option<Endpoint> {
        let uri = url.trim_end_matches('/');
        let rest = uri
            .strip_prefix("https://")
            .or_else(|| uri.strip_prefix("http://"))?;
        let domain = rest
            .split('/')
            .next()
            .filter(|d| !d.is_empty() && !d.contains(|c: char| c.is_whitespace() || c == '@'))?;
        Some(Endpoint {
            domain: domain.to_string(),
            uri: uri.to_string(),
        })
    }
}

impl Endpoint {
    /// The websocket URL of `path` at this endpoint (`ws://` for `http://`, `wss://` for
    /// `https://`).
    pub fn websocket_url(&self, path: &str) -> String {
        let url = match self.uri.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => format!("ws://{}", self.uri.trim_start_matches("http://")),
        };
        format!("{url}{path}")
    }
}

/// An access message's fields, to build the text a wallet signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    pub endpoint: Endpoint,
    pub renter: Pubkey,
    pub rental: Pubkey,
    pub action: AccessAction,
    pub nonce: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; at most [`MAX_VALIDITY_SECS`] after `issued_at`.
    pub expires_at: i64,
}

impl AccessRequest {
    pub fn message(&self) -> SignInMessage {
        SignInMessage {
            domain: self.endpoint.domain.clone(),
            address: self.renter.to_string(),
            statement: Some(self.action.statement(&self.rental)),
            uri: Some(self.endpoint.uri.clone()),
            version: Some("1".into()),
            nonce: Some(self.nonce.clone()),
            issued_at: Some(format_rfc3339(self.issued_at)),
            expiration_time: Some(format_rfc3339(self.expires_at)),
            ..Default::default()
        }
    }

    /// The exact text the renter's wallet signs.
    pub fn text(&self) -> String {
        self.message().text()
    }
}

/// Why access was refused. Each names what failed; none echoes the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    /// Not a sign-in message at all, or not UTF-8.
    Malformed(SiwsError),
    /// Signed for another wallet than the rental's renter.
    WrongWallet,
    /// Made for another provider's endpoint.
    WrongEndpoint,
    /// Names another rental, or another action than the one asked for.
    WrongRental,
    /// Missing a nonce, or one that is not 16 to 64 letters and digits.
    BadNonce,
    /// Missing its issue or expiry time, or one that is not RFC 3339.
    BadTime,
    /// Valid for longer than [`MAX_VALIDITY_SECS`].
    TooLong,
    NotYetValid,
    Expired,
    /// Signed before this provider started: its nonce cache cannot vouch for it.
    SignedBeforeStart,
    /// The nonce was used already.
    Replayed,
    /// The signature is not the renter's over these bytes.
    BadSignature,
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "not an access message: {e}"),
            Self::WrongWallet => f.write_str("signed by a wallet that is not this rental's renter"),
            Self::WrongEndpoint => f.write_str("made for another provider endpoint"),
            Self::WrongRental => f.write_str("made for another rental or another kind of access"),
            Self::BadNonce => f.write_str("the nonce must be 16 to 64 letters or digits"),
            Self::BadTime => f.write_str("the issue and expiry times must be RFC 3339"),
            Self::TooLong => write!(f, "valid for longer than {MAX_VALIDITY_SECS} seconds"),
            Self::NotYetValid => f.write_str("issued in the future"),
            Self::Expired => f.write_str("expired: sign a new one"),
            Self::SignedBeforeStart => {
                f.write_str("signed before this provisioner started: sign a new one")
            }
            Self::Replayed => f.write_str("already used: sign a new one"),
            Self::BadSignature => {
                f.write_str("the signature does not match the renter and message")
            }
        }
    }
}

impl std::error::Error for AccessError {}

impl AccessError {
    /// A short stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::WrongWallet => "wrong_wallet",
            Self::WrongEndpoint => "wrong_endpoint",
            Self::WrongRental => "wrong_rental",
            Self::BadNonce => "bad_nonce",
            Self::BadTime => "bad_time",
            Self::TooLong => "too_long",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::SignedBeforeStart => "signed_before_start",
            Self::Replayed => "replayed",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// A verified access message: what the caller must remember to refuse it a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub nonce: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// What a service requires of an access message: its own endpoint, the rental and the access
/// asked for, and the rental's renter as the chain has it.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub endpoint: &'a Endpoint,
    pub rental: &'a Pubkey,
    pub action: AccessAction,
    pub renter: &'a Pubkey,
}

/// Checks that `message` (the exact signed bytes) is what `expected` requires, signed by its
/// renter, valid at `now`.
pub fn verify(
    expected: &Expected,
    message: &[u8],
    signature: &[u8; 64],
    now: i64,
) -> Result<Grant, AccessError> {
    let Expected {
        endpoint,
        rental,
        action,
        renter,
    } = *expected;
    let text =
        std::str::from_utf8(message).map_err(|_| AccessError::Malformed(SiwsError::NotUtf8))?;
    let parsed = SignInMessage::parse(text).map_err(AccessError::Malformed)?;
    if parsed.address != renter.to_string() {
        return Err(AccessError::WrongWallet);
    }
    if parsed.domain != endpoint.domain || parsed.uri.as_deref() != Some(endpoint.uri.as_str()) {
        return Err(AccessError::WrongEndpoint);
    }
    if parsed.statement.as_deref() != Some(action.statement(rental).as_str()) {
        return Err(AccessError::WrongRental);
    }
    if parsed.version.as_deref() != Some("1") {
        return Err(AccessError::Malformed(SiwsError::Mismatch {
            field: "version",
        }));
    }
    let nonce = parsed
        .nonce
        .filter(|n| NONCE_LEN.contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric()))
        .ok_or(AccessError::BadNonce)?;
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(parse_rfc3339)
            .ok_or(AccessError::BadTime)
    };
    let issued_at = time(&parsed.issued_at)?;
    let expires_at = time(&parsed.expiration_time)?;
    if parsed.not_before.is_some() || parsed.request_id.is_some() || !parsed.resources.is_empty() {
        return Err(AccessError::Malformed(SiwsError::Malformed {
            what: "fields an access message does not have",
        }));
    }
    if expires_at <= issued_at || expires_at - issued_at > MAX_VALIDITY_SECS {
        return Err(AccessError::TooLong);
    }
    if now < issued_at - CLOCK_SKEW_SECS {
        return Err(AccessError::NotYetValid);
    }
    if now >= expires_at {
        return Err(AccessError::Expired);
    }
    siws::verify_signature(renter, message, signature).map_err(|e| match e {
        SiwsError::BadSignature => AccessError::BadSignature,
        other => AccessError::Malformed(other),
    })?;
    Ok(Grant {
        nonce,
        issued_at,
        expires_at,
    })
}

/// The nonces of verified messages, each kept until its message expires, so each message opens
/// at most once. Messages issued before the cache was made are refused: a restarted service
/// has forgotten what was used before it.
#[derive(Debug)]
pub struct NonceCache {
    started_at: i64,
    used: HashMap<(Pubkey, String), i64>,
}

impl NonceCache {
    /// A cache for a service that started at `started_at` (unix seconds).
    pub fn new(started_at: i64) -> NonceCache {
        NonceCache {
            started_at,
            used: HashMap::new(),
        }
    }

    /// Records `grant` for `renter`, or says why it may not be used.
    fn admit(&mut self, renter: &Pubkey, grant: &Grant, now: i64) -> Result<(), AccessError> {
        if grant.issued_at < self.started_at {
            return Err(AccessError::SignedBeforeStart);
        }
        self.used.retain(|_, expires_at| *expires_at > now);
        match self.used.entry((*renter, grant.nonce.clone())) {
            std::collections::hash_map::Entry::Occupied(_) => Err(AccessError::Replayed),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(grant.expires_at);
                Ok(())
            }
        }
    }

    /// [`verify`], then single use: the first valid use of a message succeeds, every later one
    /// is [`AccessError::Replayed`].
    pub fn verify_once(
        &mut self,
        expected: &Expected,
        message: &[u8],
        signature: &[u8; 64],
        now: i64,
    ) -> Result<Grant, AccessError> {
        let grant = verify(expected, message, signature, now)?;
        self.admit(expected.renter, &grant, now)?;
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    const NOW: i64 = 1_796_119_200; // 2026-12-01T10:00:00Z

    fn wallet(seed: u8) -> (SigningKey, Pubkey) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let address = Pubkey::new_from_array(key.verifying_key().to_bytes());
        (key, address)
    }

    fn endpoint() -> Endpoint {
        Endpoint::from_url("http://127.0.0.1:9100/").unwrap()
    }

    /// A terminal on `rental` at [`endpoint`].
    fn expected<'a>(rental: &'a Pubkey, renter: &'a Pubkey) -> Expected<'a> {
        static ENDPOINT: std::sync::OnceLock<Endpoint> = std::sync::OnceLock::new();
        Expected {
            endpoint: ENDPOINT.get_or_init(endpoint),
            rental,
            action: AccessAction::Terminal,
            renter,
        }
    }

    fn request(renter: Pubkey, rental: Pubkey) -> AccessRequest {
        AccessRequest {
            endpoint: endpoint(),
            renter,
            rental,
            action: AccessAction::Terminal,
            nonce: "a1b2c3d4e5f6g7h8".into(),
            issued_at: NOW,
            expires_at: NOW + 120,
        }
    }

    fn sign(key: &SigningKey, text: &str) -> [u8; 64] {
        key.sign(text.as_bytes()).to_bytes()
    }

    #[test]
    fn the_renters_fresh_message_opens_once() {
        let (key, renter) = wallet(1);
        let rental = Pubkey::new_unique();
        let text = request(renter, rental).text();
        assert!(text.starts_with("127.0.0.1:9100 wants you to sign in"));
        assert!(text.contains(&format!("Open a terminal on Calor rental {rental}")));
        let signature = sign(&key, &text);
        let mut cache = NonceCache::new(NOW - 10);
        let open = |cache: &mut NonceCache, now| {
            cache.verify_once(
                &expected(&rental, &renter),
                text.as_bytes(),
                &signature,
                now,
            )
        };
        assert!(open(&mut cache, NOW + 1).is_ok());
        assert_eq!(open(&mut cache, NOW + 2), Err(AccessError::Replayed));
        assert_eq!(
            open(&mut NonceCache::new(NOW + 5), NOW + 6),
            Err(AccessError::SignedBeforeStart)
        );
    }

    #[test]
    fn every_other_message_is_refused_by_name() {
        let (key, renter) = wallet(1);
        let (other_key, other) = wallet(2);
        let rental = Pubkey::new_unique();
        let check = |req: &AccessRequest, key: &SigningKey, now: i64| {
            let text = req.text();
            verify(
                &expected(&rental, &renter),
                text.as_bytes(),
                &sign(key, &text),
                now,
            )
        };
        let good = request(renter, rental);
        assert!(check(&good, &key, NOW).is_ok());
        // another wallet signs a message naming itself, or naming the renter
        assert_eq!(
            check(&request(other, rental), &other_key, NOW),
            Err(AccessError::WrongWallet)
        );
        assert_eq!(
            check(&good, &other_key, NOW),
            Err(AccessError::BadSignature)
        );
        assert_eq!(
            check(&request(renter, Pubkey::new_unique()), &key, NOW),
            Err(AccessError::WrongRental)
        );
        let jupyter = AccessRequest {
            action: AccessAction::Jupyter,
            ..good.clone()
        };
        assert_eq!(check(&jupyter, &key, NOW), Err(AccessError::WrongRental));
        let elsewhere = AccessRequest {
            endpoint: Endpoint::from_url("http://10.0.0.2:9100").unwrap(),
            ..good.clone()
        };
        assert_eq!(
            check(&elsewhere, &key, NOW),
            Err(AccessError::WrongEndpoint)
        );
        assert_eq!(check(&good, &key, NOW + 120), Err(AccessError::Expired));
        assert_eq!(
            check(&good, &key, NOW - CLOCK_SKEW_SECS - 1),
            Err(AccessError::NotYetValid)
        );
        let long = AccessRequest {
            expires_at: NOW + MAX_VALIDITY_SECS + 1,
            ..good.clone()
        };
        assert_eq!(check(&long, &key, NOW), Err(AccessError::TooLong));
        let short_nonce = AccessRequest {
            nonce: "abc".into(),
            ..good.clone()
        };
        assert_eq!(check(&short_nonce, &key, NOW), Err(AccessError::BadNonce));
        let odd_nonce = AccessRequest {
            nonce: "a1b2c3d4e5f6g7h8-".into(),
            ..good.clone()
        };
        assert_eq!(check(&odd_nonce, &key, NOW), Err(AccessError::BadNonce));
        assert!(matches!(
            verify(&expected(&rental, &renter), b"hello", &[0; 64], NOW),
            Err(AccessError::Malformed(_))
        ));
    }
}
