//! `calor-provisioner`: see the crate docs and docs/provisioner.md.
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use calor_client::accounts::{Config, Node};
use calor_client::rpc::{Chain, SendPolicy};
use calor_client::{pda, Pubkey};
use calor_provisioner::config::{InventorySource, Overrides, Settings};
use calor_provisioner::controller::{Cluster, Controller};
use calor_provisioner::gpu::{self, DeclaredGpus, GpuSource, NvmlGpus};
use calor_provisioner::http::{self, Health};
use calor_provisioner::metrics::Metrics;
use calor_provisioner::runtime::{DockerRuntime, Limits};
use calor_provisioner::watch::{ChainView, Watcher};
use clap::Parser;
use solana_signer::Signer;
use tokio::sync::{watch, Notify, RwLock};

fn open_gpus(settings: &Settings) -> Result<Box<dyn GpuSource>> {
    Ok(match &settings.inventory {
        InventorySource::Nvml => {
            let gpus = NvmlGpus::open()?;
            tracing::info!(driver = %gpus.driver_version, count = gpus.inventory().len(), "GPU inventory from NVML");
            Box::new(gpus)
        }
        InventorySource::Declared(path) => {
            let gpus = DeclaredGpus::load(path)?;
            tracing::warn!(
                file = %path.display(),
                count = gpus.inventory().len(),
                "GPU inventory DECLARED in a file, not read from a driver: no telemetry is measured"
            );
            Box::new(gpus)
        }
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let settings = Settings::resolve(Overrides::parse())?;
    let operator =
        calor_client::keys::read(&settings.operator_keypair).context("operator keypair")?;
    let chain = Arc::new(Chain::new(
        &settings.rpc_url,
        SendPolicy {
            compute_unit_price: settings.compute_unit_price,
            ..SendPolicy::default()
        },
    ));
    let provider = pda::provider(&operator.pubkey());
    let config = chain
        .account::<Config>(&pda::config().0)
        .await
        .with_context(|| format!("reading the program config from {}", settings.rpc_url))?
        .context("the program is not initialised on this chain (run migrations first)")?;
    // Calor settlements go through the mint's own token program
    let token_program = chain
        .rpc()
        .get_account(&config.calor_mint)
        .await
        .with_context(|| format!("reading the Calor mint {}", config.calor_mint))?
        .owner;

    let gpus = open_gpus(&settings)?;
    let mut node_gpus = Vec::new();
    let mut counts = Vec::new();
    for &index in &settings.nodes {
        let address = pda::node(&provider, index);
        let node = chain.account::<Node>(&address).await?.with_context(|| {
            format!("node {index} ({address}) of provider {provider} is not listed")
        })?;
        if node.region != settings.region {
            bail!(
                "node {index} is listed in region {} but this cluster is configured for region {}",
                node.region,
                settings.region
            );
        }
        counts.push((index, node.gpu_count));
        node_gpus.push((index, address));
    }
    let assigned = gpu::assign(gpus.inventory(), &counts).map_err(anyhow::Error::msg)?;
    let nodes: Vec<(u32, Pubkey, Vec<String>)> = node_gpus
        .into_iter()
        .zip(assigned)
        .map(|((index, address), (_, uuids))| (index, address, uuids))
        .collect();

    let runtime = DockerRuntime::connect(&settings.docker_host)?;
    let engine = runtime
        .version()
        .await
        .with_context(|| format!("container engine at {}", settings.docker_host))?;
    tracing::info!(%engine, operator = %operator.pubkey(), %provider, region = settings.region, ?nodes, "provisioner starting");

    let metrics = Arc::new(Metrics::default());
    metrics.set_gpus(gpus.inventory(), gpus.sample(), gpus.declared());
    let view = Arc::new(RwLock::new(ChainView::default()));
    let changed = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);

    let watcher = Arc::new(Watcher {
        chain: chain.clone(),
        ws_url: settings.ws_url.clone(),
        resync_every: settings.resync,
        view: view.clone(),
        changed: changed.clone(),
        metrics: metrics.clone(),
    });
    // The first full read happens before any decision: reconcile starts from the chain.
    watcher.resync().await.context("initial resync")?;
    let reconnected = Arc::new(Notify::new());
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(
        watcher
            .clone()
            .run_subscription(stop_rx.clone(), reconnected.clone()),
    );
    tasks.spawn(watcher.clone().run_resync(stop_rx.clone(), reconnected));

    let cluster = Cluster {
        operator,
        provider,
        region: settings.region,
        nodes,
        image: settings.instance_image.clone(),
        attach_gpus: settings.attach_gpus,
        ssh_bind_ip: settings.ssh_bind_ip.clone(),
        public_host: settings.public_host.clone(),
        limits: Limits {
            nofile: settings.ulimit_nofile,
            nproc: settings.ulimit_nproc,
            pids: settings.pids_limit,
        },
        fallback_delay: settings.fallback_delay,
        provision_timeout: settings.provision_timeout,
        calor_mint: config.calor_mint,
        token_program,
        heartbeat_timeout_secs: i64::from(config.params.heartbeat_timeout_secs),
    };
    let controller = Arc::new(Controller::new(
        chain.clone(),
        runtime,
        cluster,
        view,
        metrics.clone(),
    ));
    controller
        .heartbeat()
        .await
        .context("first node_heartbeat")?;

    let beat = controller.clone();
    let (heartbeat_every, mut stop) = (settings.heartbeat, stop_rx.clone());
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(heartbeat_every) => {}
                _ = stop.changed() => return,
            }
            if let Err(e) = beat.heartbeat().await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            beat.metrics
                .set_gpus(gpus.inventory(), gpus.sample(), gpus.declared());
        }
    });

    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(listen = %settings.listen, "serving /metrics, /healthz, /rentals/<address>");
    let health = Health {
        max_resync_age: settings.resync * 3 + Duration::from_secs(5),
    };
    tasks.spawn(http::serve(
        listener,
        controller.clone(),
        health,
        stop_rx.clone(),
    ));

    let reconcile = tokio::spawn(controller.run(settings.reconcile, changed, stop_rx));

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("signal received: stopping");
    let _ = stop_tx.send(true);
    reconcile.await?;
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped cleanly");
    Ok(())
}
