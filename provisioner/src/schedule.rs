//! Which queued rentals this cluster claims, and for which of its idle nodes.
//!
//! - A region pin is honoured: only clusters in that region may take the rental.
//! - An unpinned rental is offered first to one region among those with idle capacity for it,
//!   then to the next after `fallback_delay`, and so on, so clusters do not all race for it.
//!   A rental that carries the renter's location goes to the nearest such region first, then
//!   the others by distance (great-circle, from the regions' on-chain coordinates); one
//!   without a location gets a rendezvous-hash order of (rental, region): stable, spread
//!   evenly. Either order is the same in every cluster.
//! - Among rentals, stakers' priority first, then age (`calor_client::queue`).
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use calor_client::accounts::{Node, NodeStatus, Rental, RentalState};
use calor_client::queue::queued_in_order;
use calor_client::Pubkey;

/// One of this cluster's nodes.
#[derive(Debug, Clone)]
pub struct LocalNode {
    pub index: u32,
    pub address: Pubkey,
    pub node: Node,
}

/// A decision: claim `rental` for the node at `node_index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub rental: Pubkey,
    pub node_index: u32,
}

/// What the scheduler looks at.
pub struct Market<'a> {
    pub now: i64,
    pub heartbeat_timeout_secs: i64,
    /// Every rental known (only queued ones are considered).
    pub rentals: &'a [(Pubkey, Rental)],
    /// Every node of every provider, to know which regions have idle capacity.
    pub nodes: &'a [(Pubkey, Node)],
    /// Each region's location (latitude, longitude in micro-degrees), from its account.
    pub regions: &'a HashMap<u16, (i32, i32)>,
}

pub fn node_can_serve(node: &Node, rental: &Rental, now: i64, heartbeat_timeout_secs: i64) -> bool {
    node.status() == NodeStatus::Idle
        && node.gpu_model == rental.gpu_model
        && node.hourly_rate_micro_usd <= rental.hourly_rate_micro_usd
        && now.saturating_sub(node.last_heartbeat) <= heartbeat_timeout_secs
        && rental.region_pin().is_none_or(|pin| pin == node.region)
}

/// Great-circle distance in km between a renter at (`lat`, `lon`) degrees and a region at
/// micro-degrees.
pub fn distance_km((lat, lon): (i16, i16), (region_lat, region_lon): (i32, i32)) -> f64 {
    let rad = |micro_deg: f64| micro_deg.to_radians();
    let (p1, l1) = (rad(f64::from(lat)), rad(f64::from(lon)));
    let (p2, l2) = (
        rad(f64::from(region_lat) / 1e6),
        rad(f64::from(region_lon) / 1e6),
    );
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * 6_371.0 * h.sqrt().min(1.0).asin()
}

/// The order in which regions are offered an unpinned rental: by distance from the renter
/// when it gave its location (regions without known coordinates last), else by hash.
pub fn rental_region_rank(
    address: &Pubkey,
    rental: &Rental,
    region: u16,
    candidates: &BTreeSet<u16>,
    locations: &HashMap<u16, (i32, i32)>,
) -> usize {
    let Some(here) = rental.location() else {
        return region_rank(address, region, candidates);
    };
    let key = |r: u16| {
        let km = locations
            .get(&r)
            .map_or(f64::INFINITY, |&at| distance_km(here, at));
        (km, r)
    };
    let mine = key(region);
    candidates
        .iter()
        .filter(|&&r| r != region && key(r) < mine)
        .count()
}

/// The order in which regions are offered an unpinned rental without a location.
pub fn region_rank(rental: &Pubkey, region: u16, candidates: &BTreeSet<u16>) -> usize {
    let score = |r: u16| {
        // FNV-1a over the rental address and region: cheap and identical everywhere.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in rental.as_ref().iter().chain(r.to_le_bytes().iter()) {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let mine = score(region);
    candidates
        .iter()
        .filter(|&&r| r != region && score(r) > mine)
        .count()
}

/// The claims this cluster (in `region`, with `local` nodes) should make now.
pub fn plan(
    market: &Market<'_>,
    region: u16,
    local: &[LocalNode],
    fallback_delay: Duration,
) -> Vec<Claim> {
    let mut free: Vec<&LocalNode> = local
        .iter()
        .filter(|n| n.node.status() == NodeStatus::Idle)
        .collect();
    let mut taken = HashSet::new();
    let mut claims = Vec::new();
    for (address, rental) in queued_in_order(market.rentals) {
        if free.is_empty() {
            break;
        }
        if rental.state() != RentalState::Queued {
            continue;
        }
        let serves =
            |n: &Node| node_can_serve(n, rental, market.now, market.heartbeat_timeout_secs);
        let Some(slot) = free.iter().position(|n| serves(&n.node)) else {
            continue;
        };
        if rental.region_pin().is_none() {
            let regions: BTreeSet<u16> = market
                .nodes
                .iter()
                .filter(|(a, n)| !taken.contains(a) && serves(n))
                .map(|(_, n)| n.region)
                .collect();
            let rank = rental_region_rank(address, rental, region, &regions, market.regions) as u64;
            let waited = market.now.saturating_sub(rental.created_at).max(0) as u64;
            if waited < rank * fallback_delay.as_secs() {
                continue;
            }
        }
        let node = free.remove(slot);
        taken.insert(node.address);
        claims.push(Claim {
            rental: *address,
            node_index: node.index,
        });
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(region: u16, status: NodeStatus) -> Node {
        Node {
            provider: Pubkey::new_unique(),
            region,
            gpu_model: 1,
            gpu_count: 1,
            hourly_rate_micro_usd: 2_000_000,
            status: status as u8,
            last_heartbeat: 1_000,
            bump: 255,
            ..bytemuck::Zeroable::zeroed()
        }
    }

    fn rental(region: Option<u16>, created_at: i64, priority: u8) -> Rental {
        Rental {
            renter: Pubkey::new_unique(),
            gpu_model: 1,
            region: region.unwrap_or(0),
            near_latitude_deg: calor::constants::NO_LOCATION,
            near_longitude_deg: calor::constants::NO_LOCATION,
            hourly_rate_micro_usd: 3_000_000,
            hours: 1,
            created_at,
            state: RentalState::Queued as u8,
            priority,
            ..bytemuck::Zeroable::zeroed()
        }
    }

    fn local(region: u16, count: u32) -> Vec<LocalNode> {
        (0..count)
            .map(|index| LocalNode {
                index,
                address: Pubkey::new_unique(),
                node: node(region, NodeStatus::Idle),
            })
            .collect()
    }

    fn market<'a>(rentals: &'a [(Pubkey, Rental)], nodes: &'a [(Pubkey, Node)]) -> Market<'a> {
        Market {
            now: 1_010,
            heartbeat_timeout_secs: 300,
            rentals,
            nodes,
            regions: &NO_REGIONS,
        }
    }

    static NO_REGIONS: std::sync::LazyLock<HashMap<u16, (i32, i32)>> =
        std::sync::LazyLock::new(HashMap::new);

    #[test]
    fn pins_are_honoured() {
        let rentals = vec![(Pubkey::new_unique(), rental(Some(2), 1_000, 0))];
        let mine = local(1, 1);
        assert!(plan(&market(&rentals, &[]), 1, &mine, Duration::from_secs(20)).is_empty());
        let theirs = local(2, 1);
        let claims = plan(&market(&rentals, &[]), 2, &theirs, Duration::from_secs(20));
        assert_eq!(
            claims,
            vec![Claim {
                rental: rentals[0].0,
                node_index: 0
            }]
        );
    }

    #[test]
    fn stakers_then_age_and_one_rental_per_node() {
        let old = (Pubkey::new_unique(), rental(Some(1), 900, 0));
        let young_staker = (Pubkey::new_unique(), rental(Some(1), 1_000, 2));
        let rentals = vec![old, young_staker];
        let claims = plan(
            &market(&rentals, &[]),
            1,
            &local(1, 1),
            Duration::from_secs(20),
        );
        assert_eq!(
            claims,
            vec![Claim {
                rental: young_staker.0,
                node_index: 0
            }]
        );
        let claims = plan(
            &market(&rentals, &[]),
            1,
            &local(1, 2),
            Duration::from_secs(20),
        );
        assert_eq!(claims.len(), 2);
        assert_eq!(claims[1].rental, old.0);
    }

    #[test]
    fn unpinned_work_goes_to_one_region_first_then_falls_back() {
        let a = Pubkey::new_unique();
        let all = vec![
            (Pubkey::new_unique(), node(1, NodeStatus::Idle)),
            (Pubkey::new_unique(), node(2, NodeStatus::Idle)),
        ];
        let regions: BTreeSet<u16> = [1, 2].into();
        let (first, second) = if region_rank(&a, 1, &regions) == 0 {
            (1, 2)
        } else {
            (2, 1)
        };
        assert_eq!(region_rank(&a, second, &regions), 1);

        let rentals = vec![(a, rental(None, 1_005, 0))];
        let delay = Duration::from_secs(20);
        let m = market(&rentals, &all);
        assert_eq!(plan(&m, first, &local(first, 1), delay).len(), 1);
        assert!(
            plan(&m, second, &local(second, 1), delay).is_empty(),
            "waits for the first region"
        );
        let later = Market {
            now: 1_030,
            ..market(&rentals, &all)
        };
        assert_eq!(
            plan(&later, second, &local(second, 1), delay).len(),
            1,
            "falls back after the delay"
        );

        // With no idle capacity in the first region, the second takes it at once.
        let busy_first = vec![
            (all[0].0, node(first, NodeStatus::Busy)),
            (all[1].0, node(second, NodeStatus::Idle)),
        ];
        assert_eq!(
            plan(
                &market(&rentals, &busy_first),
                second,
                &local(second, 1),
                delay
            )
            .len(),
            1
        );
    }

    #[test]
    fn stale_or_wrong_nodes_do_not_claim() {
        let rentals = vec![(Pubkey::new_unique(), rental(Some(1), 1_000, 0))];
        let mut mine = local(1, 1);
        mine[0].node.last_heartbeat = 0;
        assert!(plan(&market(&rentals, &[]), 1, &mine, Duration::ZERO).is_empty());
        let mut mine = local(1, 1);
        mine[0].node.hourly_rate_micro_usd = 9_000_000;
        assert!(plan(&market(&rentals, &[]), 1, &mine, Duration::ZERO).is_empty());
    }

    #[test]
    fn a_located_rental_goes_to_the_nearest_region_first_then_by_distance() {
        // US East (Ohio) 1, EU West (Paris) 3, AP South (Mumbai) 4; a renter in Berlin
        let locations: HashMap<u16, (i32, i32)> = calor_client::catalog::REGIONS
            .iter()
            .map(|r| (r.id, (r.latitude_micro_deg, r.longitude_micro_deg)))
            .collect();
        let mut berliner = rental(None, 1_000, 0);
        (berliner.near_latitude_deg, berliner.near_longitude_deg) = (52, 13);
        let a = Pubkey::new_unique();
        let candidates: BTreeSet<u16> = [1, 3, 4].into();
        let rank = |r| rental_region_rank(&a, &berliner, r, &candidates, &locations);
        assert_eq!((rank(3), rank(4), rank(1)), (0, 1, 2));
        assert!((800.0..900.0).contains(&distance_km((52, 13), locations[&3])));

        let all: Vec<(Pubkey, Node)> = [1, 3, 4]
            .into_iter()
            .map(|r| (Pubkey::new_unique(), node(r, NodeStatus::Idle)))
            .collect();
        let rentals = vec![(a, berliner)];
        let delay = Duration::from_secs(20);
        let at = |now| Market {
            now,
            regions: &locations,
            ..market(&rentals, &all)
        };
        assert_eq!(
            plan(&at(1_000), 3, &local(3, 1), delay).len(),
            1,
            "Paris at once"
        );
        assert!(plan(&at(1_019), 4, &local(4, 1), delay).is_empty());
        assert_eq!(
            plan(&at(1_020), 4, &local(4, 1), delay).len(),
            1,
            "Mumbai after one delay"
        );
        assert!(plan(&at(1_039), 1, &local(1, 1), delay).is_empty());
        assert_eq!(
            plan(&at(1_040), 1, &local(1, 1), delay).len(),
            1,
            "Ohio after two"
        );
    }
}
