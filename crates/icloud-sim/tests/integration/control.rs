//! Stats, and the binary with its HTTP control API.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::client::*;
use icloud_sim::{Scenario, Stats};

#[tokio::test]
async fn stats_count_each_kind_of_request_and_reset() {
    let sim = start().await;
    let base = sim.partition_url();
    dav(&base, "PROPFIND", "/", Some("0"), "").await;
    dav(
        &base,
        "REPORT",
        &cal_path("home"),
        Some("0"),
        &sync_body(""),
    )
    .await;
    let hrefs: Vec<String> = sim
        .objects("home")
        .iter()
        .take(3)
        .map(|(h, _, _)| listed(h))
        .collect();
    dav(
        &base,
        "REPORT",
        &cal_path("home"),
        Some("1"),
        &multiget_body(&hrefs),
    )
    .await;
    dav(&base, "GET", &sim.objects("home")[0].0, None, "").await;
    dav(&base, "OPTIONS", "/", None, "").await;
    Conn::open(&sim.front_url())
        .await
        .request("PROPFIND", "/", &[], b"")
        .await;
    let s = sim.stats();
    assert_eq!(
        (
            s.requests,
            s.authenticated,
            s.unauthorized,
            s.propfind,
            s.sync_collection
        ),
        (6, 5, 1, 2, 1)
    );
    assert_eq!((s.multiget, s.multiget_hrefs, s.get, s.other), (1, 3, 1, 1));
    assert_eq!(s.by_host.get("partition"), Some(&5));
    assert_eq!(s.by_host.get("front"), Some(&1));
    sim.reset_stats();
    assert_eq!(sim.stats(), Stats::default());
}

async fn control(front: &str, method: &str, path: &str, body: &str) -> Resp {
    Conn::open(front)
        .await
        .request(method, path, &[], body.as_bytes())
        .await
}

#[tokio::test]
async fn control_api_is_unauthenticated_and_not_counted() {
    let sim = start().await;
    let front = sim.front_url();
    let body = serde_json::to_string(&Scenario::Throttle2_6 {
        retry_after: Some("5".into()),
    })
    .unwrap();
    assert_eq!(
        control(&front, "POST", "/__sim/scenario", &body)
            .await
            .status,
        204
    );
    assert_eq!(
        dav(&front, "PROPFIND", "/", Some("0"), "")
            .await
            .header("Retry-After"),
        Some("5")
    );
    let wrapped =
        r#"{"scenario":{"ServerError":{"status":500}},"after_requests":1,"only":"multiget"}"#;
    assert_eq!(
        control(&front, "POST", "/__sim/scenario", wrapped)
            .await
            .status,
        204
    );
    assert_eq!(sim.scenario(), Scenario::ServerError { status: 500 });
    assert_eq!(
        control(&front, "POST", "/__sim/scenario", "\"Normal\"")
            .await
            .status,
        204
    );

    let r = control(
        &front,
        "POST",
        "/__sim/mutate",
        r#"{"calendar":"home","add":2,"modify":1,"delete":1}"#,
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["added"].as_array().unwrap().len(), 2);
    assert_eq!(sim.objects("home").len(), 41);

    assert_eq!(
        control(&front, "POST", "/__sim/password", "new-pass-word-xxxx\n")
            .await
            .status,
        204
    );
    assert_eq!(
        dav(&front, "PROPFIND", "/", Some("0"), "").await.status,
        401
    );
    assert_eq!(
        control(&front, "POST", "/__sim/expire-tokens", "")
            .await
            .status,
        204
    );

    let r = control(&front, "GET", "/__sim/stats", "").await;
    let s: Stats = serde_json::from_slice(&r.body).unwrap();
    assert_eq!((s.requests, s.unauthorized), (2, 1));
    assert_eq!(
        control(&front, "POST", "/__sim/reset-stats", "")
            .await
            .status,
        204
    );
    assert_eq!(sim.stats().requests, 0);
    // The partition host has no control API.
    assert_eq!(
        control(&sim.partition_url(), "GET", "/__sim/stats", "")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn binary_prints_ready_and_serves_until_killed() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_icloud-sim"))
        .args([
            "--events-per-calendar",
            "5",
            "--password-stdin",
            "--seed",
            "9",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"aaaa-bbbb-cccc-dddd\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let rest = line.strip_prefix("READY front=").unwrap();
    let (front, partition) = rest.split_once(" partition=").unwrap();
    assert!(front.starts_with("http://127.0.0.1:") && front.ends_with('/'));
    let auth = basic("demo@example.com", "aaaa-bbbb-cccc-dddd");
    let body = sync_body("");
    let r = Conn::open(partition)
        .await
        .request(
            "REPORT",
            &cal_path("work"),
            &[("Authorization", &auth), ("Depth", "0")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 207);
    assert_eq!(r.responses().len(), 6);
    let r = control(front, "GET", "/__sim/stats", "").await;
    let s: Stats = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(s.sync_collection, 1);
    child.start_kill().unwrap();
    child.wait().await.unwrap();
}
