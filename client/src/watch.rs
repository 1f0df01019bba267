//! A view of the chain kept current: every rental, node and region of the program, updated by
//! a `programSubscribe` websocket and replaced wholesale by a periodic `getProgramAccounts`
//! resync. A dropped websocket is reconnected with backoff and followed by a resync, so an
//! account changed while it was down is still seen. The same session follows `slotSubscribe`:
//! slots arrive several times a second, so a socket that delivers none for `idle_timeout` has
//! stalled silently and is reopened (the pubsub client also pings every 10 s).
//!
//! One module for every service that follows the chain (the provisioner, the API): each
//! passes an [`Observer`] that says which changes wake it and records what it measures.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::Discriminator;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use tokio::sync::{watch, Notify, RwLock};

use crate::accounts::{decode, Node, Region, Rental};
use crate::rpc::{Chain, ChainError};
use crate::{Pubkey, PROGRAM_ID};

/// What the chain holds, as last seen.
#[derive(Debug, Default, Clone)]
pub struct ChainView {
    pub rentals: HashMap<Pubkey, Rental>,
    pub nodes: HashMap<Pubkey, Node>,
    /// Region id → (latitude, longitude) in micro-degrees, for nearest-region routing.
    pub regions: HashMap<u16, (i32, i32)>,
    pub last_resync: Option<Instant>,
}

/// One change the subscription delivered.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A rental opened, changed (`before` and `after`) or closed (`after` is `None`).
    Rental {
        address: &'a Pubkey,
        before: Option<&'a Rental>,
        after: Option<&'a Rental>,
    },
    /// A node listed, changed or closed.
    Node {
        address: &'a Pubkey,
    },
    Region {
        id: u16,
    },
}

/// What a service learns from its watcher. Every method has a default that does nothing.
pub trait Observer: Send + Sync {
    /// Whether `change` should wake the service (a resync always does).
    fn wakes(&self, _change: Change<'_>) -> bool {
        true
    }
    /// The view now holds this many rentals and nodes.
    fn view_size(&self, _rentals: usize, _nodes: usize) {}
    fn resynced(&self, _took: Duration) {}
    fn resync_failed(&self, _error: &ChainError) {}
    /// The websocket is subscribed (`true`) or its session ended (`false`).
    fn websocket(&self, _connected: bool) {}
}

/// An observer that is woken by everything and measures nothing.
pub struct Everything;

impl Observer for Everything {}

pub struct Watcher {
    pub chain: Arc<Chain>,
    pub ws_url: String,
    pub resync_every: Duration,
    pub view: Arc<RwLock<ChainView>>,
    /// Woken on every change the observer cares about (and after each resync), so the
    /// service acts without waiting for its timer.
    pub changed: Arc<Notify>,
    pub observer: Arc<dyn Observer>,
    /// A socket with no slot notification for this long is reopened.
    pub idle_timeout: Duration,
}

impl Watcher {
    /// Replaces the view with a full read of the program's rentals and nodes.
    pub async fn resync(&self) -> Result<(), ChainError> {
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
            self.observer
                .view_size(view.rentals.len(), view.nodes.len());
        }
        self.observer.resynced(started.elapsed());
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
                    self.observer.resync_failed(&e);
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
                    self.observer.websocket(false);
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
        self.observer.websocket(true);
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

    async fn apply(&self, address: Pubkey, lamports: u64, data: &[u8]) {
        let mut view = self.view.write().await;
        let closed = lamports == 0 || data.is_empty();
        let wakes = if closed {
            let rental = view.rentals.remove(&address);
            let node = view.nodes.remove(&address);
            rental.is_some_and(|r| {
                self.observer.wakes(Change::Rental {
                    address: &address,
                    before: Some(&r),
                    after: None,
                })
            }) || node.is_some_and(|_| self.observer.wakes(Change::Node { address: &address }))
        } else if data.starts_with(Rental::DISCRIMINATOR) {
            match decode::<Rental>(data) {
                Ok(rental) => {
                    let before = view.rentals.insert(address, rental);
                    self.observer.wakes(Change::Rental {
                        address: &address,
                        before: before.as_ref(),
                        after: Some(&rental),
                    })
                }
                Err(_) => false,
            }
        } else if data.starts_with(Node::DISCRIMINATOR) {
            match decode::<Node>(data) {
                Ok(node) => {
                    view.nodes.insert(address, node);
                    self.observer.wakes(Change::Node { address: &address })
                }
                Err(_) => false,
            }
        } else if data.starts_with(Region::DISCRIMINATOR) {
            match decode::<Region>(data) {
                Ok(r) => {
                    view.regions
                        .insert(r.id, (r.latitude_micro_deg, r.longitude_micro_deg));
                    self.observer.wakes(Change::Region { id: r.id })
                }
                Err(_) => false,
            }
        } else {
            return;
        };
        self.observer
            .view_size(view.rentals.len(), view.nodes.len());
        drop(view);
        if wakes {
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
