//! Instance access on the local chain and Podman: the web terminal (a real websocket client),
//! Jupyter, forwarded ports and SSH with each accepted key type, each opened only by the
//! rental's renter's fresh signature, verified by the provisioner itself.
mod support;

use std::time::Duration;

use calor::state::ForwardedPort;
use calor_client::access::{AccessAction, Endpoint};
use calor_client::Pubkey;
use calor_provisioner::runtime::container_name;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use support::terminal::{endpoint, signed, signed_as, Closed, Terminal};
use support::*;

const APP_ORIGIN: &str = "http://app.calor.test";
/// A short second key (two long RSA lines would not fit a transaction).
const SECOND_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkfZAkyX+WGQUzcXyMISyhorGgJsOwABAxq9HwvE0K/ x";
/// How many bash processes run in the instance (minbase has no procps).
const BASH_COUNT: &str = "grep -lx bash /proc/[0-9]*/comm 2>/dev/null | wc -l";
const LONG: Duration = Duration::from_secs(30);

fn options() -> ProvisionerOptions {
    ProvisionerOptions {
        extra: vec!["--allowed-origins".into(), APP_ORIGIN.into()],
        ..Default::default()
    }
}

async fn status(cluster: &Cluster, rental: &Pubkey) -> Value {
    let body = http_get(cluster.listen_port, &format!("/rentals/{rental}"))
        .await
        .expect("status API answers");
    serde_json::from_str(&body).unwrap()
}

async fn exec_ids(rental: &Pubkey) -> Vec<String> {
    engine().exec_ids(&container_name(rental)).await.unwrap()
}

/// Connects, sends `signed` and expects the session refused with `code` and a reason that
/// starts with `reason`.
async fn refused(port: u16, rental: &Pubkey, signed: &(String, String), code: u16, reason: &str) {
    let mut t = Terminal::connect(port, rental, None)
        .await
        .expect("handshake");
    let closed = t.authenticate(signed, None).await.expect_err("refused");
    assert_eq!(closed.code, code, "{closed:?}");
    assert!(
        closed.reason.starts_with(reason),
        "{closed:?}, expected {reason:?}"
    );
}

/// Runs `command` in the terminal and returns its output line (the text between two
/// markers, so the echo of the typed line is not mistaken for the output).
async fn run(t: &mut Terminal, command: &str) -> String {
    t.send(&format!("echo BEGIN''; {command}; echo END''\n"))
        .await;
    t.read_until("BEGIN\r\n", LONG).await;
    let out = t.read_until("END\r\n", LONG).await;
    out.trim_end_matches("END\r\n").trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_rental_is_reached_by_terminal_jupyter_and_ports_only_with_the_renters_signature()
{
    let mut stack = Stack::new("access-keyless", &[1]).await;
    stack.start_provisioner(0, &options());
    let port = stack.clusters[0].listen_port;
    let mut renter = Renter::new(&stack).await;
    let rental = renter
        .running(
            &stack,
            None,
            vec![
                ForwardedPort {
                    port: 8000,
                    http: true,
                },
                ForwardedPort {
                    port: 9000,
                    http: false,
                },
            ],
        )
        .await;

    // where to connect: no SSH command without a key, the ports as declared, Jupyter without
    // its secret
    let where_to = status(&stack.clusters[0], &rental).await;
    assert_eq!(where_to["ssh_command"], Value::Null, "{where_to}");
    assert_eq!(where_to["renter"], renter.key.pubkey().to_string());
    assert_eq!(
        where_to["terminal_url"],
        format!("ws://127.0.0.1:{port}/rentals/{rental}/terminal")
    );
    let ports = where_to["forwarded_ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2, "{where_to}");
    assert_eq!(
        (ports[0]["port"].as_u64(), ports[0]["protocol"].as_str()),
        (Some(8000), Some("http"))
    );
    assert_eq!(
        (ports[1]["port"].as_u64(), ports[1]["protocol"].as_str()),
        (Some(9000), Some("tcp"))
    );
    let web_port = ports[0]["host_port"].as_u64().expect("8000 published") as u16;
    assert!(ports[1]["host_port"].as_u64().is_some(), "9000 published");
    let jupyter_url = where_to["jupyter"]["url"]
        .as_str()
        .expect("jupyter reported");
    assert!(!jupyter_url.contains("token"), "{jupyter_url}");

    // refusals: no shell is started for any of them
    let before = exec_ids(&rental).await;
    let other = Keypair::new();
    let here = endpoint(port);
    let key = &renter.key;
    let me = key.pubkey();
    let terminal = AccessAction::Terminal;
    refused(
        port,
        &rental,
        &signed_as(&other, &other.pubkey(), &here, &rental, terminal, 0, 120),
        4003,
        "wrong_wallet",
    )
    .await;
    refused(
        port,
        &rental,
        &signed_as(&other, &me, &here, &rental, terminal, 0, 120),
        4003,
        "bad_signature",
    )
    .await;
    refused(
        port,
        &rental,
        &signed_as(key, &me, &here, &rental, terminal, 200, 150),
        4003,
        "expired",
    )
    .await;
    refused(
        port,
        &rental,
        &signed_as(key, &me, &here, &rental, terminal, 0, 600),
        4003,
        "too_long",
    )
    .await;
    refused(
        port,
        &rental,
        &signed_as(key, &me, &here, &Pubkey::new_unique(), terminal, 0, 120),
        4003,
        "wrong_rental",
    )
    .await;
    refused(
        port,
        &rental,
        &signed_as(key, &me, &here, &rental, AccessAction::Jupyter, 0, 120),
        4003,
        "wrong_rental",
    )
    .await;
    let elsewhere = Endpoint::from_url("http://10.9.8.7:9400").unwrap();
    refused(
        port,
        &rental,
        &signed_as(key, &me, &elsewhere, &rental, terminal, 0, 120),
        4003,
        "wrong_endpoint",
    )
    .await;
    refused(
        port,
        &Pubkey::new_unique(),
        &signed(key, port, &rental, terminal),
        4004,
        "unknown rental",
    )
    .await;
    assert_eq!(
        Terminal::connect(port, &rental, Some("http://evil.example"))
            .await
            .err(),
        Some(403),
        "another site's page is refused at the handshake"
    );
    let mut silent = Terminal::connect(port, &rental, None).await.unwrap();
    assert_eq!(
        silent.closed(Duration::from_secs(15)).await.code,
        4008,
        "no access message in time"
    );
    assert_eq!(
        exec_ids(&rental).await,
        before,
        "no exec was created for a refused session"
    );

    // the renter's session: a command, its output, a resize, the working directory
    let message = signed(key, port, &rental, terminal);
    let mut t = Terminal::connect(port, &rental, Some(APP_ORIGIN))
        .await
        .expect("allowed origin");
    t.authenticate(&message, Some((80, 24)))
        .await
        .expect("the renter's session opens");
    assert_eq!(run(&mut t, "echo calor-$((6 * 7))").await, "calor-42");
    assert_eq!(run(&mut t, "stty size").await, "24 80");
    t.resize(132, 43).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(run(&mut t, "stty size").await, "43 132");
    assert_eq!(run(&mut t, "pwd").await, "/workspace");
    assert_eq!(run(&mut t, "id -u").await, "0");
    // the same message again: replayed
    refused(port, &rental, &message, 4003, "replayed").await;

    // a second session at once
    let mut second = Terminal::open(port, &rental, &signed(key, port, &rental, terminal)).await;
    assert_eq!(run(&mut second, "echo second").await, "second");
    assert_eq!(run(&mut t, "echo first").await, "first");
    second.close().await;

    // a forwarded port: a server started in the instance answers on the published port
    t.send("touch /workspace/from-terminal.txt; setsid python3 -m http.server 8000 --directory /workspace >/dev/null 2>&1 < /dev/null &\n").await;
    let listing = wait_for(|| async move {
        http_get(web_port, "/")
            .await
            .filter(|b| b.contains("from-terminal.txt"))
    })
    .await;
    assert!(listing.contains("from-terminal.txt"));

    // Jupyter: the secret only for the renter's signed request, then 200 with it and
    // refused without; it serves /workspace
    let jupyter = |body: Value, origin: Option<&'static str>| async move {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        http_request(
            port,
            "POST",
            &format!("/rentals/{rental}/jupyter"),
            &headers,
            Some(&body),
        )
        .await
        .unwrap()
    };
    let as_body = |(message, signature): (String, String)| json!({ "message": message, "signature": signature });
    let (code, body) = jupyter(as_body(signed(key, port, &rental, terminal)), None).await;
    assert_eq!(
        code, 401,
        "a terminal message does not open Jupyter: {body}"
    );
    assert!(body.contains("wrong_rental"), "{body}");
    let (code, _) = jupyter(
        as_body(signed(key, port, &rental, AccessAction::Jupyter)),
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(code, 403);
    let (code, body) = jupyter(
        as_body(signed_as(
            &other,
            &other.pubkey(),
            &here,
            &rental,
            AccessAction::Jupyter,
            0,
            60,
        )),
        None,
    )
    .await;
    assert_eq!(code, 401, "{body}");
    let (code, body) = jupyter(
        as_body(signed(key, port, &rental, AccessAction::Jupyter)),
        Some(APP_ORIGIN),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let secret: Value = serde_json::from_str(&body).unwrap();
    let token = secret["token"].as_str().unwrap().to_string();
    assert!(secret["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("?token={token}")));
    let jupyter_port: u16 = where_to["jupyter"]["host_port"].as_u64().unwrap() as u16;
    let auth = format!("token {token}");
    let contents = wait_for(|| {
        let auth = auth.clone();
        async move {
            http_request(
                jupyter_port,
                "GET",
                "/api/contents",
                &[("authorization", &auth)],
                None,
            )
            .await
            .filter(|(code, _)| *code == 200)
        }
    })
    .await;
    assert!(
        contents.1.contains("from-terminal.txt"),
        "Jupyter serves /workspace: {}",
        contents.1
    );
    let (code, _) = http_request(jupyter_port, "GET", "/api/contents", &[], None)
        .await
        .unwrap();
    assert!(code == 403 || code == 401, "without the secret: {code}");
    let (code, _) = http_request(
        jupyter_port,
        "GET",
        "/api/contents",
        &[("authorization", "token wrong")],
        None,
    )
    .await
    .unwrap();
    assert!(code == 403 || code == 401, "with a wrong secret: {code}");
    let kernel_dir = http_request(
        jupyter_port,
        "POST",
        "/api/kernels",
        &[("authorization", &auth)],
        Some(&json!({})),
    )
    .await
    .unwrap();
    assert_eq!(kernel_dir.0, 201, "a kernel starts: {}", kernel_dir.1);

    // a closed session's shell is hung up: only the open one is left
    t.close().await;
    let shells = wait_for(|| async move {
        let out = engine()
            .exec(&container_name(&rental), &["sh", "-c", BASH_COUNT])
            .await
            .ok()?;
        (out.stdout.trim() == "0").then_some(out.stdout)
    })
    .await;
    assert_eq!(shells.trim(), "0");

    // the provisioner restarts: the session is closed with a reason, a new one works (the
    // instance is the same: the file written before is there)
    let mut t = Terminal::open(port, &rental, &signed(key, port, &rental, terminal)).await;
    stack.stop_provisioner(0).await;
    let closed = t.closed(LONG).await;
    assert_eq!(closed.code, 1001, "{closed:?}");
    assert!(closed.reason.contains("shutting down"), "{closed:?}");
    stack.start_provisioner(0, &options());
    wait_ssh_port(&stack.clusters[0], &rental).await;
    let mut t = Terminal::open(port, &rental, &signed(key, port, &rental, terminal)).await;
    assert_eq!(
        run(&mut t, "ls /workspace/from-terminal.txt").await,
        "/workspace/from-terminal.txt"
    );
    // the server keeps an idle session alive with pings
    t.wait_ping(Duration::from_secs(20)).await;
    // a crash (SIGKILL): the connection drops, the instance runs on, a new session works
    stack.clusters[0].process = None;
    assert_eq!(t.closed(LONG).await.code, 1006, "dropped without a close");
    stack.start_provisioner(0, &options());
    wait_ssh_port(&stack.clusters[0], &rental).await;
    let mut t = Terminal::open(port, &rental, &signed(key, port, &rental, terminal)).await;
    assert_eq!(run(&mut t, "echo after-crash").await, "after-crash");
    // the crashed process's shell was hung up at the restart: this session's is the only one
    assert_eq!(run(&mut t, BASH_COUNT).await, "1");

    // the rental ends: the session is closed, the ports are gone
    stack.finish(&[rental]).await;
    let closed: Closed = t.closed(Duration::from_secs(60)).await;
    assert_eq!(closed.code, 4000, "{closed:?}");
    stack
        .wait_rental(&rental, "settled", Duration::from_secs(60), is_gone)
        .await;
    wait_for(|| async move { http_get(web_port, "/").await.is_none().then_some(()) }).await;
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_rsa_and_ecdsa_rentals_log_in_and_bad_key_lines_are_refused_by_name() {
    let mut stack = Stack::with_nodes("access-keys", &[1], 2).await;
    stack.start_provisioner(0, &options());
    let mut renter = Renter::new(&stack).await;
    let mut rentals = Vec::new();
    for (kind, bits) in [("rsa", 3072), ("ecdsa", 256)] {
        let (private, line) = ssh_keygen(&stack.dir.join(format!("id-{kind}")), kind, Some(bits));
        let rental = renter.running(&stack, Some(line.clone()), Vec::new()).await;
        let where_to = status(&stack.clusters[0], &rental).await;
        let ssh_port = where_to["ssh_port"].as_u64().unwrap() as u16;
        assert_eq!(
            where_to["ssh_command"],
            format!("ssh -p {ssh_port} root@127.0.0.1")
        );
        renter.ssh_private_key = private;
        let out = renter.ssh(ssh_port, "cat /root/.ssh/authorized_keys");
        assert!(
            out.status.success(),
            "{kind} login: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{line}\n"),
            "exactly one key line"
        );
        rentals.push(rental);

        // the same key with a second key on a second line, an option, a control character:
        // refused by name
        for bad in [
            format!("{line}\n{SECOND_KEY}"),
            format!("command=\"/bin/sh\" {line}"),
            format!("no-pty,{line}"),
            format!("{line}\r"),
        ] {
            let mut args = renter.rental_args(1, None, None);
            args.ssh_public_key = Some(bad.clone());
            let error = renter.open_args(&stack, args).await.expect_err("refused");
            assert!(
                error.to_string().contains("InvalidSshKey"),
                "{bad:?}: {error}"
            );
        }
    }
    // declared ports: out of range, repeated, SSH's own, more than five
    let port = |port| ForwardedPort { port, http: false };
    for bad in [
        vec![port(0)],
        vec![port(22)],
        vec![port(8000), port(8000)],
        (1..=6).map(|p| port(8000 + p)).collect(),
    ] {
        let mut args = renter.rental_args(1, None, None);
        args.forwarded_ports = bad.clone();
        let error = renter.open_args(&stack, args).await.expect_err("refused");
        assert!(
            error.to_string().contains("InvalidForwardedPorts"),
            "{bad:?}: {error}"
        );
    }
    stack.finish(&rentals).await;
    for rental in &rentals {
        stack
            .wait_rental(rental, "settled", Duration::from_secs(60), is_gone)
            .await;
    }
    stack.assert_clean().await;
}

/// Polls `probe` until it gives a value (at most 90 s: Jupyter's first start is slow).
async fn wait_for<T, F, Fut>(probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
