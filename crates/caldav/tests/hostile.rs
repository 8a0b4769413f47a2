//! Hostile input for the multistatus parser and the typed request parsers (issue 6, part 2.4).
//!
//! Properties: never panics, never hangs (every call runs under a watchdog on a small stack),
//! memory stays bounded, errors name what happened, DTD entities are never expanded or
//! resolved, `normalize_href` is idempotent. `cargo test -p caldav --test hostile` runs the quick
//! version; `cargo test -p caldav --test hostile -- --ignored` runs many more cases (set
//! `HOSTILE_SEED` to replay one run; the seed is printed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use caldav::{
    normalize_href, parse_multistatus, CalendarHomeSet, CalendarMultiget, CurrentUserPrincipal,
    DavError, DavRequest, ListCalendars, ListEtags, Multistatus, RawResponse, SyncCollection, Url,
    XmlError, CALDAV,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// One parse of hostile input must finish within this, in a debug build on a busy machine.
// Generous: debug builds on a loaded 2-core CI machine; a real hang never finishes at all.
const LIMIT: Duration = Duration::from_secs(30);
/// The parser runs on a deliberately small stack: deep input must not need recursion.
const STACK: usize = 256 * 1024;
/// Coarse memory bound: peak RSS of this test process. A billion-laughs expansion would blow far
/// past it; the 50 MB cases stay well under it.
const MAX_PEAK_RSS_KB: u64 = 1536 * 1024;

const HOME: &str = "https://p62-caldav.icloud.com:443/17149682/calendars/";
const COLL: &str = "https://p62-caldav.icloud.com:443/17149682/calendars/home/";

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
    let f = files_in(&manifest_dir().join("tests/fixtures"));
    assert!(f.len() >= 5, "fixtures missing");
    f
}

fn base() -> Url {
    Url::parse(COLL).unwrap()
}

/// Runs `f` on its own small-stack thread; fails the test if it panics or takes longer than
/// [`LIMIT`].
fn watchdog<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    let handle = thread::Builder::new()
        .name("hostile-watchdog".into())
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
            panic!("{what}: panicked")
        }
    }
}

/// What `parse_multistatus` made of a body, reduced to comparable values.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ok {
        /// `Debug` of the responses: stable, covers every field.
        responses: String,
        count: usize,
        sync_token: Option<String>,
    },
    NotMultistatus,
    Malformed {
        message: String,
    },
    BadHref,
}

fn outcome_of(r: &Result<Multistatus, XmlError>, body_len: usize) -> Outcome {
    match r {
        Ok(ms) => Outcome::Ok {
            responses: format!("{:?}", ms.responses),
            count: ms.responses.len(),
            sync_token: ms.sync_token.clone(),
        },
        Err(e) => {
            // Errors are specific: a user-facing message that says what was wrong.
            let shown = e.to_string();
            assert!(shown.len() > 20, "vague error {shown:?}");
            match e {
                XmlError::NotMultistatus { snippet } => {
                    assert!(snippet.chars().count() <= 80, "snippet too long");
                    assert!(!snippet.chars().any(char::is_control), "{snippet:?}");
                    Outcome::NotMultistatus
                }
                XmlError::Malformed { position, message }
                | XmlError::Truncated { position, message } => {
                    assert!(!message.is_empty());
                    assert!(
                        *position <= body_len as u64,
                        "position {position} beyond body of {body_len}"
                    );
                    Outcome::Malformed {
                        message: message.clone(),
                    }
                }
                XmlError::BadHref { .. } => Outcome::BadHref,
            }
        }
    }
}

/// Parses under the watchdog, then runs every typed parser on the same body, each call under its
/// own watchdog; returns the multistatus outcome.
fn parse_all(what: &str, body: Vec<u8>) -> Outcome {
    let body = bytes::Bytes::from(body);
    let b = body.clone();
    let out = watchdog(what, move || {
        let started = Instant::now();
        let out = outcome_of(&parse_multistatus(&b, &base()), b.len());
        (out, started.elapsed())
    });
    if out.1 > Duration::from_millis(500) {
        eprintln!("{what}: parse_multistatus took {:?}", out.1);
    }
    typed_parsers(what, &body, &out.0);
    out.0
}

/// `parse_multistatus` alone under the watchdog (for the 50 MB bodies: the typed parsers are
/// thin wrappers around it and would only repeat the same work six times).
fn parse_big(what: &str, body: Vec<u8>) -> Outcome {
    let (out, took) = watchdog(what, move || {
        let started = Instant::now();
        let out = outcome_of(&parse_multistatus(&body, &base()), body.len());
        (out, started.elapsed())
    });
    eprintln!("{what}: parse_multistatus took {took:?}");
    out
}

fn raw(body: &bytes::Bytes, url: &str) -> RawResponse {
    RawResponse {
        status: 207,
        headers: http::HeaderMap::new(),
        body: body.clone(),
        url: Url::parse(url).unwrap(),
    }
}

type Typed = fn(&bytes::Bytes) -> Result<(), DavError>;

/// Every typed parser on the same body (each under the watchdog): no panic, and an unusable body
/// is a `DavError::Xml` whenever `parse_multistatus` refused it. (A body it accepted can still
/// be an `Xml(BadHref)`: hrefs inside properties are resolved by the typed parsers.)
fn typed_parsers(what: &str, body: &bytes::Bytes, ms: &Outcome) {
    let parsers: [(&str, Typed); 6] = [
        ("ListCalendars", |b| {
            let v = ListCalendars {
                home: Url::parse(HOME).unwrap(),
            }
            .parse(&raw(b, HOME))?;
            for c in &v {
                if let Some(color) = &c.color {
                    assert_eq!(color.len(), 9, "{color}");
                }
            }
            Ok(())
        }),
        ("SyncCollection", |b| {
            SyncCollection {
                url: base(),
                token: Some("t".into()),
            }
            .parse(&raw(b, COLL))
            .map(drop)
        }),
        ("CalendarMultiget", |b| {
            let mg = CalendarMultiget {
                url: base(),
                hrefs: vec![base().join("a.ics").unwrap()],
            };
            let items = mg.parse(&raw(b, COLL))?;
            assert!(mg.missing(&items).len() <= 1);
            Ok(())
        }),
        ("ListEtags", |b| {
            ListEtags { url: base() }.parse(&raw(b, COLL)).map(drop)
        }),
        ("CurrentUserPrincipal", |b| {
            let root = "https://caldav.icloud.com/";
            CurrentUserPrincipal {
                url: Url::parse(root).unwrap(),
            }
            .parse(&raw(b, root))
            .map(drop)
        }),
        ("CalendarHomeSet", |b| {
            CalendarHomeSet { principal: base() }
                .parse(&raw(b, COLL))
                .map(drop)
        }),
    ];
    let xml_failed = !matches!(ms, Outcome::Ok { .. });
    for (name, parse) in parsers {
        let b = body.clone();
        let r = watchdog(&format!("{what}: {name}"), move || parse(&b));
        match r {
            Err(DavError::Xml(XmlError::BadHref { .. })) => {}
            Err(DavError::Xml(e)) => {
                assert!(xml_failed, "{what}: {name}: {e:?} but multistatus parsed")
            }
            Err(DavError::MissingProperty { .. }) | Ok(()) => {
                assert!(
                    !xml_failed,
                    "{what}: {name}: accepted a body the multistatus parser refused"
                )
            }
            Err(e @ (DavError::UnexpectedStatus { .. } | DavError::BadUrl(_))) => {
                panic!("{what}: {name}: unexpected {e:?}")
            }
        }
    }
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn assert_memory_bounded(what: &str) {
    if let Some(kb) = peak_rss_kb() {
        assert!(
            kb < MAX_PEAK_RSS_KB,
            "{what}: peak RSS {kb} KiB over {MAX_PEAK_RSS_KB} KiB"
        );
    }
}

fn wrap_prop(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/17149682/calendars/home/a.ics</d:href><d:propstat><d:prop>{inner}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>"#
    )
}

// ------------------------------------------------------------------------------------------------
// Truncation, junk, flips on recorded fixtures

#[test]
fn fixtures_parse_whole() {
    for (name, body) in fixtures() {
        let out = parse_all(&name, body);
        assert!(
            matches!(out, Outcome::Ok { count, .. } if count > 0),
            "{name}: {out:?}"
        );
    }
}

/// Every prefix of every fixture: an error (malformed, or not a multistatus when nothing
/// XML-like is left) unless the cut falls after the root element closed, in which case the
/// result is exactly the whole document's.
#[test]
fn truncation_at_every_position_of_every_fixture() {
    let mut cases = 0;
    for (name, body) in fixtures() {
        let full = parse_all(&name, body.clone());
        let root_end = find_last(&body, b"multistatus>").unwrap() + b"multistatus>".len();
        let root_start = find_first(&body, b"multistatus").unwrap();
        let root_start_end =
            root_start + body[root_start..].iter().position(|b| *b == b'>').unwrap();
        let body = Arc::new(body);
        let b = body.clone();
        let results = watchdog(&name, move || {
            (0..b.len())
                .map(|cut| {
                    let r = parse_multistatus(&b[..cut], &base());
                    (cut, outcome_of(&r, cut))
                })
                .collect::<Vec<_>>()
        });
        for (cut, out) in results {
            cases += 1;
            if cut >= root_end {
                assert_eq!(out, full, "{name} cut at {cut}");
                continue;
            }
            match out {
                Outcome::Malformed { .. } => {}
                Outcome::NotMultistatus => {
                    // Only when what is left has no complete start tag at all.
                    assert!(
                        cut <= root_start_end,
                        "{name} cut at {cut}: NotMultistatus for an XML prefix"
                    );
                }
                other => panic!("{name} cut at {cut}: {other:?}"),
            }
        }
        // The typed parsers see the same prefixes (sampled: they re-parse).
        for cut in (0..body.len()).step_by(7) {
            let out = parse_all(&format!("{name}[..{cut}]"), body[..cut].to_vec());
            assert!(!matches!(out, Outcome::Ok { .. }) || cut >= root_end);
        }
    }
    assert!(cases > 5_000, "{cases}");
}

fn find_first(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn junk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..200),
        Just(b"<d:response><d:href>/x</d:href></d:response>".to_vec()),
        Just(b"</d:multistatus></d:multistatus>".to_vec()),
        Just(b"<!DOCTYPE x [<!ENTITY a \"b\">]>&a;".to_vec()),
        Just(b"\xff\xfe\x00<".to_vec()),
        Just(
            b"<multistatus xmlns=\"DAV:\"><response><href>/evil</href></response></multistatus>"
                .to_vec()
        ),
    ]
}

fn fixture_index() -> impl Strategy<Value = usize> {
    0..5usize
}

fn flips() -> impl Strategy<Value = Vec<(prop::sample::Index, u8)>> {
    proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
}

/// Invalid UTF-8 sequences of every kind.
fn bad_utf8() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![0xFF]),
        Just(vec![0xFE, 0xFF]),
        Just(vec![0x80]),
        Just(vec![0xC0, 0x80]),
        Just(vec![0xC3]),
        Just(vec![0xE2, 0x82]),
        Just(vec![0xED, 0xA0, 0x80]),
        Just(vec![0xF4, 0x90, 0x80, 0x80]),
        Just(vec![0xF8, 0x88, 0x80, 0x80, 0x80]),
        Just(vec![0x00]),
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

/// Seed from `HOSTILE_SEED` (a u64) or the clock; printed either way.
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

/// Deterministic seed for the default run, so CI failures reproduce.
const DEFAULT_SEED: [u8; 32] = *b"calendar-connector-hostile-xml!!";

fn run_trailing_junk(runner: &mut TestRunner) {
    let fx = fixtures();
    let full: Vec<Outcome> = fx.iter().map(|(n, b)| parse_all(n, b.clone())).collect();
    runner
        .run(&(fixture_index(), junk()), |(i, junk)| {
            let (name, body) = &fx[i];
            let mut b = body.clone();
            b.extend_from_slice(&junk);
            let out = parse_all(name, b);
            prop_assert!(
                out == full[i] || !matches!(out, Outcome::Ok { .. }),
                "{name} + junk {junk:?}: {out:?}"
            );
            Ok(())
        })
        .unwrap();
}

fn run_byte_flips(runner: &mut TestRunner) {
    let fx = fixtures();
    runner
        .run(&(fixture_index(), flips()), |(i, flips)| {
            let (name, body) = &fx[i];
            let mut b = body.clone();
            for (at, byte) in &flips {
                let at = at.index(b.len());
                b[at] = *byte;
            }
            parse_all(name, b);
            Ok(())
        })
        .unwrap();
}

fn run_invalid_utf8(runner: &mut TestRunner) {
    let fx = fixtures();
    let inserts = proptest::collection::vec((any::<prop::sample::Index>(), bad_utf8()), 1..4);
    runner
        .run(&(fixture_index(), inserts), |(i, inserts)| {
            let (name, body) = &fx[i];
            let mut b = body.clone();
            for (at, bad) in &inserts {
                let at = at.index(b.len() + 1);
                b.splice(at..at, bad.iter().copied());
            }
            if let Outcome::Ok { responses, .. } = parse_all(name, b) {
                // Whatever was accepted is text, never raw bytes smuggled through.
                prop_assert!(!responses.contains(char::MIN), "NUL in {responses}");
            }
            Ok(())
        })
        .unwrap();
}

/// XML token soup: the pieces the parser switches on, glued in random order.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"<d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"[..]),
        Just(&b"</d:multistatus>"[..]),
        Just(&b"<d:response>"[..]),
        Just(&b"</d:response>"[..]),
        Just(&b"<d:href>"[..]),
        Just(&b"</d:href>"[..]),
        Just(&b"/17149682/calendars/home/x%40y.ics"[..]),
        Just(&b"http://[::1"[..]),
        Just(&b"<d:propstat>"[..]),
        Just(&b"</d:propstat>"[..]),
        Just(&b"<d:prop>"[..]),
        Just(&b"</d:prop>"[..]),
        Just(&b"<d:status>HTTP/1.1 200 OK</d:status>"[..]),
        Just(&b"<d:status>HTTP/1.1 99999999999 X</d:status>"[..]),
        Just(&b"<d:getetag>\"1\"</d:getetag>"[..]),
        Just(&b"<c:calendar-data>"[..]),
        Just(&b"</c:calendar-data>"[..]),
        Just(&b"<![CDATA[BEGIN:VCALENDAR]]>"[..]),
        Just(&b"<![CDATA["[..]),
        Just(&b"]]>"[..]),
        Just(&b"<d:sync-token>tok</d:sync-token>"[..]),
        Just(&b"<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"[..]),
        Just(&b"<x:a xmlns:x=\"urn:x\" k=\"&amp;&lt;\">"[..]),
        Just(&b"</x:a>"[..]),
        Just(&b"<y:b xmlns:y=\"\"/>"[..]),
        Just(&b"&amp;&#x1F600;&#0;&#xD800;&#1114112;"[..]),
        Just(&b"&lol;"[..]),
        Just(&b"<!DOCTYPE d [<!ENTITY lol \"lol\">]>"[..]),
        Just(&b"<!-- c -->"[..]),
        Just(&b"<?pi x?>"[..]),
        Just(&b"<?xml version=\"1.0\"?>"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xFF\xC3"[..]),
        Just(&b"<"[..]),
        Just(&b">"[..]),
        Just(&b"\""[..]),
        Just(&b" "[..]),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn run_soup(runner: &mut TestRunner) {
    runner
        .run(&soup(), |body| {
            parse_all("soup", body);
            Ok(())
        })
        .unwrap();
}

fn run_random_bytes(runner: &mut TestRunner) {
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |body| {
            parse_all("random bytes", body);
            Ok(())
        })
        .unwrap();
}

/// Hrefs built from the characters that matter to percent-normalization.
fn href() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9%./@~_:?#\\-]{0,40}",
        "(/|%|%%|%2|%2[eEfF]|%4[01]|%[0-9a-fA-F]{2}|[a-zA-Z0-9]|\\.\\.|\\.|@| |é|\\\\|\\?|#)*",
        any::<String>(),
    ]
}

fn run_normalize_href(runner: &mut TestRunner) {
    let base = base();
    runner
        .run(&href(), |raw| {
            if let Ok(once) = normalize_href(&base, &raw) {
                let twice = normalize_href(&base, once.as_str());
                prop_assert_eq!(twice.as_ref().ok(), Some(&once), "href {:?}", raw);
                // The path form is idempotent too, relative to the base.
                let by_path = normalize_href(&base, once.path()).unwrap();
                prop_assert_eq!(by_path.path(), once.path(), "href {:?}", raw);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn trailing_junk_errors_or_changes_nothing() {
    run_trailing_junk(&mut runner(300, DEFAULT_SEED));
}

#[test]
fn random_byte_flips_in_fixtures() {
    run_byte_flips(&mut runner(400, DEFAULT_SEED));
}

#[test]
fn invalid_utf8_anywhere_in_fixtures() {
    run_invalid_utf8(&mut runner(400, DEFAULT_SEED));
}

#[test]
fn xml_token_soup() {
    run_soup(&mut runner(400, DEFAULT_SEED));
}

#[test]
fn random_bytes() {
    run_random_bytes(&mut runner(300, DEFAULT_SEED));
}

#[test]
fn normalize_href_is_idempotent() {
    run_normalize_href(&mut runner(2_000, DEFAULT_SEED));
}

/// The long run: minutes, tens of thousands of cases, seed printed (replay with HOSTILE_SEED).
#[test]
#[ignore = "long run (minutes): cargo test -p caldav --test hostile -- --ignored"]
fn long_run() {
    let s = seed("caldav hostile long run");
    let started = Instant::now();
    run_trailing_junk(&mut runner(2_000, s));
    run_byte_flips(&mut runner(8_000, s));
    run_invalid_utf8(&mut runner(8_000, s));
    run_soup(&mut runner(8_000, s));
    run_random_bytes(&mut runner(5_000, s));
    run_normalize_href(&mut runner(50_000, s));
    eprintln!("long run done in {:?}", started.elapsed());
}

// ------------------------------------------------------------------------------------------------
// Deep nesting, enormous input

#[test]
fn deep_nesting_in_prop_is_refused_not_overflowed() {
    let depth = 100_000;
    let inner = format!(
        "{}x{}",
        "<x:a xmlns:x=\"urn:x\">".repeat(depth),
        "</x:a>".repeat(depth)
    );
    let out = parse_all("100k nested in prop", wrap_prop(&inner).into_bytes());
    match out {
        Outcome::Malformed { message } => assert!(message.contains("nested"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Unclosed, and in a privilege set the typed parsers walk.
    let inner = format!(
        "<d:current-user-privilege-set>{}",
        "<d:privilege>".repeat(depth)
    );
    assert!(matches!(
        parse_all("100k unclosed", wrap_prop(&inner).into_bytes()),
        Outcome::Malformed { .. }
    ));
}

#[test]
fn moderate_nesting_in_prop_still_parses() {
    let inner = format!(
        "<d:current-user-privilege-set>{}<d:write/>{}</d:current-user-privilege-set>",
        "<d:privilege>".repeat(30),
        "</d:privilege>".repeat(30)
    );
    assert!(matches!(
        parse_all("30 nested", wrap_prop(&inner).into_bytes()),
        Outcome::Ok { count: 1, .. }
    ));
}

#[test]
fn deep_nesting_outside_prop_is_handled_iteratively() {
    let depth = 100_000;
    let body = format!(
        "<d:multistatus xmlns:d=\"DAV:\">{}{}<d:response><d:href>/a.ics</d:href></d:response></d:multistatus>",
        "<z:a xmlns:z=\"urn:z\">".repeat(depth),
        "</z:a>".repeat(depth)
    );
    let out = parse_big("100k nested outside prop", body.into_bytes());
    assert!(
        matches!(out, Outcome::Ok { .. } | Outcome::Malformed { .. }),
        "{out:?}"
    );
}

#[test]
fn fifty_megabyte_calendar_data_line() {
    let line = "X".repeat(50 * 1024 * 1024);
    let body = wrap_prop(&format!(
        "<d:getetag>\"1\"</d:getetag><c:calendar-data>BEGIN:VCALENDAR\nSUMMARY:{line}\nEND:VCALENDAR</c:calendar-data>"
    ));
    drop(line);
    let body = bytes::Bytes::from(body.into_bytes());
    let len = body.len();
    let items = watchdog("50 MB calendar-data", move || {
        let mg = CalendarMultiget {
            url: base(),
            hrefs: vec![],
        };
        mg.parse(&raw(&body, COLL)).map(|items| {
            items
                .iter()
                .map(|i| i.data.as_ref().map_or(0, Vec::len))
                .collect::<Vec<_>>()
        })
    })
    .unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0] > 50 * 1024 * 1024 && items[0] < len);
    assert_memory_bounded("50 MB calendar-data");
}

#[test]
fn fifty_megabyte_text_nodes_elsewhere() {
    let big = "y".repeat(50 * 1024 * 1024);
    let cases = [
        (
            "unknown element",
            format!("<d:multistatus xmlns:d=\"DAV:\"><d:x>{big}</d:x></d:multistatus>"),
        ),
        (
            "href",
            format!("<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/{big}</d:href></d:response></d:multistatus>"),
        ),
        (
            "attribute",
            wrap_prop(&format!("<x:a xmlns:x=\"urn:x\" v=\"{big}\"/>")),
        ),
        (
            "unclosed text",
            format!("<d:multistatus xmlns:d=\"DAV:\"><d:sync-token>{big}"),
        ),
    ];
    drop(big);
    for (what, body) in cases {
        let out = parse_big(what, body.into_bytes());
        // An href that long is refused outright; everything else parses or is malformed.
        assert_eq!(
            matches!(out, Outcome::BadHref),
            what == "href",
            "{what}: {out:?}"
        );
        assert_memory_bounded(what);
    }
}

// ------------------------------------------------------------------------------------------------
// DTDs: entities are never expanded, external ones never resolved

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"#;

fn with_doctype(doctype: &str, inner: &str) -> Vec<u8> {
    let doc = wrap_prop(inner);
    let doc = doc.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    format!("{doctype}{doc}").into_bytes()
}

fn assert_refused(what: &str, body: Vec<u8>, entity: &str) {
    match parse_all(what, body) {
        Outcome::Malformed { message } => {
            assert!(
                message.contains(entity),
                "{what}: message {message:?} does not name entity {entity}"
            )
        }
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn billion_laughs_is_refused_unexpanded() {
    for (place, inner) in [
        ("text", "<d:displayname>&lol9;</d:displayname>"),
        (
            "calendar-data",
            "<c:calendar-data>BEGIN:VCALENDAR&lol9;</c:calendar-data>",
        ),
        ("attribute", "<x:a xmlns:x=\"urn:x\" v=\"&lol9;\"/>"),
    ] {
        assert_refused(place, with_doctype(BILLION_LAUGHS, inner), "lol9");
    }
    // In an href, and in an element the parser skips.
    let body = BILLION_LAUGHS.to_owned()
        + "<d:multistatus xmlns:d=\"DAV:\"><d:response><d:href>/&lol9;</d:href></d:response></d:multistatus>";
    assert_refused("href", body.into_bytes(), "lol9");
    let body = BILLION_LAUGHS.to_owned()
        + "<d:multistatus xmlns:d=\"DAV:\"><d:zz>&lol9;</d:zz></d:multistatus>";
    assert_refused("skipped element", body.into_bytes(), "lol9");
    // Declared but never referenced: harmless, the DTD is ignored.
    let out = parse_all(
        "unreferenced",
        with_doctype(BILLION_LAUGHS, "<d:displayname>x</d:displayname>"),
    );
    assert!(matches!(out, Outcome::Ok { count: 1, .. }), "{out:?}");
    assert_memory_bounded("billion laughs");
}

#[test]
fn quadratic_blowup_entity_is_refused() {
    // One big entity referenced many times (the "quadratic blowup" variant).
    let big = "A".repeat(100_000);
    let doctype = format!("<!DOCTYPE d [<!ENTITY a \"{big}\">]>");
    let refs = "&a;".repeat(100_000);
    assert_refused(
        "quadratic",
        with_doctype(&doctype, &format!("<d:displayname>{refs}</d:displayname>")),
        "a",
    );
    assert_memory_bounded("quadratic blowup");
}

#[test]
fn external_entities_are_never_resolved() {
    for (what, doctype, reference) in [
        (
            "SYSTEM file",
            "<!DOCTYPE d [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>",
            "&xxe;",
        ),
        (
            "PUBLIC http",
            "<!DOCTYPE d [<!ENTITY xxe PUBLIC \"-//x//EN\" \"http://127.0.0.1:9/evil.dtd\">]>",
            "&xxe;",
        ),
        (
            "parameter entity",
            "<!DOCTYPE d [<!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe;]>",
            "&pe;",
        ),
        (
            "external DTD",
            "<!DOCTYPE d SYSTEM \"file:///etc/passwd\">",
            "&passwd;",
        ),
    ] {
        let body = with_doctype(
            doctype,
            &format!("<d:displayname>{reference}</d:displayname>"),
        );
        let out = parse_all(what, body);
        match &out {
            Outcome::Malformed { message } => {
                assert!(!message.contains("root:"), "{what}: {message}")
            }
            Outcome::Ok { responses, .. } => {
                panic!("{what}: accepted an entity reference: {responses}")
            }
            other => panic!("{what}: {other:?}"),
        }
        // Same DTD, no reference: parsed, nothing from the file anywhere.
        let body = with_doctype(doctype, "<d:displayname>x</d:displayname>");
        if let Outcome::Ok { responses, .. } = parse_all(what, body) {
            assert!(!responses.contains("root:"), "{what}: {responses}");
        }
    }
}

#[test]
fn declared_internal_entity_is_not_substituted() {
    let body = with_doctype(
        "<!DOCTYPE d [<!ENTITY evil \"/17149682/calendars/other/\">]>",
        "<c:calendar-data>&evil;</c:calendar-data>",
    );
    assert_refused("internal entity", body, "evil");
}

#[test]
fn huge_doctype_is_skipped_in_bounded_time() {
    let dtd = format!("<!DOCTYPE d [{}]>", "<!ENTITY e \"x\">".repeat(1_000_000));
    let out = parse_big(
        "16 MB DTD",
        with_doctype(&dtd, "<d:displayname>x</d:displayname>"),
    );
    assert!(
        matches!(out, Outcome::Ok { .. } | Outcome::Malformed { .. }),
        "{out:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Corpus replay

/// Every file in tests/corpus. The file name says what is expected: `ok__*`, `malformed__*`,
/// `not_multistatus__*`, `bad_href__*`; `any__*` only must not panic or hang.
#[test]
fn corpus_replay() {
    let corpus = files_in(&manifest_dir().join("tests/corpus"));
    assert!(corpus.len() >= 12, "corpus has {} files", corpus.len());
    for (name, body) in corpus {
        let out = parse_all(&name, body);
        let expected = name.split("__").next().unwrap_or("");
        let ok = match expected {
            "ok" => matches!(out, Outcome::Ok { .. }),
            "malformed" => matches!(out, Outcome::Malformed { .. }),
            "not_multistatus" => matches!(out, Outcome::NotMultistatus),
            "bad_href" => matches!(out, Outcome::BadHref),
            "any" => true,
            other => panic!("{name}: unknown expectation prefix {other:?}"),
        };
        assert!(ok, "{name}: expected {expected}, got {out:?}");
    }
}

#[test]
fn calendar_data_cdata_survives_byte_for_byte() {
    // Sanity for the harness: what goes into calendar-data comes out unchanged.
    let body = wrap_prop("<c:calendar-data><![CDATA[A&amp;<b>\r\n]]></c:calendar-data>");
    let ms = parse_multistatus(body.as_bytes(), &base()).unwrap();
    assert_eq!(
        ms.responses[0].prop(CALDAV, "calendar-data").unwrap().text,
        "A&amp;<b>\r\n"
    );
}
