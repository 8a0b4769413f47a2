//! iCalendar objects → event model, and recurrence expansion for agenda queries.
//!
//! Parsing is done by calcard (after a byte-level clean-up, see
//! [`preprocess`]); time zone resolution combines calcard's resolver with our
//! own tables ([`tz`]); recurrence expansion is our own windowed, bounded
//! implementation ([`rrule`]) because calcard 0.3.14 can only expand from
//! DTSTART with a total limit.
//!
//! Every entry point is panic-free by construction and additionally guarded by
//! `catch_unwind`; all loops are bounded by [`MAX_OCCURRENCES_PER_OBJECT`] and
//! an internal work budget.

mod details;
mod expand;
mod model;
mod parse;
mod preprocess;
mod rrule;
mod summary;
mod tz;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::str::FromStr;
use tz::Zone;

pub use details::{event_details, rrule_words, EventDetails, Person};

/// Objects larger than this are rejected with [`ParseError::TooLarge`].
pub const MAX_OBJECT_BYTES: usize = 4 * 1024 * 1024;
/// At most this many occurrences are returned per object and query.
pub const MAX_OCCURRENCES_PER_OBJECT: usize = 10_000;
/// Hard cap on recurrence-expansion work (periods/days examined) per call.
const MAX_EXPANSION_WORK: u64 = 2_000_000;
/// COUNT rules with more instances than this get an unbounded `window_end`.
const MAX_COUNT_FOR_BOUNDS: u32 = 100_000;
/// Slack applied to floating and all-day bounds (any zone offset fits in a day).
const FLOATING_SLACK_SECS: i64 = 86_400;

/// Everything the cache stores about one calendar object (one CalDAV
/// resource = one href; may hold a master VEVENT plus RECURRENCE-ID overrides).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSummary {
    pub uid: String,
    /// Of the master (or first) VEVENT.
    pub summary: Option<String>,
    pub location: Option<String>,
    pub all_day: bool,
    /// RRULE or RDATE present.
    pub recurring: bool,
    /// UTC bounds used to pre-select objects for a query window (unix
    /// seconds). `window_end == None` = unbounded (infinite RRULE).
    pub window_start: i64,
    pub window_end: Option<i64>,
    pub component: ComponentKind,
}

/// Kind of the object's primary component. VTODO objects are stored but
/// never appear in the agenda; `Other` covers VJOURNAL/VFREEBUSY/VAVAILABILITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ComponentKind {
    Event,
    Todo,
    Other,
}

/// Why an object could not be turned into events. Messages are user-facing.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ParseError {
    #[error("the calendar object contains no VEVENT or VTODO")]
    NoComponent,
    #[error("the event has no UID")]
    MissingUid,
    #[error("event {uid} has no start date (DTSTART)")]
    MissingDtstart { uid: String },
    #[error("invalid {property} value {value:?}")]
    InvalidDate { property: String, value: String },
    #[error("the calendar data could not be parsed: {message}")]
    Unparseable { message: String },
    #[error("the calendar parser crashed on this object")]
    Panicked,
    #[error(
        "the calendar object is too large ({bytes} bytes; the limit is {} bytes)",
        MAX_OBJECT_BYTES
    )]
    TooLarge { bytes: usize },
}

/// One occurrence of an event in a query window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Occurrence {
    pub uid: String,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub start: OccTime,
    pub end: OccTime,
    pub all_day: bool,
    /// `None` for non-recurring events; for recurring ones the RFC 3339 (or
    /// date) instant of this occurrence's original start.
    pub recurrence_id: Option<String>,
}

/// A start or end: a date for all-day events (end exclusive), otherwise an
/// instant with the event's own UTC offset.
///
/// Serializes untagged: `"2026-12-01"` or `"2026-12-01T09:00:00+01:00"`.
#[derive(Debug, Clone, PartialEq)]
pub enum OccTime {
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

impl serde::Serialize for OccTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            OccTime::Date(d) => serializer.collect_str(&d.format("%Y-%m-%d")),
            OccTime::DateTime(dt) => {
                serializer.serialize_str(&dt.to_rfc3339_opts(SecondsFormat::Secs, false))
            }
        }
    }
}

impl OccTime {
    /// Unix seconds; dates are taken as local midnight in `local`.
    pub fn to_utc_sort_key(&self, local: chrono_tz::Tz) -> i64 {
        match self {
            OccTime::Date(d) => {
                tz::localize_tz(&local, d.and_time(chrono::NaiveTime::MIN)).timestamp()
            }
            OccTime::DateTime(dt) => dt.timestamp(),
        }
    }
}

/// The local zone: `TZ` env var, else the OS zone (iana-time-zone), else UTC.
pub fn local_timezone() -> chrono_tz::Tz {
    if let Ok(tz) = std::env::var("TZ") {
        let name = tz.trim().trim_start_matches(':');
        if let Ok(z) = chrono_tz::Tz::from_str(name) {
            return z;
        }
        // e.g. TZ=/usr/share/zoneinfo/Europe/Berlin
        if let Some(Zone::Iana(z)) = tz::trailing_area_city(name) {
            return z;
        }
    }
    if let Ok(name) = iana_time_zone::get_timezone() {
        if let Ok(z) = chrono_tz::Tz::from_str(&name) {
            return z;
        }
    }
    chrono_tz::Tz::UTC
}

/// Parse one object and summarize it for the cache. Never panics, never hangs.
pub fn summarize(raw: &[u8]) -> Result<ObjectSummary, ParseError> {
    guarded(|| summary::summarize_inner(raw))
}

/// Occurrences of this object overlapping `[from, to)`. `local` is the zone
/// for floating times and all-day dates. Never panics, never hangs.
pub fn occurrences(
    raw: &[u8],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    local: chrono_tz::Tz,
) -> Result<Vec<Occurrence>, ParseError> {
    guarded(|| expand::occurrences_inner(raw, from, to, local))
}

fn guarded<T>(f: impl FnOnce() -> Result<T, ParseError>) -> Result<T, ParseError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!("calendar parsing panicked; object quarantined");
            Err(ParseError::Panicked)
        }
    }
}
