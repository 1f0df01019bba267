//! Raw checks on SPL Token / Token-2022 accounts where Anchor's typed accounts either do not
//! look (mint extensions) or would fail a whole settlement (a renter's closed account).
//!
//! Layouts (shared by both programs): a mint's base state is 82 bytes, a token account's 165;
//! Token-2022 appends, after byte 165, the account type (1 = mint, 2 = account) and then
//! type-length-value extension entries (`u16` type, `u16` length, value).
use anchor_lang::prelude::*;

use crate::errors::CalorError;

const MINT_FREEZE_AUTHORITY_TAG: core::ops::Range<usize> = 46..50;
const ACCOUNT_BASE_LEN: usize = 165;
const ACCOUNT_TYPE_MINT: u8 = 1;
const ACCOUNT_STATE_OFFSET: usize = 108;
const ACCOUNT_STATE_INITIALIZED: u8 = 1;

/// Token-2022 mint extensions that cannot block or drain a program-owned escrow: they only
/// describe the token (metadata, groups) or change how amounts are displayed.
const HARMLESS_MINT_EXTENSIONS: [u16; 8] = [
    10, // InterestBearingConfig: display only, balances do not change
    18, // MetadataPointer
    19, // TokenMetadata
    20, // GroupPointer
    21, // TokenGroup
    22, // GroupMemberPointer
    23, // TokenGroupMember
    25, // ScaledUiAmount: display only
];
/// `MemoTransfer`: a token account that requires a memo on incoming transfers.
const MEMO_TRANSFER: u16 = 8;

/// Iterates the TLV extension entries of a Token-2022 account's data (none for plain SPL
/// Token accounts); a truncated entry ends the walk with an error.
fn extensions(data: &[u8]) -> impl Iterator<Item = core::result::Result<(u16, &[u8]), ()>> {
    let mut at = ACCOUNT_BASE_LEN + 1;
    core::iter::from_fn(move || {
        let header = data.get(at..at + 4)?;
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        if kind == 0 {
            return None; // uninitialized space after the last entry
        }
        let value = match data.get(at + 4..at + 4 + len) {
            Some(v) => v,
            None => {
                at = data.len();
                return Some(Err(()));
            }
        };
        at += 4 + len;
        Some(Ok((kind, value)))
    })
}

/// Refuses a Calor mint that could freeze, block or drain the escrows and vaults the program
/// keeps: a freeze authority, or any Token-2022 extension outside [`HARMLESS_MINT_EXTENSIONS`]
/// (transfer fees, transfer hooks, permanent delegates, default-frozen accounts,
/// non-transferable tokens, pausing, confidential transfers, a mint close authority, and any
/// extension this program does not know).
pub fn check_calor_mint(data: &[u8]) -> Result<()> {
    require!(
        data.get(MINT_FREEZE_AUTHORITY_TAG) == Some(&[0, 0, 0, 0][..]),
        CalorError::MintHasFreezeAuthority
    );
    if data.len() <= ACCOUNT_BASE_LEN {
        return Ok(()); // SPL Token, or Token-2022 without extensions
    }
    require!(
        data[ACCOUNT_BASE_LEN] == ACCOUNT_TYPE_MINT,
        CalorError::MintExtensionNotAllowed
    );
    for entry in extensions(data) {
        let (kind, _) = entry.map_err(|_| CalorError::MintExtensionNotAllowed)?;
        if !HARMLESS_MINT_EXTENSIONS.contains(&kind) {
            msg!("refused mint extension type {}", kind);
            return err!(CalorError::MintExtensionNotAllowed);
        }
    }
    Ok(())
}

/// Whether `info` is an initialised, unfrozen token account of `mint` owned by `owner` under
/// `token_program` that accepts plain transfers (no required memo), so paying into it cannot
/// fail.
pub fn can_receive(
    info: &AccountInfo,
    token_program: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
) -> bool {
    if info.owner != token_program {
        return false;
    }
    let Ok(data) = info.try_borrow_data() else {
        return false;
    };
    if data.len() < ACCOUNT_BASE_LEN
        || data[..32] != mint.as_ref()[..]
        || data[32..64] != owner.as_ref()[..]
        || data[ACCOUNT_STATE_OFFSET] != ACCOUNT_STATE_INITIALIZED
    {
        return false;
    }
    let receivable = extensions(&data).all(|entry| match entry {
        Ok((MEMO_TRANSFER, value)) => value.first() != Some(&1),
        Ok(_) => true,
        Err(()) => false,
    });
    receivable
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mint_with(freeze: bool, extensions: &[(u16, &[u8])]) -> Vec<u8> {
        let mut data = vec![0u8; 82];
        data[45] = 1; // initialised
        if freeze {
            data[46] = 1;
        }
        if !extensions.is_empty() {
            data.resize(ACCOUNT_BASE_LEN, 0);
            data.push(ACCOUNT_TYPE_MINT);
            for (kind, value) in extensions {
                data.extend_from_slice(&kind.to_le_bytes());
                data.extend_from_slice(&(value.len() as u16).to_le_bytes());
                data.extend_from_slice(value);
            }
        }
        data
    }

    #[test]
    fn mints_are_refused_for_freezing_and_for_every_unknown_or_harmful_extension() {
        assert!(check_calor_mint(&mint_with(false, &[])).is_ok());
        assert!(check_calor_mint(&mint_with(true, &[])).is_err());
        assert!(check_calor_mint(&mint_with(false, &[(18, &[0; 64]), (19, &[1, 2, 3])])).is_ok());
        for harmful in [1u16, 3, 4, 6, 9, 12, 14, 16, 24, 26, 27, 99] {
            let refused =
                check_calor_mint(&mint_with(false, &[(18, &[0; 64]), (harmful, &[0; 8])]));
            assert!(refused.is_err(), "extension {harmful} accepted");
        }
        // a truncated entry is refused, not skipped
        let mut truncated = mint_with(false, &[(18, &[0; 64])]);
        truncated.truncate(truncated.len() - 1);
        assert!(check_calor_mint(&truncated).is_err());
    }
}
