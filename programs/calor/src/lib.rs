//! Calor: hourly rentals of bare-metal GPUs, escrowed on-chain and paid in SOL or the Calor token.
#![deny(arithmetic_overflow)]
// Anchor's generated code for optional accounts and events trips these.
#![allow(clippy::result_large_err)]

// The offline SBF route (tools/sbf) links memcpy & co. from here; platform-tools ships its own.
#[cfg(target_os = "solana")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

pub mod constants;
pub mod cpi;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod pda_accounts;
pub mod ssh_key;
pub mod state;
pub mod token;
pub mod token_checks;

use instructions::*;
use state::ProposalAction;

declare_id!("Ac9YEmcu7Pd33k1nYUrEoC9shEJo8uxsr6MrNFRhasiJ");

#[program]
pub mod calor {
    use super::*;

    // ----- protocol administration (config authority) -----

    /// Creates the global config. Only the program's upgrade authority may call it, once.
    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        instructions::initialize::handler(ctx, args)
    }

    pub fn update_config(ctx: Context<UpdateConfig>, args: UpdateConfigArgs) -> Result<()> {
        instructions::update_config::handler(ctx, args)
    }

    pub fn transfer_authority(
        ctx: Context<TransferAuthority>,
        new_authority: Option<Pubkey>,
    ) -> Result<()> {
        instructions::transfer_authority::transfer_handler(ctx, new_authority)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        instructions::transfer_authority::accept_handler(ctx)
    }

    pub fn post_calor_price(ctx: Context<PostCalorPrice>, price_micro_usd: u64) -> Result<()> {
        instructions::post_calor_price::handler(ctx, price_micro_usd)
    }

    /// Adds GPU model `id` to the catalog, or updates it.
    pub fn set_gpu_model(ctx: Context<SetGpuModel>, id: u16, args: GpuModelArgs) -> Result<()> {
        instructions::gpu_model::handler(ctx, id, args)
    }

    /// Adds region `id` (from 1), or updates it.
    pub fn set_region(ctx: Context<SetRegion>, id: u16, args: RegionArgs) -> Result<()> {
        instructions::region::handler(ctx, id, args)
    }

    pub fn approve_provider(ctx: Context<ApproveProvider>, approved: bool) -> Result<()> {
        instructions::approve_provider::handler(ctx, approved)
    }

    /// Moves SOL fees collected in the config PDA to the treasury (anyone).
    pub fn sweep_fees(ctx: Context<SweepFees>) -> Result<()> {
        instructions::withdraw::sweep_handler(ctx)
    }

    // ----- providers -----

    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        args: RegisterProviderArgs,
    ) -> Result<()> {
        instructions::register_provider::handler(ctx, args)
    }

    pub fn list_node(ctx: Context<ListNode>, args: ListNodeArgs) -> Result<()> {
        instructions::list_node::handler(ctx, args)
    }

    pub fn update_node(ctx: Context<NodeOperator>, args: UpdateNodeArgs) -> Result<()> {
        instructions::update_node::update_handler(ctx, args)
    }

    pub fn node_heartbeat(ctx: Context<NodeOperator>) -> Result<()> {
        instructions::update_node::heartbeat_handler(ctx)
    }

    pub fn withdraw_provider_earnings(ctx: Context<WithdrawProviderEarnings>) -> Result<()> {
        instructions::withdraw::provider_handler(ctx)
    }

    // ----- rentals -----

    pub fn open_rental_sol(ctx: Context<OpenRentalSol>, args: OpenRentalArgs) -> Result<()> {
        instructions::open_rental_sol::handler(ctx, args)
    }

    pub fn open_rental_calor(ctx: Context<OpenRentalCalor>, args: OpenRentalArgs) -> Result<()> {
        instructions::open_rental_calor::handler(ctx, args)
    }

    /// Provider: queued → provisioning.
    pub fn claim(ctx: Context<ClaimRental>) -> Result<()> {
        instructions::claim::handler(ctx)
    }

    /// Provider: provisioning → running.
    pub fn start(ctx: Context<ProviderRental>) -> Result<()> {
        instructions::start::handler(ctx)
    }

    /// Provider: provisioning → failed (full refund).
    pub fn fail(ctx: Context<ProviderRental>) -> Result<()> {
        instructions::fail::handler(ctx)
    }

    pub fn extend_sol(ctx: Context<ExtendSol>, args: ExtendArgs) -> Result<()> {
        instructions::extend_sol::handler(ctx, args)
    }

    pub fn extend_calor(ctx: Context<ExtendCalor>, args: ExtendArgs) -> Result<()> {
        instructions::extend_calor::handler(ctx, args)
    }

    /// Renter or provider: running → completed, paid for the seconds served.
    pub fn complete(ctx: Context<Complete>) -> Result<()> {
        instructions::complete::handler(ctx)
    }

    /// Renter: queued (or provisioning past the queue timeout) → cancelled.
    pub fn cancel(ctx: Context<Cancel>) -> Result<()> {
        instructions::cancel::handler(ctx)
    }

    /// Anyone, after the paid time: running → completed, paid in full.
    pub fn expire(ctx: Context<Expire>) -> Result<()> {
        instructions::expire::handler(ctx)
    }

    /// Renter, when the node's heartbeat is stale: paid up to the last heartbeat.
    pub fn reclaim(ctx: Context<Reclaim>) -> Result<()> {
        instructions::reclaim::handler(ctx)
    }

    pub fn settle_sol(ctx: Context<SettleSol>) -> Result<()> {
        instructions::settle_sol::handler(ctx)
    }

    pub fn settle_calor(ctx: Context<SettleCalor>) -> Result<()> {
        instructions::settle_calor::handler(ctx)
    }

    /// Anyone: pays a refund settlement had to hold to a token account of the renter.
    pub fn claim_refund(ctx: Context<ClaimRefund>) -> Result<()> {
        instructions::claim_refund::handler(ctx)
    }

    // ----- staking, rewards and governance -----

    /// Config authority: creates the stake pool and its vaults, and the subsidy pool.
    pub fn init_staking(ctx: Context<InitStaking>) -> Result<()> {
        instructions::init_staking::handler(ctx)
    }

    pub fn stake(ctx: Context<CreateStake>, amount: u64) -> Result<()> {
        instructions::stake::handler(ctx, amount)
    }

    pub fn add_stake(ctx: Context<AddStake>, amount: u64) -> Result<()> {
        instructions::add_stake::handler(ctx, amount)
    }

    /// Owner: unless a vote holds the stake or a prioritised rental is open (see `Unstake`).
    pub fn unstake(ctx: Context<Unstake>, amount: u64) -> Result<()> {
        instructions::unstake::handler(ctx, amount)
    }

    /// Anyone, at an epoch's end: distributes its rewards and starts the next epoch.
    pub fn advance_epoch(ctx: Context<AdvanceEpoch>) -> Result<()> {
        instructions::advance_epoch::handler(ctx)
    }

    pub fn claim_rewards(ctx: Context<ClaimRewards>) -> Result<()> {
        instructions::claim_rewards::handler(ctx)
    }

    pub fn propose(ctx: Context<Propose>, action: ProposalAction) -> Result<()> {
        instructions::propose::handler(ctx, action)
    }

    pub fn vote(ctx: Context<Vote>, approve: bool) -> Result<()> {
        instructions::vote::handler(ctx, approve)
    }

    /// Anyone, after the vote (and the timelock), within the execution window: carries out a
    /// passed proposal.
    pub fn execute_proposal(ctx: Context<ExecuteProposal>) -> Result<()> {
        instructions::execute_proposal::handler(ctx)
    }

    /// Config authority: stops a high-impact proposal before it executes.
    pub fn veto_proposal(ctx: Context<VetoProposal>) -> Result<()> {
        instructions::execute_proposal::veto_handler(ctx)
    }

    // ----- the subsidy vault -----

    /// Anyone (the treasury): adds Calor to the subsidy vault.
    pub fn fund_subsidy(ctx: Context<FundSubsidy>, amount: u64) -> Result<()> {
        instructions::subsidy_vault::fund_handler(ctx, amount)
    }

    /// Config authority: takes unreserved Calor from the subsidy vault to the treasury.
    pub fn withdraw_subsidy(ctx: Context<WithdrawSubsidy>, amount: u64) -> Result<()> {
        instructions::subsidy_vault::withdraw_handler(ctx, amount)
    }
}
