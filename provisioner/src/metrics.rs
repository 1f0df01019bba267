//! The provisioner's metrics, kept and rendered (Prometheus text format 0.0.4) by
//! `prometheus-client`. Counters count what this process confirmed on-chain or did in the
//! engine, once each; gauges are set from the latest observation.
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::gpu::{Gpu, GpuHealth, GpuSample};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeLabel {
    pub node: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeStateLabel {
    pub node: u32,
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WithheldLabel {
    pub node: u32,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GpuLabel {
    pub uuid: String,
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndLabel {
    pub reason: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    pub claims_won: Counter,
    pub claims_lost: Counter,
    pub instances_started: Counter,
    pub instances_removed: Counter,
    pub instance_restarts: Counter,
    pub rentals_failed: Counter,
    pub rentals_expired: Counter,
    /// Rentals this process ended early, by why (crash loop, GPU fault, node drained).
    pub rentals_completed: Family<EndLabel, Counter>,
    pub rentals_settled: Counter,
    pub gpu_check_failures: Counter,
    pub transaction_errors: Counter,
    pub rpc_errors: Counter,
    pub engine_errors: Counter,
    pub resyncs: Counter,
    pub ws_reconnects: Counter,
    pub heartbeat_transactions: Counter,
    pub heartbeats_withheld: Family<WithheldLabel, Counter>,
    pub rentals_known: Gauge,
    pub nodes_known: Gauge,
    pub instances: Gauge,
    pub ws_connected: Gauge,
    pub engine_up: Gauge,
    pub wallet_lamports: Gauge,
    pub node_state: Family<NodeStateLabel, Gauge>,
    pub node_serving: Family<NodeLabel, Gauge>,
    heartbeat_age: Family<NodeLabel, FloatGauge>,
    last_heartbeat: Mutex<HashMap<u32, Instant>>,
    pub last_resync_seconds: FloatGauge,
    pub provisioning_seconds: Histogram,
    pub reconcile_pass_seconds: Histogram,
    gpu_declared: Gauge,
    gpu_healthy: Family<GpuLabel, Gauge>,
    gpu_memory_total_mib: Family<GpuLabel, Gauge>,
    gpu_utilization: Family<GpuLabel, Gauge>,
    gpu_memory_used_mib: Family<GpuLabel, Gauge>,
    gpu_power_watts: Family<GpuLabel, FloatGauge>,
    gpu_temperature: Family<GpuLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("calor");
        macro_rules! add {
            ($name:literal, $help:literal, $metric:expr) => {{
                let metric = $metric;
                r.register($name, $help, metric.clone());
                metric
            }};
        }
        let m = Self {
            claims_won: add!(
                "claims_won",
                "Rentals this cluster claimed",
                Counter::default()
            ),
            claims_lost: add!(
                "claims_lost",
                "Claims another cluster won first",
                Counter::default()
            ),
            instances_started: add!(
                "instances_started",
                "Instances recorded as started on-chain",
                Counter::default()
            ),
            instances_removed: add!(
                "instances_removed",
                "Instances stopped and removed",
                Counter::default()
            ),
            instance_restarts: add!(
                "instance_restarts",
                "Running instances found stopped and started again",
                Counter::default()
            ),
            rentals_failed: add!(
                "rentals_failed",
                "Rentals failed before they ran (full refund)",
                Counter::default()
            ),
            rentals_expired: add!(
                "rentals_expired",
                "Rentals ended at expiry",
                Counter::default()
            ),
            rentals_completed: add!(
                "rentals_completed_early",
                "Rentals this provisioner ended early, by reason",
                Family::default()
            ),
            rentals_settled: add!(
                "rentals_settled",
                "Settlements this process confirmed",
                Counter::default()
            ),
            gpu_check_failures: add!(
                "gpu_check_failures",
                "Instances that did not see exactly their GPUs",
                Counter::default()
            ),
            transaction_errors: add!(
                "transaction_errors",
                "Transactions that failed",
                Counter::default()
            ),
            rpc_errors: add!("rpc_errors", "RPC reads that failed", Counter::default()),
            engine_errors: add!(
                "engine_errors",
                "Container engine calls that failed",
                Counter::default()
            ),
            resyncs: add!(
                "resyncs",
                "Full getProgramAccounts resyncs",
                Counter::default()
            ),
            ws_reconnects: add!(
                "websocket_reconnects",
                "Websocket sessions that ended (closed, failed or stalled)",
                Counter::default()
            ),
            heartbeat_transactions: add!(
                "heartbeat_transactions",
                "node_heartbeat transactions confirmed",
                Counter::default()
            ),
            heartbeats_withheld: add!(
                "heartbeats_withheld",
                "Heartbeats not sent for a node that cannot serve, by reason",
                Family::default()
            ),
            rentals_known: add!(
                "rentals_known",
                "Rental accounts in the view",
                Gauge::default()
            ),
            nodes_known: add!("nodes_known", "Node accounts in the view", Gauge::default()),
            instances: add!(
                "instances",
                "Instances of this cluster in the engine",
                Gauge::default()
            ),
            ws_connected: add!(
                "websocket_connected",
                "1 while programSubscribe is live",
                Gauge::default()
            ),
            engine_up: add!(
                "engine_up",
                "1 when the container engine answered its last call",
                Gauge::default()
            ),
            wallet_lamports: add!(
                "operator_wallet_lamports",
                "The operator key's SOL balance (pays every transaction)",
                Gauge::default()
            ),
            node_state: add!(
                "node_state",
                "1 for each node's on-chain status",
                Family::default()
            ),
            node_serving: add!(
                "node_serving",
                "1 while the node's heartbeat is sent (it can serve)",
                Family::default()
            ),
            heartbeat_age: add!(
                "node_heartbeat_age_seconds",
                "Seconds since the node's last confirmed heartbeat",
                Family::default()
            ),
            last_heartbeat: Mutex::default(),
            last_resync_seconds: add!(
                "last_resync_seconds",
                "Duration of the last resync",
                FloatGauge::default()
            ),
            provisioning_seconds: add!(
                "provisioning_seconds",
                "Claim confirmed to start recorded",
                Histogram::new(exponential_buckets(0.25, 2.0, 10))
            ),
            reconcile_pass_seconds: add!(
                "reconcile_pass_seconds",
                "One reconcile pass (listing, view, decisions)",
                Histogram::new(exponential_buckets(0.001, 2.0, 14))
            ),
            gpu_declared: add!(
                "gpu_inventory_declared",
                "1 when GPUs come from a declared file (no driver), 0 from NVML",
                Gauge::default()
            ),
            gpu_healthy: add!(
                "gpu_healthy",
                "1 healthy, 0 unhealthy (Xid, ECC, retired pages, lost)",
                Family::default()
            ),
            gpu_memory_total_mib: add!("gpu_memory_total_mib", "GPU memory", Family::default()),
            gpu_utilization: add!(
                "gpu_utilization_percent",
                "GPU utilisation",
                Family::default()
            ),
            gpu_memory_used_mib: add!(
                "gpu_memory_used_mib",
                "GPU memory in use",
                Family::default()
            ),
            gpu_power_watts: add!("gpu_power_watts", "GPU power draw", Family::default()),
            gpu_temperature: add!(
                "gpu_temperature_celsius",
                "GPU temperature",
                Family::default()
            ),
            registry: Registry::default(),
        };
        Self { registry: r, ..m }
    }

    pub fn ws_connected(&self) -> bool {
        self.ws_connected.get() == 1
    }

    pub fn set_view(&self, rentals: usize, nodes: usize) {
        self.rentals_known.set(rentals as i64);
        self.nodes_known.set(nodes as i64);
    }

    pub fn resynced(&self, took: Duration) {
        self.resyncs.inc();
        self.last_resync_seconds.set(took.as_secs_f64());
    }

    pub fn heartbeat_confirmed(&self, nodes: &[u32]) {
        let now = Instant::now();
        let mut last = self.last_heartbeat.lock().expect("metrics lock");
        for node in nodes {
            last.insert(*node, now);
        }
    }

    /// Seconds since the node's last confirmed heartbeat, if any.
    pub fn heartbeat_age(&self, node: u32) -> Option<Duration> {
        self.last_heartbeat
            .lock()
            .expect("metrics lock")
            .get(&node)
            .map(|t| t.elapsed())
    }

    pub fn set_node_state(&self, node: u32, state: &str) {
        for s in ["idle", "busy", "offline"] {
            self.node_state
                .get_or_create(&NodeStateLabel {
                    node,
                    state: s.into(),
                })
                .set(i64::from(s == state));
        }
    }

    pub fn set_gpus(
        &self,
        inventory: &[Gpu],
        samples: &[GpuSample],
        health: &HashMap<String, GpuHealth>,
        declared: bool,
    ) {
        self.gpu_declared.set(i64::from(declared));
        let names: HashMap<&str, &str> = inventory
            .iter()
            .map(|g| (g.uuid.as_str(), g.name.as_str()))
            .collect();
        let label = |uuid: &str| GpuLabel {
            uuid: uuid.into(),
            name: names.get(uuid).copied().unwrap_or_default().into(),
        };
        for g in inventory {
            let l = label(&g.uuid);
            self.gpu_memory_total_mib
                .get_or_create(&l)
                .set(g.memory_mib as i64);
            let healthy = matches!(health.get(&g.uuid), Some(GpuHealth::Healthy));
            self.gpu_healthy.get_or_create(&l).set(i64::from(healthy));
        }
        for s in samples {
            let l = label(&s.uuid);
            self.gpu_utilization
                .get_or_create(&l)
                .set(i64::from(s.utilization_pct));
            self.gpu_memory_used_mib
                .get_or_create(&l)
                .set(s.memory_used_mib as i64);
            self.gpu_power_watts.get_or_create(&l).set(s.power_watts);
            self.gpu_temperature
                .get_or_create(&l)
                .set(i64::from(s.temperature_c));
        }
    }

    pub fn render(&self) -> String {
        for (node, at) in self.last_heartbeat.lock().expect("metrics lock").iter() {
            self.heartbeat_age
                .get_or_create(&NodeLabel { node: *node })
                .set(at.elapsed().as_secs_f64());
        }
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_the_prometheus_text_format() {
        let m = Metrics::new();
        m.claims_won.inc();
        m.heartbeats_withheld
            .get_or_create(&WithheldLabel {
                node: 3,
                reason: "engine".into(),
            })
            .inc();
        m.set_node_state(3, "offline");
        m.provisioning_seconds.observe(0.7);
        m.heartbeat_confirmed(&[3]);
        let text = m.render();
        for line in [
            "calor_claims_won_total 1",
            "calor_heartbeats_withheld_total{node=\"3\",reason=\"engine\"} 1",
            "calor_node_state{node=\"3\",state=\"offline\"} 1",
            "calor_node_state{node=\"3\",state=\"idle\"} 0",
            "calor_provisioning_seconds_count 1",
            "# TYPE calor_provisioning_seconds histogram",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.contains("calor_node_heartbeat_age_seconds{node=\"3\"}"));
    }
}
