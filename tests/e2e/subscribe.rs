//! The CLI's subscriptions to published calendars against the simulator's `/published/2/<token>`
//! (docs/icloud.md §1.9): `subscribe` a pasted `webcal://` link, `sync` refreshes it with a conditional
//! GET (the second pass is a 304), `status` and `export` show it, `unsubscribe` removes it, and a bad
//! link gets a clear error. No keychain is involved: a subscription has no password.

use e2e::{show, Env};
use icloud_sim::{Sim, SimConfig};

fn event(uid: &str, summary: &str, day: u32) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:202601{day:02}T100000Z\r\n\
         DTEND:202601{day:02}T110000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\n"
    )
}

fn feed(name: &str, events: &[String]) -> Vec<u8> {
    let mut s = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iCloud//EN\r\nX-WR-CALNAME:{name}\r\n\
         X-APPLE-CALENDAR-COLOR:#FF2968\r\n"
    );
    for e in events {
        s.push_str(e);
    }
    s.push_str("END:VCALENDAR\r\n");
    s.into_bytes()
}

fn holidays() -> Vec<u8> {
    feed(
        "Office holidays",
        &[
            event("h1@example.com", "Founders day", 5),
            event("h2@example.com", "Summer party", 12),
            event("h3@example.com", "Quiet week", 20),
        ],
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribe_sync_export_unsubscribe() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let env = Env::new();
    let link = sim.publish("MTIzNDU2Nzg5MDEyMzQ1Nj", holidays());
    assert!(link.starts_with("webcal://127.0.0.1:"), "{link}");

    let r = env.run_async(&["subscribe", &link], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout
            .contains("Subscribed to Office holidays (read-only, no password needed)"),
        "{}",
        show(&r)
    );
    assert!(r.stdout.contains("3 events"), "{}", show(&r));

    let st = env.status().await;
    let subs = st["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1, "{st}");
    assert_eq!(subs[0]["display_name"], "Office holidays");
    assert_eq!(subs[0]["event_count"], 3);
    assert_eq!(subs[0]["read_only"], true);
    assert_eq!(subs[0]["color"], "#FF2968");
    assert!(st["accounts"].as_array().unwrap().is_empty(), "{st}");
    let text = env.run_async(&["status"], None).await;
    assert!(
        text.stdout.contains("Subscribed calendars"),
        "{}",
        show(&text)
    );
    assert!(
        !text.stdout.contains("No account is linked"),
        "{}",
        show(&text)
    );

    // The second pass asks with If-None-Match and gets a 304.
    sim.reset_stats();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains("Office holidays: unchanged"),
        "{}",
        show(&r)
    );
    let stats = sim.stats();
    assert_eq!(stats.published_get, 1, "{stats:?}");
    assert_eq!(stats.if_none_match, 1, "{stats:?}");
    assert_eq!(stats.not_modified, 1, "{stats:?}");
    assert_eq!(stats.authenticated, 0, "no credentials are ever sent");

    // A change on the server arrives with the next sync (--json lists the subscriptions).
    sim.publish(
        "MTIzNDU2Nzg5MDEyMzQ1Nj",
        feed(
            "Office holidays",
            &[
                event("h1@example.com", "Founders day", 5),
                event("h2@example.com", "Summer party (moved)", 13),
            ],
        ),
    );
    let r = env.run_async(&["sync", "--json"], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let v = r.json();
    assert_eq!(v["subscriptions"][0]["events"], 2, "{v}");
    assert_eq!(v["subscriptions"][0]["deleted"], 1, "{v}");

    // Events and export include it.
    let r = env
        .run_async(
            &[
                "events",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
                "--json",
            ],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let evs = r.json();
    let names: Vec<&str> = evs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Founders day", "Summer party (moved)"], "{evs}");
    let out = env.dir.path().join("export");
    let r = env
        .run_async(
            &["export", "--format", "ics", "--out", out.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let file = std::fs::read_to_string(out.join("subscribed-Office_holidays.ics")).unwrap();
    assert!(file.contains("SUMMARY:Summer party (moved)"), "{file}");
    assert!(!file.contains("Quiet week"), "{file}");

    // Unsubscribe by name removes it and its events.
    let r = env
        .run_async(&["unsubscribe", "Office holidays"], None)
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        r.stdout.contains("Unsubscribed from Office holidays"),
        "{}",
        show(&r)
    );
    let st = env.status().await;
    assert!(st["subscriptions"].as_array().unwrap().is_empty(), "{st}");
    let r = env
        .run_async(
            &[
                "events",
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
                "--json",
            ],
            None,
        )
        .await;
    assert_eq!(r.json(), serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_an_https_link_and_unsubscribe_by_link() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let env = Env::new();
    let link = sim.publish("tok", holidays());
    let http = link.replacen("webcal://", "http://", 1);
    let r = env
        .run_async(&["subscribe", &http, "--name", "Work days off"], None)
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("Work days off"), "{}", show(&r));
    // The same calendar again, as the webcal:// link: already there.
    let r = env.run_async(&["subscribe", &link], None).await;
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("already subscribed"), "{}", show(&r));
    let r = env.run_async(&["unsubscribe", &link], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let r = env.run_async(&["unsubscribe", &link], None).await;
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("no subscription matches"), "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_links_get_a_clear_error_and_store_nothing() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let env = Env::new();
    // Not shared (any more).
    let r = env
        .run_async(&["subscribe", &sim.published_link("gone")], None)
        .await;
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("is not shared any more"), "{}", show(&r));
    // A web page instead of a calendar.
    let page = sim.publish(
        "page",
        b"<!DOCTYPE html><html><body>Sign in</body></html>".to_vec(),
    );
    let r = env.run_async(&["subscribe", &page], None).await;
    assert!(
        r.stderr.contains("did not return a calendar"),
        "{}",
        show(&r)
    );
    // Not a link at all.
    let r = env.run_async(&["subscribe", "my holidays"], None).await;
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("is not a calendar link"), "{}", show(&r));
    // A published link given to link: subscribe instead (before any password is asked for).
    let r = env
        .run_async(
            &[
                "--server-url",
                "webcal://p42-caldav.icloud.com/published/2/abc",
                "link",
                "--apple-id",
                "a@b.c",
                "--password-stdin",
            ],
            Some("abcd-efgh-ijkl-mnop"),
        )
        .await;
    assert_eq!(r.code, 2, "{}", show(&r));
    assert!(r.stderr.contains("subscribe to it instead"), "{}", show(&r));
    let st = env.status().await;
    assert!(st["subscriptions"].as_array().unwrap().is_empty(), "{st}");
}

/// QUIRK(icloud §1.9): a published link that answers 301 to another host (another partition) is
/// followed without credentials, and refreshed through it; one that redirects in a loop gets a clear
/// error and stores nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_link_moved_to_another_host_is_followed_and_a_loop_is_refused() {
    let old = Sim::start(SimConfig::default()).await.unwrap();
    let new = Sim::start(SimConfig::default()).await.unwrap();
    let env = Env::new();
    let target = new
        .publish("moved", holidays())
        .replacen("webcal://", "http://", 1);
    let link = old.publish_moved("old", &target);
    let r = env.run_async(&["subscribe", &link], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("3 events"), "{}", show(&r));
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", show(&r));
    assert_eq!(old.stats().published_get, 2);
    let stats = new.stats();
    assert_eq!(stats.published_get, 2, "{stats:?}");
    assert_eq!(
        stats.not_modified, 1,
        "the refresh is conditional: {stats:?}"
    );

    let own = old
        .published_link("loop")
        .replacen("webcal://", "http://", 1);
    let looping = old.publish_moved("loop", &own);
    let r = env.run_async(&["subscribe", &looping], None).await;
    assert_ne!(r.code, 0, "{}", show(&r));
    assert!(r.stderr.contains("kept redirecting"), "{}", show(&r));
    let st = env.status().await;
    assert_eq!(st["subscriptions"].as_array().unwrap().len(), 1, "{st}");
}

/// A real server's calendar that needs a password is not a public calendar: the error says so.
#[tokio::test(flavor = "multi_thread")]
async fn a_radicale_calendar_that_needs_a_password_is_refused_in_words() {
    if e2e::radicale_bin().is_none() {
        eprintln!("Radicale is not installed; skipped");
        return;
    }
    let radicale = e2e::Radicale::start(&[("alice", "pw")], |root| {
        let cal = root.join("alice").join("holidays");
        std::fs::create_dir_all(&cal).unwrap();
        std::fs::write(cal.join(".Radicale.props"), r#"{"tag": "VCALENDAR"}"#).unwrap();
    });
    let env = Env::new();
    let url = format!("{}alice/holidays/", radicale.url);
    let r = env.run_async(&["subscribe", &url], None).await;
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("asks for a password"), "{}", show(&r));
    assert!(r.stderr.contains("not a public calendar"), "{}", show(&r));
}

/// A real server's calendar that anyone may read (Radicale with anonymous read rights): subscribed to
/// by its https-or-loopback URL like a published iCloud calendar, its events arrive and a sync keeps
/// them.
#[tokio::test(flavor = "multi_thread")]
async fn a_public_radicale_calendar_can_be_subscribed_to() {
    let Some(bin) = e2e::radicale_bin() else {
        eprintln!("Radicale is not installed; skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cal = dir
        .path()
        .join("collections/collection-root/public/holidays");
    std::fs::create_dir_all(&cal).unwrap();
    std::fs::write(
        cal.join(".Radicale.props"),
        r#"{"tag": "VCALENDAR", "D:displayname": "Holidays"}"#,
    )
    .unwrap();
    for (uid, what, day) in [("r1", "Harvest fair", 7), ("r2", "Lantern walk", 11)] {
        std::fs::write(
            cal.join(format!("{uid}.ics")),
            feed("Holidays", &[event(uid, what, day)]),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("rights"),
        "[read-public]\nuser: .*\ncollection: (|public|public/holidays(/.*)?)\npermissions: Rr\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("radicale.conf");
    std::fs::write(
        &conf,
        format!(
            "[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n[rights]\ntype = from_file\nfile = {}\n[storage]\nfilesystem_folder = {}\n[logging]\nlevel = warning\n",
            dir.path().join("rights").display(),
            dir.path().join("collections").display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(bin)
        .arg("--config")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "Radicale did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let env = Env::new();
    let url = format!("http://127.0.0.1:{port}/public/holidays/");
    let r = env.run_async(&["subscribe", &url], None).await;
    let sync = env.run_async(&["sync", "--json"], None).await;
    let st = env.status().await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(r.stdout.contains("2 events"), "{}", show(&r));
    assert_eq!(sync.code, 0, "{}", show(&sync));
    assert_eq!(st["subscriptions"][0]["event_count"], 2, "{st}");
    assert_eq!(
        st["subscriptions"][0]["last_error"],
        serde_json::Value::Null,
        "{st}"
    );
}
