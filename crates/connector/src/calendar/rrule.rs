//! Windowed, bounded RRULE expansion in wall-clock (naive) time.
//!
//! calcard 0.3.14's expansion (`ICalendar::expand_dates`) always iterates from
//! DTSTART and only offers a total-count limit, and its `RRuleIter` is
//! crate-private, so an infinite rule queried years after DTSTART (or a
//! SECONDLY rule) cannot be expanded for a window efficiently. This module
//! implements RFC 5545 §3.3.10 expansion period by period (year, month, week,
//! day, hour, minute, second) and can jump directly to the period containing
//! the window start when that is safe (no COUNT, or COUNT on a rule whose
//! periods each yield exactly one instance). Work is bounded by a budget.

use calcard::icalendar::{ICalendarFrequency, ICalendarRecurrenceRule};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Freq {
    Yearly,
    Monthly,
    Weekly,
    Daily,
    Hourly,
    Minutely,
    Secondly,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub freq: Freq,
    pub interval: u32,
    pub count: Option<u32>,
    /// Inclusive bound in the same wall-clock frame as DTSTART.
    pub until: Option<NaiveDateTime>,
    pub wkst: Weekday,
    pub bysecond: Vec<u32>,
    pub byminute: Vec<u32>,
    pub byhour: Vec<u32>,
    pub byday: Vec<(Option<i32>, Weekday)>,
    pub bymonthday: Vec<i32>,
    pub byyearday: Vec<i32>,
    pub byweekno: Vec<i32>,
    pub bymonth: Vec<u32>,
    pub bysetpos: Vec<i32>,
}

impl Rule {
    pub(crate) fn from_calcard(r: &ICalendarRecurrenceRule, until: Option<NaiveDateTime>) -> Self {
        let freq = match r.freq {
            ICalendarFrequency::Yearly => Freq::Yearly,
            ICalendarFrequency::Monthly => Freq::Monthly,
            ICalendarFrequency::Weekly => Freq::Weekly,
            ICalendarFrequency::Daily => Freq::Daily,
            ICalendarFrequency::Hourly => Freq::Hourly,
            ICalendarFrequency::Minutely => Freq::Minutely,
            ICalendarFrequency::Secondly => Freq::Secondly,
        };
        Rule {
            freq,
            interval: u32::from(r.interval.unwrap_or(1)).max(1),
            count: r.count,
            until,
            wkst: r.wkst.map(Weekday::from).unwrap_or(Weekday::Mon),
            bysecond: r
                .bysecond
                .iter()
                .map(|v| u32::from(*v))
                .filter(|v| *v < 60)
                .collect(),
            byminute: r
                .byminute
                .iter()
                .map(|v| u32::from(*v))
                .filter(|v| *v < 60)
                .collect(),
            byhour: r
                .byhour
                .iter()
                .map(|v| u32::from(*v))
                .filter(|v| *v < 24)
                .collect(),
            byday: r
                .byday
                .iter()
                .map(|d| {
                    (
                        d.ordwk.map(i32::from).filter(|n| *n != 0),
                        Weekday::from(d.weekday),
                    )
                })
                .collect(),
            bymonthday: r
                .bymonthday
                .iter()
                .map(|v| i32::from(*v))
                .filter(|v| *v != 0)
                .collect(),
            byyearday: r
                .byyearday
                .iter()
                .map(|v| i32::from(*v))
                .filter(|v| *v != 0)
                .collect(),
            byweekno: r
                .byweekno
                .iter()
                .map(|v| i32::from(*v))
                .filter(|v| *v != 0)
                .collect(),
            bymonth: r
                .bymonth
                .iter()
                .map(|m| u32::from(m.month()))
                .filter(|m| (1..=12).contains(m))
                .collect(),
            bysetpos: r.bysetpos.clone(),
        }
    }

    fn has_by_parts(&self) -> bool {
        !(self.bysecond.is_empty()
            && self.byminute.is_empty()
            && self.byhour.is_empty()
            && self.byday.is_empty()
            && self.bymonthday.is_empty()
            && self.byyearday.is_empty()
            && self.byweekno.is_empty()
            && self.bymonth.is_empty()
            && self.bysetpos.is_empty())
    }
}

#[derive(Debug, Default)]
pub(crate) struct Expansion {
    pub items: Vec<NaiveDateTime>,
    /// The budget ran out (or `max` was hit) before the rule was exhausted
    /// within the requested range.
    pub truncated: bool,
}

/// Rule with RFC defaults filled in from DTSTART.
struct RuleWithDefaults<'a> {
    rule: &'a Rule,
    bymonth: Vec<u32>,
    bymonthday: Vec<i32>,
    byday: Vec<(Option<i32>, Weekday)>,
    hours: Vec<u32>,
    minutes: Vec<u32>,
    seconds: Vec<u32>,
}

impl<'a> RuleWithDefaults<'a> {
    fn new(rule: &'a Rule, dtstart: NaiveDateTime) -> Self {
        let mut bymonth = rule.bymonth.clone();
        let mut bymonthday = rule.bymonthday.clone();
        let mut byday = rule.byday.clone();
        let no_day_parts = rule.byweekno.is_empty()
            && rule.byyearday.is_empty()
            && rule.bymonthday.is_empty()
            && rule.byday.is_empty();
        if no_day_parts {
            match rule.freq {
                Freq::Yearly => {
                    if bymonth.is_empty() {
                        bymonth = vec![dtstart.month()];
                    }
                    bymonthday = vec![dtstart.day() as i32];
                }
                Freq::Monthly => bymonthday = vec![dtstart.day() as i32],
                Freq::Weekly => byday = vec![(None, dtstart.weekday())],
                _ => {}
            }
        }
        let mut hours = rule.byhour.clone();
        let mut minutes = rule.byminute.clone();
        let mut seconds = rule.bysecond.clone();
        if hours.is_empty() && rule.freq < Freq::Hourly {
            hours = vec![dtstart.hour()];
        }
        if minutes.is_empty() && rule.freq < Freq::Minutely {
            minutes = vec![dtstart.minute()];
        }
        if seconds.is_empty() && rule.freq < Freq::Secondly {
            seconds = vec![dtstart.second()];
        }
        for v in [&mut hours, &mut minutes, &mut seconds] {
            v.sort_unstable();
            v.dedup();
        }
        RuleWithDefaults {
            rule,
            bymonth,
            bymonthday,
            byday,
            hours,
            minutes,
            seconds,
        }
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        if !self.bymonth.is_empty() && !self.bymonth.contains(&d.month()) {
            return false;
        }
        let year_len = if d.leap_year() { 366 } else { 365 };
        if !self.rule.byweekno.is_empty() {
            let (wk, weeks_in_year) = week_number(d, self.rule.wkst);
            if !self.rule.byweekno.iter().any(|n| {
                if *n > 0 {
                    *n == wk
                } else {
                    weeks_in_year + n + 1 == wk
                }
            }) {
                return false;
            }
        }
        if !self.rule.byyearday.is_empty() {
            let ord = d.ordinal() as i32;
            if !self.rule.byyearday.iter().any(|n| {
                if *n > 0 {
                    *n == ord
                } else {
                    year_len + n + 1 == ord
                }
            }) {
                return false;
            }
        }
        if !self.bymonthday.is_empty() {
            let mlen = month_len(d.year(), d.month()) as i32;
            let day = d.day() as i32;
            if !self.bymonthday.iter().any(|n| {
                if *n > 0 {
                    *n == day
                } else {
                    mlen + n + 1 == day
                }
            }) {
                return false;
            }
        }
        if !self.byday.is_empty() {
            let in_month = self.rule.freq == Freq::Monthly
                || (self.rule.freq == Freq::Yearly && !self.rule.bymonth.is_empty());
            let positional = matches!(self.rule.freq, Freq::Monthly | Freq::Yearly)
                && self.rule.byweekno.is_empty();
            let ok = self.byday.iter().any(|(n, wd)| {
                if d.weekday() != *wd {
                    return false;
                }
                match n {
                    Some(n) if positional => {
                        let (idx, total) = if in_month {
                            let idx = (d.day() as i32 - 1) / 7 + 1;
                            let total =
                                idx + (month_len(d.year(), d.month()) as i32 - d.day() as i32) / 7;
                            (idx, total)
                        } else {
                            let idx = (d.ordinal() as i32 - 1) / 7 + 1;
                            let total = idx + (year_len - d.ordinal() as i32) / 7;
                            (idx, total)
                        };
                        if *n > 0 {
                            *n == idx
                        } else {
                            total + n + 1 == idx
                        }
                    }
                    _ => true,
                }
            });
            if !ok {
                return false;
            }
        }
        true
    }
}

fn month_len(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(ny, nm, 1),
        NaiveDate::from_ymd_opt(year, month, 1),
    ) {
        (Some(a), Some(b)) => (a - b).num_days() as u32,
        _ => 31,
    }
}

/// Week number per RFC 5545 (week 1 = first week with ≥4 days of the year,
/// weeks starting on `wkst`), and the number of weeks in that year. Days that
/// belong to the neighbouring year's week numbering return 0.
fn week_number(d: NaiveDate, wkst: Weekday) -> (i32, i32) {
    let year = d.year();
    let week1_start = |y: i32| -> Option<NaiveDate> {
        let jan1 = NaiveDate::from_ymd_opt(y, 1, 1)?;
        let offset = (7 + jan1.weekday().num_days_from_monday() as i64
            - wkst.num_days_from_monday() as i64)
            % 7;
        let start = jan1 - TimeDelta::days(offset);
        // If the week containing Jan 1 has fewer than 4 days in the year, week 1 starts a week later.
        Some(if 7 - offset < 4 {
            start + TimeDelta::days(7)
        } else {
            start
        })
    };
    let (Some(this), Some(next)) = (week1_start(year), week1_start(year + 1)) else {
        return (0, 52);
    };
    let weeks_in_year = ((next - this).num_days() / 7) as i32;
    if d < this || d >= next {
        return (0, weeks_in_year);
    }
    (((d - this).num_days() / 7) as i32 + 1, weeks_in_year)
}

fn week_start(d: NaiveDate, wkst: Weekday) -> NaiveDate {
    let back =
        (7 + d.weekday().num_days_from_monday() as i64 - wkst.num_days_from_monday() as i64) % 7;
    d - TimeDelta::days(back)
}

/// Start of the period containing `dt`.
fn period_base(dt: NaiveDateTime, freq: Freq, wkst: Weekday) -> Option<NaiveDateTime> {
    let d = dt.date();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
    match freq {
        Freq::Yearly => NaiveDate::from_ymd_opt(d.year(), 1, 1).and_then(midnight),
        Freq::Monthly => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).and_then(midnight),
        Freq::Weekly => midnight(week_start(d, wkst)),
        Freq::Daily => midnight(d),
        Freq::Hourly => d.and_hms_opt(dt.hour(), 0, 0),
        Freq::Minutely => d.and_hms_opt(dt.hour(), dt.minute(), 0),
        Freq::Secondly => Some(dt.with_nanosecond(0).unwrap_or(dt)),
    }
}

/// Start of period number `n` (in units of the frequency) after `base`.
fn period_nth(base: NaiveDateTime, freq: Freq, n: u64) -> Option<NaiveDateTime> {
    let n_i64 = i64::try_from(n).ok()?;
    match freq {
        Freq::Yearly => {
            base.checked_add_months(Months::new(u32::try_from(n.checked_mul(12)?).ok()?))
        }
        Freq::Monthly => base.checked_add_months(Months::new(u32::try_from(n).ok()?)),
        Freq::Weekly => base.checked_add_signed(TimeDelta::try_days(n_i64.checked_mul(7)?)?),
        Freq::Daily => base.checked_add_signed(TimeDelta::try_days(n_i64)?),
        Freq::Hourly => base.checked_add_signed(TimeDelta::try_hours(n_i64)?),
        Freq::Minutely => base.checked_add_signed(TimeDelta::try_minutes(n_i64)?),
        Freq::Secondly => base.checked_add_signed(TimeDelta::try_seconds(n_i64)?),
    }
    .filter(|d| d.year() <= 9999)
}

/// Number of whole frequency units from `base` to `target` (0 if before).
fn units_between(base: NaiveDateTime, target: NaiveDateTime, freq: Freq) -> u64 {
    if target <= base {
        return 0;
    }
    let units = match freq {
        Freq::Yearly => i64::from(target.year() - base.year()),
        Freq::Monthly => {
            i64::from(target.year() - base.year()) * 12 + i64::from(target.month())
                - i64::from(base.month())
        }
        Freq::Weekly => (target - base).num_days() / 7,
        Freq::Daily => (target - base).num_days(),
        Freq::Hourly => (target - base).num_hours(),
        Freq::Minutely => (target - base).num_minutes(),
        Freq::Secondly => (target - base).num_seconds(),
    };
    u64::try_from(units).unwrap_or(0)
}

/// Whether every period yields exactly one instance (at the same position as
/// DTSTART), so COUNT can be accounted for arithmetically when skipping.
fn one_per_period(rule: &Rule, dtstart: NaiveDateTime) -> bool {
    if rule.has_by_parts() {
        return false;
    }
    match rule.freq {
        Freq::Monthly => dtstart.day() <= 28,
        Freq::Yearly => !(dtstart.month() == 2 && dtstart.day() == 29),
        _ => true,
    }
}

/// Expand `rule` from `dtstart`, returning instances `t` with
/// `range_start <= t < range_end` (ascending), DTSTART itself included as the
/// first instance (RFC 5545: DTSTART always counts). At most `max` items;
/// every period/day examined costs one unit of `budget`.
pub(crate) fn expand(
    rule: &Rule,
    dtstart: NaiveDateTime,
    range_start: Option<NaiveDateTime>,
    range_end: NaiveDateTime,
    max: usize,
    budget: &mut u64,
) -> Expansion {
    let mut items = Vec::new();
    if max == 0 {
        return Expansion {
            items,
            truncated: true,
        };
    }
    let mut hit_max = false;
    let truncated = expand_with(rule, dtstart, range_start, range_end, budget, &mut |t| {
        items.push(t);
        if items.len() >= max {
            hit_max = true;
            false
        } else {
            true
        }
    });
    Expansion {
        items,
        truncated: truncated || hit_max,
    }
}

/// Streaming form of [`expand`]: `on_item` is called for every instance in
/// range, in ascending order, and returns `false` to stop. Returns `true` when
/// the work budget ran out before the rule or range was exhausted.
pub(crate) fn expand_with(
    rule: &Rule,
    dtstart: NaiveDateTime,
    range_start: Option<NaiveDateTime>,
    range_end: NaiveDateTime,
    budget: &mut u64,
    on_item: &mut dyn FnMut(NaiveDateTime) -> bool,
) -> bool {
    let eff = RuleWithDefaults::new(rule, dtstart);
    let in_range = |t: NaiveDateTime| range_start.is_none_or(|s| t >= s) && t < range_end;
    let interval = u64::from(rule.interval.max(1));

    // DTSTART is always the first instance.
    let mut emitted: u64 = 1;
    if in_range(dtstart) && !on_item(dtstart) {
        return false;
    }
    if rule.count == Some(1) || rule.count == Some(0) {
        return false;
    }
    let Some(base) = period_base(dtstart, rule.freq, rule.wkst) else {
        return false;
    };

    // Skip ahead to (one period before) the period containing range_start.
    let mut k: u64 = 0;
    if let Some(rs) = range_start {
        let skip = units_between(base, rs, rule.freq) / interval;
        let skip = skip.saturating_sub(1);
        if skip > 0 {
            if rule.count.is_none() {
                k = skip;
            } else if one_per_period(rule, dtstart) {
                k = skip;
                // Periods 0..skip each produced exactly one instance (period 0: DTSTART).
                emitted = skip;
            }
        }
    }
    if let Some(count) = rule.count {
        if emitted >= u64::from(count) {
            return false;
        }
    }

    let sub_daily = rule.freq >= Freq::Hourly;
    // Sub-daily rules visit each day up to 86,400 times: remember the last day's verdict, and
    // reuse one candidate buffer, so a budget's worth of periods stays cheap.
    let mut day_verdict: Option<(NaiveDate, bool)> = None;
    let mut candidates: Vec<NaiveDateTime> = Vec::new();
    loop {
        if *budget == 0 {
            return true;
        }
        *budget -= 1;
        let Some(units) = k.checked_mul(interval) else {
            return false;
        };
        let Some(pstart) = period_nth(base, rule.freq, units) else {
            return false;
        };
        if pstart >= range_end {
            return false;
        }
        if rule.until.is_some_and(|u| pstart > u) {
            return false;
        }

        // Sub-daily frequencies: skip whole days / hours / minutes that cannot match.
        if sub_daily {
            let day = pstart.date();
            let day_ok = match day_verdict {
                Some((d, ok)) if d == day => ok,
                _ => {
                    let ok = eff.day_matches(day);
                    day_verdict = Some((day, ok));
                    ok
                }
            };
            let next_boundary = if !day_ok {
                pstart
                    .date()
                    .succ_opt()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            } else if rule.freq > Freq::Hourly
                && !eff.rule.byhour.is_empty()
                && !eff.rule.byhour.contains(&pstart.hour())
            {
                pstart
                    .with_minute(0)
                    .and_then(|t| t.with_second(0))
                    .map(|t| t + TimeDelta::hours(1))
            } else if rule.freq > Freq::Minutely
                && !eff.rule.byminute.is_empty()
                && !eff.rule.byminute.contains(&pstart.minute())
            {
                pstart.with_second(0).map(|t| t + TimeDelta::minutes(1))
            } else if rule.freq == Freq::Secondly
                && !eff.rule.bysecond.is_empty()
                && !eff.rule.bysecond.contains(&pstart.second())
            {
                // The next listed second in this minute, else the next minute.
                match eff
                    .rule
                    .bysecond
                    .iter()
                    .filter(|s| **s > pstart.second())
                    .min()
                {
                    Some(s) => pstart.with_second(*s),
                    None => pstart.with_second(0).map(|t| t + TimeDelta::minutes(1)),
                }
            } else {
                None
            };
            if let Some(nb) = next_boundary {
                let units_to = units_between(base, nb, rule.freq);
                let next_k = units_to.div_ceil(interval);
                k = next_k.max(k + 1);
                continue;
            }
            if rule.freq == Freq::Hourly
                && !eff.rule.byhour.is_empty()
                && !eff.rule.byhour.contains(&pstart.hour())
            {
                k += 1;
                continue;
            }
        }

        // Candidate set for this period.
        candidates.clear();
        match rule.freq {
            Freq::Yearly | Freq::Monthly | Freq::Weekly | Freq::Daily => {
                let first = pstart.date();
                let days: u64 = match rule.freq {
                    Freq::Yearly => {
                        if first.leap_year() {
                            366
                        } else {
                            365
                        }
                    }
                    Freq::Monthly => u64::from(month_len(first.year(), first.month())),
                    Freq::Weekly => 7,
                    _ => 1,
                };
                *budget = budget.saturating_sub(days / 8);
                // Every candidate costs a unit too: BYHOUR × BYMINUTE × BYSECOND can put 86,400
                // candidates on each day (31.6 million in one YEARLY period).
                let per_day = (eff.hours.len() * eff.minutes.len() * eff.seconds.len()) as u64;
                let mut d = first;
                for _ in 0..days {
                    if eff.day_matches(d) {
                        if *budget < per_day {
                            *budget = 0;
                            return true;
                        }
                        *budget -= per_day;
                        for h in &eff.hours {
                            for m in &eff.minutes {
                                for s in &eff.seconds {
                                    if let Some(t) = NaiveTime::from_hms_opt(*h, *m, *s) {
                                        candidates.push(d.and_time(t));
                                    }
                                }
                            }
                        }
                    }
                    match d.succ_opt() {
                        Some(n) => d = n,
                        None => break,
                    }
                }
            }
            Freq::Hourly => {
                for m in &eff.minutes {
                    for s in &eff.seconds {
                        if let Some(t) = pstart.with_minute(*m).and_then(|t| t.with_second(*s)) {
                            candidates.push(t);
                        }
                    }
                }
            }
            Freq::Minutely => {
                for s in &eff.seconds {
                    if let Some(t) = pstart.with_second(*s) {
                        candidates.push(t);
                    }
                }
            }
            Freq::Secondly => {
                if eff.rule.bysecond.is_empty() || eff.rule.bysecond.contains(&pstart.second()) {
                    candidates.push(pstart);
                }
            }
        }
        if sub_daily {
            // As for the daily and longer periods above: candidates cost work too.
            *budget = budget.saturating_sub(candidates.len() as u64);
        }
        candidates.sort_unstable();
        candidates.dedup();
        if !rule.bysetpos.is_empty() {
            let len = candidates.len() as i64;
            let mut picked: Vec<NaiveDateTime> = rule
                .bysetpos
                .iter()
                .filter_map(|p| {
                    let p = i64::from(*p);
                    let idx = if p > 0 { p - 1 } else { len + p };
                    usize::try_from(idx)
                        .ok()
                        .and_then(|i| candidates.get(i).copied())
                })
                .collect();
            picked.sort_unstable();
            picked.dedup();
            candidates.clear();
            candidates.extend(picked);
        }

        for &c in &candidates {
            if c <= dtstart {
                continue;
            }
            if rule.until.is_some_and(|u| c > u) {
                return false;
            }
            emitted += 1;
            if in_range(c) && !on_item(c) {
                return false;
            }
            if let Some(count) = rule.count {
                if emitted >= u64::from(count) {
                    return false;
                }
            }
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default()
    }

    fn rule(freq: Freq) -> Rule {
        Rule {
            freq,
            interval: 1,
            count: None,
            until: None,
            wkst: Weekday::Mon,
            bysecond: vec![],
            byminute: vec![],
            byhour: vec![],
            byday: vec![],
            bymonthday: vec![],
            byyearday: vec![],
            byweekno: vec![],
            bymonth: vec![],
            bysetpos: vec![],
        }
    }

    fn run(r: &Rule, start: &str, end: &str) -> Vec<String> {
        let mut budget = 1_000_000;
        expand(r, dt(start), None, dt(end), 10_000, &mut budget)
            .items
            .iter()
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    #[test]
    fn monthly_second_monday_and_last_friday() {
        let mut r = rule(Freq::Monthly);
        r.byday = vec![(Some(2), Weekday::Mon), (Some(-1), Weekday::Fri)];
        r.count = Some(4);
        assert_eq!(
            run(&r, "2026-01-12 10:00:00", "2027-01-01 00:00:00"),
            [
                "2026-01-12 10:00",
                "2026-01-30 10:00",
                "2026-02-09 10:00",
                "2026-02-27 10:00"
            ]
        );
    }

    #[test]
    fn monthly_last_weekday_via_bysetpos() {
        let mut r = rule(Freq::Monthly);
        r.byday = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .map(|d| (None, d))
        .collect();
        r.bysetpos = vec![-1];
        r.count = Some(3);
        assert_eq!(
            run(&r, "2026-01-30 09:00:00", "2027-01-01 00:00:00"),
            ["2026-01-30 09:00", "2026-02-27 09:00", "2026-03-31 09:00"]
        );
    }

    #[test]
    fn monthly_on_31st_skips_short_months() {
        let mut r = rule(Freq::Monthly);
        r.count = Some(4);
        assert_eq!(
            run(&r, "2026-01-31 09:00:00", "2027-01-01 00:00:00"),
            [
                "2026-01-31 09:00",
                "2026-03-31 09:00",
                "2026-05-31 09:00",
                "2026-07-31 09:00"
            ]
        );
    }

    #[test]
    fn yearly_bymonth_byday_positional() {
        // US Thanksgiving: 4th Thursday of November.
        let mut r = rule(Freq::Yearly);
        r.bymonth = vec![11];
        r.byday = vec![(Some(4), Weekday::Thu)];
        r.count = Some(3);
        assert_eq!(
            run(&r, "2025-11-27 12:00:00", "2030-01-01 00:00:00"),
            ["2025-11-27 12:00", "2026-11-26 12:00", "2027-11-25 12:00"]
        );
    }

    #[test]
    fn yearly_byyearday_and_byweekno() {
        let mut r = rule(Freq::Yearly);
        r.byyearday = vec![1, -1];
        r.count = Some(3);
        assert_eq!(
            run(&r, "2026-01-01 08:00:00", "2030-01-01 00:00:00"),
            ["2026-01-01 08:00", "2026-12-31 08:00", "2027-01-01 08:00"]
        );
        let mut r = rule(Freq::Yearly);
        r.byweekno = vec![20];
        r.byday = vec![(None, Weekday::Mon)];
        r.count = Some(2);
        // ISO week 20 Monday: 2026-05-11, 2027-05-17.
        assert_eq!(
            run(&r, "2026-05-11 08:00:00", "2030-01-01 00:00:00"),
            ["2026-05-11 08:00", "2027-05-17 08:00"]
        );
    }

    #[test]
    fn weekly_interval_two_with_byday() {
        let mut r = rule(Freq::Weekly);
        r.interval = 2;
        r.byday = vec![(None, Weekday::Tue), (None, Weekday::Thu)];
        r.until = Some(dt("2026-01-31 23:59:59"));
        assert_eq!(
            run(&r, "2026-01-06 18:00:00", "2027-01-01 00:00:00"),
            [
                "2026-01-06 18:00",
                "2026-01-08 18:00",
                "2026-01-20 18:00",
                "2026-01-22 18:00"
            ]
        );
    }

    #[test]
    fn daily_byhour_byminute_expands_times() {
        let mut r = rule(Freq::Daily);
        r.byhour = vec![9, 17];
        r.byminute = vec![0, 30];
        r.count = Some(5);
        assert_eq!(
            run(&r, "2026-03-01 09:00:00", "2027-01-01 00:00:00"),
            [
                "2026-03-01 09:00",
                "2026-03-01 09:30",
                "2026-03-01 17:00",
                "2026-03-01 17:30",
                "2026-03-02 09:00"
            ]
        );
    }

    #[test]
    fn hourly_with_byday_filter_skips_days() {
        let mut r = rule(Freq::Hourly);
        r.interval = 6;
        r.byday = vec![(None, Weekday::Sat)];
        // 2026-03-02 is a Monday; first Saturday is 03-07.
        let got = run(&r, "2026-03-02 00:00:00", "2026-03-08 00:00:00");
        assert_eq!(
            got,
            [
                "2026-03-02 00:00",
                "2026-03-07 00:00",
                "2026-03-07 06:00",
                "2026-03-07 12:00",
                "2026-03-07 18:00"
            ]
        );
    }

    #[test]
    fn skip_ahead_matches_full_iteration() {
        let mut r = rule(Freq::Weekly);
        r.byday = vec![(None, Weekday::Mon), (None, Weekday::Fri)];
        r.interval = 3;
        let start = dt("2015-01-05 09:00:00");
        let rs = dt("2030-03-01 00:00:00");
        let re = dt("2030-06-01 00:00:00");
        let mut b1 = 10_000_000;
        let mut b2 = 10_000_000;
        let skipped = expand(&r, start, Some(rs), re, 10_000, &mut b1).items;
        let full: Vec<_> = expand(&r, start, None, re, 100_000, &mut b2)
            .items
            .into_iter()
            .filter(|t| *t >= rs)
            .collect();
        assert!(!skipped.is_empty());
        assert_eq!(skipped, full);
    }

    #[test]
    fn secondly_bysecond_skip_matches_filtering() {
        let start = dt("2026-03-01 00:00:07");
        let end = dt("2026-03-01 06:00:00");
        let mut r = rule(Freq::Secondly);
        r.interval = 7;
        let mut b = 10_000_000;
        let all = expand(&r, start, None, end, 100_000, &mut b).items;
        r.bysecond = vec![10, 40, 59];
        let mut b = 10_000_000;
        let got = expand(&r, start, None, end, 100_000, &mut b).items;
        let want: Vec<_> = all
            .into_iter()
            .enumerate()
            .filter(|(i, t)| *i == 0 || r.bysecond.contains(&t.second()))
            .map(|(_, t)| t)
            .collect();
        assert!(want.len() > 100);
        assert_eq!(got, want);
    }

    #[test]
    fn candidate_explosion_in_one_period_stops_at_the_budget() {
        // 365 days × 86,400 seconds in the first YEARLY period; found by tests/calendar_hostile.rs.
        let mut r = rule(Freq::Yearly);
        r.byday = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .map(|d| (None, d))
        .collect();
        r.byhour = (0..24).collect();
        r.byminute = (0..60).collect();
        r.bysecond = (0..60).collect();
        let mut b = 1_000_000;
        let exp = expand(
            &r,
            dt("2026-01-01 00:00:00"),
            Some(dt("2400-01-01 00:00:00")),
            dt("2401-01-01 00:00:00"),
            10,
            &mut b,
        );
        assert!(exp.truncated);
        assert!(exp.items.is_empty());
        assert_eq!(b, 0);
    }

    #[test]
    fn count_skip_ahead_for_simple_rules_keeps_count() {
        let mut r = rule(Freq::Daily);
        r.count = Some(100);
        let start = dt("2026-01-01 09:00:00");
        let mut b = 1_000_000;
        let got = expand(
            &r,
            start,
            Some(dt("2026-04-01 00:00:00")),
            dt("2027-01-01 00:00:00"),
            1000,
            &mut b,
        )
        .items;
        // Instances 1..=100 run Jan 1 .. Apr 10.
        assert_eq!(got.len(), 10);
        assert_eq!(got.last().copied(), Some(dt("2026-04-10 09:00:00")));
    }
}
