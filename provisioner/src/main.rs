//! `calor-provisioner`: see the crate docs and docs/provisioner.md.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use calor_client::accounts::{Config, Node};
use calor_client::pda;
use calor_client::rpc::{Chain, SendPolicy};
use calor_provisioner::config::{InventorySource, Overrides, Settings};
use calor_provisioner::controller::{Cluster, ClusterNode, Controller};
use calor_provisioner::fence::NodeLocks;
use calor_provisioner::gpu::{self, DeclaredGpus, GpuSource, Held, NodeNeed, NvmlGpus};
use calor_provisioner::http::{self, Health};
use calor_provisioner::metrics::Metrics;
use calor_provisioner::runtime::{DockerRuntime, GpuAttach, Limits, Runtime};
use calor_provisioner::watch::{ChainView, ClusterObserver, Watcher};
use calor_provisioner::workspace::Workspaces;
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
    let mut settings = Settings::resolve(Overrides::parse())?;
    // the engine mounts workspace images by absolute path
    settings.state_dir = std::path::absolute(&settings.state_dir)
        .with_context(|| format!("state_dir {}", settings.state_dir.display()))?;
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
    let cluster_id = settings
        .cluster_id
        .clone()
        .unwrap_or_else(|| provider.to_string());
    let config = chain
        .account::<Config>(&pda::config().0)
        .await
        .with_context(|| format!("reading the program config from {}", settings.rpc_url))?
        .context("the program is not initialised on this chain (run migrations first)")?;
    settings.check_heartbeat(u64::from(config.params.heartbeat_timeout_secs))?;
    // Calor settlements go through the mint's own token program
    let token_program = chain
        .rpc()
        .get_account(&config.calor_mint)
        .await
        .with_context(|| format!("reading the Calor mint {}", config.calor_mint))?
        .owner;

    // One process per node: refuse to start beside another that serves any of ours.
    let mut locks = NodeLocks::new(&settings.state_dir);
    locks.acquire_cluster(&cluster_id)?;
    let mut needs = Vec::new();
    for plan in &settings.node_plans {
        let address = pda::node(&provider, plan.index);
        locks.acquire(&address, &cluster_id)?;
        let node = chain.account::<Node>(&address).await?.with_context(|| {
            format!(
                "node {} ({address}) of provider {provider} is not listed",
                plan.index
            )
        })?;
        if node.region != settings.region {
            bail!(
                "node {} is listed in region {} but this cluster is configured for region {}",
                plan.index,
                node.region,
                settings.region
            );
        }
        needs.push(NodeNeed {
            index: plan.index,
            address,
            gpu_count: node.gpu_count,
            pinned: plan.gpus.clone(),
        });
    }

    let workspaces = Workspaces::new(settings.state_dir.join("workspaces").join(&cluster_id));
    let runtime = DockerRuntime::connect(&settings.docker_host, workspaces)
        .await
        .with_context(|| format!("container engine at {}", settings.docker_host))?;

    // GPU ownership: what live instances hold, what the state file gave, what the config pins.
    let gpus = open_gpus(&settings)?;
    let held: HashMap<String, Held> = runtime
        .list(&cluster_id)
        .await?
        .into_iter()
        .filter_map(|i| Some((i.node?, i.rental, i.gpus)))
        .flat_map(|(node, rental, uuids)| {
            uuids
                .into_iter()
                .map(move |uuid| (uuid, Held { node, rental }))
        })
        .collect();
    let owned = gpu::claim_gpus(
        &settings.state_dir.join("gpu-ownership.json"),
        &provider,
        gpus.inventory(),
        &needs,
        &held,
        |index| {
            let node = pda::node(&provider, index);
            let free = locks.try_take(&node, &cluster_id);
            if free {
                locks.release(&node);
            }
            !free
        },
    )?;
    if settings.gpu_attach == GpuAttach::None {
        tracing::warn!("gpu_attach = none: instances get NO GPUs (hosts without GPUs only)");
    }

    let nodes: Vec<ClusterNode> = settings
        .node_plans
        .iter()
        .zip(&needs)
        .map(|(plan, need)| ClusterNode {
            index: plan.index,
            address: need.address,
            gpus: owned.get(&plan.index).cloned().unwrap_or_default(),
            share: plan.share.clone(),
            enabled: plan.enabled,
        })
        .collect();
    let engine = runtime.version().clone();
    tracing::info!(%engine, operator = %operator.pubkey(), %provider, cluster = %cluster_id, region = settings.region,
        nodes = ?nodes.iter().map(|n| (n.index, n.gpus.clone())).collect::<Vec<_>>(), "provisioner starting");

    let metrics = Arc::new(Metrics::new());
    let view = Arc::new(RwLock::new(ChainView::default()));
    let changed = Arc::new(Notify::new());
    let (stop_tx, stop_rx) = watch::channel(false);

    let watcher = Arc::new(Watcher {
        chain: chain.clone(),
        ws_url: settings.ws_url.clone(),
        resync_every: settings.resync,
        view: view.clone(),
        changed: changed.clone(),
        observer: Arc::new(ClusterObserver {
            metrics: metrics.clone(),
            nodes: nodes.iter().map(|n| n.address).collect(),
        }),
        idle_timeout: settings.ws_idle_timeout,
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
        cluster_id,
        region: settings.region,
        nodes,
        image: settings.instance_image.clone(),
        gpu_attach: settings.gpu_attach,
        ssh_bind_ip: settings.ssh_bind_ip.clone(),
        ssh_ports: settings.ssh_ports,
        public_host: settings.public_host.clone(),
        limits: Limits {
            nofile: settings.ulimit_nofile,
            nproc: settings.ulimit_nproc,
            pids: settings.pids_limit,
        },
        fallback_delay: settings.fallback_delay,
        provision_timeout: settings.provision_timeout,
        heartbeat_timeout_secs: i64::from(config.params.heartbeat_timeout_secs),
        max_restarts: settings.max_restarts,
        sweep_every: settings.sweep,
        calor_mint: config.calor_mint,
        token_program,
    };
    let controller = Arc::new(Controller::new(
        chain.clone(),
        runtime,
        cluster,
        view,
        metrics.clone(),
        locks,
        stop_rx.clone(),
    ));
    let health = gpus.health();
    metrics.set_gpus(gpus.inventory(), &gpus.sample(), &health, gpus.declared());
    controller
        .heartbeat(&health)
        .await
        .context("first heartbeat round")?;

    let beat = controller.clone();
    let (heartbeat_every, mut stop) = (settings.heartbeat, stop_rx.clone());
    tasks.spawn(async move {
        // One round per period, start to start, however long a round's confirmations take.
        let mut every = tokio::time::interval(heartbeat_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await; // the first round ran above
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stop.changed() => return,
            }
            let health = gpus.health();
            beat.metrics
                .set_gpus(gpus.inventory(), &gpus.sample(), &health, gpus.declared());
            if let Err(e) = beat.heartbeat(&health).await {
                tracing::warn!(error = %e, "heartbeat transaction failed");
            }
        }
    });

    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    tracing::info!(listen = %settings.listen, public_url = %settings.public_url.uri,
        "serving /metrics, /healthz, /rentals/<address> and its terminal and Jupyter access");
    let app = Arc::new(http::App {
        controller: controller.clone(),
        health: Health {
            max_resync_age: settings.resync * 3 + Duration::from_secs(5),
        },
        access: http::Access::new(
            settings.public_url.clone(),
            settings.allowed_origins.clone(),
        ),
        sessions: calor_provisioner::terminal::Sessions::new(),
        shutdown: stop_rx.clone(),
    });
    // Terminal shells left by a previous process (a crash leaves its sessions' shells running):
    // no session of this process exists yet, so every one found is hung up, all instances at once.
    let instances = controller
        .runtime
        .list(&controller.cluster.cluster_id)
        .await
        .unwrap_or_default();
    futures_util::future::join_all(instances.iter().filter(|i| i.running).map(|i| async {
        if let Err(e) = controller.runtime.hang_up_all(&i.rental).await {
            tracing::warn!(rental = %i.rental, error = %e, "left-over terminal shells not hung up");
        }
    }))
    .await;
    // Not in `tasks`: on shutdown it closes terminal sessions with a reason before exiting.
    let server = tokio::spawn(http::serve(listener, app, Duration::from_secs(3)));

    let reconcile = tokio::spawn(controller.run(settings.reconcile, changed));

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("signal received: stopping");
    let _ = stop_tx.send(true);
    reconcile.await?;
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped cleanly");
    Ok(())
}
