//! Jobs: a rental seen from its renter. While the rental account exists the chain says
//! everything; once settled (the account closed) the job is read back from the transactions
//! that name it, so a job's settlement is known without any Calor server.
use std::fmt;

use anchor_lang::prelude::Pubkey;
use calor::events::RentalSettled;
use calor::instructions::ExtendArgs;
use calor::state::{Config, PaymentKind, Rental, RentalState};
use futures_util::Stream;
use serde::Serialize;

use super::{Calor, SdkError, Unit, SLIPPAGE_BPS};
use crate::events::{self, Event};
use crate::instructions as ix;
use crate::renting::{self, StopRefused};
use crate::{history, quote};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Provisioning,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// Settled with the refund held for the renter to claim.
    RefundHeld,
    /// Settled and closed: the refund was paid.
    Settled,
}

impl JobState {
    fn of(state: RentalState) -> JobState {
        match state {
            RentalState::Queued => JobState::Queued,
            RentalState::Provisioning => JobState::Provisioning,
            RentalState::Running => JobState::Running,
            RentalState::Completed => JobState::Completed,
            RentalState::Failed => JobState::Failed,
            RentalState::Cancelled => JobState::Cancelled,
            RentalState::RefundHeld => JobState::RefundHeld,
        }
    }

    /// Nothing more will happen to the job without its renter.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Settled | JobState::RefundHeld)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobState::Queued => "queued",
            JobState::Provisioning => "provisioning",
            JobState::Running => "running",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::RefundHeld => "refund held",
            JobState::Settled => "settled",
        })
    }
}

/// A job: its rental's address is its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: String,
    pub state: JobState,
    pub gpu: u16,
    /// The model's name, as the chain's catalog has it.
    pub gpu_name: Option<String>,
    /// The pinned region's id; `None` for any region.
    pub region: Option<u16>,
    pub hours: u32,
    pub pay: super::Pay,
    pub hourly_rate_usd: f64,
    /// Lamports or Calor base units paid for time so far.
    pub escrowed: u64,
    pub unit: Unit,
    /// The node serving it, once claimed.
    pub node: Option<String>,
    /// Unix seconds; billing starts at `started_at`.
    pub created_at: Option<i64>,
    pub started_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub has_ssh_key: bool,
    /// How it was settled, once it was.
    pub settlement: Option<Settlement>,
}

/// What settlement paid, in the job's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub provider_pay: u64,
    pub fee: u64,
    pub burned: u64,
    pub refund: u64,
    pub refund_held: bool,
    pub unit: Unit,
    /// The settling transaction.
    pub signature: String,
}

impl Settlement {
    fn of(e: &RentalSettled, unit: Unit, signature: String) -> Settlement {
        Settlement {
            provider_pay: e.provider_amount,
            fee: e.fee,
            burned: e.burned,
            refund: e.refund,
            refund_held: e.refund_held,
            unit,
            signature,
        }
    }
}

fn pay_of(kind: PaymentKind) -> super::Pay {
    match kind {
        PaymentKind::Sol => super::Pay::Sol,
        PaymentKind::Calor => super::Pay::Calor,
    }
}

fn job_of(address: &Pubkey, rental: &Rental, calor_decimals: u8) -> Job {
    let when = |t: i64| (t != 0).then_some(t);
    Job {
        id: address.to_string(),
        state: JobState::of(rental.state()),
        gpu: rental.gpu_model,
        gpu_name: None,
        region: (rental.region != 0).then_some(rental.region),
        hours: rental.hours,
        pay: pay_of(rental.payment()),
        hourly_rate_usd: rental.hourly_rate_micro_usd as f64 / 1e6,
        escrowed: rental.escrowed,
        unit: Unit::of(rental.payment(), calor_decimals),
        node: rental.node().map(|n| n.to_string()),
        created_at: when(rental.created_at),
        started_at: when(rental.started_at),
        ends_at: when(rental.ends_at),
        has_ssh_key: rental.ssh_key_hash != [0u8; 32],
        settlement: None,
    }
}

/// Where to reach a running job, as its provider's provisioner says.
#[derive(Debug, Clone, Serialize)]
pub struct Connect {
    /// The provider's endpoint (its provisioner), as the chain lists it.
    pub endpoint: String,
    pub ssh_host: Option<String>,
    pub ssh_port: Option<u16>,
    /// Ready to run, for a job opened with an SSH key.
    pub ssh_command: Option<String>,
    pub terminal_url: Option<String>,
}

/// The wallet's jobs.
pub struct Jobs<'a> {
    pub(super) calor: &'a Calor,
}

impl Jobs<'_> {
    fn parse(&self, id: &str) -> Result<Pubkey, SdkError> {
        id.parse()
            .map_err(|_| SdkError::Invalid(format!("{id:?} is not a job id (a rental address)")))
    }

    async fn rental(&self, id: &str) -> Result<(Pubkey, Option<Rental>), SdkError> {
        let address = self.parse(id)?;
        let rental = self.calor.chain.account::<Rental>(&address).await?;
        if let Some(r) = &rental {
            if r.renter != self.calor.wallet() {
                return Err(SdkError::NotFound(id.to_string()));
            }
        }
        Ok((address, rental))
    }

    /// The job now: from its rental account, or, once settled, from its transactions.
    pub async fn get(&self, id: &str) -> Result<Job, SdkError> {
        let mut job = self.get_unnamed(id).await?;
        self.name_gpus(std::slice::from_mut(&mut job)).await?;
        Ok(job)
    }

    /// Fills in each job's GPU model name from the chain's catalog.
    async fn name_gpus(&self, jobs: &mut [Job]) -> Result<(), SdkError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let models = self
            .calor
            .chain
            .program_accounts::<calor::state::GpuModel>()
            .await?;
        for job in jobs {
            job.gpu_name = models
                .iter()
                .find(|(_, m)| m.id == job.gpu)
                .map(|(_, m)| m.name().to_string());
        }
        Ok(())
    }

    async fn get_unnamed(&self, id: &str) -> Result<Job, SdkError> {
        let config = self.calor.config().await?;
        match self.rental(id).await? {
            (address, Some(rental)) => {
                let mut job = job_of(&address, &rental, config.calor_decimals);
                if job.state == JobState::RefundHeld {
                    job.settlement = self
                        .settled(&address, &config)
                        .await?
                        .and_then(|j| j.settlement);
                }
                Ok(job)
            }
            (address, None) => self
                .settled(&address, &config)
                .await?
                .ok_or_else(|| SdkError::NotFound(id.to_string())),
        }
    }

    /// A settled job read back from its newest opening's events.
    async fn settled(&self, address: &Pubkey, config: &Config) -> Result<Option<Job>, SdkError> {
        let chain = &self.calor.chain;
        let listed = history::signatures_of(chain, address, None).await?;
        let mut job: Option<Job> = None;
        for entry in listed.iter().filter(|l| !l.failed) {
            let Some(tx) = history::transaction(chain, &entry.signature).await? else {
                continue;
            };
            for event in events::from_logs(&tx.logs).events {
                if event.rental() != Some(*address) {
                    continue;
                }
                match event {
                    Event::RentalOpened(e) => {
                        if e.renter != self.calor.wallet() {
                            return Ok(None);
                        }
                        job = Some(Job {
                            id: address.to_string(),
                            state: JobState::Queued,
                            gpu: e.gpu_model,
                            gpu_name: None,
                            region: e.region,
                            hours: e.hours,
                            pay: pay_of(e.payment),
                            hourly_rate_usd: e.hourly_rate_micro_usd as f64 / 1e6,
                            escrowed: e.escrowed,
                            unit: Unit::of(e.payment, config.calor_decimals),
                            node: None,
                            created_at: tx.block_time,
                            started_at: None,
                            ends_at: None,
                            // the key's hash is in the account, gone once settled
                            has_ssh_key: false,
                            settlement: None,
                        });
                    }
                    Event::RentalClaimed(e) => {
                        if let Some(j) = job.as_mut() {
                            j.node = Some(e.node.to_string());
                        }
                    }
                    Event::RentalStarted(e) => {
                        if let Some(j) = job.as_mut() {
                            j.started_at = Some(e.started_at);
                            j.ends_at = Some(e.ends_at);
                        }
                    }
                    Event::RentalExtended(e) => {
                        if let Some(j) = job.as_mut() {
                            j.hours += e.added_hours;
                            j.escrowed += e.added_escrow;
                            j.ends_at = Some(e.ends_at);
                        }
                    }
                    Event::RentalEnded(e) => {
                        if let Some(j) = job.as_mut() {
                            j.state = JobState::of(e.state);
                        }
                    }
                    Event::RentalSettled(e) => {
                        if let Some(j) = job.as_mut() {
                            j.state = if e.refund_held {
                                JobState::RefundHeld
                            } else {
                                JobState::Settled
                            };
                            j.settlement =
                                Some(Settlement::of(&e, j.unit, entry.signature.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(job)
    }

    /// The wallet's open rentals (settled ones are closed accounts: see [`Jobs::get`]).
    pub async fn list(&self) -> Result<Vec<Job>, SdkError> {
        let config = self.calor.config().await?;
        let wallet = self.calor.wallet();
        let mut jobs: Vec<Job> = self
            .calor
            .chain
            .program_accounts::<Rental>()
            .await?
            .into_iter()
            .filter(|(_, r)| r.renter == wallet)
            .map(|(address, r)| job_of(&address, &r, config.calor_decimals))
            .collect();
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        self.name_gpus(&mut jobs).await?;
        Ok(jobs)
    }

    /// Every job the wallet opened, newest first, open or settled: the rentals named by the
    /// `RentalOpened` events of the wallet's own transactions, each read as [`Jobs::get`] reads
    /// it. Reads the wallet's whole transaction history from the RPC node: slower than
    /// [`Jobs::list`], and needs no API.
    pub async fn history(&self) -> Result<Vec<Job>, SdkError> {
        let chain = &self.calor.chain;
        let wallet = self.calor.wallet();
        let mut rentals: Vec<Pubkey> = Vec::new();
        let listed = history::signatures_of(chain, &wallet, None).await?;
        for entry in listed.iter().rev().filter(|l| !l.failed) {
            let Some(tx) = history::transaction(chain, &entry.signature).await? else {
                continue;
            };
            for event in events::from_logs(&tx.logs).events {
                if let Event::RentalOpened(e) = event {
                    if e.renter == wallet && !rentals.contains(&e.rental) {
                        rentals.push(e.rental);
                    }
                }
            }
        }
        let mut jobs = Vec::with_capacity(rentals.len());
        for rental in rentals {
            match self.get_unnamed(&rental.to_string()).await {
                Ok(job) => jobs.push(job),
                Err(SdkError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.name_gpus(&mut jobs).await?;
        Ok(jobs)
    }

    /// The job each time its state changes, from now until it is settled (or its refund is
    /// held). Reads the chain every poll interval; the first item is the job as it is now.
    ///
    /// ```no_run
    /// # async fn run(calor: &calor_client::sdk::Calor, id: &str) -> Result<(), calor_client::sdk::SdkError> {
    /// use futures_util::StreamExt;
    /// let jobs = calor.jobs();
    /// let mut states = std::pin::pin!(jobs.watch(id));
    /// while let Some(job) = states.next().await {
    ///     println!("{}", job?.state);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch<'s>(&'s self, id: &'s str) -> impl Stream<Item = Result<Job, SdkError>> + 's {
        futures_util::stream::unfold(Some(None::<Job>), move |last| async move {
            let mut last = last?;
            loop {
                if last.is_some() {
                    tokio::time::sleep(self.calor.poll).await;
                }
                // the model's name is read once, with the first state: not on every poll
                let polled = match &last {
                    None => self.get(id).await,
                    Some(l) => self.get_unnamed(id).await.map(|mut job| {
                        job.gpu_name.clone_from(&l.gpu_name);
                        job
                    }),
                };
                match polled {
                    Err(e) => return Some((Err(e), None)),
                    Ok(job) if last.as_ref().is_some_and(|l| l.state == job.state) => {
                        last = Some(job);
                    }
                    Ok(job) => {
                        let next = (!job.state.is_final()).then(|| Some(job.clone()));
                        return Some((Ok(job), next));
                    }
                }
            }
        })
    }

    /// Stops the job (cancel or complete) and settles it in the same transaction when every
    /// account it pays exists; the settlement read from that transaction. When the provider
    /// must settle (its Calor payout account does not exist yet), waits for its settlement.
    ///
    /// ```no_run
    /// # async fn run(calor: &calor_client::sdk::Calor, id: &str) -> Result<(), calor_client::sdk::SdkError> {
    /// let settled = calor.jobs().stop(id).await?;
    /// println!("refund {} in {}", settled.unit.amount(settled.refund), settled.signature);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop(&self, id: &str) -> Result<Settlement, SdkError> {
        let config = self.calor.config().await?;
        let (address, rental) = self.rental(id).await?;
        let Some(rental) = rental else {
            return match self.settled(&address, &config).await? {
                Some(Job {
                    settlement: Some(s),
                    ..
                }) => Ok(s),
                _ => Err(SdkError::NotFound(id.to_string())),
            };
        };
        let calor_payout =
            renting::calor_settlement(&self.calor.chain, &rental, config.calor_mint).await?;
        let plan = renting::stop_plan(address, &rental, calor_payout).map_err(|why| {
            SdkError::NotStoppable {
                job: id.to_string(),
                why: match why {
                    StopRefused::RefundHeld => "its refund is held: `claim-refund` pays it".into(),
                    other => other.to_string(),
                },
            }
        })?;
        let signature = self.calor.send("stop", &plan.instructions).await?;
        let unit = Unit::of(rental.payment(), config.calor_decimals);
        if !plan.settles {
            // the provider settles it (its payout account does not exist for the renter to
            // name): wait for that settlement and read it back
            return self
                .provider_settlement(id, &address, &config, &signature)
                .await;
        }
        let tx = history::transaction(&self.calor.chain, &signature).await?;
        let settled = tx
            .into_iter()
            .flat_map(|t| events::from_logs(&t.logs).events)
            .find_map(|e| match e {
                Event::RentalSettled(e) if e.rental == address => Some(e),
                _ => None,
            })
            .ok_or_else(|| SdkError::Http {
                what: "the stop transaction".into(),
                message: format!("{signature} carries no settlement event"),
            })?;
        Ok(Settlement::of(&settled, unit, signature))
    }

    async fn provider_settlement(
        &self,
        id: &str,
        address: &Pubkey,
        config: &Config,
        stop_signature: &str,
    ) -> Result<Settlement, SdkError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while std::time::Instant::now() < deadline {
            tokio::time::sleep(self.calor.poll).await;
            let open = self.calor.chain.account::<Rental>(address).await?;
            let held = open
                .as_ref()
                .is_some_and(|r| r.state() == RentalState::RefundHeld);
            if open.is_none() || held {
                if let Some(Job {
                    settlement: Some(s),
                    ..
                }) = self.settled(address, config).await?
                {
                    return Ok(s);
                }
            }
        }
        Err(SdkError::NotStoppable {
            job: id.to_string(),
            why: format!(
                "stopped ({stop_signature}), but its provider has not settled it within 2 minutes: `calor job {id}` shows the settlement once it has"
            ),
        })
    }

    /// Pays a held refund into the wallet's Calor account (created if missing).
    pub async fn claim_refund(&self, id: &str) -> Result<String, SdkError> {
        let config = self.calor.config().await?;
        let (address, rental) = self.rental(id).await?;
        let rental = rental
            .filter(|r| r.state() == RentalState::RefundHeld)
            .ok_or_else(|| SdkError::NotStoppable {
                job: id.to_string(),
                why: "no refund is held for it".into(),
            })?;
        let token_program = self.calor.chain.owner(&config.calor_mint).await?;
        let instructions =
            renting::claim_refund_instructions(address, &rental, config.calor_mint, token_program);
        self.calor.send("claim refund", &instructions).await
    }

    /// Buys `hours` more of a running job at its own rate and today's price; the job after.
    pub async fn extend(&self, id: &str, hours: u32) -> Result<Job, SdkError> {
        let config = self.calor.config().await?;
        let (address, rental) = self.rental(id).await?;
        let rental = rental
            .filter(|r| r.state() == RentalState::Running)
            .ok_or_else(|| {
                SdkError::Invalid(format!(
                    "job {id} is not running: only a running job is extended"
                ))
            })?;
        let now = self.calor.chain.unix_timestamp().await?;
        let renter = self.calor.wallet();
        let lamports = self.calor.chain.balance(&renter).await?;
        let (q, instruction, calor, lamports_beside) = match rental.payment() {
            PaymentKind::Sol => {
                let price = self.calor.sol_usd_price().await?;
                let q = quote::quote_sol_extension(
                    &config,
                    Some(&price),
                    now,
                    rental.hours,
                    rental.hourly_rate_micro_usd,
                    hours,
                    SLIPPAGE_BPS,
                )?;
                let args = ExtendArgs {
                    hours,
                    max_payment: q.max_payment,
                };
                let instruction = ix::extend_sol(renter, address, self.calor.sol_usd, args);
                (q, instruction, 0, super::NETWORK_FEE_LAMPORTS)
            }
            PaymentKind::Calor => {
                let extension = quote::Extension {
                    hours_bought: rental.hours,
                    hourly_rate_micro_usd: rental.hourly_rate_micro_usd,
                    hours,
                };
                let q = quote::quote_calor_extension(
                    &config,
                    now,
                    extension,
                    rental.subsidy_bps,
                    SLIPPAGE_BPS,
                )?;
                let tokens = self.calor.calor_account(config.calor_mint).await?;
                let calor = self.calor.chain.token_balance(&tokens.owner_token).await?;
                let args = ExtendArgs {
                    hours,
                    max_payment: q.max_payment,
                };
                let instruction = ix::extend_calor(
                    renter,
                    address,
                    tokens.calor_mint,
                    tokens.owner_token,
                    tokens.token_program,
                    args,
                );
                (q, instruction, calor, 0)
            }
        };
        if let Some(s) = renting::shortfall(
            rental.payment(),
            q.max_payment,
            lamports_beside,
            lamports,
            calor,
        ) {
            return Err(SdkError::short(s, config.calor_decimals));
        }
        self.calor.send("extend", &[instruction]).await?;
        self.get(id).await
    }

    /// Where to reach the job: asked of the provider's provisioner, found on chain from the
    /// node that serves it.
    pub async fn connect(&self, id: &str) -> Result<Connect, SdkError> {
        let (_, rental) = self.rental(id).await?;
        let rental = rental.ok_or_else(|| SdkError::NotFound(id.to_string()))?;
        let node = rental.node().ok_or_else(|| {
            SdkError::Invalid(format!(
                "job {id} is {}: no node serves it yet",
                JobState::of(rental.state())
            ))
        })?;
        let endpoint = self.endpoint_of(&node).await?;
        let url = format!("{endpoint}/rentals/{id}");
        let status: serde_json::Value = self
            .calor
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| SdkError::Http {
                what: format!("the provider at {endpoint}"),
                message: e.to_string(),
            })?
            .json()
            .await
            .map_err(|e| SdkError::Http {
                what: format!("the provider at {endpoint}"),
                message: e.to_string(),
            })?;
        let text = |k: &str| status[k].as_str().map(str::to_string);
        Ok(Connect {
            endpoint,
            ssh_host: text("ssh_host"),
            ssh_port: status["ssh_port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok()),
            ssh_command: text("ssh_command"),
            terminal_url: text("terminal_url"),
        })
    }

    /// The provisioner endpoint of the provider that lists `node`.
    pub(super) async fn endpoint_of(&self, node: &Pubkey) -> Result<String, SdkError> {
        let chain = &self.calor.chain;
        let node = chain
            .account::<calor::state::Node>(node)
            .await?
            .ok_or_else(|| SdkError::NotFound(format!("node {node}")))?;
        let provider = chain
            .account::<calor::state::Provider>(&node.provider)
            .await?
            .ok_or_else(|| SdkError::NotFound(format!("provider {}", node.provider)))?;
        Ok(provider.endpoint().trim_end_matches('/').to_string())
    }

    /// The job's rental address, checked.
    pub fn address(&self, id: &str) -> Result<Pubkey, SdkError> {
        self.parse(id)
    }
}
