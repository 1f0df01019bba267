//! An async client for a real JSON-RPC node: typed program accounts, and transactions sent
//! with a compute-unit price, retried with a fresh blockhash and tracked to confirmation.
//!
//! Confirmation is polled at a short interval rather than with `send_and_confirm_transaction`
//! (which polls every 500 ms): provisioning latency is measured in slots.
use std::time::{Duration, Instant};

use anchor_lang::{AccountDeserialize, Discriminator};
use calor::errors::CalorError;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction_error::InstructionError;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcRequest;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub use solana_rpc_client_api::client_error::Error as RpcError;
pub use solana_transaction::Transaction as SignedTransaction;

use crate::accounts::{decode, DecodeError};
use crate::{Instruction, Pubkey, PROGRAM_ID};

const CLOCK_SYSVAR: Pubkey = Pubkey::from_str_const("SysvarC1ock11111111111111111111111111111111");

/// Anchor numbers a program's own errors from this offset.
const ANCHOR_ERROR_OFFSET: u32 = 6_000;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("rpc: {0}")]
    Rpc(#[from] Box<ClientError>),
    /// The transaction executed and the program (or the runtime) rejected it.
    #[error("{label}: rejected: {error}{}", error_code_line(.logs))]
    Rejected {
        label: String,
        error: TransactionError,
        logs: Vec<String>,
    },
    #[error("{label}: not confirmed after {attempts} attempts")]
    NotConfirmed { label: String, attempts: u32 },
    #[error("account {address}: {source}")]
    Decode {
        address: Pubkey,
        source: DecodeError,
    },
    #[error("rpc method {method}: {message}")]
    Method {
        method: &'static str,
        message: String,
    },
}

impl From<ClientError> for ChainError {
    fn from(e: ClientError) -> Self {
        Self::Rpc(Box::new(e))
    }
}

/// The program error a rejected transaction carries, if it is one of ours.
pub fn calor_error_code(error: &TransactionError) -> Option<u32> {
    match error {
        TransactionError::InstructionError(_, InstructionError::Custom(code))
            if *code >= ANCHOR_ERROR_OFFSET =>
        {
            Some(*code)
        }
        _ => None,
    }
}

/// The "Error Code: Name" line Anchor logs for a rejection, when preflight returned logs.
fn error_code_line(logs: &[String]) -> String {
    logs.iter()
        .find_map(|l| {
            l.split_once("Error Code: ")
                .map(|(_, rest)| format!(" ({rest})"))
        })
        .unwrap_or_default()
}

impl ChainError {
    /// Whether the program rejected the transaction with exactly `expected`.
    pub fn is_calor(&self, expected: CalorError) -> bool {
        matches!(self, Self::Rejected { error, .. } if calor_error_code(error) == Some(u32::from(expected)))
    }

    /// A rejection by the program or runtime, as opposed to a transport failure.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }
}

/// How transactions are sent.
#[derive(Debug, Clone, Copy)]
pub struct SendPolicy {
    /// Priority fee, in micro-lamports per compute unit; 0 adds no instruction.
    pub compute_unit_price: u64,
    /// Sends with a fresh blockhash this many times before giving up.
    pub attempts: u32,
    /// How long one attempt waits for confirmation.
    pub confirm_timeout: Duration,
    /// Status polling interval.
    pub poll_interval: Duration,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self {
            compute_unit_price: 1_000,
            attempts: 3,
            confirm_timeout: Duration::from_secs(20),
            poll_interval: Duration::from_millis(20),
        }
    }
}

/// A connection to one RPC node.
pub struct Chain {
    rpc: RpcClient,
    policy: SendPolicy,
}

impl Chain {
    pub fn new(url: impl Into<String>, policy: SendPolicy) -> Self {
        Self {
            rpc: RpcClient::new_with_commitment(url.into(), CommitmentConfig::confirmed()),
            policy,
        }
    }

    pub fn url(&self) -> String {
        self.rpc.url()
    }

    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
    }

    /// Signs and sends `instructions` (fee paid by `payer`) and waits until confirmed.
    /// A blockhash that expires before confirmation is replaced and the transaction re-signed;
    /// a program rejection is returned at once (it would fail again).
    pub async fn send(
        &self,
        label: &str,
        instructions: &[Instruction],
        payer: &Keypair,
        extra_signers: &[&Keypair],
    ) -> Result<solana_transaction::Signature, ChainError> {
        let mut all = Vec::with_capacity(instructions.len() + 1);
        if self.policy.compute_unit_price > 0 {
            all.push(ComputeBudgetInstruction::set_compute_unit_price(
                self.policy.compute_unit_price,
            ));
        }
        all.extend_from_slice(instructions);
        let mut signers: Vec<&Keypair> = vec![payer];
        signers.extend_from_slice(extra_signers);

        for attempt in 1..=self.policy.attempts {
            let blockhash = self.rpc.get_latest_blockhash().await?;
            let tx = Transaction::new_signed_with_payer(
                &all,
                Some(&payer.pubkey()),
                &signers,
                blockhash,
            );
            let config = RpcSendTransactionConfig {
                preflight_commitment: Some(CommitmentConfig::confirmed().commitment),
                ..RpcSendTransactionConfig::default()
            };
            let signature = match self.rpc.send_transaction_with_config(&tx, config).await {
                Ok(signature) => signature,
                Err(e) => return Err(rejection_or_transport(label, e)),
            };
            let deadline = Instant::now() + self.policy.confirm_timeout;
            while Instant::now() < deadline {
                let statuses = self.rpc.get_signature_statuses(&[signature]).await?;
                if let Some(Some(status)) = statuses.value.first() {
                    if let Some(error) = &status.err {
                        return Err(ChainError::Rejected {
                            label: label.into(),
                            error: error.clone(),
                            logs: vec![],
                        });
                    }
                    if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                        return Ok(signature);
                    }
                }
                tokio::time::sleep(self.policy.poll_interval).await;
            }
            tracing::warn!(label, attempt, %signature, "not confirmed in time; resending with a fresh blockhash");
        }
        Err(ChainError::NotConfirmed {
            label: label.into(),
            attempts: self.policy.attempts,
        })
    }

    /// Sends a transaction signed elsewhere (a wallet's), after a preflight at `confirmed`;
    /// its signature, without waiting for confirmation. A program rejection in preflight is
    /// [`ChainError::Rejected`] with the logs.
    pub async fn relay(
        &self,
        tx: &Transaction,
    ) -> Result<solana_transaction::Signature, ChainError> {
        let config = RpcSendTransactionConfig {
            preflight_commitment: Some(CommitmentConfig::confirmed().commitment),
            ..RpcSendTransactionConfig::default()
        };
        self.rpc
            .send_transaction_with_config(tx, config)
            .await
            .map_err(|e| rejection_or_transport("relay", e))
    }

    pub async fn latest_blockhash(&self) -> Result<solana_transaction::Hash, ChainError> {
        Ok(self.rpc.get_latest_blockhash().await?)
    }

    /// Lamports an account of `space` bytes needs to be rent-exempt.
    pub async fn rent_exempt(&self, space: usize) -> Result<u64, ChainError> {
        Ok(self
            .rpc
            .get_minimum_balance_for_rent_exemption(space)
            .await?)
    }

    /// A program account, decoded; `None` when it does not exist.
    pub async fn account<T: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, ChainError> {
        let found = self
            .rpc
            .get_account_with_commitment(address, CommitmentConfig::confirmed())
            .await?
            .value;
        match found {
            Some(account) if account.owner == PROGRAM_ID => decode(&account.data)
                .map(Some)
                .map_err(|source| ChainError::Decode {
                    address: *address,
                    source,
                }),
            _ => Ok(None),
        }
    }

    /// Every program account of type `T` (selected on-node by its discriminator), decoded.
    pub async fn program_accounts<T: AccountDeserialize + Discriminator>(
        &self,
    ) -> Result<Vec<(Pubkey, T)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![discriminator_filter::<T>()]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let raw = self
            .rpc
            .get_program_ui_accounts_with_config(&PROGRAM_ID, config)
            .await?;
        raw.into_iter()
            .filter_map(|(address, ui)| ui.data.decode().map(|data| (address, data)))
            .map(|(address, data)| {
                decode(&data)
                    .map(|account| (address, account))
                    .map_err(|source| ChainError::Decode { address, source })
            })
            .collect()
    }

    /// The `amount` of a token account (SPL Token or Token-2022); 0 when it does not exist.
    pub async fn token_balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        let found = self
            .rpc
            .get_account_with_commitment(address, CommitmentConfig::confirmed())
            .await?
            .value;
        Ok(found
            .and_then(|a| {
                a.data
                    .get(64..72)
                    .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            })
            .unwrap_or(0))
    }

    /// The program that owns the account at `address` (a mint's: SPL Token or Token-2022).
    pub async fn owner(&self, address: &Pubkey) -> Result<Pubkey, ChainError> {
        Ok(self
            .rpc
            .get_account_with_commitment(address, CommitmentConfig::confirmed())
            .await?
            .value
            .ok_or_else(|| ChainError::Method {
                method: "getAccountInfo",
                message: format!("no account at {address}"),
            })?
            .owner)
    }

    pub async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        Ok(self
            .rpc
            .get_balance_with_commitment(address, CommitmentConfig::confirmed())
            .await?
            .value)
    }

    /// The cluster's clock (`Clock::unix_timestamp`), as programs see it.
    /// Read from the Clock sysvar itself (not `getBlockTime`, which lags and may be missing
    /// for recent slots).
    pub async fn unix_timestamp(&self) -> Result<i64, ChainError> {
        let data = self.rpc.get_account_data(&CLOCK_SYSVAR).await?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch (8 bytes each),
        // then unix_timestamp.
        let bytes: [u8; 8] = data
            .get(32..40)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ChainError::Method {
                method: "getAccountInfo(Clock)",
                message: "short Clock sysvar".into(),
            })?;
        Ok(i64::from_le_bytes(bytes))
    }

    pub async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let signature = self.rpc.request_airdrop(to, lamports).await?;
        let deadline = Instant::now() + self.policy.confirm_timeout;
        while Instant::now() < deadline {
            if self.rpc.confirm_transaction(&signature).await? {
                return Ok(());
            }
            tokio::time::sleep(self.policy.poll_interval).await;
        }
        Err(ChainError::NotConfirmed {
            label: format!("airdrop to {to}"),
            attempts: 1,
        })
    }

    // ----- local-chain cheat codes (surfnet); a real cluster answers "method not found" -----

    /// Writes an account directly (local chain only): how oracle prices reach a chain with no
    /// Pyth publisher.
    pub async fn set_account(
        &self,
        address: &Pubkey,
        lamports: u64,
        owner: &Pubkey,
        data: &[u8],
    ) -> Result<(), ChainError> {
        let params = serde_json::json!([
            address.to_string(),
            { "lamports": lamports, "owner": owner.to_string(), "data": hex::encode(data) }
        ]);
        self.cheatcode("surfnet_setAccount", params)
            .await
            .map(|_| ())
    }

    /// Moves the local chain's clock forward to `unix_timestamp` (seconds).
    pub async fn time_travel(&self, unix_timestamp: i64) -> Result<(), ChainError> {
        let params =
            serde_json::json!([{ "absoluteTimestamp": unix_timestamp.max(0) as u64 * 1_000 }]);
        self.cheatcode("surfnet_timeTravel", params)
            .await
            .map(|_| ())
    }

    async fn cheatcode(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, ChainError> {
        self.rpc
            .send::<serde_json::Value>(RpcRequest::Custom { method }, params)
            .await
            .map_err(|e| ChainError::Method {
                method,
                message: e.to_string(),
            })
    }
}

/// A memcmp filter selecting accounts of type `T` by their Anchor discriminator.
pub fn discriminator_filter<T: Discriminator>() -> RpcFilterType {
    RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec()))
}

fn rejection_or_transport(label: &str, e: ClientError) -> ChainError {
    match e.get_transaction_error() {
        Some(error) => ChainError::Rejected {
            label: label.into(),
            error,
            logs: preflight_logs(&e),
        },
        None => e.into(),
    }
}

fn preflight_logs(e: &ClientError) -> Vec<String> {
    use solana_rpc_client_api::client_error::ErrorKind;
    use solana_rpc_client_api::request::{RpcError as Request, RpcResponseErrorData};
    match e.kind() {
        ErrorKind::RpcError(Request::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => result.logs.clone().unwrap_or_default(),
        _ => vec![],
    }
}
