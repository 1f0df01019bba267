//! Sign-In With Solana and sessions over real HTTP, on SQLite and on PostgreSQL: a wallet
//! signs in once; replays, other domains, expired challenges, forged signatures and bad
//! input are refused by name; tokens expire, rotate and are revoked.
mod support;

use base64::Engine as _;
use calor_client::Pubkey;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use support::*;

struct Wallet {
    key: SigningKey,
    address: Pubkey,
}

impl Wallet {
    fn new(seed: u8) -> Wallet {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let address = Pubkey::new_from_array(key.verifying_key().to_bytes());
        Wallet { key, address }
    }

    /// What a wallet's `solana:signIn` does with the API's input: fill in its address, write
    /// the message, sign it.
    fn sign_in(&self, input: &Value) -> (String, Value) {
        let body = sign_in_body(input, &self.address, |m| self.key.sign(m).to_bytes());
        let signed = base64::engine::general_purpose::STANDARD
            .decode(body["signedMessage"].as_str().unwrap())
            .unwrap();
        (String::from_utf8(signed).unwrap(), body)
    }

    fn answer(&self, text: &str) -> Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        json!({
            "address": self.address.to_string(),
            "signedMessage": b64.encode(text.as_bytes()),
            "signature": b64.encode(self.key.sign(text.as_bytes()).to_bytes()),
        })
    }
}

async fn challenge(api: &Api) -> Value {
    let reply = api.post("/api/auth/challenge", &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

async fn exercise(api: Api) {
    let wallet = Wallet::new(7);

    // The challenge is the Wallet Standard input, bound to this API.
    let input = challenge(&api).await;
    assert_eq!(input["domain"], "app.calor.test");
    assert_eq!(input["uri"], "http://api.calor.test/api");
    assert_eq!(input["chainId"], "solana:localnet");
    assert_eq!(input["version"], "1");
    assert_eq!(input["issuedAt"], "2026-11-30T00:53:20Z");
    assert_eq!(input["expirationTime"], "2026-11-30T00:58:20Z");
    assert!(input["nonce"].as_str().unwrap().len() >= 16);

    // Signed in: a bearer session for that wallet.
    let (_, body) = wallet.sign_in(&input);
    let reply = api.post("/api/auth/verify", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let tokens = reply.json();
    assert_eq!(tokens["wallet"], wallet.address.to_string());
    assert_eq!(tokens["tokenType"], "Bearer");
    assert_eq!(tokens["expiresIn"], 900);
    let access = tokens["accessToken"].as_str().unwrap().to_string();
    let me = api.call("GET", "/api/me", Some(&access), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["wallet"], wallet.address.to_string());

    // The same signed message again: the nonce is spent.
    let reply = api.post("/api/auth/verify", &body).await;
    assert_eq!(reply.problem(401), "nonce_used");

    // Two sign-ins racing with one signed message: exactly one session.
    let input = challenge(&api).await;
    let (_, body) = wallet.sign_in(&input);
    let (a, b) = tokio::join!(
        api.post("/api/auth/verify", &body),
        api.post("/api/auth/verify", &body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 401], "{} / {}", a.body, b.body);

    // Signed for another site, with another statement, by another key, or not issued here.
    let input = challenge(&api).await;
    let (text, _) = wallet.sign_in(&input);
    let phished = wallet.answer(&text.replacen("app.calor.test", "app.calor.test.evil.example", 1));
    let reply = api.post("/api/auth/verify", &phished).await;
    assert_eq!(reply.problem(401), "sign_in_mismatch");
    let reworded = wallet.answer(&text.replacen("moves no funds", "moves funds", 1));
    assert_eq!(
        api.post("/api/auth/verify", &reworded).await.problem(401),
        "sign_in_mismatch"
    );
    let mut forged = wallet.answer(&text);
    forged["signature"] = Wallet::new(8).answer(&text)["signature"].clone();
    assert_eq!(
        api.post("/api/auth/verify", &forged).await.problem(401),
        "bad_signature"
    );
    let mut impostor = wallet.answer(&text);
    impostor["address"] = json!(Wallet::new(8).address.to_string());
    assert_eq!(
        api.post("/api/auth/verify", &impostor).await.problem(401),
        "sign_in_mismatch"
    );
    let invented =
        wallet.answer(&text.replace(input["nonce"].as_str().unwrap(), "made-up-nonce-0000"));
    assert_eq!(
        api.post("/api/auth/verify", &invented).await.problem(401),
        "unknown_nonce"
    );
    // None of those spent the nonce: the genuine answer still signs in.
    let reply = api.post("/api/auth/verify", &wallet.answer(&text)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // A challenge answered too late.
    let input = challenge(&api).await;
    let (_, body) = wallet.sign_in(&input);
    api.advance(300);
    assert_eq!(
        api.post("/api/auth/verify", &body).await.problem(401),
        "sign_in_expired"
    );

    // Bad input, named.
    let reply = api
        .post(
            "/api/auth/verify",
            &json!({"address": "x", "signedMessage": "!!", "signature": ""}),
        )
        .await;
    assert_eq!(reply.problem(422), "bad_body");
    assert!(reply.json()["detail"]
        .as_str()
        .unwrap()
        .contains("signedMessage"));
    let reply = api.post("/api/auth/verify", &json!({"address": "x"})).await;
    assert_eq!(reply.problem(422), "bad_body");
    let reply = api
        .post(
            "/api/auth/verify",
            &json!({"address": "x", "signedMessage": "", "signature": "", "admin": true}),
        )
        .await;
    assert_eq!(reply.problem(422), "bad_body");
    let input = challenge(&api).await;
    let (_, mut body) = wallet.sign_in(&input);
    body["address"] = json!("not-base58-0OIl");
    assert_eq!(
        api.post("/api/auth/verify", &body).await.problem(422),
        "bad_address"
    );
    let huge = "x".repeat(100 * 1024);
    let reply = api
        .post(
            "/api/auth/verify",
            &json!({"address": huge, "signedMessage": "", "signature": ""}),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        api.call("GET", "/api/nothing", None, None)
            .await
            .problem(404),
        "not_found"
    );
    let reply = api.call("GET", "/api/me", None, None).await;
    assert_eq!(reply.problem(401), "missing_token");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));

    // Tokens: an access token expires; a refresh token works once and rotates; sign-out
    // revokes.
    let input = challenge(&api).await;
    let tokens = api
        .post("/api/auth/verify", &wallet.sign_in(&input).1)
        .await
        .json();
    let (access, refresh) = (
        tokens["accessToken"].as_str().unwrap().to_string(),
        tokens["refreshToken"].as_str().unwrap().to_string(),
    );
    api.advance(900);
    assert_eq!(
        api.call("GET", "/api/me", Some(&access), None)
            .await
            .problem(401),
        "invalid_token"
    );
    let renewed = api
        .post("/api/auth/refresh", &json!({"refreshToken": refresh}))
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let renewed = renewed.json();
    assert_eq!(renewed["wallet"], wallet.address.to_string());
    assert_eq!(
        api.post("/api/auth/refresh", &json!({"refreshToken": refresh}))
            .await
            .problem(401),
        "invalid_token"
    );
    let access = renewed["accessToken"].as_str().unwrap();
    assert_eq!(
        api.call("GET", "/api/me", Some(access), None).await.status,
        200
    );
    assert_eq!(
        api.call("POST", "/api/auth/logout", Some(access), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.call("GET", "/api/me", Some(access), None)
            .await
            .problem(401),
        "invalid_token"
    );
    let renewed_refresh = renewed["refreshToken"].as_str().unwrap();
    api.advance(86_400);
    assert_eq!(
        api.post(
            "/api/auth/refresh",
            &json!({"refreshToken": renewed_refresh})
        )
        .await
        .problem(401),
        "invalid_token"
    );

    // Health and metrics.
    let health = api.call("GET", "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["store"]["ok"], true);
    let metrics = api.call("GET", "/metrics", None, None).await;
    assert!(
        metrics
            .body
            .contains("calor_api_requests_total{method=\"POST\",status=\"401\"}"),
        "{}",
        metrics.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_on_sqlite() {
    exercise(Api::on(Backing::Sqlite(temp_dir("sqlite"))).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_on_postgres() {
    exercise(Api::on(Backing::Postgres(Postgres::start())).await).await;
}

/// CORS admits the app's origin only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_app_origin_is_allowed() {
    let api = Api::on(Backing::Sqlite(temp_dir("cors"))).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for (origin, allowed) in [
        ("http://app.calor.test", true),
        ("https://evil.example", false),
    ] {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", api.port))
            .await
            .unwrap();
        let request = format!(
            "OPTIONS /api/auth/verify HTTP/1.1\r\nHost: x\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
        );
        s.write_all(request.as_bytes()).await.unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.unwrap();
        let lower = raw.to_ascii_lowercase();
        assert_eq!(
            lower.contains(&format!("access-control-allow-origin: {origin}")),
            allowed,
            "{raw}"
        );
    }
}

/// Calls beyond a client address's rate, or a signed-in wallet's, get 429 with `Retry-After`;
/// other clients and wallets go on. Behind a trusted proxy the address is the first
/// `X-Forwarded-For` entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_rate_are_refused_per_address_and_per_wallet() {
    use calor_api::limits::Limits;
    let limits = Limits::new(rate(60, 3), rate(60, 2));
    let api = Api::with_limits(Backing::Sqlite(temp_dir("limits")), limits, true).await;
    let challenge_from = |client: &'static str| {
        let api = &api;
        async move {
            api.call_from(
                Some(client),
                "POST",
                "/api/auth/challenge",
                None,
                Some("{}"),
            )
            .await
        }
    };
    for _ in 0..3 {
        assert_eq!(challenge_from("203.0.113.1").await.status, 200);
    }
    let refused = challenge_from("203.0.113.1").await;
    assert_eq!(refused.problem(429), "rate_limited");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(refused.header("ratelimit-limit"), Some("60"));
    assert_eq!(refused.header("ratelimit-remaining"), Some("0"));
    assert_eq!(refused.header("ratelimit-policy"), Some("60;w=60"));
    assert_eq!(
        refused.header("ratelimit-reset"),
        Some(retry.to_string().as_str())
    );
    assert!(refused.json()["detail"]
        .as_str()
        .unwrap()
        .contains("60 calls a minute"));
    // another client is served; health is never limited
    let input = challenge_from("203.0.113.2").await;
    assert_eq!(input.status, 200);
    for _ in 0..5 {
        assert_eq!(api.call("GET", "/healthz", None, None).await.status, 200);
    }

    // A wallet's own rate, whatever address it calls from.
    let wallet = Wallet::new(9);
    let (_, body) = wallet.sign_in(&input.json());
    let tokens = api
        .call_from(
            Some("203.0.113.2"),
            "POST",
            "/api/auth/verify",
            None,
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = tokens.json()["accessToken"].as_str().unwrap().to_string();
    let clients = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
    let mut statuses = Vec::new();
    for client in clients {
        let reply = api
            .call_from(Some(client), "GET", "/api/me", Some(&access), None)
            .await;
        statuses.push(reply.status);
        if reply.status == 429 {
            assert_eq!(reply.problem(429), "rate_limited");
            assert!(reply.header("retry-after").is_some());
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}
