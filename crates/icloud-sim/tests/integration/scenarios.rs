//! Failure modes a client must survive.

use crate::client::*;
use icloud_sim::{RequestKind, Scenario};

#[tokio::test]
async fn truncated_body_is_really_cut_and_the_connection_closed() {
    let sim = start().await;
    sim.set_scenario(Scenario::TruncatedBody);
    let auth = good_auth();
    let mut conn = Conn::open(&sim.partition_url()).await;
    conn.send_raw(
        "REPORT",
        &cal_path("home"),
        &[("Authorization", &auth), ("Depth", "0")],
        sync_body("").as_bytes(),
    )
    .await;
    let (status, headers) = conn.read_head().await;
    assert_eq!(status, 207);
    let claimed: usize = headers
        .iter()
        .find(|(k, _)| k == "Content-Length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let got = conn.read_to_end().await;
    assert!(
        !got.is_empty() && got.len() < claimed,
        "{} of {claimed}",
        got.len()
    );
    assert!(!String::from_utf8_lossy(&got).contains("</multistatus>"));
}

#[tokio::test]
async fn throttle_sends_503_with_retry_after_verbatim() {
    let sim = start().await;
    let date = "Wed, 21 Oct 2015 07:28:00 GMT".to_owned();
    sim.set_scenario(Scenario::Throttle2_6 {
        retry_after: Some(date.clone()),
    });
    let r = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("Retry-After"), Some(date.as_str()));
    sim.set_scenario(Scenario::Throttle2_6 { retry_after: None });
    let r = dav(&sim.partition_url(), "GET", "/", None, "").await;
    assert_eq!((r.status, r.header("Retry-After")), (503, None));
    assert_eq!(sim.scenario(), Scenario::Throttle2_6 { retry_after: None });
}

#[tokio::test]
async fn server_error_html_and_redirect_scenarios() {
    let sim = start().await;
    sim.set_scenario(Scenario::ServerError { status: 500 });
    assert_eq!(
        dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "")
            .await
            .status,
        500
    );
    sim.set_scenario(Scenario::HtmlSignIn);
    let r = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("<html"));
    sim.set_scenario(Scenario::RedirectOtherHost {
        location: "https://www.icloud.com/".into(),
    });
    let r = dav(&sim.front_url(), "PROPFIND", "/", Some("0"), "").await;
    assert_eq!(
        (r.status, r.header("Location")),
        (302, Some("https://www.icloud.com/"))
    );
}

#[tokio::test]
async fn scenario_after_k_requests_fails_a_sync_midway() {
    let sim = start().await;
    sim.set_scenario_after(Scenario::ServerError { status: 500 }, 2);
    let base = sim.partition_url();
    assert_eq!(dav(&base, "PROPFIND", "/", Some("0"), "").await.status, 207);
    assert_eq!(dav(&base, "PROPFIND", "/", Some("0"), "").await.status, 207);
    assert_eq!(dav(&base, "PROPFIND", "/", Some("0"), "").await.status, 500);
    assert_eq!(dav(&base, "PROPFIND", "/", Some("0"), "").await.status, 500);
}

#[tokio::test]
async fn scenario_for_one_request_kind_hits_only_the_fifth_multiget() {
    let sim = start().await;
    sim.set_scenario_for(
        Scenario::ServerError { status: 500 },
        RequestKind::Multiget,
        4,
    );
    let base = sim.partition_url();
    let hrefs: Vec<String> = sim
        .objects("home")
        .iter()
        .take(2)
        .map(|(h, _, _)| listed(h))
        .collect();
    for _ in 0..4 {
        assert_eq!(
            dav(
                &base,
                "REPORT",
                &cal_path("home"),
                Some("1"),
                &multiget_body(&hrefs)
            )
            .await
            .status,
            207
        );
        assert_eq!(dav(&base, "PROPFIND", "/", Some("0"), "").await.status, 207);
    }
    assert_eq!(
        dav(
            &base,
            "REPORT",
            &cal_path("home"),
            Some("1"),
            &multiget_body(&hrefs)
        )
        .await
        .status,
        500
    );
    assert_eq!(
        dav(
            &base,
            "REPORT",
            &cal_path("home"),
            Some("0"),
            &sync_body("")
        )
        .await
        .status,
        207
    );
}
