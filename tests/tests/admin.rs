//! The config authority's instructions: settings, two-step handover, catalog, providers.
use anchor_lang::error::ErrorCode as AnchorError;
use calor::errors::CalorError;
use calor::events::{AuthorityTransferred, ConfigUpdated};
use calor::instructions::{RegisterProviderArgs, UpdateConfigArgs};
use calor::state::{Config, GpuModel, Provider, Region};
use calor_client::{instructions as ix, pda};
use calor_tests::catalog::{GPU_MODELS, REGIONS};
use calor_tests::fixtures::default_params;
use calor_tests::market::{Market, H100_SXM, US_EAST};
use calor_tests::outcome::OutcomeExt;
use solana_signer::Signer;

#[test]
fn the_catalog_is_seeded_and_updatable() {
    let mut m = Market::new();
    for spec in &GPU_MODELS {
        let model: GpuModel = m.env.decode(&pda::gpu_model(spec.id));
        assert_eq!(
            (model.id, model.name(), model.vram_gb, model.is_active()),
            (spec.id, spec.name, spec.vram_gb, true)
        );
    }
    for spec in &REGIONS {
        let region: Region = m.env.decode(&pda::region(spec.id));
        assert_eq!(
            (region.code(), region.latitude_micro_deg),
            (spec.code, spec.latitude_micro_deg)
        );
    }
    let admin = m.authority.insecure_clone();
    let stranger = m.env.funded_keypair();
    let spec = &GPU_MODELS[1];
    m.env
        .send(
            &[ix::set_gpu_model(
                stranger.pubkey(),
                spec.id,
                spec.args(false),
            )],
            &stranger,
            &[],
        )
        .expect_calor_err(CalorError::NotConfigAuthority);
    // a model's account under another id, existing or new, is refused
    let mut other = ix::set_gpu_model(admin.pubkey(), 99, spec.args(true));
    other.accounts[1].pubkey = pda::gpu_model(spec.id);
    m.env
        .send(&[other], &admin, &[])
        .expect_calor_err(CalorError::WrongAddress);
    let mut other = ix::set_gpu_model(admin.pubkey(), 99, spec.args(true));
    other.accounts[1].pubkey = pda::gpu_model(98);
    m.env
        .send(&[other], &admin, &[])
        .expect_calor_err(CalorError::WrongAddress);
    // and region 0 is reserved for "any region"
    m.env
        .send(
            &[ix::set_region(admin.pubkey(), 0, REGIONS[0].args(true))],
            &admin,
            &[],
        )
        .expect_calor_err(CalorError::InvalidRegionId);
    let mut long = spec.args(true);
    long.name = "x".repeat(33);
    m.env
        .send(&[ix::set_gpu_model(admin.pubkey(), 99, long)], &admin, &[])
        .expect_calor_err(CalorError::InvalidName);
    // retiring a model stops new rentals of it
    m.env
        .send(
            &[ix::set_gpu_model(admin.pubkey(), spec.id, spec.args(false))],
            &admin,
            &[],
        )
        .expect_ok("retire");
    let (renter, _) = m.renter();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_calor_err(CalorError::GpuModelInactive);
    // and a retired region takes no new providers
    let region = &REGIONS[0];
    m.env
        .send(
            &[ix::set_region(
                admin.pubkey(),
                region.id,
                region.args(false),
            )],
            &admin,
            &[],
        )
        .expect_ok("retire region");
    let newcomer = m.env.funded_keypair();
    let args = RegisterProviderArgs {
        endpoint: "x.example".into(),
        payout: newcomer.pubkey(),
    };
    m.env
        .send(
            &[ix::register_provider(newcomer.pubkey(), US_EAST, args)],
            &newcomer,
            &[],
        )
        .expect_calor_err(CalorError::RegionInactive);
}

#[test]
fn providers_register_then_wait_for_approval() {
    let mut m = Market::new();
    let newcomer = m.env.funded_keypair();
    let args = RegisterProviderArgs {
        endpoint: "gpu.example".into(),
        payout: newcomer.pubkey(),
    };
    m.env
        .send(
            &[ix::register_provider(
                newcomer.pubkey(),
                US_EAST,
                args.clone(),
            )],
            &newcomer,
            &[],
        )
        .expect_ok("register");
    let p: Provider = m.env.decode(&pda::provider(&newcomer.pubkey()));
    assert!(!p.is_approved());
    let listing = ix::list_node(
        newcomer.pubkey(),
        0,
        H100_SXM,
        US_EAST,
        calor::instructions::ListNodeArgs {
            gpu_count: 1,
            hourly_rate_micro_usd: 1,
        },
    );
    m.env
        .send(std::slice::from_ref(&listing), &newcomer, &[])
        .expect_calor_err(CalorError::ProviderNotApproved);
    m.env
        .send(
            &[ix::approve_provider(
                newcomer.pubkey(),
                newcomer.pubkey(),
                true,
            )],
            &newcomer,
            &[],
        )
        .expect_calor_err(CalorError::NotConfigAuthority);
    let admin = m.authority.insecure_clone();
    m.env
        .send(
            &[ix::approve_provider(
                admin.pubkey(),
                newcomer.pubkey(),
                true,
            )],
            &admin,
            &[],
        )
        .expect_ok("approve");
    m.env.send(&[listing], &newcomer, &[]).expect_ok("list");
    let bad = RegisterProviderArgs {
        endpoint: String::new(),
        payout: newcomer.pubkey(),
    };
    let other = m.env.funded_keypair();
    m.env
        .send(
            &[ix::register_provider(other.pubkey(), US_EAST, bad)],
            &other,
            &[],
        )
        .expect_calor_err(CalorError::InvalidEndpoint);
}

#[test]
fn settings_change_only_by_the_authority_and_stay_valid() {
    let mut m = Market::new();
    let admin = m.authority.insecure_clone();
    let stranger = m.env.funded_keypair();
    let mut params = default_params();
    params.protocol_fee_bps = 300;
    let update = |who: solana_keypair::Keypair, params| {
        ix::update_config(
            who.pubkey(),
            UpdateConfigArgs {
                params: Some(params),
                ..Default::default()
            },
        )
    };
    m.env
        .send(&[update(stranger.insecure_clone(), params)], &stranger, &[])
        .expect_calor_err(CalorError::NotConfigAuthority);
    let mut bad = params;
    bad.calor_subsidy_bps = 9_000;
    m.env
        .send(&[update(admin.insecure_clone(), bad)], &admin, &[])
        .expect_calor_err(CalorError::SubsidyTooHigh);
    // the Calor price bounds and the subsidy budget are governance's alone
    let mut governed = params;
    governed.calor_price.max_micro_usd *= 2;
    m.env
        .send(&[update(admin.insecure_clone(), governed)], &admin, &[])
        .expect_calor_err(CalorError::GovernedSetting);
    let mut governed = params;
    governed.subsidy_budget_per_epoch += 1;
    m.env
        .send(&[update(admin.insecure_clone(), governed)], &admin, &[])
        .expect_calor_err(CalorError::GovernedSetting);
    let tx = m
        .env
        .send(&[update(admin.insecure_clone(), params)], &admin, &[])
        .expect_ok("update");
    assert_eq!(tx.events::<ConfigUpdated>()[0].params, params);
    let config: Config = m.env.decode(&pda::config().0);
    assert_eq!(config.params.protocol_fee_bps, 300);
}

#[test]
fn authority_moves_in_two_steps() {
    let mut m = Market::new();
    let admin = m.authority.insecure_clone();
    let successor = m.env.funded_keypair();
    let stranger = m.env.funded_keypair();
    m.env
        .send(&[ix::accept_authority(successor.pubkey())], &successor, &[])
        .expect_calor_err(CalorError::NotPendingAuthority);
    m.env
        .send(
            &[ix::transfer_authority(
                admin.pubkey(),
                Some(successor.pubkey()),
            )],
            &admin,
            &[],
        )
        .expect_ok("propose");
    m.env
        .send(&[ix::accept_authority(stranger.pubkey())], &stranger, &[])
        .expect_calor_err(CalorError::NotPendingAuthority);
    let tx = m
        .env
        .send(&[ix::accept_authority(successor.pubkey())], &successor, &[])
        .expect_ok("accept");
    let e = &tx.events::<AuthorityTransferred>()[0];
    assert_eq!(
        (e.old_authority, e.new_authority),
        (admin.pubkey(), successor.pubkey())
    );
    let config: Config = m.env.decode(&pda::config().0);
    assert_eq!(
        (config.authority, config.pending_authority()),
        (successor.pubkey(), None)
    );
    m.env
        .send(
            &[ix::post_calor_price(admin.pubkey(), 250_000)],
            &admin,
            &[],
        )
        .expect_calor_err(CalorError::NotConfigAuthority);
    m.env
        .send(
            &[ix::post_calor_price(successor.pubkey(), 250_000)],
            &successor,
            &[],
        )
        .expect_ok("new authority acts");
    // a missing signature is not an authority either
    let mut unsigned = ix::post_calor_price(successor.pubkey(), 250_000);
    unsigned.accounts[1].is_signer = false;
    m.env
        .send(&[unsigned], &stranger, &[])
        .expect_anchor_err(AnchorError::AccountNotSigner);
}

#[test]
fn nodes_change_rate_and_go_offline_only_when_idle() {
    use calor::events::NodeChanged;
    use calor::instructions::UpdateNodeArgs;
    use calor::state::{Node, NodeStatus};
    let mut m = Market::new();
    let op = m.operator.authority.insecure_clone();
    let node = m.operator.node(0);
    let update = |args| ix::update_node(op.pubkey(), 0, args);
    let tx = m
        .env
        .send(
            &[update(UpdateNodeArgs {
                hourly_rate_micro_usd: Some(2_000_000),
                online: Some(false),
            })],
            &op,
            &[],
        )
        .expect_ok("rate and offline");
    let e = &tx.events::<NodeChanged>()[0];
    assert_eq!((e.hourly_rate_micro_usd, e.online), (2_000_000, false));
    let n: Node = m.env.decode(&node);
    assert_eq!(
        (n.hourly_rate_micro_usd, n.status()),
        (2_000_000, NodeStatus::Offline)
    );
    // an offline node claims nothing
    let (renter, _) = m.renter();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    m.provider_op(ix::claim, &op, 0, rental)
        .expect_calor_err(CalorError::NodeNotIdle);
    m.env.advance_secs(600);
    m.env
        .send(
            &[update(UpdateNodeArgs {
                online: Some(true),
                ..Default::default()
            })],
            &op,
            &[],
        )
        .expect_ok("online");
    let n: Node = m.env.decode(&node);
    assert_eq!(n.status(), NodeStatus::Idle);
    assert_eq!(
        n.last_heartbeat,
        m.env.clock().unix_timestamp,
        "coming online counts as a heartbeat"
    );
    m.env
        .send(
            &[update(UpdateNodeArgs {
                hourly_rate_micro_usd: Some(0),
                ..Default::default()
            })],
            &op,
            &[],
        )
        .expect_calor_err(CalorError::ZeroRate);
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    // the claimed rental keeps its own rate: the node's cheaper rate does not change what is owed
    assert_eq!(
        m.rental(&rental).hourly_rate_micro_usd,
        calor_tests::market::RATE
    );
}
