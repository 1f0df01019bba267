//! The reconcile loop: desired state from the chain, actual state from the engine, and the
//! idempotent step that brings each rental closer: claim → create/start → probe → `start`
//! recorded; at the end, remove the instance (and its volume), `expire` if due, settle.
//!
//! Every step looks before it acts, so a restart at any point (after a claim, after the
//! container was created, after it started) resumes where the chain and engine stand.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use calor::errors::CalorError;
use calor_client::accounts::{Node, PaymentKind, Rental, RentalState};
use calor_client::instructions::{CalorPayouts, SettleParties};
use calor_client::rpc::{Chain, ChainError};
use calor_client::{instructions as ix, Pubkey};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::sync::{watch, Notify, RwLock};

use crate::metrics::Metrics;
use crate::runtime::{ssh_ready, Instance, InstanceSpec, Limits, Runtime};
use crate::schedule::{self, LocalNode, Market};
use crate::watch::ChainView;

/// Test hook: `CALOR_CRASH_AFTER=claim|create|start` aborts the process (no cleanup, like
/// `kill -9`) right after that step, so crash recovery can be tested at exact points.
const CRASH_ENV: &str = "CALOR_CRASH_AFTER";

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
    Runtime(#[from] crate::runtime::RuntimeError),
}

/// The fixed facts of this cluster.
pub struct Cluster {
    pub operator: Keypair,
    pub provider: Pubkey,
    pub region: u16,
    /// Node index → (node address, GPU UUIDs).
    pub nodes: Vec<(u32, Pubkey, Vec<String>)>,
    pub image: String,
    pub attach_gpus: bool,
    pub ssh_bind_ip: String,
    pub public_host: String,
    pub limits: Limits,
    pub fallback_delay: Duration,
    pub provision_timeout: Duration,
    pub heartbeat_timeout_secs: i64,
    /// The Calor mint and its token program, for settling Calor rentals.
    pub calor_mint: Pubkey,
    pub token_program: Pubkey,
}

impl Cluster {
    fn node_index(&self, node: &Pubkey) -> Option<u32> {
        self.nodes
            .iter()
            .find(|(_, a, _)| a == node)
            .map(|(i, _, _)| *i)
    }
    fn gpus(&self, node: &Pubkey) -> Vec<String> {
        self.nodes
            .iter()
            .find(|(_, a, _)| a == node)
            .map(|(_, _, g)| g.clone())
            .unwrap_or_default()
    }
}

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
    /// The instances as last listed, for the status API.
    pub instances: RwLock<HashMap<Pubkey, Instance>>,
    /// Each rental's SSH key line, once read from its opening transaction (`None`: none).
    ssh_keys: Mutex<HashMap<Pubkey, Option<String>>>,
}

impl<R: Runtime + 'static> Controller<R> {
    pub fn new(
        chain: Arc<Chain>,
        runtime: R,
        cluster: Cluster,
        view: Arc<RwLock<ChainView>>,
        metrics: Arc<Metrics>,
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
        }
    }

    /// Reconciles on every chain change and at least every `period`; on shutdown, waits for
    /// the steps in flight so none is left half done and unrecorded.
    pub async fn run(
        self: Arc<Self>,
        period: Duration,
        changed: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut steps = tokio::task::JoinSet::new();
        loop {
            if let Err(e) = self.clone().reconcile(&mut steps).await {
                tracing::warn!(error = %e, "reconcile pass failed; retrying");
            }
            while steps.try_join_next().is_some() {}
            tokio::select! {
                _ = changed.notified() => {}
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => break,
            }
        }
        tracing::info!(
            in_flight = steps.len(),
            "shutting down: finishing steps in flight"
        );
        while steps.join_next().await.is_some() {}
    }

    /// One pass: start a step for every rental that needs one and is not already in a step.
    pub async fn reconcile(
        self: Arc<Self>,
        steps: &mut tokio::task::JoinSet<()>,
    ) -> Result<(), StepError> {
        let now = self.chain.unix_timestamp().await?;
        let instances = self.runtime.list(&self.cluster.provider).await?;
        self.metrics.set_instances(instances.len());
        *self.instances.write().await = instances.iter().map(|i| (i.rental, i.clone())).collect();
        // One copy of the view per pass, taken under the lock and shared by every decision.
        let (rentals, nodes, local, regions) = {
            let view = self.view.read().await;
            let local: Vec<LocalNode> = self
                .cluster
                .nodes
                .iter()
                .filter_map(|(index, address, _)| {
                    view.nodes.get(address).map(|node| LocalNode {
                        index: *index,
                        address: *address,
                        node: *node,
                    })
                })
                .collect();
            let rentals: Vec<(Pubkey, Rental)> =
                view.rentals.iter().map(|(a, r)| (*a, *r)).collect();
            let nodes: Vec<(Pubkey, Node)> = view.nodes.iter().map(|(a, n)| (*a, *n)).collect();
            (rentals, nodes, local, view.regions.clone())
        };

        let mine: HashSet<Pubkey> = self.cluster.nodes.iter().map(|(_, a, _)| *a).collect();
        let by_rental: HashMap<Pubkey, &Instance> =
            instances.iter().map(|i| (i.rental, i)).collect();
        let mut ours = HashSet::new();
        for (address, rental) in rentals
            .iter()
            .filter(|(_, r)| r.node().is_some_and(|n| mine.contains(&n)))
        {
            ours.insert(*address);
            if rental.state() == RentalState::Queued {
                continue;
            }
            let (address, rental) = (*address, *rental);
            let instance = by_rental.get(&address).map(|i| (*i).clone());
            self.spawn_step(steps, address, move |c| async move {
                c.advance(address, rental, instance, now).await
            });
        }

        // Instances whose rental the view does not show as ours: confirmed on-chain first,
        // since the view may lag behind a claim made a moment ago.
        for instance in instances.iter().filter(|i| !ours.contains(&i.rental)) {
            let address = instance.rental;
            self.spawn_step(steps, address, move |c| async move {
                c.remove_if_orphan(address).await
            });
        }

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

    fn spawn_step<F, Fut>(
        self: &Arc<Self>,
        steps: &mut tokio::task::JoinSet<()>,
        rental: Pubkey,
        step: F,
    ) where
        F: FnOnce(Arc<Self>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), StepError>> + Send + 'static,
    {
        if !self.busy.lock().expect("busy lock").insert(rental) {
            return;
        }
        let this = self.clone();
        steps.spawn(async move {
            if let Err(e) = step(this.clone()).await {
                tracing::warn!(%rental, error = %e, "step failed; will retry");
                if matches!(e, StepError::Chain(_)) {
                    this.metrics.transaction_error();
                }
            }
            this.busy.lock().expect("busy lock").remove(&rental);
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
                self.metrics.claims_lost();
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        self.metrics.claims_won();
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
        self.advance(rental, state, None, now).await
    }

    /// Moves a rental this cluster serves one step on.
    async fn advance(
        &self,
        address: Pubkey,
        rental: Rental,
        instance: Option<Instance>,
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
                    Ok(()) => self.metrics.rentals_expired(),
                    Err(e) if e.is_calor(CalorError::RentalNotRunning) => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(rental = %address, "expired");
                self.settle(address).await
            }
            RentalState::Running => {
                if instance.as_ref().is_some_and(|i| i.running) {
                    return Ok(());
                }
                // The instance is gone or stopped (host restart, crash): bring it back with
                // its /workspace; if that is impossible, end the rental so the rest is refunded.
                tracing::warn!(rental = %address, "running rental without a running instance; recreating");
                let spec = self.spec(address, &rental, node).await?;
                match self.runtime.ensure(&spec).await {
                    Ok(instance) => {
                        self.instances.write().await.insert(address, instance);
                        Ok(())
                    }
                    Err(e) if e.is_permanent() => {
                        tracing::error!(rental = %address, error = %e, "cannot recreate; completing early");
                        self.remove(address).await?;
                        let complete = ix::complete(self.cluster.operator.pubkey(), address, node);
                        self.send("complete", complete).await?;
                        self.settle(address).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            RentalState::Completed | RentalState::Failed | RentalState::Cancelled => {
                self.remove(address).await?;
                self.settle(address).await
            }
            // settled; the renter's refund waits for `claim_refund`
            RentalState::RefundHeld => self.remove(address).await,
        }
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

    async fn spec(
        &self,
        rental: Pubkey,
        state: &Rental,
        node: Pubkey,
    ) -> Result<InstanceSpec, StepError> {
        Ok(InstanceSpec {
            rental,
            node,
            provider: self.cluster.provider,
            image: self.cluster.image.clone(),
            ssh_public_key: self.ssh_key(rental, state).await?,
            gpu_uuids: self.cluster.gpus(&node),
            attach_gpus: self.cluster.attach_gpus,
            ssh_bind_ip: self.cluster.ssh_bind_ip.clone(),
            limits: self.cluster.limits,
        })
    }

    /// inspect → create → start → probe SSH → record `start`; `fail` (full refund) when the
    /// instance cannot start or does not answer within the provisioning timeout.
    async fn provision(
        &self,
        address: Pubkey,
        rental: &Rental,
        node: Pubkey,
        now: i64,
    ) -> Result<(), StepError> {
        let Some(node_index) = self.cluster.node_index(&node) else {
            return Ok(());
        };
        let overdue =
            now.saturating_sub(rental.claimed_at) > self.cluster.provision_timeout.as_secs() as i64;
        let spec = self.spec(address, rental, node).await?;
        let instance = match self.runtime.ensure(&spec).await {
            Ok(instance) => instance,
            Err(e) if e.is_permanent() || overdue => {
                tracing::error!(rental = %address, error = %e, "instance cannot start; failing the rental (full refund)");
                return self.fail(address, node_index).await;
            }
            Err(e) => return Err(e.into()),
        };
        // Known to the status API before `start` is recorded, so a renter who sees Running can
        // always find the port.
        self.instances
            .write()
            .await
            .insert(address, instance.clone());
        crash_point("create");
        let port = instance.ssh_port.unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ssh_ready(&self.cluster.public_host, port, Duration::from_secs(2)).await {
            if Instant::now() > deadline {
                if overdue {
                    tracing::error!(rental = %address, "instance never answered SSH; failing the rental");
                    return self.fail(address, node_index).await;
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
        self.metrics.instances_started();
        if let Some(claimed) = self.claimed.lock().expect("claimed lock").remove(&address) {
            self.metrics.provisioned(claimed.elapsed());
        }
        tracing::info!(rental = %address, ssh = %format!("{}:{port}", self.cluster.public_host), "started");
        Ok(())
    }

    async fn fail(&self, address: Pubkey, node_index: u32) -> Result<(), StepError> {
        self.remove(address).await?;
        match self
            .send(
                "fail",
                ix::fail(self.cluster.operator.pubkey(), node_index, address),
            )
            .await
        {
            Ok(()) => self.metrics.rentals_failed(),
            Err(e) if e.is_calor(CalorError::RentalNotProvisioning) => {}
            Err(e) => return Err(e.into()),
        }
        self.settle(address).await
    }

    async fn remove(&self, address: Pubkey) -> Result<(), StepError> {
        self.runtime.remove(&address).await?;
        if self.instances.write().await.remove(&address).is_some() {
            self.metrics.instances_removed();
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
        let (label, instruction) = match rental.payment() {
            PaymentKind::Sol => ("settle_sol", ix::settle_sol(address, parties)),
            PaymentKind::Calor => {
                let (mint, program) = (self.cluster.calor_mint, self.cluster.token_program);
                let ata =
                    |wallet: &Pubkey| calor_client::pda::associated_token(wallet, &mint, &program);
                let payouts = CalorPayouts {
                    renter_token: ata(&rental.renter),
                    provider_token: parties.payee.map(|payee| ata(&payee)),
                };
                (
                    "settle_calor",
                    ix::settle_calor(address, parties, mint, program, payouts),
                )
            }
        };
        match self.send(label, instruction).await {
            Ok(()) => {
                self.metrics.rentals_settled();
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

    async fn remove_if_orphan(&self, address: Pubkey) -> Result<(), StepError> {
        let ours = |r: &Rental| {
            r.node()
                .is_some_and(|n| self.cluster.node_index(&n).is_some())
        };
        match self.chain.account::<Rental>(&address).await? {
            Some(r) if ours(&r) && !r.is_ended() => Ok(()),
            Some(r) if ours(&r) => {
                self.remove(address).await?;
                self.settle(address).await
            }
            _ => {
                tracing::warn!(rental = %address, "orphan instance (no rental of ours); removing");
                self.remove(address).await
            }
        }
    }

    /// `node_heartbeat` for every node of the cluster, in one transaction.
    pub async fn heartbeat(&self) -> Result<(), ChainError> {
        let me = self.cluster.operator.pubkey();
        let beats: Vec<_> = self
            .cluster
            .nodes
            .iter()
            .map(|(i, _, _)| ix::node_heartbeat(me, *i))
            .collect();
        self.chain
            .send("node_heartbeat", &beats, &self.cluster.operator, &[])
            .await?;
        self.metrics.heartbeat_sent();
        Ok(())
    }

    /// Where a renter connects to a rental's instance, if it runs here.
    pub async fn endpoint(&self, rental: &Pubkey) -> Option<(String, u16)> {
        let instances = self.instances.read().await;
        let port = instances.get(rental)?.ssh_port?;
        Some((self.cluster.public_host.clone(), port))
    }
}
