//! The live market as the chain holds it now: rentals and nodes from the shared watcher
//! (`calor_client::watch`), and the slower-moving accounts (config, GPU catalog, regions,
//! providers, the stake pool, the SOL/USD price, the chain's clock) re-read every `refresh`.
//! The catalog's JSON is rendered once a refresh, so `GET /api/gpus` serves bytes.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use calor::oracle::PriceMessage;
use calor_client::accounts::{Config, GpuModel, Node, Provider, Region, StakePool};
use calor_client::quote::{price_message, QuoteError};
use calor_client::rpc::{Chain, ChainError};
use calor_client::watch::{ChainView, Watcher};
use calor_client::{pda, Pubkey};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

/// The accounts re-read on a timer.
#[derive(Default)]
pub struct Snapshot {
    pub config: Option<Config>,
    pub gpu_models: BTreeMap<u16, GpuModel>,
    pub regions: BTreeMap<u16, Region>,
    pub providers: HashMap<Pubkey, Provider>,
    pub stake_pool: Option<StakePool>,
    /// The SOL/USD price account's content, or why it cannot be read.
    pub sol_usd: Option<Result<PriceMessage, QuoteError>>,
    /// The chain's clock (unix seconds) when read.
    pub chain_time: i64,
    /// `GET /api/gpus`, rendered.
    pub gpus_body: Arc<str>,
}

pub use calor_client::market::Availability;

pub struct Market {
    pub chain: Arc<Chain>,
    pub watcher: Arc<Watcher>,
    pub sol_usd_account: Pubkey,
    pub refresh: Duration,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Per node: refreshes seen online, refreshes seen at all (since this process started).
    uptime: Mutex<HashMap<Pubkey, (u64, u64)>>,
}

impl Market {
    pub fn new(
        chain: Arc<Chain>,
        watcher: Arc<Watcher>,
        sol_usd_account: Pubkey,
        refresh: Duration,
    ) -> Self {
        Self {
            chain,
            watcher,
            sol_usd_account,
            refresh,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            uptime: Mutex::new(HashMap::new()),
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("snapshot lock").clone()
    }

    /// Rentals and nodes as the watcher holds them.
    pub async fn view(&self) -> tokio::sync::RwLockReadGuard<'_, ChainView> {
        self.watcher.view.read().await
    }

    /// Re-reads the slow accounts and renders the catalog.
    pub async fn refresh_once(&self) -> Result<(), ChainError> {
        let (config_address, pool_address) = (pda::config().0, pda::stake_pool());
        let (config, models, regions, providers, pool, chain_time, price) = tokio::try_join!(
            self.chain.account::<Config>(&config_address),
            self.chain.program_accounts::<GpuModel>(),
            self.chain.program_accounts::<Region>(),
            self.chain.program_accounts::<Provider>(),
            self.chain.account::<StakePool>(&pool_address),
            self.chain.unix_timestamp(),
            async {
                Ok(self
                    .chain
                    .rpc()
                    .get_account_with_commitment(
                        &self.sol_usd_account,
                        self.chain.rpc().commitment(),
                    )
                    .await
                    .map_err(ChainError::from)?
                    .value)
            },
        )?;
        let mut snapshot = Snapshot {
            config,
            gpu_models: models.into_iter().map(|(_, m)| (m.id, m)).collect(),
            regions: regions.into_iter().map(|(_, r)| (r.id, r)).collect(),
            providers: providers.into_iter().collect(),
            stake_pool: pool,
            sol_usd: Some(match price {
                Some(account) => price_message(&account.owner, &account.data),
                None => Err(QuoteError::NotAPriceUpdate),
            }),
            chain_time,
            gpus_body: Arc::from(""),
        };
        {
            let view = self.view().await;
            let mut uptime = self.uptime.lock().expect("uptime lock");
            for (address, node) in &view.nodes {
                let seen = uptime.entry(*address).or_default();
                seen.1 += 1;
                if availability(node, &snapshot) != Availability::Offline {
                    seen.0 += 1;
                }
            }
            snapshot.gpus_body = Arc::from(
                serde_json::to_string(&render_catalog(&snapshot, &view))
                    .expect("the catalog serialises"),
            );
        }
        *self.snapshot.write().expect("snapshot lock") = Arc::new(snapshot);
        Ok(())
    }

    /// Refreshes every `refresh` until shutdown.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.refresh_once().await {
                tracing::warn!(%error, "market refresh failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.refresh) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Share of refreshes the node was seen online, since this process started.
    pub fn uptime_ratio(&self, node: &Pubkey) -> Option<f64> {
        let uptime = self.uptime.lock().expect("uptime lock");
        uptime
            .get(node)
            .filter(|(_, seen)| *seen > 0)
            .map(|(online, seen)| *online as f64 / *seen as f64)
    }
}

/// Whether `node` can take work now, by its status and heartbeat.
pub fn availability(node: &Node, snapshot: &Snapshot) -> Availability {
    calor_client::market::availability(node, heartbeat_timeout(snapshot), snapshot.chain_time)
}

/// How old a heartbeat may be for its node to count as online (0 before the config is read).
pub fn heartbeat_timeout(snapshot: &Snapshot) -> u32 {
    snapshot
        .config
        .as_ref()
        .map_or(0, |c| c.params.heartbeat_timeout_secs)
}

/// USD per hour from micro-USD, for people (the exact micro-USD values sit beside it).
pub fn usd_per_hour(micro: u64) -> f64 {
    micro as f64 / 1e6
}

/// The Calor price of a market rate (the subsidy taken off).
pub fn calor_rate(snapshot: &Snapshot, market_micro_usd: u64) -> Option<u64> {
    let config = snapshot.config.as_ref()?;
    calor::math::subsidised_usd(market_micro_usd, config.params.calor_subsidy_bps).ok()
}

/// The SOL/USD price in dollars, if readable.
pub fn sol_usd(snapshot: &Snapshot) -> Option<f64> {
    match &snapshot.sol_usd {
        Some(Ok(p)) => Some(p.price as f64 * 10f64.powi(p.exponent)),
        _ => None,
    }
}

/// A rate to rent at, per node-hour.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateView {
    pub market_micro_usd: u64,
    pub market_usd_per_hour: f64,
    /// What paying in Calor costs (the subsidy taken off).
    pub calor_micro_usd: Option<u64>,
    pub calor_usd_per_hour: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionAvailability {
    pub id: u16,
    pub code: String,
    pub name: String,
    pub idle_nodes: u32,
    pub total_nodes: u32,
    /// The cheapest idle node's rate, else the cheapest online node's; absent when none is online.
    pub rate: Option<RateView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GpuModelView {
    pub id: u16,
    pub name: String,
    pub architecture: String,
    pub vram_gb: u16,
    pub fp16_tflops: u32,
    pub active: bool,
    pub idle_nodes: u32,
    /// Online nodes.
    pub total_nodes: u32,
    pub rate: Option<RateView>,
    pub regions: Vec<RegionAvailability>,
}

/// `GET /api/gpus`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GpuCatalog {
    pub models: Vec<GpuModelView>,
    /// The SOL/USD price quotes use now.
    pub sol_usd: Option<f64>,
    pub calor_usd: Option<f64>,
    pub calor_subsidy_bps: Option<u16>,
    pub minimum_rental_usd: Option<f64>,
    /// The chain's clock, unix seconds.
    pub chain_time: i64,
}

/// `GET /api/gpus`: every model with availability per region and the rates to rent it.
fn render_catalog(snapshot: &Snapshot, view: &ChainView) -> GpuCatalog {
    let rate_view = |m: u64| RateView {
        market_micro_usd: m,
        market_usd_per_hour: usd_per_hour(m),
        calor_micro_usd: calor_rate(snapshot, m),
        calor_usd_per_hour: calor_rate(snapshot, m).map(usd_per_hour),
    };
    let regions: Vec<&Region> = snapshot.regions.values().collect();
    let models = calor_client::market::catalog(
        snapshot.gpu_models.values(),
        &regions,
        view.nodes.values(),
        heartbeat_timeout(snapshot),
        snapshot.chain_time,
    )
    .into_iter()
    .map(|m| GpuModelView {
        rate: m.offer().map(|o| rate_view(o.rate_micro_usd)),
        regions: m
            .regions
            .into_iter()
            .map(|r| RegionAvailability {
                rate: r.tally.offer().map(|o| rate_view(o.rate_micro_usd)),
                id: r.id,
                code: r.code,
                name: r.name,
                idle_nodes: r.tally.idle,
                total_nodes: r.tally.online,
            })
            .collect(),
        id: m.id,
        name: m.name,
        architecture: m.architecture,
        vram_gb: m.vram_gb,
        fp16_tflops: m.fp16_tflops,
        active: m.active,
        idle_nodes: m.tally.idle,
        total_nodes: m.tally.online,
    })
    .collect();
    GpuCatalog {
        models,
        sol_usd: sol_usd(snapshot),
        calor_usd: snapshot
            .config
            .as_ref()
            .map(|c| c.calor_price_micro_usd as f64 / 1e6),
        calor_subsidy_bps: snapshot.config.as_ref().map(|c| c.params.calor_subsidy_bps),
        minimum_rental_usd: snapshot
            .config
            .as_ref()
            .map(|c| c.params.min_rental_micro_usd as f64 / 1e6),
        chain_time: snapshot.chain_time,
    }
}
