//! The SPL Token / Token-2022 calls and account fields the program uses, encoded by hand.
//!
//! The interface crates' instruction enums and account unpacking (extensions, confidential
//! transfer types) would link every variant's code into the program; the program needs five
//! instructions and four fields. Both token programs share these encodings, and the Calor
//! mint is refused at `initialize` if it has any extension that would change them.
use anchor_lang::prelude::*;

use crate::errors::CalorError;

pub const TOKEN_PROGRAM_ID: Pubkey = pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_2022_PROGRAM_ID: Pubkey = pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

/// A token account's size without extensions (the Calor mint's accounts carry none).
pub const ACCOUNT_LEN: usize = 165;
const MINT_DECIMALS: usize = 44;
const MINT_INITIALIZED: usize = 45;

// instruction tags, the same in both programs
const TRANSFER_CHECKED: u8 = 12;
const BURN: u8 = 8;
const CLOSE_ACCOUNT: u8 = 9;
const INITIALIZE_ACCOUNT_3: u8 = 18;

pub fn is_token_program(key: &Pubkey) -> bool {
    *key == TOKEN_PROGRAM_ID || *key == TOKEN_2022_PROGRAM_ID
}

/// The `token_program` account: SPL Token or Token-2022.
pub fn require_token_program(info: &AccountInfo) -> Result<()> {
    require!(
        is_token_program(info.key) && info.executable,
        CalorError::WrongTokenProgram
    );
    Ok(())
}

/// The fields of a token account the program reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAccountFields {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

/// Reads an initialised token account owned by `token_program`.
pub fn token_account(info: &AccountInfo, token_program: &Pubkey) -> Result<TokenAccountFields> {
    let data = info.try_borrow_data()?;
    require!(
        info.owner == token_program && data.len() >= ACCOUNT_LEN && data[108] != 0,
        CalorError::WrongTokenAccount
    );
    Ok(TokenAccountFields {
        mint: Pubkey::try_from(&data[..32]).expect("32 bytes"),
        owner: Pubkey::try_from(&data[32..64]).expect("32 bytes"),
        amount: u64::from_le_bytes(data[64..72].try_into().expect("8 bytes")),
    })
}

/// The `amount` of a token account the program created or checked (a vault, an escrow),
/// read in place.
pub fn amount(info: &AccountInfo) -> Result<u64> {
    let data = info.try_borrow_data()?;
    let bytes = data
        .get(64..72)
        .ok_or(anchor_lang::error::ErrorCode::AccountDidNotDeserialize)?;
    Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
}

/// A Calor account and its context: `mint` is the config's Calor mint, `token_program` is SPL
/// Token or Token-2022, and `account` holds that mint (the token program would refuse another
/// mint's account too, but not by this name; the owner's signature it checks itself).
pub fn require_calor_account(
    config: &crate::state::Config,
    mint: &AccountInfo,
    account: &AccountInfo,
    token_program: &AccountInfo,
) -> Result<()> {
    require_keys_eq!(*mint.key, config.calor_mint, CalorError::WrongMint);
    require_token_program(token_program)?;
    let account = token_account(account, token_program.key)?;
    require_keys_eq!(account.mint, config.calor_mint, CalorError::WrongMint);
    Ok(())
}

/// The decimals of an initialised mint owned by a token program.
pub fn mint_decimals(info: &AccountInfo) -> Result<u8> {
    let data = info.try_borrow_data()?;
    require!(
        is_token_program(info.owner)
            && data.len() > MINT_INITIALIZED
            && data[MINT_INITIALIZED] == 1,
        CalorError::WrongMint
    );
    Ok(data[MINT_DECIMALS])
}

fn call<'info>(
    program: &AccountInfo<'info>,
    accounts: &[(&AccountInfo<'info>, bool, bool)],
    data: Vec<u8>,
    signers: &[&[&[u8]]],
) -> Result<()> {
    crate::cpi::call(program.key, accounts, data, signers)
}

/// `TransferChecked` of `amount` from `from` to `to`, signed by `authority` (or by `signers`).
#[allow(clippy::too_many_arguments)]
pub fn transfer_checked<'info>(
    program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    decimals: u8,
    signers: &[&[&[u8]]],
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let data = crate::cpi::encode(&[TRANSFER_CHECKED], &[&amount.to_le_bytes(), &[decimals]]);
    call(
        program,
        &[
            (from, true, false),
            (mint, false, false),
            (to, true, false),
            (authority, false, true),
        ],
        data,
        signers,
    )
}

/// `Burn` of `amount` from `from`, signed by its owner through `signers`.
pub fn burn<'info>(
    program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signers: &[&[&[u8]]],
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let data = crate::cpi::encode(&[BURN], &[&amount.to_le_bytes()]);
    call(
        program,
        &[
            (from, true, false),
            (mint, true, false),
            (authority, false, true),
        ],
        data,
        signers,
    )
}

/// `InitializeAccount3`: `account` (already allocated) becomes a token account of `mint`
/// owned by `owner`.
pub fn initialize_account3<'info>(
    program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    owner: &Pubkey,
) -> Result<()> {
    let data = crate::cpi::encode(&[INITIALIZE_ACCOUNT_3], &[owner.as_ref()]);
    call(
        program,
        &[(account, true, false), (mint, false, false)],
        data,
        &[],
    )
}

/// `CloseAccount` of the empty `account`, its rent to `destination`, signed by its owner.
///
/// With `account_signs`, the account itself is named a signer too and `signers` must hold its
/// seeds: the runtime then refuses the call unless `account` is the PDA of those seeds, which
/// proves an escrow's address for free (the token program ignores the extra signer), where
/// deriving it in the program costs 1,500 CU.
pub fn close_account<'info>(
    program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    destination: &AccountInfo<'info>,
    owner: &AccountInfo<'info>,
    account_signs: bool,
    signers: &[&[&[u8]]],
) -> Result<()> {
    call(
        program,
        &[
            (account, true, account_signs),
            (destination, true, false),
            (owner, false, true),
        ],
        vec![CLOSE_ACCOUNT],
        signers,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::program_pack::Pack;

    #[test]
    fn hand_encodings_match_the_token_programs_own() {
        use spl_token_2022_interface::instruction as t22;
        let (a, b, c, d) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let transfer =
            t22::transfer_checked(&TOKEN_2022_PROGRAM_ID, &a, &b, &c, &d, &[], 77, 6).unwrap();
        let mut data = vec![TRANSFER_CHECKED];
        data.extend_from_slice(&77u64.to_le_bytes());
        data.push(6);
        assert_eq!(transfer.data, data);
        let burned = t22::burn(&TOKEN_2022_PROGRAM_ID, &a, &b, &c, &[], 5).unwrap();
        assert_eq!(burned.data[0], BURN);
        assert_eq!(burned.data[1..], 5u64.to_le_bytes());
        let close = t22::close_account(&TOKEN_2022_PROGRAM_ID, &a, &b, &c, &[]).unwrap();
        assert_eq!(close.data, vec![CLOSE_ACCOUNT]);
        let init = t22::initialize_account3(&TOKEN_2022_PROGRAM_ID, &a, &b, &c).unwrap();
        assert_eq!(init.data[0], INITIALIZE_ACCOUNT_3);
        assert_eq!(init.data[1..], c.to_bytes());
        // and the account layout the readers above assume
        assert_eq!(spl_token_2022_interface::state::Account::LEN, ACCOUNT_LEN);
        assert_eq!(TOKEN_PROGRAM_ID, spl_token_interface::ID);
        assert_eq!(TOKEN_2022_PROGRAM_ID, spl_token_2022_interface::ID);
    }
}
