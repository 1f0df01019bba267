use anchor_lang::prelude::*;

use crate::constants::{MAX_FORWARDED_PORTS, MAX_PURCHASES, NO_LOCATION, SECS_PER_HOUR};
use crate::errors::CalorError;
use crate::math::Purchase;

/// One hourly rental and its escrow. PDA: `[RENTAL_SEED, renter, id]`.
///
/// SOL rentals hold the paid lamports in this account on top of its rent; Calor rentals hold
/// the paid tokens in the token account `[ESCROW_SEED, rental]`, whose authority is this PDA.
///
/// Zero-copy (`repr(C)`, no implicit padding: the bytes are also its Borsh encoding): every
/// step of a rental reads and writes it. Optional values use a sentinel (the default
/// address, region 0, [`NO_LOCATION`], an all-zero key hash) and enums are stored as `u8`;
/// the accessors below give them their types.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Rental {
    pub renter: Pubkey,
    /// The node serving it, once claimed.
    pub node: Pubkey,
    /// Who is paid for served time: the claiming provider's PDA (SOL) or payout wallet
    /// (Calor); the default address until a provider claims.
    pub payee: Pubkey,
    /// SHA-256 of the renter's SSH public key line (validated at open, read by the
    /// provisioner from the opening transaction); all zero for a rental without a key,
    /// reached through the web terminal.
    pub ssh_key_hash: [u8; 32],
    /// Chosen by the renter; makes the address unique per renter.
    pub id: u64,
    /// The offered price of one node-hour at market (before any Calor subsidy).
    pub hourly_rate_micro_usd: u64,
    /// Lamports or Calor base units the renter paid for time, over all purchases (rent not
    /// included).
    pub escrowed: u64,
    pub created_at: i64,
    pub claimed_at: i64,
    pub started_at: i64,
    pub ends_at: i64,
    /// What each purchase (the open, then each extension) paid, in order.
    pub purchase_amounts: [u64; MAX_PURCHASES],
    /// Hours bought, extensions included.
    pub hours: u32,
    /// Seconds the provider is paid for, fixed when the rental ends.
    pub served_secs: u32,
    pub gpu_model: u16,
    /// A pinned region, or 0 for any.
    pub region: u16,
    /// Where the renter is, in whole degrees, so unpinned work goes to the nearest region
    /// first; [`NO_LOCATION`] when not given.
    pub near_latitude_deg: i16,
    pub near_longitude_deg: i16,
    /// The fee, burn and subsidy shares in force when the rental was opened: settlement uses
    /// these, so a later config change cannot take more from a rental already paid for.
    pub protocol_fee_bps: u16,
    pub burn_bps: u16,
    pub subsidy_bps: u16,
    /// Hours of each purchase.
    pub purchase_hours: [u16; MAX_PURCHASES],
    /// Container ports to publish (0 = unused slot).
    pub forwarded_ports: [u16; MAX_FORWARDED_PORTS],
    /// A [`RentalState`].
    pub state: u8,
    /// A [`PaymentKind`].
    pub payment: u8,
    /// Routing priority (from seasoned stake); higher is served first.
    pub priority: u8,
    pub purchase_count: u8,
    /// Bit `i` set: `forwarded_ports[i]` speaks HTTP (else plain TCP).
    pub http_ports: u8,
    pub escrow_bump: u8,
    pub bump: u8,
    pub _padding: [u8; 5],
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentKind {
    Sol,
    Calor,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RentalState {
    Queued,
    Provisioning,
    Running,
    /// Served (fully, partly or not at all); waiting for `settle`.
    Completed,
    /// The provider could not start it: nothing is paid.
    Failed,
    /// Withdrawn by the renter before it ran: nothing is paid.
    Cancelled,
    /// Settled, but the renter's token account could not receive the refund: it waits in the
    /// escrow for `claim_refund`.
    RefundHeld,
}

/// How a rental reached its end, for the `RentalEnded` event.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Completed,
    Expired,
    Failed,
    Cancelled,
    Reclaimed,
}

/// A port to publish for a rental.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardedPort {
    pub port: u16,
    pub http: bool,
}

impl PaymentKind {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Sol),
            1 => Some(Self::Calor),
            _ => None,
        }
    }
}

impl RentalState {
    pub fn from_u8(v: u8) -> Option<Self> {
        use RentalState::*;
        [
            Queued,
            Provisioning,
            Running,
            Completed,
            Failed,
            Cancelled,
            RefundHeld,
        ]
        .get(usize::from(v))
        .copied()
    }
}

impl Rental {
    pub fn state(&self) -> RentalState {
        // Only the program writes the field, always from a `RentalState`.
        RentalState::from_u8(self.state).unwrap_or(RentalState::Cancelled)
    }

    pub fn set_state(&mut self, state: RentalState) {
        self.state = state as u8;
    }

    pub fn payment(&self) -> PaymentKind {
        PaymentKind::from_u8(self.payment).unwrap_or(PaymentKind::Sol)
    }

    /// The pinned region, if any.
    pub fn region_pin(&self) -> Option<u16> {
        (self.region != 0).then_some(self.region)
    }

    /// The node serving it, once claimed.
    pub fn node(&self) -> Option<Pubkey> {
        (self.node != Pubkey::default()).then_some(self.node)
    }

    /// The renter's location hint (latitude, longitude in degrees).
    pub fn location(&self) -> Option<(i16, i16)> {
        (self.near_latitude_deg != NO_LOCATION)
            .then_some((self.near_latitude_deg, self.near_longitude_deg))
    }

    pub fn has_ssh_key(&self) -> bool {
        self.ssh_key_hash != [0u8; 32]
    }

    /// Ports to publish, in the order declared.
    pub fn forwarded_ports(&self) -> impl Iterator<Item = ForwardedPort> + '_ {
        self.forwarded_ports
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != 0)
            .map(|(i, p)| ForwardedPort {
                port: *p,
                http: self.http_ports & (1 << i) != 0,
            })
    }

    pub fn paid_secs(&self) -> u64 {
        u64::from(self.hours) * u64::from(SECS_PER_HOUR)
    }

    /// Ended and waiting for settlement.
    pub fn is_ended(&self) -> bool {
        matches!(
            self.state(),
            RentalState::Completed | RentalState::Failed | RentalState::Cancelled
        )
    }

    /// The purchases, in the order their hours are served.
    pub fn purchases(&self) -> impl Iterator<Item = Purchase> + '_ {
        self.purchase_hours
            .iter()
            .zip(self.purchase_amounts.iter())
            .take(usize::from(self.purchase_count))
            .map(|(&hours, &amount)| Purchase {
                hours: u32::from(hours),
                amount,
            })
    }

    /// Appends a purchase of `hours` for `amount`, keeping the totals in step.
    pub fn push_purchase(&mut self, hours: u32, amount: u64) -> Result<()> {
        let slot = usize::from(self.purchase_count);
        require!(
            slot < self.purchase_amounts.len(),
            CalorError::TooManyExtensions
        );
        self.purchase_hours[slot] = u16::try_from(hours).map_err(|_| CalorError::InvalidHours)?;
        self.purchase_amounts[slot] = amount;
        self.purchase_count += 1;
        self.hours = self
            .hours
            .checked_add(hours)
            .ok_or(CalorError::InvalidHours)?;
        self.escrowed = self
            .escrowed
            .checked_add(amount)
            .ok_or(CalorError::MathOverflow)?;
        Ok(())
    }
}
