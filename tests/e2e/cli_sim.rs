//! The CLI against the iCloud simulator (docs/icloud.md §1–§3): discovery across the two hosts, first and
//! incremental sync, token expiry, quarantine, failures mid-sync that must delete nothing, per-item
//! 404s, kill -9 and resume, export. Every test runs in its own data dir and keychain namespace, with
//! the real Secret Service (scripts/test.sh runs the suite inside a private gnome-keyring session).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{counts, server_count, tree_contains, Env};
use icloud_sim::{CalendarSpec, Component, Scenario, Sim, SimConfig};

const PW: &str = "abcd-efgh-ijkl-mnop";

use e2e::event_calendar as cal;

async fn sim_with(cals: Vec<CalendarSpec>, broken_percent: f64) -> Sim {
    let cfg = SimConfig {
        calendars: cals,
        broken_percent,
        ..Default::default()
    };
    Sim::start(cfg).await.unwrap()
}

async fn default_sim() -> Sim {
    let mut cals = vec![cal("home", "Home", 40), cal("work", "Work", 25)];
    cals.push(CalendarSpec {
        slug: "reminders".into(),
        display_name: "Reminders".into(),
        color: "#FF9500FF".into(),
        component: Component::Vtodo,
        events: 3,
        read_only: false,
    });
    sim_with(cals, 0.0).await
}

async fn linked(sim: &Sim) -> Env {
    Env::linked(&sim.front_url(), "demo@example.com", PW).await
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_crosses_both_hosts_and_first_sync_mirrors_two_event_calendars() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let st = sim.stats();
    assert!(st.by_host.get("front").copied().unwrap_or(0) >= 1, "{st:?}");
    assert!(
        st.by_host.get("partition").copied().unwrap_or(0) >= 1,
        "{st:?}"
    );
    let status = env.status().await;
    let c = counts(&status);
    assert_eq!(
        c.len(),
        2,
        "the VTODO list, inbox, outbox and notification are skipped: {c:?}"
    );
    assert_eq!(c["Home"], server_count(&sim, "home"));
    assert_eq!(c["Work"], server_count(&sim, "work"));
    let a = &status["accounts"][0];
    assert_eq!(a["state"], "active");
    assert_eq!(a["icloud_app_specific_password_required"], false);
    assert!(a["relink_reason"].is_null());
    assert!(a["last_error"].is_null());
    assert!(a["last_successful_sync"].as_str().unwrap().contains('T'));
    let home = a["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["display_name"] == "Home")
        .unwrap();
    assert_eq!(home["color"], "#1BADF8FF");
    assert_eq!(home["read_only"], false);
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_sync_fetches_exactly_the_added_and_modified_and_applies_deletions() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    // A no-change resync costs one PROPFIND of the home set and fetches nothing.
    sim.reset_stats();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    assert_eq!(st.multiget_hrefs + st.get, 0, "{st:?}");
    assert_eq!(st.requests, 1, "{st:?}");

    let added = sim.add_events("home", 3);
    let modified = sim.modify_events("home", 2);
    let deleted = sim.delete_events("work", 1);
    assert_eq!((added.len(), modified.len(), deleted.len()), (3, 2, 1));
    sim.reset_stats();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    assert_eq!(
        st.multiget_hrefs, 5,
        "only the 3 added and 2 modified are fetched: {st:?}"
    );
    let c = counts(&env.status().await);
    assert_eq!(c["Home"], server_count(&sim, "home"));
    assert_eq!(c["Work"], server_count(&sim, "work"));
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn icloud_3_2_expired_token_falls_back_to_one_full_listing_with_the_right_result() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    sim.set_scenario(Scenario::TokenExpired3_2 { status: 403 });
    sim.add_events("home", 2);
    sim.delete_events("home", 1);
    sim.reset_stats();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = sim.stats();
    assert_eq!(
        st.sync_collection, 2,
        "one refused token-carrying request, one token-less listing: {st:?}"
    );
    assert_eq!(st.multiget_hrefs, 2, "{st:?}");
    assert_eq!(
        counts(&env.status().await)["Home"],
        server_count(&sim, "home")
    );
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_percent_unparseable_events_are_quarantined_listed_and_logged_once() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = sim_with(
        vec![cal("home", "Home", 300), cal("work", "Work", 100)],
        1.0,
    )
    .await;
    let env = Env::new();
    let r = env.link(&sim.front_url(), "demo@example.com", PW).await;
    assert_eq!(r.code, 0, "one bad event never stops a sync:\n{}", r.stderr);
    // The terminal gets words, not log lines: those go to the log file (or to stderr with -v).
    for raw in ["WARN", "INFO", "request_id", "quarantined an event"] {
        assert!(
            !r.stderr.contains(raw),
            "{raw:?} at the default verbosity:\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr.contains("could not be read (see status)"),
        "{}",
        r.stderr
    );
    let status = env.status().await;
    let q = status["accounts"][0]["quarantined"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!q.is_empty() && q.len() <= 8, "about 1% of 400: {q:?}");
    for e in &q {
        assert!(!e["error"].as_str().unwrap().is_empty());
        assert!(e["href"].as_str().unwrap().ends_with(".ics"));
    }
    let log = env.log();
    let logged = log.matches("quarantined an event").count();
    assert_eq!(logged, q.len(), "logged once each:\n{log}");
    let c = counts(&status);
    assert_eq!(c["Home"] + c["Work"] + q.len() as u64, 400);
    // The next pass (with a change, so the calendar is listed) neither refetches nor re-logs them.
    sim.add_events("home", 1);
    sim.add_events("work", 1);
    let mark = env.log().len();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = env.log_since(mark);
    assert_eq!(log.matches("quarantined an event").count(), 0, "{log}");
    // With -v the terminal gets the log lines too (a second machine linking the same account).
    let verbose = Env::new();
    let r = verbose
        .run_async(
            &[
                "-v",
                "--server-url",
                &sim.front_url(),
                "link",
                "--apple-id",
                "demo@example.com",
                "--password-stdin",
            ],
            Some(PW),
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("quarantined an event").count(),
        q.len(),
        "-v:\n{}",
        r.stderr
    );
    verbose.forget("demo@example.com");
    let human = env.run_async(&["status"], None).await;
    assert!(
        human.stdout.contains("could not be read"),
        "{}",
        human.stdout
    );
    env.forget("demo@example.com");
}

async fn failing_sync_deletes_nothing(
    scenario: Scenario,
    expected_code: i32,
    expected_words: &str,
) {
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let before = counts(&env.status().await);
    sim.delete_events("home", 30);
    sim.add_events("home", 1);
    // Fail after the calendar list, in the middle of the pass.
    sim.set_scenario_after(scenario.clone(), 1);
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, expected_code, "{scenario:?}: {}", r.stderr);
    assert!(
        r.stderr.contains(expected_words),
        "{scenario:?}: {}",
        r.stderr
    );
    assert_eq!(
        counts(&env.status().await),
        before,
        "{scenario:?}: nothing deleted"
    );
    let st = env.status().await;
    assert!(!st["accounts"][0]["last_error"].is_null());
    if expected_code == 4 {
        // Fleet scripts read "unreachable or throttled" from status's exit code too.
        let r = env.run_async(&["status"], None).await;
        assert_eq!(r.code, 4, "{scenario:?}: status: {}", r.stderr);
    }
    // Healthy again: the deletions are applied from a complete listing.
    sim.set_scenario(Scenario::Normal);
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        counts(&env.status().await)["Home"],
        server_count(&sim, "home")
    );
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_xml_mid_sync_is_an_error_and_deletes_nothing() {
    if e2e::keychain_or_skip() {
        failing_sync_deletes_nothing(Scenario::TruncatedBody, 4, "cut off").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn html_sign_in_page_mid_sync_is_an_error_and_deletes_nothing() {
    if e2e::keychain_or_skip() {
        failing_sync_deletes_nothing(
            Scenario::HtmlSignIn,
            1,
            "sign-in page instead of calendar data",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error_500_mid_sync_is_an_error_and_deletes_nothing() {
    if e2e::keychain_or_skip() {
        failing_sync_deletes_nothing(Scenario::ServerError { status: 500 }, 4, "HTTP 500").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn icloud_3_3_per_item_404_in_multiget_deletes_nothing_and_is_fetched_later() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = sim_with(vec![cal("home", "Home", 60), cal("work", "Work", 10)], 0.0).await;
    sim.set_scenario(Scenario::MultigetItem404_3_3 { every_nth: 7 });
    let env = Env::new();
    let r = env.link(&sim.front_url(), "demo@example.com", PW).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("not delivered"), "{}", r.stderr);
    let c = counts(&env.status().await);
    let missing = 70 - (c["Home"] + c["Work"]);
    assert!(missing >= 8, "{c:?}");
    sim.set_scenario(Scenario::Normal);
    sim.reset_stats();
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        sim.stats().multiget_hrefs,
        missing,
        "only the missing ones are fetched"
    );
    let c = counts(&env.status().await);
    assert_eq!((c["Home"], c["Work"]), (60, 10));
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_several_points_leaves_a_consistent_cache_and_resume_skips_committed_batches() {
    if !e2e::keychain_or_skip() {
        return;
    }
    const N: usize = 12_000;
    let sim = sim_with(vec![cal("home", "Home", N)], 0.0).await;
    let env = Env::new();
    let r = env
        .run_async(
            &[
                "--server-url",
                &sim.front_url(),
                "link",
                "--apple-id",
                "demo@example.com",
                "--password-stdin",
                "--no-sync",
            ],
            Some(PW),
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut last = 0u64;
    for kill_after_multigets in [2u64, 12, 30] {
        sim.reset_stats();
        let mut child = env
            .cmd()
            .arg("sync")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while sim.stats().multiget < kill_after_multigets {
            if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // A multiget the killed process had sent is counted only once served (crash.rs).
        assert!(sim.settle(std::time::Duration::from_secs(10)).await);
        // The cache opens (integrity checked) and holds whole batches only.
        let status = env.status().await;
        let have = counts(&status)["Home"];
        assert!(have >= last, "committed work is never lost");
        assert_eq!(
            have % 200,
            0,
            "batches are atomic (200 per transaction): {have}"
        );
        last = have;
        // Resume: the next run fetches exactly what is not committed yet.
        if kill_after_multigets == 30 {
            sim.reset_stats();
            let r = env.run_async(&["sync"], None).await;
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(
                sim.stats().multiget_hrefs,
                N as u64 - have,
                "committed batches are not refetched"
            );
            assert_eq!(counts(&env.status().await)["Home"], N as u64);
        }
    }
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn vdir_export_is_byte_identical_to_what_the_server_served_and_ics_has_every_event() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let out = env.dir.path().join("export");
    let r = env
        .run_async(
            &["export", "--format", "vdir", "--out", out.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    for slug in ["home", "work"] {
        let objs = sim.objects(slug);
        assert!(!objs.is_empty());
        for (href, _etag, bytes) in objs {
            let name = href.rsplit('/').next().unwrap();
            let found = walk_find(&out, name).unwrap_or_else(|| panic!("{name} not exported"));
            let got = std::fs::read(found).unwrap();
            // XML turns CRLF into LF inside calendar-data (XML 1.0 §2.11); everything else is identical.
            let norm = |b: &[u8]| String::from_utf8_lossy(b).replace("\r\n", "\n");
            assert_eq!(norm(&got), norm(&bytes), "{href}");
        }
    }
    let ics = env.dir.path().join("ics");
    let r = env
        .run_async(
            &["export", "--format", "ics", "--out", ics.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files: Vec<_> = std::fs::read_dir(&ics).unwrap().collect();
    assert_eq!(files.len(), 2);
    env.forget("demo@example.com");
}

fn walk_find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.is_dir() {
            if let Some(f) = walk_find(&p, name) {
                return Some(f);
            }
        } else if p.file_name()?.to_str()? == name {
            return Some(p);
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn events_json_is_sorted_with_recurrences_expanded_and_today_has_events() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let today = chrono::Utc::now().date_naive();
    let from = (today - chrono::Duration::days(60)).to_string();
    let to = (today + chrono::Duration::days(120)).to_string();
    let r = env
        .run_async(&["events", "--from", &from, "--to", &to, "--json"], None)
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let evs = r.json();
    let evs = evs.as_array().unwrap();
    assert!(
        evs.len() > 65,
        "recurring events expand into several occurrences: {}",
        evs.len()
    );
    for k in [
        "calendar",
        "uid",
        "summary",
        "start",
        "end",
        "all_day",
        "location",
        "recurrence_id",
        "href",
    ] {
        assert!(evs[0].get(k).is_some(), "missing {k}");
    }
    assert!(evs.iter().any(|e| !e["recurrence_id"].is_null()));
    assert!(evs
        .iter()
        .any(|e| e["all_day"] == true && e["start"].as_str().unwrap().len() == 10));
    // Sorted by start: an all-day date counts from its local midnight.
    let start_of = |e: &serde_json::Value| -> i64 {
        let s = e["start"].as_str().unwrap();
        match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.timestamp(),
            Err(_) => {
                use chrono::TimeZone;
                let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
                chrono::Local
                    .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                    .earliest()
                    .unwrap()
                    .timestamp()
            }
        }
    };
    let starts: Vec<i64> = evs.iter().map(start_of).collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "events are not sorted by start"
    );
    let r = env
        .run_async(
            &[
                "events",
                "--from",
                &today.to_string(),
                "--to",
                &(today + chrono::Duration::days(1)).to_string(),
                "--calendar",
                "Home",
                "--json",
            ],
            None,
        )
        .await;
    let today_home = r.json();
    let today_home = today_home.as_array().unwrap();
    assert!(
        !today_home.is_empty(),
        "today has events in Home: {}",
        r.stderr
    );
    assert!(today_home.iter().all(|e| e["calendar"] == "Home"));
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_never_reaches_the_data_dir_logs_or_process_list() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let canary = "qzxw-vuts-rqpo-nmlk";
    let cfg = SimConfig {
        password: canary.into(),
        ..Default::default()
    };
    let sim = Sim::start(cfg).await.unwrap();
    let env = Env::new();
    // While the CLI waits for the password on stdin, look at its command line and environment.
    let mut child = env
        .cmd()
        .args([
            "--server-url",
            &sim.front_url(),
            "-vv",
            "link",
            "--apple-id",
            "demo@example.com",
            "--password-stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(canary.as_bytes())
            .unwrap();
    }
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let needle = canary.as_bytes();
    let has = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    assert!(!has(&cmdline) && !has(&environ));
    assert!(
        !has(&out.stdout) && !has(&out.stderr),
        "debug logs carry no password"
    );
    assert_eq!(
        tree_contains(&env.data(), needle),
        None,
        "nothing in the data dir"
    );
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    assert!(!has(&ps.stdout));
    env.forget("demo@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_error_and_the_right_exit_code() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let env = Env::new();
    // Not a URL → usage (2).
    let r = env.link("caldav.icloud.com", "a@b.c", PW).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a URL"), "{}", r.stderr);
    // Connection refused → unreachable (4). Port 9 (discard) is below the range port 0 hands out, so no
    // server of a test running beside this one can be there (a port just freed could be).
    let r = env.link("http://127.0.0.1:9/", "a@b.c", PW).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("connection refused"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Can't reach the server") && r.stderr.contains("nothing was changed"),
        "what happened and what to do, in words: {}",
        r.stderr
    );
    // Unknown host → unreachable (4), names the host.
    let r = env.link("https://no-such-host.invalid/", "a@b.c", PW).await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-host.invalid"), "{}", r.stderr);
    // https:// to a port that speaks plain HTTP → a TLS failure that says so (4).
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in plain.incoming().take(4) {
            use std::io::Write;
            if let Ok(mut s) = s {
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    let r = env
        .link(&format!("https://127.0.0.1:{plain_port}/"), "a@b.c", PW)
        .await;
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("TLS"), "{}", r.stderr);
    // Nothing was linked or stored by any of these.
    assert!(env.status().await["accounts"]
        .as_array()
        .unwrap()
        .is_empty());
    // A wrong password at link time: rejected, nothing stored, guidance shown.
    let sim = default_sim().await;
    let r = env
        .link(&sim.front_url(), "demo@example.com", "wxyz-wxyz-wxyz-wxyz")
        .await;
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("account.apple.com"), "{}", r.stderr);
    // Nothing is linked yet: no "relink", no "paused", no internal reason code.
    assert!(r.stderr.contains("nothing was linked"), "{}", r.stderr);
    for wrong in ["relink", "paused", "password_rejected", "(app_specific"] {
        assert!(!r.stderr.contains(wrong), "{wrong:?} in: {}", r.stderr);
    }
    assert!(env.status().await["accounts"]
        .as_array()
        .unwrap()
        .is_empty());
    // Unknown account.
    let r = env
        .run_async(&["sync", "--apple-id", "nobody@example.com"], None)
        .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_cache_is_reported_kept_and_rebuilt_on_request() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let db = env.data().join("cache.sqlite3");
    let _ = std::fs::remove_file(env.data().join("cache.sqlite3-wal"));
    let _ = std::fs::remove_file(env.data().join("cache.sqlite3-shm"));
    std::fs::write(&db, b"garbage! ".repeat(1000)).unwrap();
    let r = env.run_async(&["status"], None).await;
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("damaged") && r.stderr.contains("rebuild-cache"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        b"garbage! ".repeat(1000),
        "never silently deleted"
    );
    let r = env.run_async(&["rebuild-cache"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kept: Vec<_> = std::fs::read_dir(env.data())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
        .collect();
    assert_eq!(kept.len(), 1);
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "the account survives a rebuild: {}", r.stderr);
    assert_eq!(
        counts(&env.status().await)["Home"],
        server_count(&sim, "home")
    );
    env.forget("demo@example.com");
}

#[test]
fn unusable_data_dir_is_a_clear_error() {
    let env = Env::new();
    // A file where the data dir should be: cannot be created even as root.
    let blocker = env.dir.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let r = e2e::run_cli(&blocker.join("data"), &env.ns, &["status"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("not writable"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_apple_server_with_its_own_password_gets_no_app_specific_password_lecture() {
    if !e2e::keychain_or_skip() {
        return;
    }
    // A CalDAV server that is not Apple's (the simulator on loopback) with an ordinary password.
    let sim = icloud_sim::Sim::start(icloud_sim::SimConfig {
        password: "a long ordinary password".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let env = Env::new();
    let r = env
        .link(
            &sim.front_url(),
            "demo@example.com",
            "a long ordinary password",
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains("app-specific"),
        "no iCloud lecture for a non-Apple server:\n{}",
        r.stderr
    );
    env.forget("demo@example.com");
}

/// `status` on a terminal (a pseudo-terminal made by util-linux's `script`), with and without
/// `NO_COLOR`.
fn status_on_a_terminal(env: &Env, no_color: bool) -> String {
    let cmd = format!(
        "{} --data-dir {} status",
        e2e::bin("calendar-connector-cli").display(),
        env.data().display()
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env("CALENDAR_CONNECTOR_KEYRING_NAMESPACE", &env.ns)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let o = c.output().expect("script (util-linux) is needed");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_is_coloured_on_a_terminal_only_and_never_with_no_color() {
    if !e2e::keychain_or_skip() {
        return;
    }
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let tty = status_on_a_terminal(&env, false);
    assert!(tty.contains("\u{1b}[32mup to date\u{1b}[0m"), "{tty:?}");
    let no_color = status_on_a_terminal(&env, true);
    assert!(no_color.contains("up to date"), "{no_color:?}");
    assert!(!no_color.contains('\u{1b}'), "NO_COLOR: {no_color:?}");
    let piped = env.run_async(&["status"], None).await;
    assert!(piped.stdout.contains("up to date"), "{}", piped.stdout);
    assert!(
        !piped.stdout.contains('\u{1b}'),
        "not a terminal: {:?}",
        piped.stdout
    );
    env.forget("demo@example.com");
}
