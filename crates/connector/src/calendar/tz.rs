//! Time zone resolution for TZID parameters.
//!
//! Order: fixed `GMT±HHMM` offsets (iCloud quirk), IANA names, a CLDR
//! Windows-name table, calcard's resolver (VTIMEZONE → IANA via TZID /
//! X-LIC-LOCATION / X-MICROSOFT-CDO-TZID, plus its own alias tables),
//! prefixed TZIDs (`/mozilla.org/.../Europe/Berlin`), and finally the
//! object's own VTIMEZONE observances. Anything else is floating.

use super::rrule::{self, Rule};
use calcard::common::PartialDateTime;
use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty, ICalendarValue};
use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

/// The zone a DATE-TIME value is interpreted in.
#[derive(Debug, Clone)]
pub(crate) enum Zone {
    /// No zone: interpreted in the caller's local zone.
    Floating,
    Fixed(FixedOffset),
    Iana(chrono_tz::Tz),
    /// Offsets computed from the object's own VTIMEZONE observances.
    Rules(Arc<VtzRules>),
}

impl Zone {
    /// Wall-clock time in this zone → instant with the offset in effect.
    /// Times in a DST gap move forward (RFC 5545 §3.3.5); ambiguous times take
    /// the earlier instant.
    pub(crate) fn localize(
        &self,
        naive: NaiveDateTime,
        local: chrono_tz::Tz,
    ) -> DateTime<FixedOffset> {
        match self {
            Zone::Floating => localize_tz(&local, naive),
            Zone::Iana(tz) => localize_tz(tz, naive),
            Zone::Fixed(off) => localize_tz(off, naive),
            Zone::Rules(rules) => {
                let off =
                    FixedOffset::east_opt(rules.offset_at_local(naive)).unwrap_or(utc_offset());
                localize_tz(&off, naive)
            }
        }
    }

    /// Instant → wall-clock representation in this zone.
    pub(crate) fn at_utc(&self, utc: NaiveDateTime, local: chrono_tz::Tz) -> DateTime<FixedOffset> {
        match self {
            Zone::Floating => local.from_utc_datetime(&utc).fixed_offset(),
            Zone::Iana(tz) => tz.from_utc_datetime(&utc).fixed_offset(),
            Zone::Fixed(off) => off.from_utc_datetime(&utc),
            Zone::Rules(rules) => {
                // Approximation: look up with the standard offset applied.
                let guess = utc + TimeDelta::seconds(i64::from(rules.offset_at_local(utc)));
                let off =
                    FixedOffset::east_opt(rules.offset_at_local(guess)).unwrap_or(utc_offset());
                off.from_utc_datetime(&utc)
            }
        }
    }
}

pub(crate) fn utc_offset() -> FixedOffset {
    Utc.fix()
}

/// Resolve a wall-clock time in any chrono zone, never failing.
pub(crate) fn localize_tz<T: TimeZone>(tz: &T, naive: NaiveDateTime) -> DateTime<FixedOffset> {
    let mut probe = naive;
    // A DST gap is at most a few hours wide; step forward in 30 min steps.
    for _ in 0..8 {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(dt) => return dt.fixed_offset(),
            LocalResult::Ambiguous(a, _) => return a.fixed_offset(),
            LocalResult::None => {
                probe = match probe.checked_add_signed(TimeDelta::minutes(30)) {
                    Some(p) => p,
                    None => break,
                };
            }
        }
    }
    Utc.from_utc_datetime(&naive).fixed_offset()
}

/// One transition from a VTIMEZONE observance.
#[derive(Debug, Clone)]
struct Transition {
    onset_local: NaiveDateTime,
    offset_to: i32,
    offset_from: i32,
}

/// Offsets defined by a VTIMEZONE's STANDARD/DAYLIGHT sub-components.
#[derive(Debug, Clone, Default)]
pub(crate) struct VtzRules {
    transitions: Vec<Transition>,
}

impl VtzRules {
    pub(crate) fn offset_at_local(&self, t: NaiveDateTime) -> i32 {
        let idx = self.transitions.partition_point(|tr| tr.onset_local <= t);
        if idx == 0 {
            self.transitions
                .first()
                .map(|tr| tr.offset_from)
                .unwrap_or(0)
        } else {
            self.transitions
                .get(idx - 1)
                .map(|tr| tr.offset_to)
                .unwrap_or(0)
        }
    }
}

/// Resolves TZIDs for one object; caches results.
pub(crate) struct ZoneResolver<'a> {
    ical: &'a ICalendar,
    calcard: calcard::icalendar::timezone::TzResolver<&'a str>,
    cache: HashMap<String, Zone>,
    /// Recurrence-expansion work left for all VTIMEZONE observances of this object together
    /// (a thousand observances with rules that never match must not cost a thousand budgets).
    vtz_budget: std::cell::Cell<u64>,
}

/// Expansion work for VTIMEZONE observance rules, per object.
const VTIMEZONE_BUDGET: u64 = 400_000;

impl<'a> ZoneResolver<'a> {
    pub(crate) fn new(ical: &'a ICalendar) -> Self {
        Self {
            ical,
            calcard: ical.build_tz_resolver(),
            cache: HashMap::new(),
            vtz_budget: std::cell::Cell::new(VTIMEZONE_BUDGET),
        }
    }

    pub(crate) fn resolve(&mut self, tzid: Option<&str>) -> Zone {
        let Some(tzid) = tzid else {
            return Zone::Floating;
        };
        if let Some(z) = self.cache.get(tzid) {
            return z.clone();
        }
        let zone = self.resolve_uncached(tzid);
        self.cache.insert(tzid.to_string(), zone.clone());
        zone
    }

    fn resolve_uncached(&self, raw: &str) -> Zone {
        let name = clean_tzid(raw);
        if let Some(z) = resolve_name(name) {
            return z;
        }
        for candidate in [raw, name] {
            if let Some(tz) = self.calcard.resolve(candidate) {
                if let Some(z) = from_calcard_tz(tz) {
                    return z;
                }
            }
        }
        if let Some(z) = trailing_area_city(name) {
            return z;
        }
        if let Some(rules) = self.vtimezone_rules(raw, name) {
            return Zone::Rules(Arc::new(rules));
        }
        tracing::debug!(
            tzid = raw,
            "unknown TZID without usable VTIMEZONE; treating as floating"
        );
        Zone::Floating
    }

    fn vtimezone_rules(&self, raw: &str, name: &str) -> Option<VtzRules> {
        let comps = &self.ical.components;
        let vtz = comps.iter().find(|c| {
            c.component_type == ICalendarComponentType::VTimezone
                && c.entries.iter().any(|e| {
                    e.name == ICalendarProperty::Tzid
                        && e.values
                            .first()
                            .and_then(|v| v.as_text())
                            .is_some_and(|t| t == raw || clean_tzid(t) == name)
                })
        })?;
        let mut transitions = Vec::new();
        for child_id in &vtz.component_ids {
            let Some(child) = comps.get(*child_id as usize) else {
                continue;
            };
            if !matches!(
                child.component_type,
                ICalendarComponentType::Standard | ICalendarComponentType::Daylight
            ) {
                continue;
            }
            let mut dtstart = None;
            let mut from = None;
            let mut to = None;
            let mut rule = None;
            let mut rdates = Vec::new();
            for e in &child.entries {
                match (&e.name, e.values.first()) {
                    (ICalendarProperty::Dtstart, Some(ICalendarValue::PartialDateTime(p))) => {
                        dtstart = naive_of(p);
                    }
                    (ICalendarProperty::Tzoffsetfrom, Some(ICalendarValue::PartialDateTime(p))) => {
                        from = offset_of(p);
                    }
                    (ICalendarProperty::Tzoffsetto, Some(ICalendarValue::PartialDateTime(p))) => {
                        to = offset_of(p);
                    }
                    (ICalendarProperty::Rrule, Some(ICalendarValue::RecurrenceRule(r))) => {
                        rule = Some(r.clone());
                    }
                    (ICalendarProperty::Rdate, _) => {
                        for v in &e.values {
                            if let ICalendarValue::PartialDateTime(p) = v {
                                if let Some(n) = naive_of(p) {
                                    rdates.push(n);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            let (Some(start), Some(to)) = (dtstart, to) else {
                continue;
            };
            let from = from.unwrap_or(to);
            let mut onsets = vec![start];
            if let Some(r) = rule {
                let until = r.until.as_ref().and_then(|u| {
                    let n = naive_of(u)?;
                    // UNTIL is UTC in VTIMEZONE; convert to local wall time.
                    if u.tz_hour.is_some() {
                        n.checked_add_signed(TimeDelta::seconds(i64::from(from)))
                    } else {
                        Some(n)
                    }
                });
                let rule = Rule::from_calcard(&r, until);
                let end = chrono::NaiveDate::from_ymd_opt(2200, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0));
                if let Some(end) = end {
                    let mut budget = self.vtz_budget.get().min(200_000);
                    let before = budget;
                    let exp = rrule::expand(&rule, start, None, end, 1000, &mut budget);
                    self.vtz_budget
                        .set(self.vtz_budget.get().saturating_sub(before - budget));
                    onsets.extend(exp.items);
                }
            }
            onsets.extend(rdates);
            for onset in onsets {
                transitions.push(Transition {
                    onset_local: onset,
                    offset_to: to,
                    offset_from: from,
                });
            }
        }
        if transitions.is_empty() {
            return None;
        }
        transitions.sort_by_key(|t| t.onset_local);
        Some(VtzRules { transitions })
    }
}

fn offset_of(p: &calcard::common::PartialDateTime) -> Option<i32> {
    let h = i32::from(p.tz_hour?);
    let m = i32::from(p.tz_minute.unwrap_or(0));
    let secs = h * 3600 + m * 60;
    if secs > 26 * 3600 {
        return None;
    }
    Some(if p.tz_minus { -secs } else { secs })
}

fn from_calcard_tz(tz: calcard::common::timezone::Tz) -> Option<Zone> {
    match tz {
        calcard::common::timezone::Tz::Tz(t) => Some(Zone::Iana(t)),
        calcard::common::timezone::Tz::Fixed(f) => Some(Zone::Fixed(f)),
        calcard::common::timezone::Tz::Floating => None,
    }
}

/// Strip surrounding whitespace and quotes.
pub(crate) fn clean_tzid(raw: &str) -> &str {
    raw.trim().trim_matches('"').trim_matches('\'').trim()
}

/// Name-only resolution (no VTIMEZONE). calcard's resolution covers IANA names, Windows names
/// ("W. Europe Standard Time"), vendor prefixes (`/mozilla.org/20050126_1/Europe/Berlin`) and
/// Outlook's display names ("(UTC+01:00) Amsterdam, Berlin, …"); before it, what calcard lacks: an
/// offset spelled in the name (QUIRK(icloud §3.4): `GMT-0400`, `UTC+01:00`), and after it Windows'
/// "Coordinated Universal Time", the one Windows name calcard does not know.
pub(crate) fn resolve_name(name: &str) -> Option<Zone> {
    if let Some(off) = parse_gmt_offset(name) {
        return Some(Zone::Fixed(off));
    }
    if let Ok(tz) = calcard::common::timezone::Tz::from_str(name) {
        return from_calcard_tz(tz);
    }
    if name.eq_ignore_ascii_case("Coordinated Universal Time") {
        return Some(Zone::Iana(chrono_tz::Tz::UTC));
    }
    None
}

/// QUIRK(icloud §3.4): non-Olson `TZID=GMT-0400` / `GMT+0530` / `UTC+01:00`
/// — interpreted as the fixed offset it spells (GMT-0400 = UTC−04:00, not the
/// inverted POSIX `Etc/GMT-4` sense).
pub(crate) fn parse_gmt_offset(name: &str) -> Option<FixedOffset> {
    let upper = name.trim().to_ascii_uppercase();
    let rest = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))?;
    if rest.is_empty() {
        return FixedOffset::east_opt(0);
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<i32>().ok()?, 0)
    } else {
        let split = digits.len() - 2;
        (
            digits[..split].parse::<i32>().ok()?,
            digits[split..].parse::<i32>().ok()?,
        )
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `/mozilla.org/20050126_1/Europe/Berlin`,
/// `/freeassociation.sourceforge.net/Tzfile/Europe/Berlin` → `Europe/Berlin`.
pub(crate) fn trailing_area_city(name: &str) -> Option<Zone> {
    let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
    for take in [3usize, 2, 1] {
        if parts.len() < take {
            continue;
        }
        let candidate = parts[parts.len() - take..].join("/");
        if let Ok(tz) = chrono_tz::Tz::from_str(&candidate) {
            return Some(Zone::Iana(tz));
        }
    }
    None
}

/// Naive date-time (or midnight for dates) of a calcard partial date-time.
pub(crate) fn naive_of(p: &PartialDateTime) -> Option<NaiveDateTime> {
    let d = NaiveDate::from_ymd_opt(i32::from(p.year?), u32::from(p.month?), u32::from(p.day?))?;
    if p.hour.is_some() {
        let second = u32::from(p.second.unwrap_or(0)).min(59);
        d.and_hms_opt(u32::from(p.hour?), u32::from(p.minute.unwrap_or(0)), second)
    } else {
        d.and_hms_opt(0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_through_calcard_and_what_it_lacks() {
        let iana = |name: &str| match resolve_name(name) {
            Some(Zone::Iana(t)) => Some(t.name()),
            _ => None,
        };
        // Windows names, Outlook display names, vendor prefixes: calcard's.
        assert_eq!(iana("W. Europe Standard Time"), Some("Europe/Berlin"));
        assert_eq!(iana("Tokyo Standard Time"), Some("Asia/Tokyo"));
        assert_eq!(iana("Pacific Standard Time"), Some("America/Los_Angeles"));
        assert_eq!(
            iana("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"),
            Some("Europe/Berlin")
        );
        assert_eq!(
            iana("/mozilla.org/20050126_1/Europe/Berlin"),
            Some("Europe/Berlin")
        );
        assert_eq!(iana("Europe/Berlin"), Some("Europe/Berlin"));
        // What calcard lacks.
        assert_eq!(iana("Coordinated Universal Time"), Some("UTC"));
        assert!(matches!(
            resolve_name("GMT-0400"),
            Some(Zone::Fixed(o)) if o.local_minus_utc() == -4 * 3600
        ));
        assert!(matches!(
            resolve_name("UTC-11"),
            Some(Zone::Fixed(o)) if o.local_minus_utc() == -11 * 3600
        ));
        assert!(resolve_name("Not A Zone").is_none());
    }

    #[test]
    fn gmt_offsets_parse_as_fixed_offsets() {
        assert_eq!(
            parse_gmt_offset("GMT-0400").map(|o| o.local_minus_utc()),
            Some(-4 * 3600)
        );
        assert_eq!(
            parse_gmt_offset("GMT+0530").map(|o| o.local_minus_utc()),
            Some(5 * 3600 + 1800)
        );
        assert_eq!(
            parse_gmt_offset("UTC+01:00").map(|o| o.local_minus_utc()),
            Some(3600)
        );
        assert_eq!(
            parse_gmt_offset("GMT").map(|o| o.local_minus_utc()),
            Some(0)
        );
        assert!(parse_gmt_offset("GMT Standard Time").is_none());
        assert!(parse_gmt_offset("Europe/Berlin").is_none());
    }

    #[test]
    fn prefixed_tzids_resolve_to_trailing_area_city() {
        for name in [
            "/mozilla.org/20050126_1/Europe/Berlin",
            "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin",
            "/softwarestudio.org/Olson_20011030_5/Europe/Berlin",
        ] {
            assert!(
                matches!(
                    trailing_area_city(name),
                    Some(Zone::Iana(chrono_tz::Tz::Europe__Berlin))
                ),
                "{name}"
            );
        }
        assert!(matches!(
            trailing_area_city("/citadel.org/20190914_1/America/Argentina/Buenos_Aires"),
            Some(Zone::Iana(chrono_tz::Tz::America__Argentina__Buenos_Aires))
        ));
    }
}
