//! What the cache stores about an object: its UID, summary, location and the window its occurrences
//! can fall in (so agenda queries pre-select candidates in SQL).

use chrono::NaiveDate;

use super::expand::*;
use super::model::{self, EventComp, When};
use super::parse::*;
use super::tz::Zone;
use super::{
    rrule, ComponentKind, ObjectSummary, OccTime, ParseError, FLOATING_SLACK_SECS,
    MAX_COUNT_FOR_BOUNDS, MAX_EXPANSION_WORK,
};

pub(super) fn summarize_inner(raw: &[u8]) -> Result<ObjectSummary, ParseError> {
    let ical = parse_ical(raw)?;
    let obj = load(&ical)?;
    if obj.events.is_empty() {
        if obj.todo {
            let (uid, summary, location) = todo_uid(&ical).ok_or(ParseError::MissingUid)?;
            return Ok(ObjectSummary {
                uid,
                summary,
                location,
                all_day: false,
                recurring: false,
                window_start: 0,
                window_end: None,
                component: ComponentKind::Todo,
            });
        }
        if obj.other {
            let uid = ical
                .uids()
                .next()
                .map(str::to_string)
                .ok_or(ParseError::MissingUid)?;
            return Ok(ObjectSummary {
                uid,
                summary: None,
                location: None,
                all_day: false,
                recurring: false,
                window_start: 0,
                window_end: None,
                component: ComponentKind::Other,
            });
        }
        return Err(ParseError::NoComponent);
    }
    let (uid, masters, overrides) = series(&obj.events)?;
    let primary = masters
        .first()
        .map(|i| &obj.events[*i])
        .or(obj.events.first());
    let utc = chrono_tz::Tz::UTC;

    let mut lo: Option<i64> = None;
    let mut hi: Option<i64> = None;
    let mut unbounded = false;
    let widen = |inst: &Instance, lo: &mut Option<i64>, hi: &mut Option<i64>| {
        let floating = match &inst.start {
            OccTime::Date(_) => true,
            OccTime::DateTime(_) => false,
        };
        let s = inst.start.to_utc_sort_key(utc);
        let e = inst.end.to_utc_sort_key(utc).max(s);
        let slack = if floating { FLOATING_SLACK_SECS } else { 0 };
        *lo = Some(lo.map_or(s - slack, |v| v.min(s - slack)));
        *hi = Some(hi.map_or(e + slack, |v| v.max(e + slack)));
    };
    let mut budget = MAX_EXPANSION_WORK;

    for &mi in &masters {
        let m = &obj.events[mi];
        let Some(start) = m.start.as_ref() else {
            continue;
        };
        let floating = matches!(start, When::DateTime(_, Zone::Floating));
        let dur = duration_of(m, start, utc);
        let push = |w: &When, d: EventLength, lo: &mut Option<i64>, hi: &mut Option<i64>| {
            if let Some(inst) = make_instance(w, d, utc) {
                widen(&inst, lo, hi);
                if floating {
                    *lo = lo.map(|v| v - FLOATING_SLACK_SECS);
                    *hi = hi.map(|v| v + FLOATING_SLACK_SECS);
                }
            }
        };
        push(start, dur, &mut lo, &mut hi);
        for rd in &m.rdates {
            let w = to_master_frame(&rd.start, start, utc);
            let d = match (&rd.end, rd.duration) {
                (Some(e), _) => {
                    let fake = EventComp {
                        end: Some(e.clone()),
                        ..m.clone()
                    };
                    duration_of(&fake, &rd.start, utc)
                }
                (None, Some(d)) => EventLength::Nominal(d),
                (None, None) => dur,
            };
            push(&w, d, &mut lo, &mut hi);
        }
        if let Some(r) = &m.rrule {
            let rule = model::rule_of(r, start, utc);
            if let Some(until) = rule.until {
                let w = match start {
                    When::Date(_) => When::Date(until.date()),
                    When::DateTime(_, z) => When::DateTime(until, z.clone()),
                };
                // The last instance starts no later than UNTIL.
                push(&w, dur, &mut lo, &mut hi);
            } else if let Some(count) = rule.count {
                if count > MAX_COUNT_FOR_BOUNDS {
                    unbounded = true;
                } else {
                    let end =
                        NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(0, 0, 0));
                    match end {
                        Some(end) => {
                            let exp = rrule::expand(
                                &rule,
                                start.naive(),
                                None,
                                end,
                                count as usize + 1,
                                &mut budget,
                            );
                            if exp.truncated {
                                unbounded = true;
                            } else if let Some(last) = exp.items.last() {
                                let w = match start {
                                    When::Date(_) => When::Date(last.date()),
                                    When::DateTime(_, z) => When::DateTime(*last, z.clone()),
                                };
                                push(&w, dur, &mut lo, &mut hi);
                            }
                        }
                        None => unbounded = true,
                    }
                }
            } else {
                unbounded = true;
            }
        }
    }
    for (oi, mi) in &overrides {
        let o = &obj.events[*oi];
        let master = mi.map(|i| &obj.events[i]);
        if let Some(inst) = override_inst(o, master, utc) {
            let floating = matches!(override_start(o), Some(When::DateTime(_, Zone::Floating)));
            widen(&inst, &mut lo, &mut hi);
            if floating {
                lo = lo.map(|v| v - FLOATING_SLACK_SECS);
                hi = hi.map(|v| v + FLOATING_SLACK_SECS);
            }
        }
    }

    let (summary, location, all_day, recurring) = match primary {
        Some(p) => (
            p.summary.clone(),
            p.location.clone(),
            matches!(
                p.start.as_ref().or(p.recurrence_id.as_ref()),
                Some(When::Date(_))
            ),
            is_recurring(p),
        ),
        None => (None, None, false, false),
    };
    Ok(ObjectSummary {
        uid,
        summary,
        location,
        all_day,
        recurring,
        window_start: lo.unwrap_or(0),
        window_end: if unbounded { None } else { hi },
        component: ComponentKind::Event,
    })
}
