//! Counters and gauges, rendered in the Prometheus text format at `/metrics`.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::gpu::{Gpu, GpuSample};

/// Formats one measurement of a GPU sample.
type Render = fn(&GpuSample) -> String;

#[derive(Default)]
pub struct Metrics {
    claims_won: AtomicU64,
    claims_lost: AtomicU64,
    instances_started: AtomicU64,
    instances_removed: AtomicU64,
    rentals_failed: AtomicU64,
    rentals_expired: AtomicU64,
    rentals_settled: AtomicU64,
    transaction_errors: AtomicU64,
    rpc_errors: AtomicU64,
    resyncs: AtomicU64,
    last_resync_ms: AtomicU64,
    rentals_known: AtomicU64,
    nodes_known: AtomicU64,
    instances: AtomicU64,
    ws_connected: AtomicBool,
    provisioning_ms_sum: AtomicU64,
    provisioning_count: AtomicU64,
    heartbeats: AtomicU64,
    last_heartbeat: Mutex<Option<Instant>>,
    gpus: Mutex<(Vec<Gpu>, Vec<GpuSample>, bool)>,
}

macro_rules! inc {
    ($($name:ident),+) => { $(pub fn $name(&self) { self.$name.fetch_add(1, Relaxed); })+ };
}

impl Metrics {
    inc!(
        claims_won,
        claims_lost,
        instances_started,
        instances_removed,
        rentals_failed,
        rentals_expired,
        rentals_settled
    );

    pub fn transaction_error(&self) {
        self.transaction_errors.fetch_add(1, Relaxed);
    }
    pub fn rpc_error(&self) {
        self.rpc_errors.fetch_add(1, Relaxed);
    }
    pub fn resynced(&self, took: Duration) {
        self.resyncs.fetch_add(1, Relaxed);
        self.last_resync_ms.store(took.as_millis() as u64, Relaxed);
    }
    pub fn set_view(&self, rentals: usize, nodes: usize) {
        self.rentals_known.store(rentals as u64, Relaxed);
        self.nodes_known.store(nodes as u64, Relaxed);
    }
    pub fn set_instances(&self, n: usize) {
        self.instances.store(n as u64, Relaxed);
    }
    pub fn set_ws_connected(&self, up: bool) {
        self.ws_connected.store(up, Relaxed);
    }
    pub fn ws_connected(&self) -> bool {
        self.ws_connected.load(Relaxed)
    }
    /// Time from a claim's confirmation to `start` being recorded.
    pub fn provisioned(&self, took: Duration) {
        self.provisioning_ms_sum
            .fetch_add(took.as_millis() as u64, Relaxed);
        self.provisioning_count.fetch_add(1, Relaxed);
    }
    pub fn heartbeat_sent(&self) {
        self.heartbeats.fetch_add(1, Relaxed);
        *self.last_heartbeat.lock().expect("metrics lock") = Some(Instant::now());
    }
    pub fn set_gpus(&self, inventory: &[Gpu], samples: Vec<GpuSample>, declared: bool) {
        *self.gpus.lock().expect("metrics lock") = (inventory.to_vec(), samples, declared);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut put = |name: &str, kind: &str, help: &str, value: String| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        };
        let counters = [
            (
                "calor_claims_won_total",
                &self.claims_won,
                "Rentals this cluster claimed",
            ),
            (
                "calor_claims_lost_total",
                &self.claims_lost,
                "Claims another cluster won first",
            ),
            (
                "calor_instances_started_total",
                &self.instances_started,
                "Instances recorded as started on-chain",
            ),
            (
                "calor_instances_removed_total",
                &self.instances_removed,
                "Instances stopped and removed",
            ),
            (
                "calor_rentals_failed_total",
                &self.rentals_failed,
                "Rentals failed (full refund)",
            ),
            (
                "calor_rentals_expired_total",
                &self.rentals_expired,
                "Rentals ended at expiry",
            ),
            (
                "calor_rentals_settled_total",
                &self.rentals_settled,
                "Rentals settled",
            ),
            (
                "calor_transaction_errors_total",
                &self.transaction_errors,
                "Transactions that failed",
            ),
            (
                "calor_rpc_errors_total",
                &self.rpc_errors,
                "RPC reads that failed",
            ),
            (
                "calor_resyncs_total",
                &self.resyncs,
                "Full getProgramAccounts resyncs",
            ),
            (
                "calor_heartbeats_total",
                &self.heartbeats,
                "node_heartbeat transactions confirmed",
            ),
        ];
        for (name, value, help) in counters {
            put(name, "counter", help, value.load(Relaxed).to_string());
        }
        let gauges = [
            (
                "calor_last_resync_milliseconds",
                &self.last_resync_ms,
                "Duration of the last resync",
            ),
            (
                "calor_rentals_known",
                &self.rentals_known,
                "Rental accounts in the view",
            ),
            (
                "calor_nodes_known",
                &self.nodes_known,
                "Node accounts in the view",
            ),
            (
                "calor_instances",
                &self.instances,
                "Instances labelled with this provider",
            ),
            (
                "calor_provisioning_milliseconds_sum",
                &self.provisioning_ms_sum,
                "Claim to start, summed",
            ),
            (
                "calor_provisioning_count",
                &self.provisioning_count,
                "Instances provisioned",
            ),
        ];
        for (name, value, help) in gauges {
            put(name, "gauge", help, value.load(Relaxed).to_string());
        }
        put(
            "calor_websocket_connected",
            "gauge",
            "programSubscribe is live",
            u8::from(self.ws_connected()).to_string(),
        );

        let (inventory, samples, declared) = self.gpus.lock().expect("metrics lock").clone();
        put(
            "calor_gpu_inventory_declared",
            "gauge",
            "1 when GPUs come from a declared file (no driver), 0 from NVML",
            u8::from(declared).to_string(),
        );
        out.push_str("# HELP calor_gpu_memory_total_mib GPU memory\n# TYPE calor_gpu_memory_total_mib gauge\n");
        for g in &inventory {
            out.push_str(&format!(
                "calor_gpu_memory_total_mib{{uuid=\"{}\",name=\"{}\"}} {}\n",
                g.uuid, g.name, g.memory_mib
            ));
        }
        let series: [(&str, &str, Render); 4] = [
            ("calor_gpu_utilization_percent", "GPU utilisation", |s| {
                s.utilization_pct.to_string()
            }),
            ("calor_gpu_memory_used_mib", "GPU memory in use", |s| {
                s.memory_used_mib.to_string()
            }),
            ("calor_gpu_power_watts", "GPU power draw", |s| {
                format!("{:.3}", s.power_watts)
            }),
            ("calor_gpu_temperature_celsius", "GPU temperature", |s| {
                s.temperature_c.to_string()
            }),
        ];
        for (name, help, value) in series {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
            for s in &samples {
                out.push_str(&format!("{name}{{uuid=\"{}\"}} {}\n", s.uuid, value(s)));
            }
        }
        out
    }
}
