//! The chain indexer: reads the program's transaction history (oldest first), decodes the
//! events Calor emitted (`calor_client::events`) and folds them into `jobs` and
//! `job_events`, so a job's whole history outlives the rental account that settlement closes.
//!
//! Each transaction is applied in one database transaction together with the cursor, so a
//! crash at any point leaves the store at a transaction boundary; on start the indexer lists
//! only what is newer than the cursor. Applying is idempotent besides (an event already
//! stored is skipped by its `(signature, index)` key), so a replay never counts twice.
use std::sync::Arc;
use std::time::{Duration, Instant};

use calor_client::accounts::{EndReason, PaymentKind, RentalState};
use calor_client::events::{self, Event};
use calor_client::history::{self, Listed};
use calor_client::rpc::{Chain, ChainError};
use futures_util::StreamExt;
use serde_json::json;
use sqlx::{Any, Row, Transaction};
use tokio::sync::{broadcast, watch};

use crate::store::{Store, StoreError};

/// Transactions fetched at once during a backfill.
const FETCH_CONCURRENCY: usize = 8;
/// Each pass lists again this many slots below the newest applied one: a node may list a
/// transaction of a slot after others of the same slot were read.
const REPLAY_SLOTS: u64 = 32;
/// Passes to wait for a node to give a listed transaction's block time.
const MAX_BLOCK_TIME_WAITS: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("transaction {0} is listed but the node does not return it")]
    Missing(String),
}

impl From<sqlx::Error> for IndexError {
    fn from(e: sqlx::Error) -> Self {
        IndexError::Store(e.into())
    }
}

/// What the indexer has done, for `/metrics` and `/healthz`.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    pub slot: u64,
    pub transactions: u64,
    /// The last pass reached the head of the node's history.
    pub caught_up: bool,
    pub last_error: Option<String>,
}

pub struct Indexer {
    pub chain: Arc<Chain>,
    pub store: Store,
    pub poll: Duration,
    /// Carries the address of each rental whose history grew.
    pub changed: broadcast::Sender<String>,
    pub progress: watch::Sender<Progress>,
    /// A transaction whose block time the node did not give yet, and for how many passes.
    deferred: std::sync::Mutex<Option<(String, u32)>>,
}

impl Indexer {
    pub fn new(chain: Arc<Chain>, store: Store, poll: Duration) -> Self {
        Self {
            chain,
            store,
            poll,
            changed: broadcast::channel(1024).0,
            progress: watch::channel(Progress::default()).0,
            deferred: std::sync::Mutex::new(None),
        }
    }

    /// Forgets everything indexed, so the next pass rebuilds it from the chain.
    pub async fn reset(&self) -> Result<(), IndexError> {
        let mut tx = self.store.pool().begin().await?;
        for table in ["job_events", "jobs", "indexed_transactions", "index_cursor"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last transaction applied, if any.
    pub async fn cursor(&self) -> Result<Option<(String, u64, u64)>, IndexError> {
        let row =
            sqlx::query("SELECT signature, slot, transactions FROM index_cursor WHERE id = 1")
                .fetch_optional(self.store.pool())
                .await?;
        Ok(row.map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<i64, _>(1) as u64,
                r.get::<i64, _>(2) as u64,
            )
        }))
    }

    /// Reads and applies what is new since the cursor; how many transactions it applied.
    pub async fn pass(&self) -> Result<usize, IndexError> {
        let floor = self
            .cursor()
            .await?
            .map(|(_, slot, _)| slot.saturating_sub(REPLAY_SLOTS));
        let known: std::collections::HashSet<String> = match floor {
            None => Default::default(),
            Some(floor) => {
                sqlx::query("SELECT signature FROM indexed_transactions WHERE slot >= $1")
                    .bind(floor as i64)
                    .fetch_all(self.store.pool())
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect()
            }
        };
        let listed: Vec<Listed> = history::signatures_from(&self.chain, floor)
            .await?
            .into_iter()
            .filter(|l| !known.contains(&l.signature))
            .collect();
        let count = listed.len();
        let chain = &self.chain;
        let mut fetched = futures_util::stream::iter(listed)
            .map(|entry: Listed| async move {
                let executed = history::transaction(chain, &entry.signature).await;
                (entry, executed)
            })
            .buffered(FETCH_CONCURRENCY);
        while let Some((entry, executed)) = fetched.next().await {
            let mut executed =
                executed?.ok_or_else(|| IndexError::Missing(entry.signature.clone()))?;
            if executed.block_time.is_none() {
                // A node can list a transaction before it stores its block's time: wait for
                // it (the next pass lists it again) rather than record a time of our own,
                // unless the node keeps not knowing it.
                let waited = {
                    let mut deferred = self.deferred.lock().expect("deferred lock");
                    match deferred.as_mut() {
                        Some((signature, passes)) if *signature == entry.signature => {
                            *passes += 1;
                            *passes
                        }
                        _ => {
                            *deferred = Some((entry.signature.clone(), 1));
                            1
                        }
                    }
                };
                if waited <= MAX_BLOCK_TIME_WAITS {
                    break;
                }
                tracing::warn!(signature = %entry.signature, "the node gives no block time: using this host's clock");
                executed.block_time = Some(crate::http::system_clock());
            }
            let Some(touched) = self.apply(&entry, &executed).await? else {
                continue;
            };
            self.progress.send_modify(|p| {
                p.slot = entry.slot;
                p.transactions += 1;
            });
            for rental in touched {
                // nobody listening is fine
                let _ = self.changed.send(rental);
            }
        }
        Ok(count)
    }

    /// Applies one transaction with the cursor; the rentals whose history it grew, or `None`
    /// when it was applied before.
    async fn apply(
        &self,
        entry: &Listed,
        executed: &history::Executed,
    ) -> Result<Option<Vec<String>>, IndexError> {
        let mut touched = Vec::new();
        let mut tx = self.store.pool().begin().await?;
        let new = sqlx::query(
            "INSERT INTO indexed_transactions (signature, slot) VALUES ($1, $2) ON CONFLICT (signature) DO NOTHING",
        )
        .bind(&entry.signature)
        .bind(executed.slot as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !new {
            return Ok(None);
        }
        if !executed.failed && !entry.failed {
            let emitted = events::from_logs(&executed.logs);
            if emitted.truncated {
                tracing::warn!(signature = %entry.signature, "logs truncated: later events of this transaction are missing");
            }
            let time = executed
                .block_time
                .unwrap_or_else(crate::http::system_clock);
            for (idx, event) in emitted.events.iter().enumerate() {
                let Some(rental) = event.rental() else {
                    continue;
                };
                let rental = rental.to_string();
                let at = Position {
                    signature: &entry.signature,
                    idx: idx as i64,
                    slot: executed.slot as i64,
                    time,
                };
                if record(&mut tx, &rental, event, &at).await? {
                    touched.push(rental);
                }
            }
        }
        // the cursor only moves forward: a late transaction of an older slot does not pull it back
        sqlx::query(
            "INSERT INTO index_cursor (id, signature, slot, transactions, updated_at) VALUES (1, $1, $2, 1, $3) \
             ON CONFLICT (id) DO UPDATE SET \
             signature = CASE WHEN index_cursor.slot <= $2 THEN $1 ELSE index_cursor.signature END, \
             slot = CASE WHEN index_cursor.slot <= $2 THEN $2 ELSE index_cursor.slot END, \
             transactions = index_cursor.transactions + 1, updated_at = $3",
        )
        .bind(&entry.signature)
        .bind(executed.slot as i64)
        .bind(crate::http::system_clock())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(touched))
    }

    /// Follows the chain until shutdown: a pass, then another after `poll`.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            let started = Instant::now();
            match self.pass().await {
                Ok(applied) => {
                    if applied > 0 {
                        tracing::debug!(applied, took = ?started.elapsed(), "indexed");
                    }
                    self.progress.send_modify(|p| {
                        p.caught_up = true;
                        p.last_error = None;
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "index pass failed; retrying");
                    self.progress
                        .send_modify(|p| p.last_error = Some(error.to_string()));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Where an event was emitted.
struct Position<'a> {
    signature: &'a str,
    idx: i64,
    slot: i64,
    time: i64,
}

fn state_name(state: RentalState) -> &'static str {
    match state {
        RentalState::Queued => "queued",
        RentalState::Provisioning => "provisioning",
        RentalState::Running => "running",
        RentalState::Completed => "completed",
        RentalState::Failed => "failed",
        RentalState::Cancelled => "cancelled",
        RentalState::RefundHeld => "refund_held",
    }
}

fn reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Completed => "completed",
        EndReason::Expired => "expired",
        EndReason::Failed => "failed",
        EndReason::Cancelled => "cancelled",
        EndReason::Reclaimed => "reclaimed",
    }
}

pub fn payment_name(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::Sol => "sol",
        PaymentKind::Calor => "calor",
    }
}

/// Stores one rental event and folds it into its job; whether it was new.
async fn record(
    tx: &mut Transaction<'static, Any>,
    rental: &str,
    event: &Event,
    at: &Position<'_>,
) -> Result<bool, IndexError> {
    let seen = sqlx::query("SELECT 1 FROM job_events WHERE signature = $1 AND idx = $2")
        .bind(at.signature)
        .bind(at.idx)
        .fetch_optional(&mut **tx)
        .await?;
    if seen.is_some() {
        return Ok(false);
    }
    let job = if matches!(event, Event::RentalOpened(_)) {
        job_id(at.signature, at.idx)
    } else {
        let latest = sqlx::query(
            "SELECT id FROM jobs WHERE rental = $1 ORDER BY opened_slot DESC, id DESC LIMIT 1",
        )
        .bind(rental)
        .fetch_optional(&mut **tx)
        .await?;
        match latest {
            Some(row) => row.get::<String, _>(0),
            None => {
                // history older than the node keeps: the opening is gone
                tracing::warn!(%rental, "event of a rental whose opening is not indexed: skipped");
                return Ok(false);
            }
        }
    };
    let (kind, detail) = fold(tx, &job, rental, event, at).await?;
    let seq: i64 = sqlx::query("SELECT event_count FROM jobs WHERE id = $1")
        .bind(&job)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    sqlx::query(
        "INSERT INTO job_events (signature, idx, job, rental, seq, slot, block_time, kind, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at.signature)
    .bind(at.idx)
    .bind(&job)
    .bind(rental)
    .bind(seq)
    .bind(at.slot)
    .bind(at.time)
    .bind(kind)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// A job's id: its opening transaction and the event's place in it.
pub fn job_id(signature: &str, idx: i64) -> String {
    format!("{signature}-{idx}")
}

/// Applies `event` to the job row (counting it); its kind and what it says.
async fn fold(
    tx: &mut Transaction<'static, Any>,
    job: &str,
    rental: &str,
    event: &Event,
    at: &Position<'_>,
) -> Result<(&'static str, serde_json::Value), IndexError> {
    let bump = "event_count = event_count + 1";
    Ok(match event {
        Event::RentalOpened(e) => {
            let payment = payment_name(e.payment);
            sqlx::query(
                "INSERT INTO jobs (id, rental, renter, gpu_model, region, payment, hours, hourly_rate_micro_usd, \
                 escrowed, usd_paid_micro, subsidy_reserved, priority, state, opened_at, opened_slot, event_count) \
                 VALUES ($14, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $13, 1)",
            )
            .bind(rental)
            .bind(e.renter.to_string())
            .bind(i64::from(e.gpu_model))
            .bind(e.region.map(i64::from))
            .bind(payment)
            .bind(i64::from(e.hours))
            .bind(e.hourly_rate_micro_usd as i64)
            .bind(e.escrowed as i64)
            .bind(e.usd_paid_micro as i64)
            .bind(e.subsidy_reserved as i64)
            .bind(i64::from(e.priority))
            .bind(at.time)
            .bind(at.slot)
            .bind(job)
            .execute(&mut **tx)
            .await?;
            (
                "opened",
                json!({
                    "state": "queued", "renter": e.renter.to_string(), "gpuModel": e.gpu_model,
                    "region": e.region, "hours": e.hours, "hourlyRateMicroUsd": e.hourly_rate_micro_usd,
                    "payment": payment, "escrowed": e.escrowed, "usdPaidMicro": e.usd_paid_micro,
                    "subsidyReserved": e.subsidy_reserved, "priority": e.priority,
                }),
            )
        }
        Event::RentalClaimed(e) => {
            sqlx::query(&format!(
                "UPDATE jobs SET state = 'provisioning', node = $2, provider = $3, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(e.node.to_string())
            .bind(e.provider.to_string())
            .execute(&mut **tx)
            .await?;
            (
                "claimed",
                json!({ "state": "provisioning", "node": e.node.to_string(), "provider": e.provider.to_string() }),
            )
        }
        Event::RentalStarted(e) => {
            sqlx::query(&format!(
                "UPDATE jobs SET state = 'running', started_at = $2, ends_at = $3, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(e.started_at)
            .bind(e.ends_at)
            .execute(&mut **tx)
            .await?;
            (
                "started",
                json!({ "state": "running", "startedAt": e.started_at, "endsAt": e.ends_at }),
            )
        }
        Event::RentalExtended(e) => {
            sqlx::query(&format!(
                "UPDATE jobs SET hours = hours + $2, escrowed = escrowed + $3, usd_paid_micro = usd_paid_micro + $4, \
                 subsidy_reserved = subsidy_reserved + $5, ends_at = $6, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(i64::from(e.added_hours))
            .bind(e.added_escrow as i64)
            .bind(e.usd_paid_micro as i64)
            .bind(e.subsidy_reserved as i64)
            .bind(e.ends_at)
            .execute(&mut **tx)
            .await?;
            (
                "extended",
                json!({
                    "addedHours": e.added_hours, "addedEscrow": e.added_escrow,
                    "usdPaidMicro": e.usd_paid_micro, "endsAt": e.ends_at,
                }),
            )
        }
        Event::RentalEnded(e) => {
            let state = state_name(e.state);
            sqlx::query(&format!(
                "UPDATE jobs SET state = $2, end_reason = $3, served_secs = $4, ended_at = $5, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(state)
            .bind(reason_name(e.reason))
            .bind(i64::from(e.served_secs))
            .bind(at.time)
            .execute(&mut **tx)
            .await?;
            (
                "ended",
                json!({ "state": state, "reason": reason_name(e.reason), "servedSecs": e.served_secs }),
            )
        }
        Event::RentalSettled(e) => {
            let held = if e.refund_held {
                ", state = 'refund_held'"
            } else {
                ""
            };
            sqlx::query(&format!(
                "UPDATE jobs SET settled_at = $2, provider_amount = $3, fee = $4, staker_rewards = $5, burned = $6, \
                 refund = $7, refund_held = $8, subsidy_drawn = $9{held}, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(at.time)
            .bind(e.provider_amount as i64)
            .bind(e.fee as i64)
            .bind(e.staker_rewards as i64)
            .bind(e.burned as i64)
            .bind(e.refund as i64)
            .bind(i64::from(e.refund_held))
            .bind(e.subsidy_drawn as i64)
            .execute(&mut **tx)
            .await?;
            (
                "settled",
                json!({
                    "payment": payment_name(e.payment), "providerAmount": e.provider_amount, "fee": e.fee,
                    "stakerRewards": e.staker_rewards, "burned": e.burned, "refund": e.refund,
                    "refundHeld": e.refund_held, "subsidyDrawn": e.subsidy_drawn,
                }),
            )
        }
        Event::RefundClaimed(e) => {
            sqlx::query(&format!(
                "UPDATE jobs SET refund_claimed = $2, {bump} WHERE id = $1"
            ))
            .bind(job)
            .bind(e.amount as i64)
            .execute(&mut **tx)
            .await?;
            ("refund_claimed", json!({ "amount": e.amount }))
        }
        Event::Other(_) => unreachable!("only rental events are recorded"),
    })
}
