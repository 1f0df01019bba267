//! The SSH public keys a rental accepts, validated the same way by the program at open and by
//! the provisioner before a key reaches `authorized_keys`: exactly one key line of a known
//! type, with no options, no second line and no control characters.
use crate::constants::MAX_SSH_KEY_LEN;

/// Each accepted key type and the base64 its key blob starts with (the type name, length
/// prefixed, inside the blob), so a blob of one type cannot be passed off as another.
const KEY_TYPES: [(&str, &str, usize); 3] = [
    // type, blob prefix, shortest blob (base64 characters)
    ("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5", 68),
    (
        "ecdsa-sha2-nistp256",
        "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY",
        140,
    ),
    // 2048-bit keys and longer
    ("ssh-rsa", "AAAAB3NzaC1yc2E", 372),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshKeyError {
    TooLong,
    UnknownType,
    BadBlob,
    BadComment,
}

impl core::fmt::Display for SshKeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::TooLong => "longer than the 640 bytes a key line may have",
            Self::UnknownType => "not an ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256 key (or options before the key type)",
            Self::BadBlob => "the key itself is not base64 of that key type",
            Self::BadComment => "the comment has a control character or a second line",
        })
    }
}

/// `BASE64[b]`: `b` may appear in a base64 key blob (before its padding).
const BASE64: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        b += 1;
    }
    table
};

/// Checks `line` is exactly `<type> <base64 key>[ <comment>]` of an accepted type. One pass
/// over the bytes: the program runs this on every open that carries a key.
pub fn validate(line: &str) -> Result<(), SshKeyError> {
    let bytes = line.as_bytes();
    if bytes.len() > MAX_SSH_KEY_LEN as usize {
        return Err(SshKeyError::TooLong);
    }
    let (name, prefix, min_len) = KEY_TYPES
        .iter()
        .find(|(name, ..)| {
            bytes.get(name.len()) == Some(&b' ') && bytes.starts_with(name.as_bytes())
        })
        .ok_or(SshKeyError::UnknownType)?;
    let rest = &bytes[name.len() + 1..];
    // the blob, in one pass: base64 characters, then at most two '=' of padding
    let (mut len, mut padding) = (0usize, 0usize);
    for &b in rest {
        if b == b' ' {
            break;
        }
        if b == b'=' {
            padding += 1;
        } else if padding > 0 || !BASE64[usize::from(b)] {
            return Err(SshKeyError::BadBlob);
        }
        len += 1;
    }
    if len < *min_len || len % 4 != 0 || padding > 2 || !rest.starts_with(prefix.as_bytes()) {
        return Err(SshKeyError::BadBlob);
    }
    // the comment (after its separating space) is printable ASCII: no second line
    if !rest[len..].iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(SshKeyError::BadComment);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ renter@calor";

    #[test]
    fn one_plain_key_line_of_a_known_type() {
        assert_eq!(validate(ED25519), Ok(()));
        assert_eq!(
            validate(&ED25519[..ED25519.len() - 13]),
            Ok(()),
            "no comment"
        );
        assert_eq!(validate("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ two words"), Ok(()));
        for (bad, why) in [
            (
                format!("{ED25519}\nssh-ed25519 AAAA second"),
                SshKeyError::BadComment,
            ),
            (format!("{ED25519}\r"), SshKeyError::BadComment),
            (
                format!("command=\"rm -rf /\" {ED25519}"),
                SshKeyError::UnknownType,
            ),
            (format!("no-pty {ED25519}"), SshKeyError::UnknownType),
            (
                "ssh-dss AAAAB3NzaC1kc3MAAACBAP".into(),
                SshKeyError::UnknownType,
            ),
            ("ssh-ed25519".into(), SshKeyError::UnknownType),
            (
                "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQCx".into(),
                SshKeyError::BadBlob,
            ),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI!x1xH0S9kHkB6n1sBq3x7m6pyV3x2Ob4n1e2bXm0Qf"
                    .into(),
                SshKeyError::BadBlob,
            ),
            (
                "ssh-ed25519  AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/"
                    .into(),
                SshKeyError::BadBlob,
            ),
            (
                format!("ssh-rsa AAAAB3NzaC1yc2E{}", "A".repeat(700)),
                SshKeyError::TooLong,
            ),
        ] {
            assert_eq!(validate(&bad), Err(why), "{bad:?}");
        }
    }
}
