//! The provisioner's view of the chain: every rental and node of the program, kept current by
//! a `programSubscribe` websocket and replaced wholesale by a periodic `getProgramAccounts`
//! resync. A dropped websocket is reconnected with backoff and followed by a resync, so a
//! rental opened while it was down is still seen.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use calor_client::accounts::{decode, Node, Region, Rental};
use calor_client::rpc::Chain;
use calor_client::{Pubkey, PROGRAM_ID};
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use tokio::sync::{watch, Notify, RwLock};

use crate::metrics::Metrics;

/// What the chain holds, as last seen.
#[derive(Debug, Default, Clone)]
pub struct ChainView {
    pub rentals: HashMap<Pubkey, Rental>,
    pub nodes: HashMap<Pubkey, Node>,
    /// Region id → (latitude, longitude) in micro-degrees, for nearest-region routing.
    pub regions: HashMap<u16, (i32, i32)>,
    pub last_resync: Option<Instant>,
}

pub struct Watcher {
    pub chain: Arc<Chain>,
    pub ws_url: String,
    pub resync_every: Duration,
    pub view: Arc<RwLock<ChainView>>,
    /// Woken on every change, so the reconciler acts without waiting for its timer.
    pub changed: Arc<Notify>,
    pub metrics: Arc<Metrics>,
}

impl Watcher {
    /// Replaces the view with a full read of the program's rentals and nodes.
    pub async fn resync(&self) -> Result<(), calor_client::rpc::ChainError> {
        let started = Instant::now();
        let rentals = self.chain.program_accounts::<Rental>().await?;
        let nodes = self.chain.program_accounts::<Node>().await?;
        let regions = self.chain.program_accounts::<Region>().await?;
        {
            let mut view = self.view.write().await;
            view.rentals = rentals.into_iter().collect();
            view.nodes = nodes.into_iter().collect();
            view.regions = regions
                .into_iter()
                .map(|(_, r)| (r.id, (r.latitude_micro_deg, r.longitude_micro_deg)))
                .collect();
            view.last_resync = Some(Instant::now());
            self.metrics.set_view(view.rentals.len(), view.nodes.len());
        }
        self.metrics.resynced(started.elapsed());
        self.changed.notify_one();
        Ok(())
    }

    /// Resyncs on a timer and whenever the websocket (re)connects, until shutdown.
    pub async fn run_resync(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
        reconnected: Arc<Notify>,
    ) {
        let mut backoff = Backoff::new();
        loop {
            let wait = match self.resync().await {
                Ok(()) => {
                    backoff.reset();
                    self.resync_every
                }
                Err(e) => {
                    self.metrics.rpc_error();
                    let wait = backoff.next();
                    tracing::warn!(error = %e, retry_in = ?wait, "resync failed");
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = reconnected.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Follows `programSubscribe`, reconnecting with backoff, until shutdown.
    pub async fn run_subscription(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
        reconnected: Arc<Notify>,
    ) {
        let mut backoff = Backoff::new();
        loop {
            let session = self.follow(&reconnected, &mut backoff);
            tokio::select! {
                ended = session => {
                    self.metrics.set_ws_connected(false);
                    let wait = backoff.next();
                    tracing::warn!(reason = %ended, retry_in = ?wait, "websocket subscription ended; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.changed() => return,
                    }
                }
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One websocket session; returns why it ended.
    async fn follow(&self, reconnected: &Notify, backoff: &mut Backoff) -> String {
        let client = match PubsubClient::new(self.ws_url.as_str()).await {
            Ok(client) => client,
            Err(e) => return format!("connect: {e}"),
        };
        let config = RpcProgramAccountsConfig {
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let (mut updates, unsubscribe) =
            match client.program_subscribe(&PROGRAM_ID, Some(config)).await {
                Ok(subscription) => subscription,
                Err(e) => return format!("subscribe: {e}"),
            };
        tracing::info!(url = %self.ws_url, "subscribed to program accounts");
        self.metrics.set_ws_connected(true);
        backoff.reset();
        // Whatever changed while disconnected is read back by a resync.
        reconnected.notify_one();
        while let Some(update) = updates.next().await {
            let Ok(address) = update.value.pubkey.parse::<Pubkey>() else {
                continue;
            };
            let account = update.value.account;
            let data = account.data.decode().unwrap_or_default();
            self.apply(address, account.lamports, &data).await;
        }
        unsubscribe().await;
        "the node closed the stream".into()
    }

    async fn apply(&self, address: Pubkey, lamports: u64, data: &[u8]) {
        let mut view = self.view.write().await;
        let closed = lamports == 0 || data.is_empty();
        if closed {
            view.rentals.remove(&address);
            view.nodes.remove(&address);
        } else if data.starts_with(Rental::DISCRIMINATOR) {
            if let Ok(rental) = decode::<Rental>(data) {
                view.rentals.insert(address, rental);
            }
        } else if data.starts_with(Node::DISCRIMINATOR) {
            if let Ok(node) = decode::<Node>(data) {
                view.nodes.insert(address, node);
            }
        } else if data.starts_with(Region::DISCRIMINATOR) {
            if let Ok(r) = decode::<Region>(data) {
                view.regions
                    .insert(r.id, (r.latitude_micro_deg, r.longitude_micro_deg));
            }
        } else {
            return;
        }
        self.metrics.set_view(view.rentals.len(), view.nodes.len());
        drop(view);
        self.changed.notify_one();
    }
}

/// Exponential backoff from 100 ms to 5 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(Duration::from_millis(100))
    }
    fn reset(&mut self) {
        *self = Self::new();
    }
    fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        now
    }
}
