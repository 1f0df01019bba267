//! A small HTTP/1.1 server for operators and renters: `/metrics` (Prometheus), `/healthz`
//! (chain, websocket, engine and GPU health, as JSON; 503 when any fails) and
//! `/rentals/<address>` (where to SSH into a rental's instance, as JSON). GET only, one
//! request per connection.
use std::sync::Arc;
use std::time::Duration;

use calor_client::Pubkey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::controller::Controller;
use crate::runtime::Runtime;

/// What `/healthz` checks: the view was resynced recently (the chain answers), the websocket
/// is live, the engine answered its last call and no node's GPUs have failed.
pub struct Health {
    pub max_resync_age: Duration,
}

pub async fn serve<R: Runtime + 'static>(
    listener: TcpListener,
    controller: Arc<Controller<R>>,
    health: Health,
    mut shutdown: watch::Receiver<bool>,
) {
    let health = Arc::new(health);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => { tracing::warn!(error = %e, "http accept failed"); continue; }
            },
            _ = shutdown.changed() => return,
        };
        let controller = controller.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await
            else {
                return;
            };
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, content_type, body) = respond(&path, &controller, &health).await;
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        });
    }
}

async fn respond<R: Runtime + 'static>(
    path: &str,
    c: &Controller<R>,
    health: &Health,
) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; version=0.0.4";
    const JSON: &str = "application/json";
    match path {
        "/metrics" => ("200 OK", TEXT, c.metrics.render()),
        "/healthz" => {
            let resync_age = c.view.read().await.last_resync.map(|t| t.elapsed());
            let chain = resync_age.is_some_and(|age| age <= health.max_resync_age);
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
            let body = serde_json::json!({
                "status": if ok { "ok" } else { "degraded" },
                "chain": { "ok": chain, "last_resync_secs_ago": resync_age.map(|a| a.as_secs_f64()) },
                "websocket": { "ok": websocket },
                "engine": { "ok": engine },
                "gpus": { "ok": gpu_faults.is_empty(), "faults": gpu_faults },
            });
            let status = if ok {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            (status, JSON, body.to_string() + "\n")
        }
        p if p.starts_with("/rentals/") => {
            let Ok(rental) = p["/rentals/".len()..].parse::<Pubkey>() else {
                return (
                    "400 Bad Request",
                    JSON,
                    r#"{"error":"not a rental address"}"#.into(),
                );
            };
            let state = c
                .view
                .read()
                .await
                .rentals
                .get(&rental)
                .map(|r| format!("{:?}", r.state()));
            let Some(state) = state else {
                return (
                    "404 Not Found",
                    JSON,
                    r#"{"error":"unknown rental"}"#.into(),
                );
            };
            let endpoint = c.endpoint(&rental).await;
            let body = serde_json::json!({
                "rental": rental.to_string(),
                "state": state,
                "ssh_host": endpoint.as_ref().map(|e| e.0.clone()),
                "ssh_port": endpoint.as_ref().map(|e| e.1),
            });
            ("200 OK", JSON, body.to_string())
        }
        _ => ("404 Not Found", TEXT, "not found\n".into()),
    }
}
