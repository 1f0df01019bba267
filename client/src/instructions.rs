//! Instruction builders. Each takes the signers and arguments and fills in every derived
//! account, so callers cannot get an address wrong.
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use calor::accounts as acc;
use calor::instruction as ix;
use calor::instructions::{
    GpuModelArgs, InitializeArgs, ListNodeArgs, OpenRentalArgs, RegionArgs, RegisterProviderArgs,
    UpdateConfigArgs, UpdateNodeArgs,
};

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

pub fn add_gpu_model(authority: Pubkey, id: u16, args: GpuModelArgs) -> Instruction {
    build(
        acc::AddGpuModel {
            config: config(),
            gpu_model: pda::gpu_model(id),
            authority,
            system_program: system_program::ID,
        },
        ix::AddGpuModel { id, args },
    )
}

pub fn update_gpu_model(authority: Pubkey, id: u16, args: GpuModelArgs) -> Instruction {
    build(
        acc::UpdateGpuModel {
            config: config(),
            gpu_model: pda::gpu_model(id),
            authority,
        },
        ix::UpdateGpuModel { args },
    )
}

pub fn add_region(authority: Pubkey, id: u16, args: RegionArgs) -> Instruction {
    build(
        acc::AddRegion {
            config: config(),
            region: pda::region(id),
            authority,
            system_program: system_program::ID,
        },
        ix::AddRegion { id, args },
    )
}

pub fn update_region(authority: Pubkey, id: u16, args: RegionArgs) -> Instruction {
    build(
        acc::UpdateRegion {
            config: config(),
            region: pda::region(id),
            authority,
        },
        ix::UpdateRegion { args },
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
    let provider = pda::provider(&authority);
    acc::NodeOperator {
        provider,
        node: pda::node(&provider, node_index),
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

/// `open_rental_sol`; `price_update` is a Pyth `PriceUpdateV2` account for SOL/USD.
pub fn open_rental_sol(
    renter: Pubkey,
    gpu_model: u16,
    price_update: Pubkey,
    args: OpenRentalArgs,
) -> Instruction {
    build(
        acc::OpenRentalSol {
            config: config(),
            gpu_model: pda::gpu_model(gpu_model),
            region: args.region.map(pda::region),
            rental: pda::rental(&renter, args.id),
            price_update,
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
    let rental = pda::rental(&renter, args.id);
    build(
        acc::OpenRentalCalor {
            config: config(),
            gpu_model: pda::gpu_model(gpu_model),
            region: args.region.map(pda::region),
            rental,
            calor_mint,
            renter_token,
            escrow: pda::escrow(&rental),
            renter,
            token_program,
            system_program: system_program::ID,
        },
        ix::OpenRentalCalor { args },
    )
}

fn provider_rental(authority: Pubkey, node_index: u32, rental: Pubkey) -> acc::ProviderRental {
    let provider = pda::provider(&authority);
    acc::ProviderRental {
        config: config(),
        provider,
        node: pda::node(&provider, node_index),
        rental,
        authority,
    }
}

pub fn claim(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    build(provider_rental(authority, node_index, rental), ix::Claim {})
}

pub fn start(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    build(provider_rental(authority, node_index, rental), ix::Start {})
}

pub fn fail(authority: Pubkey, node_index: u32, rental: Pubkey) -> Instruction {
    build(provider_rental(authority, node_index, rental), ix::Fail {})
}

pub fn extend_sol(renter: Pubkey, rental_id: u64, price_update: Pubkey, hours: u32) -> Instruction {
    build(
        acc::ExtendSol {
            config: config(),
            rental: pda::rental(&renter, rental_id),
            price_update,
            renter,
            system_program: system_program::ID,
        },
        ix::ExtendSol { hours },
    )
}

pub fn extend_calor(
    renter: Pubkey,
    rental_id: u64,
    calor_mint: Pubkey,
    renter_token: Pubkey,
    token_program: Pubkey,
    hours: u32,
) -> Instruction {
    let rental = pda::rental(&renter, rental_id);
    build(
        acc::ExtendCalor {
            config: config(),
            rental,
            calor_mint,
            renter_token,
            escrow: pda::escrow(&rental),
            renter,
            token_program,
        },
        ix::ExtendCalor { hours },
    )
}

/// `complete`, signed by the renter or by the provider's authority.
pub fn complete(signer: Pubkey, rental: Pubkey, node: Pubkey, provider: Pubkey) -> Instruction {
    build(
        acc::Complete {
            rental,
            node,
            provider,
            signer,
        },
        ix::Complete {},
    )
}

/// `cancel`; `node` is the claiming node while provisioning, `None` while queued.
pub fn cancel(renter: Pubkey, rental_id: u64, node: Option<Pubkey>) -> Instruction {
    build(
        acc::Cancel {
            config: config(),
            rental: pda::rental(&renter, rental_id),
            node,
            renter,
        },
        ix::Cancel {},
    )
}

pub fn expire(rental: Pubkey, node: Pubkey) -> Instruction {
    build(acc::Expire { rental, node }, ix::Expire {})
}

pub fn reclaim(renter: Pubkey, rental_id: u64, node: Pubkey) -> Instruction {
    build(
        acc::Reclaim {
            config: config(),
            rental: pda::rental(&renter, rental_id),
            node,
            renter,
        },
        ix::Reclaim {},
    )
}

/// `settle_sol`; `provider` is the rental's payee (the claiming provider's PDA), `None`
/// for a rental never claimed.
pub fn settle_sol(rental: Pubkey, renter: Pubkey, provider: Option<Pubkey>) -> Instruction {
    build(
        acc::SettleSol {
            config: config(),
            rental,
            provider,
            renter,
        },
        ix::SettleSol {},
    )
}

/// Token accounts that receive a settled Calor rental's tokens.
#[derive(Debug, Clone, Copy)]
pub struct CalorPayouts {
    pub renter_token: Pubkey,
    /// A token account of the rental's payee; `None` for a rental never claimed.
    pub provider_token: Option<Pubkey>,
    pub treasury_token: Pubkey,
}

pub fn settle_calor(
    rental: Pubkey,
    renter: Pubkey,
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
            treasury_token: payouts.treasury_token,
            renter,
            token_program,
        },
        ix::SettleCalor {},
    )
}
