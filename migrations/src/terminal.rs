//! A development client for a rental's web terminal and Jupyter (`calor-dev terminal`,
//! `calor-dev jupyter`): it signs the access message with a key file, as a wallet would, and
//! talks to the provider's provisioner directly. The browser does the same in the web app.
use std::io::{IsTerminal, Write};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use calor_client::access::{AccessAction, AccessRequest, Endpoint, MAX_VALIDITY_SECS};
use calor_client::Pubkey;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio_tungstenite::tungstenite::Message;

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

/// The access message for `action` on `rental` at the provisioner `endpoint`, signed by
/// `wallet` now and valid two minutes: `{"message", "signature"}`.
pub fn signed_access(
    wallet: &Keypair,
    endpoint: &str,
    rental: &Pubkey,
    action: AccessAction,
) -> Result<Value> {
    let endpoint = Endpoint::from_url(endpoint)
        .with_context(|| format!("{endpoint:?} is not an http(s) URL"))?;
    let validity = MAX_VALIDITY_SECS.min(120);
    let (text, signature) = sign_access(
        wallet,
        &wallet.pubkey(),
        &endpoint,
        rental,
        action,
        0,
        validity,
    );
    Ok(json!({ "message": text, "signature": signature }))
}

/// The rental's Jupyter URL, secret included.
pub async fn jupyter(wallet: &Keypair, endpoint: &str, rental: &Pubkey) -> Result<String> {
    let body = signed_access(wallet, endpoint, rental, AccessAction::Jupyter)?;
    let url = format!(
        "{}/rentals/{rental}/jupyter",
        endpoint.trim_end_matches('/')
    );
    let answer = post_json(&url, &body).await?;
    answer["url"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("the provisioner refused: {answer}"))
}

/// A minimal HTTP/1.1 POST (the development tools carry no HTTP client).
async fn post_json(url: &str, body: &Value) -> Result<Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url
        .strip_prefix("http://")
        .context("only http:// provisioners are reachable from this tool")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(authority).await?;
    stream
        .write_all(
            format!(
                "POST /{path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (_, json) = answer.split_once("\r\n\r\n").context("no HTTP answer")?;
    serde_json::from_str(json).with_context(|| format!("not JSON: {json}"))
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

/// Opens the rental's web terminal. With `run`, types it (then `exit`) and prints what the
/// terminal shows; otherwise the session is this terminal's, in raw mode, until the shell
/// exits. Returns the close code and reason.
pub async fn terminal(
    wallet: &Keypair,
    endpoint: &str,
    rental: &Pubkey,
    run: Option<&str>,
) -> Result<(u16, String)> {
    let url = Endpoint::from_url(endpoint)
        .context("the provisioner's endpoint must be an http(s) URL")?
        .websocket_url(&format!("/rentals/{rental}/terminal"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .context("connecting to the terminal")?;
    let (rows, cols) = stty(&["size"])
        .and_then(|size| {
            let mut it = size.split_whitespace().map(|n| n.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((24, 80));
    let mut auth = signed_access(wallet, endpoint, rental, AccessAction::Terminal)?;
    auth["type"] = "auth".into();
    auth["cols"] = cols.into();
    auth["rows"] = rows.into();
    socket.send(Message::Text(auth.to_string().into())).await?;

    let (input_tx, mut input) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    let mut raw = None;
    let mut ready = false;
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) if !ready => {
                    let v: Value = serde_json::from_str(&text).unwrap_or_default();
                    if v["type"] != "ready" {
                        bail!("unexpected first answer: {text}");
                    }
                    ready = true;
                    match run {
                        Some(command) => {
                            socket.send(Message::Binary(format!("{command}\nexit\n").into_bytes().into())).await?;
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
                        None => bail!("stdin is not a terminal: use --run COMMAND"),
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    stdout.write_all(&bytes)?;
                    stdout.flush()?;
                }
                Some(Ok(Message::Close(frame))) => {
                    drop(raw);
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((1005, String::new()));
                    return Ok((code, reason));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    drop(raw);
                    bail!("terminal connection lost: {e}");
                }
                None => {
                    drop(raw);
                    bail!("terminal connection closed without a reason");
                }
            },
            Some(bytes) = input.recv() => {
                socket.send(Message::Binary(bytes.into())).await?;
            }
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}
