//! What a renter asked for when opening a rental, read back from the transaction that did.
//!
//! A rental account stores only the SHA-256 of the renter's SSH key (rent is paid per byte);
//! the key line itself is in the `open_rental_*` instruction, which the chain keeps with the
//! transaction. Provisioners read it from there, check it against the hash and validate it
//! again before it reaches `authorized_keys`.
use anchor_lang::{AnchorDeserialize, Discriminator};
use calor::instructions::OpenRentalArgs;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiInstruction, UiTransactionEncoding,
};

use crate::rpc::{Chain, ChainError};
use crate::Pubkey;

/// The arguments of the instruction that opened `rental`, with its transaction's signature.
#[derive(Debug, Clone)]
pub struct Opening {
    pub signature: String,
    pub args: OpenRentalArgs,
}

/// Why a rental's key cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the opening transaction of the rental was not found")]
    NotFound,
    #[error("the key in the opening transaction does not match the rental's key hash")]
    HashMismatch,
    #[error("the key in the opening transaction is not a valid key line: {0}")]
    Invalid(calor::ssh_key::SshKeyError),
}

/// The open instruction's arguments if `data` encodes `open_rental_sol` or
/// `open_rental_calor`.
pub fn decode_open(data: &[u8]) -> Option<OpenRentalArgs> {
    let discriminators = [
        calor::instruction::OpenRentalSol::DISCRIMINATOR,
        calor::instruction::OpenRentalCalor::DISCRIMINATOR,
    ];
    let disc = discriminators.into_iter().find(|d| data.starts_with(d))?;
    OpenRentalArgs::deserialize(&mut &data[disc.len()..]).ok()
}

/// Finds the instruction that opened `rental`: a Calor open naming the rental among its
/// accounts, at the top level of its transaction or called by another program.
pub async fn find_opening(chain: &Chain, rental: &Pubkey) -> Result<Option<Opening>, ChainError> {
    let config = GetConfirmedSignaturesForAddress2Config {
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        ..Default::default()
    };
    let signatures = chain
        .rpc()
        .get_signatures_for_address_with_config(rental, config)
        .await?;
    // newest first: the opening is the oldest successful one
    for entry in signatures.iter().rev().filter(|s| s.err.is_none()) {
        let signature = entry.signature.parse().map_err(|_| ChainError::Method {
            method: "getSignaturesForAddress",
            message: format!("unparsable signature {}", entry.signature),
        })?;
        let tx = chain
            .rpc()
            .get_transaction_with_config(
                &signature,
                RpcTransactionConfig {
                    encoding: Some(UiTransactionEncoding::Base64),
                    commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
                    max_supported_transaction_version: Some(0),
                },
            )
            .await?;
        let Some(decoded) = tx.transaction.transaction.decode() else {
            continue;
        };
        let mut keys: Vec<Pubkey> = decoded.message.static_account_keys().to_vec();
        if let Some(meta) = &tx.transaction.meta {
            if let OptionSerializer::Some(loaded) = &meta.loaded_addresses {
                for k in loaded.writable.iter().chain(&loaded.readonly) {
                    keys.extend(k.parse::<Pubkey>().ok());
                }
            }
        }
        let names_rental = |program: u8, accounts: &[u8]| {
            keys.get(usize::from(program)) == Some(&crate::PROGRAM_ID)
                && accounts
                    .iter()
                    .any(|a| keys.get(usize::from(*a)) == Some(rental))
        };
        for ix in decoded.message.instructions() {
            if names_rental(ix.program_id_index, &ix.accounts) {
                if let Some(args) = decode_open(&ix.data) {
                    return Ok(Some(Opening {
                        signature: entry.signature.clone(),
                        args,
                    }));
                }
            }
        }
        let inner = tx.transaction.meta.as_ref().map(|m| &m.inner_instructions);
        if let Some(OptionSerializer::Some(groups)) = inner {
            for ix in groups.iter().flat_map(|g| &g.instructions) {
                let UiInstruction::Compiled(ix) = ix else {
                    continue;
                };
                if !names_rental(ix.program_id_index, &ix.accounts) {
                    continue;
                }
                let Ok(data) = bs58::decode(&ix.data).into_vec() else {
                    continue;
                };
                if let Some(args) = decode_open(&data) {
                    return Ok(Some(Opening {
                        signature: entry.signature.clone(),
                        args,
                    }));
                }
            }
        }
    }
    Ok(None)
}

/// The renter's SSH key line for `rental` (whose stored hash is `key_hash`): `Ok(None)` for a
/// rental opened without one.
pub async fn rental_ssh_key(
    chain: &Chain,
    rental: &Pubkey,
    key_hash: &[u8; 32],
) -> Result<Result<Option<String>, KeyError>, ChainError> {
    if *key_hash == [0u8; 32] {
        return Ok(Ok(None));
    }
    let Some(opening) = find_opening(chain, rental).await? else {
        return Ok(Err(KeyError::NotFound));
    };
    Ok(check_key(opening.args.ssh_public_key, key_hash))
}

/// A key line delivered for a rental (from its opening transaction or by anyone else): it
/// must hash to the rental's `key_hash` and be one valid key line.
pub fn check_key(line: Option<String>, key_hash: &[u8; 32]) -> Result<Option<String>, KeyError> {
    let line = line.ok_or(KeyError::HashMismatch)?;
    if solana_sha256_hasher::hash(line.as_bytes()).to_bytes() != *key_hash {
        return Err(KeyError::HashMismatch);
    }
    calor::ssh_key::validate(&line).map_err(KeyError::Invalid)?;
    Ok(Some(line))
}
