//! docs/icloud.md §3.3 and §1.5: multiget, per-item 404s, '@' vs '%40'.

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::client::*;
use icloud_sim::Scenario;

/// (href, calendar-data) pairs, decoded the way an XML parser sees them (no newline normalisation).
fn calendar_data(body: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let mut reader = Reader::from_reader(body);
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut href = String::new();
    let mut data: Option<Vec<u8>> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            Event::End(e) => {
                if e.local_name().as_ref() == b"response" {
                    out.push((std::mem::take(&mut href), data.take()));
                }
                path.pop();
            }
            Event::Text(t) => match path.last().map(String::as_str) {
                Some("href") if path.len() == 3 => href = t.unescape().unwrap().into_owned(),
                Some("calendar-data") => data
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(t.unescape().unwrap().as_bytes()),
                _ => {}
            },
            Event::CData(c) => data
                .get_or_insert_with(Vec::new)
                .extend_from_slice(&c.into_inner()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

#[tokio::test]
async fn multiget_returns_byte_identical_data_in_cdata_and_escaped_form_and_404s_a_missing_href() {
    let sim = start().await;
    let objects = sim.objects("home");
    let mut hrefs: Vec<String> = objects.iter().map(|(h, _, _)| listed(h)).collect();
    // Both '@' and '%40' forms are accepted inside a multiget.
    hrefs[0] = objects[0].0.clone();
    let missing = format!("{}does-not-exist.ics", cal_path("home"));
    hrefs.push(missing.clone());
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("1"),
        &multiget_body(&hrefs),
    )
    .await;
    assert_eq!(r.status, 207);
    let text = r.text();
    assert!(
        text.contains("<![CDATA[BEGIN:VCALENDAR"),
        "some objects in CDATA"
    );
    assert!(
        text.contains("BEGIN:VCALENDAR&#13;\n"),
        "some objects escaped"
    );
    let items = calendar_data(&r.body);
    assert_eq!(items.len(), objects.len() + 1);
    for ((href, data), (plain, _, bytes)) in items.iter().zip(&objects) {
        assert_eq!(href, &listed(plain));
        assert_eq!(data.as_deref(), Some(bytes.as_slice()), "{href}");
    }
    let last = r.responses().pop().unwrap();
    assert!(
        last.contains(&missing) && last.contains("404 Not Found") && !last.contains("propstat")
    );
    let s = sim.stats();
    assert_eq!(
        (s.multiget, s.multiget_hrefs),
        (1, objects.len() as u64 + 1)
    );
}

#[tokio::test]
async fn get_of_a_percent_40_href_is_404_and_the_at_form_works() {
    let sim = start().await;
    let (href, etag, bytes) = sim
        .objects("home")
        .into_iter()
        .find(|(h, _, _)| h.contains('@'))
        .expect("an '@' object");
    let r = dav(&sim.partition_url(), "GET", &listed(&href), None, "").await;
    assert_eq!(r.status, 404);
    let r = dav(&sim.partition_url(), "GET", &href, None, "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("ETag"), Some(etag.as_str()));
    assert_eq!(r.body, bytes);
    assert_eq!(sim.stats().get, 2);
}

#[tokio::test]
async fn multiget_item_404_scenario_drops_every_nth_listed_href() {
    let sim = start().await;
    sim.set_scenario(Scenario::MultigetItem404_3_3 { every_nth: 3 });
    let hrefs: Vec<String> = sim
        .objects("work")
        .iter()
        .take(9)
        .map(|(h, _, _)| listed(h))
        .collect();
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("work"),
        Some("1"),
        &multiget_body(&hrefs),
    )
    .await;
    let items = calendar_data(&r.body);
    assert_eq!(items.len(), 9);
    for (i, (href, data)) in items.iter().enumerate() {
        assert_eq!(href, &hrefs[i]);
        assert_eq!(data.is_none(), (i + 1) % 3 == 0, "{i}");
    }
}

#[tokio::test]
async fn multiget_of_500_hrefs_out_of_20000_is_fast() {
    let mut cfg = icloud_sim::SimConfig {
        base_date: base_date(),
        ..Default::default()
    };
    cfg.calendars[0].events = 20_000;
    let t = std::time::Instant::now();
    let sim = icloud_sim::Sim::start(cfg).await.unwrap();
    let started = t.elapsed();
    let hrefs: Vec<String> = sim
        .objects("home")
        .iter()
        .step_by(40)
        .map(|(h, _, _)| listed(h))
        .collect();
    assert_eq!(hrefs.len(), 500);
    let t = std::time::Instant::now();
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("1"),
        &multiget_body(&hrefs),
    )
    .await;
    let multiget = t.elapsed();
    assert_eq!(r.responses().len(), 500);
    let t = std::time::Instant::now();
    let r = dav(
        &sim.partition_url(),
        "REPORT",
        &cal_path("home"),
        Some("0"),
        &sync_body(""),
    )
    .await;
    let listing = t.elapsed();
    assert_eq!(r.responses().len(), 20_001);
    // Generous bounds for unoptimised test builds on a shared machine; release is ~10x faster.
    assert!(started.as_secs_f64() < 10.0, "start {started:?}");
    assert!(multiget.as_secs_f64() < 2.0, "multiget {multiget:?}");
    assert!(listing.as_secs_f64() < 3.0, "listing {listing:?}");
}
