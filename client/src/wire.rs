//! Transactions that cross a service without its key: built unsigned for a wallet to sign
//! (the fee payer's signature left empty), and signed ones checked before they are relayed,
//! so a relay only ever forwards what calls Calor (and sets its compute budget).
use base64::Engine as _;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sanitize::Sanitize;
use solana_transaction::Transaction;

use crate::{Instruction, Pubkey, PROGRAM_ID};

/// The compute budget program: priority fees and compute-unit limits.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey =
    Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");

/// The most a relayed transaction may be (the network's packet limit).
pub const MAX_TRANSACTION_BYTES: usize = 1_232;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("the transaction is not base64")]
    NotBase64,
    #[error("the transaction is not a legacy Solana transaction")]
    Malformed,
    #[error("the transaction is {0} bytes, over the 1,232 a packet holds")]
    TooLarge(usize),
    #[error(
        "instruction {index} calls {program}, not Calor: this relay forwards only Calor calls"
    )]
    ForeignProgram { index: usize, program: Pubkey },
    #[error("the transaction calls nothing of Calor")]
    NoCalorCall,
    #[error("the transaction is not signed by all its signers, or a signature is invalid")]
    BadSignature,
}

/// A fee payer's priority for a transaction: a compute-unit price in micro-lamports and a
/// compute-unit limit (the fee is their product, besides 5,000 lamports a signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    pub unit_price_micro_lamports: u64,
    pub unit_limit: u32,
}

impl Priority {
    /// Lamports the fee payer pays: the base fee of one signature plus the priority fee.
    pub fn fee_lamports(&self) -> u64 {
        5_000
            + (u128::from(self.unit_price_micro_lamports) * u128::from(self.unit_limit))
                .div_ceil(1_000_000) as u64
    }
}

/// `instructions` as an unsigned transaction paid by `payer`, base64 of its wire bytes.
pub fn unsigned(
    payer: &Pubkey,
    instructions: &[Instruction],
    priority: Priority,
    recent_blockhash: solana_transaction::Hash,
) -> String {
    let mut all = vec![
        ComputeBudgetInstruction::set_compute_unit_limit(priority.unit_limit),
        ComputeBudgetInstruction::set_compute_unit_price(priority.unit_price_micro_lamports),
    ];
    all.extend_from_slice(instructions);
    let mut tx = Transaction::new_with_payer(&all, Some(payer));
    tx.message.recent_blockhash = recent_blockhash;
    let bytes = bincode::serialize(&tx).expect("a transaction serialises");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Signs an unsigned transaction (base64, as [`unsigned`] writes it) as its fee payer, as a
/// wallet does; for local tools and tests (a renter's key never reaches a service).
pub fn sign(base64_text: &str, signer: &solana_keypair::Keypair) -> Result<String, WireError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64
        .decode(base64_text.trim())
        .map_err(|_| WireError::NotBase64)?;
    let mut tx: Transaction = bincode::deserialize(&bytes).map_err(|_| WireError::Malformed)?;
    let blockhash = tx.message.recent_blockhash;
    tx.try_sign(&[signer], blockhash)
        .map_err(|_| WireError::BadSignature)?;
    Ok(b64.encode(bincode::serialize(&tx).expect("a transaction serialises")))
}

/// A signed transaction from base64, checked for relay: well-formed, small enough, every
/// signature present and valid, and every instruction a call of Calor or the compute budget.
pub fn signed_for_relay(base64_text: &str) -> Result<Transaction, WireError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text.trim())
        .map_err(|_| WireError::NotBase64)?;
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(WireError::TooLarge(bytes.len()));
    }
    let tx: Transaction = bincode::deserialize(&bytes).map_err(|_| WireError::Malformed)?;
    if tx.sanitize().is_err() {
        return Err(WireError::Malformed);
    }
    let keys = &tx.message.account_keys;
    let mut calls_calor = false;
    for (index, ix) in tx.message.instructions.iter().enumerate() {
        let program = *keys
            .get(usize::from(ix.program_id_index))
            .ok_or(WireError::Malformed)?;
        if program == PROGRAM_ID {
            calls_calor = true;
        } else if program != COMPUTE_BUDGET_PROGRAM {
            return Err(WireError::ForeignProgram { index, program });
        }
    }
    if !calls_calor {
        return Err(WireError::NoCalorCall);
    }
    if tx.verify().is_err() {
        return Err(WireError::BadSignature);
    }
    Ok(tx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{instructions as ix, AccountMeta};
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    const PRIORITY: Priority = Priority {
        unit_price_micro_lamports: 10_000,
        unit_limit: 100_000,
    };

    fn sign(text: &str, keypair: &Keypair) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap();
        let mut tx: Transaction = bincode::deserialize(&bytes).unwrap();
        let blockhash = tx.message.recent_blockhash;
        tx.sign(&[keypair], blockhash);
        base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap())
    }

    #[test]
    fn a_signed_calor_call_passes_and_anything_else_is_named() {
        let renter = Keypair::new();
        let rental = crate::pda::rental(&renter.pubkey(), 7);
        let cancel = ix::cancel(renter.pubkey(), rental, None);
        let hash = solana_transaction::Hash::new_from_array([7; 32]);
        let text = unsigned(
            &renter.pubkey(),
            std::slice::from_ref(&cancel),
            PRIORITY,
            hash,
        );
        // unsigned: refused
        assert_eq!(
            signed_for_relay(&text).unwrap_err(),
            WireError::BadSignature
        );
        let signed = signed_for_relay(&sign(&text, &renter)).unwrap();
        assert_eq!(signed.message.instructions.len(), 3);
        // signed by another key
        let mut tx: Transaction = bincode::deserialize(
            &base64::engine::general_purpose::STANDARD
                .decode(sign(&text, &renter))
                .unwrap(),
        )
        .unwrap();
        tx.signatures[0] = Keypair::new().sign_message(&tx.message_data());
        let forged =
            base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap());
        assert_eq!(
            signed_for_relay(&forged).unwrap_err(),
            WireError::BadSignature
        );
        // a transfer slipped in beside the Calor call
        let thief = Pubkey::new_unique();
        let system = Pubkey::default();
        let transfer = Instruction {
            program_id: system,
            accounts: vec![
                AccountMeta::new(renter.pubkey(), true),
                AccountMeta::new(thief, false),
            ],
            data: vec![2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        };
        let text = unsigned(&renter.pubkey(), &[cancel, transfer], PRIORITY, hash);
        assert_eq!(
            signed_for_relay(&sign(&text, &renter)).unwrap_err(),
            WireError::ForeignProgram {
                index: 3,
                program: system
            }
        );
        let text = unsigned(&renter.pubkey(), &[], PRIORITY, hash);
        assert_eq!(
            signed_for_relay(&sign(&text, &renter)).unwrap_err(),
            WireError::NoCalorCall
        );
        assert_eq!(
            signed_for_relay("not base64!").unwrap_err(),
            WireError::NotBase64
        );
        assert_eq!(signed_for_relay("AAAA").unwrap_err(), WireError::Malformed);
        let big = base64::engine::general_purpose::STANDARD.encode(vec![1u8; 2_000]);
        assert_eq!(
            signed_for_relay(&big).unwrap_err(),
            WireError::TooLarge(2_000)
        );
    }

    #[test]
    fn the_fee_is_the_signature_plus_the_priority() {
        assert_eq!(PRIORITY.fee_lamports(), 5_000 + 1_000);
    }
}
