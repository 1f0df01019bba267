//! The provisioner's HTTP server (axum), for operators and renters:
//! - `GET /metrics` (Prometheus) and `GET /healthz` (chain, websocket, engine and GPU health;
//!   503 when any fails), for the operator;
//! - `GET /rentals/{address}`: where to connect to a rental's instance (SSH, the terminal's
//!   websocket, forwarded ports, Jupyter without its secret);
//! - `GET /rentals/{address}/terminal`: the web terminal (a websocket, see [`crate::terminal`]);
//! - `POST /rentals/{address}/jupyter`: the rental's Jupyter URL and secret.
//!
//! The last two open only with a message the rental's renter signed for this endpoint
//! ([`calor_client::access`]), verified here against the renter the chain names: no other
//! service can let anyone in. Browsers' `Origin` must be this endpoint or one the operator
//! allows, so another site's page cannot ride a renter's wallet prompt.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use calor::state::RentalState;
use calor_client::access::{self, AccessAction, AccessError, Endpoint, Grant, NonceCache};
use calor_client::Pubkey;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::controller::Controller;
use crate::runtime::{Runtime, JUPYTER_PORT};
use crate::terminal::{self, Sessions};

/// What `/healthz` checks: the view was resynced recently (the chain answers), the websocket
/// is live, the engine answered its last call and no node's GPUs have failed.
pub struct Health {
    pub max_resync_age: Duration,
}

/// Who may open what: this endpoint as access messages must name it, the browser origins
/// allowed besides it, and the nonces already used.
pub struct Access {
    pub endpoint: Endpoint,
    pub allowed_origins: Vec<String>,
    pub nonces: Mutex<NonceCache>,
}

impl Access {
    pub fn new(endpoint: Endpoint, allowed_origins: Vec<String>) -> Self {
        Self {
            endpoint,
            allowed_origins,
            nonces: Mutex::new(NonceCache::new(unix_now())),
        }
    }

    /// A request without `Origin` is not a browser's and cannot carry a renter's session
    /// anyway; one with it must come from this endpoint or an allowed origin.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            None => true,
            Some(origin) => {
                origin == self.endpoint.uri || self.allowed_origins.iter().any(|a| a == origin)
            }
        }
    }

    /// Verifies a signed access message for `action` on `rental`, whose renter the chain says
    /// is `renter`, and spends its nonce.
    pub fn admit(
        &self,
        rental: &Pubkey,
        action: AccessAction,
        renter: &Pubkey,
        signed: &SignedAccess,
    ) -> Result<Grant, AccessError> {
        let signature = bs58::decode(&signed.signature)
            .into_vec()
            .ok()
            .and_then(|s| <[u8; 64]>::try_from(s).ok())
            .ok_or(AccessError::BadSignature)?;
        let expected = access::Expected {
            endpoint: &self.endpoint,
            rental,
            action,
            renter,
        };
        self.nonces.lock().expect("nonce lock").verify_once(
            &expected,
            signed.message.as_bytes(),
            &signature,
            unix_now(),
        )
    }
}

/// A signed access message as clients send it: the exact text and the wallet's signature in
/// base58.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAccess {
    pub message: String,
    pub signature: String,
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub struct App<R: Runtime> {
    pub controller: Arc<Controller<R>>,
    pub health: Health,
    pub access: Access,
    pub sessions: Sessions,
    pub shutdown: watch::Receiver<bool>,
}

/// Serves until `shutdown`, then waits (at most `drain`) for terminal sessions to close.
pub async fn serve<R: Runtime + 'static>(listener: TcpListener, app: Arc<App<R>>, drain: Duration) {
    let mut shutdown = app.shutdown.clone();
    let router = router(app.clone());
    let served = axum::serve(listener, router).with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    });
    if let Err(e) = served.await {
        tracing::warn!(error = %e, "http server failed");
    }
    app.sessions.drained(drain).await;
}

pub fn router<R: Runtime + 'static>(app: Arc<App<R>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<R>))
        .route("/healthz", get(healthz::<R>))
        .route("/rentals/{address}", get(rental::<R>))
        .route("/rentals/{address}/terminal", get(terminal_socket::<R>))
        .route(
            "/rentals/{address}/jupyter",
            post(jupyter::<R>).options(jupyter_preflight::<R>),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(app)
}

fn refusal(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(json!({ "code": code, "error": message.to_string() })),
    )
        .into_response()
}

async fn metrics<R: Runtime + 'static>(State(app): State<Arc<App<R>>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.controller.metrics.render(),
    )
        .into_response()
}

async fn healthz<R: Runtime + 'static>(State(app): State<Arc<App<R>>>) -> Response {
    let c = &app.controller;
    let resync_age = c.view.read().await.last_resync.map(|t| t.elapsed());
    let chain = resync_age.is_some_and(|age| age <= app.health.max_resync_age);
    let websocket = c.metrics.ws_connected();
    let engine = c.metrics.engine_up.get() == 1;
    let faults = c.gpu_faults().await;
    let gpu_faults: serde_json::Map<String, serde_json::Value> = c
        .cluster
        .nodes
        .iter()
        .filter_map(|n| {
            faults
                .get(&n.address)
                .map(|why| (n.index.to_string(), why.clone().into()))
        })
        .collect();
    let ok = chain && websocket && engine && gpu_faults.is_empty();
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "chain": { "ok": chain, "last_resync_secs_ago": resync_age.map(|a| a.as_secs_f64()) },
        "websocket": { "ok": websocket },
        "engine": { "ok": engine },
        "gpus": { "ok": gpu_faults.is_empty(), "faults": gpu_faults },
        "terminal_sessions": app.sessions.open(),
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

fn bad_address() -> Response {
    refusal(
        StatusCode::BAD_REQUEST,
        "bad_address",
        "not a rental address",
    )
}

/// Where to connect to a rental's instance. The Jupyter URL comes without its secret: that
/// takes a signed request.
async fn rental<R: Runtime + 'static>(
    State(app): State<Arc<App<R>>>,
    Path(address): Path<String>,
) -> Response {
    let Ok(rental) = address.parse::<Pubkey>() else {
        return bad_address();
    };
    let Some(state) = app.controller.rental(&rental).await else {
        let why = Unreachable::UnknownRental;
        return refusal(StatusCode::NOT_FOUND, why.code(), why.reason());
    };
    let host = app.controller.cluster.public_host.clone();
    let instance = app.controller.instance(&rental).await;
    let port = |inside: u16| instance.as_ref().and_then(|i| i.host_port(inside));
    let ssh_port = instance.as_ref().and_then(|i| i.ssh_port());
    let forwarded: Vec<_> = state
        .forwarded_ports()
        .map(|p| {
            let host_port = port(p.port);
            json!({
                "port": p.port,
                "protocol": if p.http { "http" } else { "tcp" },
                "host": host,
                "host_port": host_port,
                "url": host_port.filter(|_| p.http).map(|hp| format!("http://{host}:{hp}/")),
            })
        })
        .collect();
    let base = &app.access.endpoint.uri;
    let body = json!({
        "rental": rental.to_string(),
        "state": format!("{:?}", state.state()),
        "renter": state.renter.to_string(),
        "ssh_host": ssh_port.map(|_| host.clone()),
        "ssh_port": ssh_port,
        "ssh_command": ssh_port.filter(|_| state.has_ssh_key()).map(|p| format!("ssh -p {p} root@{host}")),
        "access_endpoint": base,
        "terminal_url": app.access.endpoint.websocket_url(&format!("/rentals/{rental}/terminal")),
        "forwarded_ports": forwarded,
        "jupyter": port(JUPYTER_PORT).map(|hp| json!({
            "host": host,
            "host_port": hp,
            "url": format!("http://{host}:{hp}/lab"),
        })),
    });
    Json(body).into_response()
}

async fn terminal_socket<R: Runtime + 'static>(
    State(app): State<Arc<App<R>>>,
    Path(address): Path<String>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !app.access.origin_allowed(&headers) {
        return refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this page's origin may not open terminals here",
        );
    }
    let Ok(rental) = address.parse::<Pubkey>() else {
        return bad_address();
    };
    upgrade
        .max_message_size(terminal::MAX_MESSAGE)
        .on_upgrade(move |socket| terminal::run(app, rental, socket))
}

/// Why a rental's instance cannot be reached here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    UnknownRental,
    NotRunningHere,
}

impl Unreachable {
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownRental => "unknown_rental",
            Self::NotRunningHere => "not_running_here",
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::UnknownRental => "unknown rental",
            Self::NotRunningHere => "the rental is not running on this provider",
        }
    }
}

/// The rental's renter if its instance can be reached here now. A rental whose `start` was
/// just recorded may still show Provisioning here for a moment (the view follows the chain's
/// notifications): that wait is allowed for.
pub async fn reachable_renter<R: Runtime + 'static>(
    app: &App<R>,
    rental: &Pubkey,
) -> Result<Pubkey, Unreachable> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let state = app.controller.rental(rental).await;
        let Some(state) = state else {
            return Err(Unreachable::UnknownRental);
        };
        let running_here = app
            .controller
            .instance(rental)
            .await
            .is_some_and(|i| i.running);
        match state.state() {
            RentalState::Running if running_here => return Ok(state.renter),
            RentalState::Provisioning | RentalState::Running
                if std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            _ => return Err(Unreachable::NotRunningHere),
        }
    }
}

/// The CORS answer for an allowed browser origin (the web app asks for Jupyter's secret from
/// its own page); nothing for others, so their browsers refuse to read the answer.
fn allow_origin(access: &Access, headers: &HeaderMap, mut response: Response) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if access.origin_allowed(headers) {
            let h = response.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(header::VARY, header::HeaderValue::from_static("origin"));
        }
    }
    response
}

async fn jupyter_preflight<R: Runtime + 'static>(
    State(app): State<Arc<App<R>>>,
    headers: HeaderMap,
) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::HeaderValue::from_static("POST"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        header::HeaderValue::from_static("600"),
    );
    allow_origin(&app.access, &headers, response)
}

/// The rental's Jupyter URL with its secret, for a message its renter signed.
async fn jupyter<R: Runtime + 'static>(
    State(app): State<Arc<App<R>>>,
    Path(address): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let response = jupyter_secret(&app, &address, &headers, body).await;
    allow_origin(&app.access, &headers, response)
}

async fn jupyter_secret<R: Runtime + 'static>(
    app: &App<R>,
    address: &str,
    headers: &HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !app.access.origin_allowed(headers) {
        return refusal(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this page's origin may not open Jupyter here",
        );
    }
    let Ok(rental) = address.parse::<Pubkey>() else {
        return bad_address();
    };
    let signed: SignedAccess = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("expected {{\"message\", \"signature\"}}: {e}"),
            )
        }
    };
    let renter = match reachable_renter(app, &rental).await {
        Ok(r) => r,
        Err(why) => {
            let status = match why {
                Unreachable::UnknownRental => StatusCode::NOT_FOUND,
                Unreachable::NotRunningHere => StatusCode::CONFLICT,
            };
            return refusal(status, why.code(), why.reason());
        }
    };
    if let Err(e) = app
        .access
        .admit(&rental, AccessAction::Jupyter, &renter, &signed)
    {
        tracing::info!(%rental, reason = e.code(), "jupyter access refused");
        return refusal(StatusCode::UNAUTHORIZED, e.code(), e);
    }
    let host = &app.controller.cluster.public_host;
    let Some(host_port) = app
        .controller
        .instance(&rental)
        .await
        .and_then(|i| i.host_port(JUPYTER_PORT))
    else {
        return refusal(
            StatusCode::CONFLICT,
            "not_running_here",
            "the rental's Jupyter port is not published",
        );
    };
    let token = app.controller.jupyter_token(&rental);
    tracing::info!(%rental, "jupyter secret given to the renter");
    Json(json!({
        "url": format!("http://{host}:{host_port}/lab?token={token}"),
        "base_url": format!("http://{host}:{host_port}/"),
        "token": token,
    }))
    .into_response()
}

/// A refusal as a websocket close reason: its code, then why.
pub fn access_refusal(e: &AccessError) -> String {
    format!("{}: {e}", e.code())
}
