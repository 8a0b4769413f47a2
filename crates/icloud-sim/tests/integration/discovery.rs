//! docs/icloud.md §1: discovery across the front and the partition host.

use crate::client::*;

const CUP: &str = r#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>"#;
const HOME_SET: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/></d:prop></d:propfind>"#;
const CALENDARS: &str = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:i="http://apple.com/ns/ical/"><d:prop><d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><c:supported-calendar-component-set/><i:calendar-color/><i:calendar-order/><d:current-user-privilege-set/><c:calendar-description/></d:prop></d:propfind>"#;

#[tokio::test]
async fn discovery_chain_moves_from_front_to_partition_through_an_absolute_home_href() {
    let sim = start().await;
    let front = sim.front_url();

    let r = dav(&front, "PROPFIND", "/", Some("0"), CUP).await;
    assert_eq!(r.status, 207);
    let t = r.text();
    assert!(t.contains(r#"<multistatus xmlns="DAV:">"#), "{t}");
    assert!(
        !t.contains("<D:") && !t.contains("<d:"),
        "no prefixes (§1.2): {t}"
    );
    let principal = between(&t, "<current-user-principal><href>", "</href>")
        .unwrap()
        .to_owned();
    assert_eq!(principal, format!("/{DSID}/principal/"));

    let r = dav(&front, "PROPFIND", &principal, Some("0"), HOME_SET).await;
    assert_eq!(r.status, 207);
    let home = between(&r.text(), r#"<href xmlns="DAV:">"#, "</href>")
        .unwrap()
        .to_owned();
    assert_eq!(home, format!("{}{DSID}/calendars/", sim.partition_url()));

    // The partition host answers the principal too.
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &principal,
        Some("0"),
        HOME_SET,
    )
    .await;
    assert_eq!(r.status, 207);

    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &format!("/{DSID}/calendars/"),
        Some("1"),
        CALENDARS,
    )
    .await;
    assert_eq!(r.status, 207);
    let responses = r.responses();
    let hrefs: Vec<&str> = responses
        .iter()
        .map(|r| between(r, "<href>", "</href>").unwrap())
        .collect();
    assert_eq!(
        hrefs,
        [
            format!("/{DSID}/calendars/"),
            cal_path("home"),
            cal_path("work"),
            cal_path("reminders"),
            format!("/{DSID}/calendars/inbox/"),
            format!("/{DSID}/calendars/outbox/"),
            format!("/{DSID}/calendars/notification/"),
        ]
    );
    assert!(responses[0].contains("<resourcetype><collection/></resourcetype>"));
    let home_cal = &responses[1];
    assert!(home_cal.contains(r#"<collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/>"#));
    assert!(home_cal.contains("<displayname>Home</displayname>"));
    assert!(home_cal.contains(r#"<comp name="VEVENT"/>"#));
    assert!(home_cal.contains(">#1BADF8FF</calendar-color>"));
    assert!(home_cal.contains("<getctag xmlns=\"http://calendarserver.org/ns/\">"));
    assert!(home_cal.contains("<privilege><write/></privilege>"));
    let token = between(home_cal, "<sync-token>", "</sync-token>").unwrap();
    assert!(
        !token.contains("://"),
        "sync token is not a URI (§1.7): {token}"
    );
    // §1.7: the missing property comes back in its own 404 propstat.
    let missing = home_cal.split("<propstat>").nth(2).unwrap();
    assert!(
        missing.contains("calendar-description") && missing.contains("404 Not Found"),
        "{home_cal}"
    );
    assert!(responses[3].contains(r#"<comp name="VTODO"/>"#));
    assert!(responses[4].contains("schedule-inbox"));
    assert!(responses[5].contains("schedule-outbox"));
    assert!(responses[6].contains(r#"<notification xmlns="http://calendarserver.org/ns/"/>"#));

    let stats = sim.stats();
    assert_eq!(stats.by_host.get("front"), Some(&2));
    assert_eq!(stats.by_host.get("partition"), Some(&2));
}

#[tokio::test]
async fn depth_0_on_a_calendar_gives_its_properties_and_depth_1_lists_every_etag() {
    let sim = start().await;
    let body = r#"<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>"#;
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path("work"),
        Some("0"),
        body,
    )
    .await;
    assert_eq!(r.responses().len(), 1);
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path("work"),
        Some("1"),
        body,
    )
    .await;
    let responses = r.responses();
    assert_eq!(responses.len(), 1 + 25);
    for (resp, (href, etag, _)) in responses[1..].iter().zip(sim.objects("work")) {
        assert_eq!(between(resp, "<href>", "</href>").unwrap(), listed(&href));
        assert_eq!(between(resp, "<getetag>", "</getetag>").unwrap(), etag);
    }
}

#[tokio::test]
async fn read_only_calendar_lacks_write_privilege() {
    let mut cfg = icloud_sim::SimConfig::default();
    let mut shared = icloud_sim::CalendarSpec::new(
        "shared",
        "Geteilt",
        "#CC73E1FF",
        icloud_sim::Component::Vevent,
        2,
    );
    shared.read_only = true;
    cfg.calendars.push(shared);
    let sim = icloud_sim::Sim::start(cfg).await.unwrap();
    let body = r#"<propfind xmlns="DAV:"><prop><current-user-privilege-set/></prop></propfind>"#;
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path("shared"),
        Some("0"),
        body,
    )
    .await;
    assert!(r.text().contains("<privilege><read/></privilege>"));
    assert!(!r.text().contains("<write/>"));
    let (href, _, bytes) = sim.objects("shared").remove(0);
    let auth = good_auth();
    let r = Conn::open(&sim.partition_url())
        .await
        .request("PUT", &href, &[("Authorization", &auth)], &bytes)
        .await;
    assert_eq!(r.status, 403, "§2.8");
}

#[tokio::test]
async fn get_on_root_and_collections_is_an_empty_400() {
    let sim = start().await;
    let r = dav(&sim.front_url(), "GET", "/", None, "").await;
    assert_eq!((r.status, r.body.len()), (400, 0));
    let r = dav(&sim.partition_url(), "GET", &cal_path("home"), None, "").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn well_known_redirects_to_root_and_options_advertises_calendar_access() {
    let sim = start().await;
    let r = Conn::open(&sim.front_url())
        .await
        .request("GET", "/.well-known/caldav", &[], b"")
        .await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/"));
    let r = dav(&sim.front_url(), "OPTIONS", "/", None, "").await;
    assert_eq!(r.status, 200);
    let dav_header = r.header("DAV").unwrap();
    assert!(
        dav_header.starts_with("1, 2, 3, access-control, calendar-access"),
        "{dav_header}"
    );
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let sim = start().await;
    let auth = good_auth();
    let mut conn = Conn::open(&sim.partition_url()).await;
    for _ in 0..5 {
        let r = conn
            .request(
                "PROPFIND",
                "/",
                &[("Authorization", &auth), ("Depth", "0")],
                b"",
            )
            .await;
        assert_eq!(r.status, 207);
    }
    assert_eq!(sim.stats().propfind, 5);
}
