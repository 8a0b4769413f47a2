//! The CLI against a real Radicale 3 (started by the test from the venv scripts/install-deps.sh makes):
//! generic discovery (`/.well-known/caldav`, principal `/<user>/`), a calendar with more than 10,000
//! events (stock Radicale refuses a single REPORT over 10,000 VEVENTs, so batching must pass it),
//! non-ASCII text, recurrences, time zones, incremental PUT/DELETE, and export matching the server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use e2e::{counts, Env, Radicale};

const USER: &str = "alice";
const PASS: &str = "alice-secret-1";

const VTZ_BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

fn event(i: usize, summary: &str) -> String {
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days((i % 90) as i64 - 30);
    let d = day.format("%Y%m%d");
    let body = match i % 5 {
        0 => format!("DTSTART;TZID=Europe/Berlin:{d}T090000\r\nDTEND;TZID=Europe/Berlin:{d}T100000\r\nRRULE:FREQ=WEEKLY;COUNT=10\r\n"),
        1 => {
            let next = (day + chrono::Duration::days(1)).format("%Y%m%d");
            format!("DTSTART;VALUE=DATE:{d}\r\nDTEND;VALUE=DATE:{next}\r\n")
        }
        2 => format!("DTSTART:{d}T120000Z\r\nDTEND:{d}T130000Z\r\n"),
        3 => format!("DTSTART;TZID=Europe/Berlin:{d}T180000\r\nDTEND;TZID=Europe/Berlin:{d}T190000\r\n"),
        _ => format!("DTSTART:{d}T070000\r\nDTEND:{d}T073000\r\n"),
    };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//e2e//EN\r\n{VTZ_BERLIN}BEGIN:VEVENT\r\nUID:ev-{i}@e2e.example\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:{summary}\r\nLOCATION:Café Zürich\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn collection(home: &Path, slug: &str, name: &str, n: usize, offset: usize) {
    let dir = home.join(slug);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".Radicale.props"),
        format!(r##"{{"C:supported-calendar-component-set": "VEVENT", "D:displayname": "{name}", "ICAL:calendar-color": "#FF2968FF", "tag": "VCALENDAR"}}"##),
    )
    .unwrap();
    for i in 0..n {
        let summary = if i % 3 == 0 {
            format!("Übung {i} — 会議 🎉")
        } else {
            format!("Meeting {i}")
        };
        std::fs::write(
            dir.join(format!("ev-{}.ics", i + offset)),
            event(i + offset, &summary),
        )
        .unwrap();
    }
}

async fn put(client: &reqwest::Client, url: &str, body: String) {
    let r = client
        .put(url)
        .basic_auth(USER, Some(PASS))
        .header("content-type", "text/calendar")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

async fn get(client: &reqwest::Client, url: &str) -> String {
    let r = client
        .get(url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn radicale_two_calendars_one_over_10000_events_incremental_changes_and_export() {
    if connector::credentials::CredentialStore::check_available().is_err() {
        assert!(
            std::env::var_os("REQUIRE_KEYCHAIN").is_none(),
            "keychain required"
        );
        return;
    }
    // The test command (REQUIRE_KEYCHAIN) and CI install Radicale: there a missing one fails below.
    if e2e::radicale_bin().is_none()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("REQUIRE_KEYCHAIN").is_none()
    {
        eprintln!("skipping: Radicale not installed (scripts/install-deps.sh)");
        return;
    }
    let server = tokio::task::spawn_blocking(|| {
        Radicale::start(&[(USER, PASS)], |root| {
            let home = root.join(USER);
            collection(&home, "big", "Big", 10_001, 0);
            collection(&home, "small", "Small", 50, 100_000);
        })
    })
    .await
    .unwrap();
    // Radicale builds its item cache on the first full read of a collection (about 26 s for 10,001
    // items on 2 cores); do that untimed, as the bench harness does, so the sync itself is measured.
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .unwrap();
    for cal in ["big", "small"] {
        let r = client
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{}{USER}/{cal}/", server.url),
            )
            .basic_auth(USER, Some(PASS))
            .header("depth", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 207);
        r.bytes().await.unwrap();
    }
    let env = Env::new();
    let r = env.link(&server.url, USER, PASS).await;
    assert_eq!(
        r.code, 0,
        "link+first sync against Radicale:\n{}\n{}",
        r.stdout, r.stderr
    );
    let c = counts(&env.status().await);
    assert_eq!(c.get("Big"), Some(&10_001), "{c:?}");
    assert_eq!(c.get("Small"), Some(&50), "{c:?}");

    // Incremental changes through the server itself.
    let small = format!("{}{USER}/small/", server.url);
    let big = format!("{}{USER}/big/", server.url);
    put(
        &client,
        &format!("{small}new-1.ics"),
        event(200_001, "Neu: Straße"),
    )
    .await;
    put(
        &client,
        &format!("{small}new-2.ics"),
        event(200_002, "New two"),
    )
    .await;
    put(
        &client,
        &format!("{big}ev-7.ics"),
        event(7, "Renamed seven"),
    )
    .await;
    let d = client
        .delete(format!("{small}ev-100003.ics"))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    assert!(d.status().is_success());
    let r = env.run_async(&["sync"], None).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("3 downloaded, 1 removed"), "{}", r.stdout);
    let c = counts(&env.status().await);
    assert_eq!((c["Big"], c["Small"]), (10_001, 51));

    let today = chrono::Utc::now().date_naive();
    let r = env
        .run_async(
            &[
                "events",
                "--from",
                &(today - chrono::Duration::days(40)).to_string(),
                "--to",
                &(today + chrono::Duration::days(200)).to_string(),
                "--calendar",
                "Big",
                "--json",
            ],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let evs = r.json();
    let evs = evs.as_array().unwrap();
    assert!(evs.iter().any(|e| e["summary"] == "Renamed seven"));
    assert!(evs
        .iter()
        .any(|e| e["summary"].as_str().unwrap().contains("会議 🎉")));
    // Weekly 09:00 Europe/Berlin keeps its wall-clock time.
    let weekly: Vec<_> = evs
        .iter()
        .filter(|e| e["uid"] == "ev-0@e2e.example")
        .collect();
    assert_eq!(weekly.len(), 10);
    assert!(weekly
        .iter()
        .all(|e| e["start"].as_str().unwrap().contains("T09:00:00+0")));

    // Export matches what the server serves (modulo CRLF/LF, which XML normalises).
    let out = env.dir.path().join("vdir");
    let r = env
        .run_async(
            &["export", "--format", "vdir", "--out", out.to_str().unwrap()],
            None,
        )
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dirs: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let small_dir = dirs
        .iter()
        .find(|p| p.to_string_lossy().ends_with("Small"))
        .unwrap();
    let big_dir = dirs
        .iter()
        .find(|p| p.to_string_lossy().ends_with("Big"))
        .unwrap();
    assert_eq!(std::fs::read_dir(small_dir).unwrap().count(), 51);
    assert_eq!(std::fs::read_dir(big_dir).unwrap().count(), 10_001);
    let norm = |s: &str| s.replace("\r\n", "\n");
    for name in ["new-1.ics", "new-2.ics", "ev-100000.ics", "ev-100049.ics"] {
        let served = get(&client, &format!("{small}{name}")).await;
        let exported = std::fs::read_to_string(small_dir.join(name)).unwrap();
        assert_eq!(norm(&exported), norm(&served), "{name}");
    }
    for name in ["ev-7.ics", "ev-0.ics", "ev-10000.ics", "ev-5000.ics"] {
        let served = get(&client, &format!("{big}{name}")).await;
        let exported = std::fs::read_to_string(big_dir.join(name)).unwrap();
        assert_eq!(norm(&exported), norm(&served), "{name}");
    }
    env.forget(USER);
}
