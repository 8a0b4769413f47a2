//! Generated objects (§3.4 traits included) and serving an ics directory.

use icloud_sim::{CalendarSpec, Component, Sim, SimConfig};

use crate::client::*;

fn cfg(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        base_date: base_date(),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let a = Sim::start(cfg(7)).await.unwrap();
    let b = Sim::start(cfg(7)).await.unwrap();
    let c = Sim::start(cfg(8)).await.unwrap();
    for slug in ["home", "work", "reminders"] {
        assert_eq!(a.objects(slug), b.objects(slug));
        assert_ne!(a.objects(slug), c.objects(slug));
    }
    assert_eq!(a.add_events("home", 2), b.add_events("home", 2));
    assert_eq!(a.objects("home"), b.objects("home"));
}

#[tokio::test]
async fn generated_data_is_realistic_and_nasty() {
    let sim = start().await;
    let home = sim.objects("home");
    assert_eq!(home.len(), 40);
    let all: Vec<String> = home
        .iter()
        .map(|(_, _, b)| String::from_utf8(b.clone()).unwrap())
        .collect();
    let any = |needle: &str| all.iter().any(|t| t.contains(needle));
    for needle in [
        "TZID=Europe/Berlin",
        "TZID:America/New_York",
        "DTSTART;VALUE=DATE:",
        "RRULE:FREQ=",
        "EXDATE",
        "RECURRENCE-ID",
        "X-APPLE-MAPKIT-HANDLE=",
        "TZID=GMT-0400",
        "ACTION:NONE",
        "TRIGGER;VALUE=DATE-TIME:19760401T005545Z",
        "RELTYPE=X-CALENDARSERVER-RECURRENCE-SET",
    ] {
        assert!(any(needle), "no object has {needle}");
    }
    assert!(
        all.iter().any(|t| t.matches("\r\nDTSTAMP:").count() == 2),
        "duplicate DTSTAMP"
    );
    assert!(all.iter().any(|t| !t.is_ascii()), "non-ASCII text");
    let on_base_date = all
        .iter()
        .filter(|t| t.contains("DTSTART") && t.contains(":20250602"))
        .count();
    assert!(on_base_date >= 3, "{on_base_date} events on the base date");
    assert!(home.iter().any(|(h, _, _)| h.contains('@')));
    for (_, etag, _) in &home {
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() == 10,
            "{etag}"
        );
    }
    let todos = sim.objects("reminders");
    assert_eq!(todos.len(), 3);
    assert!(todos
        .iter()
        .all(|(_, _, b)| String::from_utf8_lossy(b).contains("BEGIN:VTODO")));
}

#[tokio::test]
async fn broken_percent_makes_objects_unparseable_but_multiget_stays_well_formed() {
    let sim = Sim::start(SimConfig {
        broken_percent: 100.0,
        ..cfg(3)
    })
    .await
    .unwrap();
    let objects = sim.objects("home");
    let broken = objects
        .iter()
        .filter(|(_, _, b)| {
            let t = String::from_utf8_lossy(b);
            !t.ends_with("END:VCALENDAR\r\n") || t.contains("2024-13-45") || t.contains("NO COLON")
        })
        .count();
    assert_eq!(
        broken,
        objects.len() - 4,
        "all but the four base-date events"
    );
    let hrefs: Vec<String> = objects.iter().map(|(h, _, _)| listed(h)).collect();
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("1"),
        &multiget_body(&hrefs),
    )
    .await;
    let mut reader = quick_xml::Reader::from_reader(r.body.as_slice());
    let mut buf = Vec::new();
    while !matches!(
        reader.read_event_into(&mut buf).unwrap(),
        quick_xml::events::Event::Eof
    ) {
        buf.clear();
    }
}

#[tokio::test]
async fn twenty_thousand_events_generate_fast() {
    let mut c = cfg(1);
    c.calendars = vec![CalendarSpec::new(
        "big",
        "Big",
        "#1BADF8FF",
        Component::Vevent,
        20_000,
    )];
    let t = std::time::Instant::now();
    let sim = Sim::start(c).await.unwrap();
    let took = t.elapsed();
    assert_eq!(sim.objects("big").len(), 20_000);
    assert!(took.as_secs_f64() < 10.0, "{took:?}");
}

#[tokio::test]
async fn ics_dir_serves_files_byte_for_byte() {
    let dir = std::env::temp_dir().join(format!("icloud-sim-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("privat")).unwrap();
    std::fs::create_dir_all(dir.join("todo")).unwrap();
    let ev = b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART:20250602T100000Z\nDTEND:20250602T110000Z\nEND:VEVENT\nEND:VCALENDAR\n";
    std::fs::write(dir.join("privat").join("a@b.ics"), ev).unwrap();
    std::fs::write(dir.join("privat").join("ignored.txt"), b"x").unwrap();
    std::fs::write(
        dir.join("todo").join("t.ics"),
        b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    let sim = Sim::start(SimConfig {
        ics_dir: Some(dir.clone()),
        ..cfg(1)
    })
    .await
    .unwrap();
    let objects = sim.objects("privat");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].0, format!("/{DSID}/calendars/privat/a@b.ics"));
    let r = dav(&sim.partition_url(), "GET", &objects[0].0, None, "").await;
    assert_eq!(r.body, ev);
    let body = r#"<propfind xmlns="DAV:"><prop><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"/></prop></propfind>"#;
    let r = dav(
        &sim.partition_url(),
        "PROPFIND",
        &cal_path("todo"),
        Some("0"),
        body,
    )
    .await;
    assert!(r.text().contains(r#"<comp name="VTODO"/>"#));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn put_and_delete_through_dav_and_the_api() {
    let sim = start().await;
    let auth = good_auth();
    let href = format!("{}new@example.com.ics", cal_path("work"));
    let ics = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:new@example.com\r\nDTSTART:20250602T100000Z\r\nDTEND:20250602T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let mut conn = Conn::open(&sim.partition_url()).await;
    let r = conn
        .request(
            "PUT",
            &href,
            &[("Authorization", &auth), ("If-None-Match", "*")],
            ics,
        )
        .await;
    assert_eq!(r.status, 201);
    let etag = r.header("ETag").unwrap().to_owned();
    assert!(sim
        .objects("work")
        .iter()
        .any(|(h, e, b)| h == &href && e == &etag && b == ics));
    let no_end = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:y\r\nDTSTART:20250602T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let r = conn
        .request(
            "PUT",
            &format!("{}y.ics", cal_path("work")),
            &[("Authorization", &auth)],
            no_end,
        )
        .await;
    assert_eq!(r.status, 404, "§3.5");
    let r = conn
        .request("DELETE", &href, &[("Authorization", &auth)], b"")
        .await;
    assert_eq!(r.status, 204);
    let put = sim.put_object("work", "z@example.com.ics", ics.to_vec());
    assert_eq!(put, format!("{}z@example.com.ics", cal_path("work")));
    assert!(sim.delete_object(&listed(&put)));
    assert!(!sim.delete_object(&put));
}
