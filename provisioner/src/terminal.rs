//! The web terminal: a websocket that runs a login shell with a TTY in a rental's container.
//!
//! Protocol (docs/provisioner.md, "Web terminal"):
//! 1. The client's first message, within [`AUTH_WINDOW`], is text:
//!    `{"type":"auth","message":"<signed text>","signature":"<base58>","cols":120,"rows":40}`
//!    (`cols`/`rows` optional): an access message the rental's renter signed for this
//!    endpoint ([`calor_client::access`]). Nothing is started before it verifies.
//! 2. The server answers `{"type":"ready","session":"<id>"}`; from then on binary messages are
//!    the terminal's bytes both ways, and text messages from the client are controls:
//!    `{"type":"resize","cols":N,"rows":M}`.
//! 3. The server pings every [`PING_EVERY`]; a client silent for [`IDLE_LIMIT`] is closed.
//!
//! Close codes, each with a reason: 1000 the shell exited, 1001 the provisioner is shutting
//! down, 1011 the engine failed, 1012 the instance stopped and is being restarted, 1013 too
//! many sessions here (try later), 4000 the rental ended, 4001 keep-alive lost, 4003 access
//! refused (the reason names which check failed), 4004 the rental is unknown, 4008 no access
//! message in time, 4009 the rental is not running here, 4400 a malformed message.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use calor::state::RentalState;
use calor_client::access::AccessAction;
use calor_client::Pubkey;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http::{access_refusal, reachable_renter, App, SignedAccess, Unreachable};
use crate::runtime::Runtime;

pub const AUTH_WINDOW: Duration = Duration::from_secs(10);
pub const PING_EVERY: Duration = Duration::from_secs(15);
pub const IDLE_LIMIT: Duration = Duration::from_secs(45);
/// The largest message a client may send (a paste of 64 KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Sessions one provisioner holds at once, open or waiting for their access message: beyond
/// it a connection is closed at once (1013), so unauthenticated sockets cannot pile up.
pub const MAX_SESSIONS: usize = 512;
/// How often a session looks whether its rental still runs here.
const RENTAL_CHECK: Duration = Duration::from_secs(1);

pub const CLOSE_SHELL_EXITED: u16 = 1000;
pub const CLOSE_SHUTTING_DOWN: u16 = 1001;
pub const CLOSE_ENGINE: u16 = 1011;
pub const CLOSE_INSTANCE_RESTARTING: u16 = 1012;
pub const CLOSE_TRY_LATER: u16 = 1013;
pub const CLOSE_RENTAL_ENDED: u16 = 4000;
pub const CLOSE_IDLE: u16 = 4001;
pub const CLOSE_REFUSED: u16 = 4003;
pub const CLOSE_UNKNOWN_RENTAL: u16 = 4004;
pub const CLOSE_NO_AUTH: u16 = 4008;
pub const CLOSE_NOT_RUNNING: u16 = 4009;
pub const CLOSE_MALFORMED: u16 = 4400;

/// The open sessions, counted for `/healthz` and for a graceful stop.
#[derive(Default)]
pub struct Sessions {
    open: AtomicUsize,
    next: AtomicU64,
    started: u64,
}

impl Sessions {
    pub fn new() -> Self {
        Self {
            started: crate::http::unix_now() as u64,
            ..Default::default()
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A name for a new session, unique on this host (letters and digits only: it names a
    /// file in the container).
    fn name(&self) -> String {
        format!(
            "{:x}n{}",
            self.started,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Waits until every session has closed, at most `limit`.
    pub async fn drained(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.open() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

struct OpenGuard<'a>(&'a Sessions);
impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum ClientControl {
    Auth {
        message: String,
        signature: String,
        cols: Option<u16>,
        rows: Option<u16>,
    },
    Resize {
        cols: u16,
        rows: u16,
    },
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    // A close reason may have at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame {
        code,
        reason: reason[..end].into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // Let the client answer the close before the connection drops.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// One terminal session, from the access message to the close.
pub async fn run<R: Runtime + 'static>(app: Arc<App<R>>, rental: Pubkey, mut socket: WebSocket) {
    let before = app.sessions.open.fetch_add(1, Ordering::Relaxed);
    let _open = OpenGuard(&app.sessions);
    if before >= MAX_SESSIONS {
        return close(
            socket,
            CLOSE_TRY_LATER,
            "too many terminal sessions on this provider: try again later",
        )
        .await;
    }

    let first = tokio::time::timeout(AUTH_WINDOW, socket.recv()).await;
    let (signed, size) = match first {
        Err(_) => return close(socket, CLOSE_NO_AUTH, "no access message within 10 s").await,
        Ok(None | Some(Err(_))) => return,
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(&text) {
            Ok(ClientControl::Auth {
                message,
                signature,
                cols,
                rows,
            }) => (SignedAccess { message, signature }, cols.zip(rows)),
            _ => {
                return close(
                    socket,
                    CLOSE_MALFORMED,
                    "the first message must be {\"type\":\"auth\",\"message\",\"signature\"}",
                )
                .await
            }
        },
        Ok(Some(Ok(_))) => {
            return close(
                socket,
                CLOSE_MALFORMED,
                "the first message must be the access message, as text",
            )
            .await
        }
    };
    let renter = match reachable_renter(&app, &rental).await {
        Ok(r) => r,
        Err(why @ Unreachable::UnknownRental) => {
            return close(socket, CLOSE_UNKNOWN_RENTAL, why.reason()).await
        }
        Err(why @ Unreachable::NotRunningHere) => {
            return close(socket, CLOSE_NOT_RUNNING, why.reason()).await
        }
    };
    if let Err(e) = app
        .access
        .admit(&rental, AccessAction::Terminal, &renter, &signed)
    {
        tracing::info!(%rental, reason = e.code(), "terminal refused");
        return close(socket, CLOSE_REFUSED, &access_refusal(&e)).await;
    }

    let session = app.sessions.name();
    let runtime = &app.controller.runtime;
    let exec = match runtime.open_shell(&rental, &session).await {
        Ok(exec) => exec,
        Err(e) => {
            tracing::warn!(%rental, error = %e, "terminal: the engine could not start a shell");
            return close(
                socket,
                CLOSE_ENGINE,
                &format!("the engine could not start a shell: {e}"),
            )
            .await;
        }
    };
    if let Some((cols, rows)) = size {
        let _ = runtime.resize_shell(&exec.id, cols, rows).await;
    }
    tracing::info!(%rental, %session, "terminal opened");
    let ready = serde_json::json!({ "type": "ready", "session": session }).to_string();
    let (code, reason) = if socket.send(Message::Text(ready.into())).await.is_err() {
        (None, String::new())
    } else {
        pump(&app, &rental, &mut socket, exec).await
    };
    tracing::info!(%rental, %session, code, %reason, "terminal closed");
    if let Some(code) = code {
        close(socket, code, &reason).await;
    }
    if let Err(e) = runtime.hang_up(&rental, &session).await {
        tracing::debug!(%rental, %session, error = %e, "terminal: hang-up not delivered (the instance may be gone)");
    }
}

/// Moves bytes both ways until one side ends; the close to send, if the client is still there.
async fn pump<R: Runtime + 'static>(
    app: &App<R>,
    rental: &Pubkey,
    socket: &mut WebSocket,
    exec: crate::engine::AttachedExec,
) -> (Option<u16>, String) {
    let (mut shell_out, mut shell_in) = tokio::io::split(exec.stream);
    let mut shutdown = app.shutdown.clone();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut check = tokio::time::interval(RENTAL_CHECK);
    if *shutdown.borrow_and_update() {
        return (
            Some(CLOSE_SHUTTING_DOWN),
            "the provisioner is shutting down: reconnect in a moment".into(),
        );
    }
    let mut heard = Instant::now();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            read = shell_out.read(&mut buf) => match read {
                Ok(0) | Err(_) => return shell_ended(app, rental).await,
                Ok(n) => {
                    if socket.send(Message::Binary(buf[..n].to_vec().into())).await.is_err() {
                        return (None, "client gone".into());
                    }
                }
            },
            message = socket.recv() => {
                heard = Instant::now();
                match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return (None, "client closed".into()),
                    Some(Ok(Message::Binary(bytes))) => {
                        if shell_in.write_all(&bytes).await.is_err() {
                            return (Some(CLOSE_SHELL_EXITED), "the shell exited".into());
                        }
                    }
                    Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                        Ok(ClientControl::Resize { cols, rows }) if cols > 0 && rows > 0 => {
                            if let Err(e) = app.controller.runtime.resize_shell(&exec.id, cols, rows).await {
                                tracing::debug!(error = %e, "terminal resize failed");
                            }
                        }
                        _ => return (Some(CLOSE_MALFORMED), "a text message must be {\"type\":\"resize\",\"cols\",\"rows\"} with sizes above 0".into()),
                    },
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                }
            },
            _ = ping.tick() => {
                if heard.elapsed() > IDLE_LIMIT {
                    return (Some(CLOSE_IDLE), format!("no answer to pings for {} s", IDLE_LIMIT.as_secs()));
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return (None, "client gone".into());
                }
            },
            _ = check.tick() => {
                if !still_running(app, rental).await {
                    return (Some(CLOSE_RENTAL_ENDED), "the rental ended".into());
                }
            },
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    return (Some(CLOSE_SHUTTING_DOWN), "the provisioner is shutting down: reconnect in a moment".into());
                }
            },
        }
    }
}

async fn still_running<R: Runtime + 'static>(app: &App<R>, rental: &Pubkey) -> bool {
    let state = app.controller.rental(rental).await.map(|r| r.state());
    state == Some(RentalState::Running)
        && app
            .controller
            .instance(rental)
            .await
            .is_some_and(|i| i.running)
}

/// Why the shell's stream ended: the shell exited (its instance still runs), the rental ended,
/// or the instance stopped and is being brought back.
async fn shell_ended<R: Runtime + 'static>(app: &App<R>, rental: &Pubkey) -> (Option<u16>, String) {
    let instance_runs =
        matches!(app.controller.runtime.inspect(rental).await, Ok(Some(i)) if i.running);
    if instance_runs {
        (Some(CLOSE_SHELL_EXITED), "the shell exited".into())
    } else if ends_soon(app, rental).await {
        (Some(CLOSE_RENTAL_ENDED), "the rental ended".into())
    } else {
        (
            Some(CLOSE_INSTANCE_RESTARTING),
            "the instance stopped and is being restarted: reconnect in a moment".into(),
        )
    }
}

/// Whether the rental stops running here within a moment: at its end the instance is stopped
/// (which ends every shell) before the chain and the instance list say so.
async fn ends_soon<R: Runtime + 'static>(app: &App<R>, rental: &Pubkey) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !still_running(app, rental).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
