//! Hostile input for the iCalendar wrapper `connector::calendar` (issue 6, part 2.4).
//!
//! Properties: `summarize` and `occurrences` never panic (not even caught: `ParseError::Panicked`
//! counts as a failure), never hang (each call runs under a 5 s watchdog), never return more than
//! `MAX_OCCURRENCES_PER_OBJECT` occurrences, return them sorted, and refuse oversized objects with
//! `ParseError::TooLarge`. `cargo test -p connector --test calendar_hostile` runs the quick
//! version; `-- --ignored` the long one (seed printed; set `HOSTILE_SEED` to replay).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use connector::calendar::{
    occurrences, summarize, ObjectSummary, Occurrence, ParseError, MAX_OBJECT_BYTES,
    MAX_OCCURRENCES_PER_OBJECT,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// One call on hostile input must finish within this, in a debug build on a busy machine.
// Generous: debug builds on a loaded 2-core CI machine; a real hang never finishes at all.
const LIMIT: Duration = Duration::from_secs(30);
/// Calls run on a small stack: nothing may need deep recursion.
const STACK: usize = 1024 * 1024;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let f = files_in(&manifest_dir().join("tests/fixtures/ics"));
    assert!(f.len() >= 5, "ics fixtures missing");
    f
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

/// Runs `f` on its own thread; fails the test if it panics or takes longer than [`LIMIT`].
fn watchdog<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let handle = thread::Builder::new()
        .name("calendar-watchdog".into())
        .stack_size(STACK)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(LIMIT) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer after {:?} (hang?)", started.elapsed())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = handle.join();
            panic!("{what}: panicked outside the guard")
        }
    }
}

/// What one object gave: the summary and the occurrences in a few windows.
#[derive(Debug)]
struct Outcome {
    summary: Result<ObjectSummary, ParseError>,
    occurrences: Vec<Result<Vec<Occurrence>, ParseError>>,
}

/// Query windows: a normal year, a far-future one, one before everything, a tiny one.
fn windows() -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    vec![
        (utc(2026, 1, 1), utc(2027, 1, 1)),
        (utc(2400, 1, 1), utc(2401, 1, 1)),
        (utc(1900, 1, 1), utc(1901, 1, 1)),
        (
            utc(2026, 6, 1),
            Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 1).unwrap(),
        ),
    ]
}

fn check_error(what: &str, e: &ParseError) {
    assert!(
        !matches!(e, ParseError::Panicked),
        "{what}: the parser panicked (caught by the guard)"
    );
    let shown = e.to_string();
    assert!(shown.len() > 10, "{what}: vague error {shown:?}");
}

fn check(what: &str, out: &Outcome) {
    if let Err(e) = &out.summary {
        check_error(what, e);
    }
    for r in &out.occurrences {
        match r {
            Err(e) => check_error(what, e),
            Ok(v) => {
                assert!(
                    v.len() <= MAX_OCCURRENCES_PER_OBJECT,
                    "{what}: {} occurrences",
                    v.len()
                );
                let keys: Vec<i64> = v.iter().map(|o| o.start.to_utc_sort_key(Tz::UTC)).collect();
                assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{what}: unsorted");
            }
        }
    }
}

/// `summarize` plus `occurrences` in every window, each under the watchdog.
fn run_object(what: &str, raw: Vec<u8>) -> Outcome {
    run_object_in(what, raw, windows())
}

/// [`run_object`] with two windows (now, far future): for the many proptest cases.
fn run_object_quick(what: &str, raw: Vec<u8>) -> Outcome {
    run_object_in(what, raw, windows()[..2].to_vec())
}

fn run_object_in(what: &str, raw: Vec<u8>, wins: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> Outcome {
    let raw = std::sync::Arc::new(raw);
    let r = raw.clone();
    let summary = watchdog(&format!("{what}: summarize"), move || summarize(&r));
    let mut occ = Vec::new();
    for (from, to) in wins {
        let r = raw.clone();
        occ.push(watchdog(
            &format!("{what}: occurrences {from}..{to}"),
            move || occurrences(&r, from, to, Tz::Europe__Berlin),
        ));
    }
    let out = Outcome {
        summary,
        occurrences: occ,
    };
    check(what, &out);
    out
}

fn ics(lines: &[String]) -> Vec<u8> {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n");
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s.into_bytes()
}

fn event(extra: &[String]) -> Vec<String> {
    let mut v = vec![
        "BEGIN:VEVENT".to_owned(),
        "UID:bomb".to_owned(),
        "DTSTAMP:20260101T000000Z".to_owned(),
    ];
    v.extend_from_slice(extra);
    v.push("END:VEVENT".to_owned());
    v
}

fn s(x: &str) -> String {
    x.to_owned()
}

fn list(range: std::ops::Range<i32>) -> String {
    range.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn seconds_elapsed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
}

// ------------------------------------------------------------------------------------------------
// Fixtures: truncation, flips, invalid UTF-8, junk

#[test]
fn fixtures_parse() {
    for (name, raw) in fixtures() {
        let out = run_object(&name, raw);
        assert!(out.summary.is_ok(), "{name}: {:?}", out.summary);
    }
}

/// Runs `f` on every item on one worker thread; fails if any single call takes longer than
/// [`LIMIT`] (a per-call watchdog without a thread per call).
fn watch_each<T: Send + 'static, R: Send + 'static>(
    what: &str,
    items: Vec<T>,
    f: fn(&T) -> R,
) -> Vec<R> {
    let n = items.len();
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name("calendar-watch-each".into())
        .stack_size(STACK)
        .spawn(move || {
            for it in &items {
                if tx.send(f(it)).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        match rx.recv_timeout(LIMIT) {
            Ok(r) => out.push(r),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: item {i} took over {LIMIT:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                panic!("{what}: item {i} panicked")
            }
        }
    }
    let _ = handle.join();
    out
}

/// Prefixes of every fixture at every `step`-th position: summarize, and occurrences in 2026.
fn run_truncation(step: usize) -> usize {
    let mut cases = 0usize;
    for (name, raw) in fixtures() {
        let raw = std::sync::Arc::new(raw);
        let cuts: Vec<_> = (0..raw.len())
            .step_by(step)
            .map(|cut| (raw.clone(), cut))
            .collect();
        let results = watch_each(&name, cuts, |(r, cut)| {
            let p = &r[..*cut];
            let out = Outcome {
                summary: summarize(p),
                occurrences: vec![occurrences(
                    p,
                    utc(2026, 1, 1),
                    utc(2027, 1, 1),
                    Tz::Europe__Berlin,
                )],
            };
            (*cut, out)
        });
        for (cut, out) in results {
            cases += 1;
            check(&format!("{name}[..{cut}]"), &out);
        }
    }
    cases
}

/// Every 7th prefix of every fixture in the quick run (every prefix in the long run).
#[test]
fn truncation_of_every_fixture() {
    let (cases, secs) = seconds_elapsed(|| run_truncation(9));
    eprintln!("truncation: {cases} prefixes in {secs:.1} s");
    assert!(cases > 1_200, "{cases}");
}

fn fixture_index() -> impl Strategy<Value = usize> {
    0..5usize
}

fn bad_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0xFF]),
        Just(vec![0x80]),
        Just(vec![0xC0, 0x80]),
        Just(vec![0xC3]),
        Just(vec![0xE2, 0x82]),
        Just(vec![0xED, 0xA0, 0x80]),
        Just(vec![0xF4, 0x90, 0x80, 0x80]),
        Just(vec![0x00]),
        Just(b"\r\n ".to_vec()),
        Just(b"\r\n\t\xC3".to_vec()),
    ]
}

/// Lines that make the parser and the recurrence engine work hard.
fn nasty_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\r\nRRULE:FREQ=SECONDLY\r\n".to_vec()),
        Just(b"\r\nRRULE:FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,15,30,45;BYSETPOS=-1,1\r\n".to_vec()),
        Just(b"\r\nRDATE:20260101T000000Z,20260102T000000Z,99991231T235959Z\r\n".to_vec()),
        Just(b"\r\nEXDATE:20260101T000000Z\r\n".to_vec()),
        Just(b"\r\nBEGIN:VEVENT\r\nUID:bomb\r\nRECURRENCE-ID:20260105T090000Z\r\nDTSTART:20260105T100000Z\r\nEND:VEVENT\r\n".to_vec()),
        Just(b"\r\nDTSTART;TZID=Nowhere/Special:00000101T000000\r\n".to_vec()),
        Just(b"\r\nDURATION:-P99999W\r\n".to_vec()),
        Just(b"\r\nBEGIN:VCALENDAR\r\nBEGIN:VCALENDAR\r\n".to_vec()),
        Just(b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".to_vec()),
    ]
}

fn runner(cases: u32, seed: [u8; 32]) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

fn seed(label: &str) -> [u8; 32] {
    let n: u64 = std::env::var("HOSTILE_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
    eprintln!("{label}: HOSTILE_SEED={n}");
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&n.to_le_bytes());
    s
}

const DEFAULT_SEED: [u8; 32] = *b"calendar-connector-hostile-ics!!";

fn run_byte_flips(runner: &mut TestRunner) {
    let fx = fixtures();
    let flips = proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8);
    runner
        .run(&(fixture_index(), flips), |(i, flips)| {
            let (name, raw) = &fx[i];
            let mut b = raw.clone();
            for (at, byte) in &flips {
                let at = at.index(b.len());
                b[at] = *byte;
            }
            run_object_quick(name, b);
            Ok(())
        })
        .unwrap();
}

fn run_insertions(runner: &mut TestRunner) {
    let fx = fixtures();
    let piece = prop_oneof![bad_utf8(), nasty_line()];
    let inserts = proptest::collection::vec((any::<prop::sample::Index>(), piece), 1..4);
    runner
        .run(&(fixture_index(), inserts), |(i, inserts)| {
            let (name, raw) = &fx[i];
            let mut b = raw.clone();
            for (at, piece) in &inserts {
                let at = at.index(b.len() + 1);
                b.splice(at..at, piece.iter().copied());
            }
            run_object_quick(name, b);
            Ok(())
        })
        .unwrap();
}

fn run_trailing_junk(runner: &mut TestRunner) {
    let fx = fixtures();
    let full: Vec<_> = fx
        .iter()
        .map(|(n, r)| run_object_quick(n, r.clone()).summary)
        .collect();
    runner
        .run(
            &(
                fixture_index(),
                proptest::collection::vec(any::<u8>(), 1..300),
            ),
            |(i, junk)| {
                let (name, raw) = &fx[i];
                let mut b = raw.clone();
                b.extend_from_slice(b"\r\n");
                b.extend_from_slice(&junk);
                let out = run_object_quick(name, b);
                // Junk after END:VCALENDAR never changes what the object is.
                if let (Ok(got), Ok(want)) = (&out.summary, &full[i]) {
                    prop_assert_eq!(&got.uid, &want.uid, "{} + {:?}", name, junk);
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Random RRULEs from every part RFC 5545 has, including nonsense values.
fn rrule() -> impl Strategy<Value = String> {
    let freq = prop::sample::select(vec![
        "SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "BOGUS",
    ]);
    let nums = |lo: i32, hi: i32| proptest::collection::vec(lo..=hi, 1..8);
    let join = |v: Vec<i32>| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let day = prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU"]);
    let part = prop_oneof![
        (1u64..1000).prop_map(|n| format!("INTERVAL={n}")),
        Just(s("INTERVAL=0")),
        Just(s("INTERVAL=4294967296")),
        (0u64..100_000_000).prop_map(|n| format!("COUNT={n}")),
        Just(s("UNTIL=20261231T235959Z")),
        Just(s("UNTIL=20200101")),
        Just(s("UNTIL=99991231T235959Z")),
        nums(-5, 65).prop_map(move |v| format!("BYSECOND={}", join(v))),
        nums(-5, 65).prop_map(move |v| format!("BYMINUTE={}", join(v))),
        nums(-5, 30).prop_map(move |v| format!("BYHOUR={}", join(v))),
        nums(-40, 40).prop_map(move |v| format!("BYMONTHDAY={}", join(v))),
        nums(-400, 400).prop_map(move |v| format!("BYYEARDAY={}", join(v))),
        nums(-60, 60).prop_map(move |v| format!("BYWEEKNO={}", join(v))),
        nums(-2, 14).prop_map(move |v| format!("BYMONTH={}", join(v))),
        nums(-400, 400).prop_map(move |v| format!("BYSETPOS={}", join(v))),
        proptest::collection::vec((-60i32..60, day.clone()), 1..8).prop_map(|v| {
            let d: Vec<String> = v
                .iter()
                .map(|(n, d)| {
                    if *n == 0 {
                        d.to_string()
                    } else {
                        format!("{n}{d}")
                    }
                })
                .collect();
            format!("BYDAY={}", d.join(","))
        }),
        day.prop_map(|d| format!("WKST={d}")),
    ];
    (freq, proptest::collection::vec(part, 0..6)).prop_map(|(f, parts)| {
        let mut r = format!("RRULE:FREQ={f}");
        for p in parts {
            r.push(';');
            r.push_str(&p);
        }
        r
    })
}

fn dtstart() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "DTSTART:20260131T093000Z",
        "DTSTART;TZID=Europe/Berlin:20260329T023000",
        "DTSTART;VALUE=DATE:20240229",
        "DTSTART:20261231T235959",
        "DTSTART:19700101T000000Z",
        "DTSTART:99991231T235959Z",
        "DTSTART:00010101T000000Z",
    ])
    .prop_map(str::to_owned)
}

fn run_random_rules(runner: &mut TestRunner) {
    runner
        .run(&(dtstart(), rrule()), |(start, rule)| {
            let raw = ics(&event(&[start.clone(), rule.clone(), s("DURATION:PT1H")]));
            let what = format!("{start} {rule}");
            let out = run_object_quick(&what, raw);
            // Whatever was found in a window lies inside the window the cache stores.
            if let Ok(sum) = &out.summary {
                for occ in out.occurrences.iter().flatten().flatten() {
                    let st = occ.start.to_utc_sort_key(Tz::Europe__Berlin);
                    prop_assert!(
                        st >= sum.window_start - 2 * 86_400,
                        "{}: occurrence {} before window_start {}",
                        what,
                        st,
                        sum.window_start
                    );
                    if let Some(end) = sum.window_end {
                        prop_assert!(
                            st <= end + 2 * 86_400,
                            "{}: occurrence {} after window_end {}",
                            what,
                            st,
                            end
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

fn run_random_bytes(runner: &mut TestRunner) {
    let body = proptest::collection::vec(any::<u8>(), 0..400).prop_map(|b| {
        let mut v = b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n".to_vec();
        v.extend_from_slice(&b);
        v
    });
    runner
        .run(&body, |raw| {
            run_object_quick("random bytes", raw);
            Ok(())
        })
        .unwrap();
}

#[test]
fn random_byte_flips_in_fixtures() {
    run_byte_flips(&mut runner(200, DEFAULT_SEED));
}

#[test]
fn invalid_utf8_and_nasty_lines_inserted_anywhere() {
    run_insertions(&mut runner(200, DEFAULT_SEED));
}

#[test]
fn trailing_junk_changes_nothing() {
    run_trailing_junk(&mut runner(150, DEFAULT_SEED));
}

#[test]
fn random_recurrence_rules() {
    run_random_rules(&mut runner(200, DEFAULT_SEED));
}

#[test]
fn random_bytes_after_begin() {
    run_random_bytes(&mut runner(300, DEFAULT_SEED));
}

/// The long run: minutes, many more cases, seed printed (replay with HOSTILE_SEED).
#[test]
#[ignore = "long run (minutes): cargo test -p connector --test calendar_hostile -- --ignored"]
fn long_run() {
    let s = seed("calendar hostile long run");
    let started = Instant::now();
    let cases = run_truncation(1);
    eprintln!("truncation at every position: {cases} prefixes");
    run_byte_flips(&mut runner(1_500, s));
    run_insertions(&mut runner(1_500, s));
    run_trailing_junk(&mut runner(500, s));
    run_random_rules(&mut runner(4_000, s));
    run_random_bytes(&mut runner(2_000, s));
    eprintln!("long run done in {:?}", started.elapsed());
}

// ------------------------------------------------------------------------------------------------
// Enormous lines

#[test]
fn ten_megabyte_unfolded_line_is_too_large() {
    let line = format!("DESCRIPTION:{}", "x".repeat(10 * 1024 * 1024));
    let raw = ics(&event(&[s("DTSTART:20260101T090000Z"), line]));
    let out = run_object("10 MB line", raw.clone());
    assert_eq!(out.summary, Err(ParseError::TooLarge { bytes: raw.len() }));
    for r in out.occurrences {
        assert!(matches!(r, Err(ParseError::TooLarge { .. })));
    }
}

#[test]
fn ten_megabyte_folded_value_is_too_large() {
    let mut line = String::from("DESCRIPTION:");
    for _ in 0..(10 * 1024 * 1024 / 75) {
        line.push_str(&"y".repeat(74));
        line.push_str("\r\n ");
    }
    line.push('z');
    let raw = ics(&event(&[s("DTSTART:20260101T090000Z"), line]));
    let out = run_object("10 MB folded", raw);
    assert!(matches!(out.summary, Err(ParseError::TooLarge { .. })));
}

#[test]
fn line_just_under_the_size_limit_parses_in_bounded_time() {
    let pad = MAX_OBJECT_BYTES - 300;
    for (what, line) in [
        ("summary", format!("SUMMARY:{}", "é".repeat(pad / 2))),
        (
            "x-prop",
            format!("X-APPLE-STRUCTURED-DATA:{}", "A".repeat(pad)),
        ),
        ("folded", {
            let mut l = String::from("DESCRIPTION:");
            while l.len() < pad - 80 {
                l.push_str(&"q".repeat(72));
                l.push_str("\r\n ");
            }
            l
        }),
        (
            "one invalid utf-8 line",
            "X:".to_owned() + &"\u{fffd}".repeat(pad / 4),
        ),
    ] {
        let raw = ics(&event(&[s("DTSTART:20260101T090000Z"), line]));
        assert!(raw.len() <= MAX_OBJECT_BYTES, "{what}: {}", raw.len());
        let (out, secs) =
            seconds_elapsed(|| run_object_in(what, raw, vec![(utc(2026, 1, 1), utc(2027, 1, 1))]));
        eprintln!("{what}: {secs:.2} s");
        assert!(out.summary.is_ok(), "{what}: {:?}", out.summary);
    }
}

#[test]
fn raw_invalid_utf8_bytes_everywhere() {
    let mut raw = Vec::new();
    raw.extend_from_slice(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:\xFF\xFEbad\r\n");
    raw.extend_from_slice(b"DTSTART;TZID=\xC3\x28:20260101T090000\r\n");
    raw.extend_from_slice(b"SUMMARY:\xED\xA0\x80\xF4\x90\x80\x80\xC0\x80\r\n");
    raw.extend_from_slice(b"RRULE:FREQ=DAILY;COUNT=\xFF3\r\n");
    raw.extend_from_slice(b"END:VEVENT\r\nEND:VCALENDAR\r\n");
    let out = run_object("invalid utf-8", raw);
    assert!(out.summary.is_ok(), "{:?}", out.summary);
    // A body that is nothing but invalid bytes is unparseable, not a crash.
    let out = run_object("all 0xFF", vec![0xFF; 100_000]);
    assert!(matches!(out.summary, Err(ParseError::Unparseable { .. })));
}

// ------------------------------------------------------------------------------------------------
// Recurrence bombs: bounded output, no hang

fn assert_bounded(what: &str, raw: Vec<u8>) -> Outcome {
    let (out, secs) = seconds_elapsed(|| run_object(what, raw));
    eprintln!("{what}: {secs:.2} s for summarize + 4 windows");
    out
}

#[test]
fn secondly_every_second_forever() {
    let rule = format!("RRULE:FREQ=SECONDLY;BYSECOND={}", list(0..60));
    let out = assert_bounded(
        "SECONDLY BYSECOND=0..59",
        ics(&event(&[s("DTSTART:20200101T000000Z"), rule])),
    );
    let year = out.occurrences[0].as_ref().unwrap();
    assert_eq!(year.len(), MAX_OCCURRENCES_PER_OBJECT);
    assert_eq!(out.summary.unwrap().window_end, None);
}

#[test]
fn count_one_hundred_million() {
    for freq in ["SECONDLY", "MINUTELY", "DAILY"] {
        let rule = format!("RRULE:FREQ={freq};COUNT=100000000");
        let out = assert_bounded(
            &format!("{freq} COUNT=100000000"),
            ics(&event(&[s("DTSTART:20260101T000000Z"), rule])),
        );
        for o in out.occurrences.iter().flatten() {
            assert!(o.len() <= MAX_OCCURRENCES_PER_OBJECT);
        }
    }
    // COUNT with BY parts cannot be skipped ahead arithmetically.
    let rule = "RRULE:FREQ=MINUTELY;COUNT=100000000;BYSECOND=0,30;BYHOUR=1,2,3".to_owned();
    assert_bounded(
        "MINUTELY COUNT BY*",
        ics(&event(&[s("DTSTART:20000101T010000Z"), rule])),
    );
}

#[test]
fn candidate_explosion_in_one_period() {
    // One YEARLY period holds 366 days × 24 h × 60 min × 60 s = 31.6 million candidates.
    let rule = format!(
        "RRULE:FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={};BYMINUTE={};BYSECOND={}",
        list(0..24),
        list(0..60),
        list(0..60)
    );
    assert_bounded(
        "YEARLY × every second",
        ics(&event(&[s("DTSTART:20260101T000000Z"), rule.clone()])),
    );
    let with_setpos = format!("{rule};BYSETPOS=1,2,3,-1,-2,-3,100000,-100000");
    assert_bounded(
        "YEARLY × every second, BYSETPOS",
        ics(&event(&[s("DTSTART:20260101T000000Z"), with_setpos])),
    );
    let monthly = format!(
        "RRULE:FREQ=MONTHLY;BYMONTHDAY={};BYHOUR={};BYMINUTE={};BYSECOND={};BYSETPOS=-1;COUNT=50",
        list(1..32),
        list(0..24),
        list(0..60),
        list(0..60)
    );
    assert_bounded(
        "MONTHLY × every second, BYSETPOS=-1, COUNT",
        ics(&event(&[s("DTSTART:20260101T000000Z"), monthly])),
    );
}

#[test]
fn bysetpos_combinations() {
    let days = "BYDAY=MO,TU,WE,TH,FR,SA,SU,1MO,-1FR,53SU,-53MO";
    let setpos = format!("BYSETPOS={}", list(-366..367).replace(",0,", ","));
    for freq in ["YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"] {
        let rule = format!("RRULE:FREQ={freq};{days};BYHOUR=0,6,12,18;BYMINUTE=0,30;{setpos}");
        assert_bounded(
            &format!("{freq} BYSETPOS ±366"),
            ics(&event(&[s("DTSTART:20260101T000000Z"), rule])),
        );
    }
}

#[test]
fn rules_that_never_match() {
    for rule in [
        "RRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        "RRULE:FREQ=MINUTELY;BYYEARDAY=366;BYMONTH=1",
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31;COUNT=10",
        "RRULE:FREQ=DAILY;BYWEEKNO=53;BYMONTH=6",
        "RRULE:FREQ=HOURLY;INTERVAL=7;BYHOUR=25",
        "RRULE:FREQ=WEEKLY;UNTIL=19000101T000000Z",
        "RRULE:FREQ=SECONDLY;INTERVAL=4294967295",
    ] {
        assert_bounded(rule, ics(&event(&[s("DTSTART:20260101T000000Z"), s(rule)])));
    }
}

#[test]
fn thousands_of_rdates_and_exdates() {
    let rdates: Vec<String> = (0..20_000)
        .map(|i| {
            let t = utc(2026, 1, 1) + chrono::TimeDelta::minutes(i);
            t.format("%Y%m%dT%H%M%SZ").to_string()
        })
        .collect();
    let mut lines = vec![s("DTSTART:20260101T000000Z"), s("RRULE:FREQ=MINUTELY")];
    lines.push(format!("RDATE:{}", rdates.join(",")));
    for chunk in rdates.chunks(5).take(2_000) {
        lines.push(format!("EXDATE:{}", chunk.join(",")));
    }
    let raw = ics(&event(&lines));
    assert!(raw.len() < MAX_OBJECT_BYTES);
    let out = assert_bounded("20k RDATE + 10k EXDATE", raw);
    let year = out.occurrences[0].as_ref().unwrap();
    assert_eq!(year.len(), MAX_OCCURRENCES_PER_OBJECT);
}

#[test]
fn a_thousand_overrides() {
    let mut lines = event(&[
        s("DTSTART:20260101T090000Z"),
        s("DURATION:PT1H"),
        s("RRULE:FREQ=DAILY"),
    ]);
    for i in 0..1_000 {
        let day = utc(2026, 1, 1) + chrono::TimeDelta::days(i);
        let rid = day.format("%Y%m%dT090000Z");
        let moved = day.format("%Y%m%dT140000Z");
        lines.extend(event(&[
            format!("RECURRENCE-ID:{rid}"),
            format!("DTSTART:{moved}"),
            format!("SUMMARY:moved {i}"),
        ]));
    }
    let out = assert_bounded("1000 overrides", ics(&lines));
    let year = out.occurrences[0].as_ref().unwrap();
    assert_eq!(year.len(), 365);
    assert!(year.iter().all(|o| o.summary.as_deref() != Some("x")));
}

#[test]
fn thousands_of_events_in_one_object() {
    let mut lines = Vec::new();
    for i in 0..3_000 {
        lines.extend([
            s("BEGIN:VEVENT"),
            format!("UID:many-{i}"),
            s("DTSTART:20260101T000000Z"),
            s("RRULE:FREQ=HOURLY"),
            s("END:VEVENT"),
        ]);
    }
    let out = assert_bounded("3000 masters", ics(&lines));
    for o in out.occurrences.iter().flatten() {
        assert!(o.len() <= MAX_OCCURRENCES_PER_OBJECT);
    }
}

#[test]
fn vtimezone_bombs() {
    // A thousand observances, each with its own yearly rule.
    let mut lines = vec![s("BEGIN:VTIMEZONE"), s("TZID:Bomb/Zone")];
    for i in 0..1_000 {
        lines.extend([
            s("BEGIN:STANDARD"),
            format!("DTSTART:{:04}0101T000000", 1601 + i % 300),
            s("TZOFFSETFROM:+0100"),
            s("TZOFFSETTO:+0200"),
            s("RRULE:FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=0,1,2,3"),
            s("END:STANDARD"),
        ]);
    }
    lines.push(s("END:VTIMEZONE"));
    lines.extend(event(&[
        s("DTSTART;TZID=Bomb/Zone:20260101T090000"),
        s("RRULE:FREQ=DAILY"),
    ]));
    assert_bounded("1000 VTIMEZONE observances", ics(&lines));

    // Many distinct TZIDs, each pointing at a VTIMEZONE with a SECONDLY observance rule.
    let mut lines = Vec::new();
    for i in 0..200 {
        lines.extend([
            s("BEGIN:VTIMEZONE"),
            format!("TZID:Bomb/Zone{i}"),
            s("BEGIN:DAYLIGHT"),
            s("DTSTART:16010101T000000"),
            s("TZOFFSETFROM:+0100"),
            s("TZOFFSETTO:+0200"),
            s("RRULE:FREQ=SECONDLY"),
            s("END:DAYLIGHT"),
            s("END:VTIMEZONE"),
        ]);
    }
    lines.extend([
        s("BEGIN:VEVENT"),
        s("UID:tz"),
        s("DTSTART:20260101T000000Z"),
    ]);
    for i in 0..200 {
        lines.push(format!("EXDATE;TZID=Bomb/Zone{i}:20260101T000000"));
    }
    lines.push(s("END:VEVENT"));
    assert_bounded("200 TZIDs with SECONDLY observances", ics(&lines));
}

#[test]
fn extreme_dates_and_durations() {
    for lines in [
        vec![s("DTSTART:99991231T235959Z"), s("RRULE:FREQ=SECONDLY")],
        vec![s("DTSTART:00000101T000000Z"), s("RRULE:FREQ=YEARLY")],
        vec![s("DTSTART:20260101T000000Z"), s("DURATION:P99999999W")],
        vec![s("DTSTART:20260101T000000Z"), s("DURATION:-P99999999W")],
        vec![
            s("DTSTART:20260101T000000Z"),
            s("DTEND:99991231T235959Z"),
            s("RRULE:FREQ=SECONDLY;COUNT=4294967295"),
        ],
        vec![
            s("DTSTART;VALUE=DATE:20260101"),
            s("RRULE:FREQ=DAILY;INTERVAL=65535"),
            s("RDATE;VALUE=PERIOD:20260101T000000Z/P99999999D"),
        ],
    ] {
        let what = lines.join(" ");
        assert_bounded(&what, ics(&event(&lines)));
    }
}

#[test]
fn deep_component_nesting() {
    let depth = 20_000;
    let mut raw = b"BEGIN:VCALENDAR\r\n".to_vec();
    for _ in 0..depth {
        raw.extend_from_slice(b"BEGIN:VEVENT\r\n");
    }
    raw.extend_from_slice(b"UID:deep\r\nDTSTART:20260101T000000Z\r\n");
    for _ in 0..depth {
        raw.extend_from_slice(b"END:VEVENT\r\n");
    }
    raw.extend_from_slice(b"END:VCALENDAR\r\n");
    assert_bounded("20k nested VEVENT", raw);
}

// ------------------------------------------------------------------------------------------------
// Corpus replay

/// Every file in tests/corpus: summarize and occurrences in four windows, under the watchdog.
/// Files named `err__*` must fail to summarize (with a real error, not a caught panic); `ok__*`
/// must summarize; `any__*` only must not panic or hang.
#[test]
fn corpus_replay() {
    let corpus = files_in(&manifest_dir().join("tests/corpus"));
    assert!(corpus.len() >= 12, "corpus has {} files", corpus.len());
    for (name, raw) in corpus {
        let out = run_object(&name, raw);
        match name.split("__").next().unwrap_or("") {
            "ok" => assert!(out.summary.is_ok(), "{name}: {:?}", out.summary),
            "err" => assert!(out.summary.is_err(), "{name}: {:?}", out.summary),
            "any" => {}
            other => panic!("{name}: unknown expectation prefix {other:?}"),
        }
    }
}
