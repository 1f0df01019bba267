//! The HTTP surface: thin axum handlers over the domain (`auth`), errors as RFC 9457 problem
//! details with a stable `code`.
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Auth, AuthError, SignInInput, Tokens};
use crate::handlers;
use crate::index::Indexer;
use crate::jobs::Jobs;
use crate::limits::{Limited, Limits};
use crate::store::Store;

/// Request bodies above this are refused (413) before a handler runs.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabel {
    method: String,
    status: u16,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabel, Counter>,
    index_slot: Gauge,
    index_transactions: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("calor_api");
        let requests = Family::<RequestLabel, Counter>::default();
        registry.register("requests", "HTTP requests answered", requests.clone());
        let index_slot = Gauge::default();
        registry.register(
            "index_slot",
            "The newest slot the index has applied",
            index_slot.clone(),
        );
        let index_transactions = Gauge::default();
        registry.register(
            "index_transactions",
            "Transactions the index applied since this process started",
            index_transactions.clone(),
        );
        Self {
            registry,
            requests,
            index_slot,
            index_transactions,
        }
    }
}

pub struct App {
    pub auth: Auth,
    pub store: Store,
    /// Jobs and the market; `None` when this API runs without a chain (sign-in only).
    pub jobs: Option<Arc<Jobs>>,
    pub indexer: Option<Arc<Indexer>>,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Take the client's address from `X-Forwarded-For` (behind a proxy this API trusts).
    pub trust_forwarded_for: bool,
    /// Unix seconds now; a field so that tests can move time.
    pub clock: Box<dyn Fn() -> i64 + Send + Sync>,
}

impl App {
    fn now(&self) -> i64 {
        (self.clock)()
    }
}

/// The system clock in unix seconds.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub fn router(app: Arc<App>, app_origin: Option<&str>) -> Router {
    router_with(Router::new(), app, app_origin)
}

/// The API's routes and `extra` ones (a benchmark's), behind the same middleware.
pub fn router_with(extra: Router<Arc<App>>, app: Arc<App>, app_origin: Option<&str>) -> Router {
    let mut cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    if let Some(origin) = app_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        cors = cors.allow_origin(origin);
    }
    extra
        .route("/api/auth/challenge", post(challenge))
        .route("/api/auth/verify", post(verify))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
        .route(
            "/api/jobs",
            post(handlers::create_job).get(handlers::list_jobs),
        )
        .route(
            "/api/jobs/{id}",
            get(handlers::get_job).delete(handlers::stop_job),
        )
        .route("/api/jobs/{id}/events", get(handlers::job_events))
        .route("/api/jobs/{id}/access", post(handlers::job_access))
        .route("/api/tx", post(handlers::relay))
        .route("/api/gpus", get(handlers::gpus))
        .route("/api/network", get(handlers::network))
        .route("/api/network/history", get(handlers::network_history))
        .route("/api/rewards/stakes", get(handlers::stakes))
        .route("/api/marketplace/listings", get(handlers::listings))
        .route("/api/openapi.json", get(crate::openapi::spec))
        .route("/api/docs", get(crate::openapi::docs_page))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            limit_by_address,
        ))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

async fn count(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let response = next.run(request).await;
    app.metrics
        .requests
        .get_or_create(&RequestLabel {
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// The client's address: the socket's peer, or the first `X-Forwarded-For` entry when this
/// API sits behind a proxy it trusts.
fn client_address(app: &App, request: &Request) -> std::net::IpAddr {
    let forwarded = app
        .trust_forwarded_for
        .then(|| request.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok());
    forwarded.unwrap_or_else(|| {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    })
}

/// Every `/api` call counts against its client address; health and metrics do not.
async fn limit_by_address(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        if let Err(limited) = app.limits.address(client_address(&app, &request)) {
            return Problem::from(limited).into_response();
        }
    }
    next.run(request).await
}

/// An RFC 9457 problem: `code` is stable for programs, `detail` is for people.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// The request field at fault, when one is.
    pub field: Option<&'static str>,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
    /// The limit that refused the call (calls a minute), sent as `RateLimit-*` headers.
    pub rate_limit: Option<u32>,
}

/// The body of every error (`application/problem+json`, RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// `https://calor.dev/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable, for programs: `invalid_field`, `job_not_found`, `rate_limited`, ...
    pub code: String,
    /// For people.
    pub detail: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
            rate_limit: None,
        }
    }
}

impl From<Limited> for Problem {
    fn from(limited: Limited) -> Self {
        let seconds = limited.retry_after.as_secs();
        Problem {
            retry_after: Some(seconds),
            rate_limit: Some(limited.per_minute),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "more than {} calls a minute; try again in {seconds} s",
                    limited.per_minute
                ),
            )
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = ProblemBody {
            kind: format!("https://calor.dev/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("error").into(),
            status: self.status.as_u16(),
            code: self.code.into(),
            detail: self.detail,
            field: self.field.map(str::to_string),
        };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(limit) = self.rate_limit {
            // draft-ietf-httpapi-ratelimit-headers, and the common three-header form
            let headers = response.headers_mut();
            let seconds = self.retry_after.unwrap_or(0);
            headers.insert(
                "ratelimit-policy",
                HeaderValue::from_str(&format!("{limit};w=60")).expect("ascii"),
            );
            headers.insert("ratelimit-limit", HeaderValue::from(limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(0));
            headers.insert("ratelimit-reset", HeaderValue::from(seconds));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        use calor_client::siws::SiwsError;
        let (status, code) = match &e {
            AuthError::SignIn(SiwsError::Expired) => (StatusCode::UNAUTHORIZED, "sign_in_expired"),
            AuthError::SignIn(SiwsError::NotYetValid) => {
                (StatusCode::UNAUTHORIZED, "sign_in_not_yet_valid")
            }
            AuthError::SignIn(SiwsError::BadSignature) => {
                (StatusCode::UNAUTHORIZED, "bad_signature")
            }
            AuthError::SignIn(SiwsError::Mismatch { .. }) => {
                (StatusCode::UNAUTHORIZED, "sign_in_mismatch")
            }
            AuthError::SignIn(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_sign_in_message"),
            AuthError::BadAddress => (StatusCode::UNPROCESSABLE_ENTITY, "bad_address"),
            AuthError::BadSignatureLength => (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature"),
            AuthError::UnknownNonce => (StatusCode::UNAUTHORIZED, "unknown_nonce"),
            AuthError::NonceUsed => (StatusCode::UNAUTHORIZED, "nonce_used"),
            AuthError::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
            AuthError::Store(error) => {
                tracing::error!(%error, "store");
                return Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store did not answer; try again",
                );
            }
        };
        Problem::new(status, code, e.to_string())
    }
}

/// A JSON body, its rejection as a problem naming what is wrong.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(Problem::new(
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                "bad_body",
                rejection.body_text(),
            )),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, Problem> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "sign in and send `Authorization: Bearer <access token>`",
            )
        })
}

/// A Sign-In With Solana input for the wallet's `signIn` (single-use nonce).
#[utoipa::path(post, path = "/api/auth/challenge", tag = "auth",
    responses((status = 200, body = SignInInput), (status = 429, description = "Rate limited", body = ProblemBody)))]
pub async fn challenge(State(app): State<Arc<App>>) -> Result<Json<SignInInput>, Problem> {
    Ok(Json(app.auth.challenge(app.now()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyBody {
    /// The signing wallet's address (base58).
    address: String,
    /// The exact bytes the wallet signed, base64.
    signed_message: String,
    /// The ed25519 signature, base64.
    signature: String,
}

fn base64_field(field: &'static str, value: &str) -> Result<Vec<u8>, Problem> {
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_body",
                format!("`{field}` is not base64"),
            )
        })
}

/// Exchanges the wallet's signed sign-in message for tokens.
#[utoipa::path(post, path = "/api/auth/verify", tag = "auth", request_body = VerifyBody,
    responses(
        (status = 200, body = Tokens),
        (status = 401, description = "Wrong domain, URI, time, nonce or signature", body = ProblemBody),
        (status = 422, description = "Malformed", body = ProblemBody),
    ))]
pub async fn verify(
    State(app): State<Arc<App>>,
    Body(body): Body<VerifyBody>,
) -> Result<Json<Tokens>, Problem> {
    let message = base64_field("signedMessage", &body.signed_message)?;
    let signature = base64_field("signature", &body.signature)?;
    let tokens = app
        .auth
        .verify(&body.address, &message, &signature, app.now())
        .await?;
    Ok(Json(tokens))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

/// A new token pair for a live refresh token (which then stops working).
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = Tokens), (status = 401, description = "Unknown, used or expired", body = ProblemBody)))]
pub async fn refresh(
    State(app): State<Arc<App>>,
    Body(body): Body<RefreshBody>,
) -> Result<Json<Tokens>, Problem> {
    Ok(Json(
        app.auth.refresh(&body.refresh_token, app.now()).await?,
    ))
}

/// The signed-in wallet of a call, counted against that wallet's rate.
pub(crate) async fn signed_in(app: &App, headers: &HeaderMap) -> Result<String, Problem> {
    let wallet = app.auth.wallet(bearer(headers)?, app.now()).await?;
    app.limits.wallet(&wallet)?;
    Ok(wallet)
}

/// Ends the session of this access token.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, description = "Not signed in", body = ProblemBody)))]
pub async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<StatusCode, Problem> {
    signed_in(&app, &headers).await?;
    app.auth.sign_out(bearer(&headers)?, app.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub wallet: String,
}

/// The signed-in wallet.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, description = "Not signed in", body = ProblemBody)))]
pub async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Me>, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    Ok(Json(Me { wallet }))
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let store = app.store.ping().await.is_ok();
    let index = app.indexer.as_ref().map(|i| i.progress.borrow().clone());
    // an index that has never caught up, or whose last pass failed, serves stale jobs
    let index_ok = index
        .as_ref()
        .is_none_or(|p| p.caught_up && p.last_error.is_none());
    let ok = store && index_ok;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "store": { "ok": store },
        "index": index.map(|p| json!({
            "ok": index_ok,
            "slot": p.slot,
            "transactions": p.transactions,
            "caughtUp": p.caught_up,
            "lastError": p.last_error,
        })),
    });
    (status, Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    if let Some(indexer) = &app.indexer {
        let progress = indexer.progress.borrow().clone();
        app.metrics.index_slot.set(progress.slot as i64);
        app.metrics
            .index_transactions
            .set(progress.transactions as i64);
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &app.metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}
