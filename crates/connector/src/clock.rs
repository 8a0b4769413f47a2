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

/// A unix time as RFC 3339.
pub fn rfc3339(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
