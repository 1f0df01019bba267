//! The web terminal and Jupyter of a job, reached the way a browser reaches them: an access
//! message signed by the renter's key (`calor_client::access`), then the provider's
//! provisioner. `calor terminal` and `calor-dev terminal` use this module.
use std::io::{IsTerminal, Write};
use std::process::Command;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio_tungstenite::tungstenite::Message;

use super::SdkError;
use crate::access::{AccessAction, AccessRequest, Endpoint, MAX_VALIDITY_SECS};

/// An access message for `action` on `rental` at `endpoint` naming `renter`, signed by
/// `signer` (the renter's key; another one only to test refusals), issued `issued_ago` seconds
/// ago and valid for `validity` seconds: the text and its base58 signature.
pub fn sign_access(
    signer: &Keypair,
    renter: &Pubkey,
    endpoint: &Endpoint,
    rental: &Pubkey,
    action: AccessAction,
    issued_ago: i64,
    validity: i64,
) -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let issued_at = now - issued_ago;
    let text = AccessRequest {
        endpoint: endpoint.clone(),
        renter: *renter,
        rental: *rental,
        action,
        // base58 of a fresh key: 24 random letters and digits
        nonce: Keypair::new().pubkey().to_string()[..24].to_string(),
        issued_at,
        expires_at: issued_at + validity,
    }
    .text();
    let signature = signer.sign_message(text.as_bytes()).to_string();
    (text, signature)
}

fn endpoint_of(endpoint: &str) -> Result<Endpoint, SdkError> {
    Endpoint::from_url(endpoint)
        .ok_or_else(|| SdkError::Invalid(format!("{endpoint:?} is not an http(s) URL")))
}

/// The access message for `action` on `rental` at the provisioner `endpoint`, signed by
/// `wallet` now and valid two minutes: `{"message", "signature"}`.
pub fn signed_access(
    wallet: &Keypair,
    endpoint: &str,
    rental: &Pubkey,
    action: AccessAction,
) -> Result<Value, SdkError> {
    let validity = MAX_VALIDITY_SECS.min(120);
    let (text, signature) = sign_access(
        wallet,
        &wallet.pubkey(),
        &endpoint_of(endpoint)?,
        rental,
        action,
        0,
        validity,
    );
    Ok(json!({ "message": text, "signature": signature }))
}

/// The rental's Jupyter URL, secret included (the provider gives it for a signed request).
pub async fn jupyter(
    wallet: &Keypair,
    endpoint: &str,
    rental: &Pubkey,
) -> Result<String, SdkError> {
    let body = signed_access(wallet, endpoint, rental, AccessAction::Jupyter)?;
    let url = format!(
        "{}/rentals/{rental}/jupyter",
        endpoint.trim_end_matches('/')
    );
    let failed = |message: String| SdkError::Http {
        what: format!("the provider at {endpoint}"),
        message,
    };
    let answer: Value = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?
        .json()
        .await
        .map_err(|e| failed(e.to_string()))?;
    answer["url"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| failed(format!("refused: {answer}")))
}

/// Restores the terminal's settings when dropped.
struct RawMode(String);

impl RawMode {
    fn enter() -> Option<RawMode> {
        let saved = stty(&["-g"])?;
        stty(&["raw", "-echo"])?;
        Some(RawMode(saved.trim().to_string()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = stty(&[&self.0]);
    }
}

fn stty(args: &[&str]) -> Option<String> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let out = Command::new("stty").args(args).stdin(tty).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// This terminal's size as (columns, rows); 80×24 when it has none.
fn size() -> (u16, u16) {
    stty(&["size"])
        .and_then(|size| {
            let mut it = size.split_whitespace().map(|n| n.parse::<u16>().ok());
            let rows = it.next()??;
            let cols = it.next()??;
            Some((cols, rows))
        })
        .unwrap_or((80, 24))
}

/// How a terminal session ended: the close code and reason the provider sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// Opens the rental's web terminal. With `run`, types it (then `exit`) and writes what the
/// terminal shows to stdout; otherwise the session is this terminal's, in raw mode and
/// following its size, until the shell exits.
pub async fn terminal(
    wallet: &Keypair,
    endpoint: &str,
    rental: &Pubkey,
    run: Option<&str>,
) -> Result<Closed, SdkError> {
    let lost = |message: String| SdkError::Http {
        what: format!("the terminal at {endpoint}"),
        message,
    };
    let url = endpoint_of(endpoint)?.websocket_url(&format!("/rentals/{rental}/terminal"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| lost(e.to_string()))?;
    let (cols, rows) = size();
    let mut auth = signed_access(wallet, endpoint, rental, AccessAction::Terminal)?;
    auth["type"] = "auth".into();
    auth["cols"] = cols.into();
    auth["rows"] = rows.into();
    socket
        .send(Message::Text(auth.to_string().into()))
        .await
        .map_err(|e| lost(e.to_string()))?;

    let (input_tx, mut input) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let mut resized = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
        .map_err(|e| lost(e.to_string()))?;
    let mut raw = None;
    let mut ready = false;
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) if !ready => {
                    let v: Value = serde_json::from_str(&text).unwrap_or_default();
                    if v["type"] != "ready" {
                        return Err(lost(format!("unexpected first answer: {text}")));
                    }
                    ready = true;
                    match run {
                        Some(command) => {
                            let typed = format!("{command}\nexit\n").into_bytes();
                            socket.send(Message::Binary(typed.into())).await.map_err(|e| lost(e.to_string()))?;
                        }
                        None if std::io::stdin().is_terminal() => {
                            raw = RawMode::enter();
                            let tx = input_tx.clone();
                            std::thread::spawn(move || {
                                use std::io::Read;
                                let mut buf = [0u8; 1024];
                                let mut stdin = std::io::stdin();
                                while let Ok(n) = stdin.read(&mut buf) {
                                    if n == 0 || tx.blocking_send(buf[..n].to_vec()).is_err() {
                                        break;
                                    }
                                }
                            });
                        }
                        None => return Err(SdkError::Invalid("stdin is not a terminal: pass a command to run".into())),
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let _ = stdout.write_all(&bytes);
                    let _ = stdout.flush();
                }
                Some(Ok(Message::Close(frame))) => {
                    drop(raw);
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Ok(Closed { code, reason });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    drop(raw);
                    return Err(lost(format!("connection lost: {e}")));
                }
                None => {
                    drop(raw);
                    return Err(lost("closed without a reason".into()));
                }
            },
            Some(bytes) = input.recv() => {
                socket.send(Message::Binary(bytes.into())).await.map_err(|e| lost(e.to_string()))?;
            }
            Some(()) = resized.recv() => {
                let (cols, rows) = size();
                let control = json!({ "type": "resize", "cols": cols, "rows": rows });
                socket.send(Message::Text(control.to_string().into())).await.map_err(|e| lost(e.to_string()))?;
            }
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
