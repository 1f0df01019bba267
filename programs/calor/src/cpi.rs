//! Calls into the system and token programs with hand-encoded instruction data (their
//! interface crates would link serde, bincode and every instruction variant into the program).
use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::solana_program::program::invoke_signed;

/// Invokes `program` with `accounts` as (account, writable, signer) and `data`, signing with
/// `signers` (the seeds of any program-derived signer).
pub fn call<'info>(
    program: &Pubkey,
    accounts: &[(&AccountInfo<'info>, bool, bool)],
    data: Vec<u8>,
    signers: &[&[&[u8]]],
) -> Result<()> {
    let metas = accounts
        .iter()
        .map(|(info, writable, signer)| AccountMeta {
            pubkey: *info.key,
            is_writable: *writable,
            is_signer: *signer,
        })
        .collect();
    let infos: Vec<AccountInfo<'info>> =
        accounts.iter().map(|(info, ..)| (*info).clone()).collect();
    invoke_signed(
        &Instruction {
            program_id: *program,
            accounts: metas,
            data,
        },
        &infos,
        signers,
    )?;
    Ok(())
}

/// A tag followed by fixed fields, in one allocation of the final size (a growing `Vec` costs
/// hundreds of compute units in reallocations).
#[inline(always)]
pub fn encode(tag: &[u8], fields: &[&[u8]]) -> Vec<u8> {
    let mut data = Vec::with_capacity(tag.len() + fields.iter().map(|f| f.len()).sum::<usize>());
    data.extend_from_slice(tag);
    for f in fields {
        data.extend_from_slice(f);
    }
    data
}
