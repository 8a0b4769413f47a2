//! Published calendars: a calendar someone shared publicly is an `.ics` feed read by URL, without a
//! password (QUIRK(icloud §1.9): iCloud hands out `webcal://pNN-caldav.icloud.com/published/2/…`).
//! This module recognises such links (and CalDAV hosts pasted where a server is expected), turns a
//! `webcal://` link into the URL fetched, and splits a feed into one object per UID so the per-object
//! parse, quarantine and summary pipeline of a sync stores it.

use caldav::Url;

use crate::error::{Error, Result};
use crate::icloud::session::is_loopback;

/// Whether `input` is a link to a published calendar: `webcal://`, `webcals://` or `https://` (or
/// `http://`) with a path under `/published/` (iCloud's shape, on `pNN-caldav.icloud.com` or any other
/// host).
pub fn is_published_calendar_link(input: &str) -> bool {
    let s = input.trim();
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if !["webcal", "webcals", "https", "http"].contains(&scheme.to_ascii_lowercase().as_str()) {
        return false;
    }
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    path.starts_with("/published/") && path.len() > "/published/".len()
}

/// Whether `host` is one of iCloud's partition hosts (`p42-caldav.icloud.com`, QUIRK(icloud §1.3)).
fn is_partition_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let Some(first) = host
        .strip_suffix(".icloud.com")
        .or_else(|| host.strip_suffix(".icloud.com.cn"))
    else {
        return false;
    };
    first
        .strip_prefix('p')
        .and_then(|r| r.strip_suffix("-caldav"))
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// What to start discovery from when a person pasted `input` in the server field: an iCloud partition
/// host or a calendar URL on one (`p42-caldav.icloud.com`,
/// `https://p42-caldav.icloud.com/123/calendars/home/`) becomes `https://caldav.icloud.com/`, because
/// discovery starts there and the partition is not an identity (QUIRK(icloud §1.1), §1.4). None for
/// anything else (used as typed) and for a published link (see [`is_published_calendar_link`]).
pub fn caldav_host_hint(input: &str) -> Option<String> {
    let s = input.trim();
    if s.is_empty() || is_published_calendar_link(s) {
        return None;
    }
    let with_scheme = if s.contains("://") {
        s.to_owned()
    } else {
        format!("https://{s}")
    };
    let u = Url::parse(&with_scheme).ok()?;
    let host = u.host_str()?;
    if !is_partition_host(host) {
        return None;
    }
    let hint = if host.to_ascii_lowercase().ends_with(".cn") {
        "https://caldav.icloud.com.cn/".to_owned()
    } else {
        "https://caldav.icloud.com/".to_owned()
    };
    (hint != s).then_some(hint)
}

/// The URL a published link is fetched from: `webcal://` becomes `https://` (`http://` on a loopback
/// host, where the simulator runs), `webcals://` `https://`; the fragment is dropped. Plain `http://`
/// is refused except on loopback.
pub fn feed_url(input: &str) -> Result<Url> {
    let s = input.trim();
    let bad = |why: &str| {
        Error::Usage(format!(
            "{s:?} is not a calendar link ({why}); paste the whole link, such as \
             webcal://p42-caldav.icloud.com/published/2/…"
        ))
    };
    let (scheme, rest) = s.split_once("://").ok_or_else(|| bad("it has no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let probe = Url::parse(&format!("https://{rest}")).map_err(|e| bad(&e.to_string()))?;
    let target = match scheme.as_str() {
        "webcal" if is_loopback(&probe) => "http",
        "webcal" | "webcals" | "https" => "https",
        "http" if is_loopback(&probe) => "http",
        "http" => {
            return Err(Error::Usage(format!(
                "{s:?} uses plain http://, which anyone on the network could change; use the \
                 https:// or webcal:// link"
            )))
        }
        _ => return Err(bad("it must start with webcal:// or https://")),
    };
    let mut u = Url::parse(&format!("{target}://{rest}")).map_err(|e| bad(&e.to_string()))?;
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    // A subscription sends no credentials, not even ones written into the link.
    if !u.username().is_empty() || u.password().is_some() {
        return Err(Error::Usage(
            "this link has a user name or password in it; a public calendar needs none, and none \
             is sent. Paste the link without them"
                .into(),
        ));
    }
    u.set_fragment(None);
    Ok(u)
}

/// A feed split into objects, with the calendar's own properties.
#[derive(Debug, Default)]
pub struct SplitFeed {
    /// `X-WR-CALNAME`.
    pub name: Option<String>,
    /// `X-APPLE-CALENDAR-COLOR`.
    pub color: Option<String>,
    /// (UID, one VCALENDAR with every component of that UID and the time zones it needs), in feed
    /// order.
    pub objects: Vec<(String, Vec<u8>)>,
}

/// Why a feed was not read; nothing cached is changed.
fn not_a_calendar(detail: &str) -> String {
    format!(
        "the link did not return a calendar ({detail}); nothing was changed. Check that the link is \
         complete and still shared"
    )
}

/// One content line (folded continuation lines joined), with the raw lines it spans.
struct Line<'a> {
    unfolded: String,
    raw: Vec<&'a str>,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out: Vec<Line<'_>> = Vec::new();
    for raw in text.split_inclusive('\n') {
        let bare = raw.trim_end_matches(['\r', '\n']);
        if let Some(cont) = bare.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.unfolded.push_str(cont);
                last.raw.push(raw);
                continue;
            }
        }
        if bare.is_empty() {
            continue;
        }
        out.push(Line {
            unfolded: bare.to_owned(),
            raw: vec![raw],
        });
    }
    out
}

/// Name (upper case, parameters dropped) and value of a content line.
fn name_value(line: &str) -> (String, &str) {
    let colon = line.find(':').unwrap_or(line.len());
    let head = &line[..colon];
    let name = head.split(';').next().unwrap_or("").to_ascii_uppercase();
    (name, line.get(colon + 1..).unwrap_or(""))
}

fn push_raw(buf: &mut String, l: &Line<'_>) {
    for r in &l.raw {
        buf.push_str(r);
        if !r.ends_with('\n') {
            buf.push_str("\r\n");
        }
    }
}

/// Splits a published feed (one VCALENDAR) into one object per UID: every VEVENT/VTODO/VJOURNAL with
/// that UID (the master and its RECURRENCE-ID overrides) together with the calendar's properties and
/// the VTIMEZONEs the object names. A component without a UID becomes its own object, which the parser
/// then quarantines. Anything that is not a complete VCALENDAR (a web page, an error text, an answer
/// cut short) is an error in human words, so nothing cached is touched.
pub fn split_feed(body: &[u8]) -> std::result::Result<SplitFeed, String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(not_a_calendar("the answer was empty"));
    }
    let head: String = trimmed
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with('<') {
        return Err(not_a_calendar("the server sent a web page"));
    }
    let all = lines(text);
    if !all
        .first()
        .is_some_and(|l| l.unfolded.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(not_a_calendar("it does not start with BEGIN:VCALENDAR"));
    }
    if !all
        .last()
        .is_some_and(|l| l.unfolded.eq_ignore_ascii_case("END:VCALENDAR"))
    {
        return Err(not_a_calendar(
            "it ends before END:VCALENDAR, so it was cut short",
        ));
    }
    let mut feed = SplitFeed::default();
    let mut header = String::new();
    let mut zones: Vec<(String, String)> = Vec::new(); // (TZID, text)
    let mut order: Vec<String> = Vec::new();
    let mut by_uid: std::collections::HashMap<String, String> = Default::default();
    let body_lines = &all[1..all.len() - 1];
    let mut i = 0;
    let mut anonymous = 0;
    while i < body_lines.len() {
        let l = &body_lines[i];
        let (name, value) = name_value(&l.unfolded);
        if name != "BEGIN" {
            if name == "END" {
                return Err(not_a_calendar(&format!("a stray END:{value}")));
            }
            match name.as_str() {
                "X-WR-CALNAME" if !value.trim().is_empty() => {
                    feed.name = Some(value.trim().to_owned())
                }
                "X-APPLE-CALENDAR-COLOR" if !value.trim().is_empty() => {
                    feed.color = Some(value.trim().to_owned())
                }
                _ => {}
            }
            push_raw(&mut header, l);
            i += 1;
            continue;
        }
        // A component: up to its matching END.
        let kind = value.trim().to_ascii_uppercase();
        let mut depth = 0usize;
        let mut comp = String::new();
        let mut uid: Option<String> = None;
        let mut tzid: Option<String> = None;
        let mut closed = false;
        while i < body_lines.len() {
            let cl = &body_lines[i];
            let (n, v) = name_value(&cl.unfolded);
            push_raw(&mut comp, cl);
            i += 1;
            match n.as_str() {
                "BEGIN" => depth += 1,
                "END" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        if !v.trim().eq_ignore_ascii_case(&kind) {
                            return Err(not_a_calendar(&format!(
                                "BEGIN:{kind} is closed by END:{}",
                                v.trim()
                            )));
                        }
                        closed = true;
                        break;
                    }
                }
                "UID" if depth == 1 && uid.is_none() => uid = Some(v.trim().to_owned()),
                "TZID" if depth == 1 && tzid.is_none() => tzid = Some(v.trim().to_owned()),
                _ => {}
            }
        }
        if !closed {
            return Err(not_a_calendar(&format!(
                "BEGIN:{kind} is never closed, so the answer was cut short"
            )));
        }
        if kind == "VTIMEZONE" {
            zones.push((tzid.unwrap_or_default(), comp));
            continue;
        }
        let key = uid.filter(|u| !u.is_empty()).unwrap_or_else(|| {
            anonymous += 1;
            format!("\u{0}no-uid-{anonymous}")
        });
        match by_uid.get_mut(&key) {
            Some(existing) => existing.push_str(&comp),
            None => {
                order.push(key.clone());
                by_uid.insert(key, comp);
            }
        }
    }
    for key in order {
        let Some(comps) = by_uid.remove(&key) else {
            continue;
        };
        let mut obj = String::from("BEGIN:VCALENDAR\r\n");
        obj.push_str(&header);
        for (tzid, z) in &zones {
            if tzid.is_empty() || comps.contains(&format!("TZID={tzid}")) {
                obj.push_str(z);
            }
        }
        obj.push_str(&comps);
        obj.push_str("END:VCALENDAR\r\n");
        let uid = key.trim_start_matches('\u{0}').to_owned();
        feed.objects.push((uid, obj.into_bytes()));
    }
    Ok(feed)
}

/// The cache key of an object of a feed: its UID, percent-encoded, as `<uid>.ics`.
pub fn object_href(uid: &str) -> String {
    let mut s = String::with_capacity(uid.len() + 4);
    for b in uid.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.@".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.push_str(".ics");
    s
}

/// A stable etag for an object cut out of a feed (FNV-1a of its bytes): unchanged objects are not
/// rewritten on the next full answer.
pub fn object_etag(raw: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in raw {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_published_links_and_nothing_else() {
        for yes in [
            "webcal://p42-caldav.icloud.com/published/2/MTIzNDU2Nzg5",
            "  https://p01-caldav.icloud.com/published/2/abc  ",
            "WEBCAL://example.org/published/cal",
            "http://127.0.0.1:8080/published/2/tok",
        ] {
            assert!(is_published_calendar_link(yes), "{yes}");
        }
        for no in [
            "https://caldav.icloud.com/",
            "p42-caldav.icloud.com",
            "https://p42-caldav.icloud.com/123/calendars/home/",
            "webcal://example.org/published/",
            "ftp://example.org/published/2/x",
            "me@icloud.com",
        ] {
            assert!(!is_published_calendar_link(no), "{no}");
        }
    }

    #[test]
    fn caldav_hosts_pasted_as_server_lead_to_discovery() {
        let hint = |s| caldav_host_hint(s);
        assert_eq!(
            hint("p42-caldav.icloud.com").as_deref(),
            Some("https://caldav.icloud.com/")
        );
        assert_eq!(
            hint("https://p42-caldav.icloud.com:443/123456/calendars/home/").as_deref(),
            Some("https://caldav.icloud.com/")
        );
        assert_eq!(
            hint("P7-CALDAV.icloud.com.cn").as_deref(),
            Some("https://caldav.icloud.com.cn/")
        );
        assert_eq!(hint("caldav.icloud.com"), None);
        assert_eq!(hint("dav.example.org"), None);
        assert_eq!(hint("https://caldav.icloud.com/"), None);
        assert_eq!(hint("http://127.0.0.1:5232/"), None);
        assert_eq!(hint("webcal://p42-caldav.icloud.com/published/2/x"), None);
        assert_eq!(hint(""), None);
    }

    #[test]
    fn webcal_becomes_https_and_http_only_on_loopback() {
        assert_eq!(
            feed_url("webcal://p42-caldav.icloud.com/published/2/x#frag")
                .unwrap()
                .as_str(),
            "https://p42-caldav.icloud.com/published/2/x"
        );
        assert_eq!(
            feed_url("webcal://127.0.0.1:9/published/2/x")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/published/2/x"
        );
        assert!(feed_url("http://example.org/published/2/x")
            .unwrap_err()
            .to_string()
            .contains("https://"));
        assert!(feed_url("example.org/x").is_err());
        assert!(feed_url("https://me:secret@example.org/published/2/x")
            .unwrap_err()
            .to_string()
            .contains("needs none"));
        assert!(feed_url("ftp://example.org/x").is_err());
    }

    const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple//x\r\nX-WR-CALNAME:Team\r\n\
X-APPLE-CALENDAR-COLOR:#FF2968\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n\
DTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=Europe/Berlin:20260101T100000\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Stand\r\n up\r\n\
END:VEVENT\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260102T100000Z\r\nSUMMARY:Other\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260103T100000\r\n\
DTSTART;TZID=Europe/Berlin:20260103T110000\r\nSUMMARY:Moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn splits_one_object_per_uid_with_overrides_and_zones() {
        let f = split_feed(FEED.as_bytes()).unwrap();
        assert_eq!(f.name.as_deref(), Some("Team"));
        assert_eq!(f.color.as_deref(), Some("#FF2968"));
        let uids: Vec<&str> = f.objects.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(uids, ["a", "b"]);
        let a = String::from_utf8(f.objects[0].1.clone()).unwrap();
        assert_eq!(a.matches("BEGIN:VEVENT").count(), 2, "{a}");
        assert!(a.contains("BEGIN:VTIMEZONE") && a.contains("SUMMARY:Stand\r\n up"));
        let b = String::from_utf8(f.objects[1].1.clone()).unwrap();
        assert!(!b.contains("VTIMEZONE"), "b names no zone: {b}");
        for (_, raw) in &f.objects {
            let s = crate::calendar::summarize(raw).unwrap();
            assert!(!s.uid.is_empty());
        }
    }

    #[test]
    fn truncated_html_and_empty_answers_are_errors() {
        let cut = &FEED[..FEED.len() - 40];
        assert!(split_feed(cut.as_bytes())
            .unwrap_err()
            .contains("cut short"));
        assert!(split_feed(b"<!DOCTYPE html><html>Sign in</html>")
            .unwrap_err()
            .contains("web page"));
        assert!(split_feed(b"").unwrap_err().contains("empty"));
        assert!(split_feed(b"Not Found")
            .unwrap_err()
            .contains("BEGIN:VCALENDAR"));
        let unclosed = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n";
        assert!(split_feed(unclosed.as_bytes()).is_err());
    }

    #[test]
    fn hrefs_and_etags_are_stable() {
        assert_eq!(object_href("a/b c@x"), "a%2Fb%20c@x.ics");
        assert_eq!(object_etag(b"x"), object_etag(b"x"));
        assert_ne!(object_etag(b"x"), object_etag(b"y"));
    }
}
