//! `calor` end to end on real parts: a local chain with the program deployed and a provider's
//! provisioner on Podman, and no Calor API at all (the CLI needs none to rent, connect, stop
//! and read a settled job back). A wallet rents with an SSH key, logs in over SSH, stops, and
//! the settlement printed is the chain's; bad input is refused by name with its exit code.
#[path = "../../provisioner/tests/support/mod.rs"]
#[allow(unused_imports)]
mod stack;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use calor_client::keys;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;
use stack::{ProvisionerOptions, Renter, Stack};

/// `calor` on the stack's chain, signing with the key file at `key`.
fn calor(stack: &Stack, key: &Path) -> Command {
    let mut c = Command::cargo_bin("calor").unwrap();
    c.env_remove("CALOR_KEYPAIR")
        .env_remove("CALOR_CLUSTER")
        .args(["--cluster", &stack.local.rpc_url()])
        .arg("--keypair")
        .arg(key);
    c
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("--json printed no JSON ({e}): {}", self.stdout))
    }
}

/// Runs `calor ARGS` off the async runtime (it starts its own).
async fn run(mut command: Command, args: &[&str]) -> Ran {
    command.args(args);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn key_file(stack: &Stack, key: &Keypair) -> PathBuf {
    let path = stack.dir.join(format!("wallet-{}.json", key.pubkey()));
    keys::write(&path, key).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn rent_ssh_stop_and_read_back_with_no_api() {
    let mut stack = Stack::new("cli-flow", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let renter = Renter::new(&stack).await;
    let wallet = key_file(&stack, &renter.key);
    let pubkey_file = renter.ssh_private_key.with_extension("pub");
    let chain = stack.chain();
    calor_migrations::publish_local_sol_price(chain, calor_migrations::LOCAL_SOL_USD_CENTS)
        .await
        .unwrap();

    // The catalog comes from the chain: wait for the provider's node to be idle.
    let mut listed = Value::Null;
    for _ in 0..150 {
        let gpus = run(calor(&stack, &wallet), &["gpus", "--json"]).await;
        assert_eq!(gpus.code, 0, "{}", gpus.stderr);
        listed = gpus.json();
        if listed[0]["idle"].as_u64() == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let h100 = &listed.as_array().unwrap()[0];
    assert_eq!(h100["slug"], "h100-pcie", "{listed}");
    assert_eq!(h100["idle"], 1, "{listed}");
    assert_eq!(h100["rate_usd"], 2.0, "{listed}");
    let text = run(calor(&stack, &wallet), &["gpus"]).await;
    assert!(
        text.stdout.contains("h100-pcie") && text.stdout.contains("$2.00"),
        "{}",
        text.stdout
    );

    // Bad input: named, with exit code 2, nothing signed.
    let unknown = run(
        calor(&stack, &wallet),
        &["quote", "--gpu", "b200", "--hours", "3"],
    )
    .await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("unknown GPU \"b200\""),
        "{}",
        unknown.stderr
    );
    let short = run(
        calor(&stack, &wallet),
        &["quote", "--gpu", "h100-pcie", "--hours", "1"],
    )
    .await;
    assert_eq!(short.code, 2, "{}", short.stderr);
    assert!(
        short.stderr.contains("at least 3 hours"),
        "{}",
        short.stderr
    );
    let typo = run(
        calor(&stack, &wallet),
        &["rent", "--gpu", "h100-pcie", "--hourz", "3"],
    )
    .await;
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    let region = run(
        calor(&stack, &wallet),
        &[
            "quote",
            "--gpu",
            "h100-pcie",
            "--hours",
            "3",
            "--region",
            "mars-1",
        ],
    )
    .await;
    assert_eq!(region.code, 2);
    assert!(
        region.stderr.contains("unknown region"),
        "{}",
        region.stderr
    );
    let no_tty = run(
        calor(&stack, &wallet),
        &["rent", "--gpu", "h100-pcie", "--hours", "3"],
    )
    .await;
    assert_eq!(no_tty.code, 2);
    assert!(no_tty.stderr.contains("pass --yes"), "{}", no_tty.stderr);

    // A wallet without SOL is told what it needs before anything is signed.
    let poor = Keypair::new();
    chain.airdrop(&poor.pubkey(), 1_000_000).await.unwrap();
    let poor_file = key_file(&stack, &poor);
    let broke = run(
        calor(&stack, &poor_file),
        &["rent", "--gpu", "h100-pcie", "--hours", "3", "--yes"],
    )
    .await;
    assert_eq!(broke.code, 4, "{}", broke.stderr);
    assert!(
        broke.stderr.contains("insufficient SOL: need 0.")
            && broke.stderr.contains("have 0.0010 SOL"),
        "{}",
        broke.stderr
    );
    assert_eq!(chain.balance(&poor.pubkey()).await.unwrap(), 1_000_000);

    // The quote, then the rental with an SSH key, followed to running.
    let quote = run(
        calor(&stack, &wallet),
        &["quote", "--gpu", "h100-pcie", "--hours", "3", "--json"],
    )
    .await;
    assert_eq!(quote.code, 0, "{}", quote.stderr);
    let quote = quote.json();
    assert_eq!(quote["paid_usd"], 6.0, "{quote}");
    let rented = run(
        calor(&stack, &wallet),
        &[
            "rent",
            "--gpu",
            "h100-pcie",
            "--hours",
            "3",
            "--yes",
            "--json",
            "--ssh-key",
            pubkey_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(rented.code, 0, "{}", rented.stderr);
    let rented = rented.json();
    let id = rented["rented"]["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(rented["rented"]["job"]["state"], "running", "{rented}");
    assert_eq!(rented["rented"]["job"]["has_ssh_key"], true);
    assert!(
        rented["connect"]["ssh_command"]
            .as_str()
            .unwrap()
            .starts_with("ssh -p "),
        "{rented}"
    );

    // SSH works, through `calor ssh`.
    let ssh = run(
        calor(&stack, &wallet),
        &[
            "ssh",
            &id,
            "-i",
            renter.ssh_private_key.to_str().unwrap(),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "echo",
            "calor-$((6*7))",
        ],
    )
    .await;
    assert_eq!(ssh.code, 0, "{}", ssh.stderr);
    assert_eq!(ssh.stdout.trim(), "calor-42");
    // The web terminal, as the CLI opens it with a signed access message.
    let terminal = run(
        calor(&stack, &wallet),
        &["terminal", &id, "--run", "echo $((40+2))-via-web"],
    )
    .await;
    assert_eq!(terminal.code, 0, "{}", terminal.stderr);
    assert!(
        terminal.stdout.contains("42-via-web"),
        "{}",
        terminal.stdout
    );

    let job = run(calor(&stack, &wallet), &["job", &id, "--json"])
        .await
        .json();
    assert_eq!(job["state"], "running");
    assert_eq!(job["gpu_name"], "H100 PCIe");
    let listed = run(calor(&stack, &wallet), &["jobs", "--json"])
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    // another wallet cannot see or stop it
    let other = run(calor(&stack, &poor_file), &["stop", &id]).await;
    assert_eq!(other.code, 5, "{}", other.stderr);

    // Stop: the settlement printed is what the chain moved.
    let rental: calor_client::Pubkey = id.parse().unwrap();
    let held = chain.rpc().get_balance(&rental).await.unwrap();
    let before = chain.balance(&renter.key.pubkey()).await.unwrap();
    let stopped = run(calor(&stack, &wallet), &["stop", &id, "--json"]).await;
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let settlement = stopped.json();
    let after = chain.balance(&renter.key.pubkey()).await.unwrap();
    let fee = chain
        .rpc()
        .get_transaction(
            &settlement["signature"].as_str().unwrap().parse().unwrap(),
            solana_transaction_status_client_types::UiTransactionEncoding::Base64,
        )
        .await
        .unwrap()
        .transaction
        .meta
        .unwrap()
        .fee;
    let n = |k: &str| settlement[k].as_u64().unwrap();
    let escrowed = job["escrowed"].as_u64().unwrap();
    assert_eq!(
        n("provider_pay") + n("fee") + n("refund"),
        escrowed,
        "{settlement}"
    );
    let rent = held - escrowed;
    assert_eq!(
        after + fee,
        before + n("refund") + rent,
        "the wallet got the refund and the rent"
    );
    assert_eq!(chain.rpc().get_balance(&rental).await.unwrap(), 0, "closed");

    // Settled: read back from the chain's transactions, the same settlement.
    let back = run(calor(&stack, &wallet), &["job", &id, "--json"])
        .await
        .json();
    assert_eq!(back["state"], "settled", "{back}");
    assert_eq!(back["settlement"], settlement);
    let text = run(calor(&stack, &wallet), &["job", &id]).await.stdout;
    assert!(text.contains("refund:"), "{text}");
    let all = run(calor(&stack, &wallet), &["jobs", "--all", "--json"])
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all[0], back, "the history is the settled job");
    let open = run(calor(&stack, &wallet), &["jobs", "--json"])
        .await
        .json();
    assert_eq!(open, serde_json::json!([]));
    let watched = run(calor(&stack, &wallet), &["watch", &id, "--json"]).await;
    assert_eq!(watched.code, 0, "{}", watched.stderr);
    assert!(watched.stdout.trim().ends_with('}') && watched.stdout.contains("\"settled\""));
    let again = run(calor(&stack, &wallet), &["extend", &id, "--hours", "1"]).await;
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("is not running"), "{}", again.stderr);

    // Shell completions.
    let completions = run(calor(&stack, &wallet), &["completions", "bash"]).await;
    assert!(completions.stdout.contains("calor"));
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn calor_payment_burns_and_staking_commands_move_the_tokens() {
    let mut stack = Stack::new("cli-calor", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let renter = Renter::new(&stack).await;
    let wallet = key_file(&stack, &renter.key);
    let chain = stack.chain();
    let mint = stack.protocol.calor_mint;
    let tokens = calor_migrations::fund_calor(
        chain,
        &stack.authority,
        &mint,
        &stack.authority,
        &renter.key.pubkey(),
        2_000_000_000,
    )
    .await
    .unwrap();
    calor_migrations::publish_local_sol_price(chain, calor_migrations::LOCAL_SOL_USD_CENTS)
        .await
        .unwrap();
    for _ in 0..150 {
        let gpus = run(calor(&stack, &wallet), &["gpus", "--json"])
            .await
            .json();
        if gpus[0]["idle"].as_u64() == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let balance = run(calor(&stack, &wallet), &["balance"]).await.stdout;
    assert!(balance.contains("2000.0000 Calor"), "{balance}");

    // Too little Calor is said in Calor, before signing.
    let greedy = run(
        calor(&stack, &wallet),
        &[
            "quote",
            "--gpu",
            "h100-pcie",
            "--hours",
            "2000",
            "--pay",
            "calor",
        ],
    )
    .await;
    assert_eq!(greedy.code, 4, "{}", greedy.stderr);
    assert!(
        greedy.stderr.contains("insufficient Calor: need"),
        "{}",
        greedy.stderr
    );

    // Rent with Calor (web terminal only: no key), stop: the burn is the mint's supply fall.
    let rented = run(
        calor(&stack, &wallet),
        &[
            "rent",
            "--gpu",
            "h100-pcie",
            "--hours",
            "5",
            "--pay",
            "calor",
            "--yes",
            "--json",
        ],
    )
    .await;
    assert_eq!(rented.code, 0, "{}", rented.stderr);
    let rented = rented.json();
    let id = rented["rented"]["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(rented["rented"]["quote"]["pay"], "calor");
    assert!(rented["connect"]["ssh_command"].is_null(), "no key, no SSH");
    let ssh = run(calor(&stack, &wallet), &["ssh", &id]).await;
    assert_eq!(ssh.code, 2);
    assert!(ssh.stderr.contains("calor terminal"), "{}", ssh.stderr);
    let extended = run(
        calor(&stack, &wallet),
        &["extend", &id, "--hours", "1", "--json"],
    )
    .await;
    assert_eq!(extended.code, 0, "{}", extended.stderr);
    assert_eq!(extended.json()["hours"], 6);
    let supply = || async {
        chain
            .rpc()
            .get_token_supply(&mint)
            .await
            .unwrap()
            .amount
            .parse::<u64>()
            .unwrap()
    };
    let network = run(calor(&stack, &wallet), &["network", "--json"])
        .await
        .json();
    assert_eq!(
        (
            &network["nodes_online"],
            &network["gpus_busy"],
            &network["rentals_open"]
        ),
        (&1.into(), &1.into(), &1.into()),
        "{network}"
    );
    let network = run(calor(&stack, &wallet), &["network", "--json"])
        .await
        .json();
    let counts = [
        &network["nodes_online"],
        &network["gpus_busy"],
        &network["rentals_open"],
    ];
    assert_eq!(counts, [1, 1, 1], "{network}");
    // ten minutes served, so that there is something to pay and burn
    let now = chain.unix_timestamp().await.unwrap();
    stack.time_travel(now + 600).await;
    let before = supply().await;
    let stopped = run(calor(&stack, &wallet), &["stop", &id, "--json"]).await;
    assert_eq!(stopped.code, 0, "{}", stopped.stderr);
    let settlement = stopped.json();
    let burned = settlement["burned"].as_u64().unwrap();
    assert!(burned > 0, "{settlement}");
    assert_eq!(
        before - supply().await,
        burned,
        "the burn printed is the supply's fall"
    );

    // Staking: stake, read it back, unstake part, nothing to claim yet.
    let held = chain.token_balance(&tokens).await.unwrap();
    let staked = run(calor(&stack, &wallet), &["stake", "1000.5"]).await;
    assert_eq!(staked.code, 0, "{}", staked.stderr);
    assert_eq!(
        held - chain.token_balance(&tokens).await.unwrap(),
        1_000_500_000
    );
    let rewards = run(calor(&stack, &wallet), &["rewards", "--json"])
        .await
        .json();
    assert_eq!(rewards["pending"], 1_000_500_000u64, "{rewards}");
    let too_much = run(calor(&stack, &wallet), &["unstake", "5000"]).await;
    assert_eq!(too_much.code, 2);
    assert!(
        too_much.stderr.contains("you have 1000.5000 Calor staked"),
        "{}",
        too_much.stderr
    );
    let unstaked = run(calor(&stack, &wallet), &["unstake", "0.5"]).await;
    assert_eq!(unstaked.code, 0, "{}", unstaked.stderr);
    assert_eq!(
        held - chain.token_balance(&tokens).await.unwrap(),
        1_000_000_000
    );
    let claim = run(calor(&stack, &wallet), &["claim"]).await;
    assert_eq!(claim.code, 2);
    assert!(
        claim.stderr.contains("no rewards to claim yet"),
        "{}",
        claim.stderr
    );
    let bad = run(calor(&stack, &wallet), &["stake", "1,5"]).await;
    assert_eq!(bad.code, 2);
    stack.assert_clean().await;
}
