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
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::json;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Auth, AuthError};
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
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("calor_api");
        let requests = Family::<RequestLabel, Counter>::default();
        registry.register("requests", "HTTP requests answered", requests.clone());
        Self { registry, requests }
    }
}

pub struct App {
    pub auth: Auth,
    pub store: Store,
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
    let mut cors = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    if let Some(origin) = app_origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        cors = cors.allow_origin(origin);
    }
    Router::new()
        .route("/api/auth/challenge", post(challenge))
        .route("/api/auth/verify", post(verify))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            limit_by_address,
        ))
        .layer(axum::middleware::from_fn_with_state(app.clone(), count))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
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
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }
}

impl From<Limited> for Problem {
    fn from(limited: Limited) -> Self {
        let seconds = limited.retry_after.as_secs();
        Problem {
            retry_after: Some(seconds),
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
        let body = json!({
            "type": format!("https://calor.dev/problems/{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
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
pub struct Body<T>(T);

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

async fn challenge(State(app): State<Arc<App>>) -> Result<impl IntoResponse, Problem> {
    Ok(Json(app.auth.challenge(app.now()).await?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyBody {
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

async fn verify(
    State(app): State<Arc<App>>,
    Body(body): Body<VerifyBody>,
) -> Result<impl IntoResponse, Problem> {
    let message = base64_field("signedMessage", &body.signed_message)?;
    let signature = base64_field("signature", &body.signature)?;
    let tokens = app
        .auth
        .verify(&body.address, &message, &signature, app.now())
        .await?;
    Ok(Json(tokens))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
    State(app): State<Arc<App>>,
    Body(body): Body<RefreshBody>,
) -> Result<impl IntoResponse, Problem> {
    Ok(Json(
        app.auth.refresh(&body.refresh_token, app.now()).await?,
    ))
}

/// The signed-in wallet of a call, counted against that wallet's rate.
async fn signed_in(app: &App, headers: &HeaderMap) -> Result<String, Problem> {
    let wallet = app.auth.wallet(bearer(headers)?, app.now()).await?;
    app.limits.wallet(&wallet)?;
    Ok(wallet)
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<StatusCode, Problem> {
    signed_in(&app, &headers).await?;
    app.auth.sign_out(bearer(&headers)?, app.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<impl IntoResponse, Problem> {
    let wallet = signed_in(&app, &headers).await?;
    Ok(Json(json!({ "wallet": wallet })))
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let store = app.store.ping().await.is_ok();
    let status = if store {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if store { "ok" } else { "degraded" },
        "store": { "ok": store },
    });
    (status, Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
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
