//! A real stack per test: a local chain (surfpool) with the program deployed and migrated,
//! provisioner processes, the container engine (Podman's Docker API) and a renter.
//! The tools are started through the repo's own scripts, which install or build them once.
#![allow(dead_code)]
pub mod proxy;
pub mod terminal;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use calor::instructions::OpenRentalArgs;
use calor_client::accounts::{Rental, RentalState};
use calor_client::rpc::{Chain, SendPolicy};
use calor_client::{instructions as ix, pda, Pubkey};
use calor_migrations::{
    bootstrap_protocol, keys, onboard_provider, publish_local_sol_price, NodeSpec, Protocol,
};
use calor_provisioner::engine::Engine;
use calor_provisioner::runtime::{LABEL_PROVIDER, LABEL_RENTAL};
use solana_keypair::Keypair;
use solana_signer::Signer;

pub const GPU_MODEL: u16 = 1;
pub const NODE_RATE_MICRO_USD: u64 = 2_000_000;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn script(path: &str) -> String {
    let out = Command::new("bash")
        .arg(repo().join(path))
        .stderr(Stdio::inherit())
        .output()
        .expect(path);
    assert!(out.status.success(), "{path} failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

/// Engine endpoint, instance image and local-chain binary, prepared once per test binary.
pub struct Tools {
    pub docker_host: String,
    pub image: String,
    pub localnet: String,
    pub program_so: PathBuf,
}

pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo().join("target"));
        let program_so = target.join("deploy/calor.so");
        assert!(
            program_so.exists(),
            "{} is missing: run tools/sbf/build.sh",
            program_so.display()
        );
        Tools {
            docker_host: std::env::var("DOCKER_HOST")
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| script("tools/engine/start.sh")),
            image: std::env::var("CALOR_INSTANCE_IMAGE")
                .ok()
                .filter(|i| !i.is_empty())
                .unwrap_or_else(|| script("tools/engine/instance-image.sh")),
            localnet: std::env::var("CALOR_LOCALNET_BIN")
                .ok()
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| script("tools/localnet/build.sh")),
            program_so,
        }
    })
}

/// The provisioner binary: this package's own, or (for other packages' tests, such as the
/// API's) the one `cargo test --workspace` builds beside the test executables.
pub fn provisioner_bin() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_calor-provisioner") {
        Some(path) => PathBuf::from(path),
        None => {
            let exe = std::env::current_exe().unwrap();
            let bin = exe
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("calor-provisioner");
            assert!(
                bin.exists(),
                "{} is missing: build it with `cargo build -p calor-provisioner`",
                bin.display()
            );
            bin
        }
    }
}

/// The test engine (Podman's Docker API).
pub fn engine() -> Engine {
    Engine::connect(&tools().docker_host).unwrap()
}

/// An image derived from the instance image with one Dockerfile-style change (e.g. another
/// `CMD`), committed once per base image and change.
pub async fn derived_image(name: &str, change: &str) -> String {
    use std::hash::{Hash, Hasher};
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = &tools().image;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (base, change).hash(&mut h);
    let tag = format!("{name}-{:016x}", h.finish());
    let repo = "localhost/calor-instance-test";
    let image = format!("{repo}:{tag}");
    let engine = engine();
    if engine.image_exists(&image).await.unwrap() {
        return image;
    }
    let container = format!(
        "calor-derive-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    engine
        .create_container(&container, &serde_json::json!({ "Image": base }))
        .await
        .unwrap();
    engine.commit(&container, repo, &tag, change).await.unwrap();
    engine.remove_container(&container).await.unwrap();
    image
}

/// A port for a test server: below the kernel's ephemeral range (32768 and up), where the
/// engine's published ports and every outgoing connection are placed, and never the same twice
/// in this process. (Ports taken from port 0 collided: another test's container was given the
/// port between our choosing it and the local chain binding it.)
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 20_000 + (std::process::id() % 400) * 25;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (base + n % 10_000) as u16;
        if port < 32_000 && StdListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
        assert!(n < 20_000, "no free test port");
    }
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "calor-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct LocalChain {
    pub rpc_port: u16,
    pub ws_port: u16,
    pub chain: Arc<Chain>,
    _node: Proc,
}

impl LocalChain {
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc_port)
    }
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }
}

pub async fn start_chain(authority: &Pubkey, log: &Path) -> LocalChain {
    let t = tools();
    let (rpc_port, ws_port) = (free_port(), free_port());
    let child = Command::new(&t.localnet)
        .args([
            "--rpc-port",
            &rpc_port.to_string(),
            "--ws-port",
            &ws_port.to_string(),
        ])
        .args([
            "--slot-time-ms",
            "100",
            "--quiet",
            "--upgrade-authority",
            &authority.to_string(),
        ])
        .arg("--program")
        .arg(format!(
            "{}={}",
            calor_client::PROGRAM_ID,
            t.program_so.display()
        ))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start the local chain");
    let node = Proc(child);
    let chain = Arc::new(Chain::new(
        format!("http://127.0.0.1:{rpc_port}"),
        SendPolicy {
            compute_unit_price: 0,
            ..SendPolicy::default()
        },
    ));
    let deadline = Instant::now() + Duration::from_secs(20);
    while chain.rpc().get_health().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "local chain did not come up; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    LocalChain {
        rpc_port,
        ws_port,
        chain,
        _node: node,
    }
}

/// One operator's cluster: its key, provider, region, nodes (one declared GPU each) and a
/// running provisioner.
pub struct Cluster {
    pub operator: Keypair,
    pub provider: Pubkey,
    pub nodes: Vec<Pubkey>,
    pub gpus: Vec<String>,
    pub region: u16,
    pub listen_port: u16,
    pub dir: PathBuf,
    pub process: Option<Proc>,
}

impl Cluster {
    /// Node locks, GPU ownership and workspace images of this cluster's provisioners.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// Workspace images of the cluster's default deployment (cluster id = provider).
    pub fn workspaces(&self) -> PathBuf {
        self.state_dir()
            .join("workspaces")
            .join(self.provider.to_string())
    }

    pub fn gpu_file(&self) -> PathBuf {
        self.dir.join("gpus.toml")
    }

    /// Rewrites the declared GPU file, marking `unhealthy` GPUs so.
    pub fn declare_gpus(&self, unhealthy: &[(&str, &str)]) {
        let mut text = String::new();
        for uuid in &self.gpus {
            text.push_str(&format!(
                "[[gpu]]\nuuid = \"{uuid}\"\nname = \"declared test GPU\"\nmemory_mib = 81559\n"
            ));
            if let Some((_, why)) = unhealthy.iter().find(|(u, _)| u == uuid) {
                text.push_str(&format!("unhealthy = \"{why}\"\n"));
            }
        }
        std::fs::write(self.gpu_file(), text).unwrap();
    }
}

pub struct Stack {
    pub dir: PathBuf,
    pub local: LocalChain,
    pub authority: Keypair,
    pub protocol: Protocol,
    pub clusters: Vec<Cluster>,
}

impl Drop for Stack {
    /// A passing test has removed its tenants (`finish`, `assert_clean`): its directory goes.
    /// A failing one leaves them running: what carries its providers' labels is removed so
    /// that later tests and runs start clean, and its directory is kept for the logs, without
    /// the workspace images.
    fn drop(&mut self) {
        for c in &mut self.clusters {
            c.process.take(); // killed
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        // CI keeps only the test output: the end of each provisioner's log goes there.
        for i in 0..self.clusters.len() {
            let log = self.log(i);
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(80)..].join("\n");
            eprintln!(
                "--- provisioner {i}: last lines of {}/provisioner.log ---\n{tail}",
                self.clusters[i].dir.display()
            );
        }
        let providers: Vec<String> = self
            .clusters
            .iter()
            .map(|c| c.provider.to_string())
            .collect();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let engine = engine();
                for provider in &providers {
                    let filter = [(LABEL_PROVIDER, provider.as_str())];
                    for x in engine.list_containers(&filter).await.unwrap_or_default() {
                        let _ = engine.remove_container(&x.id).await;
                    }
                    for v in engine.list_volumes(&filter).await.unwrap_or_default() {
                        let _ = engine.remove_volume(&v.name).await;
                    }
                    for n in engine.list_networks(&filter).await.unwrap_or_default() {
                        let _ = engine.remove_network(&n.name).await;
                    }
                }
            });
        });
        let _ = cleanup.join();
        remove_workspace_images(&self.dir);
    }
}

fn remove_workspace_images(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_workspace_images(&path);
        } else if path.extension().is_some_and(|e| e == "ext4") {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Provisioner settings a test may change.
#[derive(Clone)]
pub struct ProvisionerOptions {
    pub image: Option<String>,
    pub crash_after: Option<&'static str>,
    pub rpc_url: Option<String>,
    pub ws_url: Option<String>,
    pub docker_host: Option<String>,
    pub provision_timeout_secs: u64,
    pub heartbeat_secs: u64,
    pub resync_secs: u64,
    /// Node indexes; every node of the cluster when `None`.
    pub nodes: Option<Vec<u32>>,
    pub cluster_id: Option<String>,
    pub gpu_attach: Option<&'static str>,
    /// The HTTP port; the cluster's own when `None`.
    pub listen_port: Option<u16>,
    /// The address renters are told; 127.0.0.1 when `None`.
    pub public_host: Option<&'static str>,
    /// More flags, as given.
    pub extra: Vec<String>,
}

impl Default for ProvisionerOptions {
    fn default() -> Self {
        Self {
            image: None,
            crash_after: None,
            rpc_url: None,
            ws_url: None,
            docker_host: None,
            provision_timeout_secs: 60,
            heartbeat_secs: 30,
            resync_secs: 2,
            nodes: None,
            cluster_id: None,
            gpu_attach: None,
            listen_port: None,
            public_host: None,
            extra: Vec::new(),
        }
    }
}

/// What each test instance gets: small, so that the tests' limits are reached quickly.
pub const TEST_MEMORY_MIB: u64 = 512;
pub const TEST_SHM_MIB: u64 = 64;
pub const TEST_WORKSPACE_MIB: u64 = 64;

impl Stack {
    /// A migrated local chain and one cluster per entry of `regions` (not started yet).
    pub async fn new(name: &str, regions: &[u16]) -> Stack {
        Stack::with_nodes(name, regions, 1).await
    }

    /// Like `new`, with `nodes` nodes (one GPU each) per cluster.
    pub async fn with_nodes(name: &str, regions: &[u16], nodes: usize) -> Stack {
        let dir = temp_dir(name);
        let authority = Keypair::new();
        let local = start_chain(&authority.pubkey(), &dir.join("localnet.log")).await;
        let mint = Keypair::new();
        let protocol = bootstrap_protocol(&local.chain, &authority, &mint, Pubkey::new_unique())
            .await
            .expect("migrate");
        let mut clusters = Vec::new();
        for &region in regions {
            let operator = Keypair::new();
            let listen_port = free_port();
            let spec = NodeSpec {
                gpu_model: GPU_MODEL,
                gpu_count: 1,
                hourly_rate_micro_usd: NODE_RATE_MICRO_USD,
            };
            let endpoint = format!("http://127.0.0.1:{listen_port}");
            let (provider, node_addresses) = onboard_provider(
                &local.chain,
                &authority,
                &operator,
                region,
                &endpoint,
                &vec![spec; nodes],
            )
            .await
            .expect("onboard");
            let cdir = dir.join(format!("cluster-{}", operator.pubkey()));
            std::fs::create_dir_all(&cdir).unwrap();
            keys::write(&cdir.join("operator.json"), &operator).unwrap();
            let gpus = (0..nodes)
                .map(|i| format!("GPU-{}-{i}", operator.pubkey()))
                .collect();
            let cluster = Cluster {
                operator,
                provider,
                nodes: node_addresses,
                gpus,
                region,
                listen_port,
                dir: cdir,
                process: None,
            };
            cluster.declare_gpus(&[]);
            clusters.push(cluster);
        }
        Stack {
            dir,
            local,
            authority,
            protocol,
            clusters,
        }
    }

    pub fn chain(&self) -> &Chain {
        &self.local.chain
    }

    /// Starts (or restarts) cluster `i`'s provisioner.
    pub fn start_provisioner(&mut self, i: usize, options: &ProvisionerOptions) {
        self.clusters[i].process = None;
        let process = self.spawn_provisioner(i, options, "provisioner.log");
        self.clusters[i].process = Some(process);
    }

    /// Waits until cluster `i`'s provisioner serves HTTP: it has read the chain, sent its first
    /// heartbeats and is reconciling. Tests that race several clusters for one rental wait for
    /// all of them, or the slowest to start would lose to a region ranked after it.
    pub async fn wait_serving(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_get(self.clusters[i].listen_port, "/healthz")
            .await
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "provisioner {i} not serving; log:\n{}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A provisioner process for cluster `i` logging to `log_name` in the cluster's directory
    /// (the caller keeps it; dropping it kills it).
    pub fn spawn_provisioner(
        &self,
        i: usize,
        options: &ProvisionerOptions,
        log_name: &str,
    ) -> Proc {
        let t = tools();
        let rpc_url = options
            .rpc_url
            .clone()
            .unwrap_or_else(|| self.local.rpc_url());
        let ws_url = options
            .ws_url
            .clone()
            .unwrap_or_else(|| self.local.ws_url());
        let c = &self.clusters[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(c.dir.join(log_name))
            .unwrap();
        let nodes = options
            .nodes
            .clone()
            .unwrap_or_else(|| (0..c.nodes.len() as u32).collect());
        let nodes: Vec<String> = nodes.iter().map(u32::to_string).collect();
        let mut cmd = Command::new(provisioner_bin());
        cmd.env("RUST_LOG", "info,calor_provisioner=debug")
            .env(
                "DOCKER_HOST",
                options.docker_host.as_deref().unwrap_or(&t.docker_host),
            )
            .env_remove("CALOR_CRASH_AFTER")
            .env_remove("CALOR_CONFIG")
            .args(["--rpc-url", &rpc_url, "--ws-url", &ws_url])
            .arg("--operator-keypair")
            .arg(c.dir.join("operator.json"))
            .args([
                "--region",
                &c.region.to_string(),
                "--nodes",
                &nodes.join(","),
            ])
            .args([
                "--instance-image",
                options.image.as_deref().unwrap_or(&t.image),
            ])
            .args(["--gpu-inventory", "declared", "--gpu-inventory-file"])
            .arg(c.gpu_file())
            .args(["--gpu-attach", options.gpu_attach.unwrap_or("none")])
            .arg("--state-dir")
            .arg(c.state_dir())
            .args([
                "--ssh-bind-ip",
                "127.0.0.1",
                "--public-host",
                options.public_host.unwrap_or("127.0.0.1"),
            ])
            .args([
                "--listen",
                &format!("127.0.0.1:{}", options.listen_port.unwrap_or(c.listen_port)),
            ])
            .args([
                "--memory-mib",
                &TEST_MEMORY_MIB.to_string(),
                "--cpus",
                "1",
                "--shm-mib",
                &TEST_SHM_MIB.to_string(),
                "--workspace-mib",
                &TEST_WORKSPACE_MIB.to_string(),
            ])
            .args([
                "--reconcile-ms",
                "300",
                "--resync-secs",
                &options.resync_secs.to_string(),
                "--heartbeat-secs",
                &options.heartbeat_secs.to_string(),
                "--fallback-delay-secs",
                "3",
                "--sweep-secs",
                "2",
                "--ws-idle-timeout-secs",
                "4",
            ])
            .args([
                "--compute-unit-price",
                "0",
                "--provision-timeout-secs",
                &options.provision_timeout_secs.to_string(),
            ])
            .args(&options.extra)
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(id) = &options.cluster_id {
            cmd.args(["--cluster-id", id]);
        }
        if let Some(step) = options.crash_after {
            cmd.env("CALOR_CRASH_AFTER", step);
        }
        Proc(cmd.spawn().expect("start the provisioner"))
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.clusters[i].dir.join("provisioner.log")).unwrap_or_default()
    }

    /// Waits for cluster `i`'s provisioner to exit by itself (a crash point); returns its status.
    pub async fn wait_exit(&mut self, i: usize, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            let p = self.clusters[i].process.as_mut().expect("running");
            if let Some(status) = p.0.try_wait().unwrap() {
                self.clusters[i].process = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "provisioner did not exit; log:\n{}",
                self.log(i)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn stop_provisioner(&mut self, i: usize) -> std::process::ExitStatus {
        let pid = self.clusters[i].process.as_ref().expect("running").0.id();
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        self.wait_exit(i, Duration::from_secs(30)).await
    }

    pub async fn rental(&self, address: &Pubkey) -> Option<Rental> {
        self.chain()
            .account::<Rental>(address)
            .await
            .expect("read rental")
    }

    /// Polls until `check` holds for the rental (or its absence), or panics with the logs.
    pub async fn wait_rental<F: Fn(Option<&Rental>) -> bool>(
        &self,
        address: &Pubkey,
        what: &str,
        within: Duration,
        check: F,
    ) -> Option<Rental> {
        let deadline = Instant::now() + within;
        loop {
            let r = self.rental(address).await;
            if check(r.as_ref()) {
                return r;
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = (0..self.clusters.len()).map(|i| self.log(i)).collect();
                panic!("rental {address}: not {what} after {within:?} (now {:?}); provisioner logs:\n{}", r.map(|r| r.state), logs.join("\n-----\n"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Labelled containers of every cluster, as the engine lists them: (rental, provider,
    /// running).
    pub async fn containers(&self) -> Vec<(Pubkey, Pubkey, bool)> {
        let engine = engine();
        let mut all = Vec::new();
        for c in &self.clusters {
            let provider = c.provider.to_string();
            for summary in engine
                .list_containers(&[(LABEL_PROVIDER, &provider)])
                .await
                .unwrap()
            {
                let rental = summary.labels.unwrap_or_default()[LABEL_RENTAL]
                    .parse()
                    .unwrap();
                all.push((rental, c.provider, summary.state == "running"));
            }
        }
        all
    }

    /// Starts cluster 0's provisioner with the default options and waits until a new
    /// renter's rental runs there.
    pub async fn one_running_rental(&mut self) -> (Renter, Pubkey) {
        self.start_provisioner(0, &ProvisionerOptions::default());
        let mut renter = Renter::new(self).await;
        let rental = renter.open(self, None).await;
        self.wait_rental(
            &rental,
            "running",
            Duration::from_secs(60),
            is_state(RentalState::Running),
        )
        .await;
        (renter, rental)
    }

    /// Starts cluster 0's provisioner with `options` and asserts that a new renter's rental
    /// is failed and settled with every lamport paid back.
    pub async fn assert_fails_with_full_refund(&mut self, options: &ProvisionerOptions) {
        self.start_provisioner(0, options);
        let mut renter = Renter::new(self).await;
        let rental = renter.open(self, None).await;
        let after_open = renter.balance(self).await;
        let rental_lamports = self.chain().balance(&rental).await.unwrap();
        self.wait_rental(
            &rental,
            "failed and settled",
            Duration::from_secs(60),
            is_gone,
        )
        .await;
        assert_eq!(
            renter.balance(self).await,
            after_open + rental_lamports,
            "every lamport paid comes back"
        );
    }

    /// Ends `rentals` (the clock moved past the last one's end), waits for each to be settled,
    /// and asserts that nothing is left behind.
    pub async fn finish(&self, rentals: &[Pubkey]) {
        let mut last_end = 0;
        for r in rentals {
            if let Some(rental) = self.rental(r).await {
                last_end = last_end.max(rental.ends_at);
            }
        }
        if last_end > 0 {
            self.time_travel(last_end + 1).await;
        }
        for r in rentals {
            self.wait_rental(r, "settled", Duration::from_secs(60), is_gone)
                .await;
        }
        self.assert_clean().await;
    }

    /// Asserts that nothing of this stack's clusters is left in the engine or on disk: no
    /// container, volume, network or workspace image.
    pub async fn assert_clean(&self) {
        let engine = engine();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut left = Vec::new();
            for c in &self.clusters {
                let provider = c.provider.to_string();
                let filter = [(LABEL_PROVIDER, provider.as_str())];
                for x in engine.list_containers(&filter).await.unwrap() {
                    left.push(format!("container {}", x.id));
                }
                for v in engine.list_volumes(&filter).await.unwrap() {
                    left.push(format!("volume {}", v.name));
                }
                for n in engine.list_networks(&filter).await.unwrap() {
                    left.push(format!("network {}", n.name));
                }
                let deployments = std::fs::read_dir(c.state_dir().join("workspaces"));
                for deployment in deployments.into_iter().flatten().flatten() {
                    for e in std::fs::read_dir(deployment.path())
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        left.push(format!("workspace image {}", e.path().display()));
                    }
                }
            }
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left behind: {left:?}; logs:\n{}",
                (0..self.clusters.len())
                    .map(|i| self.log(i))
                    .collect::<Vec<_>>()
                    .join("\n-----\n")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends a transaction signed by `payer` and returns the fee it paid (from the node's record).
    pub async fn send_paying_fee(
        &self,
        label: &str,
        instructions: &[calor_client::Instruction],
        payer: &Keypair,
    ) -> u64 {
        use solana_transaction_status_client_types::UiTransactionEncoding;
        let signature = self
            .chain()
            .send(label, instructions, payer, &[])
            .await
            .unwrap();
        let confirmed = self
            .chain()
            .rpc()
            .get_transaction(&signature, UiTransactionEncoding::Json)
            .await
            .unwrap();
        confirmed.transaction.meta.expect("transaction meta").fee
    }

    pub async fn clock(&self) -> i64 {
        self.chain().unix_timestamp().await.unwrap()
    }

    /// Moves the chain's clock to `unix_timestamp` and refreshes the oracle price there.
    pub async fn time_travel(&self, unix_timestamp: i64) {
        self.chain().time_travel(unix_timestamp).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.clock().await < unix_timestamp {
            assert!(Instant::now() < deadline, "clock did not move");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        publish_local_sol_price(self.chain(), calor_migrations::LOCAL_SOL_USD_CENTS)
            .await
            .unwrap();
    }
}

/// A new SSH key pair of `kind` (`ed25519`, `rsa`, `ecdsa`) at `path`: the private key's path
/// and the public key line.
pub fn ssh_keygen(path: &Path, kind: &str, bits: Option<u32>) -> (PathBuf, String) {
    let mut keygen = Command::new("ssh-keygen");
    keygen.args(["-q", "-t", kind, "-N", "", "-C", "renter"]);
    if let Some(bits) = bits {
        keygen.args(["-b", &bits.to_string()]);
    }
    assert!(keygen.arg("-f").arg(path).status().unwrap().success());
    let line = std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string();
    (path.to_path_buf(), line)
}

/// A renter with SOL and an SSH key pair.
pub struct Renter {
    pub key: Keypair,
    pub ssh_private_key: PathBuf,
    pub ssh_public_key: String,
    next_id: u64,
}

impl Renter {
    pub async fn new(stack: &Stack) -> Renter {
        let key = Keypair::new();
        calor_migrations::fund(stack.chain(), &key.pubkey())
            .await
            .unwrap();
        let (ssh_private_key, ssh_public_key) = ssh_keygen(
            &stack.dir.join(format!("id-{}", key.pubkey())),
            "ed25519",
            None,
        );
        Renter {
            key,
            ssh_private_key,
            ssh_public_key,
            next_id: 1,
        }
    }

    pub async fn balance(&self, stack: &Stack) -> u64 {
        stack.chain().balance(&self.key.pubkey()).await.unwrap()
    }

    /// Opens a one-hour SOL rental; returns its address.
    pub async fn open(&mut self, stack: &Stack, region: Option<u16>) -> Pubkey {
        self.open_with(stack, region, None).await
    }

    /// Opens a one-hour SOL rental pinned to `region` or near `near` (whole degrees).
    pub async fn open_with(
        &mut self,
        stack: &Stack,
        region: Option<u16>,
        near: Option<(i16, i16)>,
    ) -> Pubkey {
        let args = self.rental_args(1, region, near);
        self.open_args(stack, args).await.expect("open rental")
    }

    /// Opens a one-hour SOL rental with `ssh_public_key` (none: reached by the web terminal)
    /// and `forwarded_ports`, and waits until it runs.
    pub async fn running(
        &mut self,
        stack: &Stack,
        ssh_public_key: Option<String>,
        forwarded_ports: Vec<calor::state::ForwardedPort>,
    ) -> Pubkey {
        let mut args = self.rental_args(1, None, None);
        args.ssh_public_key = ssh_public_key;
        args.forwarded_ports = forwarded_ports;
        let rental = self.open_args(stack, args).await.expect("open rental");
        stack
            .wait_rental(
                &rental,
                "running",
                Duration::from_secs(60),
                is_state(RentalState::Running),
            )
            .await;
        rental
    }

    /// Opens a two-hour Calor rental paid from the renter's associated Calor account, which is
    /// funded with `funding` base units first.
    pub async fn open_calor(&mut self, stack: &Stack, funding: u64) -> Pubkey {
        let renter_token = calor_migrations::fund_calor(
            stack.chain(),
            &stack.authority,
            &stack.protocol.calor_mint,
            &self.key,
            &self.key.pubkey(),
            funding,
        )
        .await
        .unwrap();
        // Two hours: a renter paying in Calor pays less than the market value, and the
        // minimum applies to what it pays.
        let args = self.rental_args(2, None, None);
        let id = args.id;
        let open = ix::open_rental_calor(
            self.key.pubkey(),
            GPU_MODEL,
            stack.protocol.calor_mint,
            renter_token,
            spl_token_id(),
            args,
        );
        stack
            .chain()
            .send("open_rental_calor", &[open], &self.key, &[])
            .await
            .expect("open Calor rental");
        pda::rental(&self.key.pubkey(), id)
    }

    /// Opens a SOL rental with `args` as given (its id is the rental's).
    pub async fn open_args(
        &mut self,
        stack: &Stack,
        args: OpenRentalArgs,
    ) -> Result<Pubkey, calor_client::rpc::ChainError> {
        let id = args.id;
        let open = ix::open_rental_sol(
            self.key.pubkey(),
            GPU_MODEL,
            stack.protocol.sol_usd_price,
            args,
        );
        // A live feed is always fresh; the local one is as old as its last publication.
        publish_local_sol_price(stack.chain(), calor_migrations::LOCAL_SOL_USD_CENTS)
            .await
            .unwrap();
        stack
            .chain()
            .send("open_rental_sol", &[open], &self.key, &[])
            .await?;
        Ok(pda::rental(&self.key.pubkey(), id))
    }

    /// One-hour rental arguments with this renter's key and a fresh id.
    pub fn rental_args(
        &mut self,
        hours: u32,
        region: Option<u16>,
        near: Option<(i16, i16)>,
    ) -> OpenRentalArgs {
        let id = self.next_id;
        self.next_id += 1;
        OpenRentalArgs {
            id,
            bump: 0,
            escrow_bump: 0,
            hours,
            hourly_rate_micro_usd: NODE_RATE_MICRO_USD * 3,
            region,
            near: near.map(
                |(latitude_deg, longitude_deg)| calor::instructions::Location {
                    latitude_deg,
                    longitude_deg,
                },
            ),
            ssh_public_key: Some(self.ssh_public_key.clone()),
            forwarded_ports: Vec::new(),
            max_payment: u64::MAX,
        }
    }

    /// Runs `command` on the instance over SSH as root with the renter's key.
    pub fn ssh(&self, port: u16, command: &str) -> std::process::Output {
        Command::new("ssh")
            .args(["-i"])
            .arg(&self.ssh_private_key)
            .args(["-p", &port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
            ])
            .args([
                "-o",
                "ConnectTimeout=10",
                "-o",
                "LogLevel=ERROR",
                "root@127.0.0.1",
                command,
            ])
            .output()
            .unwrap()
    }
}

/// Waits until cluster `cluster`'s `/metrics` has the line `line`: a provisioner counts what
/// it did once its own confirmation returns, which may be a moment after the chain shows it.
pub async fn wait_metric(cluster: &Cluster, line: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = http_get(cluster.listen_port, "/metrics")
            .await
            .unwrap_or_default();
        if metrics.lines().any(|l| l == line) {
            return;
        }
        assert!(Instant::now() < deadline, "no `{line}` in:\n{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The body of `GET path` on a provisioner's HTTP server, if it answers.
pub async fn http_get(port: u16, path: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes())
        .await
        .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).await.ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// `method path` on 127.0.0.1:`port` with extra `headers` and a JSON `body`: the status and
/// the body, if it answers.
pub async fn http_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.ok()?;
    s.write_all(body.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut response))
        .await
        .ok()?
        .ok()?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    // a chunked body (Jupyter's): the chunks' text, sizes dropped
    let chunked = response
        .split_once("\r\n\r\n")?
        .0
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.push_str(after.get(..n)?);
            rest = after.get(n + 2..)?;
        }
        out
    } else {
        body.to_string()
    };
    Some((status, body))
}

/// The SSH port the provisioner reports for `rental` through its status API.
pub async fn ssh_port(cluster: &Cluster, rental: &Pubkey) -> Option<u16> {
    let body = http_get(cluster.listen_port, &format!("/rentals/{rental}")).await?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    json["ssh_port"].as_u64().map(|p| p as u16)
}

/// Polls the status API until it reports the rental's SSH port (a restarted provisioner
/// answers once its first reconcile pass has listed the instances).
pub async fn wait_ssh_port(cluster: &Cluster, rental: &Pubkey) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(port) = ssh_port(cluster, rental).await {
            return port;
        }
        assert!(
            Instant::now() < deadline,
            "no SSH port reported for {rental}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rental's SSH port once its sshd lets `renter` in (an instance just restarted is
/// running a moment before its sshd listens).
pub async fn wait_ssh(cluster: &Cluster, renter: &Renter, rental: &Pubkey) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(port) = ssh_port(cluster, rental).await {
            if renter.ssh(port, "true").status.success() {
                return port;
            }
        }
        assert!(Instant::now() < deadline, "no SSH into {rental}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The SPL Token program (the local Calor mint's).
pub fn spl_token_id() -> Pubkey {
    anchor_spl::token::spl_token::ID
}

/// How a rental settles with `served` seconds (the program's own math, per purchase), in
/// lamports or Calor base units.
pub fn settlement(rental: &Rental, served: u64) -> calor::math::Settlement {
    calor::math::settle(
        rental.purchases(),
        served,
        &calor::instructions::settle_terms(rental, 0),
    )
    .unwrap()
}

pub fn is_state(state: RentalState) -> impl Fn(Option<&Rental>) -> bool {
    move |r| r.is_some_and(|r| r.state() == state)
}

pub fn is_gone(r: Option<&Rental>) -> bool {
    r.is_none()
}
