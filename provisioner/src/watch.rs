//! The provisioner's view of the chain: every rental and node of the program, kept current by
//! a `programSubscribe` websocket and replaced wholesale by a periodic `getProgramAccounts`
//! resync. A dropped websocket is reconnected with backoff and followed by a resync, so a
//! rental opened while it was down is still seen. The same session follows `slotSubscribe`:
//! slots arrive several times a second, so a socket that delivers none for
//! `ws_idle_timeout` has stalled silently and is reopened.
//!
//! Only changes this cluster can act on wake the reconciler: queued rentals (work to claim),
//! rentals and nodes of this cluster, regions; every other account is just recorded.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use calor_client::accounts::{decode, Node, Region, Rental, RentalState};
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
    /// Woken on every change this cluster can act on, so the reconciler acts without waiting
    /// for its timer.
    pub changed: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// This cluster's nodes.
    pub nodes: HashSet<Pubkey>,
    /// A socket with no slot notification for this long is reopened.
    pub idle_timeout: Duration,
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
                    self.metrics.rpc_errors.inc();
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
                    self.metrics.ws_connected.set(0);
                    self.metrics.ws_reconnects.inc();
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
        let (mut slots, unsubscribe_slots) = match client.slot_subscribe().await {
            Ok(subscription) => subscription,
            Err(e) => return format!("slot subscribe: {e}"),
        };
        tracing::info!(url = %self.ws_url, "subscribed to program accounts and slots");
        self.metrics.ws_connected.set(1);
        backoff.reset();
        // Whatever changed while disconnected is read back by a resync.
        reconnected.notify_one();
        let ended = loop {
            tokio::select! {
                update = updates.next() => {
                    let Some(update) = update else { break "the node closed the stream".to_string() };
                    let Ok(address) = update.value.pubkey.parse::<Pubkey>() else {
                        continue;
                    };
                    let account = update.value.account;
                    let data = account.data.decode().unwrap_or_default();
                    self.apply(address, account.lamports, &data).await;
                }
                slot = tokio::time::timeout(self.idle_timeout, slots.next()) => match slot {
                    Ok(Some(_)) => {}
                    Ok(None) => break "the node closed the slot stream".to_string(),
                    Err(_) => break format!("no slot for {:?}: the socket stalled", self.idle_timeout),
                },
            }
        };
        // A stalled socket may never answer an unsubscribe: do not wait for it.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            unsubscribe().await;
            unsubscribe_slots().await;
        })
        .await;
        ended
    }

    /// Whether a rental matters to this cluster: work it may claim, or one of its own.
    fn concerns_us(&self, rental: &Rental) -> bool {
        rental.state() == RentalState::Queued
            || rental.node().is_some_and(|n| self.nodes.contains(&n))
    }

    async fn apply(&self, address: Pubkey, lamports: u64, data: &[u8]) {
        let mut view = self.view.write().await;
        let closed = lamports == 0 || data.is_empty();
        let relevant = if closed {
            let rental = view.rentals.remove(&address);
            let node = view.nodes.remove(&address);
            rental.is_some_and(|r| self.concerns_us(&r))
                || node.is_some_and(|_| self.nodes.contains(&address))
        } else if data.starts_with(Rental::DISCRIMINATOR) {
            match decode::<Rental>(data) {
                Ok(rental) => {
                    let was_ours = view
                        .rentals
                        .get(&address)
                        .is_some_and(|r| self.concerns_us(r));
                    view.rentals.insert(address, rental);
                    was_ours || self.concerns_us(&rental)
                }
                Err(_) => false,
            }
        } else if data.starts_with(Node::DISCRIMINATOR) {
            match decode::<Node>(data) {
                Ok(node) => {
                    view.nodes.insert(address, node);
                    self.nodes.contains(&address)
                }
                Err(_) => false,
            }
        } else if data.starts_with(Region::DISCRIMINATOR) {
            match decode::<Region>(data) {
                Ok(r) => {
                    view.regions
                        .insert(r.id, (r.latitude_micro_deg, r.longitude_micro_deg));
                    true
                }
                Err(_) => false,
            }
        } else {
            return;
        };
        self.metrics.set_view(view.rentals.len(), view.nodes.len());
        drop(view);
        if relevant {
            self.changed.notify_one();
        }
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
