//! A job over HTTP, end to end on real parts: a local chain with the program deployed, a
//! provisioner on Podman, the API on SQLite and on PostgreSQL. A wallet signs in, asks for a
//! job, signs the unsigned transaction itself and relays it, watches the events reach
//! `running`, reads where to connect, stops it with a second signed transaction and watches
//! it settle; the index's history and amounts equal the chain's. Another wallet sees none of
//! it.
#[path = "chain/mod.rs"]
#[allow(dead_code)]
mod chain;
#[path = "../../provisioner/tests/support/mod.rs"]
#[allow(unused_imports)]
mod stack;
mod support;

use std::time::Duration;

use calor_api::config::ChainSettings;
use calor_api::jobs::{JobSettings, QuotaSettings};
use calor_client::Pubkey;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use stack::{ProvisionerOptions, Stack};
use support::*;

/// The chain's settings, with a quota of one open job a wallet.
pub fn chain_settings(stack: &Stack) -> ChainSettings {
    let mut settings = chain::settings(stack);
    settings.jobs.quota = QuotaSettings {
        base: 1,
        ..QuotaSettings::default()
    };
    settings
}

/// Signs an unsigned transaction from the API as its fee payer, as a wallet would.
pub fn sign(transaction: &str, wallet: &Keypair) -> String {
    calor_client::wire::sign(transaction, wallet).expect("the wallet is the only signer")
}

pub async fn wallet_session(api: &Api, wallet: &Keypair) -> String {
    api.sign_in(&wallet.pubkey(), |m| wallet.sign_message(m).into())
        .await
}

/// Waits until the catalog shows an idle node of model `gpu` in `region`.
pub async fn wait_idle(api: &Api, gpu: u64, region: u64) {
    for _ in 0..300 {
        let catalog = api.call("GET", "/api/gpus", None, None).await;
        if catalog.status == 200 {
            let c = catalog.json();
            let idle = c["models"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == gpu)
                .and_then(|m| {
                    m["regions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["id"] == region)
                        .cloned()
                })
                .map(|r| r["idleNodes"].as_u64().unwrap());
            if idle.is_some_and(|n| n > 0) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no idle node of model {gpu} in region {region} appeared in /api/gpus");
}

pub async fn relay(api: &Api, signed: &str) -> String {
    let reply = api.post("/api/tx", &json!({ "transaction": signed })).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()["signature"].as_str().unwrap().to_string()
}

async fn flow(backing: Backing) {
    let mut stack = Stack::new("api-flow", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let api = Api::with_chain(backing, &chain_settings(&stack)).await;
    let renter = Keypair::new();
    calor_migrations::fund(stack.chain(), &renter.pubkey())
        .await
        .unwrap();
    let token = wallet_session(&api, &renter).await;
    wait_idle(&api, 1, 1).await;

    // Anonymous calls cannot rent.
    let body = json!({ "gpu": 1, "region": 1, "hours": 3, "payment": "sol" });
    let reply = api
        .call("POST", "/api/jobs", None, Some(&body.to_string()))
        .await;
    assert_eq!(reply.problem(401), "missing_token");
    // Under the $5 minimum: named, with the hours that reach it.
    let short = json!({ "gpu": 1, "region": 1, "hours": 1, "payment": "sol" });
    let reply = api
        .call("POST", "/api/jobs", Some(&token), Some(&short.to_string()))
        .await;
    assert_eq!(reply.problem(422), "below_minimum");
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("at least 3 hours"),
        "{}",
        reply.body
    );
    // Unknown fields and bad keys are named.
    let typo = json!({ "gpu": 1, "hours": 3, "payment": "sol", "hourz": 2 });
    let reply = api
        .call("POST", "/api/jobs", Some(&token), Some(&typo.to_string()))
        .await;
    assert_eq!(reply.problem(422), "bad_body");
    assert!(reply.body.contains("hourz"), "{}", reply.body);
    let bad_key = json!({ "gpu": 1, "hours": 3, "payment": "sol", "sshKey": "ssh-ed25519 AAAA x\nssh-rsa B" });
    let reply = api
        .call(
            "POST",
            "/api/jobs",
            Some(&token),
            Some(&bad_key.to_string()),
        )
        .await;
    assert_eq!(reply.problem(422), "invalid_field");
    assert_eq!(reply.json()["field"], "sshKey");

    // The quote, and the transaction only the wallet can sign.
    calor_migrations::publish_local_sol_price(stack.chain(), calor_migrations::LOCAL_SOL_USD_CENTS)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await; // the market re-reads the price
    let before = stack.chain().balance(&renter.pubkey()).await.unwrap();
    let reply = api
        .call("POST", "/api/jobs", Some(&token), Some(&body.to_string()))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let created = reply.json();
    let quote = &created["quote"];
    assert_eq!(quote["paidUsd"], 6.0);
    assert_eq!(quote["minimumUsd"], 5.0);
    assert_eq!(quote["queued"], false);
    let expected = calor::math::usd_to_lamports(6_000_000, 15_000_000_000, 5_000_000, -8).unwrap();
    assert_eq!(quote["amount"], expected);
    let rental = created["rental"].as_str().unwrap().to_string();
    let rental_key: Pubkey = rental.parse().unwrap();
    // Relaying it unsigned is refused; signed, it opens the rental.
    let reply = api
        .post("/api/tx", &json!({ "transaction": created["transaction"] }))
        .await;
    assert_eq!(reply.problem(422), "bad_signature");
    let mut events = api
        .events(&format!("/api/jobs/{rental}/events"), &token, None)
        .await;
    // before the opening is indexed the job is unknown
    assert_eq!(events.status, 404);
    let opened_sig = relay(
        &api,
        &sign(created["transaction"].as_str().unwrap(), &renter),
    )
    .await;

    // Live events reach `running`.
    let mut job = Value::Null;
    for _ in 0..100 {
        let reply = api
            .call("GET", &format!("/api/jobs/{rental}"), Some(&token), None)
            .await;
        if reply.status == 200 {
            job = reply.json();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        job["timeline"][0]["signature"],
        opened_sig.as_str(),
        "{job}"
    );
    events = api
        .events(&format!("/api/jobs/{rental}/events"), &token, None)
        .await;
    assert_eq!(events.status, 200);
    let seen = events.until("started", Duration::from_secs(60)).await;
    let kinds: Vec<_> = seen.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(kinds, ["opened", "claimed", "started"]);
    assert_eq!(
        seen.iter()
            .map(|e| e.id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );

    // Where to connect.
    let job = api
        .call("GET", &format!("/api/jobs/{rental}"), Some(&token), None)
        .await
        .json();
    assert_eq!(job["state"], "running");
    assert_eq!(job["connect"]["sshHost"], "127.0.0.1", "{job}");
    let port = job["connect"]["sshPort"].as_u64().expect("an SSH port");
    assert!(port > 0);
    assert_eq!(
        job["connect"]["sshCommand"],
        Value::Null,
        "a job without a key is reached through the web terminal"
    );

    // The web terminal: the API builds the access message, the wallet signs it, the
    // provider's provisioner opens a shell (another wallet gets no message: below).
    let ask = json!({ "action": "terminal" }).to_string();
    let access = api
        .call(
            "POST",
            &format!("/api/jobs/{rental}/access"),
            Some(&token),
            Some(&ask),
        )
        .await
        .json();
    let message = access["message"]
        .as_str()
        .expect("a message to sign")
        .to_string();
    assert!(
        message.contains(&format!("Open a terminal on Calor rental {rental}")),
        "{message}"
    );
    assert_eq!(access["url"], job["connect"]["terminalUrl"]);
    let signature = renter.sign_message(message.as_bytes()).to_string();
    let provisioner_port = stack.clusters[0].listen_port;
    let mut terminal = stack::terminal::Terminal::open(
        provisioner_port,
        &rental.parse().unwrap(),
        &(message, signature),
    )
    .await;
    terminal.send("echo from-$((40 + 2))\n").await;
    terminal
        .read_until("from-42", Duration::from_secs(30))
        .await;
    terminal.close().await;
    let bad = json!({ "action": "root" }).to_string();
    let reply = api
        .call(
            "POST",
            &format!("/api/jobs/{rental}/access"),
            Some(&token),
            Some(&bad),
        )
        .await;
    assert_eq!(reply.problem(422), "invalid_field");

    // One open job is this wallet's quota: a second is refused, naming the limit.
    let reply = api
        .call("POST", "/api/jobs", Some(&token), Some(&body.to_string()))
        .await;
    assert_eq!(reply.problem(403), "quota_exceeded");
    let detail = reply.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("may have 1 at once") && detail.contains("tier"),
        "{detail}"
    );

    // The network and the listings see the node busy.
    tokio::time::sleep(Duration::from_millis(400)).await; // a market refresh
    let network = api.call("GET", "/api/network", None, None).await.json();
    assert_eq!(
        (
            network["nodesOnline"].as_u64(),
            network["gpusBusy"].as_u64()
        ),
        (Some(1), Some(1)),
        "{network}"
    );
    assert_eq!(network["utilisation"], 1.0);
    assert_eq!(network["pflopsOnline"], 0.756);
    let listings = api
        .call("GET", "/api/marketplace/listings?gpu=1", None, None)
        .await
        .json();
    assert_eq!(listings[0]["status"], "busy", "{listings}");
    assert_eq!(listings[0]["hourlyRateUsd"], 2.0);
    assert_eq!(listings[0]["uptimeRatio"], 1.0);
    let reply = api
        .call("GET", "/api/marketplace/listings?colour=red", None, None)
        .await;
    assert_eq!(reply.problem(422), "invalid_query");

    // Another wallet sees nothing of it.
    let stranger = Keypair::new();
    let other = wallet_session(&api, &stranger).await;
    for (method, path) in [
        ("GET", format!("/api/jobs/{rental}")),
        ("DELETE", format!("/api/jobs/{rental}")),
    ] {
        let reply = api.call(method, &path, Some(&other), None).await;
        assert_eq!(reply.problem(404), "job_not_found");
    }
    let reply = api
        .call(
            "POST",
            &format!("/api/jobs/{rental}/access"),
            Some(&other),
            Some(&ask),
        )
        .await;
    assert_eq!(reply.problem(404), "job_not_found");
    let theirs = api
        .events(&format!("/api/jobs/{rental}/events"), &other, None)
        .await;
    assert_eq!(theirs.status, 404);
    let list = api
        .call("GET", "/api/jobs", Some(&other), None)
        .await
        .json();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0);

    // Half an hour served, then stop: complete and settle in the renter's own transaction.
    let started_at = job["startedAt"].as_i64().unwrap();
    stack.time_travel(started_at + 1_800).await;
    let reply = api
        .call("DELETE", &format!("/api/jobs/{rental}"), Some(&token), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stop = reply.json();
    assert_eq!(stop["action"], "complete");
    assert_eq!(stop["settles"], true);
    relay(&api, &sign(stop["transaction"].as_str().unwrap(), &renter)).await;
    let seen = events.until("settled", Duration::from_secs(60)).await;
    let kinds: Vec<_> = seen.iter().map(|e| e.event.clone().unwrap()).collect();
    assert_eq!(kinds, ["ended", "settled"]);

    // History and amounts equal the chain's.
    let job = api
        .call("GET", &format!("/api/jobs/{rental}"), Some(&token), None)
        .await
        .json();
    assert_eq!(job["state"], "completed");
    assert_eq!(job["settled"], true);
    assert_eq!(job["endReason"], "completed");
    let cost = &job["cost"];
    let escrowed = cost["escrowed"].as_u64().unwrap();
    assert_eq!(escrowed, expected);
    let (pay, fee, refund) = (
        cost["providerPay"].as_u64().unwrap(),
        cost["fee"].as_u64().unwrap(),
        cost["refund"].as_u64().unwrap(),
    );
    assert_eq!(pay + fee + refund, escrowed, "{cost}");
    let served = job["servedSecs"].as_u64().unwrap();
    assert!(
        (1_800..1_900).contains(&served) && pay > 0 && refund > 0,
        "{job}"
    );
    assert!(
        stack.chain().rpc().get_balance(&rental_key).await.unwrap() == 0,
        "the rental is closed"
    );
    // every transaction that touched the rental is in the timeline
    let on_chain: std::collections::BTreeSet<String> = stack
        .chain()
        .rpc()
        .get_signatures_for_address(&rental_key)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.err.is_none())
        .map(|s| s.signature)
        .collect();
    let indexed: std::collections::BTreeSet<String> = job["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["signature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(indexed, on_chain);
    // the renter paid the fee and the time served, and got the rest (and the rent) back
    let after = stack.chain().balance(&renter.pubkey()).await.unwrap();
    let fees = JobSettings::default().priority.fee_lamports() * 2;
    assert_eq!(
        before - after,
        pay + fee + fees,
        "paid = served time + two transaction fees"
    );

    // Resume after event 3: the rest, in order.
    let mut resumed = api
        .events(&format!("/api/jobs/{rental}/events"), &token, Some(3))
        .await;
    let first = resumed.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (first.id.as_deref(), first.event.as_deref()),
        (Some("4"), Some("ended"))
    );

    // The list, its filters and its cursor.
    let list = api
        .call("GET", "/api/jobs?status=completed", Some(&token), None)
        .await
        .json();
    assert_eq!(list["jobs"][0]["rental"], rental.as_str());
    let list = api
        .call("GET", "/api/jobs?status=running", Some(&token), None)
        .await
        .json();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0);
    let reply = api
        .call("GET", "/api/jobs?status=sleeping", Some(&token), None)
        .await;
    assert_eq!(reply.problem(422), "invalid_field");
    let reply = api
        .call("GET", "/api/jobs?limit=0", Some(&token), None)
        .await;
    assert_eq!(reply.problem(422), "invalid_field");
    let reply = api
        .call("GET", "/api/jobs?cursor=zzz", Some(&token), None)
        .await;
    assert_eq!(reply.problem(422), "invalid_field");

    // Nothing left to stop.
    let reply = api
        .call("DELETE", &format!("/api/jobs/{rental}"), Some(&token), None)
        .await;
    assert_eq!(reply.problem(409), "not_stoppable");

    // The quota is free again at once: the settled rental no longer counts, although the API's
    // chain view drops it only at its next resync (a closing is not notified). The quota is
    // checked first; then the node may still be offline on the moved clock (409 no_capacity)
    // or heartbeating again (201, an unsigned open nobody sends).
    let reply = api
        .call("POST", "/api/jobs", Some(&token), Some(&body.to_string()))
        .await;
    assert!(
        reply.status == 201 || (reply.status == 409 && reply.body.contains("no_capacity")),
        "{} {}",
        reply.status,
        reply.body
    );

    // The network counts it.
    let network = api.call("GET", "/api/network", None, None).await.json();
    assert_eq!(network["rentalsByState"]["completed"], 1, "{network}");
    assert_eq!(network["nodesTotal"], 1);

    // And its history, hour by hour: the job opened in the window and its node was busy.
    let history = api
        .call("GET", "/api/network/history?hours=2", None, None)
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let points = history.json();
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 2);
    let opened: u64 = points
        .iter()
        .map(|p| p["jobsOpened"].as_u64().unwrap())
        .sum();
    assert_eq!(opened, 1, "{points:?}");
    let busy: f64 = points
        .iter()
        .map(|p| p["busyGpuHours"].as_f64().unwrap())
        .sum();
    assert!(busy > 0.0, "{points:?}");
    for bad in ["0", "169", "x"] {
        let reply = api
            .call(
                "GET",
                &format!("/api/network/history?hours={bad}"),
                None,
                None,
            )
            .await;
        assert_eq!(reply.status, 422, "hours={bad}: {}", reply.body);
    }

    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_over_http_on_sqlite() {
    flow(Backing::Sqlite(temp_dir("jobs"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_over_http_on_postgres() {
    flow(Backing::Postgres(Postgres::start())).await;
}
