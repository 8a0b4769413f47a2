//! Bytes → calcard's iCalendar → our event model (after the byte-level clean-up of [`super::preprocess`]).

use super::model::{self, EventComp};
use super::{preprocess, tz, ParseError, MAX_OBJECT_BYTES};

pub(super) fn parse_ical(raw: &[u8]) -> Result<calcard::icalendar::ICalendar, ParseError> {
    if raw.len() > MAX_OBJECT_BYTES {
        return Err(ParseError::TooLarge { bytes: raw.len() });
    }
    let text = preprocess::preprocess(raw);
    let mut parser = calcard::Parser::new(&text);
    let mut merged = calcard::icalendar::ICalendar::default();
    let mut found = false;
    let mut last_problem = None;
    // Bounded: every call consumes input; the guard only protects against a
    // parser that stops making progress.
    for _ in 0..=text.len() {
        match parser.entry() {
            calcard::Entry::ICalendar(ical) => {
                found = true;
                let offset = u32::try_from(merged.components.len()).unwrap_or(u32::MAX);
                for mut comp in ical.components {
                    for id in comp.component_ids.iter_mut() {
                        *id = id.saturating_add(offset);
                    }
                    merged.components.push(comp);
                }
            }
            calcard::Entry::Eof => break,
            calcard::Entry::TooManyComponents => {
                last_problem = Some("too many components".to_string());
                break;
            }
            calcard::Entry::VCard(_) => {
                last_problem = Some("vCard data, not iCalendar".to_string())
            }
            calcard::Entry::InvalidLine(_) => {}
            other => last_problem = Some(format!("{other:?}")),
        }
    }
    if !found {
        return Err(ParseError::Unparseable {
            message: last_problem.unwrap_or_else(|| "no BEGIN:VCALENDAR found".to_string()),
        });
    }
    Ok(merged)
}

pub(super) struct Object {
    pub(super) events: Vec<EventComp>,
    pub(super) todo: bool,
    pub(super) other: bool,
}

pub(super) fn load(ical: &calcard::icalendar::ICalendar) -> Result<Object, ParseError> {
    let mut zones = tz::ZoneResolver::new(ical);
    let parsed = model::extract(ical, &mut zones)?;
    Ok(Object {
        events: parsed.events,
        todo: parsed.todo,
        other: parsed.other,
    })
}

pub(super) fn todo_uid(
    ical: &calcard::icalendar::ICalendar,
) -> Option<(String, Option<String>, Option<String>)> {
    let comp = ical
        .components
        .iter()
        .find(|c| c.component_type == calcard::icalendar::ICalendarComponentType::VTodo)?;
    let text = |p: calcard::icalendar::ICalendarProperty| {
        comp.property(&p)
            .and_then(|e| e.values.first())
            .and_then(|v| v.as_text())
            .map(str::to_string)
    };
    let uid = text(calcard::icalendar::ICalendarProperty::Uid)?;
    Some((
        uid,
        text(calcard::icalendar::ICalendarProperty::Summary),
        text(calcard::icalendar::ICalendarProperty::Location),
    ))
}
