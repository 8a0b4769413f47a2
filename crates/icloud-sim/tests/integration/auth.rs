//! docs/icloud.md §2.1–§2.3: the one 401.

use crate::client::*;
use icloud_sim::Scenario;

fn assert_icloud_401(r: &Resp) {
    assert_eq!(r.status, 401);
    assert_eq!(r.header("Content-Length"), Some("0"));
    assert!(r.body.is_empty());
    assert!(r.header("Server").unwrap().starts_with("AppleHttpServer/"));
    assert!(r
        .header("X-Apple-Request-UUID")
        .is_some_and(|v| v.len() == 36));
}

#[tokio::test]
async fn missing_credentials_get_two_challenge_lines() {
    let sim = start().await;
    let r = Conn::open(&sim.front_url())
        .await
        .request("PROPFIND", "/", &[("Depth", "0")], b"")
        .await;
    assert_icloud_401(&r);
    // Exact header-name case on the wire.
    assert!(r.headers.iter().all(|(k, _)| k != "www-authenticate"));
    assert_eq!(
        r.header_lines("WWW-Authenticate"),
        [
            "Basic realm=\"MMCalDav\"",
            "X-MobileMe-AuthToken realm=\"MMCalDav\""
        ]
    );
    let s = sim.stats();
    assert_eq!((s.requests, s.authenticated, s.unauthorized), (1, 0, 1));
}

#[tokio::test]
async fn wrong_password_gets_the_same_401() {
    let sim = start().await;
    let auth = basic("demo@example.com", "wrong-pass-word-abcd");
    let r = Conn::open(&sim.partition_url())
        .await
        .request("PROPFIND", "/", &[("Authorization", &auth)], b"")
        .await;
    assert_icloud_401(&r);
    assert_eq!(r.header_lines("WWW-Authenticate").len(), 2);
    let s = sim.stats();
    assert_eq!((s.authenticated, s.unauthorized), (1, 1));
}

#[tokio::test]
async fn reject_scenario_joins_challenges_in_one_line_and_can_carry_a_body() {
    let sim = start().await;
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header: true,
        with_body: false,
    });
    let r = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    assert_icloud_401(&r);
    assert_eq!(
        r.header_lines("WWW-Authenticate"),
        ["Basic realm=\"MMCalDav\", X-MobileMe-AuthToken realm=\"MMCalDav\""]
    );
    sim.set_scenario(Scenario::Reject2_1 {
        joined_header: false,
        with_body: true,
    });
    let r = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    assert_eq!(r.status, 401);
    assert!(!r.body.is_empty());
    assert_eq!(r.header_lines("WWW-Authenticate").len(), 2);
    sim.set_scenario(Scenario::Normal);
    assert_eq!(
        dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "")
            .await
            .status,
        207
    );
}

#[tokio::test]
async fn revoked_password_fails_until_the_new_one_is_sent() {
    let sim = start().await;
    sim.set_password("wxyz-wxyz-wxyz-wxyz");
    assert_eq!(
        dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "")
            .await
            .status,
        401
    );
    let auth = basic("demo@example.com", "wxyz-wxyz-wxyz-wxyz");
    let r = Conn::open(&sim.front_url())
        .await
        .request("PROPFIND", "/", &[("Authorization", &auth)], b"")
        .await;
    assert_eq!(r.status, 207);
}

#[tokio::test]
async fn every_answer_carries_apple_server_and_request_id() {
    let sim = start().await;
    let a = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    let b = dav(&sim.front_url(), "GET", "/", None, "").await;
    for r in [&a, &b] {
        assert!(r.header("Server").unwrap().starts_with("AppleHttpServer/"));
    }
    assert_ne!(
        a.header("X-Apple-Request-UUID"),
        b.header("X-Apple-Request-UUID")
    );
    assert_eq!(a.header("Content-Type"), Some("text/xml"));
}
