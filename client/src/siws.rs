//! Sign-In With Solana: the Wallet Standard `solana:signIn` message, built and read exactly as
//! wallets write it (`createSignInMessageText` of `@solana/wallet-standard-util`), and verified
//! against the challenge a server issued. One verifier for every service that lets a wallet in
//! (the API's sign-in, the provisioner's terminal): the message must name this service's domain
//! and URI, the signer's address, the issued nonce, statement, version and chain, be inside its
//! time window, and carry a strict ed25519 signature (`verify_strict`: no small-order keys, no
//! malleable signatures) by that address over its exact bytes.
//!
//! Single use of a nonce is the caller's part (the API keeps nonces in its store, so replicas
//! agree); the verifier only compares.
//!
//! ```text
//! ${domain} wants you to sign in with your Solana account:
//! ${address}
//!
//! ${statement}
//!
//! URI: ${uri}
//! Version: ${version}
//! Chain ID: ${chain-id}
//! Nonce: ${nonce}
//! Issued At: ${issued-at}
//! Expiration Time: ${expiration-time}
//! Not Before: ${not-before}
//! Request ID: ${request-id}
//! Resources:
//! - ${resources[0]}
//! ```
use std::fmt::Write as _;

use crate::Pubkey;

const HEADER: &str = " wants you to sign in with your Solana account:";

/// A sign-in message's fields (the optional ones absent from the text when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignInMessage {
    pub domain: String,
    pub address: String,
    pub statement: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub chain_id: Option<String>,
    pub nonce: Option<String>,
    pub issued_at: Option<String>,
    pub expiration_time: Option<String>,
    pub not_before: Option<String>,
    pub request_id: Option<String>,
    pub resources: Vec<String>,
}

#[cfg(feature = "rpc")]
impl SignInMessage {
    /// What a wallet's `solana:signIn` writes for `address` given a `SolanaSignInInput` as
    /// JSON (the API's challenge); `None` without a domain. For local tools and tests: a
    /// browser wallet does this itself.
    pub fn answering(input: &serde_json::Value, address: &str) -> Option<SignInMessage> {
        let field = |k: &str| input[k].as_str().map(str::to_string);
        Some(SignInMessage {
            domain: field("domain")?,
            address: address.to_string(),
            statement: field("statement"),
            uri: field("uri"),
            version: field("version"),
            chain_id: field("chainId"),
            nonce: field("nonce"),
            issued_at: field("issuedAt"),
            expiration_time: field("expirationTime"),
            not_before: field("notBefore"),
            request_id: field("requestId"),
            resources: Vec::new(),
        })
    }
}

/// Why a sign-in was refused. Each names what failed and never echoes secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiwsError {
    /// The signed bytes are not UTF-8.
    NotUtf8,
    /// The text is not a sign-in message; `what` says where it departs from the format.
    Malformed { what: &'static str },
    /// A field differs from the issued challenge (or the signer, for `address`).
    Mismatch { field: &'static str },
    /// A time field is not an RFC 3339 date-time.
    BadTime { field: &'static str },
    /// Before `Issued At` or `Not Before` (beyond the allowed clock skew).
    NotYetValid,
    /// At or after `Expiration Time`.
    Expired,
    /// The address is not an ed25519 public key a wallet can hold.
    BadAddress,
    /// The signature does not verify strictly for the address over the message's bytes.
    BadSignature,
}

impl std::fmt::Display for SiwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotUtf8 => write!(f, "the signed message is not UTF-8"),
            Self::Malformed { what } => write!(f, "not a Sign-In With Solana message: {what}"),
            Self::Mismatch { field } => {
                write!(
                    f,
                    "the message's {field} is not the one this sign-in issued"
                )
            }
            Self::BadTime { field } => write!(f, "the message's {field} is not an RFC 3339 time"),
            Self::NotYetValid => write!(f, "the sign-in is not valid yet"),
            Self::Expired => write!(f, "the sign-in has expired"),
            Self::BadAddress => write!(f, "the address is not a valid ed25519 public key"),
            Self::BadSignature => write!(f, "the signature does not match the address and message"),
        }
    }
}

impl std::error::Error for SiwsError {}

impl SignInMessage {
    /// The text a wallet signs for these fields.
    pub fn text(&self) -> String {
        let mut text = format!("{}{HEADER}\n{}", self.domain, self.address);
        if let Some(statement) = &self.statement {
            let _ = write!(text, "\n\n{statement}");
        }
        let mut fields = Vec::new();
        let labelled = [
            ("URI", &self.uri),
            ("Version", &self.version),
            ("Chain ID", &self.chain_id),
            ("Nonce", &self.nonce),
            ("Issued At", &self.issued_at),
            ("Expiration Time", &self.expiration_time),
            ("Not Before", &self.not_before),
            ("Request ID", &self.request_id),
        ];
        for (label, value) in labelled {
            if let Some(value) = value {
                fields.push(format!("{label}: {value}"));
            }
        }
        if !self.resources.is_empty() {
            fields.push("Resources:".into());
            fields.extend(self.resources.iter().map(|r| format!("- {r}")));
        }
        if !fields.is_empty() {
            let _ = write!(text, "\n\n{}", fields.join("\n"));
        }
        text
    }

    /// Reads a message in exactly the layout [`text`](Self::text) writes (no `\r`, fields in
    /// their order, each at most once).
    pub fn parse(text: &str) -> Result<Self, SiwsError> {
        let malformed = |what| SiwsError::Malformed { what };
        if text.contains('\r') {
            return Err(malformed("carriage return"));
        }
        let mut lines = text.split('\n').peekable();
        let domain = lines
            .next()
            .and_then(|l| l.strip_suffix(HEADER))
            .filter(|d| !d.is_empty() && !d.contains(char::is_whitespace))
            .ok_or(malformed("first line"))?;
        let address = lines
            .next()
            .filter(|a| !a.is_empty())
            .ok_or(malformed("address line"))?;
        let mut message = SignInMessage {
            domain: domain.into(),
            address: address.into(),
            ..Default::default()
        };
        if lines.peek().is_none() {
            return Ok(message);
        }
        if lines.next() != Some("") {
            return Err(malformed("no blank line after the address"));
        }
        // A statement is the one line after the blank line that is not a field.
        let first = *lines
            .peek()
            .ok_or(malformed("nothing after the blank line"))?;
        if !starts_field(first) {
            message.statement = Some(first.to_string());
            lines.next();
            match lines.next() {
                None => return Ok(message),
                Some("") => {}
                Some(_) => return Err(malformed("the statement spans lines")),
            }
        }
        let mut order = 0;
        while let Some(line) = lines.next() {
            if line == "Resources:" {
                for resource in lines.by_ref() {
                    let r = resource
                        .strip_prefix("- ")
                        .ok_or(malformed("a line after the resources"))?;
                    message.resources.push(r.into());
                }
                if message.resources.is_empty() {
                    return Err(malformed("empty resources"));
                }
                break;
            }
            let (label, value) = line
                .split_once(": ")
                .ok_or(malformed("a line that is not a field"))?;
            let position = FIELDS
                .iter()
                .position(|f| *f == label)
                .ok_or(malformed("an unknown field"))?;
            if position < order {
                return Err(malformed("fields out of order or repeated"));
            }
            order = position + 1;
            if value.is_empty() {
                return Err(malformed("an empty field"));
            }
            let slot = match position {
                0 => &mut message.uri,
                1 => &mut message.version,
                2 => &mut message.chain_id,
                3 => &mut message.nonce,
                4 => &mut message.issued_at,
                5 => &mut message.expiration_time,
                6 => &mut message.not_before,
                _ => &mut message.request_id,
            };
            *slot = Some(value.into());
        }
        Ok(message)
    }
}

const FIELDS: [&str; 8] = [
    "URI",
    "Version",
    "Chain ID",
    "Nonce",
    "Issued At",
    "Expiration Time",
    "Not Before",
    "Request ID",
];

fn starts_field(line: &str) -> bool {
    line == "Resources:"
        || FIELDS.iter().any(|f| {
            line.strip_prefix(f)
                .is_some_and(|rest| rest.starts_with(": "))
        })
}

/// What a service issued and so requires of the signed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// This service's host (and port), as the browser's origin names it.
    pub domain: String,
    pub uri: String,
    pub statement: String,
    /// A CAIP-2-style chain name, e.g. `solana:mainnet` or `solana:localnet`.
    pub chain_id: String,
    pub nonce: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; the message is refused from this time on.
    pub expires_at: i64,
}

/// How far a signer's clock may run ahead of ours.
pub const CLOCK_SKEW_SECS: i64 = 60;

impl Challenge {
    /// The fields to hand the wallet's `signIn` (the wallet adds the address it signs with).
    pub fn message_for(&self, address: &Pubkey) -> SignInMessage {
        SignInMessage {
            domain: self.domain.clone(),
            address: address.to_string(),
            statement: Some(self.statement.clone()),
            uri: Some(self.uri.clone()),
            version: Some("1".into()),
            chain_id: Some(self.chain_id.clone()),
            nonce: Some(self.nonce.clone()),
            issued_at: Some(format_rfc3339(self.issued_at)),
            expiration_time: Some(format_rfc3339(self.expires_at)),
            ..Default::default()
        }
    }

    /// Checks that `message` (the exact bytes the wallet signed) answers this challenge for
    /// `signer` at `now` (unix seconds), and that `signature` is `signer`'s over it.
    pub fn verify(
        &self,
        message: &[u8],
        signature: &[u8; 64],
        signer: &Pubkey,
        now: i64,
    ) -> Result<SignInMessage, SiwsError> {
        let text = std::str::from_utf8(message).map_err(|_| SiwsError::NotUtf8)?;
        let parsed = SignInMessage::parse(text)?;
        let mismatch = |field| SiwsError::Mismatch { field };
        let same = |got: &Option<String>, want: &str| got.as_deref() == Some(want);
        if parsed.address != signer.to_string() {
            return Err(mismatch("address"));
        }
        if parsed.domain != self.domain {
            return Err(mismatch("domain"));
        }
        if !same(&parsed.uri, &self.uri) {
            return Err(mismatch("URI"));
        }
        if !same(&parsed.statement, &self.statement) {
            return Err(mismatch("statement"));
        }
        if !same(&parsed.version, "1") {
            return Err(mismatch("version"));
        }
        if !same(&parsed.chain_id, &self.chain_id) {
            return Err(mismatch("chain ID"));
        }
        if !same(&parsed.nonce, &self.nonce) {
            return Err(mismatch("nonce"));
        }
        let time =
            |field: &'static str, value: &Option<String>| -> Result<Option<i64>, SiwsError> {
                value
                    .as_deref()
                    .map(|v| parse_rfc3339(v).ok_or(SiwsError::BadTime { field }))
                    .transpose()
            };
        let issued_at = time("issued-at", &parsed.issued_at)?;
        let expires_at = time("expiration time", &parsed.expiration_time)?;
        let not_before = time("not-before", &parsed.not_before)?;
        if issued_at != Some(self.issued_at) {
            return Err(mismatch("issued-at"));
        }
        if expires_at != Some(self.expires_at) {
            return Err(mismatch("expiration time"));
        }
        if now < self.issued_at - CLOCK_SKEW_SECS
            || not_before.is_some_and(|t| now < t - CLOCK_SKEW_SECS)
        {
            return Err(SiwsError::NotYetValid);
        }
        if now >= self.expires_at {
            return Err(SiwsError::Expired);
        }
        verify_signature(signer, message, signature)?;
        Ok(parsed)
    }
}

/// A strict ed25519 check of `signature` by `signer` over `message`.
pub fn verify_signature(
    signer: &Pubkey,
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), SiwsError> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(&signer.to_bytes())
        .map_err(|_| SiwsError::BadAddress)?;
    if key.is_weak() {
        return Err(SiwsError::BadAddress);
    }
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature))
        .map_err(|_| SiwsError::BadSignature)
}

/// `unix` seconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// An RFC 3339 date-time (`T` separator, optional fraction, `Z` or `±HH:MM`) as unix
/// seconds, the fraction dropped. Anything else is `None`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, s) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let fraction = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 || fraction > 9 {
            return None;
        }
        rest = &rest[1 + fraction..];
    }
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let part = [*h1, *h2, *m1, *m2];
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let (oh, om) = (
                i64::from((h1 - b'0') * 10 + (h2 - b'0')),
                i64::from((m1 - b'0') * 10 + (m2 - b'0')),
            );
            if oh > 23 || om > 59 {
                return None;
            }
            let minutes = oh * 60 + om;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    const NOW: i64 = 1_796_000_000; // 2026-11-30T00:53:20Z

    fn wallet(seed: u8) -> (SigningKey, Pubkey) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let address = Pubkey::new_from_array(key.verifying_key().to_bytes());
        (key, address)
    }

    fn challenge() -> Challenge {
        Challenge {
            domain: "app.calor.example".into(),
            uri: "https://app.calor.example/api".into(),
            statement: "Sign in to Calor. This request costs nothing and moves no funds.".into(),
            chain_id: "solana:mainnet".into(),
            nonce: "n0nc3AbCdEf12345".into(),
            issued_at: NOW,
            expires_at: NOW + 600,
        }
    }

    fn signed(key: &SigningKey, text: &str) -> [u8; 64] {
        key.sign(text.as_bytes()).to_bytes()
    }

    #[test]
    fn the_text_is_what_wallets_write_and_reads_back() {
        let (_, address) = wallet(1);
        let message = challenge().message_for(&address);
        let text = message.text();
        assert_eq!(
            text,
            format!(
                "app.calor.example wants you to sign in with your Solana account:\n{address}\n\n\
                 Sign in to Calor. This request costs nothing and moves no funds.\n\n\
                 URI: https://app.calor.example/api\nVersion: 1\nChain ID: solana:mainnet\n\
                 Nonce: n0nc3AbCdEf12345\nIssued At: 2026-11-30T00:53:20Z\n\
                 Expiration Time: 2026-11-30T01:03:20Z"
            )
        );
        assert_eq!(SignInMessage::parse(&text).unwrap(), message);

        let full = SignInMessage {
            not_before: Some("2026-11-30T00:53:20.123Z".into()),
            request_id: Some("r-1".into()),
            resources: vec!["https://a.example/x".into(), "ipfs://b".into()],
            ..message.clone()
        };
        assert_eq!(SignInMessage::parse(&full.text()).unwrap(), full);
        let bare = SignInMessage {
            domain: "d.example".into(),
            address: address.to_string(),
            ..Default::default()
        };
        assert_eq!(SignInMessage::parse(&bare.text()).unwrap(), bare);
        let no_statement = SignInMessage {
            statement: None,
            ..message
        };
        assert_eq!(
            SignInMessage::parse(&no_statement.text()).unwrap(),
            no_statement
        );
    }

    #[test]
    fn a_signed_answer_to_the_challenge_is_accepted() {
        let (key, address) = wallet(1);
        let c = challenge();
        let text = c.message_for(&address).text();
        let accepted = c
            .verify(text.as_bytes(), &signed(&key, &text), &address, NOW + 5)
            .unwrap();
        assert_eq!(accepted.nonce.as_deref(), Some("n0nc3AbCdEf12345"));
        // a wallet's clock a little ahead of ours
        assert!(c
            .verify(text.as_bytes(), &signed(&key, &text), &address, NOW - 30)
            .is_ok());
    }

    #[test]
    fn every_field_is_compared_by_name() {
        let (key, address) = wallet(1);
        let c = challenge();
        let base = c.message_for(&address);
        let cases: Vec<(&str, SignInMessage)> = vec![
            (
                "domain",
                SignInMessage {
                    domain: "evil.example".into(),
                    ..base.clone()
                },
            ),
            (
                "URI",
                SignInMessage {
                    uri: Some("https://evil.example/api".into()),
                    ..base.clone()
                },
            ),
            (
                "URI",
                SignInMessage {
                    uri: None,
                    ..base.clone()
                },
            ),
            (
                "statement",
                SignInMessage {
                    statement: Some("Approve everything".into()),
                    ..base.clone()
                },
            ),
            (
                "statement",
                SignInMessage {
                    statement: None,
                    ..base.clone()
                },
            ),
            (
                "version",
                SignInMessage {
                    version: Some("2".into()),
                    ..base.clone()
                },
            ),
            (
                "chain ID",
                SignInMessage {
                    chain_id: Some("solana:devnet".into()),
                    ..base.clone()
                },
            ),
            (
                "nonce",
                SignInMessage {
                    nonce: Some("another-nonce-123".into()),
                    ..base.clone()
                },
            ),
            (
                "nonce",
                SignInMessage {
                    nonce: None,
                    ..base.clone()
                },
            ),
            (
                "issued-at",
                SignInMessage {
                    issued_at: Some(format_rfc3339(NOW - 3600)),
                    ..base.clone()
                },
            ),
            (
                "issued-at",
                SignInMessage {
                    issued_at: None,
                    ..base.clone()
                },
            ),
            (
                "expiration time",
                SignInMessage {
                    expiration_time: Some(format_rfc3339(NOW + 86_400)),
                    ..base.clone()
                },
            ),
            (
                "expiration time",
                SignInMessage {
                    expiration_time: None,
                    ..base.clone()
                },
            ),
        ];
        for (field, message) in cases {
            let text = message.text();
            assert_eq!(
                c.verify(text.as_bytes(), &signed(&key, &text), &address, NOW),
                Err(SiwsError::Mismatch { field }),
                "{text}"
            );
        }
        // signed by another wallet than the one named, or naming another wallet
        let (other_key, other) = wallet(2);
        let text = base.text();
        assert_eq!(
            c.verify(text.as_bytes(), &signed(&other_key, &text), &other, NOW),
            Err(SiwsError::Mismatch { field: "address" })
        );
        assert_eq!(
            c.verify(text.as_bytes(), &signed(&other_key, &text), &address, NOW),
            Err(SiwsError::BadSignature)
        );
    }

    #[test]
    fn times_are_enforced() {
        let (key, address) = wallet(1);
        let c = challenge();
        let text = c.message_for(&address).text();
        let sig = signed(&key, &text);
        assert_eq!(
            c.verify(text.as_bytes(), &sig, &address, NOW + 600),
            Err(SiwsError::Expired)
        );
        assert_eq!(
            c.verify(text.as_bytes(), &sig, &address, NOW - CLOCK_SKEW_SECS - 1),
            Err(SiwsError::NotYetValid)
        );
        let later = SignInMessage {
            not_before: Some(format_rfc3339(NOW + 300)),
            ..c.message_for(&address)
        };
        let text = later.text();
        assert_eq!(
            c.verify(text.as_bytes(), &signed(&key, &text), &address, NOW),
            Err(SiwsError::NotYetValid)
        );
        let garbled = SignInMessage {
            not_before: Some("tomorrow".into()),
            ..c.message_for(&address)
        };
        let text = garbled.text();
        assert_eq!(
            c.verify(text.as_bytes(), &signed(&key, &text), &address, NOW),
            Err(SiwsError::BadTime {
                field: "not-before"
            })
        );
    }

    #[test]
    fn signatures_are_strict() {
        let (key, address) = wallet(1);
        let c = challenge();
        let text = c.message_for(&address).text();
        let mut sig = signed(&key, &text);
        let mut tampered = text.clone().into_bytes();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(c.verify(&tampered, &sig, &address, NOW).is_err());
        // S + L (the group order): the same point, a malleable encoding verify_strict refuses
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
            sig[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(
            c.verify(text.as_bytes(), &sig, &address, NOW),
            Err(SiwsError::BadSignature)
        );
        // the identity point as a key (small order): any "signature" would do for it
        let weak = Pubkey::new_from_array({
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        });
        let text = c.message_for(&weak).text();
        assert_eq!(
            c.verify(text.as_bytes(), &[0; 64], &weak, NOW),
            Err(SiwsError::BadAddress)
        );
        assert_eq!(
            c.verify(&[0xff, 0xfe], &[0; 64], &address, NOW),
            Err(SiwsError::NotUtf8)
        );
    }

    #[test]
    fn anything_off_format_is_malformed() {
        let (_, address) = wallet(1);
        let good = challenge().message_for(&address).text();
        let bad = [
            good.replace('\n', "\r\n"),
            good.replacen("wants you to sign in", "wants you to log in", 1),
            good.replacen("Version: 1\n", "", 1)
                .replacen("Nonce:", "Version: 1\nNonce:", 1),
            good.replacen("Nonce: ", "Nonce: x\nNonce: ", 1),
            good.replacen("URI: ", "Url: ", 1),
            good.replacen("Sign in to Calor.", "Sign in\nto Calor.", 1),
            format!("{good}\nExtra: line"),
            format!("{good}\nResources:"),
            format!("{good}\nResources:\n- a\nB"),
            good.replacen("Chain ID: solana:mainnet", "Chain ID: ", 1),
            String::new(),
        ];
        for text in bad {
            assert!(
                matches!(
                    SignInMessage::parse(&text),
                    Err(SiwsError::Malformed { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rfc3339_round_trips_and_refuses_junk() {
        for unix in [0, 951_782_400, 1_796_000_000, 4_102_444_800, -86_400] {
            assert_eq!(parse_rfc3339(&format_rfc3339(unix)), Some(unix));
        }
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-30T00:53:20.999Z"), Some(NOW));
        assert_eq!(parse_rfc3339("2026-11-30T01:53:20+01:00"), Some(NOW));
        assert_eq!(parse_rfc3339("2026-11-29T19:53:20-05:00"), Some(NOW));
        for junk in [
            "2026-11-30 02:13:20Z",
            "2026-11-30T02:13:20",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "2026-11-30T02:13:20.Z",
            "2026-11-30T02:13:20+0100",
            "+026-11-30T02:13:20Z",
            "2026-11-30T02:13:20Zjunk",
        ] {
            assert_eq!(parse_rfc3339(junk), None, "{junk}");
        }
    }
}
