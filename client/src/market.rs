//! The market as the chain's accounts describe it: which nodes can take work now (by status and
//! heartbeat), how many of each GPU model are idle and online per region, and the rate a new
//! rental offers (the cheapest idle node's, else the cheapest online one's, and the rental
//! queues). Pure functions over decoded accounts, so the API's catalog, its opens and the SDK
//! (which reads the same accounts straight from an RPC node) count and price alike.
use std::collections::BTreeMap;

use calor::state::{GpuModel, Node, NodeStatus, Region};

/// What one node can do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Online with no rental.
    Idle,
    /// Online and serving (or starting) a rental.
    Busy,
    /// Offline, or its heartbeat is older than the config allows.
    Offline,
}

/// Whether `node` can take work at `chain_time`, by its status and its last heartbeat.
pub fn availability(node: &Node, heartbeat_timeout_secs: u32, chain_time: i64) -> Availability {
    let live = chain_time.saturating_sub(node.last_heartbeat) <= i64::from(heartbeat_timeout_secs);
    match node.status() {
        NodeStatus::Offline => Availability::Offline,
        _ if !live => Availability::Offline,
        NodeStatus::Idle if node.current_rental().is_none() => Availability::Idle,
        _ => Availability::Busy,
    }
}

/// The rate a new rental offers, per node-hour in micro-USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub rate_micro_usd: u64,
    /// No node is idle: the rental waits in the queue for one of the online nodes.
    pub queued: bool,
}

/// Nodes counted by what they can do, with the cheapest rate of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub idle: u32,
    pub online: u32,
    pub cheapest_idle: Option<u64>,
    pub cheapest_online: Option<u64>,
}

impl Tally {
    pub fn add(&mut self, rate_micro_usd: u64, availability: Availability) {
        let cheaper = |c: Option<u64>| Some(c.map_or(rate_micro_usd, |c| c.min(rate_micro_usd)));
        match availability {
            Availability::Offline => {}
            Availability::Busy => {
                self.online += 1;
                self.cheapest_online = cheaper(self.cheapest_online);
            }
            Availability::Idle => {
                self.online += 1;
                self.idle += 1;
                self.cheapest_online = cheaper(self.cheapest_online);
                self.cheapest_idle = cheaper(self.cheapest_idle);
            }
        }
    }

    /// The cheapest idle node's rate, else the cheapest online node's (queued); `None` when no
    /// node is online.
    pub fn offer(&self) -> Option<Offer> {
        self.cheapest_idle
            .map(|rate_micro_usd| Offer {
                rate_micro_usd,
                queued: false,
            })
            .or(self.cheapest_online.map(|rate_micro_usd| Offer {
                rate_micro_usd,
                queued: true,
            }))
    }
}

/// The rate a rental of `gpu` (pinned to `region`, or anywhere) offers now.
pub fn offer<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    gpu: u16,
    region: Option<u16>,
    heartbeat_timeout_secs: u32,
    chain_time: i64,
) -> Option<Offer> {
    let mut tally = Tally::default();
    for node in nodes {
        if node.gpu_model == gpu && region.is_none_or(|r| r == node.region) {
            tally.add(
                node.hourly_rate_micro_usd,
                availability(node, heartbeat_timeout_secs, chain_time),
            );
        }
    }
    tally.offer()
}

/// The network's capacity now, counted over every node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capacity {
    pub nodes_online: u32,
    pub gpus_online: u32,
    pub gpus_busy: u32,
    /// Dense FP16 throughput of the online GPUs.
    pub fp16_tflops_online: u64,
}

impl Capacity {
    /// Busy GPUs over online ones (0 with none online).
    pub fn utilisation(&self) -> f64 {
        if self.gpus_online == 0 {
            0.0
        } else {
            f64::from(self.gpus_busy) / f64::from(self.gpus_online)
        }
    }
}

/// Counts online nodes, their GPUs (busy and in all) and their FP16 throughput, by
/// `tflops_of` a GPU model.
pub fn capacity<'a>(
    nodes: impl IntoIterator<Item = &'a Node>,
    tflops_of: impl Fn(u16) -> u32,
    heartbeat_timeout_secs: u32,
    chain_time: i64,
) -> Capacity {
    let mut c = Capacity::default();
    for node in nodes {
        let a = availability(node, heartbeat_timeout_secs, chain_time);
        if a == Availability::Offline {
            continue;
        }
        let gpus = u32::from(node.gpu_count);
        c.nodes_online += 1;
        c.gpus_online += gpus;
        if a == Availability::Busy {
            c.gpus_busy += gpus;
        }
        c.fp16_tflops_online += u64::from(tflops_of(node.gpu_model)) * u64::from(gpus);
    }
    c
}

/// One GPU model in one active region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionMarket {
    pub id: u16,
    pub code: String,
    pub name: String,
    pub tally: Tally,
}

/// One GPU model across the active regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMarket {
    pub id: u16,
    pub name: String,
    pub architecture: String,
    pub vram_gb: u16,
    pub fp16_tflops: u32,
    pub active: bool,
    /// Summed over the regions; its rates are the cheapest over them.
    pub tally: Tally,
    pub regions: Vec<RegionMarket>,
}

impl ModelMarket {
    /// The rate an unpinned rental offers: the best region's (idle before queued).
    pub fn offer(&self) -> Option<Offer> {
        self.tally.offer()
    }
}

/// Every model, each with its nodes counted per active region.
pub fn catalog<'a>(
    models: impl IntoIterator<Item = &'a GpuModel>,
    regions: &[&Region],
    nodes: impl IntoIterator<Item = &'a Node>,
    heartbeat_timeout_secs: u32,
    chain_time: i64,
) -> Vec<ModelMarket> {
    let mut tallies: BTreeMap<(u16, u16), Tally> = BTreeMap::new();
    for node in nodes {
        tallies
            .entry((node.gpu_model, node.region))
            .or_default()
            .add(
                node.hourly_rate_micro_usd,
                availability(node, heartbeat_timeout_secs, chain_time),
            );
    }
    models
        .into_iter()
        .map(|m| {
            let mut total = Tally::default();
            let regions = regions
                .iter()
                .filter(|r| r.is_active())
                .map(|r| {
                    let tally = tallies.get(&(m.id, r.id)).copied().unwrap_or_default();
                    total.idle += tally.idle;
                    total.online += tally.online;
                    total.cheapest_idle = min(total.cheapest_idle, tally.cheapest_idle);
                    total.cheapest_online = min(total.cheapest_online, tally.cheapest_online);
                    RegionMarket {
                        id: r.id,
                        code: r.code().to_string(),
                        name: r.name().to_string(),
                        tally,
                    }
                })
                .collect();
            ModelMarket {
                id: m.id,
                name: m.name().to_string(),
                architecture: m.architecture().to_string(),
                vram_gb: m.vram_gb,
                fp16_tflops: m.fp16_tflops,
                active: m.is_active(),
                tally: total,
                regions,
            }
        })
        .collect()
}

fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;

    fn node(gpu: u16, region: u16, rate: u64, status: NodeStatus, busy: bool, beat: i64) -> Node {
        let mut n: Node = bytemuck::Zeroable::zeroed();
        n.gpu_model = gpu;
        n.region = region;
        n.hourly_rate_micro_usd = rate;
        n.set_status(status);
        n.last_heartbeat = beat;
        if busy {
            n.current_rental = Pubkey::new_unique();
        }
        n
    }

    #[test]
    fn idle_beats_busy_and_a_stale_heartbeat_is_offline() {
        let nodes = [
            node(1, 1, 3_000_000, NodeStatus::Idle, false, 100),
            node(1, 2, 1_000_000, NodeStatus::Busy, true, 100),
            node(1, 1, 500_000, NodeStatus::Idle, false, 10), // stale at 100 with 60 s
            node(2, 1, 700_000, NodeStatus::Idle, false, 100),
        ];
        assert_eq!(availability(&nodes[2], 60, 100), Availability::Offline);
        assert_eq!(availability(&nodes[1], 60, 100), Availability::Busy);
        let o = offer(&nodes, 1, None, 60, 100).unwrap();
        assert_eq!(
            o,
            Offer {
                rate_micro_usd: 3_000_000,
                queued: false
            }
        );
        let o = offer(&nodes, 1, Some(2), 60, 100).unwrap();
        assert_eq!(
            o,
            Offer {
                rate_micro_usd: 1_000_000,
                queued: true
            }
        );
        assert_eq!(offer(&nodes, 3, None, 60, 100), None);
        let mut two = node(2, 1, 700_000, NodeStatus::Busy, true, 100);
        two.gpu_count = 2;
        let c = capacity(
            nodes.iter().chain([&two]),
            |gpu| u32::from(gpu) * 100,
            60,
            100,
        );
        // the stale node is not counted; nodes of zero GPUs count as nodes
        assert_eq!(
            c,
            Capacity {
                nodes_online: 4,
                gpus_online: 2,
                gpus_busy: 2,
                fp16_tflops_online: 400,
            }
        );
        assert_eq!(c.utilisation(), 1.0);
        assert_eq!(Capacity::default().utilisation(), 0.0);
    }
}
