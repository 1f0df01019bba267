//! Schemathesis (from PyPI, `tools/schemathesis/install.sh`) against the API's own
//! `/api/openapi.json`, on a migrated local chain with a listed provider: anonymous and
//! signed-in calls with generated input must never answer 5xx, and every response must match
//! the description (status, content type and body schema).
#[path = "chain/mod.rs"]
#[allow(dead_code)]
mod chain;
#[path = "../../provisioner/tests/support/mod.rs"]
#[allow(unused_imports)]
mod stack;
mod support;

use std::process::Command;
use std::time::Duration;

use solana_keypair::Keypair;
use solana_signer::Signer;
use stack::Stack;
use support::*;

fn schemathesis() -> String {
    std::env::var("CALOR_SCHEMATHESIS")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            let out = Command::new("bash")
                .arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../tools/schemathesis/install.sh"
                ))
                .output()
                .expect("install schemathesis");
            assert!(out.status.success(), "tools/schemathesis/install.sh failed");
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
}

async fn fuzz(backing: Backing) {
    let tool = schemathesis();
    let stack = Stack::new("api-schema", &[1]).await;
    let chain = chain::settings(&stack);
    let api = Api::with_chain(backing, &chain).await;
    let wallet = Keypair::new();
    calor_migrations::fund(stack.chain(), &wallet.pubkey())
        .await
        .unwrap();
    let token = api
        .sign_in(&wallet.pubkey(), |m| wallet.sign_message(m).into())
        .await;
    // A live feed is always fresh; keep the local one so while the tool runs.
    let rpc = stack.local.rpc_url();
    let keeper = tokio::spawn(async move {
        let chain = calor_client::rpc::Chain::new(rpc, Default::default());
        loop {
            let _ = calor_migrations::publish_local_sol_price(
                &chain,
                calor_migrations::LOCAL_SOL_USD_CENTS,
            )
            .await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    });
    let url = format!("{}/api/openapi.json", api.base);
    let run = |auth: Option<&str>| {
        let mut cmd = Command::new(&tool);
        cmd.args(["run", &url])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
            ])
            .args([
                "--max-examples",
                "25",
                "--workers",
                "2",
                "--request-timeout",
                "10",
            ])
            .arg("--generation-deterministic")
            // signing out would end the session the rest of the run uses
            .args(["--exclude-path", "/api/auth/logout"])
            .env("NO_COLOR", "1")
            .env("SCHEMATHESIS_HOOKS", "");
        if let Some(token) = auth {
            cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        cmd
    };
    for auth in [None, Some(token.as_str())] {
        let mut cmd = run(auth);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        // the summary, in the test's output
        eprintln!(
            "{}",
            text.lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            out.status.success(),
            "schemathesis ({}) failed:\n{text}\n{}",
            if auth.is_some() {
                "signed in"
            } else {
                "anonymous"
            },
            String::from_utf8_lossy(&out.stderr)
        );
    }
    keeper.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation_on_sqlite() {
    fuzz(Backing::Sqlite(temp_dir("schema"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation_on_postgres() {
    fuzz(Backing::Postgres(Postgres::start())).await;
}
