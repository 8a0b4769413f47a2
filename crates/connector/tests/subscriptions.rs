//! Subscriptions to published calendars, in-process against the simulator's `/published/2/<token>`:
//! subscribe, conditional refresh (a 304 writes nothing), quarantine of a bad event, removal on a good
//! answer, and answers that are not a whole calendar changing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use connector::credentials::MemoryKeychain;
use connector::{Connector, Error, ExportFormat, OpenOptions};
use icloud_sim::{Sim, SimConfig};

fn event(uid: &str, summary: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260110T100000Z\r\n\
         DTEND:20260110T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
    )
}

fn feed(events: &[String]) -> Vec<u8> {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iCloud//EN\r\n\
         X-WR-CALNAME:Team holidays\r\nX-APPLE-CALENDAR-COLOR:#34AADC\r\n",
    );
    for e in events {
        s.push_str(e);
    }
    s.push_str("END:VCALENDAR\r\n");
    s.into_bytes()
}

struct Setup {
    sim: Sim,
    c: Connector,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = Connector::open_with_keychain(
        OpenOptions {
            data_dir: dir.path().join("data"),
            keyring_service: "calendar-connector-subscription-test".into(),
        },
        Arc::new(MemoryKeychain::default()),
    )
    .unwrap();
    Setup { sim, c, dir }
}

fn three() -> Vec<String> {
    vec![
        event("one", "Offsite"),
        event("two", "Launch"),
        event("three", "Party"),
    ]
}

#[tokio::test]
async fn subscribe_refresh_304_and_removal() {
    let s = setup().await;
    let link = s.sim.publish("tok1", feed(&three()));
    assert!(link.starts_with("webcal://"));
    let r = s.c.subscribe(&link, None).await.unwrap();
    assert_eq!(
        (r.name.as_str(), r.events, r.fetched),
        ("Team holidays", 3, 3)
    );
    let st = s.c.status().unwrap();
    assert!(
        st.accounts.is_empty(),
        "no account appears: {:?}",
        st.accounts
    );
    let sub = &st.subscriptions[0];
    assert!(sub.read_only && sub.url.starts_with("http://127.0.0.1"));
    assert_eq!(sub.color.as_deref(), Some("#34AADC"));
    assert_eq!(
        s.sim.stats().authenticated,
        0,
        "no credentials are ever sent"
    );

    // Unchanged: one 304 carrying the stored etag, nothing written.
    let (reports, errors) = s.c.refresh_subscriptions().await;
    assert!(errors.is_empty(), "{errors:?}");
    assert!(reports[0].unchanged);
    assert_eq!((reports[0].fetched, reports[0].deleted), (0, 0));
    let stats = s.sim.stats();
    assert_eq!((stats.if_none_match, stats.not_modified), (1, 1));

    // One event gone and one changed: a complete good answer removes and updates.
    s.sim.publish(
        "tok1",
        feed(&[event("one", "Offsite"), event("two", "Launch moved")]),
    );
    let (reports, errors) = s.c.refresh_subscriptions().await;
    assert!(errors.is_empty(), "{errors:?}");
    let r = &reports[0];
    assert_eq!(
        (r.events, r.fetched, r.deleted, r.unchanged),
        (2, 1, 1, false)
    );

    // Export has them, bytes as fetched.
    let out = s.dir.path().join("export");
    s.c.export(ExportFormat::Ics, &out).unwrap();
    let file = std::fs::read_to_string(out.join("subscribed-Team_holidays.ics")).unwrap();
    assert!(
        file.contains("Launch moved") && !file.contains("Party"),
        "{file}"
    );

    // Unsubscribe by name removes everything.
    assert_eq!(s.c.unsubscribe("team HOLIDAYS").unwrap(), "Team holidays");
    let st = s.c.status().unwrap();
    assert!(st.subscriptions.is_empty());
    assert!(matches!(s.c.unsubscribe(&link), Err(Error::Usage(_))));
}

#[tokio::test]
async fn the_daemon_refreshes_a_subscription_once_per_interval() {
    let s = setup().await;
    let link = s.sim.publish("tokd", feed(&three()));
    s.c.subscribe(&link, None).await.unwrap();
    s.sim.reset_stats();
    let hour = std::time::Duration::from_secs(3600);
    let (done, errors) = s.c.refresh_due_subscriptions(hour).await;
    assert!(
        done.is_empty() && errors.is_empty(),
        "just subscribed: not due"
    );
    assert_eq!(s.sim.stats().published_get, 0);
    let (done, errors) =
        s.c.refresh_due_subscriptions(std::time::Duration::ZERO)
            .await;
    assert!(errors.is_empty(), "{errors:?}");
    assert!(done[0].unchanged);
    // A failed refresh also waits a whole interval (no hammering a server that is down).
    s.sim.unpublish("tokd");
    let (_, errors) =
        s.c.refresh_due_subscriptions(std::time::Duration::ZERO)
            .await;
    assert_eq!(errors.len(), 1);
    let (done, errors) = s.c.refresh_due_subscriptions(hour).await;
    assert!(done.is_empty() && errors.is_empty());
}

#[tokio::test]
async fn a_bad_event_is_quarantined_and_the_rest_stored() {
    let s = setup().await;
    let mut events = three();
    events.push(
        "BEGIN:VEVENT\r\nUID:broken\r\nDTSTART:yesterday-ish\r\nSUMMARY:Bad\r\nEND:VEVENT\r\n"
            .into(),
    );
    let link = s.sim.publish("tok2", feed(&events));
    let r = s.c.subscribe(&link, Some("Mine")).await.unwrap();
    assert_eq!((r.name.as_str(), r.events, r.quarantined), ("Mine", 3, 1));
    let sub = s.c.status().unwrap().subscriptions.remove(0);
    assert_eq!(sub.quarantined.len(), 1, "{sub:?}");
    assert!(sub.quarantined[0].href.starts_with("broken"));
}

#[tokio::test]
async fn answers_that_are_not_a_whole_calendar_change_nothing() {
    let s = setup().await;
    let link = s.sim.publish("tok3", feed(&three()));
    s.c.subscribe(&link, None).await.unwrap();
    let whole = feed(&three()[..1]);
    let cut = whole[..whole.len() - 20].to_vec();
    for (body, words) in [
        (cut, "cut short"),
        (
            b"<!DOCTYPE html><html><body>Sign in</body></html>".to_vec(),
            "web page",
        ),
        (Vec::new(), "empty"),
    ] {
        s.sim.publish("tok3", body);
        let (reports, errors) = s.c.refresh_subscriptions().await;
        assert!(reports.is_empty());
        assert!(errors[0].to_string().contains(words), "{}", errors[0]);
        let sub = s.c.status().unwrap().subscriptions.remove(0);
        assert_eq!(sub.event_count, 3, "nothing deleted");
        assert!(sub.last_error.unwrap().contains(words));
    }
    // No longer shared: a 404 in words, still nothing deleted.
    s.sim.unpublish("tok3");
    let (_, errors) = s.c.refresh_subscriptions().await;
    assert!(
        errors[0].to_string().contains("not shared any more"),
        "{}",
        errors[0]
    );
    assert_eq!(s.c.status().unwrap().subscriptions[0].event_count, 3);
}

#[tokio::test]
async fn bad_links_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let missing = s.sim.published_link("nobody");
    let e = s.c.subscribe(&missing, None).await.unwrap_err();
    assert!(e.to_string().contains("not shared any more"), "{e}");
    let e =
        s.c.subscribe("ftp://example.org/x.ics", None)
            .await
            .unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    assert!(s.c.status().unwrap().subscriptions.is_empty());
    // A published link in the server field of link: subscribe instead.
    let e =
        s.c.link(
            "a@b.c",
            "webcal://p42-caldav.icloud.com/published/2/x",
            connector::Secret::new(String::from("abcd-efgh-ijkl-mnop")),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("subscribe"), "{e}");
    let e =
        s.c.link(
            "webcal://p42-caldav.icloud.com/published/2/x",
            "https://caldav.icloud.com/",
            connector::Secret::new(String::from("abcd-efgh-ijkl-mnop")),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("subscribe to it"), "{e}");
    // Twice the same link.
    let link = s.sim.publish("tok4", feed(&three()));
    s.c.subscribe(&link, None).await.unwrap();
    let e = s.c.subscribe(&link, None).await.unwrap_err();
    assert!(e.to_string().contains("already subscribed"), "{e}");
}

#[tokio::test]
async fn rebuild_cache_keeps_the_subscriptions() {
    let s = setup().await;
    let link = s.sim.publish("tokr", feed(&three()));
    s.c.subscribe(&link, Some("Kept")).await.unwrap();
    let data = s.dir.path().join("data");
    drop(s.c);
    let (c, moved) = Connector::rebuild_cache(OpenOptions {
        data_dir: data,
        keyring_service: "calendar-connector-subscription-test".into(),
    })
    .unwrap();
    assert!(moved.is_some());
    let sub = c.status().unwrap().subscriptions.remove(0);
    assert_eq!((sub.display_name.as_str(), sub.event_count), ("Kept", 0));
    let (done, errors) = c.refresh_subscriptions().await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (done[0].events, done[0].unchanged),
        (3, false),
        "fetched whole again"
    );
    drop(s.sim);
}

#[tokio::test]
async fn the_demo_publishes_a_calendar_to_subscribe_to() {
    let demo = connector::demo::start().await.unwrap();
    assert!(connector::published::is_published_calendar_link(
        &demo.published_link
    ));
    let dir = tempfile::tempdir().unwrap();
    let c = Connector::open_with_keychain(
        OpenOptions {
            data_dir: dir.path().to_path_buf(),
            keyring_service: "calendar-connector-subscription-test".into(),
        },
        Arc::new(MemoryKeychain::default()),
    )
    .unwrap();
    let r = c.subscribe(&demo.published_link, None).await.unwrap();
    assert_eq!(
        (r.name.as_str(), r.events, r.quarantined),
        ("Team holidays (public)", 3, 0)
    );
    let from = chrono::Utc::now();
    let evs = c
        .events(from, from + chrono::Duration::days(14), None)
        .unwrap();
    assert_eq!(evs.len(), 3, "{evs:?}");
    demo.sim.shutdown().await;
}
