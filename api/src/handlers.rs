//! Handlers of the chain-backed endpoints: jobs, the relay, the catalog, the network, stakes
//! and listings. Each is thin over `jobs`, `market` and the index; errors become problems.
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use calor_client::access::AccessAction;
use calor_client::quote::QuoteError;
use calor_client::staking::StakeNow;
use calor_client::wire::WireError;
use calor_client::Pubkey;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::{IntoParams, ToSchema};

use crate::http::{signed_in, App, Body, Problem};
use crate::jobs::{
    AccessAsk, AccessMessage, CreateJob, CreatedJob, Job, JobError, JobFilter, JobPage, Jobs,
    StopJob,
};
use crate::market::{availability, calor_rate, heartbeat_timeout, usd_per_hour, Availability};

/// Server-sent events carry a comment this often, so idle proxies keep the stream open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

impl From<JobError> for Problem {
    fn from(e: JobError) -> Self {
        use StatusCode as S;
        let detail = e.to_string();
        let (status, code, field) = match &e {
            JobError::BadField { field, .. } => {
                (S::UNPROCESSABLE_ENTITY, "invalid_field", Some(*field))
            }
            JobError::NotFound => (S::NOT_FOUND, "job_not_found", None),
            JobError::Quote(QuoteError::Hours { .. }) => {
                (S::UNPROCESSABLE_ENTITY, "invalid_field", Some("hours"))
            }
            JobError::Quote(QuoteError::BelowMinimum { .. }) => {
                (S::UNPROCESSABLE_ENTITY, "below_minimum", Some("hours"))
            }
            JobError::Quote(QuoteError::Overflow) => {
                (S::UNPROCESSABLE_ENTITY, "amount_overflow", None)
            }
            JobError::Quote(_) => (S::SERVICE_UNAVAILABLE, "price_unavailable", None),
            JobError::NoCapacity { .. } => (S::CONFLICT, "no_capacity", None),
            JobError::AboveMaximumRate { .. } => {
                (S::CONFLICT, "above_maximum_rate", Some("maxHourlyUsd"))
            }
            JobError::InsufficientFunds { .. } => {
                (S::UNPROCESSABLE_ENTITY, "insufficient_funds", None)
            }
            JobError::Quota { .. } => (S::FORBIDDEN, "quota_exceeded", None),
            JobError::NotStoppable(_) => (S::CONFLICT, "not_stoppable", None),
            JobError::NotReachable(_) => (S::CONFLICT, "not_reachable", None),
            JobError::Wire(WireError::ForeignProgram { .. } | WireError::NoCalorCall) => (
                S::UNPROCESSABLE_ENTITY,
                "not_a_calor_call",
                Some("transaction"),
            ),
            JobError::Wire(WireError::BadSignature) => (
                S::UNPROCESSABLE_ENTITY,
                "bad_signature",
                Some("transaction"),
            ),
            JobError::Wire(_) => (
                S::UNPROCESSABLE_ENTITY,
                "bad_transaction",
                Some("transaction"),
            ),
            JobError::Rejected { .. } => (S::UNPROCESSABLE_ENTITY, "transaction_rejected", None),
            JobError::NotReady => (S::SERVICE_UNAVAILABLE, "not_ready", None),
            JobError::Chain(error) => {
                tracing::warn!(%error, "chain");
                return Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "chain_unavailable",
                    "the chain's RPC node did not answer; try again",
                );
            }
            JobError::Store(error) => {
                tracing::error!(%error, "store");
                return Problem::new(
                    S::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store did not answer; try again",
                );
            }
        };
        Problem {
            field,
            ..Problem::new(status, code, detail)
        }
    }
}

/// Query parameters, their rejection a problem naming what is wrong.
fn query<T>(
    parsed: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    parsed.map(|Query(value)| value).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            e.body_text(),
        )
    })
}

fn jobs(app: &App) -> Result<&Arc<Jobs>, Problem> {
    app.jobs.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            "this API runs without a chain connection",
        )
    })
}

/// Quote a job and get the unsigned transaction that opens it.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = CreateJob,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Quoted; sign `transaction` as the fee payer", body = CreatedJob),
        (status = 401, description = "Not signed in", body = crate::http::ProblemBody),
        (status = 403, description = "Quota of open jobs reached", body = crate::http::ProblemBody),
        (status = 409, description = "No capacity, or above your maximum rate", body = crate::http::ProblemBody),
        (status = 422, description = "Bad input, below the minimum or not enough funds", body = crate::http::ProblemBody),
        (status = 429, description = "Rate limited", body = crate::http::ProblemBody),
        (status = 503, description = "Chain, price or store unavailable", body = crate::http::ProblemBody),
    ))]
pub async fn create_job(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(request): Body<CreateJob>,
) -> Result<(StatusCode, Json<CreatedJob>), Problem> {
    let wallet = signed_in(&app, &headers).await?;
    let created = jobs(&app)?.create(&wallet, &request).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST /api/tx`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelayBody {
    /// The signed transaction, base64 of its wire bytes.
    pub transaction: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Relayed {
    pub signature: String,
}

/// Relay a signed transaction that only calls Calor (and the compute budget).
#[utoipa::path(post, path = "/api/tx", tag = "jobs", request_body = RelayBody,
    responses(
        (status = 202, description = "Sent; follow the job's events for its effect", body = Relayed),
        (status = 422, description = "Not a signed Calor call, or the program rejected it", body = crate::http::ProblemBody),
        (status = 429, description = "Rate limited", body = crate::http::ProblemBody),
        (status = 503, description = "Chain unavailable", body = crate::http::ProblemBody),
    ))]
pub async fn relay(
    State(app): State<Arc<App>>,
    Body(body): Body<RelayBody>,
) -> Result<(StatusCode, Json<Relayed>), Problem> {
    let signature = jobs(&app)?.relay(&body.transaction).await?;
    Ok((StatusCode::ACCEPTED, Json(Relayed { signature })))
}

/// One of your jobs, by job id or rental address, with its timeline and where to connect.
#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "A job id, or a rental address (its latest job)")),
    responses(
        (status = 200, body = Job),
        (status = 401, description = "Not signed in", body = crate::http::ProblemBody),
        (status = 404, description = "No such job of yours", body = crate::http::ProblemBody),
    ))]
pub async fn get_job(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Job>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    Ok(Json(jobs(&app)?.get(&wallet, &id).await?))
}

/// The message the renter's wallet signs to open the job's web terminal or Jupyter, and where
/// to send it: the provider's provisioner checks it against the rental's renter on chain.
#[utoipa::path(post, path = "/api/jobs/{id}/access", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "A job id or a rental address")),
    request_body = AccessAsk,
    responses(
        (status = 200, body = AccessMessage),
        (status = 404, description = "No such job of yours", body = crate::http::ProblemBody),
        (status = 409, description = "The job is not running or its provisioner does not answer", body = crate::http::ProblemBody),
        (status = 422, description = "Not `terminal` or `jupyter`", body = crate::http::ProblemBody),
    ))]
pub async fn job_access(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(ask): Body<AccessAsk>,
) -> Result<Json<AccessMessage>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    let action = match ask.action.as_str() {
        "terminal" => AccessAction::Terminal,
        "jupyter" => AccessAction::Jupyter,
        _ => {
            return Err(JobError::BadField {
                field: "action",
                reason: "must be \"terminal\" or \"jupyter\"".into(),
            }
            .into())
        }
    };
    Ok(Json(
        jobs(&app)?.access_message(&wallet, &id, action).await?,
    ))
}

/// Your jobs, newest first.
#[utoipa::path(get, path = "/api/jobs", tag = "jobs", security(("bearer" = [])), params(JobFilter),
    responses(
        (status = 200, body = JobPage),
        (status = 401, description = "Not signed in", body = crate::http::ProblemBody),
        (status = 422, description = "A bad filter", body = crate::http::ProblemBody),
    ))]
pub async fn list_jobs(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    filter: Result<Query<JobFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<JobPage>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    let filter = query(filter)?;
    Ok(Json(jobs(&app)?.list(&wallet, &filter).await?))
}

/// The unsigned transaction that stops the job (cancel or complete) and settles it.
#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "A job id or a rental address")),
    responses(
        (status = 200, body = StopJob),
        (status = 404, description = "No such job of yours", body = crate::http::ProblemBody),
        (status = 409, description = "Nothing to stop or settle", body = crate::http::ProblemBody),
    ))]
pub async fn stop_job(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<StopJob>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    Ok(Json(jobs(&app)?.stop(&wallet, &id).await?))
}

/// The job's events as server-sent events (`id` = the event's `seq`; send `Last-Event-ID`
/// to resume). A comment every 15 s keeps idle proxies from closing the stream.
#[utoipa::path(get, path = "/api/jobs/{id}/events", tag = "jobs", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A job id or a rental address"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
    ),
    responses(
        (status = 200, description = "`text/event-stream` of `JobEvent`s", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such job of yours", body = crate::http::ProblemBody),
    ))]
pub async fn job_events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    let jobs = jobs(&app)?.clone();
    let Some(indexer) = app.indexer.clone() else {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            "no index",
        ));
    };
    let after: i64 = match headers.get("last-event-id") {
        None => 0,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| Problem {
                field: Some("Last-Event-ID"),
                ..Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    "Last-Event-ID must be an event's seq",
                )
            })?,
    };
    // subscribe before reading the backlog, so nothing falls between the two
    let mut changed = indexer.changed.subscribe();
    let job = jobs.find(&wallet, &id).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<SseEvent>(64);
    tokio::spawn(async move {
        let mut sent = after;
        loop {
            let events = match jobs.events_after(&job.id, sent).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(%error, "reading job events");
                    Vec::new()
                }
            };
            for event in events {
                sent = event.seq;
                let sse = SseEvent::default()
                    .id(event.seq.to_string())
                    .event(event.kind.clone())
                    .json_data(&event)
                    .expect("an event serialises");
                if tx.send(sse).await.is_err() {
                    return;
                }
            }
            // wake on this rental's news; a lagging receiver re-reads anyway
            loop {
                tokio::select! {
                    news = changed.recv() => match news {
                        Ok(rental) if rental == job.rental => break,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                        Err(_) => return,
                    },
                    _ = tx.closed() => return,
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The GPU catalog with live availability per region, the rates and the prices used.
#[utoipa::path(get, path = "/api/gpus", tag = "market",
    responses((status = 200, description = "The catalog", content_type = "application/json", body = crate::market::GpuCatalog)))]
pub async fn gpus(State(app): State<Arc<App>>) -> Result<Response, Problem> {
    let body = jobs(&app)?.market.snapshot().gpus_body.clone();
    if body.is_empty() {
        return Err(Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the market has not been read yet",
        ));
    }
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub nodes_online: u32,
    pub nodes_total: u32,
    pub gpus_busy: u32,
    pub gpus_online: u32,
    /// Busy GPUs over online GPUs.
    pub utilisation: f64,
    /// FP16 PFLOPS of the online GPUs.
    pub pflops_online: f64,
    /// Calor base units burned by settlements, all time.
    pub total_burned: u64,
    /// Jobs by state, all time (from the index).
    #[schema(value_type = Object)]
    pub rentals_by_state: std::collections::BTreeMap<String, u64>,
    /// USD paid for jobs opened in the last 24 hours.
    pub volume_24h_usd: f64,
    /// The newest slot the index has read.
    pub indexed_slot: u64,
}

/// The network now: nodes, GPUs, utilisation, burn and volume.
#[utoipa::path(get, path = "/api/network", tag = "market", responses((status = 200, body = Network)))]
pub async fn network(State(app): State<Arc<App>>) -> Result<Json<Network>, Problem> {
    let jobs = jobs(&app)?;
    let snapshot = jobs.market.snapshot();
    let (capacity, nodes_total) = {
        let view = jobs.market.view().await;
        let tflops_of = |gpu| snapshot.gpu_models.get(&gpu).map_or(0, |m| m.fp16_tflops);
        let capacity = calor_client::market::capacity(
            view.nodes.values(),
            tflops_of,
            heartbeat_timeout(&snapshot),
            snapshot.chain_time,
        );
        (capacity, view.nodes.len() as u32)
    };
    let pool = jobs.store.pool();
    let burned: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(burned), 0) AS BIGINT) FROM jobs")
        .fetch_one(pool)
        .await
        .map_err(JobError::from)?
        .get(0);
    let day_ago = crate::http::system_clock() - 86_400;
    let volume: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(usd_paid_micro), 0) AS BIGINT) FROM jobs WHERE opened_at >= $1",
    )
    .bind(day_ago)
    .fetch_one(pool)
    .await
    .map_err(JobError::from)?
    .get(0);
    let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
        .fetch_all(pool)
        .await
        .map_err(JobError::from)?;
    let indexed_slot = app.indexer.as_ref().map_or(0, |i| i.progress.borrow().slot);
    Ok(Json(Network {
        nodes_online: capacity.nodes_online,
        nodes_total,
        gpus_busy: capacity.gpus_busy,
        gpus_online: capacity.gpus_online,
        utilisation: capacity.utilisation(),
        pflops_online: capacity.fp16_tflops_online as f64 / 1000.0,
        total_burned: burned as u64,
        rentals_by_state: rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
            .collect(),
        volume_24h_usd: volume as f64 / 1e6,
        indexed_slot,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryWindow {
    /// Hours up to now, 1 to 168 (default 24).
    pub hours: Option<u32>,
}

/// The most hours `GET /api/network/history` answers for.
pub const MAX_HISTORY_HOURS: u32 = 168;

/// The network hour by hour: GPU-hours rented, jobs opened and their USD, Calor burned.
#[utoipa::path(get, path = "/api/network/history", tag = "market", params(HistoryWindow),
    responses((status = 200, body = [crate::network::HistoryPoint]),
        (status = 422, description = "Hours out of range", body = crate::http::ProblemBody)))]
pub async fn network_history(
    State(app): State<Arc<App>>,
    window: Result<Query<HistoryWindow>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<crate::network::HistoryPoint>>, Problem> {
    let hours = query(window)?.hours.unwrap_or(24);
    if !(1..=MAX_HISTORY_HOURS).contains(&hours) {
        return Err(Problem {
            field: Some("hours"),
            ..Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                format!("hours must be between 1 and {MAX_HISTORY_HOURS}"),
            )
        });
    }
    let jobs = jobs(&app)?;
    let now = crate::http::system_clock();
    let from = crate::network::window_start(now, hours);
    let spans = crate::network::spans(jobs.store.pool(), from)
        .await
        .map_err(JobError::from)?;
    let view = jobs.market.view().await;
    let gpus = |node: &str| {
        node.parse::<Pubkey>()
            .ok()
            .and_then(|n| view.nodes.get(&n))
            .map_or(1, |n| u32::from(n.gpu_count))
    };
    Ok(Json(crate::network::hourly(&spans, gpus, now, hours)))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StakeView {
    /// Calor base units earning rewards.
    pub active: u64,
    /// Deposited this epoch; active from the next.
    pub pending: u64,
    /// What counts for priority and governance (deposited two epochs ago or earlier).
    pub seasoned: u64,
    pub locked_until: i64,
    /// Rentals open now with this stake's priority.
    pub priority_rentals: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stakes {
    pub wallet: String,
    pub stake: Option<StakeView>,
    /// Calor base units claimable now.
    pub pending_rewards: u64,
    /// 0 (none) to 3.
    pub priority_tier: u8,
    /// Seasoned stake each tier needs.
    pub tier_thresholds: Vec<u64>,
    pub epoch: u64,
    pub epoch_ends_at: i64,
    pub pool_active_stake: u64,
    pub pool_pending_stake: u64,
    pub rewards_distributed: u64,
    pub rewards_claimed: u64,
}

/// Your stake, rewards waiting, priority tier and the pool.
#[utoipa::path(get, path = "/api/rewards/stakes", tag = "staking", security(("bearer" = [])),
    responses(
        (status = 200, body = Stakes),
        (status = 401, description = "Not signed in", body = crate::http::ProblemBody),
        (status = 503, description = "Staking is not set up", body = crate::http::ProblemBody),
    ))]
pub async fn stakes(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Json<Stakes>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    let jobs = jobs(&app)?;
    let owner: Pubkey = wallet.parse().map_err(|_| JobError::NotFound)?;
    let snapshot = jobs.market.snapshot();
    let chain = &jobs.market.chain;
    // the pool as it is now, like the stake: a snapshot a refresh old would pair a new stake
    // with an old accumulator
    let now = calor_client::staking::stake_now(chain, &owner)
        .await
        .map_err(JobError::from)?;
    let (Some(StakeNow { pool, stake, .. }), Some(config)) = (now, &snapshot.config) else {
        return Err(JobError::NotReady.into());
    };
    let pool = &pool;
    let tiers = config.params.staking.priority_tiers;
    let (view, pending_rewards, tier) = match &stake {
        Some(s) => {
            let seasoned = s.deposits.seasoned(pool.epoch);
            (
                Some(StakeView {
                    active: s.active,
                    pending: s.pending,
                    seasoned,
                    locked_until: s.locked_until,
                    priority_rentals: s.priority_rentals,
                }),
                s.unclaimed,
                calor::math::priority_tier(seasoned, &tiers),
            )
        }
        None => (None, 0, 0),
    };
    Ok(Json(Stakes {
        wallet,
        stake: view,
        pending_rewards,
        priority_tier: tier,
        tier_thresholds: tiers.to_vec(),
        epoch: pool.epoch,
        epoch_ends_at: pool.epoch_started_at + i64::from(config.params.staking.epoch_secs),
        pool_active_stake: pool.active_stake,
        pool_pending_stake: pool.pending_stake,
        rewards_distributed: pool.rewards_distributed,
        rewards_claimed: pool.rewards_claimed,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub node: String,
    pub provider: String,
    pub region: u16,
    pub region_code: Option<String>,
    pub gpu_model: u16,
    pub gpu_name: Option<String>,
    pub gpu_count: u8,
    pub hourly_rate_usd: f64,
    /// The rate when paying in Calor (the subsidy taken off).
    pub calor_hourly_rate_usd: Option<f64>,
    /// `idle`, `busy` or `offline`.
    pub status: String,
    /// Unix seconds.
    pub last_heartbeat: i64,
    /// Share of this API's observations that found the node online (since it started).
    pub uptime_ratio: Option<f64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingFilter {
    pub gpu: Option<u16>,
    pub region: Option<u16>,
    /// `idle`, `busy` or `offline`.
    pub status: Option<String>,
}

/// Nodes as offers: provider, region, model, rate, status, heartbeat and uptime.
#[utoipa::path(get, path = "/api/marketplace/listings", tag = "market", params(ListingFilter),
    responses((status = 200, body = [Listing]), (status = 422, description = "A bad filter", body = crate::http::ProblemBody)))]
pub async fn listings(
    State(app): State<Arc<App>>,
    filter: Result<Query<ListingFilter>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Listing>>, Problem> {
    let filter = query(filter)?;
    let jobs = jobs(&app)?;
    let snapshot = jobs.market.snapshot();
    let view = jobs.market.view().await;
    let mut out: Vec<Listing> = view
        .nodes
        .iter()
        .map(|(address, node)| {
            let status = match availability(node, &snapshot) {
                Availability::Idle => "idle",
                Availability::Busy => "busy",
                Availability::Offline => "offline",
            };
            let provider = snapshot.providers.get(&node.provider);
            Listing {
                node: address.to_string(),
                provider: provider.map_or(node.provider, |p| p.authority).to_string(),
                region: node.region,
                region_code: snapshot
                    .regions
                    .get(&node.region)
                    .map(|r| r.code().to_string()),
                gpu_model: node.gpu_model,
                gpu_name: snapshot
                    .gpu_models
                    .get(&node.gpu_model)
                    .map(|m| m.name().to_string()),
                gpu_count: node.gpu_count,
                hourly_rate_usd: usd_per_hour(node.hourly_rate_micro_usd),
                calor_hourly_rate_usd: calor_rate(&snapshot, node.hourly_rate_micro_usd)
                    .map(usd_per_hour),
                status: status.into(),
                last_heartbeat: node.last_heartbeat,
                uptime_ratio: jobs.market.uptime_ratio(address),
            }
        })
        .filter(|l| filter.gpu.is_none_or(|g| g == l.gpu_model))
        .filter(|l| filter.region.is_none_or(|r| r == l.region))
        .filter(|l| filter.status.as_ref().is_none_or(|s| *s == l.status))
        .collect();
    out.sort_by(|a, b| {
        a.hourly_rate_usd
            .total_cmp(&b.hourly_rate_usd)
            .then(a.node.cmp(&b.node))
    });
    Ok(Json(out))
}
