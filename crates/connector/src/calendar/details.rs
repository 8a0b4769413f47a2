//! What the details dialog shows about one event: notes, people and their answers, the URL, the
//! recurrence and the alerts in words, and the zone the event was written in.
//!
//! Read from the stored bytes (after [`super::preprocess`], so folds and odd line endings are gone)
//! as content lines: the dialog needs parameters (`CN`, `PARTSTAT`, `TZID`, `RELATED`) and the
//! rule's text exactly as written, which the expansion model does not keep.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::preprocess;

/// One person on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// `CN`, if given.
    pub name: Option<String>,
    /// The address without `mailto:`.
    pub email: Option<String>,
    /// The answer in words ("accepted", "declined", "maybe", "not answered yet", "delegated").
    pub answer: Option<String>,
    /// "optional" or "chair" when it says so; required participants get nothing.
    pub role: Option<String>,
}

/// The parts of an event that the lists do not show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventDetails {
    /// UID.
    pub uid: Option<String>,
    /// Title.
    pub summary: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Notes (DESCRIPTION), plain text.
    pub notes: Option<String>,
    /// The event's own URL.
    pub url: Option<String>,
    /// Who organises it.
    pub organizer: Option<Person>,
    /// Who is invited, with their answers.
    pub attendees: Vec<Person>,
    /// The recurrence in words ("every 2 weeks on Monday until 3 March 2026").
    pub recurrence: Option<String>,
    /// The alerts in words ("15 minutes before").
    pub alerts: Vec<String>,
    /// The zone DTSTART was written in: an IANA or Windows name, "UTC", or none (floating, all-day).
    pub time_zone: Option<String>,
    /// CONFIRMED, TENTATIVE or CANCELLED in words.
    pub status: Option<String>,
}

struct Line<'a> {
    name: String,
    params: Vec<(String, String)>,
    value: &'a str,
}

impl Line<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `NAME;P=V;Q="a:b":value` → its parts. Colons and semicolons inside quotes belong to the value.
fn content_line(line: &str) -> Option<Line<'_>> {
    let mut in_quotes = false;
    let mut colon = None;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let head = &line[..colon];
    let value = &line[colon + 1..];
    let mut parts = Vec::new();
    let mut start = 0;
    in_quotes = false;
    for (i, ch) in head.char_indices() {
        match ch {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                parts.push(&head[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&head[start..]);
    let name = parts.first()?.trim().to_ascii_uppercase();
    let params = parts[1..]
        .iter()
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect();
    Some(Line {
        name,
        params,
        value,
    })
}

/// TEXT value → plain text (`\n`, `\,`, `\;`, `\\`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn person(line: &Line<'_>) -> Person {
    let v = line.value.trim();
    let email = v
        .strip_prefix("mailto:")
        .or_else(|| v.strip_prefix("MAILTO:"))
        .unwrap_or(v);
    let answer = line.param("PARTSTAT").map(|p| {
        match p.to_ascii_uppercase().as_str() {
            "ACCEPTED" => "accepted",
            "DECLINED" => "declined",
            "TENTATIVE" => "maybe",
            "DELEGATED" => "delegated",
            "COMPLETED" => "completed",
            "IN-PROCESS" => "in progress",
            _ => "not answered yet",
        }
        .to_owned()
    });
    let role = line
        .param("ROLE")
        .and_then(|r| match r.to_ascii_uppercase().as_str() {
            "OPT-PARTICIPANT" | "NON-PARTICIPANT" => Some("optional".to_owned()),
            "CHAIR" => Some("chair".to_owned()),
            _ => None,
        });
    Person {
        name: line.param("CN").map(str::to_owned).and_then(non_empty),
        email: non_empty(email.to_owned()),
        answer,
        role,
    }
}

/// The naive `YYYYMMDDTHHMMSS` (or `YYYYMMDD`) of an RFC 3339 time or date.
fn compact(instant: &str) -> String {
    instant
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect()
}

/// Details of the VEVENT of `raw` for one occurrence: the override whose RECURRENCE-ID matches
/// `recurrence_id` (an RFC 3339 time or a date, as [`super::Occurrence`] gives it), else the master.
pub fn event_details(raw: &[u8], recurrence_id: Option<&str>) -> EventDetails {
    let text = preprocess::preprocess(raw);
    let wanted = recurrence_id.map(compact);
    let mut master: Option<EventDetails> = None;
    let mut chosen: Option<EventDetails> = None;
    let mut current: Option<(EventDetails, Option<String>)> = None;
    let mut depth_alarm = false;
    let mut alarm: (Option<String>, Option<String>) = (None, None); // (action, trigger words)
    for raw_line in text.lines() {
        let Some(line) = content_line(raw_line) else {
            continue;
        };
        let value_upper = line.value.trim().to_ascii_uppercase();
        match (line.name.as_str(), value_upper.as_str()) {
            ("BEGIN", "VEVENT") => current = Some((EventDetails::default(), None)),
            ("END", "VEVENT") => {
                if let Some((d, rid)) = current.take() {
                    match rid {
                        None if master.is_none() => master = Some(d),
                        Some(r) if wanted.as_deref() == Some(compact_ical(&r).as_str()) => {
                            chosen = Some(d)
                        }
                        _ => {}
                    }
                }
            }
            ("BEGIN", "VALARM") => {
                depth_alarm = true;
                alarm = (None, None);
            }
            ("END", "VALARM") => {
                depth_alarm = false;
                if let (Some((d, _)), (action, Some(words))) =
                    (current.as_mut(), std::mem::take(&mut alarm))
                {
                    // Apple's placeholder alarm (ACTION:NONE, a trigger in 1976) alerts nobody.
                    if !action.is_some_and(|a| a.eq_ignore_ascii_case("NONE")) {
                        d.alerts.push(words);
                    }
                }
            }
            _ => {
                let Some((d, rid)) = current.as_mut() else {
                    continue;
                };
                if depth_alarm {
                    match line.name.as_str() {
                        "ACTION" => alarm.0 = Some(line.value.trim().to_owned()),
                        "TRIGGER" => alarm.1 = Some(trigger_words(&line)),
                        _ => {}
                    }
                    continue;
                }
                let text_value = || non_empty(unescape(line.value));
                match line.name.as_str() {
                    "UID" if d.uid.is_none() => d.uid = text_value(),
                    "SUMMARY" if d.summary.is_none() => d.summary = text_value(),
                    "LOCATION" if d.location.is_none() => d.location = text_value(),
                    "DESCRIPTION" if d.notes.is_none() => d.notes = text_value(),
                    "URL" if d.url.is_none() => d.url = non_empty(line.value.to_owned()),
                    "STATUS" => {
                        d.status = match value_upper.as_str() {
                            "TENTATIVE" => Some("tentative".to_owned()),
                            "CANCELLED" => Some("cancelled".to_owned()),
                            _ => None,
                        }
                    }
                    "ORGANIZER" if d.organizer.is_none() => d.organizer = Some(person(&line)),
                    "ATTENDEE" => d.attendees.push(person(&line)),
                    "RRULE" if d.recurrence.is_none() => {
                        d.recurrence = Some(rrule_words(line.value.trim()))
                    }
                    "DTSTART" if d.time_zone.is_none() => {
                        d.time_zone = match line.param("TZID") {
                            Some(z) => non_empty(z.to_owned()),
                            None if value_upper.ends_with('Z') => Some("UTC".to_owned()),
                            None => None,
                        }
                    }
                    "RECURRENCE-ID" => *rid = Some(line.value.trim().to_owned()),
                    _ => {}
                }
            }
        }
    }
    let mut out = chosen.or_else(|| master.clone()).unwrap_or_default();
    // An override inherits what it does not say from its series.
    if let Some(m) = master {
        if out.recurrence.is_none() && recurrence_id.is_some() {
            out.recurrence = m.recurrence.clone();
        }
        out.notes = out.notes.or(m.notes);
        out.url = out.url.or(m.url);
        out.location = out.location.or(m.location);
        out.organizer = out.organizer.or(m.organizer);
        if out.attendees.is_empty() {
            out.attendees = m.attendees;
        }
    }
    out
}

/// `20261208T090000Z` / `20261208` → `20261208T090000` / `20261208`.
fn compact_ical(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect()
}

const WEEKDAYS: &[(&str, &str)] = &[
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
];

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn ordinal(n: i64) -> String {
    let suffix = match (n.abs() % 10, n.abs() % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "Monday", "2nd Tuesday", "last Friday".
fn weekday_words(code: &str) -> Option<String> {
    let code = code.trim();
    let split = code.len().checked_sub(2)?;
    let (num, day) = code.split_at(split);
    let name = WEEKDAYS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(day))?
        .1;
    Some(match num.trim_start_matches('+').parse::<i64>() {
        Ok(-1) => format!("last {name}"),
        Ok(n) if n < 0 => format!("{} to last {name}", ordinal(-n)),
        Ok(n) => format!("{} {name}", ordinal(n)),
        Err(_) => name.to_owned(),
    })
}

fn list_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// "3 March 2026" for an UNTIL value (date or date-time).
fn until_words(v: &str) -> Option<String> {
    let digits: String = v.chars().take(8).collect();
    let d = NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()?;
    let month = MONTHS.get(usize::try_from(chrono::Datelike::month0(&d)).ok()?)?;
    Some(format!(
        "{} {month} {}",
        chrono::Datelike::day(&d),
        chrono::Datelike::year(&d)
    ))
}

/// An RRULE in words: "every 2 weeks on Monday until 3 March 2026", "every month on the 15th, 10
/// times", "every year". Parts it cannot say are left out rather than guessed.
pub fn rrule_words(rule: &str) -> String {
    let mut freq = None;
    let mut interval = 1i64;
    let mut count = None;
    let mut until = None;
    let mut byday = Vec::new();
    let mut bymonthday = Vec::new();
    let mut bymonth = Vec::new();
    for part in rule.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_uppercase().as_str() {
            "FREQ" => freq = Some(v.trim().to_ascii_uppercase()),
            "INTERVAL" => interval = v.trim().parse().unwrap_or(1).max(1),
            "COUNT" => count = v.trim().parse::<u64>().ok(),
            "UNTIL" => until = until_words(v.trim()),
            "BYDAY" => byday = v.split(',').filter_map(weekday_words).collect(),
            "BYMONTHDAY" => {
                bymonthday = v
                    .split(',')
                    .filter_map(|d| d.trim().parse::<i64>().ok())
                    .map(|d| {
                        if d == -1 {
                            "last day".to_owned()
                        } else {
                            format!("the {}", ordinal(d))
                        }
                    })
                    .collect()
            }
            "BYMONTH" => {
                bymonth = v
                    .split(',')
                    .filter_map(|m| m.trim().parse::<usize>().ok())
                    .filter_map(|m| MONTHS.get(m.checked_sub(1)?).map(|s| (*s).to_owned()))
                    .collect()
            }
            _ => {}
        }
    }
    let (one, many) = match freq.as_deref() {
        Some("SECONDLY") => ("second", "seconds"),
        Some("MINUTELY") => ("minute", "minutes"),
        Some("HOURLY") => ("hour", "hours"),
        Some("DAILY") => ("day", "days"),
        Some("WEEKLY") => ("week", "weeks"),
        Some("MONTHLY") => ("month", "months"),
        Some("YEARLY") => ("year", "years"),
        _ => return "repeats".to_owned(),
    };
    let mut s = if interval == 1 {
        format!("every {one}")
    } else if interval == 2 && one == "day" {
        "every other day".to_owned()
    } else {
        format!("every {interval} {many}")
    };
    if !bymonth.is_empty() {
        s.push_str(&format!(" in {}", list_words(&bymonth)));
    }
    if freq.as_deref() == Some("WEEKLY")
        && byday.len() == 5
        && byday
            .iter()
            .all(|d| ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"].contains(&d.as_str()))
    {
        s.push_str(" on weekdays");
    } else if !byday.is_empty() {
        let the = if byday.iter().any(|d| d.contains(' ')) {
            "the "
        } else {
            ""
        };
        s.push_str(&format!(" on {the}{}", list_words(&byday)));
    }
    if !bymonthday.is_empty() {
        s.push_str(&format!(" on {}", list_words(&bymonthday)));
    }
    if let Some(u) = until {
        s.push_str(&format!(" until {u}"));
    } else if let Some(n) = count {
        s.push_str(&if n == 1 {
            ", once".to_owned()
        } else {
            format!(", {n} times")
        });
    }
    s
}

/// "PT15M" → (15 minutes) in words; "P1D" → "1 day"; zero → None.
fn duration_words(d: &str) -> Option<String> {
    let mut weeks = 0i64;
    let mut days = 0i64;
    let mut hours = 0i64;
    let mut minutes = 0i64;
    let mut seconds = 0i64;
    let mut num = String::new();
    for c in d.chars() {
        match c {
            '0'..='9' => num.push(c),
            'P' | 'T' | '+' | '-' => {}
            'W' | 'D' | 'H' | 'M' | 'S' => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                match c {
                    'W' => weeks = n,
                    'D' => days = n,
                    'H' => hours = n,
                    'M' => minutes = n,
                    _ => seconds = n,
                }
            }
            _ => return None,
        }
    }
    let mut parts = Vec::new();
    let mut add = |n: i64, one: &str, many: &str| {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    };
    add(weeks, "week", "weeks");
    add(days, "day", "days");
    add(hours, "hour", "hours");
    add(minutes, "minute", "minutes");
    add(seconds, "second", "seconds");
    if parts.is_empty() {
        None
    } else {
        Some(list_words(&parts))
    }
}

/// A VALARM TRIGGER in words: "15 minutes before", "at the start", "1 day before the end", "at
/// 9:00 on 3 March 2026 (UTC)".
fn trigger_words(line: &Line<'_>) -> String {
    let v = line.value.trim();
    let absolute = line
        .param("VALUE")
        .is_some_and(|x| x.eq_ignore_ascii_case("DATE-TIME"))
        || v.len() >= 15 && v.as_bytes().get(8) == Some(&b'T') && !v.starts_with(['P', '-', '+']);
    if absolute {
        let digits: String = v.chars().take(15).collect();
        return match NaiveDateTime::parse_from_str(&digits, "%Y%m%dT%H%M%S") {
            Ok(t) => format!(
                "at {} on {}{}",
                t.format("%H:%M"),
                until_words(v).unwrap_or_default(),
                if v.ends_with('Z') { " (UTC)" } else { "" }
            ),
            Err(_) => format!("at {v}"),
        };
    }
    let end = line
        .param("RELATED")
        .is_some_and(|r| r.eq_ignore_ascii_case("END"));
    let what = if end { "the end" } else { "the start" };
    match duration_words(v) {
        None => format!("at {what}"),
        Some(w) if v.starts_with('-') => {
            if end {
                format!("{w} before the end")
            } else {
                format!("{w} before")
            }
        }
        Some(w) => format!("{w} after {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:abc\r\n\
        DTSTART;TZID=America/New_York:20261207T090000\r\nDTEND;TZID=America/New_York:20261207T100000\r\n\
        SUMMARY:Planning\\, weekly\r\nLOCATION:Room 1\r\nDESCRIPTION:Agenda:\\nSee https://example.com/a\r\n\
        URL:https://example.com/event\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20270303T000000Z\r\n\
        ORGANIZER;CN=\"Ana: Boss\":mailto:ana@example.com\r\n\
        ATTENDEE;CN=Bo;PARTSTAT=ACCEPTED:mailto:bo@example.com\r\n\
        ATTENDEE;PARTSTAT=DECLINED;ROLE=OPT-PARTICIPANT:mailto:cy@example.com\r\n\
        ATTENDEE;CN=Di:mailto:di@exa\r\n mple.com\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
        BEGIN:VALARM\r\nACTION:NONE\r\nTRIGGER;VALUE=DATE-TIME:19760401T005545Z\r\nEND:VALARM\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:PT0S\r\nEND:VALARM\r\n\
        END:VEVENT\r\n\
        BEGIN:VEVENT\r\nUID:abc\r\nRECURRENCE-ID;TZID=America/New_York:20261221T090000\r\n\
        DTSTART;TZID=America/New_York:20261221T110000\r\nSUMMARY:Planning (moved)\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    #[test]
    fn details_read_people_notes_url_zone_recurrence_and_alerts() {
        let d = event_details(EVENT.as_bytes(), None);
        assert_eq!(d.summary.as_deref(), Some("Planning, weekly"));
        assert_eq!(
            d.notes.as_deref(),
            Some("Agenda:\nSee https://example.com/a")
        );
        assert_eq!(d.url.as_deref(), Some("https://example.com/event"));
        assert_eq!(d.time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(
            d.recurrence.as_deref(),
            Some("every 2 weeks on Monday until 3 March 2027")
        );
        assert_eq!(d.alerts, vec!["15 minutes before", "at the end"]);
        let org = d.organizer.unwrap();
        assert_eq!(org.name.as_deref(), Some("Ana: Boss"));
        assert_eq!(org.email.as_deref(), Some("ana@example.com"));
        assert_eq!(d.attendees.len(), 3);
        assert_eq!(d.attendees[0].answer.as_deref(), Some("accepted"));
        assert_eq!(d.attendees[1].answer.as_deref(), Some("declined"));
        assert_eq!(d.attendees[1].role.as_deref(), Some("optional"));
        assert_eq!(d.attendees[2].email.as_deref(), Some("di@example.com"));
        assert_eq!(d.attendees[2].answer, None);
    }

    #[test]
    fn an_override_is_chosen_by_its_recurrence_id_and_inherits_the_series() {
        let d = event_details(EVENT.as_bytes(), Some("2026-12-21T09:00:00-05:00"));
        assert_eq!(d.summary.as_deref(), Some("Planning (moved)"));
        assert_eq!(d.location.as_deref(), Some("Room 1"));
        assert_eq!(d.attendees.len(), 3);
        assert!(d.recurrence.is_some());
        let other = event_details(EVENT.as_bytes(), Some("2026-12-07T09:00:00-05:00"));
        assert_eq!(other.summary.as_deref(), Some("Planning, weekly"));
    }

    #[test]
    fn rules_in_words() {
        assert_eq!(rrule_words("FREQ=DAILY;COUNT=5"), "every day, 5 times");
        assert_eq!(rrule_words("FREQ=WEEKLY;COUNT=10"), "every week, 10 times");
        assert_eq!(
            rrule_words("FREQ=MONTHLY;UNTIL=20270603"),
            "every month until 3 June 2027"
        );
        assert_eq!(
            rrule_words("FREQ=MONTHLY;BYDAY=-1FR"),
            "every month on the last Friday"
        );
        assert_eq!(
            rrule_words("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
            "every week on weekdays"
        );
        assert_eq!(
            rrule_words("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1"),
            "every year in March on the 1st"
        );
        assert_eq!(rrule_words("FREQ=DAILY;INTERVAL=2"), "every other day");
        assert_eq!(rrule_words("X=1"), "repeats");
    }

    #[test]
    fn triggers_in_words() {
        let t = |s: &str| trigger_words(&content_line(s).unwrap());
        assert_eq!(t("TRIGGER:-PT15M"), "15 minutes before");
        assert_eq!(t("TRIGGER:-P1DT2H"), "1 day and 2 hours before");
        assert_eq!(t("TRIGGER:PT0S"), "at the start");
        assert_eq!(t("TRIGGER;RELATED=END:-PT5M"), "5 minutes before the end");
        assert_eq!(t("TRIGGER:PT10M"), "10 minutes after the start");
        assert_eq!(
            t("TRIGGER;VALUE=DATE-TIME:20270303T090000Z"),
            "at 09:00 on 3 March 2027 (UTC)"
        );
    }
}
