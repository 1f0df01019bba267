use anyhow::Context;
use calor_api::config::{Flags, Settings};
use calor_api::http::{router, system_clock};
use calor_api::limits::Limits;
use calor_api::serve::Service;
use calor_api::store::Store;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let settings = Settings::load(Flags::parse())?;
    let store = Store::open(&settings.database_url)
        .await
        .with_context(|| format!("opening the store at {}", settings.database_url))?;
    let service = Service::start(
        store,
        &settings.chain,
        settings.auth.clone(),
        Limits::new(settings.per_address, settings.per_wallet),
        settings.trust_forwarded_for,
        Box::new(system_clock),
    )
    .await?;
    let app = service.app.clone();
    // Buckets of clients gone quiet are dropped once a minute.
    let pruned = app.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            pruned.limits.prune();
        }
    });
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(
        listen = %settings.listen,
        domain = %settings.auth.domain,
        rpc = %settings.chain.rpc_url,
        "calor-api serving; docs at http://{}/api/docs",
        settings.listen
    );
    let routes = router(app, Some(&settings.app_origin))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, routes)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("signal received: finishing requests in flight");
        })
        .await?;
    service.stop().await;
    tracing::info!("stopped cleanly");
    Ok(())
}
