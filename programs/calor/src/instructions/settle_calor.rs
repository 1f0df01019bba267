use anchor_lang::prelude::*;

use crate::constants::{ESCROW_SEED, RENTAL_SEED, SUBSIDY_POOL_SEED};
use crate::errors::CalorError;
use crate::events::RentalSettled;
use crate::instructions::rental_rules::{release_priority, settle_terms};
use crate::state::{Config, PaymentKind, Rental, RentalState, Stake, SubsidyPool};
use crate::token_checks::can_receive;
use crate::{math, token};

/// Pays out an ended Calor rental, exactly once. The provider's payout wallet receives the
/// market value of the time served less the protocol fee; the subsidy vault adds the
/// subsidised part and the burn, and keeps the fee (the treasury's share, and the stakers'
/// until the epoch ends); the renter gets back what it paid for unserved hours. The escrow
/// and the rental are closed and their rent returned to the renter, unless the renter's
/// token account cannot take the refund (closed, frozen, another owner, memo required): then
/// the refund waits in the escrow for `claim_refund` and settlement still completes. Anyone
/// may send it.
///
/// Account proofs: `config`, `rental`, `subsidy_pool` by owner and discriminator;
/// `escrow` by its mint and owner (the rental PDA: `escrow_of`) and by its PDA
/// (`[ESCROW_SEED, rental, escrow_bump]`), which closing it proves for free
/// (`pay_refund_and_close`) and a held refund checks explicitly; `calor_mint` and
/// `subsidy_vault` by the addresses the config and the pool hold; `provider_token` and
/// `renter_token` by their token program, mint and owner (`can_receive`); `renter` is the
/// rental's renter; `stake` (for a prioritised rental) must be the renter's.
#[derive(Accounts)]
pub struct SettleCalor<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    /// CHECK: the rental's escrow, checked against its PDA in the handler.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint` (written: the burn lowers its supply).
    #[account(mut)]
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: receives the refund if `can_receive` says it can; otherwise the refund is held.
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: a token account of the rental's payee (`can_receive`); `None` for rentals never
    /// claimed (nothing is owed then).
    #[account(mut)]
    pub provider_token: Option<UncheckedAccount<'info>>,
    #[account(mut)]
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault`.
    #[account(mut)]
    pub subsidy_vault: UncheckedAccount<'info>,
    /// CHECK: receives the closed accounts' rent; must be the rental's `renter`.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    /// The renter's stake, for a rental opened with stake priority.
    #[account(mut)]
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
}

impl<'info> SettleCalor<'info> {
    fn transfer(
        &self,
        from: &AccountInfo<'info>,
        to: &AccountInfo<'info>,
        authority: &AccountInfo<'info>,
        amount: u64,
        decimals: u8,
        signer: &[&[&[u8]]],
    ) -> Result<()> {
        token::transfer_checked(
            &self.token_program,
            from,
            &self.calor_mint,
            to,
            authority,
            amount,
            decimals,
            signer,
        )
    }
}

/// Checks that `escrow` is a token account of `mint` whose owner is the rental, and returns
/// its balance. (Another account owned by the rental PDA could exist: whoever made it funded
/// it; closing the escrow also proves its address, see `pay_refund_and_close`.)
pub fn escrow_of(
    escrow: &AccountInfo,
    token_program: &Pubkey,
    mint: &Pubkey,
    rental: &Pubkey,
) -> Result<u64> {
    let data = escrow.try_borrow_data()?;
    require!(
        escrow.owner == token_program
            && data.len() >= 72
            && data[..32] == mint.as_ref()[..]
            && data[32..64] == rental.as_ref()[..],
        CalorError::WrongEscrow
    );
    Ok(u64::from_le_bytes(
        data[64..72].try_into().expect("8 bytes"),
    ))
}

/// Checks that `escrow` is the token account the open created for `rental`, by its address
/// (1,500 CU for the derivation: used where the escrow is not closed in the same instruction).
pub fn require_escrow(rental_key: &Pubkey, escrow_bump: u8, escrow: &Pubkey) -> Result<()> {
    let expected = Pubkey::create_program_address(
        &[ESCROW_SEED, rental_key.as_ref(), &[escrow_bump]],
        &crate::ID,
    )
    .map_err(|_| CalorError::WrongEscrow)?;
    require_keys_eq!(*escrow, expected, CalorError::WrongEscrow);
    Ok(())
}

pub fn handler(ctx: Context<SettleCalor>) -> Result<()> {
    let a = ctx.accounts;
    let config = a.config.load()?;
    let rental_key = a.rental.key();
    let rental = a.rental.load()?;
    require!(
        rental.payment() == PaymentKind::Calor,
        CalorError::WrongPaymentKind
    );
    if rental.state() == RentalState::RefundHeld {
        return err!(CalorError::AlreadySettled);
    }
    require!(rental.is_ended(), CalorError::SettleBeforeEnd);
    require_keys_eq!(a.renter.key(), rental.renter, CalorError::Unauthorized);
    require_keys_eq!(a.calor_mint.key(), config.calor_mint, CalorError::WrongMint);
    token::require_token_program(&a.token_program)?;
    let escrowed_now = escrow_of(
        &a.escrow,
        &a.token_program.key(),
        &config.calor_mint,
        &rental_key,
    )?;
    let split = math::settle(
        rental.purchases(),
        u64::from(rental.served_secs),
        &settle_terms(&rental, config.params.staking.staker_fee_share_bps),
    )?;
    // Anyone can send tokens to the escrow; whatever is there beyond what the renter paid
    // goes back to the renter, so the account always closes and settlement cannot be blocked.
    let surplus = escrowed_now
        .checked_sub(rental.escrowed)
        .ok_or(CalorError::MathOverflow)?;
    let refund = split
        .refund
        .checked_add(surplus)
        .ok_or(CalorError::MathOverflow)?;
    let decimals = config.calor_decimals;
    let renter = rental.renter;
    let payee = rental.payee;
    let id = rental.id.to_le_bytes();
    let rental_seeds: &[&[u8]] = &[RENTAL_SEED, renter.as_ref(), &id, &[rental.bump]];
    let escrow_seeds: &[&[u8]] = &[ESCROW_SEED, rental_key.as_ref(), &[rental.escrow_bump]];
    let escrow_bump = rental.escrow_bump;
    release_priority(&rental, a.stake.as_deref_mut().map(|s| &mut **s))?;
    // the rental signs the transfers below: its data may not stay borrowed across them
    drop(rental);
    let as_rental = &[rental_seeds];
    let rental_info = a.rental.to_account_info();
    let escrow = a.escrow.to_account_info();
    let vault = a.subsidy_vault.to_account_info();
    {
        let mut pool = a.subsidy_pool.load_mut()?;
        require_keys_eq!(a.subsidy_vault.key(), pool.vault, CalorError::WrongVault);
        pool.reserved = pool
            .reserved
            .checked_sub(split.reserved)
            .ok_or(CalorError::MathOverflow)?;
        pool.staker_rewards_owed = pool
            .staker_rewards_owed
            .checked_add(split.staker_rewards)
            .ok_or(CalorError::MathOverflow)?;
        // One transfer settles the escrow with the vault: the vault adds the subsidised part
        // and the burn and keeps the whole fee.
        let pool_seeds: &[&[u8]] = &[SUBSIDY_POOL_SEED, &[pool.bump]];
        drop(pool);
        if split.subsidy_drawn >= split.fee {
            let pool_info = a.subsidy_pool.to_account_info();
            let amount = split.subsidy_drawn - split.fee;
            a.transfer(&vault, &escrow, &pool_info, amount, decimals, &[pool_seeds])?;
        } else {
            let amount = split.fee - split.subsidy_drawn;
            a.transfer(&escrow, &vault, &rental_info, amount, decimals, as_rental)?;
        }
    }
    if split.provider > 0 {
        let to = a.provider_token.as_ref().ok_or(CalorError::WrongPayee)?;
        require!(
            can_receive(to, &a.token_program.key(), &config.calor_mint, &payee),
            CalorError::UnusableTokenAccount
        );
        a.transfer(
            &escrow,
            to,
            &rental_info,
            split.provider,
            decimals,
            as_rental,
        )?;
    }
    token::burn(
        &a.token_program,
        &escrow,
        &a.calor_mint,
        &rental_info,
        split.burned,
        as_rental,
    )?;
    let refund_held = !can_receive(
        &a.renter_token,
        &a.token_program.key(),
        &config.calor_mint,
        &renter,
    );
    emit!(RentalSettled {
        rental: rental_key,
        payment: PaymentKind::Calor,
        provider_amount: split.provider,
        fee: split.fee,
        staker_rewards: split.staker_rewards,
        burned: split.burned,
        refund,
        refund_held,
        subsidy_drawn: split.subsidy_drawn,
    });
    if refund_held {
        // the refund waits in the escrow; the rental stays, marked, for `claim_refund`
        require_escrow(&rental_key, escrow_bump, &a.escrow.key())?;
        a.rental.load_mut()?.set_state(RentalState::RefundHeld);
        return Ok(());
    }
    pay_refund_and_close(
        &a.token_program,
        &a.calor_mint,
        &a.escrow,
        &a.renter_token,
        &a.rental,
        &a.renter,
        refund,
        decimals,
        &[rental_seeds, escrow_seeds],
    )
}

/// Sends what is left in the escrow to the renter, closes the escrow and the rental and
/// returns their rent to the renter. `signers` are the rental's seeds, then the escrow's:
/// closing the escrow with both proves its address (see `token::close_account`).
#[allow(clippy::too_many_arguments)]
pub fn pay_refund_and_close<'info>(
    token_program: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    escrow: &AccountInfo<'info>,
    renter_token: &AccountInfo<'info>,
    rental: &AccountLoader<'info, Rental>,
    renter: &AccountInfo<'info>,
    refund: u64,
    decimals: u8,
    signers: &[&[&[u8]]; 2],
) -> Result<()> {
    let rental_info = rental.to_account_info();
    token::transfer_checked(
        token_program,
        escrow,
        mint,
        renter_token,
        &rental_info,
        refund,
        decimals,
        &signers[..1],
    )?;
    token::close_account(token_program, escrow, renter, &rental_info, true, signers)?;
    rental.close(renter.clone())
}
