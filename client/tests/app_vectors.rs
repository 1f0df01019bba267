//! Test vectors for the web app, computed here by the program's own code: what an open or a
//! SOL extension costs (`calor_client::quote`, over `calor::math` and `calor::oracle`) from the
//! raw `Config` and Pyth `PriceUpdateV2` account bytes the browser reads, and which SSH key
//! lines the program accepts (`calor::ssh_key`). The app's vitest suite decodes the same bytes
//! with the client generated from the IDL and must reach the same answers, so the page's quote
//! and key check can never disagree with the chain.
//!
//! `tests/vectors/app.json` is committed; this test fails when it is stale. To rewrite it:
//! `CALOR_UPDATE_VECTORS=1 cargo test -p calor-client --test app_vectors`.
use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use base64::Engine;
use calor::state::{Config, Node, NodeStatus, PaymentKind};
use calor_client::catalog::{launch_params, CALOR_DECIMALS};
use calor_client::market::{availability, offer, Availability};
use calor_client::pyth::{price_update_data, PythPrice, SOL_USD_FEED_ID};
use calor_client::quote::{
    price_message, quote, quote_calor_extension, quote_sol_extension, Extension, QuoteError,
};
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn config(calor_price_micro_usd: u64, posted_ago: i64, subsidy_bps: u16, min_usd: u64) -> Config {
    let mut config: Config = bytemuck::Zeroable::zeroed();
    config.params = launch_params();
    config.params.calor_subsidy_bps = subsidy_bps;
    config.params.min_rental_micro_usd = min_usd;
    config.calor_decimals = CALOR_DECIMALS;
    config.calor_price_micro_usd = calor_price_micro_usd;
    config.calor_price_posted_at = NOW - posted_ago;
    config
}

/// The account data of a zero-copy `Config`: discriminator, then the struct's bytes.
fn config_data(config: &Config) -> Vec<u8> {
    let mut data = Config::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(config));
    data
}

fn pyth(price: i64, conf: u64, exponent: i32, age: i64) -> PythPrice {
    PythPrice {
        feed_id: SOL_USD_FEED_ID,
        price,
        conf,
        exponent,
        publish_time: NOW - age,
        verification: VerificationLevel::Full,
    }
}

fn outcome(result: Result<calor_client::quote::Quote, QuoteError>) -> Value {
    match result {
        Ok(q) => json!({ "ok": {
            "marketUsdMicro": q.market_usd_micro.to_string(),
            "paidUsdMicro": q.paid_usd_micro.to_string(),
            "minimumUsdMicro": q.minimum_usd_micro.to_string(),
            "amount": q.amount.to_string(),
            "maxPayment": q.max_payment.to_string(),
        }}),
        Err(QuoteError::Hours { max }) => json!({ "error": { "kind": "hours", "max": max } }),
        Err(QuoteError::BelowMinimum {
            paid_usd_micro,
            minimum_usd_micro,
            minimum_hours,
        }) => json!({ "error": {
            "kind": "belowMinimum",
            "paidUsdMicro": paid_usd_micro.to_string(),
            "minimumUsdMicro": minimum_usd_micro.to_string(),
            "minimumHours": minimum_hours,
        }}),
        Err(QuoteError::Price(name)) => json!({ "error": { "kind": "price", "name": name } }),
        Err(QuoteError::NotAPriceUpdate) => json!({ "error": { "kind": "notAPriceUpdate" } }),
        Err(QuoteError::Overflow) => json!({ "error": { "kind": "overflow" } }),
    }
}

struct Case {
    name: &'static str,
    config: Config,
    /// Owner and data of the SOL/USD account (SOL payments only).
    price: Option<(Pubkey, Vec<u8>)>,
    rate: u64,
    hours: u32,
    payment: PaymentKind,
    slippage_bps: u16,
}

/// A `PriceUpdateV2` account's data, with its write authority zeroed so the file is stable.
fn price_data(p: &PythPrice) -> Vec<u8> {
    let mut data = price_update_data(p, 1);
    data[8..40].fill(0);
    data
}

fn sol(name: &'static str, p: PythPrice, rate: u64, hours: u32, slippage_bps: u16) -> Case {
    Case {
        name,
        config: config(50_000, 10, 5_000, 5_000_000),
        price: Some((calor::oracle::PYTH_RECEIVER_ID, price_data(&p))),
        rate,
        hours,
        payment: PaymentKind::Sol,
        slippage_bps,
    }
}

fn calor(name: &'static str, config: Config, rate: u64, hours: u32, slippage_bps: u16) -> Case {
    Case {
        name,
        config,
        price: None,
        rate,
        hours,
        payment: PaymentKind::Calor,
        slippage_bps,
    }
}

fn cases() -> Vec<Case> {
    let usual = config(50_000, 10, 5_000, 5_000_000);
    let mut partial = pyth(15_000_000_000, 5_000_000, -8, 0);
    partial.verification = VerificationLevel::Partial { num_signatures: 3 };
    let mut other_feed = pyth(15_000_000_000, 5_000_000, -8, 0);
    other_feed.feed_id[0] ^= 1;
    vec![
        sol(
            "sol, 3 h at $2/h, $150 ± 0.05",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            2_000_000,
            3,
            100,
        ),
        sol(
            "sol, exactly the minimum",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            5_000_000,
            1,
            0,
        ),
        sol(
            "sol, 1 h at $2/h is under the $5 minimum",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            2_000_000,
            1,
            0,
        ),
        sol(
            "sol, at a rate no hours reach the minimum with",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            1,
            1,
            0,
        ),
        sol(
            "sol, an H100 for the longest rental",
            pyth(17_312_345_678, 9_876_543, -8, 30),
            2_490_000,
            2160,
            300,
        ),
        sol(
            "sol, price with exponent 0",
            pyth(150, 0, 0, 0),
            2_000_000,
            3,
            50,
        ),
        sol(
            "sol, price with a positive exponent",
            pyth(15, 0, 1, 0),
            2_000_000,
            3,
            50,
        ),
        sol(
            "sol, the largest exponent",
            pyth(9_000_000_000_000_000_000, 0, -18, 0),
            5_000_000,
            1,
            0,
        ),
        sol(
            "sol, an exponent beyond the largest",
            pyth(9_000_000_000_000_000_000, 0, -19, 0),
            5_000_000,
            1,
            0,
        ),
        sol(
            "sol, the price too small to pay in lamports",
            pyth(1, 0, -18, 0),
            5_000_000,
            1,
            0,
        ),
        sol(
            "sol, rounding up a third",
            pyth(300_000_000, 0, -8, 0),
            5_000_001,
            1,
            0,
        ),
        sol(
            "sol, the price at its age limit",
            pyth(15_000_000_000, 5_000_000, -8, 60),
            2_000_000,
            3,
            0,
        ),
        sol(
            "sol, a stale price",
            pyth(15_000_000_000, 5_000_000, -8, 61),
            2_000_000,
            3,
            0,
        ),
        sol(
            "sol, a price 10 s ahead",
            pyth(15_000_000_000, 5_000_000, -8, -10),
            2_000_000,
            3,
            0,
        ),
        sol(
            "sol, a price from the future",
            pyth(15_000_000_000, 5_000_000, -8, -11),
            2_000_000,
            3,
            0,
        ),
        sol(
            "sol, confidence at 2%",
            pyth(15_000_000_000, 300_000_000, -8, 0),
            2_000_000,
            3,
            0,
        ),
        sol(
            "sol, confidence over 2%",
            pyth(15_000_000_000, 300_000_001, -8, 0),
            2_000_000,
            3,
            0,
        ),
        sol("sol, a zero price", pyth(0, 0, -8, 0), 2_000_000, 3, 0),
        sol("sol, a negative price", pyth(-5, 0, -8, 0), 2_000_000, 3, 0),
        sol("sol, another feed", other_feed, 2_000_000, 3, 0),
        sol("sol, partly verified", partial, 2_000_000, 3, 0),
        sol(
            "sol, no hours",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            2_000_000,
            0,
            0,
        ),
        sol(
            "sol, past 90 days",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            2_000_000,
            2161,
            0,
        ),
        sol(
            "sol, an absurd rate",
            pyth(15_000_000_000, 5_000_000, -8, 0),
            u64::MAX / 2,
            3,
            0,
        ),
        Case {
            price: Some((
                Pubkey::new_from_array([7; 32]),
                price_data(&pyth(15_000_000_000, 5_000_000, -8, 0)),
            )),
            ..sol(
                "sol, a price account the receiver does not own",
                pyth(0, 0, -8, 0),
                2_000_000,
                3,
                0,
            )
        },
        Case {
            price: Some((calor::oracle::PYTH_RECEIVER_ID, vec![1, 2, 3])),
            ..sol(
                "sol, not a price update",
                pyth(0, 0, -8, 0),
                2_000_000,
                3,
                0,
            )
        },
        Case {
            price: None,
            ..sol("sol, no price account", pyth(0, 0, -8, 0), 2_000_000, 3, 0)
        },
        calor(
            "calor, 10 h at $2/h, half subsidised, $0.05",
            usual,
            2_000_000,
            10,
            100,
        ),
        calor(
            "calor, 3 h at $2/h is under the minimum after the subsidy",
            usual,
            2_000_000,
            3,
            0,
        ),
        calor(
            "calor, subsidy rounds up",
            config(50_000, 10, 3_333, 5_000_000),
            1_000_001,
            7,
            0,
        ),
        calor(
            "calor, 85% subsidy",
            config(1_234_567, 3_600, 8_500, 5_000_000),
            2_490_000,
            100,
            250,
        ),
        calor(
            "calor, no subsidy, $1 minimum",
            config(100, 0, 0, 1_000_000),
            999_999,
            2,
            0,
        ),
        calor(
            "calor, a stale rate",
            config(50_000, 3_601, 5_000, 5_000_000),
            2_000_000,
            10,
            0,
        ),
        calor(
            "calor, no rate posted",
            config(0, 0, 5_000, 5_000_000),
            2_000_000,
            10,
            0,
        ),
        calor("calor, an absurd rate", usual, u64::MAX / 2, 3, 0),
    ]
}

/// Lines for the SSH key check: accepted ones, and each refusal.
fn ssh_key_lines() -> Vec<String> {
    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/";
    const ECDSA: &str = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHngpdTMB5VhdQ7OUewdELmCB1oq7kPWLk0wWT13Vw5RA8xt6163MNgdfWVEKR2nhbReenjBAaH9NvU2bLL8y7A=";
    let rsa = format!("AAAAB3NzaC1yc2EAAAADAQABAAABgQ{}", "b".repeat(490));
    vec![
        format!("ssh-ed25519 {ED} renter@calor"),
        format!("ssh-ed25519 {ED}"),
        format!("ssh-ed25519 {ED} two words"),
        format!("ecdsa-sha2-nistp256 {ECDSA} laptop"),
        format!("ecdsa-sha2-nistp256 {} short", &ECDSA[..136]),
        format!("ssh-rsa {rsa} rsa"),
        format!("ssh-rsa {} too-big", "A".repeat(700)),
        format!("ssh-ed25519 {ED}\nssh-ed25519 {ED} second"),
        format!("ssh-ed25519 {ED}\r"),
        format!("ssh-ed25519 {ED} tab\there"),
        format!("ssh-ed25519 {ED} é"),
        format!("command=\"rm -rf /\" ssh-ed25519 {ED}"),
        format!("no-pty ssh-ed25519 {ED}"),
        "ssh-dss AAAAB3NzaC1kc3MAAACBAP".into(),
        "ssh-ed25519".into(),
        "ssh-ed25519 ".into(),
        "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQCx".into(),
        format!("ssh-ed25519 {}", &ED[..64]),
        format!("ssh-ed25519 {ED}=="),
        format!("ssh-ed25519 {}A=", &ED[..66]),
        format!("ssh-ed25519 {}=A", &ED[..66]),
        format!("ssh-ed25519 {}===", &ED[..65]),
        format!("ssh-ed25519 {}*", &ED[..67]),
        format!("ssh-ed25519  {ED}"),
        format!("ssh-ed25519\t{ED}"),
        format!("SSH-ED25519 {ED}"),
        format!("ssh-rsa {ED}"),
        String::new(),
    ]
}

/// Nodes for the market rules: (gpu, region, rate, status, serving a rental, heartbeat age).
const MARKET_TIMEOUT: u32 = 90;

fn market_nodes() -> Vec<Node> {
    use NodeStatus::{Busy, Idle, Offline};
    let timeout = i64::from(MARKET_TIMEOUT);
    [
        (1, 1, 3_000_000, Idle, false, 5),
        (1, 2, 1_000_000, Busy, true, 5),
        (1, 1, 500_000, Idle, false, timeout + 1), // stale: offline
        (1, 1, 800_000, Offline, false, 0),
        (2, 1, 700_000, Idle, false, timeout), // just within the timeout
        (2, 2, 600_000, Idle, false, timeout + 1),
        (3, 1, 900_000, Idle, true, 0), // claimed, its status not yet busy
        (1, 3, 400_000, Busy, false, 0),
    ]
    .into_iter()
    .map(|(gpu, region, rate, status, serving, age)| {
        let mut n: Node = bytemuck::Zeroable::zeroed();
        n.gpu_model = gpu;
        n.region = region;
        n.hourly_rate_micro_usd = rate;
        n.set_status(status);
        n.last_heartbeat = NOW - age;
        if serving {
            n.current_rental = Pubkey::new_from_array([7; 32]);
        }
        n
    })
    .collect()
}

fn market() -> Value {
    let nodes = market_nodes();
    let data: Vec<String> = nodes
        .iter()
        .map(|n| {
            let mut d = Node::DISCRIMINATOR.to_vec();
            d.extend_from_slice(bytemuck::bytes_of(n));
            b64(&d)
        })
        .collect();
    let name = |a| match a {
        Availability::Idle => "idle",
        Availability::Busy => "busy",
        Availability::Offline => "offline",
    };
    let mut offers = Vec::new();
    for gpu in 1..=4u16 {
        for region in [None, Some(1u16), Some(2), Some(3)] {
            let o = offer(&nodes, gpu, region, MARKET_TIMEOUT, NOW);
            offers.push(json!({
                "gpu": gpu,
                "region": region,
                "expected": o.map(|o| json!({ "rateMicroUsd": o.rate_micro_usd.to_string(), "queued": o.queued })),
            }));
        }
    }
    json!({
        "now": NOW.to_string(),
        "heartbeatTimeoutSecs": MARKET_TIMEOUT,
        "nodes": data,
        "availability": nodes.iter().map(|n| name(availability(n, MARKET_TIMEOUT, NOW))).collect::<Vec<_>>(),
        "offers": offers,
    })
}

fn vectors() -> Value {
    let quotes: Vec<Value> = cases()
        .into_iter()
        .map(|c| {
            let message = c
                .price
                .as_ref()
                .map(|(owner, data)| price_message(owner, data));
            let result = match message {
                Some(Err(e)) => Err(e),
                Some(Ok(m)) => quote(&c.config, Some(&m), NOW, c.rate, c.hours, c.payment, c.slippage_bps),
                None => quote(&c.config, None, NOW, c.rate, c.hours, c.payment, c.slippage_bps),
            };
            json!({
                "name": c.name,
                "config": b64(&config_data(&c.config)),
                "priceOwner": c.price.as_ref().map(|(owner, _)| owner.to_string()),
                "priceData": c.price.as_ref().map(|(_, data)| b64(data)),
                "now": NOW.to_string(),
                "hourlyRateMicroUsd": c.rate.to_string(),
                "hours": c.hours,
                "payment": match c.payment { PaymentKind::Sol => "sol", PaymentKind::Calor => "calor" },
                "slippageBps": c.slippage_bps,
                "expected": outcome(result),
            })
        })
        .collect();
    // extend_sol: (name, price, hours bought so far, rate, hours, slippage)
    let fresh = pyth(15_000_000_000, 5_000_000, -8, 0);
    let extensions: Vec<Value> = [
        (
            "1 more hour at $2/h: no minimum",
            fresh,
            3,
            2_000_000,
            1,
            100,
        ),
        ("up to 90 days in all", fresh, 2_000, 2_490_000, 160, 0),
        ("past 90 days in all", fresh, 2_000, 2_490_000, 161, 0),
        ("no hours", fresh, 3, 2_000_000, 0, 0),
        (
            "a stale price",
            pyth(15_000_000_000, 5_000_000, -8, 61),
            3,
            2_000_000,
            1,
            0,
        ),
        ("an absurd rate", fresh, 3, u64::MAX / 2, 3, 0),
    ]
    .into_iter()
    .map(|(name, p, bought, rate, hours, slippage)| {
        let config = config(50_000, 10, 5_000, 5_000_000);
        let data = price_data(&p);
        let message = price_message(&calor::oracle::PYTH_RECEIVER_ID, &data).unwrap();
        let result =
            quote_sol_extension(&config, Some(&message), NOW, bought, rate, hours, slippage);
        json!({
            "name": name,
            "config": b64(&config_data(&config)),
            "priceOwner": calor::oracle::PYTH_RECEIVER_ID.to_string(),
            "priceData": b64(&data),
            "now": NOW.to_string(),
            "hoursBought": bought,
            "hourlyRateMicroUsd": rate.to_string(),
            "hours": hours,
            "slippageBps": slippage,
            "expected": outcome(result),
        })
    })
    .collect();
    // extend_calor: (name, Calor rate posted ago, hours bought, rate, subsidy at open, hours, slippage)
    let calor_extensions: Vec<Value> = [
        (
            "1 more hour at $2/h, half subsidised",
            10,
            5,
            2_000_000,
            5_000,
            1,
            100,
        ),
        (
            "the subsidy fixed at open, not today's",
            10,
            5,
            2_000_000,
            2_500,
            3,
            0,
        ),
        ("up to 90 days in all", 10, 2_000, 2_490_000, 5_000, 160, 0),
        ("past 90 days in all", 10, 2_000, 2_490_000, 5_000, 161, 0),
        ("a stale Calor rate", 7_200, 5, 2_000_000, 5_000, 1, 0),
        ("an absurd rate", 10, 5, u64::MAX / 2, 5_000, 3, 0),
    ]
    .into_iter()
    .map(
        |(name, posted_ago, bought, rate, subsidy, hours, slippage)| {
            let config = config(50_000, posted_ago, 5_000, 5_000_000);
            let extension = Extension {
                hours_bought: bought,
                hourly_rate_micro_usd: rate,
                hours,
            };
            let result = quote_calor_extension(&config, NOW, extension, subsidy, slippage);
            json!({
                "name": name,
                "config": b64(&config_data(&config)),
                "now": NOW.to_string(),
                "hoursBought": bought,
                "hourlyRateMicroUsd": rate.to_string(),
                "subsidyBps": subsidy,
                "hours": hours,
                "slippageBps": slippage,
                "expected": outcome(result),
            })
        },
    )
    .collect();
    let keys: Vec<Value> = ssh_key_lines()
        .into_iter()
        .map(|line| {
            let expected = match calor::ssh_key::validate(&line) {
                Ok(()) => Value::Null,
                Err(e) => json!(format!("{e:?}")),
            };
            json!({ "line": line, "error": expected })
        })
        .collect();
    json!({
        "comment": "Generated by client/tests/app_vectors.rs from the program's own code; do not edit.",
        "quotes": quotes,
        "solExtensions": extensions,
        "calorExtensions": calor_extensions,
        "sshKeys": keys,
        "market": market(),
    })
}

#[test]
fn the_apps_vectors_are_the_programs_answers() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/app.json");
    let fresh = serde_json::to_string_pretty(&vectors()).unwrap() + "\n";
    if std::env::var_os("CALOR_UPDATE_VECTORS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: rewrite it with CALOR_UPDATE_VECTORS=1 cargo test -p calor-client --test app_vectors",
        path.display()
    );
}

#[test]
fn the_vectors_cover_every_outcome() {
    let v = vectors();
    let kinds: std::collections::BTreeSet<String> = v["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| match &q["expected"]["error"] {
            Value::Null => "ok".to_string(),
            e => format!(
                "{}:{}",
                e["kind"].as_str().unwrap(),
                e["name"].as_str().unwrap_or("")
            ),
        })
        .collect();
    for kind in [
        "ok",
        "hours:",
        "belowMinimum:",
        "overflow:",
        "notAPriceUpdate:",
        "price:StalePrice",
        "price:PriceFromFuture",
        "price:PriceConfidenceTooWide",
        "price:WrongPriceFeed",
        "price:InvalidOraclePrice",
        "price:StaleCalorPrice",
    ] {
        assert!(kinds.contains(kind), "no vector ends in {kind}: {kinds:?}");
    }
    let keys = v["sshKeys"].as_array().unwrap();
    for error in [
        Value::Null,
        json!("TooLong"),
        json!("UnknownType"),
        json!("BadBlob"),
        json!("BadComment"),
    ] {
        assert!(
            keys.iter().any(|k| k["error"] == error),
            "no key line ends in {error}"
        );
    }
}
