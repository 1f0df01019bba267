//! The order in which provisioners take queued rentals. It uses only fields of the Rental
//! account, so every provisioner computes the same order from chain state alone.
use std::cmp::Ordering;

use calor::state::{Rental, RentalState};

use crate::Pubkey;

/// Higher priority first (stakers), then older first, then by address so the order is total
/// and identical everywhere.
pub fn queue_order(a: (&Pubkey, &Rental), b: (&Pubkey, &Rental)) -> Ordering {
    b.1.priority
        .cmp(&a.1.priority)
        .then(a.1.created_at.cmp(&b.1.created_at))
        .then(a.0.cmp(b.0))
}

/// The queued rentals among `rentals`, in the order they must be taken.
pub fn queued_in_order(rentals: &[(Pubkey, Rental)]) -> Vec<&(Pubkey, Rental)> {
    let mut queued: Vec<_> = rentals
        .iter()
        .filter(|(_, r)| r.state() == RentalState::Queued)
        .collect();
    queued.sort_by(|a, b| queue_order((&a.0, &a.1), (&b.0, &b.1)));
    queued
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rental(priority: u8, created_at: i64, state: RentalState) -> Rental {
        Rental {
            renter: Pubkey::new_unique(),
            created_at,
            priority,
            state: state as u8,
            ..bytemuck::Zeroable::zeroed()
        }
    }

    #[test]
    fn stakers_first_then_oldest_then_address() {
        let k = |b: u8| Pubkey::new_from_array([b; 32]);
        let rentals = vec![
            (k(1), rental(0, 100, RentalState::Queued)),
            (k(2), rental(2, 300, RentalState::Queued)),
            (k(3), rental(0, 50, RentalState::Queued)),
            (k(4), rental(2, 200, RentalState::Queued)),
            (k(5), rental(9, 10, RentalState::Running)),
            (k(6), rental(0, 50, RentalState::Queued)),
        ];
        let order: Vec<Pubkey> = queued_in_order(&rentals).iter().map(|(a, _)| *a).collect();
        assert_eq!(order, vec![k(4), k(2), k(3), k(6), k(1)]);
    }
}
