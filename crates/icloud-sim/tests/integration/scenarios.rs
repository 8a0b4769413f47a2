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

#[tokio::test]
async fn connection_reset_mid_body_sends_part_of_the_body_then_rst() {
    let sim = start().await;
    sim.set_scenario(Scenario::ConnectionResetMidBody);
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
    // Read until the reset: some bytes, fewer than promised, and an error rather than a clean EOF.
    let (got, err) = conn.read_until_error().await;
    assert!(got.len() < claimed, "{} of {claimed}", got.len());
    let err = err.expect("the connection ends with a reset, not a FIN");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
}

#[tokio::test]
async fn truncated_xml_is_well_formed_http_with_the_xml_cut() {
    let sim = start().await;
    sim.set_scenario(Scenario::TruncatedXml);
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("0"),
        &sync_body(""),
    )
    .await;
    // `request` read exactly Content-Length bytes: the HTTP framing is intact.
    assert_eq!(r.status, 207);
    assert_eq!(
        r.header("Content-Length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        r.body.len()
    );
    assert!(r.text().starts_with("<?xml"));
    assert!(!r.text().contains("</multistatus>"));
}

#[tokio::test]
async fn malformed_xml_and_empty_ok() {
    let sim = start().await;
    sim.set_scenario(Scenario::MalformedXml);
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path(""),
        Some("1"),
        "",
    )
    .await;
    assert_eq!(r.status, 207);
    assert!(r.text().contains("</prop></displayname>"), "{}", r.text());
    sim.set_scenario(Scenario::EmptyOk);
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path(""),
        Some("1"),
        "",
    )
    .await;
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("Content-Length"), Some("0"));
}

#[tokio::test]
async fn etag_changes_between_listing_and_fetch() {
    let sim = start().await;
    let before = sim.objects("home");
    let (href, etag_a, data_a) = before[0].clone();
    sim.set_scenario(Scenario::EtagChangesBetweenListingAndFetch);
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("1"),
        &multiget_body(&[listed(&href)]),
    )
    .await;
    assert_eq!(r.status, 207);
    let after = sim.objects("home");
    let (_, etag_b, data_b) = after.iter().find(|(h, _, _)| *h == href).unwrap().clone();
    assert_ne!(etag_a, etag_b);
    assert_ne!(data_a, data_b);
    assert!(r.text().contains(&etag_b), "the multiget serves etag B");
    assert!(!r.text().contains(&etag_a));
    // Other objects are untouched.
    assert_eq!(before[1], after[1]);
}

#[tokio::test]
async fn calendar_disappears_on_the_first_matching_request() {
    let sim = start().await;
    let hrefs: Vec<String> = sim
        .objects("work")
        .iter()
        .take(2)
        .map(|(h, _, _)| listed(h))
        .collect();
    assert!(!hrefs.is_empty());
    sim.set_scenario_for(
        Scenario::CalendarDisappears {
            slug: "work".into(),
        },
        RequestKind::Multiget,
        1,
    );
    let base = sim.partition_url();
    let mg = multiget_body(&hrefs);
    let r = dav(&base, "REPORT", &cal_path("work"), Some("1"), &mg).await;
    assert_eq!(r.status, 207, "the first multiget passes");
    assert!(!sim.objects("work").is_empty());
    let r = dav(&base, "REPORT", &cal_path("work"), Some("1"), &mg).await;
    assert_eq!(r.status, 404, "the second finds the calendar gone");
    assert!(sim.objects("work").is_empty());
    sim.set_scenario(icloud_sim::Scenario::Normal);
    let r = dav(
        &base,
        "REPORT",
        &cal_path("work"),
        Some("0"),
        &sync_body(""),
    )
    .await;
    assert_eq!(r.status, 404);
    let home = dav(&base, "PROPFIND", &cal_path(""), Some("1"), "").await;
    assert!(!home.text().contains("/calendars/work/"), "{}", home.text());
    assert!(home.text().contains("/calendars/home/"));
}

#[tokio::test]
async fn huge_response_is_streamed_to_the_exact_size() {
    let sim = start().await;
    const SIZE: u64 = 3 * 1024 * 1024 + 17;
    sim.set_scenario(Scenario::HugeResponse { bytes: SIZE });
    let auth = good_auth();
    let mut conn = Conn::open(&sim.partition_url()).await;
    conn.send_raw(
        "REPORT",
        &cal_path("home"),
        &[("Authorization", &auth), ("Depth", "1")],
        sync_body("").as_bytes(),
    )
    .await;
    let (status, headers) = conn.read_head().await;
    assert_eq!(status, 207);
    assert!(headers.iter().all(|(k, _)| k != "Content-Length"));
    assert!(headers
        .iter()
        .any(|(k, v)| k == "Transfer-Encoding" && v == "chunked"));
    // De-chunk.
    let raw = conn.read_to_end().await;
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let eol = at + raw[at..].windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&raw[at..eol]).unwrap(), 16).unwrap();
        at = eol + 2;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&raw[at..at + n]);
        at += n + 2;
    }
    assert_eq!(body.len() as u64, SIZE);
    assert!(body.starts_with(b"<?xml"));
    assert!(body.ends_with(b"</multistatus>"));
}
