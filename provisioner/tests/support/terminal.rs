//! A web-terminal client as a browser or the CLI would be one: a real websocket to the
//! provisioner, an access message signed by a wallet key.
#![allow(dead_code)]
use std::time::{Duration, Instant};

use calor_client::access::{AccessAction, Endpoint};
use calor_client::Pubkey;
use futures_util::{SinkExt, StreamExt};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The provisioner at `port` as access messages name it (its default public URL).
pub fn endpoint(port: u16) -> Endpoint {
    Endpoint::from_url(&format!("http://127.0.0.1:{port}")).unwrap()
}

pub use calor_migrations::terminal::sign_access as signed_as;

/// The renter's own fresh, two-minute message.
pub fn signed(
    renter: &Keypair,
    port: u16,
    rental: &Pubkey,
    action: AccessAction,
) -> (String, String) {
    signed_as(
        renter,
        &renter.pubkey(),
        &endpoint(port),
        rental,
        action,
        0,
        120,
    )
}

pub struct Terminal {
    socket: Socket,
    /// Terminal output received so far and not yet consumed by `read_until`.
    pending: Vec<u8>,
}

/// How a session ended: the close code and reason the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl Terminal {
    /// Opens the websocket (no access message yet); `Err` with the HTTP status when the
    /// handshake is refused.
    pub async fn connect(
        port: u16,
        rental: &Pubkey,
        origin: Option<&str>,
    ) -> Result<Terminal, u16> {
        let mut request = format!("ws://127.0.0.1:{port}/rentals/{rental}/terminal")
            .into_client_request()
            .unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Terminal {
                socket,
                pending: Vec::new(),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("terminal websocket: {e}"),
        }
    }

    /// Sends the access message and waits for `ready` (the session's name) or the close.
    pub async fn authenticate(
        &mut self,
        (message, signature): &(String, String),
        size: Option<(u16, u16)>,
    ) -> Result<String, Closed> {
        let mut auth =
            serde_json::json!({ "type": "auth", "message": message, "signature": signature });
        if let Some((cols, rows)) = size {
            auth["cols"] = cols.into();
            auth["rows"] = rows.into();
        }
        self.socket
            .send(Message::Text(auth.to_string().into()))
            .await
            .unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .expect("an answer to the access message")
            {
                Some(Ok(Message::Text(text))) => {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(v["type"], "ready", "{text}");
                    return Ok(v["session"].as_str().unwrap().to_string());
                }
                Some(Ok(Message::Close(frame))) => return Err(closed(frame)),
                Some(Ok(_)) => {}
                other => panic!("no answer to the access message: {other:?}"),
            }
        }
    }

    /// Connects and authenticates; panics unless the session opens.
    pub async fn open(port: u16, rental: &Pubkey, signed: &(String, String)) -> Terminal {
        let mut t = Terminal::connect(port, rental, None)
            .await
            .expect("handshake");
        t.authenticate(signed, Some((80, 24)))
            .await
            .expect("session opens");
        t
    }

    pub async fn send(&mut self, input: &str) {
        self.socket
            .send(Message::Binary(input.as_bytes().to_vec().into()))
            .await
            .unwrap();
    }

    pub async fn resize(&mut self, cols: u16, rows: u16) {
        let control = serde_json::json!({ "type": "resize", "cols": cols, "rows": rows });
        self.socket
            .send(Message::Text(control.to_string().into()))
            .await
            .unwrap();
    }

    /// Reads terminal output until it contains `needle`; returns everything up to and
    /// including it (the rest stays for the next read).
    pub async fn read_until(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            if let Some(at) = find(&self.pending, needle.as_bytes()) {
                let rest = self.pending.split_off(at + needle.len());
                let got = std::mem::replace(&mut self.pending, rest);
                return String::from_utf8_lossy(&got).into_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Ok(Some(Ok(Message::Binary(bytes)))) => self.pending.extend_from_slice(&bytes),
                Ok(Some(Ok(Message::Close(frame)))) => panic!(
                    "closed ({:?}) before {needle:?}; output: {}",
                    closed(frame),
                    String::from_utf8_lossy(&self.pending)
                ),
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("socket ended before {needle:?}: {other:?}"),
                Err(_) => panic!(
                    "no {needle:?} within {within:?}; output: {}",
                    String::from_utf8_lossy(&self.pending)
                ),
            }
        }
    }

    /// Waits for the server's close frame (output before it is dropped).
    pub async fn closed(&mut self, within: Duration) -> Closed {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return closed(frame),
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) => {
                    return Closed {
                        code: 1006,
                        reason: "connection dropped without a close".into(),
                    }
                }
                Err(_) => panic!("not closed within {within:?}"),
            }
        }
    }

    /// Waits for the server's keep-alive ping (output meanwhile is kept for `read_until`).
    pub async fn wait_ping(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => return,
                Ok(Some(Ok(Message::Binary(bytes)))) => self.pending.extend_from_slice(&bytes),
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("socket ended before a ping: {other:?}"),
                Err(_) => panic!("no ping within {within:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

fn closed(frame: Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> Closed {
    match frame {
        Some(f) => Closed {
            code: u16::from(f.code),
            reason: f.reason.to_string(),
        },
        None => Closed {
            code: u16::from(CloseCode::Status),
            reason: String::new(),
        },
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
