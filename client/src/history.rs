//! The program's transaction history as a node keeps it: which transactions touched Calor after
//! a given one (`getSignaturesForAddress`, paged), and each one's slot, time, outcome and logs
//! (`getTransaction`). An index reads the chain through these two calls only.
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};

use crate::rpc::{Chain, ChainError};
use crate::PROGRAM_ID;

/// The most signatures a node returns a call.
pub const PAGE: usize = 1_000;

/// One transaction that named the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub signature: String,
    pub slot: u64,
    /// The transaction failed: it changed nothing but its fee payer's balance.
    pub failed: bool,
}

/// The program's transactions in slot `from_slot` and later (all of them when `None`),
/// oldest first. Paging goes back from the newest until a page reaches an older slot, so a
/// transaction that appeared late within a slot already read is listed again rather than
/// skipped: the caller drops what it has applied.
pub async fn signatures_from(
    chain: &Chain,
    from_slot: Option<u64>,
) -> Result<Vec<Listed>, ChainError> {
    signatures_of(chain, &PROGRAM_ID, from_slot).await
}

/// The transactions that name `address`, in slot `from_slot` and later, oldest first (paged
/// as [`signatures_from`] pages the program's).
pub async fn signatures_of(
    chain: &Chain,
    address: &crate::Pubkey,
    from_slot: Option<u64>,
) -> Result<Vec<Listed>, ChainError> {
    let mut newest_first = Vec::new();
    let mut before = None;
    loop {
        let config = GetConfirmedSignaturesForAddress2Config {
            before,
            until: None,
            limit: Some(PAGE),
            commitment: Some(CommitmentConfig::confirmed()),
        };
        let page = chain
            .rpc()
            .get_signatures_for_address_with_config(address, config)
            .await?;
        let full = page.len() == PAGE;
        let mut reached_floor = false;
        for entry in &page {
            if from_slot.is_some_and(|floor| entry.slot < floor) {
                reached_floor = true;
                break;
            }
            newest_first.push(Listed {
                signature: entry.signature.clone(),
                slot: entry.slot,
                failed: entry.err.is_some(),
            });
        }
        match page.last() {
            Some(last) if full && !reached_floor => {
                before = Some(parse_signature(&last.signature)?)
            }
            _ => break,
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}

fn parse_signature<S: std::str::FromStr>(text: &str) -> Result<S, ChainError> {
    text.parse().map_err(|_| ChainError::Method {
        method: "getSignaturesForAddress",
        message: format!("unparsable signature {text:?}"),
    })
}

/// A transaction as an index needs it.
#[derive(Debug, Clone)]
pub struct Executed {
    pub slot: u64,
    /// Unix seconds, when the node knows the block's time.
    pub block_time: Option<i64>,
    pub failed: bool,
    pub logs: Vec<String>,
}

/// Reads one transaction; `None` when the node does not have it (yet).
pub async fn transaction(chain: &Chain, signature: &str) -> Result<Option<Executed>, ChainError> {
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let tx = match chain
        .rpc()
        .get_transaction_with_config(&parse_signature(signature)?, config)
        .await
    {
        Ok(tx) => tx,
        Err(e) if e.to_string().contains("not found") || e.to_string().contains("null") => {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    let meta = tx.transaction.meta;
    let logs = match meta.as_ref().map(|m| &m.log_messages) {
        Some(OptionSerializer::Some(logs)) => logs.clone(),
        _ => Vec::new(),
    };
    Ok(Some(Executed {
        slot: tx.slot,
        block_time: tx.block_time,
        failed: meta.as_ref().is_some_and(|m| m.err.is_some()),
        logs,
    }))
}
