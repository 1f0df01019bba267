//! Jobs, the renter's word for rentals: quoting and building the transactions that open and
//! stop them (unsigned: only the renter's wallet signs), relaying signed ones, and reading
//! them back from the index with what the chain says now.
//!
//! Every answer about a job is the renter's own: another wallet's job reads as unknown.
use std::sync::Arc;
use std::time::Duration;

use calor::constants::MAX_FORWARDED_PORTS;
use calor::instructions::{Location, OpenRentalArgs};
use calor::state::ForwardedPort;
use calor_client::access::{self, AccessAction};
use calor_client::accounts::{PaymentKind, Rental, RentalState, Stake};
use calor_client::instructions as ix;
use calor_client::quote::{quote, Quote, QuoteError};
use calor_client::renting;
use calor_client::rpc::ChainError;
use calor_client::wire::{self, Priority, WireError};
use calor_client::{pda, Pubkey};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::market::{heartbeat_timeout, Market, Snapshot};
use crate::store::{Store, StoreError};

/// SOL has 9 decimals.
const LAMPORTS_PER_SOL: f64 = 1e9;
/// A token account's size (SPL Token), for the escrow's rent.
const TOKEN_ACCOUNT_LEN: usize = 165;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{field}: {reason}")]
    BadField { field: &'static str, reason: String },
    #[error("no such job")]
    NotFound,
    #[error("{0}")]
    Quote(#[from] QuoteError),
    #[error("no node of GPU model {gpu} is online{}", region_text(*.region))]
    NoCapacity { gpu: u16, region: Option<u16> },
    #[error("the cheapest node asks ${asked:.2}/h, above your maximum of ${max:.2}/h")]
    AboveMaximumRate { asked: f64, max: f64 },
    #[error("this needs {need} {unit} and the wallet holds {have}")]
    InsufficientFunds {
        need: u64,
        have: u64,
        unit: &'static str,
    },
    #[error("{open} rentals are open and this wallet may have {limit} at once; {how}")]
    Quota { open: u32, limit: u32, how: String },
    #[error("this job cannot be stopped: it is {0}")]
    NotStoppable(String),
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("the program rejected the transaction: {name}")]
    Rejected { name: String, logs: Vec<String> },
    #[error("the protocol is not set up on this chain yet (no config)")]
    NotReady,
    #[error("this job's instance is not reachable now: {0}")]
    NotReachable(String),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn region_text(region: Option<u16>) -> String {
    region.map_or_else(String::new, |r| format!(" in region {r}"))
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Store(e.into())
    }
}

/// How many rentals a wallet may have open at once: `base`, plus `per_tier` for each stake
/// priority tier, plus one for every `completed_per_slot` jobs it completed, up to `max`.
/// The API enforces this where it builds an open; the chain does not.
#[derive(Debug, Clone, Copy)]
pub struct QuotaSettings {
    pub base: u32,
    pub per_tier: u32,
    pub completed_per_slot: u32,
    pub max: u32,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            base: 2,
            per_tier: 2,
            completed_per_slot: 10,
            max: 16,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    pub priority: Priority,
    /// How far above the quote `max_payment` lets the price move before the open lands.
    pub slippage_bps: u16,
    pub quota: QuotaSettings,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            priority: Priority {
                unit_price_micro_lamports: 1_000,
                unit_limit: 200_000,
            },
            slippage_bps: 100,
            quota: QuotaSettings::default(),
        }
    }
}

/// `sol` or `calor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Payment {
    Sol,
    Calor,
}

impl From<Payment> for PaymentKind {
    fn from(p: Payment) -> Self {
        match p {
            Payment::Sol => PaymentKind::Sol,
            Payment::Calor => PaymentKind::Calor,
        }
    }
}

/// A port of the instance to publish besides SSH.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PortSpec {
    pub port: u16,
    /// `tcp` (default) or `http`.
    #[serde(default)]
    pub http: bool,
}

/// Where the renter is, in whole degrees, so an unpinned job goes to the nearest region.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Near {
    pub latitude: i16,
    pub longitude: i16,
}

/// `POST /api/jobs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateJob {
    /// GPU model id (see `GET /api/gpus`).
    pub gpu: u16,
    /// A region id, or absent for any region (the nearest to `near` first).
    #[serde(default)]
    pub region: Option<u16>,
    pub hours: u32,
    pub payment: Payment,
    /// One `ssh-ed25519`, `ssh-rsa` or `ecdsa-sha2-nistp256` public key line; absent for a
    /// job reached through the web terminal.
    #[serde(default)]
    pub ssh_key: Option<String>,
    #[serde(default)]
    pub forwarded_ports: Vec<PortSpec>,
    #[serde(default)]
    pub near: Option<Near>,
    /// The most you accept per hour in USD; the cheapest node's rate is used up to it.
    #[serde(default)]
    pub max_hourly_usd: Option<f64>,
}

/// What an open costs, before the wallet signs.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    pub payment: Payment,
    pub hours: u32,
    pub hourly_rate_usd: f64,
    /// The market value of the hours.
    pub market_usd: f64,
    /// What you pay in USD (the market value less the Calor subsidy).
    pub paid_usd: f64,
    /// The protocol's minimum rental; an open under it is refused.
    pub minimum_usd: f64,
    /// Lamports (SOL) or Calor base units the program takes.
    pub amount: u64,
    /// `amount` in SOL or whole Calor.
    pub amount_display: f64,
    pub unit: String,
    /// The most the signed transaction lets the program take (`amount` + slippage).
    pub max_payment: u64,
    /// Lamports held as the rental account's rent (and the escrow's, for Calor), returned
    /// when the rental is settled and closed.
    pub refundable_rent_lamports: u64,
    /// The transaction fee in lamports (signature and priority fee).
    pub network_fee_lamports: u64,
    pub sol_usd: Option<f64>,
    pub calor_usd: Option<f64>,
    /// No node is idle now: the job waits in the queue for one.
    pub queued: bool,
}

/// `POST /api/jobs`: the quote and the unsigned transaction that opens the job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedJob {
    /// The rental's address: the job's id until it is opened.
    pub rental: String,
    /// The id chosen for the rental PDA `[rental, renter, id]`.
    pub rental_id: String,
    /// The unsigned transaction, base64 (legacy wire format); sign it as the fee payer and
    /// send it (or `POST /api/tx`).
    pub transaction: String,
    pub quote: QuoteView,
}

/// `DELETE /api/jobs/{id}`: the unsigned transaction that stops and settles the job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StopJob {
    pub rental: String,
    /// `cancel` (queued or provisioning), `complete` (running) or `settle` (ended).
    pub action: String,
    /// Whether the transaction also settles (else the provider settles it).
    pub settles: bool,
    pub transaction: String,
    pub network_fee_lamports: u64,
}

/// One step of a job's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobEvent {
    /// Counts the job's events from 1; the id of its server-sent event.
    pub seq: i64,
    /// `opened`, `claimed`, `started`, `extended`, `ended`, `settled` or `refund_claimed`.
    pub kind: String,
    /// Unix seconds of the block.
    pub at: i64,
    pub slot: i64,
    pub signature: String,
    /// What the event says (amounts in the job's unit).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Money of a job, in its unit (lamports or Calor base units) unless named USD.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobCost {
    /// `lamports` or `calor_base_units`.
    pub unit: String,
    pub escrowed: u64,
    pub usd_paid: f64,
    pub provider_pay: Option<u64>,
    pub fee: Option<u64>,
    pub staker_rewards: Option<u64>,
    pub burned: Option<u64>,
    pub refund: Option<u64>,
    pub refund_held: Option<bool>,
    pub refund_claimed: Option<u64>,
    /// What the time served cost: provider pay and fee (burn included).
    pub spent: Option<u64>,
}

/// Where to reach a running job.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Connect {
    /// The provider's endpoint (its provisioner).
    pub endpoint: String,
    pub ssh_host: Option<String>,
    pub ssh_port: Option<u16>,
    /// Ready to paste, when SSH is reachable and the job has a key.
    pub ssh_command: Option<String>,
    /// The web terminal's websocket; it opens with a message the renter's wallet signs for
    /// `accessEndpoint` (`POST /api/jobs/{id}/access` builds it).
    pub terminal_url: Option<String>,
    /// The provisioner's endpoint as access messages name it.
    pub access_endpoint: Option<String>,
    /// Jupyter, without its secret (the provisioner gives it for a signed request).
    pub jupyter_url: Option<String>,
    pub forwarded_ports: Vec<ConnectPort>,
}

/// How long an access message the API builds stays valid: time to sign, not to keep.
pub const ACCESS_VALIDITY_SECS: i64 = 120;

/// What to open, in `POST /api/jobs/{id}/access`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessAsk {
    /// `terminal` or `jupyter`.
    pub action: String,
}

/// The text to sign and where to send it with the signature.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessMessage {
    /// Sign these exact bytes (UTF-8) with the renter's wallet (`signMessage`).
    pub message: String,
    /// The terminal's websocket (send `{"type":"auth","message","signature"}` first), or the
    /// URL to `POST {"message","signature"}` to for Jupyter's secret.
    pub url: Option<String>,
    pub expires_at: String,
}

fn access_time(unix: i64) -> String {
    calor_client::siws::format_rfc3339(unix)
}

/// A port the job declared, as the provider published it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectPort {
    pub port: u16,
    /// `tcp` or `http`.
    pub protocol: String,
    pub host: Option<String>,
    pub host_port: Option<u16>,
    /// For `http` ports.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub rental: String,
    pub renter: String,
    /// `queued`, `provisioning`, `running`, `completed`, `failed`, `cancelled` or `refund_held`.
    pub state: String,
    pub settled: bool,
    pub gpu: u16,
    pub gpu_name: Option<String>,
    pub region: Option<u16>,
    pub node: Option<String>,
    pub provider: Option<String>,
    pub payment: Payment,
    pub hours: u64,
    pub hourly_rate_usd: f64,
    pub cost: JobCost,
    pub opened_at: i64,
    pub started_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `completed`, `expired`, `failed`, `cancelled` or `reclaimed`.
    pub end_reason: Option<String>,
    pub served_secs: Option<u64>,
    pub connect: Option<Connect>,
    pub timeline: Vec<JobEvent>,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// `GET /api/jobs` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobFilter {
    /// Only jobs in this state.
    pub status: Option<String>,
    /// Only jobs pinned to this region.
    pub region: Option<u16>,
    /// 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// From a previous page's `nextCursor`.
    pub cursor: Option<String>,
}

pub const STATES: [&str; 7] = [
    "queued",
    "provisioning",
    "running",
    "completed",
    "failed",
    "cancelled",
    "refund_held",
];

pub struct Jobs {
    pub store: Store,
    pub market: Arc<Market>,
    pub settings: JobSettings,
    http: reqwest::Client,
}

fn bad(field: &'static str, reason: impl Into<String>) -> JobError {
    JobError::BadField {
        field,
        reason: reason.into(),
    }
}

/// Refuses a purchase the wallet cannot pay, naming the unit that is short.
fn check_funds(
    payment: PaymentKind,
    max_payment: u64,
    lamports_beside: u64,
    lamports: u64,
    calor: u64,
) -> Result<(), JobError> {
    match renting::shortfall(payment, max_payment, lamports_beside, lamports, calor) {
        None => Ok(()),
        Some(s) => Err(JobError::InsufficientFunds {
            need: s.need,
            have: s.have,
            unit: match s.unit {
                PaymentKind::Sol => "lamports",
                PaymentKind::Calor => "Calor base units",
            },
        }),
    }
}

fn parse_wallet(wallet: &str) -> Result<Pubkey, JobError> {
    wallet
        .parse()
        .map_err(|_| bad("wallet", "not a base58 address"))
}

impl Jobs {
    pub fn new(store: Store, market: Arc<Market>, settings: JobSettings) -> Self {
        Self {
            store,
            market,
            settings,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Rentals of `wallet` open on the chain now, and how many it may have.
    pub async fn quota(&self, wallet: &Pubkey) -> Result<(u32, u32, String), JobError> {
        let is_open = |r: &Rental| {
            r.renter == *wallet
                && matches!(
                    r.state(),
                    RentalState::Queued | RentalState::Provisioning | RentalState::Running
                )
        };
        let candidates: Vec<Pubkey> = {
            let view = self.market.view().await;
            view.rentals
                .iter()
                .filter(|(_, r)| is_open(r))
                .map(|(address, _)| *address)
                .collect()
        };
        let snapshot = self.market.snapshot();
        let tier = match (
            self.market
                .chain
                .account::<Stake>(&pda::stake(wallet))
                .await?,
            snapshot.stake_pool.as_ref(),
            snapshot.config.as_ref(),
        ) {
            (Some(stake), Some(pool), Some(config)) => calor::math::priority_tier(
                stake.deposits.seasoned(pool.epoch),
                &config.params.staking.priority_tiers,
            ),
            _ => 0,
        };
        let completed: i64 = sqlx::query(
            "SELECT COUNT(*) FROM jobs WHERE renter = $1 AND end_reason IN ('completed', 'expired')",
        )
        .bind(wallet.to_string())
        .fetch_one(self.store.pool())
        .await?
        .get(0);
        let q = self.settings.quota;
        let by_usage = (completed as u32)
            .checked_div(q.completed_per_slot)
            .unwrap_or(0);
        let limit = (q.base + q.per_tier * u32::from(tier) + by_usage).min(q.max);
        let how = format!(
            "stake tier {tier} and {completed} completed jobs give {limit}: each stake priority tier adds {}, every {} completed jobs add one, up to {}",
            q.per_tier, q.completed_per_slot, q.max
        );
        // The view learns of a rental's closing only at its next resync (`programSubscribe`
        // does not report an account leaving the program): before refusing, ask the chain
        // about each rental the view still counts.
        let mut open = candidates.len() as u32;
        if open >= limit {
            open = 0;
            for address in &candidates {
                if self
                    .market
                    .chain
                    .account::<Rental>(address)
                    .await?
                    .is_some_and(|r| is_open(&r))
                {
                    open += 1;
                }
            }
        }
        Ok((open, limit, how))
    }

    /// Quotes a job and builds its unsigned opening transaction.
    pub async fn create(&self, wallet: &str, request: &CreateJob) -> Result<CreatedJob, JobError> {
        let renter = parse_wallet(wallet)?;
        if let Some(key) = &request.ssh_key {
            calor::ssh_key::validate(key).map_err(|e| bad("sshKey", e.to_string()))?;
        }
        if request.forwarded_ports.len() > MAX_FORWARDED_PORTS {
            return Err(bad(
                "forwardedPorts",
                format!("at most {MAX_FORWARDED_PORTS} ports"),
            ));
        }
        for (i, p) in request.forwarded_ports.iter().enumerate() {
            if p.port == 0 || p.port == calor::constants::SSH_PORT {
                return Err(bad(
                    "forwardedPorts",
                    format!(
                        "port {} cannot be forwarded (0 and 22 are reserved)",
                        p.port
                    ),
                ));
            }
            if request.forwarded_ports[..i]
                .iter()
                .any(|q| q.port == p.port)
            {
                return Err(bad(
                    "forwardedPorts",
                    format!("port {} is listed twice", p.port),
                ));
            }
        }
        if let Some(near) = request.near {
            if !(-90..=90).contains(&near.latitude) || !(-180..=180).contains(&near.longitude) {
                return Err(bad(
                    "near",
                    "latitude must be within ±90 and longitude within ±180",
                ));
            }
        }
        let snapshot = self.market.snapshot();
        let config = snapshot.config.as_ref().ok_or(JobError::NotReady)?;
        let model = snapshot
            .gpu_models
            .get(&request.gpu)
            .filter(|m| m.is_active())
            .ok_or_else(|| bad("gpu", format!("no active GPU model {}", request.gpu)))?;
        if let Some(region) = request.region {
            snapshot
                .regions
                .get(&region)
                .filter(|r| r.is_active())
                .ok_or_else(|| bad("region", format!("no active region {region}")))?;
        }
        let (open, limit, how) = self.quota(&renter).await?;
        if open >= limit {
            return Err(JobError::Quota { open, limit, how });
        }
        let (rate, queued) = self
            .offer(&snapshot, model.id, request.region)
            .await
            .ok_or(JobError::NoCapacity {
                gpu: model.id,
                region: request.region,
            })?;
        if let Some(max) = request.max_hourly_usd {
            if !max.is_finite() || max <= 0.0 {
                return Err(bad("maxHourlyUsd", "must be a positive number"));
            }
            if rate as f64 / 1e6 > max {
                return Err(JobError::AboveMaximumRate {
                    asked: rate as f64 / 1e6,
                    max,
                });
            }
        }
        let kind: PaymentKind = request.payment.into();
        let price = match &snapshot.sol_usd {
            Some(Ok(p)) => Some(*p),
            _ => None,
        };
        let q = quote(
            config,
            price.as_ref(),
            snapshot.chain_time,
            rate,
            request.hours,
            kind,
            self.settings.slippage_bps,
        )?;
        let chain = &self.market.chain;
        let rental_space = calor::pda_accounts::space_of::<Rental>();
        let mut rent = chain.rent_exempt(rental_space).await?;
        let id = self.free_rental_id(&renter).await?;
        let args = OpenRentalArgs {
            id,
            bump: 0,
            escrow_bump: 0,
            hours: request.hours,
            hourly_rate_micro_usd: rate,
            region: request.region,
            near: request.near.map(|n| Location {
                latitude_deg: n.latitude,
                longitude_deg: n.longitude,
            }),
            ssh_public_key: request.ssh_key.clone(),
            forwarded_ports: request
                .forwarded_ports
                .iter()
                .map(|p| ForwardedPort {
                    port: p.port,
                    http: p.http,
                })
                .collect(),
            max_payment: q.max_payment,
        };
        let staked = self.stake_gives_priority(&renter, &snapshot).await?;
        let fee = self.settings.priority.fee_lamports();
        let sol_balance = chain.balance(&renter).await?;
        let open = match kind {
            PaymentKind::Sol => {
                check_funds(kind, q.max_payment, rent + fee, sol_balance, 0)?;
                ix::open_rental_sol_with(
                    renter,
                    model.id,
                    self.market.sol_usd_account,
                    args,
                    staked,
                )
            }
            PaymentKind::Calor => {
                rent += chain.rent_exempt(TOKEN_ACCOUNT_LEN).await?;
                let mint = config.calor_mint;
                let token_program = self.market.chain.owner(&mint).await?;
                let renter_token = pda::associated_token(&renter, &mint, &token_program);
                let tokens = chain.token_balance(&renter_token).await?;
                check_funds(kind, q.max_payment, rent + fee, sol_balance, tokens)?;
                ix::open_rental_calor_with(
                    renter,
                    model.id,
                    mint,
                    renter_token,
                    token_program,
                    args,
                    staked,
                )
            }
        };
        let blockhash = chain.latest_blockhash().await?;
        let transaction = wire::unsigned(&renter, &[open], self.settings.priority, blockhash);
        Ok(CreatedJob {
            rental: pda::rental(&renter, id).to_string(),
            rental_id: id.to_string(),
            transaction,
            quote: quote_view(&q, &snapshot, config.calor_decimals, rent, fee, queued),
        })
    }

    /// The rate to offer: the cheapest idle node's (then the cheapest online one's, and the
    /// job queues); `None` when no node of the model is online there.
    async fn offer(
        &self,
        snapshot: &Snapshot,
        gpu: u16,
        region: Option<u16>,
    ) -> Option<(u64, bool)> {
        let view = self.market.view().await;
        calor_client::market::offer(
            view.nodes.values(),
            gpu,
            region,
            heartbeat_timeout(snapshot),
            snapshot.chain_time,
        )
        .map(|o| (o.rate_micro_usd, o.queued))
    }

    async fn free_rental_id(&self, renter: &Pubkey) -> Result<u64, JobError> {
        loop {
            let id: u64 = rand::thread_rng().gen();
            let address = pda::rental(renter, id);
            if self
                .market
                .chain
                .rpc()
                .get_balance(&address)
                .await
                .map_err(ChainError::from)?
                == 0
            {
                return Ok(id);
            }
        }
    }

    /// The renter's stake is passed (for routing priority) when it reaches a tier.
    async fn stake_gives_priority(
        &self,
        renter: &Pubkey,
        snapshot: &Snapshot,
    ) -> Result<bool, JobError> {
        let (Some(pool), Some(config)) = (&snapshot.stake_pool, &snapshot.config) else {
            return Ok(false);
        };
        Ok(
            match self
                .market
                .chain
                .account::<Stake>(&pda::stake(renter))
                .await?
            {
                Some(stake) => {
                    calor::math::priority_tier(
                        stake.deposits.seasoned(pool.epoch),
                        &config.params.staking.priority_tiers,
                    ) > 0
                }
                None => false,
            },
        )
    }

    /// Checks a signed transaction and sends it; its signature.
    pub async fn relay(&self, base64_tx: &str) -> Result<String, JobError> {
        let tx = wire::signed_for_relay(base64_tx)?;
        match self.market.chain.relay(&tx).await {
            Ok(signature) => Ok(signature.to_string()),
            Err(ChainError::Rejected { error, logs, .. }) => {
                let name = anchor_error_name(&logs).unwrap_or_else(|| error.to_string());
                Err(JobError::Rejected { name, logs })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The job `id` (a job id or a rental address) if it is `wallet`'s, with where to connect
    /// while it runs (asked of its provider's provisioner).
    /// The message the renter's wallet signs to open `action` on the job's instance: built
    /// here with the provisioner's own verifier module (`calor_client::access`), so no client
    /// keeps a copy of its format. Signing it is the wallet's; checking it, the provisioner's.
    pub async fn access_message(
        &self,
        wallet: &str,
        id: &str,
        action: AccessAction,
    ) -> Result<AccessMessage, JobError> {
        let job = self.find(wallet, id).await?;
        if job.state != "running" {
            return Err(JobError::NotReachable(format!("it is {}", job.state)));
        }
        let connect = self
            .connect(&job)
            .await
            .ok_or_else(|| JobError::NotReachable("its provider is unknown".into()))?;
        let endpoint = connect
            .access_endpoint
            .as_deref()
            .and_then(access::Endpoint::from_url)
            .ok_or_else(|| JobError::NotReachable("its provisioner did not answer".into()))?;
        let now = crate::http::system_clock();
        let request = access::AccessRequest {
            endpoint,
            renter: job.renter.parse().map_err(|_| JobError::NotFound)?,
            rental: job.rental.parse().map_err(|_| JobError::NotFound)?,
            action,
            nonce: crate::auth::random_nonce(),
            issued_at: now,
            expires_at: now + ACCESS_VALIDITY_SECS,
        };
        let url = match action {
            AccessAction::Terminal => connect.terminal_url,
            AccessAction::Jupyter => Some(format!(
                "{}/rentals/{}/jupyter",
                request.endpoint.uri, job.rental
            )),
        };
        Ok(AccessMessage {
            message: request.text(),
            url,
            expires_at: access_time(request.expires_at),
        })
    }

    pub async fn get(&self, wallet: &str, id: &str) -> Result<Job, JobError> {
        let mut job = self.find(wallet, id).await?;
        if job.state == "running" {
            job.connect = self.connect(&job).await;
        }
        Ok(job)
    }

    /// The job `id` if it is `wallet`'s, from the index alone.
    pub async fn find(&self, wallet: &str, id: &str) -> Result<Job, JobError> {
        let row = if id.contains('-') {
            sqlx::query(&format!("{JOB_SELECT} WHERE id = $1 AND renter = $2"))
                .bind(id)
                .bind(wallet)
                .fetch_optional(self.store.pool())
                .await?
        } else {
            sqlx::query(&format!(
                "{JOB_SELECT} WHERE rental = $1 AND renter = $2 ORDER BY opened_slot DESC, id DESC LIMIT 1"
            ))
            .bind(id)
            .bind(wallet)
            .fetch_optional(self.store.pool())
            .await?
        };
        let row = row.ok_or(JobError::NotFound)?;
        let mut job = job_from_row(&row, &self.market.snapshot());
        job.timeline = self.events_after(&job.id, 0).await?;
        Ok(job)
    }

    /// The job's events after `seq`, oldest first.
    pub async fn events_after(&self, job: &str, seq: i64) -> Result<Vec<JobEvent>, JobError> {
        let rows = sqlx::query(
            "SELECT seq, kind, block_time, slot, signature, detail FROM job_events \
             WHERE job = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(job)
        .bind(seq)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| JobEvent {
                seq: r.get(0),
                kind: r.get(1),
                at: r.get(2),
                slot: r.get(3),
                signature: r.get(4),
                detail: serde_json::from_str(&r.get::<String, _>(5)).unwrap_or_default(),
            })
            .collect())
    }

    /// The wallet's jobs, newest first, a page at a time.
    pub async fn list(&self, wallet: &str, filter: &JobFilter) -> Result<JobPage, JobError> {
        let limit = filter.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(bad("limit", "must be between 1 and 100"));
        }
        if let Some(status) = &filter.status {
            if !STATES.contains(&status.as_str()) {
                return Err(bad(
                    "status",
                    format!("must be one of {}", STATES.join(", ")),
                ));
            }
        }
        let after = match &filter.cursor {
            Some(c) => {
                Some(decode_cursor(c).ok_or_else(|| bad("cursor", "not a cursor this API gave"))?)
            }
            None => None,
        };
        let mut sql = format!("{JOB_SELECT} WHERE renter = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.status.is_some() {
            sql.push_str(&format!(" AND state = {}", next()));
        }
        if filter.region.is_some() {
            sql.push_str(&format!(" AND region = {}", next()));
        }
        if after.is_some() {
            let (a, b) = (next(), next());
            sql.push_str(&format!(
                " AND (opened_slot < {a} OR (opened_slot = {a} AND id < {b}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY opened_slot DESC, id DESC LIMIT {}",
            limit + 1
        ));
        let mut query = sqlx::query(&sql).bind(wallet);
        if let Some(status) = &filter.status {
            query = query.bind(status.clone());
        }
        if let Some(region) = filter.region {
            query = query.bind(i64::from(region));
        }
        if let Some((slot, id)) = &after {
            query = query.bind(*slot).bind(id.clone());
        }
        let mut rows = query.fetch_all(self.store.pool()).await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = rows
            .last()
            .filter(|_| more)
            .map(|r| encode_cursor(r.get(14), &r.get::<String, _>(0)));
        let snapshot = self.market.snapshot();
        let jobs: Vec<Job> = rows.iter().map(|r| job_from_row(r, &snapshot)).collect();
        Ok(JobPage { jobs, next_cursor })
    }

    /// The unsigned transaction that stops the job (and settles it when it can).
    pub async fn stop(&self, wallet: &str, id: &str) -> Result<StopJob, JobError> {
        let job = self.find(wallet, id).await?;
        let renter = parse_wallet(wallet)?;
        let address: Pubkey = job.rental.parse().map_err(|_| JobError::NotFound)?;
        let rental = self
            .market
            .chain
            .account::<Rental>(&address)
            .await?
            .filter(|r| r.renter == renter)
            .ok_or_else(|| JobError::NotStoppable(format!("{} and settled", job.state)))?;
        let mint = self
            .market
            .snapshot()
            .config
            .as_ref()
            .ok_or(JobError::NotReady)?
            .calor_mint;
        let calor = renting::calor_settlement(&self.market.chain, &rental, mint).await?;
        let plan = renting::stop_plan(address, &rental, calor)
            .map_err(|refused| JobError::NotStoppable(refused.to_string()))?;
        let blockhash = self.market.chain.latest_blockhash().await?;
        Ok(StopJob {
            rental: address.to_string(),
            action: plan.action.as_str().into(),
            settles: plan.settles,
            transaction: wire::unsigned(
                &renter,
                &plan.instructions,
                self.settings.priority,
                blockhash,
            ),
            network_fee_lamports: self.settings.priority.fee_lamports(),
        })
    }

    /// Where the provider serves this job, asked of its provisioner.
    async fn connect(&self, job: &Job) -> Option<Connect> {
        let provider: Pubkey = job.provider.as_ref()?.parse().ok()?;
        let endpoint = self
            .market
            .snapshot()
            .providers
            .get(&provider)?
            .endpoint()
            .trim_end_matches('/')
            .to_string();
        let status: serde_json::Value = async {
            self.http
                .get(format!("{endpoint}/rentals/{}", job.rental))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()
        }
        .await
        .unwrap_or_default();
        let ssh_host = status["ssh_host"].as_str().map(str::to_string);
        let ssh_port = status["ssh_port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok());
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let forwarded_ports = status["forwarded_ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some(ConnectPort {
                    port: u16::try_from(p["port"].as_u64()?).ok()?,
                    protocol: text(&p["protocol"])?,
                    host: text(&p["host"]),
                    host_port: p["host_port"].as_u64().and_then(|h| u16::try_from(h).ok()),
                    url: text(&p["url"]),
                })
            })
            .collect();
        Some(Connect {
            endpoint,
            ssh_host,
            ssh_port,
            ssh_command: text(&status["ssh_command"]),
            terminal_url: text(&status["terminal_url"]),
            access_endpoint: text(&status["access_endpoint"]),
            jupyter_url: text(&status["jupyter"]["url"]),
            forwarded_ports,
        })
    }
}

/// The error name Anchor logs for a rejection (`Error Code: PaymentAboveMaximum.`).
fn anchor_error_name(logs: &[String]) -> Option<String> {
    logs.iter().find_map(|line| {
        let rest = line.split("Error Code: ").nth(1)?;
        Some(rest.split('.').next()?.to_string())
    })
}

const JOB_SELECT: &str = "SELECT id, rental, renter, gpu_model, region, payment, hours, hourly_rate_micro_usd, \
     escrowed, usd_paid_micro, state, node, provider, opened_at, opened_slot, started_at, ends_at, ended_at, \
     end_reason, served_secs, settled_at, provider_amount, fee, staker_rewards, burned, refund, refund_held, \
     refund_claimed FROM jobs";

fn job_from_row(r: &sqlx::any::AnyRow, snapshot: &Snapshot) -> Job {
    let opt = |i: usize| r.get::<Option<i64>, _>(i);
    let payment = if r.get::<String, _>(5) == "calor" {
        Payment::Calor
    } else {
        Payment::Sol
    };
    let provider_pay = opt(21).map(|v| v as u64);
    let fee = opt(22).map(|v| v as u64);
    let gpu = r.get::<i64, _>(3) as u16;
    Job {
        id: r.get(0),
        rental: r.get(1),
        renter: r.get(2),
        gpu,
        gpu_name: snapshot.gpu_models.get(&gpu).map(|m| m.name().to_string()),
        region: opt(4).map(|v| v as u16),
        payment,
        hours: r.get::<i64, _>(6) as u64,
        hourly_rate_usd: r.get::<i64, _>(7) as f64 / 1e6,
        cost: JobCost {
            unit: match payment {
                Payment::Sol => "lamports".into(),
                Payment::Calor => "calor_base_units".into(),
            },
            escrowed: r.get::<i64, _>(8) as u64,
            usd_paid: r.get::<i64, _>(9) as f64 / 1e6,
            provider_pay,
            fee,
            staker_rewards: opt(23).map(|v| v as u64),
            burned: opt(24).map(|v| v as u64),
            refund: opt(25).map(|v| v as u64),
            refund_held: opt(26).map(|v| v != 0),
            refund_claimed: opt(27).map(|v| v as u64),
            spent: provider_pay.zip(fee).map(|(p, f)| p + f),
        },
        state: r.get(10),
        node: r.get(11),
        provider: r.get(12),
        opened_at: r.get(13),
        started_at: opt(15),
        ends_at: opt(16),
        ended_at: opt(17),
        end_reason: r.get(18),
        served_secs: opt(19).map(|v| v as u64),
        settled: opt(20).is_some(),
        connect: None,
        timeline: Vec::new(),
    }
}

fn encode_cursor(slot: i64, id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{slot}:{id}"))
}

fn decode_cursor(text: &str) -> Option<(i64, String)> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (slot, id) = text.split_once(':')?;
    Some((slot.parse().ok()?, id.to_string()))
}

fn quote_view(
    q: &Quote,
    snapshot: &Snapshot,
    calor_decimals: u8,
    rent: u64,
    fee: u64,
    queued: bool,
) -> QuoteView {
    let (unit, scale) = match q.payment {
        PaymentKind::Sol => ("SOL", LAMPORTS_PER_SOL),
        PaymentKind::Calor => ("CALOR", 10f64.powi(i32::from(calor_decimals))),
    };
    QuoteView {
        payment: match q.payment {
            PaymentKind::Sol => Payment::Sol,
            PaymentKind::Calor => Payment::Calor,
        },
        hours: q.hours,
        hourly_rate_usd: q.hourly_rate_micro_usd as f64 / 1e6,
        market_usd: q.market_usd_micro as f64 / 1e6,
        paid_usd: q.paid_usd_micro as f64 / 1e6,
        minimum_usd: q.minimum_usd_micro as f64 / 1e6,
        amount: q.amount,
        amount_display: q.amount as f64 / scale,
        unit: unit.into(),
        max_payment: q.max_payment,
        refundable_rent_lamports: rent,
        network_fee_lamports: fee,
        sol_usd: crate::market::sol_usd(snapshot),
        calor_usd: snapshot
            .config
            .as_ref()
            .map(|c| c.calor_price_micro_usd as f64 / 1e6),
        queued,
    }
}
