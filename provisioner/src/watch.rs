//! What the provisioner takes from the shared chain watcher (`calor_client::watch`): only
//! changes this cluster can act on wake the reconciler (queued rentals, which it may claim;
//! rentals and nodes of this cluster; regions), and the watcher's health goes to the metrics.
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use calor_client::accounts::{Rental, RentalState};
use calor_client::rpc::ChainError;
use calor_client::watch::{Change, Observer};
use calor_client::Pubkey;

pub use calor_client::watch::{ChainView, Watcher};

use crate::metrics::Metrics;

pub struct ClusterObserver {
    pub metrics: Arc<Metrics>,
    /// This cluster's nodes.
    pub nodes: HashSet<Pubkey>,
}

impl ClusterObserver {
    /// Whether a rental matters to this cluster: work it may claim, or one of its own.
    fn concerns_us(&self, rental: &Rental) -> bool {
        rental.state() == RentalState::Queued
            || rental.node().is_some_and(|n| self.nodes.contains(&n))
    }
}

impl Observer for ClusterObserver {
    fn wakes(&self, change: Change<'_>) -> bool {
        match change {
            Change::Rental { before, after, .. } => {
                before.is_some_and(|r| self.concerns_us(r))
                    || after.is_some_and(|r| self.concerns_us(r))
            }
            Change::Node { address } => self.nodes.contains(address),
            Change::Region { .. } => true,
        }
    }

    fn view_size(&self, rentals: usize, nodes: usize) {
        self.metrics.set_view(rentals, nodes);
    }

    fn resynced(&self, took: Duration) {
        self.metrics.resynced(took);
    }

    fn resync_failed(&self, _error: &ChainError) {
        self.metrics.rpc_errors.inc();
    }

    fn websocket(&self, connected: bool) {
        self.metrics.ws_connected.set(i64::from(connected));
        if !connected {
            self.metrics.ws_reconnects.inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rental(state: RentalState, node: Pubkey) -> Rental {
        Rental {
            state: state as u8,
            node,
            ..bytemuck::Zeroable::zeroed()
        }
    }

    #[test]
    fn only_what_this_cluster_can_act_on_wakes_it() {
        let (ours, theirs) = (Pubkey::new_unique(), Pubkey::new_unique());
        let observer = ClusterObserver {
            metrics: Arc::default(),
            nodes: HashSet::from([ours]),
        };
        let address = Pubkey::new_unique();
        let wakes = |before: Option<&Rental>, after: Option<&Rental>| {
            observer.wakes(Change::Rental {
                address: &address,
                before,
                after,
            })
        };
        let queued = rental(RentalState::Queued, Pubkey::default());
        let running_here = rental(RentalState::Running, ours);
        let running_there = rental(RentalState::Running, theirs);
        assert!(wakes(None, Some(&queued)), "work to claim");
        assert!(wakes(Some(&queued), Some(&running_here)));
        assert!(
            wakes(Some(&queued), Some(&running_there)),
            "claimed elsewhere: no longer ours to claim"
        );
        assert!(!wakes(Some(&running_there), Some(&running_there)));
        assert!(!wakes(Some(&running_there), None), "closed elsewhere");
        assert!(wakes(Some(&running_here), None), "ours, closed");
        assert!(observer.wakes(Change::Node { address: &ours }));
        assert!(!observer.wakes(Change::Node { address: &theirs }));
        assert!(observer.wakes(Change::Region { id: 1 }));
    }
}
