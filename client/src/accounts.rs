//! Decoding of program accounts from raw account data (as returned by RPC or a test SVM).
use anchor_lang::{AccountDeserialize, Discriminator};

pub use calor::state::{
    Config, EndReason, EpochRecord, GpuModel, Node, NodeStatus, PaymentKind, Proposal,
    ProposalAction, Provider, Region, Rental, RentalState, Stake, StakePool, SubsidyPool,
    VoteRecord,
};

/// The epoch whose record an instruction touching `stake` must pass: the epoch its pending
/// tokens were added in, once the pool has moved past it.
pub fn epoch_record_needed(stake: &Stake, pool: &StakePool) -> Option<u64> {
    (stake.pending > 0 && stake.pending_epoch < pool.epoch).then_some(stake.pending_epoch)
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The data does not start with the account type's discriminator.
    WrongDiscriminator,
    /// The discriminator matched but the body did not decode.
    Malformed(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongDiscriminator => {
                f.write_str("account data has another type's discriminator")
            }
            Self::Malformed(e) => write!(f, "account data is malformed: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes any Anchor account of the program, checking its discriminator first.
pub fn decode<T: AccountDeserialize + Discriminator>(mut data: &[u8]) -> Result<T, DecodeError> {
    if !data.starts_with(T::DISCRIMINATOR) {
        return Err(DecodeError::WrongDiscriminator);
    }
    T::try_deserialize(&mut data).map_err(|e| DecodeError::Malformed(e.to_string()))
}
