//! Creating program accounts at PDAs whose bump the client supplies.
//!
//! Anchor's `init` finds the bump on-chain (`find_program_address`, 1,500 CU per bump tried)
//! before creating the account. Here the bump comes with the instruction and is checked by
//! the runtime itself: a CPI signed with the wrong seeds names no signer and fails. Rentals
//! and their escrows are created this way because every open pays for them.
use anchor_lang::prelude::*;
use anchor_lang::{AccountSerialize, Discriminator, ZeroCopy};

use crate::errors::CalorError;

// System program instructions (bincode: a u32 tag, then the fields), encoded by hand: the
// interface crate builds them through serde, which would link it into the program.
const CREATE_ACCOUNT: u32 = 0;
const ASSIGN: u32 = 1;
const TRANSFER: u32 = 2;
const ALLOCATE: u32 = 8;

fn system_call<'info>(
    system_program: &AccountInfo<'info>,
    accounts: &[(&AccountInfo<'info>, bool)],
    tag: u32,
    fields: &[&[u8]],
    seeds: &[&[u8]],
) -> Result<()> {
    let accounts: Vec<_> = accounts
        .iter()
        .map(|(info, signer)| (*info, true, *signer))
        .collect();
    let signers: &[&[&[u8]]] = if seeds.is_empty() { &[] } else { &[seeds] };
    crate::cpi::call(
        system_program.key,
        &accounts,
        crate::cpi::encode(&tag.to_le_bytes(), fields),
        signers,
    )
}

/// Creates `account` at the PDA of `seeds` (bump last) with `space` bytes owned by `owner`,
/// holding `lamports` (at least its rent; a SOL rental adds its escrow), paid by `payer`.
///
/// An address someone already sent lamports to is topped up, allocated and assigned instead
/// (`create_account` refuses it), so a donation cannot block an open.
pub fn create_pda<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    owner: &Pubkey,
    space: usize,
    lamports: u64,
    seeds: &[&[u8]],
) -> Result<()> {
    let space = (space as u64).to_le_bytes();
    let current = account.lamports();
    if current == 0 {
        return system_call(
            system_program,
            &[(payer, true), (account, true)],
            CREATE_ACCOUNT,
            &[&lamports.to_le_bytes(), &space, owner.as_ref()],
            seeds,
        );
    }
    if lamports > current {
        system_call(
            system_program,
            &[(payer, true), (account, false)],
            TRANSFER,
            &[&(lamports - current).to_le_bytes()],
            &[],
        )?;
    }
    system_call(
        system_program,
        &[(account, true)],
        ALLOCATE,
        &[&space],
        seeds,
    )?;
    system_call(
        system_program,
        &[(account, true)],
        ASSIGN,
        &[owner.as_ref()],
        seeds,
    )
}

/// Moves `lamports` from `from` (a signer) to `to` through the system program.
pub fn transfer_lamports<'info>(
    system_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    lamports: u64,
) -> Result<()> {
    system_call(
        system_program,
        &[(from, true), (to, false)],
        TRANSFER,
        &[&lamports.to_le_bytes()],
        &[],
    )
}

/// Space of a zero-copy account of type `T`, discriminator included.
pub const fn space_of<T: ZeroCopy>() -> usize {
    8 + core::mem::size_of::<T>()
}

/// Writes a freshly created zero-copy account: its discriminator, then `value`'s bytes.
pub fn write_new<T: ZeroCopy + Discriminator>(account: &AccountInfo, value: &T) -> Result<()> {
    let mut data = account.try_borrow_mut_data()?;
    let disc = T::DISCRIMINATOR;
    data[..disc.len()].copy_from_slice(disc);
    data[disc.len()..disc.len() + core::mem::size_of::<T>()]
        .copy_from_slice(bytemuck::bytes_of(value));
    Ok(())
}

/// Creates a program account of `space` bytes at the canonical PDA of `seeds`, after checking
/// that `account` is that address and does not exist yet; returns the bump. The bump is found
/// here (`find_program_address`, 1,500 CU per try): the instructions that use this create
/// catalog, provider, staking and governance accounts, not the rentals every open creates.
pub fn init_account<'info>(
    payer: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    system_program: &AccountInfo<'info>,
    seeds: &[&[u8]],
    space: usize,
) -> Result<u8> {
    let (address, bump) = Pubkey::find_program_address(seeds, &crate::ID);
    require_keys_eq!(*account.key, address, CalorError::WrongAddress);
    require!(
        *account.owner == anchor_lang::solana_program::system_program::ID
            && account.data_is_empty(),
        CalorError::AlreadyExists
    );
    let bump_seed = [bump];
    let mut signer = seeds.to_vec();
    signer.push(&bump_seed);
    let rent = Rent::get()?.minimum_balance(space);
    create_pda(
        payer,
        account,
        system_program,
        &crate::ID,
        space,
        rent,
        &signer,
    )?;
    Ok(bump)
}

/// Writes a freshly created Borsh account: its discriminator, then `value`.
pub fn write_borsh<T: AccountSerialize>(account: &AccountInfo, value: &T) -> Result<()> {
    let mut data = account.try_borrow_mut_data()?;
    let mut out: &mut [u8] = &mut data;
    value.try_serialize(&mut out)
}

/// A program-owned zero-copy account of type `T`, for writing (owner, discriminator and size
/// checked, as `AccountLoader::load_mut` does).
pub fn load_mut<'a, T: ZeroCopy>(account: &'a AccountInfo) -> Result<core::cell::RefMut<'a, T>> {
    use anchor_lang::error::ErrorCode;
    if *account.owner != crate::ID {
        return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*account.owner, crate::ID)));
    }
    let data = account.try_borrow_mut_data()?;
    let disc = T::DISCRIMINATOR;
    if !data.starts_with(disc) {
        return err!(ErrorCode::AccountDiscriminatorMismatch);
    }
    if data.len() < space_of::<T>() {
        return err!(ErrorCode::AccountDidNotDeserialize);
    }
    Ok(core::cell::RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[disc.len()..disc.len() + core::mem::size_of::<T>()])
    }))
}
