//! The reconcile loop: desired state from the chain, actual state from the engine, and the
//! idempotent step that brings each rental closer: claim → create/start → GPUs checked →
//! probe → `start` recorded; at the end, remove the instance (and its workspace), `expire` if
//! due, settle.
//!
//! Every step looks before it acts, so a restart at any point (after a claim, after the
//! container was created, after it started) resumes where the chain and engine stand. A step
//! holds its rental for its whole run and decides on facts read inside it: the pass's listing
//! is only a hint, re-read before anything is done about it.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calor::errors::CalorError;
use calor_client::accounts::{Node, NodeStatus, PaymentKind, Rental, RentalState};
use calor_client::instructions::{CalorPayouts, SettleParties};
use calor_client::rpc::{Chain, ChainError};
use calor_client::{instructions as ix, Pubkey};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::sync::{watch, Notify, RwLock};

use crate::fence::NodeLocks;
use crate::metrics::{EndLabel, Metrics};
use crate::runtime::{
    free_ssh_port, probe_host, ssh_ready, GpuAttach, Instance, InstanceSpec, Limits, Runtime,
    RuntimeError, Share,
};
use crate::schedule::{self, LocalNode, Market};
use crate::watch::ChainView;

/// Test hook: `CALOR_CRASH_AFTER=claim|create|start` aborts the process (no cleanup, like
/// `kill -9`) right after that step, so crash recovery can be tested at exact points.
const CRASH_ENV: &str = "CALOR_CRASH_AFTER";
/// Notifications arriving this close together start one pass, not one each.
const DEBOUNCE: Duration = Duration::from_millis(25);
/// SIGTERM: steps in flight get this long to finish; then they are dropped at their next
/// await, which every step survives like a crash (the engine's stop grace is 10 s).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(7);
/// How long an instance must run after a restart before its restarts are forgotten.
const RESTART_WINDOW: Duration = Duration::from_secs(600);
/// How long a fresh instance gets to answer SSH within one step.
const PROBE_WINDOW: Duration = Duration::from_secs(30);

/// The operator's `update_node` that only brings a node online or takes it offline.
fn set_online(operator: Pubkey, node_index: u32, online: bool) -> calor_client::Instruction {
    ix::update_node(
        operator,
        node_index,
        calor::instructions::UpdateNodeArgs {
            hourly_rate_micro_usd: None,
            online: Some(online),
        },
    )
}

fn crash_point(step: &str) {
    if std::env::var(CRASH_ENV).is_ok_and(|s| s == step) {
        eprintln!("{CRASH_ENV}={step}: aborting");
        std::process::abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("no free SSH port in {0}-{1}")]
    NoPort(u16, u16),
}

/// One node this cluster serves.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    pub index: u32,
    pub address: Pubkey,
    /// The GPUs it owns (docs/provisioner.md, "GPU ownership").
    pub gpus: Vec<String>,
    pub share: Share,
    /// `false`: kept offline on-chain.
    pub enabled: bool,
}

/// The fixed facts of this cluster.
pub struct Cluster {
    pub operator: Keypair,
    pub provider: Pubkey,
    /// Labels every instance; only this deployment touches instances labelled with it.
    pub cluster_id: String,
    pub region: u16,
    pub nodes: Vec<ClusterNode>,
    pub image: String,
    pub gpu_attach: GpuAttach,
    pub ssh_bind_ip: String,
    pub ssh_ports: (u16, u16),
    pub public_host: String,
    pub limits: Limits,
    pub fallback_delay: Duration,
    pub provision_timeout: Duration,
    pub heartbeat_timeout_secs: i64,
    pub max_restarts: u32,
    /// Leftover volumes, networks and workspace images are looked for at most this often.
    pub sweep_every: Duration,
    /// The Calor mint and its token program, for settling Calor rentals.
    pub calor_mint: Pubkey,
    pub token_program: Pubkey,
}

impl Cluster {
    pub fn node(&self, address: &Pubkey) -> Option<&ClusterNode> {
        self.nodes.iter().find(|n| n.address == *address)
    }
}

/// A retry schedule: after `failures` failures the next attempt waits 2^failures × 500 ms
/// (at most 30 s).
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    next_at: Instant,
}

impl Backoff {
    fn delay(failures: u32) -> Duration {
        (Duration::from_millis(500) * 2u32.saturating_pow(failures.min(6)))
            .min(Duration::from_secs(30))
    }
}

/// A running rental's restarts. `stops` counts the times its instance was found stopped (the
/// crash loop that ends a rental); an attempt to restart it that failed for a reason that may
/// pass (an engine error, a port taken meanwhile) is retried without counting as a stop.
#[derive(Debug, Clone, Copy)]
struct Restarts {
    stops: u32,
    /// Failed attempts at bringing back the current stop.
    retries: u32,
    /// Whether the last stop is still being brought back.
    pending: bool,
    next_at: Instant,
    /// When the instance last came back.
    since: Instant,
}

/// An instance that cannot be brought back after this many attempts ends its rental.
const RESTART_ATTEMPTS: u32 = 10;

pub struct Controller<R: Runtime> {
    pub chain: Arc<Chain>,
    pub runtime: R,
    pub cluster: Cluster,
    pub view: Arc<RwLock<ChainView>>,
    pub metrics: Arc<Metrics>,
    /// Rentals a step is running for: one step per rental at a time.
    busy: Mutex<HashSet<Pubkey>>,
    /// When this process confirmed each claim (for the provisioning-latency metric).
    claimed: Mutex<HashMap<Pubkey, Instant>>,
    /// The instances as last seen, for the status API.
    pub instances: RwLock<HashMap<Pubkey, Instance>>,
    /// Each rental's SSH key line, once read from its opening transaction (`None`: none).
    ssh_keys: Mutex<HashMap<Pubkey, Option<String>>>,
    /// The host port each rental's SSH is published on (kept across restarts).
    ports: Mutex<HashMap<Pubkey, u16>>,
    /// Provisioning attempts that failed for a reason that may pass.
    retries: Mutex<HashMap<Pubkey, Backoff>>,
    /// Restarts of running instances that stopped.
    restarts: Mutex<HashMap<Pubkey, Restarts>>,
    /// Nodes whose GPUs are unhealthy, with why (set by the heartbeat round).
    faults: RwLock<HashMap<Pubkey, String>>,
    /// Nodes whose heartbeat is withheld: they take no new rentals.
    withheld: RwLock<HashSet<Pubkey>>,
    /// Locks of the nodes this process serves (taken at startup) and drains.
    locks: Mutex<NodeLocks>,
    last_sweep: Mutex<Option<Instant>>,
    shutdown: watch::Receiver<bool>,
}

impl<R: Runtime + 'static> Controller<R> {
    pub fn new(
        chain: Arc<Chain>,
        runtime: R,
        cluster: Cluster,
        view: Arc<RwLock<ChainView>>,
        metrics: Arc<Metrics>,
        locks: NodeLocks,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            chain,
            runtime,
            cluster,
            view,
            metrics,
            busy: Mutex::default(),
            claimed: Mutex::default(),
            instances: RwLock::default(),
            ssh_keys: Mutex::default(),
            ports: Mutex::default(),
            retries: Mutex::default(),
            restarts: Mutex::default(),
            faults: RwLock::default(),
            withheld: RwLock::default(),
            locks: Mutex::new(locks),
            last_sweep: Mutex::default(),
            shutdown,
        }
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Reconciles on every relevant chain change and at least every `period`; on shutdown,
    /// gives the steps in flight `SHUTDOWN_GRACE` to finish.
    pub async fn run(self: Arc<Self>, period: Duration, changed: Arc<Notify>) {
        let mut shutdown = self.shutdown.clone();
        let mut steps = tokio::task::JoinSet::new();
        loop {
            let started = Instant::now();
            if let Err(e) = self.clone().reconcile(&mut steps).await {
                tracing::warn!(error = %e, "reconcile pass failed; retrying");
            }
            self.metrics
                .reconcile_pass_seconds
                .observe(started.elapsed().as_secs_f64());
            while steps.try_join_next().is_some() {}
            tokio::select! {
                _ = changed.notified() => tokio::time::sleep(DEBOUNCE).await,
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!(
            in_flight = steps.len(),
            "shutting down: finishing steps in flight"
        );
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while steps.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(
                left = steps.len(),
                "steps still running after the grace period: stopped where they stand (each \
                 resumes on the next start)"
            );
            steps.abort_all();
            while steps.join_next().await.is_some() {}
        }
    }

    /// One pass: start a step for every rental that needs one and is not already in a step.
    pub async fn reconcile(
        self: Arc<Self>,
        steps: &mut tokio::task::JoinSet<()>,
    ) -> Result<(), StepError> {
        let now = self.chain.unix_timestamp().await?;
        let instances = match self.runtime.list(&self.cluster.cluster_id).await {
            Ok(instances) => {
                self.metrics.engine_up.set(1);
                instances
            }
            Err(e) => {
                self.metrics.engine_up.set(0);
                self.metrics.engine_errors.inc();
                return Err(e.into());
            }
        };
        self.metrics.instances.set(instances.len() as i64);
        {
            let mut ports = self.ports.lock().expect("ports lock");
            for i in &instances {
                if let Some(port) = i.ssh_port() {
                    ports.entry(i.rental).or_insert(port);
                }
            }
        }
        *self.instances.write().await = instances.iter().map(|i| (i.rental, i.clone())).collect();
        // One copy of the view per pass, taken under the lock and shared by every decision.
        let (rentals, nodes, regions) = {
            let view = self.view.read().await;
            let rentals: Vec<(Pubkey, Rental)> =
                view.rentals.iter().map(|(a, r)| (*a, *r)).collect();
            let nodes: Vec<(Pubkey, Node)> = view.nodes.iter().map(|(a, n)| (*a, *n)).collect();
            (rentals, nodes, view.regions.clone())
        };
        let node_of: HashMap<Pubkey, Node> = nodes.iter().copied().collect();
        for node in &self.cluster.nodes {
            if let Some(n) = node_of.get(&node.address) {
                let state = match n.status() {
                    NodeStatus::Idle => "idle",
                    NodeStatus::Busy => "busy",
                    NodeStatus::Offline => "offline",
                };
                self.metrics.set_node_state(node.index, state);
            }
        }

        let by_rental: HashMap<Pubkey, &Instance> =
            instances.iter().map(|i| (i.rental, i)).collect();
        let mut ours = HashSet::new();
        for (address, rental) in rentals
            .iter()
            .filter(|(_, r)| r.node().is_some_and(|n| self.cluster.node(&n).is_some()))
        {
            ours.insert(*address);
            if rental.state() == RentalState::Queued {
                continue;
            }
            let (address, rental) = (*address, *rental);
            let listed_running = by_rental.get(&address).is_some_and(|i| i.running);
            self.spawn_step(steps, address, move |c| async move {
                c.advance(address, rental, listed_running, now).await
            });
        }

        // Instances whose rental the view does not show as ours: confirmed on-chain first,
        // since the view may lag behind a claim made a moment ago.
        for instance in instances.iter().filter(|i| !ours.contains(&i.rental)) {
            let (address, node) = (instance.rental, instance.node);
            self.spawn_step(steps, address, move |c| async move {
                c.tidy(address, node).await
            });
        }
        self.sweep_leftovers(steps, &by_rental, &ours).await;

        // Only nodes that can serve take new work: enabled, healthy, heartbeating.
        let (faults, withheld) = (self.faults.read().await, self.withheld.read().await);
        let local: Vec<LocalNode> = self
            .cluster
            .nodes
            .iter()
            .filter(|n| {
                n.enabled && !faults.contains_key(&n.address) && !withheld.contains(&n.address)
            })
            .filter_map(|n| {
                node_of.get(&n.address).map(|node| LocalNode {
                    index: n.index,
                    address: n.address,
                    node: *node,
                })
            })
            .collect();
        drop((faults, withheld));
        let market = Market {
            now,
            heartbeat_timeout_secs: self.cluster.heartbeat_timeout_secs,
            rentals: &rentals,
            nodes: &nodes,
            regions: &regions,
        };
        for claim in schedule::plan(
            &market,
            self.cluster.region,
            &local,
            self.cluster.fallback_delay,
        ) {
            let rental = claim.rental;
            self.spawn_step(steps, rental, move |c| async move {
                c.claim_and_provision(rental, claim.node_index).await
            });
        }
        Ok(())
    }

    /// Volumes, networks and workspace images of this cluster whose rental has no container
    /// and is not a live rental of ours: left by a crash between removal steps, or by hand.
    async fn sweep_leftovers(
        self: &Arc<Self>,
        steps: &mut tokio::task::JoinSet<()>,
        listed: &HashMap<Pubkey, &Instance>,
        ours: &HashSet<Pubkey>,
    ) {
        {
            let mut last = self.last_sweep.lock().expect("sweep lock");
            if last.is_some_and(|t| t.elapsed() < self.cluster.sweep_every) {
                return;
            }
            *last = Some(Instant::now());
        }
        let leftovers = match self.runtime.leftovers(&self.cluster.cluster_id).await {
            Ok(leftovers) => leftovers,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list leftover volumes and networks");
                return;
            }
        };
        for address in leftovers
            .into_iter()
            .filter(|r| !listed.contains_key(r) && !ours.contains(r))
        {
            self.spawn_step(steps, address, move |c| async move {
                c.tidy(address, None).await
            });
        }
    }

    fn spawn_step<F, Fut>(
        self: &Arc<Self>,
        steps: &mut tokio::task::JoinSet<()>,
        rental: Pubkey,
        step: F,
    ) where
        F: FnOnce(Arc<Self>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), StepError>> + Send + 'static,
    {
        if self.stopping() || !self.busy.lock().expect("busy lock").insert(rental) {
            return;
        }
        let this = self.clone();
        steps.spawn(async move {
            // released even if the step is dropped at shutdown
            struct Release(Arc<dyn Fn() + Send + Sync>);
            impl Drop for Release {
                fn drop(&mut self) {
                    (self.0)();
                }
            }
            let releaser = this.clone();
            let _release = Release(Arc::new(move || {
                releaser.busy.lock().expect("busy lock").remove(&rental);
            }));
            if let Err(e) = step(this.clone()).await {
                tracing::warn!(%rental, error = %e, "step failed; will retry");
                match e {
                    StepError::Chain(_) => {
                        this.metrics.transaction_errors.inc();
                    }
                    StepError::Runtime(_) => {
                        this.metrics.engine_errors.inc();
                    }
                    StepError::NoPort(..) => {}
                }
            }
        });
    }

    async fn send(
        &self,
        label: &str,
        instruction: calor_client::Instruction,
    ) -> Result<(), ChainError> {
        self.chain
            .send(label, &[instruction], &self.cluster.operator, &[])
            .await
            .map(|_| ())
    }

    async fn claim_and_provision(
        self: Arc<Self>,
        rental: Pubkey,
        node_index: u32,
    ) -> Result<(), StepError> {
        let claim = ix::claim(self.cluster.operator.pubkey(), node_index, rental);
        match self.send("claim", claim).await {
            Ok(()) => {}
            Err(e)
                if e.is_calor(CalorError::RentalNotQueued)
                    || e.is_calor(CalorError::NodeNotIdle) =>
            {
                tracing::info!(%rental, "another provisioner claimed it first");
                self.metrics.claims_lost.inc();
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        self.metrics.claims_won.inc();
        self.claimed
            .lock()
            .expect("claimed lock")
            .insert(rental, Instant::now());
        tracing::info!(%rental, node_index, "claimed");
        crash_point("claim");
        // Go on at once rather than wait for the websocket to report the claim.
        let Some(state) = self.chain.account::<Rental>(&rental).await? else {
            return Ok(());
        };
        let now = self.chain.unix_timestamp().await?;
        self.advance(rental, state, false, now).await
    }

    /// Moves a rental this cluster serves one step on.
    async fn advance(
        &self,
        address: Pubkey,
        rental: Rental,
        listed_running: bool,
        now: i64,
    ) -> Result<(), StepError> {
        let Some(node) = rental.node() else {
            return Ok(());
        };
        match rental.state() {
            RentalState::Queued => Ok(()),
            RentalState::Provisioning => self.provision(address, &rental, node, now).await,
            RentalState::Running if now >= rental.ends_at => {
                self.remove(address).await?;
                match self.send("expire", ix::expire(address, node)).await {
                    Ok(()) => {
                        self.metrics.rentals_expired.inc();
                    }
                    Err(e) if e.is_calor(CalorError::RentalNotRunning) => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(rental = %address, "expired");
                self.settle(address).await
            }
            RentalState::Running => {
                self.keep_running(address, &rental, node, listed_running)
                    .await
            }
            RentalState::Completed | RentalState::Failed | RentalState::Cancelled => {
                self.remove(address).await?;
                self.settle(address).await
            }
            // settled; the renter's refund waits for `claim_refund`
            RentalState::RefundHeld => self.remove(address).await,
        }
    }

    async fn node_fault(&self, node: &Pubkey) -> Option<String> {
        self.faults.read().await.get(node).cloned()
    }

    /// A running rental's instance: kept running, restarted with back-off when it stopped, and
    /// the rental ended early (the renter pays only for time served) when its GPUs fail or it
    /// will not stay up.
    async fn keep_running(
        &self,
        address: Pubkey,
        rental: &Rental,
        node: Pubkey,
        listed_running: bool,
    ) -> Result<(), StepError> {
        if let Some(reason) = self.node_fault(&node).await {
            return self.end_early(address, node, "gpu_fault", &reason).await;
        }
        if listed_running {
            let mut restarts = self.restarts.lock().expect("restarts lock");
            if restarts
                .get(&address)
                .is_some_and(|b| b.since.elapsed() > RESTART_WINDOW)
            {
                restarts.remove(&address);
            }
            return Ok(());
        }
        // The pass's listing may predate a step that started the instance: look again now
        // that this step holds the rental.
        let current = self.runtime.inspect(&address).await?;
        if let Some(instance) = current.as_ref().filter(|i| i.running) {
            self.instances
                .write()
                .await
                .insert(address, instance.clone());
            return Ok(());
        }
        let (stops, retries) = {
            let mut restarts = self.restarts.lock().expect("restarts lock");
            let entry = restarts.entry(address).or_insert(Restarts {
                stops: 0,
                retries: 0,
                pending: false,
                next_at: Instant::now(),
                since: Instant::now(),
            });
            if Instant::now() < entry.next_at {
                return Ok(()); // backing off
            }
            if entry.pending {
                entry.retries += 1;
            } else {
                entry.stops += 1;
                entry.pending = true;
            }
            entry.next_at = Instant::now() + Backoff::delay(entry.stops + entry.retries);
            (entry.stops, entry.retries)
        };
        if stops > self.cluster.max_restarts {
            let reason = format!("the instance stopped {stops} times in a row");
            return self.end_early(address, node, "crash_loop", &reason).await;
        }
        if retries >= RESTART_ATTEMPTS {
            let reason = format!("the instance could not be restarted in {retries} attempts");
            return self
                .end_early(address, node, "cannot_restart", &reason)
                .await;
        }
        tracing::warn!(
            rental = %address,
            stops,
            retries,
            state = current.as_ref().map(|i| i.state.as_str()).unwrap_or("missing"),
            "running rental without a running instance; restarting it with its /workspace"
        );
        self.metrics.instance_restarts.inc();
        let spec = self.spec(address, rental, node).await?;
        match self.runtime.ensure(&spec).await {
            Ok(instance) => {
                self.instances.write().await.insert(address, instance);
                if let Some(entry) = self
                    .restarts
                    .lock()
                    .expect("restarts lock")
                    .get_mut(&address)
                {
                    entry.pending = false;
                    entry.retries = 0;
                    entry.since = Instant::now();
                }
            }
            Err(e) if e.is_permanent() => {
                return self
                    .end_early(address, node, "cannot_restart", &e.to_string())
                    .await
            }
            Err(e) => {
                self.forget_port_if_taken(address, &e);
                return Err(e.into());
            }
        }
        if spec.gpu_attach != GpuAttach::None {
            if let Err(e) = self.runtime.verify_gpus(&address, &spec.gpu_uuids).await {
                if e.is_permanent() {
                    self.metrics.gpu_check_failures.inc();
                    return self
                        .end_early(address, node, "gpu_fault", &e.to_string())
                        .await;
                }
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Completes a running rental now (the provider is paid for the seconds served, the rest
    /// refunded), removes its instance and settles.
    async fn end_early(
        &self,
        address: Pubkey,
        node: Pubkey,
        kind: &str,
        reason: &str,
    ) -> Result<(), StepError> {
        tracing::error!(rental = %address, reason, "ending the rental early: the renter pays only for the time served");
        self.remove(address).await?;
        let complete = ix::complete(self.cluster.operator.pubkey(), address, node);
        match self.send("complete", complete).await {
            Ok(()) => {
                self.metrics
                    .rentals_completed
                    .get_or_create(&EndLabel {
                        reason: kind.into(),
                    })
                    .inc();
            }
            Err(e) if e.is_calor(CalorError::RentalNotRunning) => {}
            Err(e) => return Err(e.into()),
        }
        self.settle(address).await
    }

    /// The renter's SSH key line: the rental keeps its hash, the opening transaction the line
    /// itself (checked against the hash and validated again before it is used).
    async fn ssh_key(&self, address: Pubkey, rental: &Rental) -> Result<Option<String>, StepError> {
        if let Some(key) = self.ssh_keys.lock().expect("ssh keys lock").get(&address) {
            return Ok(key.clone());
        }
        let key = match calor_client::opening::rental_ssh_key(
            &self.chain,
            &address,
            &rental.ssh_key_hash,
        )
        .await?
        {
            Ok(key) => key,
            Err(e) => {
                // The instance still runs, reachable through the web terminal.
                tracing::warn!(rental = %address, error = %e, "no usable SSH key; the instance gets none");
                None
            }
        };
        self.ssh_keys
            .lock()
            .expect("ssh keys lock")
            .insert(address, key.clone());
        Ok(key)
    }

    /// The rental's SSH port: the one it already has, else the first one of the range that
    /// no instance of ours holds, no container on the engine publishes and nothing listens on.
    async fn ssh_port(&self, rental: Pubkey) -> Result<u16, StepError> {
        if let Some(port) = self.ports.lock().expect("ports lock").get(&rental) {
            return Ok(*port);
        }
        let published = self.runtime.published_host_ports().await?;
        let mut ports = self.ports.lock().expect("ports lock");
        if let Some(port) = ports.get(&rental) {
            return Ok(*port);
        }
        let in_use: HashSet<u16> = ports.values().copied().chain(published).collect();
        let (first, last) = self.cluster.ssh_ports;
        let port = free_ssh_port((first, last), &self.cluster.ssh_bind_ip, &in_use)
            .ok_or(StepError::NoPort(first, last))?;
        ports.insert(rental, port);
        Ok(port)
    }

    /// After a start refused because another process took the port, the next attempt
    /// chooses another.
    fn forget_port_if_taken(&self, rental: Pubkey, error: &RuntimeError) {
        if matches!(error, RuntimeError::StartFailed(m) if m.contains("address already in use")) {
            self.ports.lock().expect("ports lock").remove(&rental);
        }
    }

    async fn spec(
        &self,
        rental: Pubkey,
        state: &Rental,
        node: Pubkey,
    ) -> Result<InstanceSpec, StepError> {
        let Some(n) = self.cluster.node(&node) else {
            return Err(StepError::Runtime(RuntimeError::InvalidSpec(format!(
                "node {node} is not served here"
            ))));
        };
        Ok(InstanceSpec {
            rental,
            node,
            provider: self.cluster.provider,
            cluster: self.cluster.cluster_id.clone(),
            image: self.cluster.image.clone(),
            ssh_public_key: self.ssh_key(rental, state).await?,
            gpu_uuids: n.gpus.clone(),
            gpu_attach: self.cluster.gpu_attach,
            ssh_bind_ip: self.cluster.ssh_bind_ip.clone(),
            ssh_port: self.ssh_port(rental).await?,
            forwarded_ports: state.forwarded_ports().map(|p| p.port).collect(),
            jupyter_token: self.jupyter_token(&rental),
            share: n.share.clone(),
            limits: self.cluster.limits,
        })
    }

    /// Whether a provisioning attempt may be made now (earlier ones failed for a reason that
    /// may pass); records the next failure's back-off when `failed`.
    fn retry_due(&self, rental: Pubkey) -> bool {
        self.retries
            .lock()
            .expect("retries lock")
            .get(&rental)
            .is_none_or(|b| Instant::now() >= b.next_at)
    }

    fn retry_later(&self, rental: Pubkey) {
        let mut retries = self.retries.lock().expect("retries lock");
        let entry = retries.entry(rental).or_insert(Backoff {
            failures: 0,
            next_at: Instant::now(),
        });
        entry.failures += 1;
        entry.next_at = Instant::now() + Backoff::delay(entry.failures);
    }

    /// inspect → create → start → GPUs checked → probe SSH → record `start`; `fail` (full
    /// refund) when the instance cannot start, does not see its GPUs, or does not answer
    /// within the provisioning timeout. Errors that may pass are retried with back-off.
    async fn provision(
        &self,
        address: Pubkey,
        rental: &Rental,
        node: Pubkey,
        now: i64,
    ) -> Result<(), StepError> {
        let Some(node_index) = self.cluster.node(&node).map(|n| n.index) else {
            return Ok(());
        };
        if let Some(reason) = self.node_fault(&node).await {
            return self.fail(address, node_index, &reason).await;
        }
        if !self.retry_due(address) {
            return Ok(());
        }
        let overdue =
            now.saturating_sub(rental.claimed_at) > self.cluster.provision_timeout.as_secs() as i64;
        let spec = self.spec(address, rental, node).await?;
        let instance = match self.runtime.ensure(&spec).await {
            Ok(instance) => instance,
            Err(e) if e.is_permanent() || overdue => {
                return self.fail(address, node_index, &e.to_string()).await;
            }
            Err(e) => {
                self.forget_port_if_taken(address, &e);
                self.retry_later(address);
                return Err(e.into());
            }
        };
        // Known to the status API before `start` is recorded, so a renter who sees Running can
        // always find the port.
        self.instances
            .write()
            .await
            .insert(address, instance.clone());
        crash_point("create");
        if spec.gpu_attach != GpuAttach::None {
            match self.runtime.verify_gpus(&address, &spec.gpu_uuids).await {
                Ok(()) => {}
                Err(e) if e.is_permanent() => {
                    self.metrics.gpu_check_failures.inc();
                    return self.fail(address, node_index, &e.to_string()).await;
                }
                Err(e) => {
                    self.retry_later(address);
                    return Err(e.into());
                }
            }
        }
        let host = probe_host(&self.cluster.ssh_bind_ip);
        let port = instance.ssh_port().unwrap_or_default();
        // Probe until the provisioning timeout at the latest, so that a silent instance fails
        // in time rather than one probe window later.
        let left = Duration::from_secs(
            (self.cluster.provision_timeout.as_secs() as i64)
                .saturating_sub(now.saturating_sub(rental.claimed_at))
                .max(0) as u64,
        );
        let timed_out = left < PROBE_WINDOW;
        let deadline = Instant::now() + left.min(PROBE_WINDOW);
        while !ssh_ready(&host, port, Duration::from_secs(2)).await {
            if self.stopping() {
                return Ok(()); // resumed by the next start
            }
            if Instant::now() > deadline {
                if overdue || timed_out {
                    return self
                        .fail(address, node_index, "the instance never answered SSH")
                        .await;
                }
                return Ok(()); // try again on a later pass
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        match self
            .send(
                "start",
                ix::start(self.cluster.operator.pubkey(), node_index, address),
            )
            .await
        {
            Ok(()) => {}
            Err(e) if e.is_calor(CalorError::RentalNotProvisioning) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        crash_point("start");
        self.metrics.instances_started.inc();
        self.retries.lock().expect("retries lock").remove(&address);
        if let Some(claimed) = self.claimed.lock().expect("claimed lock").remove(&address) {
            self.metrics
                .provisioning_seconds
                .observe(claimed.elapsed().as_secs_f64());
        }
        tracing::info!(rental = %address, ssh = %format!("{}:{port}", self.cluster.public_host), "started");
        Ok(())
    }

    async fn fail(&self, address: Pubkey, node_index: u32, reason: &str) -> Result<(), StepError> {
        tracing::error!(rental = %address, reason, "failing the rental (full refund)");
        self.remove(address).await?;
        match self
            .send(
                "fail",
                ix::fail(self.cluster.operator.pubkey(), node_index, address),
            )
            .await
        {
            Ok(()) => {
                self.metrics.rentals_failed.inc();
            }
            Err(e) if e.is_calor(CalorError::RentalNotProvisioning) => {}
            Err(e) => return Err(e.into()),
        }
        self.settle(address).await
    }

    async fn remove(&self, address: Pubkey) -> Result<(), StepError> {
        self.runtime.remove(&address).await?;
        self.ports.lock().expect("ports lock").remove(&address);
        self.retries.lock().expect("retries lock").remove(&address);
        self.restarts
            .lock()
            .expect("restarts lock")
            .remove(&address);
        if self.instances.write().await.remove(&address).is_some() {
            self.metrics.instances_removed.inc();
            tracing::info!(rental = %address, "instance removed, /workspace wiped");
        }
        Ok(())
    }

    /// Pays out an ended rental and closes it (settlement is permissionless). A Calor
    /// rental pays the provider's payout wallet at once; the renter's refund goes to its
    /// associated token account, or waits in the escrow for `claim_refund` if it has none.
    async fn settle(&self, address: Pubkey) -> Result<(), StepError> {
        let Some(rental) = self.chain.account::<Rental>(&address).await? else {
            return Ok(());
        };
        if !rental.is_ended() {
            return Ok(());
        }
        let parties = SettleParties::of(&rental);
        let mut instructions = Vec::with_capacity(2);
        let label = match rental.payment() {
            PaymentKind::Sol => {
                instructions.push(ix::settle_sol(address, parties));
                "settle_sol"
            }
            PaymentKind::Calor => {
                let (mint, program) = (self.cluster.calor_mint, self.cluster.token_program);
                let ata =
                    |wallet: &Pubkey| calor_client::pda::associated_token(wallet, &mint, &program);
                let payouts = CalorPayouts {
                    renter_token: ata(&rental.renter),
                    provider_token: parties.payee.map(|payee| ata(&payee)),
                };
                // The provider is paid now, not when its payout wallet gets a Calor account:
                // the operator creates that account (rent ~0.002 SOL, once) if it is missing.
                if let (Some(payee), Some(account)) = (parties.payee, payouts.provider_token) {
                    if self.chain.balance(&account).await? == 0 {
                        instructions.push(ix::create_associated_token(
                            self.cluster.operator.pubkey(),
                            payee,
                            mint,
                            program,
                        ));
                    }
                }
                instructions.push(ix::settle_calor(address, parties, mint, program, payouts));
                "settle_calor"
            }
        };
        let sent = self
            .chain
            .send(label, &instructions, &self.cluster.operator, &[])
            .await
            .map(|_| ());
        match sent {
            Ok(()) => {
                self.metrics.rentals_settled.inc();
                self.ssh_keys
                    .lock()
                    .expect("ssh keys lock")
                    .remove(&address);
                tracing::info!(rental = %address, "settled");
                Ok(())
            }
            Err(e)
                if e.is_rejection() && self.chain.account::<Rental>(&address).await?.is_none() =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// An instance (or leftover volume, network or workspace) the view does not show as a
    /// live rental of ours. Instances of a node this process does not serve are touched only
    /// when that node's lock is free (no other provisioner serves it): then a live rental
    /// there is drained (completed and settled, or failed with a refund before it started),
    /// never just destroyed.
    async fn tidy(&self, address: Pubkey, listed_node: Option<Pubkey>) -> Result<(), StepError> {
        let rental = self.chain.account::<Rental>(&address).await?;
        let node = rental.as_ref().and_then(|r| r.node()).or(listed_node);
        let configured = node.is_some_and(|n| self.cluster.node(&n).is_some());
        let foreign_node = node.filter(|_| !configured);
        if let Some(n) = foreign_node {
            let cluster = self.cluster.cluster_id.clone();
            if !self
                .locks
                .lock()
                .expect("locks lock")
                .try_take(&n, &cluster)
            {
                return Ok(()); // another provisioner serves that node
            }
        }
        let result = self.tidy_locked(address, rental, node, configured).await;
        if let Some(n) = foreign_node {
            self.locks.lock().expect("locks lock").release(&n);
        }
        result
    }

    async fn tidy_locked(
        &self,
        address: Pubkey,
        rental: Option<Rental>,
        node: Option<Pubkey>,
        configured: bool,
    ) -> Result<(), StepError> {
        match (rental, node) {
            // the view lags a claim: the rental's own step handles it
            (Some(r), _) if configured && !r.is_ended() => Ok(()),
            (Some(r), Some(node)) if r.state() == RentalState::Running => {
                tracing::warn!(rental = %address, %node, "node no longer in this cluster's config: draining it");
                self.end_early(
                    address,
                    node,
                    "drained",
                    "its node was taken out of the config",
                )
                .await
            }
            (Some(r), Some(node)) if r.state() == RentalState::Provisioning => {
                let Some(index) = self.chain.account::<Node>(&node).await?.map(|n| n.index) else {
                    return Ok(());
                };
                self.fail(address, index, "its node was taken out of the config")
                    .await
            }
            (Some(r), _) if r.is_ended() => {
                self.remove(address).await?;
                self.settle(address).await
            }
            (Some(_), _) => Ok(()),
            (None, _) => {
                tracing::warn!(rental = %address, "instance or workspace of a closed rental; removing");
                self.remove(address).await
            }
        }
    }

    /// One heartbeat round: every node that can serve (engine answering, GPUs healthy, its
    /// instance running and answering SSH) gets its `node_heartbeat`; the others are withheld,
    /// with why in the logs and metrics. Healthy nodes left Offline (a reclaim, a GPU fault
    /// that passed) are brought back online, Idle nodes with failed GPUs taken offline.
    /// Instructions go in batches that fit a transaction.
    pub async fn heartbeat(
        &self,
        gpu_health: &HashMap<String, crate::gpu::GpuHealth>,
    ) -> Result<(), ChainError> {
        use crate::gpu::GpuHealth;
        use crate::metrics::{NodeLabel, WithheldLabel};

        let engine_ok = match self.runtime.ping().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "container engine does not answer");
                false
            }
        };
        self.metrics.engine_up.set(i64::from(engine_ok));
        let (nodes, rentals) = {
            let view = self.view.read().await;
            let nodes: HashMap<Pubkey, Node> = self
                .cluster
                .nodes
                .iter()
                .filter_map(|n| view.nodes.get(&n.address).map(|node| (n.address, *node)))
                .collect();
            (nodes, view.rentals.clone())
        };
        let me = self.cluster.operator.pubkey();
        // each instruction with the node it heartbeats, if it is a heartbeat
        let mut instructions: Vec<(calor_client::Instruction, Option<u32>)> = Vec::new();
        let mut faults = HashMap::new();
        let mut withheld = HashSet::new();
        for n in &self.cluster.nodes {
            let mut reasons: Vec<(&str, String)> = Vec::new();
            if !engine_ok {
                reasons.push(("engine", "the container engine does not answer".into()));
            }
            let bad_gpus: Vec<String> = n
                .gpus
                .iter()
                .filter_map(|uuid| match gpu_health.get(uuid) {
                    Some(GpuHealth::Healthy) => None,
                    Some(GpuHealth::Unhealthy(why)) => Some(format!("GPU {uuid}: {why}")),
                    None => Some(format!("GPU {uuid}: not found")),
                })
                .collect();
            if !bad_gpus.is_empty() {
                let why = bad_gpus.join("; ");
                faults.insert(n.address, why.clone());
                reasons.push(("gpu", why));
            }
            let onchain = nodes.get(&n.address);
            if engine_ok {
                if let Some(why) = self.instance_problem(onchain, &rentals).await {
                    reasons.push(("instance", why));
                }
            }
            let status = onchain.map(|node| node.status());
            if reasons.is_empty() {
                instructions.push((ix::node_heartbeat(me, n.index), Some(n.index)));
                let online = match status {
                    Some(NodeStatus::Offline) if n.enabled => Some(true),
                    Some(NodeStatus::Idle) if !n.enabled => Some(false),
                    _ => None,
                };
                if let Some(online) = online {
                    tracing::info!(node = n.index, online, "setting the node's on-chain status");
                    instructions.push((set_online(me, n.index, online), None));
                }
                self.metrics
                    .node_serving
                    .get_or_create(&NodeLabel { node: n.index })
                    .set(1);
            } else {
                withheld.insert(n.address);
                for (kind, why) in &reasons {
                    tracing::warn!(node = n.index, reason = %why, "heartbeat withheld: the node cannot serve");
                    self.metrics
                        .heartbeats_withheld
                        .get_or_create(&WithheldLabel {
                            node: n.index,
                            reason: (*kind).into(),
                        })
                        .inc();
                }
                if !bad_gpus.is_empty() && status == Some(NodeStatus::Idle) {
                    tracing::warn!(
                        node = n.index,
                        "taking the node offline on-chain: its GPUs failed"
                    );
                    instructions.push((set_online(me, n.index, false), None));
                }
                self.metrics
                    .node_serving
                    .get_or_create(&NodeLabel { node: n.index })
                    .set(0);
            }
        }
        *self.faults.write().await = faults;
        *self.withheld.write().await = withheld;

        // The batches go out together: a round takes one confirmation, not one per batch.
        let sends = instructions
            .chunks(HEARTBEAT_BATCH)
            .map(|batch| async move {
                let (batch, beats): (Vec<_>, Vec<_>) = batch.iter().cloned().unzip();
                let sent = self
                    .chain
                    .send("node_heartbeat", &batch, &self.cluster.operator, &[])
                    .await;
                (sent, beats)
            });
        let mut first_error = None;
        for (sent, beats) in futures_util::future::join_all(sends).await {
            match sent {
                Ok(_) => {
                    self.metrics.heartbeat_transactions.inc();
                    let beats: Vec<u32> = beats.into_iter().flatten().collect();
                    self.metrics.heartbeat_confirmed(&beats);
                }
                Err(e) => {
                    self.metrics.transaction_errors.inc();
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Ok(lamports) = self.chain.balance(&me).await {
            self.metrics.wallet_lamports.set(lamports as i64);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Why a busy node's running instance cannot serve, if it cannot.
    async fn instance_problem(
        &self,
        node: Option<&Node>,
        rentals: &HashMap<Pubkey, Rental>,
    ) -> Option<String> {
        let node = node.filter(|n| n.status() == NodeStatus::Busy)?;
        let rental = rentals.get(&node.current_rental)?;
        if rental.state() != RentalState::Running {
            return None;
        }
        let address = node.current_rental;
        match self.runtime.inspect(&address).await {
            Ok(Some(i)) if i.running => {
                let port = i.ssh_port().unwrap_or_default();
                let host = probe_host(&self.cluster.ssh_bind_ip);
                if ssh_ready(&host, port, Duration::from_secs(2)).await {
                    None
                } else {
                    Some(format!(
                        "the instance of rental {address} does not answer SSH"
                    ))
                }
            }
            Ok(Some(i)) => Some(format!("the instance of rental {address} is {}", i.state)),
            Ok(None) => Some(format!("rental {address} has no instance")),
            Err(e) => Some(format!(
                "cannot inspect the instance of rental {address}: {e}"
            )),
        }
    }

    /// Where a renter connects to a rental's instance, if it runs here.
    pub async fn endpoint(&self, rental: &Pubkey) -> Option<(String, u16)> {
        let instances = self.instances.read().await;
        let port = instances.get(rental)?.ssh_port()?;
        Some((self.cluster.public_host.clone(), port))
    }

    /// The rental as this process's chain view has it.
    pub async fn rental(&self, address: &Pubkey) -> Option<Rental> {
        self.view.read().await.rentals.get(address).copied()
    }

    /// The rental's instance as last seen, if it runs here.
    pub async fn instance(&self, rental: &Pubkey) -> Option<Instance> {
        self.instances.read().await.get(rental).cloned()
    }

    /// The secret that opens a rental's Jupyter: derived from the operator's key and the
    /// rental, so a restarted provisioner gives the same one without storing it, and nobody
    /// without the operator's key can compute it.
    pub fn jupyter_token(&self, rental: &Pubkey) -> String {
        let mut input = b"calor-jupyter-token-v1".to_vec();
        input.extend_from_slice(&self.cluster.operator.to_bytes());
        input.extend_from_slice(rental.as_ref());
        let digest = solana_sha256_hasher::hash(&input).to_bytes();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Nodes whose GPUs are unhealthy, with why.
    pub async fn gpu_faults(&self) -> HashMap<Pubkey, String> {
        self.faults.read().await.clone()
    }
}

/// Instructions per heartbeat transaction. Each `node_heartbeat` adds its node's 32-byte key and
/// a 13-byte instruction to a transaction of about 200 bytes (signature, header, blockhash,
/// signer, programs, compute-budget instructions): 16 come to about 920 bytes, under the
/// 1,232-byte packet limit with room to spare; all nodes in one transaction passed it at 22.
pub const HEARTBEAT_BATCH: usize = 16;
