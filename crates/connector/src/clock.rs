//! The one clock every time-based rule reads (backoff, verification limit, notification policy).
//! `CALENDAR_CONNECTOR_CLOCK_OFFSET_SECS` shifts it, so tests can check "a day later" without waiting
//! a day; it is a test hook, not a setting.

use chrono::{DateTime, Utc};

/// Environment variable shifting the clock by N seconds.
pub const OFFSET_ENV: &str = "CALENDAR_CONNECTOR_CLOCK_OFFSET_SECS";

fn offset() -> i64 {
    std::env::var(OFFSET_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

/// Now.
pub fn now() -> DateTime<Utc> {
    Utc::now() + chrono::Duration::seconds(offset())
}

/// Now, unix seconds.
pub fn now_secs() -> i64 {
    now().timestamp()
}

/// Now, RFC 3339 (seconds, `Z`).
pub fn now_rfc3339() -> String {
    rfc3339(now_secs())
}

/// `until` in local time with the wait from `now`: "19:22 (in 14 minutes)" (a date is added when it
/// is not today).
pub fn local_wait(until: i64, now: i64) -> String {
    use chrono::Local;
    let at = DateTime::<Utc>::from_timestamp(until, 0)
        .unwrap_or_default()
        .with_timezone(&Local);
    let today = DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&Local)
        .date_naive();
    let clock = if at.date_naive() == today {
        at.format("%H:%M").to_string()
    } else {
        at.format("%H:%M on %a %e %b").to_string()
    };
    let minutes = ((until - now).max(0) + 59) / 60;
    let wait = match minutes {
        0 | 1 => "in a minute".to_owned(),
        m => format!("in {m} minutes"),
    };
    format!("{clock} ({wait})")
}

/// A unix time as RFC 3339.
pub fn rfc3339(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_told_in_local_time_with_the_minutes_left() {
        let now = 1_800_000_000;
        let w = local_wait(now + 14 * 60 - 30, now);
        assert!(w.ends_with("(in 14 minutes)"), "{w}");
        let clock: String = w.chars().take(5).collect();
        assert!(clock.as_bytes()[2] == b':', "{w}");
        assert!(!w.contains('Z') && !w.contains('T'), "{w}");
        assert!(local_wait(now + 20, now).ends_with("(in a minute)"));
    }
}
