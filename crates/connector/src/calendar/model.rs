//! Extraction of the event model from calcard's parsed components.

use super::rrule::Rule;
use super::tz::{naive_of, Zone, ZoneResolver};
use super::ParseError;
use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarPeriod, ICalendarProperty,
    ICalendarRecurrenceRule, ICalendarStatus, ICalendarValue,
};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeDelta};

/// A DATE or DATE-TIME value with the zone it is to be read in.
#[derive(Debug, Clone)]
pub(crate) enum When {
    Date(NaiveDate),
    DateTime(NaiveDateTime, Zone),
}

impl When {
    pub(crate) fn naive(&self) -> NaiveDateTime {
        match self {
            When::Date(d) => d.and_time(chrono::NaiveTime::MIN),
            When::DateTime(n, _) => *n,
        }
    }
    pub(crate) fn date(&self) -> NaiveDate {
        match self {
            When::Date(d) => *d,
            When::DateTime(n, _) => n.date(),
        }
    }
}

/// An RDATE: a start, optionally with its own end (PERIOD values).
#[derive(Debug, Clone)]
pub(crate) struct RDate {
    pub start: When,
    pub end: Option<When>,
    pub duration: Option<TimeDelta>,
}

#[derive(Debug, Clone)]
pub(crate) struct EventComp {
    pub uid: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub start: Option<When>,
    pub end: Option<When>,
    pub duration: Option<TimeDelta>,
    pub rrule: Option<Box<ICalendarRecurrenceRule>>,
    pub rdates: Vec<RDate>,
    pub exdates: Vec<When>,
    pub recurrence_id: Option<When>,
    pub cancelled: bool,
}

pub(crate) struct Parsed {
    pub events: Vec<EventComp>,
    pub todo: bool,
    pub other: bool,
}

fn render_partial(p: &PartialDateTime) -> String {
    let mut s = String::new();
    let part = |v: Option<u8>| v.map(|v| format!("{v:02}")).unwrap_or_else(|| "??".into());
    s.push_str(
        &p.year
            .map(|y| format!("{y:04}"))
            .unwrap_or_else(|| "????".into()),
    );
    s.push_str(&part(p.month));
    s.push_str(&part(p.day));
    if p.hour.is_some() {
        s.push('T');
        s.push_str(&part(p.hour));
        s.push_str(&part(p.minute));
        s.push_str(&part(p.second));
    }
    s
}

fn value_text(v: &ICalendarValue) -> String {
    match v {
        ICalendarValue::PartialDateTime(p) => render_partial(p),
        other => other
            .as_text()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{other:?}")),
    }
}

/// Interpret one date/date-time value of `entry`.
///
/// QUIRK(icloud §3.4): lax DATE vs DATE-TIME. `VALUE=DATE:20261201T090000` is
/// read as the date (calcard keeps only the date part); a bare `20261201`
/// without `VALUE=DATE` is a date too. Values with an explicit UTC offset
/// (`Z` or `+0100`) use that offset and ignore TZID.
fn when_of(
    p: &PartialDateTime,
    entry: &ICalendarEntry,
    zones: &mut ZoneResolver<'_>,
) -> Option<When> {
    let naive = naive_of(p)?;
    if !p.has_time() {
        return Some(When::Date(naive.date()));
    }
    if let Some(h) = p.tz_hour {
        let secs = i32::from(h) * 3600 + i32::from(p.tz_minute.unwrap_or(0)) * 60;
        let secs = if p.tz_minus { -secs } else { secs };
        let off = FixedOffset::east_opt(secs)?;
        return Some(When::DateTime(naive, Zone::Fixed(off)));
    }
    Some(When::DateTime(naive, zones.resolve(entry.tz_id())))
}

fn first_when(
    entry: &ICalendarEntry,
    zones: &mut ZoneResolver<'_>,
    property: &str,
) -> Result<Option<When>, ParseError> {
    match entry.values.first() {
        Some(ICalendarValue::PartialDateTime(p)) => match when_of(p, entry, zones) {
            Some(w) => Ok(Some(w)),
            None => Err(ParseError::InvalidDate {
                property: property.into(),
                value: render_partial(p),
            }),
        },
        Some(other) => Err(ParseError::InvalidDate {
            property: property.into(),
            value: value_text(other),
        }),
        None => Err(ParseError::InvalidDate {
            property: property.into(),
            value: String::new(),
        }),
    }
}

fn text_of(entry: &ICalendarEntry) -> Option<String> {
    let parts: Vec<&str> = entry.values.iter().filter_map(|v| v.as_text()).collect();
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(","))
    }
}

/// Build an event from a VEVENT. Errors only for the master's DTSTART; every
/// other unreadable property is ignored (logged) so the event stays visible.
fn event_of(
    comp: &ICalendarComponent,
    zones: &mut ZoneResolver<'_>,
) -> Result<EventComp, ParseError> {
    let mut ev = EventComp {
        uid: None,
        summary: None,
        location: None,
        start: None,
        end: None,
        duration: None,
        rrule: None,
        rdates: Vec::new(),
        exdates: Vec::new(),
        recurrence_id: None,
        cancelled: false,
    };
    let mut start_err = None;
    // QUIRK(icloud §3.4): duplicate DTSTAMP (and other duplicated single-valued
    // properties) — the first occurrence wins; DTSTAMP is not used at all.
    for entry in &comp.entries {
        match &entry.name {
            ICalendarProperty::Uid if ev.uid.is_none() => {
                ev.uid = text_of(entry)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            ICalendarProperty::Summary if ev.summary.is_none() => ev.summary = text_of(entry),
            ICalendarProperty::Location if ev.location.is_none() => ev.location = text_of(entry),
            ICalendarProperty::Dtstart if ev.start.is_none() && start_err.is_none() => {
                match first_when(entry, zones, "DTSTART") {
                    Ok(w) => ev.start = w,
                    Err(e) => start_err = Some(e),
                }
            }
            ICalendarProperty::Dtend if ev.end.is_none() => match first_when(entry, zones, "DTEND")
            {
                Ok(w) => ev.end = w,
                Err(e) => tracing::debug!(error = %e, "ignoring unreadable DTEND"),
            },
            ICalendarProperty::Duration if ev.duration.is_none() => {
                if let Some(ICalendarValue::Duration(d)) = entry.values.first() {
                    ev.duration = d.to_time_delta();
                }
            }
            ICalendarProperty::Rrule if ev.rrule.is_none() => match entry.values.first() {
                Some(ICalendarValue::RecurrenceRule(r)) => ev.rrule = Some(r.clone()),
                other => tracing::debug!(value = ?other, "ignoring unreadable RRULE"),
            },
            ICalendarProperty::Rdate => {
                for v in &entry.values {
                    match v {
                        ICalendarValue::PartialDateTime(p) => {
                            if let Some(w) = when_of(p, entry, zones) {
                                ev.rdates.push(RDate {
                                    start: w,
                                    end: None,
                                    duration: None,
                                });
                            }
                        }
                        ICalendarValue::Period(ICalendarPeriod::Range { start, end }) => {
                            if let (Some(s), Some(e)) =
                                (when_of(start, entry, zones), when_of(end, entry, zones))
                            {
                                ev.rdates.push(RDate {
                                    start: s,
                                    end: Some(e),
                                    duration: None,
                                });
                            }
                        }
                        ICalendarValue::Period(ICalendarPeriod::Duration { start, duration }) => {
                            if let Some(s) = when_of(start, entry, zones) {
                                ev.rdates.push(RDate {
                                    start: s,
                                    end: None,
                                    duration: duration.to_time_delta(),
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            ICalendarProperty::Exdate => {
                for v in &entry.values {
                    if let ICalendarValue::PartialDateTime(p) = v {
                        if let Some(w) = when_of(p, entry, zones) {
                            ev.exdates.push(w);
                        }
                    }
                }
            }
            ICalendarProperty::RecurrenceId if ev.recurrence_id.is_none() => {
                if let Ok(w) = first_when(entry, zones, "RECURRENCE-ID") {
                    ev.recurrence_id = w;
                }
            }
            ICalendarProperty::Status => {
                if let Some(ICalendarValue::Status(ICalendarStatus::Cancelled)) =
                    entry.values.first()
                {
                    ev.cancelled = true;
                } else if entry
                    .values
                    .first()
                    .and_then(|v| v.as_text())
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("CANCELLED"))
                {
                    ev.cancelled = true;
                }
            }
            // QUIRK(icloud §3.4): X-APPLE-STRUCTURED-LOCATION (huge folded base64
            // X-APPLE-MAPKIT-HANDLE params), X-APPLE-STRUCTURED-DATA (binary
            // plist), X-APPLE-STRUCTURED-EVENT, and
            // RELATED-TO;RELTYPE=X-CALENDARSERVER-RECURRENCE-SET are parsed by
            // calcard as opaque properties and deliberately ignored here.
            _ => {}
        }
    }
    if ev.start.is_none() {
        if let Some(e) = start_err {
            // An override without a readable DTSTART still has its RECURRENCE-ID.
            if ev.recurrence_id.is_none() {
                return Err(e);
            }
        }
    }
    Ok(ev)
}

/// Extract all VEVENTs (masters and overrides). VALARMs are separate
/// components in calcard and never looked at.
/// QUIRK(icloud §3.4): ACTION:NONE alarms with 1976 triggers therefore cannot
/// affect anything.
pub(crate) fn extract(
    ical: &calcard::icalendar::ICalendar,
    zones: &mut ZoneResolver<'_>,
) -> Result<Parsed, ParseError> {
    let mut events = Vec::new();
    let mut todo = false;
    let mut other = false;
    let mut first_err = None;
    for comp in &ical.components {
        match comp.component_type {
            ICalendarComponentType::VEvent => match event_of(comp, zones) {
                Ok(ev) => events.push(ev),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            },
            ICalendarComponentType::VTodo => todo = true,
            ICalendarComponentType::VJournal
            | ICalendarComponentType::VFreebusy
            | ICalendarComponentType::VAvailability => other = true,
            _ => {}
        }
    }
    if let Some(e) = first_err {
        // A broken override next to a good master is tolerated; a broken
        // master (or a lone broken VEVENT) is reported.
        let has_master = events
            .iter()
            .any(|e| e.recurrence_id.is_none() && e.start.is_some());
        if !has_master {
            return Err(e);
        }
    }
    Ok(Parsed {
        events,
        todo,
        other,
    })
}

/// Build our rule from calcard's, resolving UNTIL into DTSTART's wall clock.
pub(crate) fn rule_of(r: &ICalendarRecurrenceRule, start: &When, local: chrono_tz::Tz) -> Rule {
    let until = r.until.as_ref().and_then(|u| {
        let n = naive_of(u)?;
        if !u.has_time() {
            // DATE until: inclusive of the whole day.
            return n.date().and_hms_opt(23, 59, 59);
        }
        match (start, u.tz_hour) {
            (When::DateTime(_, zone), Some(h)) => {
                let secs = i64::from(h) * 3600 + i64::from(u.tz_minute.unwrap_or(0)) * 60;
                let utc = if u.tz_minus {
                    n + TimeDelta::seconds(secs)
                } else {
                    n - TimeDelta::seconds(secs)
                };
                Some(zone.at_utc(utc, local).naive_local())
            }
            _ => Some(n),
        }
    });
    Rule::from_calcard(r, until)
}
