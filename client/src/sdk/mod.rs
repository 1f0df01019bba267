//! The Calor SDK: rent GPUs, follow and stop jobs, stake, from a keypair, against the chain
//! itself. Every transaction is built here with the shared instruction builders, signed by
//! the caller's key and sent to the cluster's RPC node: no Calor server is needed to rent,
//! extend, stop or claim. The API only adds history beyond what the chain keeps in accounts.
//!
//! ```no_run
//! use calor_client::sdk::{Calor, Cluster, Compute};
//! # async fn run() -> Result<(), calor_client::sdk::SdkError> {
//! let keypair = calor_client::sdk::read_keypair("~/.config/solana/id.json")?;
//! let calor = Calor::new(keypair, Cluster::Localnet);
//! let rented = calor.compute(&Compute::new("h100-pcie", 4)).await?;
//! println!("{} is {}", rented.job.id, rented.job.state);
//! let settlement = calor.jobs().stop(&rented.job.id).await?;
//! println!("refund: {}", settlement.refund);
//! # Ok(())
//! # }
//! ```
mod jobs;
pub mod terminal;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use calor::instructions::OpenRentalArgs;
use calor::state::{Config, GpuModel, Node, PaymentKind, Region, Rental};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;

pub use jobs::{Job, JobState, Jobs, Settlement};

use crate::instructions::{self as ix, StakeTokens};
use crate::market::{self, ModelMarket, Offer};
use crate::quote::{self, QuoteError};
use crate::renting;
use crate::rpc::{Chain, ChainError, SendPolicy};
use crate::staking::StakeNow;
use crate::{pda, pyth};

/// How far above the quote a transaction lets the price move before the program refuses it.
pub const SLIPPAGE_BPS: u16 = 100;
/// Bytes of a token account (a Calor rental's escrow is one; its rent comes back).
const TOKEN_ACCOUNT_LEN: usize = 165;
/// Lamports a transaction of ours pays: one signature and the priority fee `SendPolicy` sets
/// (1,000 micro-lamports a unit over the default 200,000-unit budget).
pub const NETWORK_FEE_LAMPORTS: u64 = 5_000 + 200;

/// A Solana cluster by name, or any RPC URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    Localnet,
    Devnet,
    MainnetBeta,
    Url(String),
}

impl Cluster {
    pub fn rpc_url(&self) -> &str {
        match self {
            Cluster::Localnet => "http://127.0.0.1:8899",
            Cluster::Devnet => "https://api.devnet.solana.com",
            Cluster::MainnetBeta => "https://api.mainnet-beta.solana.com",
            Cluster::Url(url) => url,
        }
    }

    /// The SOL/USD `PriceUpdateV2` the program reads: where the local chain keeps it, else
    /// Pyth's sponsored feed (shard 0 of the push oracle).
    pub fn sol_usd_price_account(&self) -> Pubkey {
        let local = match self {
            Cluster::Localnet => true,
            Cluster::Url(url) => url.contains("://127.0.0.1") || url.contains("://localhost"),
            _ => false,
        };
        if local {
            pyth::local_sol_usd_price_account()
        } else {
            pyth::sponsored_sol_usd_price_account()
        }
    }
}

impl FromStr for Cluster {
    type Err = SdkError;

    fn from_str(s: &str) -> Result<Self, SdkError> {
        match s {
            "localnet" | "local" => Ok(Cluster::Localnet),
            "devnet" => Ok(Cluster::Devnet),
            "mainnet-beta" | "mainnet" => Ok(Cluster::MainnetBeta),
            url if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(Cluster::Url(url.to_string()))
            }
            other => Err(SdkError::Invalid(format!(
                "unknown cluster {other:?}: use localnet, devnet, mainnet-beta or an http(s) URL"
            ))),
        }
    }
}

/// What kind of failure an [`SdkError`] is, for exit codes and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong (arguments, an unknown GPU, too few hours).
    Invalid,
    /// Nothing to rent now, or the price cannot be used now: try again later.
    Unavailable,
    /// The wallet cannot pay.
    Funds,
    /// No such job, or not the wallet's.
    NotFound,
    /// The chain, the API or a provider could not be reached or refused.
    Network,
    /// The program rejected the transaction.
    Rejected,
}

/// Why an SDK call failed; each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("{0}")]
    Invalid(String),
    #[error("unknown GPU {0:?}: `calor gpus` lists the models")]
    UnknownGpu(String),
    #[error("unknown region {0:?}: `calor gpus` lists the regions")]
    UnknownRegion(String),
    #[error("no {gpu} is online{}: nothing to rent now", region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default())]
    NoCapacity { gpu: String, region: Option<String> },
    #[error("the cheapest {gpu} costs ${rate:.2}/h, above your maximum of ${max:.2}/h")]
    AboveMaximumRate { gpu: String, rate: f64, max: f64 },
    #[error("{0}")]
    Quote(QuoteError),
    #[error("insufficient {unit}: need {}, have {}", unit.amount(*need), unit.amount(*have))]
    InsufficientFunds { unit: Unit, need: u64, have: u64 },
    #[error("no job {0} of this wallet")]
    NotFound(String),
    #[error("cannot stop {job}: {why}")]
    NotStoppable { job: String, why: String },
    #[error("staking: {0}")]
    Staking(String),
    #[error("{0}")]
    Chain(#[from] ChainError),
    #[error("{what}: {message}")]
    Http { what: String, message: String },
}

impl SdkError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SdkError::Invalid(_)
            | SdkError::UnknownGpu(_)
            | SdkError::UnknownRegion(_)
            | SdkError::AboveMaximumRate { .. }
            | SdkError::NotStoppable { .. }
            | SdkError::Staking(_) => ErrorKind::Invalid,
            SdkError::Quote(QuoteError::Price(_) | QuoteError::NotAPriceUpdate) => {
                ErrorKind::Unavailable
            }
            SdkError::Quote(_) => ErrorKind::Invalid,
            SdkError::NoCapacity { .. } => ErrorKind::Unavailable,
            SdkError::InsufficientFunds { .. } => ErrorKind::Funds,
            SdkError::NotFound(_) => ErrorKind::NotFound,
            SdkError::Chain(ChainError::Rejected { .. }) => ErrorKind::Rejected,
            SdkError::Chain(_) | SdkError::Http { .. } => ErrorKind::Network,
        }
    }
}

impl SdkError {
    /// The shortfall `renting::shortfall` found, in its unit.
    pub(crate) fn short(s: renting::Shortfall, calor_decimals: u8) -> SdkError {
        SdkError::InsufficientFunds {
            unit: Unit::of(s.unit, calor_decimals),
            need: s.need,
            have: s.have,
        }
    }
}

impl From<QuoteError> for SdkError {
    fn from(e: QuoteError) -> Self {
        SdkError::Quote(e)
    }
}

/// The unit of an amount: lamports shown as SOL, Calor base units shown as Calor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Sol,
    Calor { decimals: u8 },
}

impl Unit {
    fn of(payment: PaymentKind, calor_decimals: u8) -> Unit {
        match payment {
            PaymentKind::Sol => Unit::Sol,
            PaymentKind::Calor => Unit::Calor {
                decimals: calor_decimals,
            },
        }
    }

    /// `base` units as a decimal number with the unit's name, at least four places
    /// (`0.0412 SOL`), more when the amount is smaller than that.
    pub fn amount(self, base: u64) -> String {
        let (decimals, name) = match self {
            Unit::Sol => (9u32, "SOL"),
            Unit::Calor { decimals } => (u32::from(decimals), "Calor"),
        };
        let scale = 10u64.pow(decimals);
        let whole = base / scale;
        let fraction = format!("{:0width$}", base % scale, width = decimals as usize);
        let significant = fraction.trim_end_matches('0').len();
        let places = significant.max(4.min(decimals as usize));
        format!("{whole}.{} {name}", &fraction[..places])
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Sol => "SOL",
            Unit::Calor { .. } => "Calor",
        })
    }
}

/// Pay in SOL or in Calor (subsidised, part burned at settlement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pay {
    #[default]
    Sol,
    Calor,
}

impl FromStr for Pay {
    type Err = SdkError;

    fn from_str(s: &str) -> Result<Self, SdkError> {
        match s.to_ascii_lowercase().as_str() {
            "sol" => Ok(Pay::Sol),
            "calor" => Ok(Pay::Calor),
            other => Err(SdkError::Invalid(format!(
                "pay with sol or calor, not {other:?}"
            ))),
        }
    }
}

impl From<Pay> for PaymentKind {
    fn from(p: Pay) -> Self {
        match p {
            Pay::Sol => PaymentKind::Sol,
            Pay::Calor => PaymentKind::Calor,
        }
    }
}

/// What to rent.
#[derive(Debug, Clone)]
pub struct Compute {
    /// A model's short name (`h100-pcie`, as `calor gpus` lists it), its full name or its id.
    pub gpu: String,
    pub hours: u32,
    /// A region's code (`eu-west`); any region when `None` (the nearest with capacity).
    pub region: Option<String>,
    pub pay: Pay,
    /// An OpenSSH public key line, checked as the program checks it.
    pub ssh_key: Option<String>,
    /// The most to pay per hour in USD; the cheapest node's rate is used up to it.
    pub max_hourly_usd: Option<f64>,
}

impl Compute {
    pub fn new(gpu: impl Into<String>, hours: u32) -> Compute {
        Compute {
            gpu: gpu.into(),
            hours,
            region: None,
            pay: Pay::Sol,
            ssh_key: None,
            max_hourly_usd: None,
        }
    }

    pub fn region(mut self, code: impl Into<String>) -> Compute {
        self.region = Some(code.into());
        self
    }

    pub fn pay(mut self, pay: Pay) -> Compute {
        self.pay = pay;
        self
    }

    pub fn ssh_key(mut self, line: impl Into<String>) -> Compute {
        self.ssh_key = Some(line.into());
        self
    }
}

/// The short name of a GPU model: lowercase, words joined by `-` (`H100 PCIe` → `h100-pcie`).
pub fn gpu_slug(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// A quote for a rental, before anything is signed.
#[derive(Debug, Clone, Serialize)]
pub struct Offered {
    pub gpu: u16,
    pub gpu_name: String,
    /// The pinned region's code, if pinned.
    pub region: Option<String>,
    pub hours: u32,
    pub pay: Pay,
    pub hourly_rate_usd: f64,
    /// The market value of the hours, and what you pay (less the subsidy with Calor).
    pub market_usd: f64,
    pub paid_usd: f64,
    pub minimum_usd: f64,
    /// Lamports or Calor base units the program takes at today's price.
    pub amount: u64,
    /// The most the transaction lets it take (the quote plus slippage).
    pub max_payment: u64,
    pub unit: Unit,
    /// Lamports held as the rental's (and a Calor escrow's) rent, returned at settlement.
    pub rent_deposit_lamports: u64,
    pub network_fee_lamports: u64,
    /// No node is idle: the rental waits in the queue for one.
    pub queued: bool,
    #[serde(skip)]
    rate_micro_usd: u64,
}

impl Offered {
    /// `amount` with its unit, for people.
    pub fn amount_text(&self) -> String {
        self.unit.amount(self.amount)
    }
}

/// A rental that was opened.
#[derive(Debug, Clone, Serialize)]
pub struct Rented {
    pub job: Job,
    pub quote: Offered,
    /// The opening transaction.
    pub signature: String,
}

/// One GPU model as the chain's accounts describe it now.
#[derive(Debug, Clone, Serialize)]
pub struct GpuListing {
    pub id: u16,
    pub slug: String,
    pub name: String,
    pub architecture: String,
    pub vram_gb: u16,
    pub fp16_tflops: u32,
    pub idle: u32,
    /// Online nodes.
    pub total: u32,
    /// The rate a new rental offers (micro-USD per hour), market and with Calor.
    pub rate_usd: Option<f64>,
    pub calor_rate_usd: Option<f64>,
    pub regions: Vec<RegionListing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionListing {
    pub code: String,
    pub name: String,
    pub idle: u32,
    pub total: u32,
    pub rate_usd: Option<f64>,
}

/// The network now, from the chain's node accounts.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    pub nodes_online: u32,
    pub nodes_total: u32,
    pub gpus_busy: u32,
    pub gpus_online: u32,
    pub utilisation: f64,
    pub fp16_pflops_online: f64,
    pub rentals_open: u32,
}

/// A stake with the pool, as the next instruction on it would see them.
#[derive(Debug, Clone, Serialize)]
pub struct Rewards {
    /// Calor base units.
    pub active: u64,
    pub pending: u64,
    pub seasoned: u64,
    pub claimable: u64,
    pub priority_tier: u8,
    pub epoch: u64,
    pub epoch_ends_at: i64,
    pub calor_decimals: u8,
}

/// The market's accounts read at one moment.
struct MarketNow {
    config: Config,
    models: Vec<GpuModel>,
    regions: Vec<Region>,
    nodes: Vec<Node>,
    chain_time: i64,
}

impl MarketNow {
    fn catalog(&self) -> Vec<ModelMarket> {
        let regions: Vec<&Region> = self.regions.iter().collect();
        market::catalog(
            &self.models,
            &regions,
            &self.nodes,
            self.config.params.heartbeat_timeout_secs,
            self.chain_time,
        )
    }

    fn model(&self, asked: &str) -> Result<&GpuModel, SdkError> {
        let slug = gpu_slug(asked);
        self.models
            .iter()
            .filter(|m| m.is_active())
            .find(|m| gpu_slug(m.name()) == slug || m.id.to_string() == asked)
            .ok_or_else(|| SdkError::UnknownGpu(asked.to_string()))
    }

    fn region(&self, code: &str) -> Result<&Region, SdkError> {
        self.regions
            .iter()
            .filter(|r| r.is_active())
            .find(|r| r.code().eq_ignore_ascii_case(code) || r.id.to_string() == code)
            .ok_or_else(|| SdkError::UnknownRegion(code.to_string()))
    }

    fn usd_rates(&self, offer: Option<Offer>) -> (Option<f64>, Option<f64>) {
        let Some(offer) = offer else {
            return (None, None);
        };
        let calor =
            calor::math::subsidised_usd(offer.rate_micro_usd, self.config.params.calor_subsidy_bps)
                .ok()
                .map(usd);
        (Some(usd(offer.rate_micro_usd)), calor)
    }
}

fn accounts<T>(listed: Vec<(Pubkey, T)>) -> Vec<T> {
    listed.into_iter().map(|(_, account)| account).collect()
}

fn usd(micro: u64) -> f64 {
    micro as f64 / 1e6
}

/// Reads a Solana CLI keypair file (a JSON array of 64 bytes); `~` is the home directory.
pub fn read_keypair(path: &str) -> Result<Keypair, SdkError> {
    let path = match path.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", std::env::var("HOME").unwrap_or_default()),
        None => path.to_string(),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| SdkError::Invalid(format!("cannot read the keypair {path}: {e}")))?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .map_err(|_| SdkError::Invalid(format!("{path} is not a keypair file (64 numbers)")))?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|_| SdkError::Invalid(format!("{path} is not a valid ed25519 keypair")))
}

/// The client: a keypair on a cluster.
pub struct Calor {
    chain: Chain,
    signer: Keypair,
    sol_usd: Pubkey,
    http: reqwest::Client,
    poll: Duration,
}

impl Calor {
    pub fn new(signer: Keypair, cluster: Cluster) -> Calor {
        Calor {
            chain: Chain::new(cluster.rpc_url(), SendPolicy::default()),
            sol_usd: cluster.sol_usd_price_account(),
            signer,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client"),
            poll: Duration::from_millis(400),
        }
    }

    /// Uses another SOL/USD price account than the cluster's default.
    pub fn with_sol_usd_account(mut self, account: Pubkey) -> Calor {
        self.sol_usd = account;
        self
    }

    /// How often `watch` and `compute` read the rental.
    pub fn with_poll_interval(mut self, every: Duration) -> Calor {
        self.poll = every;
        self
    }

    /// The wallet's address.
    pub fn wallet(&self) -> Pubkey {
        self.signer.pubkey()
    }

    pub fn signer(&self) -> &Keypair {
        &self.signer
    }

    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { calor: self }
    }

    async fn config(&self) -> Result<Config, SdkError> {
        self.chain
            .account::<Config>(&pda::config().0)
            .await?
            .ok_or_else(|| {
                SdkError::Invalid(format!(
                    "Calor is not deployed on {} (no config account)",
                    self.chain.url()
                ))
            })
    }

    async fn market_now(&self) -> Result<MarketNow, SdkError> {
        let config = self.config().await?;
        let mut models: Vec<GpuModel> = accounts(self.chain.program_accounts::<GpuModel>().await?);
        models.sort_by_key(|m| m.id);
        let mut regions: Vec<Region> = accounts(self.chain.program_accounts::<Region>().await?);
        regions.sort_by_key(|r| r.id);
        let nodes = accounts(self.chain.program_accounts::<Node>().await?);
        let chain_time = self.chain.unix_timestamp().await?;
        Ok(MarketNow {
            config,
            models,
            regions,
            nodes,
            chain_time,
        })
    }

    /// Every active GPU model: idle and online nodes per region, the rate a rental offers.
    pub async fn gpus(&self) -> Result<Vec<GpuListing>, SdkError> {
        let now = self.market_now().await?;
        Ok(now
            .catalog()
            .into_iter()
            .filter(|m| m.active)
            .map(|m| {
                let (rate_usd, calor_rate_usd) = now.usd_rates(m.offer());
                GpuListing {
                    id: m.id,
                    slug: gpu_slug(&m.name),
                    architecture: m.architecture,
                    vram_gb: m.vram_gb,
                    fp16_tflops: m.fp16_tflops,
                    idle: m.tally.idle,
                    total: m.tally.online,
                    rate_usd,
                    calor_rate_usd,
                    regions: m
                        .regions
                        .into_iter()
                        .map(|r| RegionListing {
                            rate_usd: r.tally.offer().map(|o| usd(o.rate_micro_usd)),
                            code: r.code,
                            name: r.name,
                            idle: r.tally.idle,
                            total: r.tally.online,
                        })
                        .collect(),
                    name: m.name,
                }
            })
            .collect())
    }

    /// The network now: nodes and GPUs online and busy, compute online, open rentals.
    pub async fn network(&self) -> Result<Network, SdkError> {
        let now = self.market_now().await?;
        let rentals = self.chain.program_accounts::<Rental>().await?;
        let c = market::capacity(
            &now.nodes,
            |gpu| {
                now.models
                    .iter()
                    .find(|m| m.id == gpu)
                    .map_or(0, |m| m.fp16_tflops)
            },
            now.config.params.heartbeat_timeout_secs,
            now.chain_time,
        );
        Ok(Network {
            nodes_online: c.nodes_online,
            nodes_total: now.nodes.len() as u32,
            gpus_busy: c.gpus_busy,
            gpus_online: c.gpus_online,
            utilisation: c.utilisation(),
            fp16_pflops_online: c.fp16_tflops_online as f64 / 1000.0,
            rentals_open: rentals.len() as u32,
        })
    }

    /// What `request` costs now, by the program's rules, and whether the wallet can pay.
    /// A shortfall is an error here, before anything is signed.
    pub async fn quote(&self, request: &Compute) -> Result<Offered, SdkError> {
        let now = self.market_now().await?;
        let (offered, _) = self.offer(&now, request).await?;
        Ok(offered)
    }

    async fn offer(
        &self,
        now: &MarketNow,
        request: &Compute,
    ) -> Result<(Offered, Option<u16>), SdkError> {
        let model = now.model(&request.gpu)?;
        let region = request
            .region
            .as_deref()
            .map(|code| now.region(code))
            .transpose()?;
        if let Some(key) = &request.ssh_key {
            calor::ssh_key::validate(key.trim())
                .map_err(|e| SdkError::Invalid(format!("the SSH key is refused: {e}")))?;
        }
        let offer = market::offer(
            &now.nodes,
            model.id,
            region.map(|r| r.id),
            now.config.params.heartbeat_timeout_secs,
            now.chain_time,
        )
        .ok_or_else(|| SdkError::NoCapacity {
            gpu: model.name().to_string(),
            region: region.map(|r| r.code().to_string()),
        })?;
        if let Some(max) = request.max_hourly_usd {
            if usd(offer.rate_micro_usd) > max {
                return Err(SdkError::AboveMaximumRate {
                    gpu: model.name().to_string(),
                    rate: usd(offer.rate_micro_usd),
                    max,
                });
            }
        }
        let kind: PaymentKind = request.pay.into();
        let price = match kind {
            PaymentKind::Sol => Some(self.sol_usd_price().await?),
            PaymentKind::Calor => None,
        };
        let q = quote::quote(
            &now.config,
            price.as_ref(),
            now.chain_time,
            offer.rate_micro_usd,
            request.hours,
            kind,
            SLIPPAGE_BPS,
        )?;
        let mut rent = self
            .chain
            .rent_exempt(calor::pda_accounts::space_of::<Rental>())
            .await?;
        if kind == PaymentKind::Calor {
            rent += self.chain.rent_exempt(TOKEN_ACCOUNT_LEN).await?;
        }
        let offered = Offered {
            gpu: model.id,
            gpu_name: model.name().to_string(),
            region: region.map(|r| r.code().to_string()),
            hours: request.hours,
            pay: request.pay,
            hourly_rate_usd: usd(offer.rate_micro_usd),
            market_usd: usd(q.market_usd_micro),
            paid_usd: usd(q.paid_usd_micro),
            minimum_usd: usd(q.minimum_usd_micro),
            amount: q.amount,
            max_payment: q.max_payment,
            unit: Unit::of(kind, now.config.calor_decimals),
            rent_deposit_lamports: rent,
            network_fee_lamports: NETWORK_FEE_LAMPORTS,
            queued: offer.queued,
            rate_micro_usd: offer.rate_micro_usd,
        };
        self.check_funds(&now.config, &offered).await?;
        Ok((offered, region.map(|r| r.id)))
    }

    /// Says a shortfall in SOL or Calor before anything is signed.
    async fn check_funds(&self, config: &Config, offered: &Offered) -> Result<(), SdkError> {
        let lamports = self.chain.balance(&self.wallet()).await?;
        let calor = match offered.pay {
            Pay::Sol => 0,
            Pay::Calor => {
                let tokens = self.calor_account(config.calor_mint).await?;
                self.chain.token_balance(&tokens.owner_token).await?
            }
        };
        let beside = offered.rent_deposit_lamports + offered.network_fee_lamports;
        let kind = PaymentKind::from(offered.pay);
        match renting::shortfall(kind, offered.max_payment, beside, lamports, calor) {
            None => Ok(()),
            Some(s) => Err(SdkError::short(s, config.calor_decimals)),
        }
    }

    async fn sol_usd_price(&self) -> Result<calor::oracle::PriceMessage, SdkError> {
        let account = self
            .chain
            .rpc()
            .get_account(&self.sol_usd)
            .await
            .map_err(|_| SdkError::Quote(QuoteError::NotAPriceUpdate))?;
        Ok(quote::price_message(&account.owner, &account.data)?)
    }

    /// The wallet's associated Calor account and the mint's token program.
    async fn calor_account(&self, mint: Pubkey) -> Result<StakeTokens, SdkError> {
        let token_program = self.chain.owner(&mint).await?;
        Ok(StakeTokens {
            calor_mint: mint,
            owner_token: pda::associated_token(&self.wallet(), &mint, &token_program),
            token_program,
        })
    }

    /// Opens the rental (quoted, funds checked, signed and sent); the job as the chain has it
    /// once the open is confirmed (queued, or already claimed).
    pub async fn rent(&self, request: &Compute) -> Result<Rented, SdkError> {
        let now = self.market_now().await?;
        let (offered, region) = self.offer(&now, request).await?;
        let renter = self.wallet();
        let id = self.free_rental_id().await?;
        let args = OpenRentalArgs {
            id,
            bump: 0,
            escrow_bump: 0,
            hours: request.hours,
            hourly_rate_micro_usd: offered.rate_micro_usd,
            region,
            near: None,
            ssh_public_key: request.ssh_key.as_ref().map(|k| k.trim().to_string()),
            forwarded_ports: Vec::new(),
            max_payment: offered.max_payment,
        };
        let staked = self.stake_gives_priority(&now.config).await?;
        let open = match request.pay {
            Pay::Sol => ix::open_rental_sol_with(renter, offered.gpu, self.sol_usd, args, staked),
            Pay::Calor => {
                let tokens = self.calor_account(now.config.calor_mint).await?;
                ix::open_rental_calor_with(
                    renter,
                    offered.gpu,
                    tokens.calor_mint,
                    tokens.owner_token,
                    tokens.token_program,
                    args,
                    staked,
                )
            }
        };
        let signature = self.send("open", &[open]).await?;
        let address = pda::rental(&renter, id);
        let job = self.jobs().get(&address.to_string()).await?;
        Ok(Rented {
            job,
            quote: offered,
            signature,
        })
    }

    /// Rents, then follows the job until it runs (or fails, or is cancelled).
    ///
    /// ```no_run
    /// # async fn run(calor: &calor_client::sdk::Calor) -> Result<(), calor_client::sdk::SdkError> {
    /// use calor_client::sdk::{Compute, Pay, SdkError};
    /// match calor.compute(&Compute::new("h100-pcie", 4).pay(Pay::Calor)).await {
    ///     Ok(rented) => println!("{} is {}", rented.job.id, rented.job.state),
    ///     Err(e @ SdkError::InsufficientFunds { .. }) => eprintln!("{e}"), // need …, have …
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn compute(&self, request: &Compute) -> Result<Rented, SdkError> {
        self.compute_with_progress(request, |_| {}).await
    }

    /// As [`Calor::compute`], calling `progress` with each state the job passes through.
    pub async fn compute_with_progress(
        &self,
        request: &Compute,
        mut progress: impl FnMut(&Job),
    ) -> Result<Rented, SdkError> {
        use futures_util::StreamExt;
        let mut rented = self.rent(request).await?;
        progress(&rented.job);
        let id = rented.job.id.clone();
        let jobs = self.jobs();
        let mut states = std::pin::pin!(jobs.watch(&id));
        while let Some(job) = states.next().await {
            let job = job?;
            progress(&job);
            let done = job.state != JobState::Queued && job.state != JobState::Provisioning;
            rented.job = job;
            if done {
                break;
            }
        }
        Ok(rented)
    }

    async fn free_rental_id(&self) -> Result<u64, SdkError> {
        loop {
            // eight bytes of a fresh key: random enough, with no extra dependency
            let fresh = Keypair::new().pubkey().to_bytes();
            let id = u64::from_le_bytes(fresh[..8].try_into().expect("8 bytes"));
            if self.chain.balance(&pda::rental(&self.wallet(), id)).await? == 0 {
                return Ok(id);
            }
        }
    }

    /// A rental is routed with priority when the wallet's seasoned stake reaches a tier.
    async fn stake_gives_priority(&self, config: &Config) -> Result<bool, SdkError> {
        let Some(now) = crate::staking::stake_now(&self.chain, &self.wallet()).await? else {
            return Ok(false);
        };
        Ok(now.stake.is_some_and(|s| {
            calor::math::priority_tier(
                s.deposits.seasoned(now.pool.epoch),
                &config.params.staking.priority_tiers,
            ) > 0
        }))
    }

    /// The wallet's stake and rewards now.
    pub async fn rewards(&self) -> Result<Rewards, SdkError> {
        let (config, _, now) = self.staking().await?;
        let pool = &now.pool;
        let (active, pending, seasoned, claimable) = match &now.stake {
            Some(s) => (
                s.active,
                s.pending,
                s.deposits.seasoned(pool.epoch),
                s.unclaimed,
            ),
            None => (0, 0, 0, 0),
        };
        Ok(Rewards {
            active,
            pending,
            seasoned,
            claimable,
            priority_tier: calor::math::priority_tier(
                seasoned,
                &config.params.staking.priority_tiers,
            ),
            epoch: pool.epoch,
            epoch_ends_at: pool.epoch_started_at + i64::from(config.params.staking.epoch_secs),
            calor_decimals: config.calor_decimals,
        })
    }

    /// Stakes `amount` Calor base units (a first stake opens the account).
    pub async fn stake(&self, amount: u64) -> Result<String, SdkError> {
        let (config, tokens, now) = self.staking().await?;
        let have = self.chain.token_balance(&tokens.owner_token).await?;
        if amount == 0 || have < amount {
            return Err(SdkError::InsufficientFunds {
                unit: Unit::of(PaymentKind::Calor, config.calor_decimals),
                need: amount.max(1),
                have,
            });
        }
        let instruction = match now.stake {
            None => ix::stake(self.wallet(), tokens, amount),
            Some(_) => ix::add_stake(self.wallet(), tokens, now.epoch_record, amount),
        };
        self.send("stake", &[instruction]).await
    }

    /// Unstakes `amount` Calor base units back to the wallet.
    pub async fn unstake(&self, amount: u64) -> Result<String, SdkError> {
        let (config, tokens, now) = self.staking().await?;
        let staked = now.stake.as_ref().map_or(0, |s| s.active + s.pending);
        if amount == 0 || amount > staked {
            return Err(SdkError::Staking(format!(
                "you have {} staked",
                Unit::of(PaymentKind::Calor, config.calor_decimals).amount(staked)
            )));
        }
        let instructions = [
            self.own_calor_account(&tokens),
            ix::unstake(self.wallet(), tokens, now.epoch_record, amount),
        ];
        self.send("unstake", &instructions).await
    }

    /// Claims the stake's rewards; the amount claimed and the transaction.
    pub async fn claim(&self) -> Result<(u64, String), SdkError> {
        let (_, tokens, now) = self.staking().await?;
        let claimable = now.stake.as_ref().map_or(0, |s| s.unclaimed);
        if claimable == 0 {
            return Err(SdkError::Staking("no rewards to claim yet".into()));
        }
        let instructions = [
            self.own_calor_account(&tokens),
            ix::claim_rewards(self.wallet(), tokens, now.epoch_record),
        ];
        Ok((claimable, self.send("claim", &instructions).await?))
    }

    /// The config, the wallet's Calor account and its stake with the pool, for a staking call.
    async fn staking(&self) -> Result<(Config, StakeTokens, StakeNow), SdkError> {
        let config = self.config().await?;
        let tokens = self.calor_account(config.calor_mint).await?;
        let now = crate::staking::stake_now(&self.chain, &self.wallet())
            .await?
            .ok_or_else(|| SdkError::Staking("staking is not set up on this cluster".into()))?;
        Ok((config, tokens, now))
    }

    /// Creates the wallet's associated Calor account if it is missing (tokens paid out land there).
    fn own_calor_account(&self, tokens: &StakeTokens) -> crate::Instruction {
        ix::create_associated_token(
            self.wallet(),
            self.wallet(),
            tokens.calor_mint,
            tokens.token_program,
        )
    }

    /// Signs and sends `instructions`; the signature.
    pub(super) async fn send(
        &self,
        label: &str,
        instructions: &[crate::Instruction],
    ) -> Result<String, SdkError> {
        Ok(self
            .chain
            .send(label, instructions, &self.signer, &[])
            .await?
            .to_string())
    }

    /// The decimals of this cluster's Calor mint, as the config records them.
    pub async fn calor_decimals(&self) -> Result<u8, SdkError> {
        Ok(self.config().await?.calor_decimals)
    }

    /// The wallet's SOL (lamports) and Calor (base units).
    pub async fn balances(&self) -> Result<(u64, u64), SdkError> {
        let config = self.config().await?;
        let tokens = self.calor_account(config.calor_mint).await?;
        Ok((
            self.chain.balance(&self.wallet()).await?,
            self.chain.token_balance(&tokens.owner_token).await?,
        ))
    }
}

impl fmt::Debug for Calor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calor")
            .field("rpc", &self.chain.url())
            .field("wallet", &self.wallet())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_amounts() {
        assert_eq!(gpu_slug("H100 PCIe"), "h100-pcie");
        assert_eq!(gpu_slug("RTX 4090 (24 GB)"), "rtx-4090-24-gb");
        assert_eq!(Unit::Sol.amount(41_200_000), "0.0412 SOL");
        assert_eq!(Unit::Sol.amount(10_000_000), "0.0100 SOL");
        assert_eq!(Unit::Sol.amount(1_000_012_345), "1.000012345 SOL");
        assert_eq!(
            Unit::Calor { decimals: 6 }.amount(100_000_000),
            "100.0000 Calor"
        );
        assert_eq!(Unit::Calor { decimals: 6 }.amount(5), "0.000005 Calor");
        assert_eq!("mainnet".parse::<Cluster>().unwrap(), Cluster::MainnetBeta);
        assert!("nowhere".parse::<Cluster>().is_err());
    }
}
