//! Instruction builders. Each takes the signers and arguments and fills in every derived
//! account, so callers cannot get an address wrong.
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use calor::accounts as acc;
use calor::instruction as ix;
use calor::instructions::{
    ExtendArgs, GpuModelArgs, InitializeArgs, ListNodeArgs, OpenRentalArgs, RegionArgs,
    RegisterProviderArgs, UpdateConfigArgs, UpdateNodeArgs,
};

use calor::state::ProposalAction;

use crate::{pda, Instruction, Pubkey};

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: calor::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn config() -> Pubkey {
    pda::config().0
}

/// `initialize`: `authority` must be the program's upgrade authority.
pub fn initialize(authority: Pubkey, calor_mint: Pubkey, args: InitializeArgs) -> Instruction {
    build(
        acc::Initialize {
            config: config(),
            calor_mint,
            authority,
            program: calor::ID,
            program_data: pda::program_data(),
            system_program: system_program::ID,
        },
        ix::Initialize { args },
    )
}

pub fn update_config(authority: Pubkey, args: UpdateConfigArgs) -> Instruction {
    build(
        acc::UpdateConfig {
            config: config(),
            authority,
        },
        ix::UpdateConfig { args },
    )
}

pub fn transfer_authority(authority: Pubkey, new_authority: Option<Pubkey>) -> Instruction {
    build(
        acc::TransferAuthority {
            config: config(),
            authority,
        },
        ix::TransferAuthority { new_authority },
    )
}

pub fn accept_authority(new_authority: Pubkey) -> Instruction {
    build(
        acc::AcceptAuthority {
            config: config(),
            new_authority,
        },
        ix::AcceptAuthority {},
    )
}

pub fn post_calor_price(authority: Pubkey, price_micro_usd: u64) -> Instruction {
    build(
        acc::PostCalorPrice {
            config: config(),
            authority,
        },
        ix::PostCalorPrice { price_micro_usd },
    )
}

/// `set_gpu_model`: adds GPU model `id` to the catalog, or updates it.
pub fn set_gpu_model(authority: Pubkey, id: u16, args: GpuModelArgs) -> Instruction {
    build(
        acc::SetGpuModel {
            config: config(),
            gpu_model: pda::gpu_model(id),
            authority,
            system_program: system_program::ID,
        },
        ix::SetGpuModel { id, args },
    )
}

/// `set_region`: adds region `id` (from 1), or updates it.
pub fn set_region(authority: Pubkey, id: u16, args: RegionArgs) -> Instruction {
    build(
        acc::SetRegion {
            config: config(),
            region: pda::region(id),
            authority,
            system_program: system_program::ID,
        },
        ix::SetRegion { id, args },
    )
}

pub fn register_provider(
    authority: Pubkey,
    region: u16,
    args: RegisterProviderArgs,
) -> Instruction {
    build(
        acc::RegisterProvider {
            config: config(),
            provider: pda::provider(&authority),
            region: pda::region(region),
            authority,
            system_program: system_program::ID,
        },
        ix::RegisterProvider { args },
    )
}

pub fn approve_provider(
    authority: Pubkey,
    provider_authority: Pubkey,
    approved: bool,
) -> Instruction {
    build(
        acc::ApproveProvider {
            config: config(),
            provider: pda::provider(&provider_authority),
            authority,
        },
        ix::ApproveProvider { approved },
    )
}

/// Lists the provider's next node; `index` is the provider's current `node_count`.
pub fn list_node(
    authority: Pubkey,
    index: u32,
    gpu_model: u16,
    region: u16,
    args: ListNodeArgs,
) -> Instruction {
    let provider = pda::provider(&authority);
    build(
        acc::ListNode {
            config: config(),
            provider,
            node: pda::node(&provider, index),
            gpu_model: pda::gpu_model(gpu_model),
            region: pda::region(region),
            authority,
            system_program: system_program::ID,
        },
        ix::ListNode { args },
    )
}

fn node_operator(authority: Pubkey, node_index: u32) -> acc::NodeOperator {
    acc::NodeOperator {
        node: pda::node(&pda::provider(&authority), node_index),
        authority,
    }
}

pub fn update_node(authority: Pubkey, node_index: u32, args: UpdateNodeArgs) -> Instruction {
    build(
        node_operator(authority, node_index),
        ix::UpdateNode { args },
    )
}

pub fn node_heartbeat(authority: Pubkey, node_index: u32) -> Instruction {
    build(node_operator(authority, node_index), ix::NodeHeartbeat {})
}

pub fn withdraw_provider_earnings(authority: Pubkey, payout: Pubkey) -> Instruction {
    build(
        acc::WithdrawProviderEarnings {
            provider: pda::provider(&authority),
            payout,
            authority,
        },
        ix::WithdrawProviderEarnings {},
    )
}

pub fn sweep_fees(treasury: Pubkey) -> Instruction {
    build(
        acc::SweepFees {
            config: config(),
            treasury,
        },
        ix::SweepFees {},
    )
}

/// The renter's stake and the pool, when the rental should carry the stake's priority.
fn stake_accounts(renter: &Pubkey, staked: bool) -> (Option<Pubkey>, Option<Pubkey>) {
    if staked {
        (Some(pda::stake(renter)), Some(pda::stake_pool()))
    } else {
        (None, None)
    }
}

/// `open_rental_sol`; `price_update` is a Pyth `PriceUpdateV2` account for SOL/USD.
pub fn open_rental_sol(
    renter: Pubkey,
    gpu_model: u16,
    price_update: Pubkey,
    args: OpenRentalArgs,
) -> Instruction {
    open_rental_sol_with(renter, gpu_model, price_update, args, false)
}

/// `open_rental_sol`, with the routing priority of the renter's stake when `staked`. The
/// rental's bump in `args` is filled in.
pub fn open_rental_sol_with(
    renter: Pubkey,
    gpu_model: u16,
    price_update: Pubkey,
    mut args: OpenRentalArgs,
    staked: bool,
) -> Instruction {
    let (stake, stake_pool) = stake_accounts(&renter, staked);
    let (rental, bump) = pda::rental_with_bump(&renter, args.id);
    args.bump = bump;
    build(
        acc::OpenRentalSol {
            config: config(),
            gpu_model: pda::gpu_model(gpu_model),
            region: args.region.map(pda::region),
            rental,
            price_update,
            stake,
            stake_pool,
            renter,
            system_program: system_program::ID,
        },
        ix::OpenRentalSol { args },
    )
}

/// `open_rental_calor`, paying from `renter_token` (a Calor account of the renter).
pub fn open_rental_calor(
    renter: Pubkey,
    gpu_model: u16,
    calor_mint: Pubkey,
    renter_token: Pubkey,
    token_program: Pubkey,
    args: OpenRentalArgs,
) -> Instruction {
    open_rental_calor_with(
        renter,
        gpu_model,
        calor_mint,
        renter_token,
        token_program,
        args,
        false,
    )
}

/// `open_rental_calor`, with the routing priority of the renter's stake when `staked`. The
/// rental's and the escrow's bumps in `args` are filled in.
pub fn open_rental_calor_with(
    renter: Pubkey,
    gpu_model: u16,
    calor_mint: Pubkey,
    renter_token: Pubkey,
    token_program: Pubkey,
    mut args: OpenRentalArgs,
    staked: bool,
) -> Instruction {
    let (stake, stake_pool) = stake_accounts(&renter, staked);
    let (rental, bump) = pda::rental_with_bump(&renter, args.id);
    let (escrow, escrow_bump) = pda::escrow_with_bump(&rental);
    args.bump = bump;
    args.escrow_bump = escrow_bump;
    build(
        acc::OpenRentalCalor {
            config: config(),
            gpu_model: pda::gpu_model(gpu_model),
            region: args.region.map(pda::region),
            rental,
            calor_mint,
            renter_token,
            escrow,
            stake,
            stake_pool,
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            renter,
            token_program,
            system_program: system_program::ID,
        },
        ix::OpenRentalCalor { args },
    )
}

fn provider_rental(authority: Pubkey, node_index: u32, rental: Pubkey) -> acc::ProviderRental {
    acc::ProviderRental {
        config: config(),
        node: pda::node(&pda::provider(&authority), node_index),
        rental,
        authority,
    }
}

pub fn claim(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    let provider = pda::provider(&authority);
    build(
        acc::ClaimRental {
            config: config(),
            provider,
            node: pda::node(&provider, node_index),
            rental,
            authority,
        },
        ix::Claim {},
    )
}

pub fn start(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    build(provider_rental(authority, node_index, rental), ix::Start {})
}

pub fn fail(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    build(provider_rental(authority, node_index, rental), ix::Fail {})
}

/// `extend_sol` of the renter's rental `rental` by `args.hours`, paying at most
/// `args.max_payment` lamports.
pub fn extend_sol(
    renter: Pubkey,
    rental: Pubkey,
    price_update: Pubkey,
    args: ExtendArgs,
) -> Instruction {
    build(
        acc::ExtendSol {
            config: config(),
            rental,
            price_update,
            renter,
            system_program: system_program::ID,
        },
        ix::ExtendSol { args },
    )
}

pub fn extend_calor(
    renter: Pubkey,
    rental: Pubkey,
    calor_mint: Pubkey,
    renter_token: Pubkey,
    token_program: Pubkey,
    args: ExtendArgs,
) -> Instruction {
    build(
        acc::ExtendCalor {
            config: config(),
            rental,
            calor_mint,
            renter_token,
            escrow: pda::escrow(&rental),
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            renter,
            token_program,
        },
        ix::ExtendCalor { args },
    )
}

/// `complete`, signed by the renter or by the node's authority.
pub fn complete(signer: Pubkey, rental: Pubkey, node: Pubkey) -> Instruction {
    build(
        acc::Complete {
            rental,
            node,
            signer,
        },
        ix::Complete {},
    )
}

/// `cancel`; `node` is the claiming node while provisioning, `None` while queued.
pub fn cancel(renter: Pubkey, rental: Pubkey, node: Option<Pubkey>) -> Instruction {
    build(
        acc::Cancel {
            config: config(),
            rental,
            node,
            renter,
        },
        ix::Cancel {},
    )
}

pub fn expire(rental: Pubkey, node: Pubkey) -> Instruction {
    build(acc::Expire { rental, node }, ix::Expire {})
}

pub fn reclaim(renter: Pubkey, rental: Pubkey, node: Pubkey) -> Instruction {
    build(
        acc::Reclaim {
            config: config(),
            rental,
            node,
            renter,
        },
        ix::Reclaim {},
    )
}

/// What settling a rental needs to know about it beyond its address: who rented it, who is
/// paid (`None` for a rental never claimed) and whether it holds stake priority.
#[derive(Debug, Clone, Copy)]
pub struct SettleParties {
    pub renter: Pubkey,
    pub payee: Option<Pubkey>,
    /// The rental was routed with the renter's stake priority: the stake must be passed.
    pub prioritised: bool,
}

impl SettleParties {
    pub fn of(rental: &calor::state::Rental) -> Self {
        Self {
            renter: rental.renter,
            payee: (rental.payee != Pubkey::default()).then_some(rental.payee),
            prioritised: rental.priority > 0,
        }
    }

    fn stake(&self) -> Option<Pubkey> {
        self.prioritised.then(|| pda::stake(&self.renter))
    }
}

/// `settle_sol`; the provider credited is the rental's payee (the claiming provider's PDA).
pub fn settle_sol(rental: Pubkey, parties: SettleParties) -> Instruction {
    build(
        acc::SettleSol {
            config: config(),
            rental,
            provider: parties.payee,
            renter: parties.renter,
            stake: parties.stake(),
        },
        ix::SettleSol {},
    )
}

/// Token accounts that receive a settled Calor rental's tokens.
#[derive(Debug, Clone, Copy)]
pub struct CalorPayouts {
    /// A Calor account of the renter; if it cannot receive, the refund is held.
    pub renter_token: Pubkey,
    /// A token account of the rental's payee; `None` for a rental never claimed.
    pub provider_token: Option<Pubkey>,
}

pub fn settle_calor(
    rental: Pubkey,
    parties: SettleParties,
    calor_mint: Pubkey,
    token_program: Pubkey,
    payouts: CalorPayouts,
) -> Instruction {
    build(
        acc::SettleCalor {
            config: config(),
            rental,
            escrow: pda::escrow(&rental),
            calor_mint,
            renter_token: payouts.renter_token,
            provider_token: payouts.provider_token,
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            renter: parties.renter,
            stake: parties.stake(),
            token_program,
        },
        ix::SettleCalor {},
    )
}

/// The associated token program's `CreateIdempotent`: `wallet`'s associated token account of
/// `mint`, its rent paid by `payer`; does nothing if the account exists.
pub fn create_associated_token(
    payer: Pubkey,
    wallet: Pubkey,
    mint: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    use crate::AccountMeta;
    const CREATE_IDEMPOTENT: u8 = 1;
    Instruction {
        program_id: pda::ASSOCIATED_TOKEN_PROGRAM,
        accounts: vec![
            AccountMeta::new(payer, true),
            AccountMeta::new(pda::associated_token(&wallet, &mint, &token_program), false),
            AccountMeta::new_readonly(wallet, false),
            AccountMeta::new_readonly(mint, false),
            AccountMeta::new_readonly(system_program::ID, false),
            AccountMeta::new_readonly(token_program, false),
        ],
        data: vec![CREATE_IDEMPOTENT],
    }
}

/// `claim_refund`: pays a held refund into `renter_token` (a Calor account of the renter).
pub fn claim_refund(
    rental: Pubkey,
    renter: Pubkey,
    calor_mint: Pubkey,
    renter_token: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    build(
        acc::ClaimRefund {
            config: config(),
            rental,
            escrow: pda::escrow(&rental),
            calor_mint,
            renter_token,
            renter,
            token_program,
        },
        ix::ClaimRefund {},
    )
}

/// `fund_subsidy`: `owner` moves `amount` Calor from `from` into the subsidy vault.
pub fn fund_subsidy(
    owner: Pubkey,
    from: Pubkey,
    calor_mint: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    build(
        acc::FundSubsidy {
            config: config(),
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            calor_mint,
            from,
            owner,
            token_program,
        },
        ix::FundSubsidy { amount },
    )
}

/// `withdraw_subsidy`: the config authority takes unreserved Calor to `treasury_token`.
pub fn withdraw_subsidy(
    authority: Pubkey,
    treasury_token: Pubkey,
    calor_mint: Pubkey,
    token_program: Pubkey,
    amount: u64,
) -> Instruction {
    build(
        acc::WithdrawSubsidy {
            config: config(),
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            calor_mint,
            treasury_token,
            authority,
            token_program,
        },
        ix::WithdrawSubsidy { amount },
    )
}

// ----- staking, rewards and governance -----

/// Accounts of an instruction that moves Calor between an owner and a pool vault.
#[derive(Debug, Clone, Copy)]
pub struct StakeTokens {
    pub calor_mint: Pubkey,
    pub owner_token: Pubkey,
    pub token_program: Pubkey,
}

pub fn init_staking(authority: Pubkey, calor_mint: Pubkey, token_program: Pubkey) -> Instruction {
    build(
        acc::InitStaking {
            config: config(),
            stake_pool: pda::stake_pool(),
            calor_mint,
            stake_vault: pda::stake_vault(),
            rewards_vault: pda::rewards_vault(),
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            authority,
            token_program,
            system_program: system_program::ID,
        },
        ix::InitStaking {},
    )
}

/// `stake`: opens `owner`'s stake account with a first deposit.
pub fn stake(owner: Pubkey, tokens: StakeTokens, amount: u64) -> Instruction {
    build(
        acc::CreateStake {
            config: config(),
            stake_pool: pda::stake_pool(),
            stake: pda::stake(&owner),
            stake_vault: pda::stake_vault(),
            calor_mint: tokens.calor_mint,
            owner_token: tokens.owner_token,
            owner,
            token_program: tokens.token_program,
            system_program: system_program::ID,
        },
        ix::Stake { amount },
    )
}

/// `add_stake`. `epoch_record`: the epoch of the stake's pending tokens when that epoch
/// has ended (see [`crate::accounts::epoch_record_needed`]).
pub fn add_stake(
    owner: Pubkey,
    tokens: StakeTokens,
    epoch_record: Option<u64>,
    amount: u64,
) -> Instruction {
    build(
        acc::AddStake {
            config: config(),
            stake_pool: pda::stake_pool(),
            stake: pda::stake(&owner),
            epoch_record: epoch_record.map(pda::epoch_record),
            stake_vault: pda::stake_vault(),
            calor_mint: tokens.calor_mint,
            owner_token: tokens.owner_token,
            owner,
            token_program: tokens.token_program,
        },
        ix::AddStake { amount },
    )
}

pub fn unstake(
    owner: Pubkey,
    tokens: StakeTokens,
    epoch_record: Option<u64>,
    amount: u64,
) -> Instruction {
    build(
        acc::Unstake {
            config: config(),
            stake_pool: pda::stake_pool(),
            stake: pda::stake(&owner),
            epoch_record: epoch_record.map(pda::epoch_record),
            stake_vault: pda::stake_vault(),
            calor_mint: tokens.calor_mint,
            owner_token: tokens.owner_token,
            owner,
            token_program: tokens.token_program,
        },
        ix::Unstake { amount },
    )
}

/// `advance_epoch` for the pool's current `epoch`.
pub fn advance_epoch(
    payer: Pubkey,
    epoch: u64,
    calor_mint: Pubkey,
    token_program: Pubkey,
) -> Instruction {
    build(
        acc::AdvanceEpoch {
            config: config(),
            stake_pool: pda::stake_pool(),
            subsidy_pool: pda::subsidy_pool(),
            subsidy_vault: pda::subsidy_vault(),
            rewards_vault: pda::rewards_vault(),
            calor_mint,
            epoch_record: pda::epoch_record(epoch),
            payer,
            token_program,
            system_program: system_program::ID,
        },
        ix::AdvanceEpoch {},
    )
}

pub fn claim_rewards(owner: Pubkey, tokens: StakeTokens, epoch_record: Option<u64>) -> Instruction {
    build(
        acc::ClaimRewards {
            config: config(),
            stake_pool: pda::stake_pool(),
            stake: pda::stake(&owner),
            epoch_record: epoch_record.map(pda::epoch_record),
            rewards_vault: pda::rewards_vault(),
            calor_mint: tokens.calor_mint,
            owner_token: tokens.owner_token,
            owner,
            token_program: tokens.token_program,
        },
        ix::ClaimRewards {},
    )
}

/// `propose` as the pool's next proposal, `id` (the pool's `proposal_count`).
pub fn propose(proposer: Pubkey, id: u64, action: ProposalAction) -> Instruction {
    build(
        acc::Propose {
            config: config(),
            stake_pool: pda::stake_pool(),
            stake: pda::stake(&proposer),
            proposal: pda::proposal(id),
            proposer,
            system_program: system_program::ID,
        },
        ix::Propose { action },
    )
}

pub fn vote(voter: Pubkey, proposal_id: u64, approve: bool) -> Instruction {
    let proposal = pda::proposal(proposal_id);
    build(
        acc::Vote {
            config: config(),
            proposal,
            stake: pda::stake(&voter),
            vote_record: pda::vote_record(&proposal, &voter),
            voter,
            system_program: system_program::ID,
        },
        ix::Vote { approve },
    )
}

/// `execute_proposal`; `provider` is the provider PDA a `SetProviderApproval` names.
pub fn execute_proposal(proposal_id: u64, provider: Option<Pubkey>) -> Instruction {
    build(
        acc::ExecuteProposal {
            config: config(),
            proposal: pda::proposal(proposal_id),
            provider,
        },
        ix::ExecuteProposal {},
    )
}

/// `veto_proposal`: the config authority stops a high-impact proposal.
pub fn veto_proposal(authority: Pubkey, proposal_id: u64) -> Instruction {
    build(
        acc::VetoProposal {
            config: config(),
            proposal: pda::proposal(proposal_id),
            authority,
        },
        ix::VetoProposal {},
    )
}
