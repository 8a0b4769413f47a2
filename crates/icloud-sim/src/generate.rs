//! Deterministic, realistic and sometimes nasty iCalendar objects.
//!
//! Every object is a pure function of (calendar seed, index, base date), so the same seed always yields the
//! same bytes and a calendar of 20,000 events is built without any cross-object state.

use base64::Engine as _;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};

use crate::config::Component;

/// splitmix64: tiny, fast and good enough for test data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// `lo..hi`, `hi` exclusive.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(hi.saturating_sub(lo).max(1) as u64) as i64
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0x0FFF,
            0x8000 | ((b >> 48) & 0x3FFF),
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

pub(crate) fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

/// FNV-1a, finalised through splitmix so neighbouring inputs spread.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    Rng::new(h).next_u64()
}

const TITLES: &[&str] = &[
    "Team-Meeting",
    "Zahnarzt 🦷",
    "Mittagessen mit Jürgen",
    "Größenplanung Q3",
    "Standup",
    "歯医者の予約",
    "会議：プロジェクト「さくら」",
    "Yoga 🧘",
    "Flight to New York ✈️",
    "Elternabend, Schule; Raum 3",
    "Übergabe an Björn",
    "Code review",
    "1:1 with Priya",
    "Geburtstag Oma 🎂",
    "Fußball-Training ⚽",
    "Steuerberater",
    "Kita-Fest",
    "東京出張",
    "Dinner 🍝 at Lucía's",
    "Release planning \\ retro",
    "Präsentation für die Geschäftsführung über die Ergebnisse des ersten Halbjahres",
    "Änderungsschneiderei abholen",
    "Café ☕ mit Zoë",
    "Lesekreis: „Der Zauberberg“",
];

const LOCATIONS: &[&str] = &[
    "Alexanderplatz 1, 10178 Berlin",
    "Café Über, München",
    "東京都渋谷区神南1-2-3",
    "Zoom",
    "Conference Room „Zugspitze“",
    "1 Infinite Loop, Cupertino, CA 95014",
    "Straße des 17. Juni 135; Berlin",
    "Kölner Dom 🏰",
];

const DESCRIPTIONS: &[&str] = &[
    "Bitte Unterlagen mitbringen.\nAgenda:\n1. Rückblick\n2. Ausblick, Budget; Fragen",
    "Einwahl: https://example.com/j/123456789?pwd=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
    "日本語の説明文です。長い行は七十五オクテットで折り返されなければなりません。よろしくお願いします。",
    "Don't forget the 🎁!",
    "Zeile eins\nZeile zwei mit Umlauten: äöüÄÖÜß\nZeile drei",
];

const TODO_TITLES: &[&str] = &[
    "Milch kaufen 🥛",
    "Steuererklärung abgeben",
    "Call the plumber",
    "牛乳を買う",
    "Geschenk für Jörg besorgen",
    "Renew passport",
];

const PRODIDS: &[&str] = &[
    "-//Apple Inc.//macOS 14.4.1//EN",
    "-//Apple Inc.//iOS 17.4.1//EN",
    "-//Apple Inc.//iCloud Web Calendar 2412B40//EN",
];

const VTZ_BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nDTSTART:19810329T020000\r\nTZNAME:CEST\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nDTSTART:19961027T030000\r\nTZNAME:CET\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
const VTZ_NEW_YORK: &str = "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nDTSTART:20070311T020000\r\nTZNAME:EDT\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nDTSTART:20071104T020000\r\nTZNAME:EST\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";
// QUIRK(icloud §3.4): a non-Olson TZID as iCloud serves it.
const VTZ_GMT_MINUS_4: &str = "BEGIN:VTIMEZONE\r\nTZID:GMT-0400\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0400\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

fn vtimezone(tzid: &str) -> &'static str {
    match tzid {
        "Europe/Berlin" => VTZ_BERLIN,
        "America/New_York" => VTZ_NEW_YORK,
        _ => VTZ_GMT_MINUS_4,
    }
}

/// RFC 5545 §3.3.11 TEXT escaping.
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 5545 §3.1: lines longer than 75 octets are folded (CRLF + space), never inside a UTF-8 sequence.
pub(crate) fn fold_into(out: &mut String, line: &str) {
    let mut start = 0;
    let mut limit = 75;
    loop {
        let mut end = (start + limit).min(line.len());
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&line[start..end]);
        out.push_str("\r\n");
        if end >= line.len() {
            return;
        }
        out.push(' ');
        start = end;
        limit = 74;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum When {
    Tz(&'static str),
    Utc,
    AllDay,
    Floating,
}

impl When {
    fn format(self, name: &str, at: NaiveDateTime) -> String {
        match self {
            When::Tz(tz) => format!("{name};TZID={tz}:{}", at.format("%Y%m%dT%H%M%S")),
            When::Utc => format!("{name}:{}", at.format("%Y%m%dT%H%M%SZ")),
            When::AllDay => format!("{name};VALUE=DATE:{}", at.format("%Y%m%d")),
            When::Floating => format!("{name}:{}", at.format("%Y%m%dT%H%M%S")),
        }
    }
}

fn utc_stamp(r: &mut Rng, base: NaiveDate) -> String {
    let day = base - Duration::days(r.range(1, 400));
    let t = NaiveTime::from_hms_opt(r.below(24) as u32, r.below(60) as u32, r.below(60) as u32)
        .unwrap_or(NaiveTime::MIN);
    day.and_time(t).format("%Y%m%dT%H%M%SZ").to_string()
}

fn weekday_code(d: NaiveDate) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.weekday().num_days_from_monday() as usize]
}

/// One generated object: file name (`<uid>.ics`, some `<uid>@example.com.ics`) and bytes.
pub(crate) fn object(
    cal_seed: u64,
    index: u64,
    component: Component,
    base: NaiveDate,
    broken_percent: f64,
) -> (String, Vec<u8>) {
    let mut r = Rng::new(mix(cal_seed, index));
    let uuid = r.uuid();
    // QUIRK(icloud §1.5): names with '@' are served as %40 in hrefs but only GET-able with '@'.
    let uid = if r.below(8) == 0 {
        format!("{}@example.com", uuid.to_lowercase())
    } else {
        uuid
    };
    let name = format!("{uid}.ics");
    let broken = index >= 4
        && (mix(cal_seed ^ 0xB40C_E000, index) % 10_000)
            < (broken_percent.clamp(0.0, 100.0) * 100.0) as u64;
    let text = if broken {
        broken_object(&mut r, index, &uid)
    } else {
        match component {
            Component::Vevent => vevent(&mut r, index, &uid, base),
            Component::Vtodo => vtodo(&mut r, &uid, base),
        }
    };
    (name, text.into_bytes())
}

fn calendar_header(out: &mut String, r: &mut Rng) {
    out.push_str("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n");
    fold_into(out, &format!("PRODID:{}", r.pick(PRODIDS)));
    out.push_str("CALSCALE:GREGORIAN\r\n");
}

fn broken_object(r: &mut Rng, index: u64, uid: &str) -> String {
    let mut out = String::new();
    match index % 4 {
        0 => {
            // An event that never ends.
            calendar_header(&mut out, r);
            out.push_str("BEGIN:VEVENT\r\n");
            fold_into(&mut out, &format!("UID:{uid}"));
            out.push_str("DTSTART:20240105T100000Z\r\nSUMMARY:Abgeschnitten\r\n");
        }
        1 => {
            calendar_header(&mut out, r);
            out.push_str("BEGIN:VEVENT\r\n");
            fold_into(&mut out, &format!("UID:{uid}"));
            out.push_str(
                "DTSTAMP:20240101T000000Z\r\nDTSTART:2024-13-45T99:99:99\r\nDTEND:gestern\r\n",
            );
            out.push_str("SUMMARY:Kaputtes Datum\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
        }
        2 => {
            // Binary-looking junk, kept to characters XML can carry so multiget answers stay well-formed.
            out.push_str("ÿØÿà\tJFIF\u{FFFD}\u{FFFD}");
            for _ in 0..40 {
                let c = char::from_u32(0xA0 + r.below(0x160) as u32).unwrap_or('?');
                out.push(c);
            }
            out.push_str("\r\n\u{FFFD}PK");
        }
        _ => {
            calendar_header(&mut out, r);
            out.push_str("BEGIN:VEVENT\r\nTHIS LINE HAS NO COLON\r\n;;;\r\n");
            fold_into(&mut out, &format!("UID:{uid}"));
            out.push_str("END:VTODO\r\nEND:VCALENDAR\r\n");
        }
    }
    out
}

/// The index of the demo's meeting (organiser, attendees, URL, notes with a link, an alert, every 2
/// weeks, in New York time) and of its three-day trip.
const MEETING: u64 = 4;
const TRIP: u64 = 6;

fn vevent(r: &mut Rng, index: u64, uid: &str, base: NaiveDate) -> String {
    let nasty = if index >= 4 { index % 97 } else { 0 };
    // QUIRK(icloud §3.4): one object per nasty trait, at fixed indices so every calendar of 32+ events has
    // them all.
    let (day, mut when, hour, minute) = match index {
        0 => (base, When::Tz("Europe/Berlin"), 9, 0),
        1 => (base, When::AllDay, 0, 0),
        2 => (base, When::Floating, 12, 30),
        3 => (base, When::Utc, 12, 0),
        // A meeting of the demo: people and their answers, a URL, notes with a link, an alert and a
        // fortnightly rule, scheduled in another zone.
        MEETING => (base, When::Tz("America/New_York"), 10, 0),
        // A three-day all-day event from tomorrow.
        TRIP => (base + Duration::days(1), When::AllDay, 0, 0),
        _ => {
            let day = base + Duration::days(r.range(-60, 121));
            let when = match r.below(100) {
                0..=29 => When::Tz("Europe/Berlin"),
                30..=49 => When::Tz("America/New_York"),
                50..=69 => When::Utc,
                70..=84 => When::AllDay,
                _ => When::Floating,
            };
            (day, when, r.range(7, 20), *r.pick(&[0, 15, 30, 45]))
        }
    };
    if nasty == 13 {
        when = When::Tz("GMT-0400");
    }
    let start =
        day.and_time(NaiveTime::from_hms_opt(hour as u32, minute, 0).unwrap_or(NaiveTime::MIN));
    let end = if index == TRIP {
        start + Duration::days(3)
    } else if when == When::AllDay {
        start + Duration::days(*r.pick(&[1, 1, 1, 2, 3]))
    } else {
        start + Duration::minutes(*r.pick(&[30, 45, 60, 60, 90, 120, 180]))
    };
    let recurring = index >= 4 && index % 10 == 5;
    let variant = (index / 10 + 2) % 5;
    let title = match index {
        MEETING => "Sprint review 🚀",
        TRIP => "Trip to Lisbon",
        _ => *r.pick(TITLES),
    };
    let (created, stamp) = {
        let (a, b) = (utc_stamp(r, base), utc_stamp(r, base));
        if a <= b {
            (a, b)
        } else {
            (b, a)
        }
    };

    let mut out = String::with_capacity(1024);
    calendar_header(&mut out, r);
    if let When::Tz(tz) = when {
        out.push_str(vtimezone(tz));
    }
    out.push_str("BEGIN:VEVENT\r\n");
    fold_into(&mut out, &format!("CREATED:{created}"));
    if nasty == 29 {
        // QUIRK(icloud §3.4): lax DATE vs DATE-TIME — an all-day start with a DATE-TIME end.
        fold_into(&mut out, &format!("DTEND:{}", end.format("%Y%m%dT%H%M%S")));
    } else {
        fold_into(&mut out, &when.format("DTEND", end));
    }
    fold_into(&mut out, &format!("DTSTAMP:{stamp}"));
    if nasty == 7 {
        // QUIRK(icloud §3.4): duplicate DTSTAMP.
        fold_into(&mut out, &format!("DTSTAMP:{}", utc_stamp(r, base)));
    }
    fold_into(&mut out, &when.format("DTSTART", start));
    if recurring {
        let until_day = day + Duration::days(180);
        let until = match when {
            When::AllDay => until_day.format("%Y%m%d").to_string(),
            When::Floating => until_day.format("%Y%m%dT235959").to_string(),
            _ => until_day.format("%Y%m%dT235959Z").to_string(),
        };
        let (rule, exdate) = match variant {
            0 => ("FREQ=WEEKLY;COUNT=10".to_owned(), None),
            1 => (format!("FREQ=MONTHLY;UNTIL={until}"), None),
            2 => (
                format!("FREQ=WEEKLY;BYDAY={}", weekday_code(day)),
                Some(start + Duration::days(14)),
            ),
            3 => (
                "FREQ=DAILY;COUNT=5".to_owned(),
                Some(start + Duration::days(1)),
            ),
            _ => ("FREQ=YEARLY".to_owned(), None),
        };
        if let Some(ex) = exdate {
            fold_into(&mut out, &when.format("EXDATE", ex));
        }
        fold_into(&mut out, &format!("RRULE:{rule}"));
    }
    if index == MEETING {
        let until = (day + Duration::days(84)).format("%Y%m%dT235959Z");
        fold_into(
            &mut out,
            &format!(
                "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY={};UNTIL={until}",
                weekday_code(day)
            ),
        );
    }
    fold_into(&mut out, &format!("LAST-MODIFIED:{stamp}"));
    let location = *r.pick(LOCATIONS);
    if r.below(3) > 0 || nasty == 11 {
        fold_into(&mut out, &format!("LOCATION:{}", escape_text(location)));
    }
    if index == MEETING {
        fold_into(
            &mut out,
            &format!(
                "DESCRIPTION:{}",
                escape_text(
                    "What we shipped, then questions.\nSlides: https://example.com/sprint/review"
                )
            ),
        );
        out.push_str("URL;VALUE=URI:https://example.com/sprint\r\n");
        fold_into(&mut out, "ORGANIZER;CN=Ana Lima:mailto:ana@example.com");
        for (cn, mail, stat) in [
            ("Ana Lima", "ana@example.com", "ACCEPTED"),
            ("Jürgen Weiß", "juergen@example.com", "TENTATIVE"),
            ("佐藤 花子", "hanako@example.com", "DECLINED"),
            ("Sam Okafor", "sam@example.com", "NEEDS-ACTION"),
        ] {
            fold_into(
                &mut out,
                &format!("ATTENDEE;CN=\"{cn}\";PARTSTAT={stat};ROLE=REQ-PARTICIPANT:mailto:{mail}"),
            );
        }
    } else if r.below(3) == 0 {
        fold_into(
            &mut out,
            &format!("DESCRIPTION:{}", escape_text(r.pick_str(DESCRIPTIONS))),
        );
    }
    if nasty == 19 {
        // QUIRK(icloud §3.4): Apple's recurrence-set relation.
        fold_into(
            &mut out,
            &format!(
                "RELATED-TO;RELTYPE=X-CALENDARSERVER-RECURRENCE-SET:{}",
                r.uuid()
            ),
        );
    }
    out.push_str("SEQUENCE:0\r\n");
    fold_into(&mut out, &format!("SUMMARY:{}", escape_text(title)));
    out.push_str("TRANSP:OPAQUE\r\n");
    fold_into(&mut out, &format!("UID:{uid}"));
    if nasty == 11 {
        // QUIRK(icloud §3.4): a huge folded structured location with a base64 MapKit handle parameter.
        let mut raw = vec![0u8; 420];
        for b in raw.iter_mut() {
            *b = r.next_u64() as u8;
        }
        let handle = base64::engine::general_purpose::STANDARD.encode(&raw);
        fold_into(
            &mut out,
            &format!(
                "X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS=\"Alexanderplatz 1\\n10178 Berlin\\nDeutschland\";X-APPLE-MAPKIT-HANDLE={handle};X-APPLE-RADIUS=70.58;X-APPLE-REFERENCEFRAME=1;X-TITLE=Alexanderplatz:geo:52.521918,13.413215"
            ),
        );
    }
    if nasty == 23 {
        // QUIRK(icloud §3.4): X-APPLE-STRUCTURED-EVENT with trailing whitespace.
        out.push_str("X-APPLE-STRUCTURED-EVENT;VALUE=URI:x-apple-event://flight/LH400  \r\n");
    }
    if nasty == 31 {
        // QUIRK(icloud §3.4): a binary plist in X-APPLE-STRUCTURED-DATA.
        let plist = base64::engine::general_purpose::STANDARD.encode(b"bplist00\xd4\x01\x02\x03\x04\x05\x06\x07\x0aX$versionY$archiverT$topX$objects\x12\x00\x01\x86\xa0");
        fold_into(
            &mut out,
            &format!("X-APPLE-STRUCTURED-DATA;VALUE=BINARY;ENCODING=BASE64;X-APPLE-TYPE=com.apple.flight:{plist}"),
        );
    }
    if nasty == 17 {
        // QUIRK(icloud §3.4): the ACTION:NONE alarm with a 1976 trigger Apple adds.
        out.push_str("BEGIN:VALARM\r\nACTION:NONE\r\nTRIGGER;VALUE=DATE-TIME:19760401T005545Z\r\n");
        fold_into(&mut out, &format!("UID:{}", r.uuid()));
        out.push_str("X-APPLE-DEFAULT-ALARM:TRUE\r\nEND:VALARM\r\n");
    } else if index == MEETING || r.below(10) < 3 {
        let alarm_uid = r.uuid();
        out.push_str(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\n",
        );
        fold_into(&mut out, &format!("UID:{alarm_uid}"));
        fold_into(&mut out, &format!("X-WR-ALARMUID:{alarm_uid}"));
        out.push_str("END:VALARM\r\n");
    }
    out.push_str("END:VEVENT\r\n");
    if recurring && variant == 2 {
        // One moved occurrence of the weekly series, in the same object.
        let original = start + Duration::days(7);
        let moved = if when == When::AllDay {
            original
        } else {
            original + Duration::hours(1)
        };
        out.push_str("BEGIN:VEVENT\r\n");
        fold_into(&mut out, &format!("CREATED:{created}"));
        fold_into(&mut out, &when.format("DTEND", moved + (end - start)));
        fold_into(&mut out, &format!("DTSTAMP:{stamp}"));
        fold_into(&mut out, &when.format("DTSTART", moved));
        fold_into(&mut out, &when.format("RECURRENCE-ID", original));
        out.push_str("SEQUENCE:1\r\n");
        fold_into(
            &mut out,
            &format!("SUMMARY:{} (verschoben)", escape_text(title)),
        );
        fold_into(&mut out, &format!("UID:{uid}"));
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn vtodo(r: &mut Rng, uid: &str, base: NaiveDate) -> String {
    let stamp = utc_stamp(r, base);
    let completed = r.below(4) == 0;
    let mut out = String::with_capacity(512);
    calendar_header(&mut out, r);
    out.push_str("BEGIN:VTODO\r\n");
    if completed {
        fold_into(&mut out, &format!("COMPLETED:{stamp}"));
    }
    fold_into(&mut out, &format!("CREATED:{stamp}"));
    fold_into(&mut out, &format!("DTSTAMP:{stamp}"));
    if r.below(3) > 0 {
        let due = base + Duration::days(r.range(-5, 30));
        fold_into(
            &mut out,
            &format!("DUE;VALUE=DATE:{}", due.format("%Y%m%d")),
        );
    }
    fold_into(&mut out, &format!("LAST-MODIFIED:{stamp}"));
    fold_into(&mut out, &format!("PRIORITY:{}", r.pick(&[0, 1, 5, 9])));
    out.push_str("SEQUENCE:0\r\n");
    out.push_str(if completed {
        "STATUS:COMPLETED\r\n"
    } else {
        "STATUS:NEEDS-ACTION\r\n"
    });
    fold_into(
        &mut out,
        &format!("SUMMARY:{}", escape_text(r.pick_str(TODO_TITLES))),
    );
    fold_into(&mut out, &format!("UID:{uid}"));
    fold_into(
        &mut out,
        &format!("X-APPLE-SORT-ORDER:{}", 700_000_000 + r.below(10_000_000)),
    );
    out.push_str("END:VTODO\r\nEND:VCALENDAR\r\n");
    out
}

/// The object with a new SUMMARY (the first one, or one inserted), folding preserved.
pub(crate) fn with_new_summary(bytes: &[u8], edit: u64) -> Vec<u8> {
    let mut r = Rng::new(mix(0x5EED_ED17, edit));
    let mut line = String::new();
    fold_into(
        &mut line,
        &format!(
            "SUMMARY:{} (geändert #{edit})",
            escape_text(r.pick_str(TITLES))
        ),
    );
    let line = line.into_bytes();
    let mut at = None;
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if (rest.starts_with(b"SUMMARY:") || rest.starts_with(b"SUMMARY;"))
            && (pos == 0 || bytes[pos - 1] == b'\n')
        {
            at = Some(pos);
            break;
        }
        pos += 1;
    }
    if let Some(start) = at {
        // The logical line ends at the first line break not followed by a continuation space.
        let mut end = start;
        while end < bytes.len() {
            if bytes[end] == b'\n' && !matches!(bytes.get(end + 1), Some(b' ' | b'\t')) {
                end += 1;
                break;
            }
            end += 1;
        }
        let mut out = Vec::with_capacity(bytes.len() + line.len());
        out.extend_from_slice(&bytes[..start]);
        out.extend_from_slice(&line);
        out.extend_from_slice(&bytes[end..]);
        return out;
    }
    for marker in [&b"BEGIN:VEVENT\r\n"[..], b"BEGIN:VTODO\r\n"] {
        if let Some(i) = bytes.windows(marker.len()).position(|w| w == marker) {
            let mut out = bytes[..i + marker.len()].to_vec();
            out.extend_from_slice(&line);
            out.extend_from_slice(&bytes[i + marker.len()..]);
            return out;
        }
    }
    let mut out = bytes.to_vec();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 15).unwrap_or_default()
    }

    #[test]
    fn folded_lines_are_at_most_75_octets_and_unfold_to_the_original() {
        let long = format!("DESCRIPTION:{}", "日本語äöü🎉x".repeat(30));
        let mut out = String::new();
        fold_into(&mut out, &long);
        for l in out.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(out.replace("\r\n ", ""), format!("{long}\r\n"));
    }

    #[test]
    fn every_generated_line_is_crlf_terminated_and_short() {
        for i in 0..200 {
            let (_, bytes) = object(42, i, Component::Vevent, day(), 0.0);
            let text = String::from_utf8(bytes).unwrap_or_default();
            assert!(text.ends_with("END:VCALENDAR\r\n"));
            assert!(!text.replace("\r\n", "").contains('\n'));
            for l in text.split("\r\n") {
                assert!(l.len() <= 75, "{l}");
            }
            assert_eq!(
                text.matches("BEGIN:VEVENT").count(),
                text.matches("END:VEVENT").count()
            );
        }
    }

    #[test]
    fn the_first_four_events_fall_on_the_base_date() {
        for i in 0..4 {
            let (_, bytes) = object(7, i, Component::Vevent, day(), 100.0);
            let text = String::from_utf8(bytes).unwrap_or_default();
            assert!(text.contains(":20240315"), "{text}");
        }
    }

    #[test]
    fn new_summary_replaces_a_folded_summary() {
        let mut src = String::from("BEGIN:VEVENT\r\n");
        fold_into(&mut src, &format!("SUMMARY:{}", "x".repeat(200)));
        src.push_str("UID:1\r\nEND:VEVENT\r\n");
        let out = String::from_utf8(with_new_summary(src.as_bytes(), 3)).unwrap_or_default();
        assert!(out.contains("(geändert #3)"));
        assert!(!out.contains("xxxxx"));
        assert!(out.ends_with("UID:1\r\nEND:VEVENT\r\n"));
    }
}
