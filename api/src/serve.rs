//! Assembles the service: store, chain watcher, market, indexer, jobs and the HTTP app, and
//! the background tasks that keep them current. `main` and the tests start it the same way.
use std::sync::Arc;
use std::time::Duration;

use calor_client::rpc::{Chain, SendPolicy};
use calor_client::watch::{ChainView, Everything, Watcher};
use tokio::sync::{watch, Notify, RwLock};
use tokio::task::JoinSet;

use crate::auth::{Auth, AuthSettings};
use crate::config::ChainSettings;
use crate::http::{App, Metrics};
use crate::index::Indexer;
use crate::jobs::Jobs;
use crate::limits::Limits;
use crate::market::Market;
use crate::store::Store;

/// The running service: its app and the tasks following the chain.
pub struct Service {
    pub app: Arc<App>,
    pub market: Arc<Market>,
    pub indexer: Arc<Indexer>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Service {
    /// Starts following the chain. With `reindex`, the index is emptied first and rebuilt.
    /// Returns once the market has been read once (a chain that does not answer yet is
    /// retried in the background).
    pub async fn start(
        store: Store,
        chain: &ChainSettings,
        auth: AuthSettings,
        limits: Limits,
        trust_forwarded_for: bool,
        clock: Box<dyn Fn() -> i64 + Send + Sync>,
    ) -> anyhow::Result<Service> {
        let rpc = Arc::new(Chain::new(chain.rpc_url.clone(), SendPolicy::default()));
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let watcher = Arc::new(Watcher {
            chain: rpc.clone(),
            ws_url: chain.ws_url.clone(),
            resync_every: Duration::from_secs(30),
            view: Arc::new(RwLock::new(ChainView::default())),
            changed: Arc::new(Notify::new()),
            observer: Arc::new(Everything),
            idle_timeout: Duration::from_secs(20),
        });
        if let Err(error) = watcher.resync().await {
            tracing::warn!(%error, "first read of the chain failed; retrying in the background");
        }
        let reconnected = Arc::new(Notify::new());
        tasks.spawn(
            watcher
                .clone()
                .run_subscription(stop_rx.clone(), reconnected.clone()),
        );
        tasks.spawn(watcher.clone().run_resync(stop_rx.clone(), reconnected));

        let market = Arc::new(Market::new(
            rpc.clone(),
            watcher,
            chain.sol_usd_price_account,
            chain.market_refresh,
        ));
        if let Err(error) = market.refresh_once().await {
            tracing::warn!(%error, "first market read failed; retrying in the background");
        }
        tasks.spawn(market.clone().run(stop_rx.clone()));

        let indexer = Arc::new(Indexer::new(rpc, store.clone(), chain.index_poll));
        if chain.reindex {
            tracing::info!("--reindex: emptying the index to rebuild it from the chain");
            indexer.reset().await?;
        }
        tasks.spawn(indexer.clone().run(stop_rx));

        let jobs = Arc::new(Jobs::new(store.clone(), market.clone(), chain.jobs));
        let app = Arc::new(App {
            auth: Auth::new(store.clone(), auth),
            store,
            jobs: Some(jobs),
            indexer: Some(indexer.clone()),
            metrics: Metrics::default(),
            limits,
            trust_forwarded_for,
            clock,
        });
        Ok(Service {
            app,
            market,
            indexer,
            stop,
            tasks,
        })
    }

    /// Stops the background tasks and waits for them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
