//! Rule 7 (docs/design.md): how long an account waits after throttling or a server failure.

use crate::error::Error;

/// Rule 7 backoff after a failure: `(next attempt, new floor)` in unix seconds / seconds, or None when
/// the failure is not the server's (usage, keychain, cache).
pub(crate) fn backoff_for(e: &Error, floor: i64, now: i64) -> Option<(i64, i64)> {
    // Jitter from the clock's sub-second part: spreads many machines without a RNG dependency.
    let jitter = |d: i64| d / 10 * i64::from(chrono::Utc::now().timestamp_subsec_millis()) / 1000;
    match e {
        Error::Throttled { retry_after, .. } => {
            // QUIRK(icloud §2.6): a floor of 2 s that doubles, and never below Retry-After (which the
            // classifier already floored and doubled).
            let new_floor = (floor * 2).clamp(2, 3600);
            let wait = retry_after
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
                .max(new_floor);
            Some((now + wait + jitter(wait), new_floor))
        }
        Error::Transient(_)
        | Error::Unreachable(_)
        | Error::NotDav(_)
        | Error::Redirected(_)
        | Error::Protocol(_) => {
            let new_floor = (floor * 2).clamp(30, 3600);
            Some((now + new_floor + jitter(new_floor), new_floor))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn throttling_waits_at_least_retry_after_and_the_floor_doubles() {
        let e = Error::Throttled {
            status: 503,
            retry_after: Some(Duration::from_secs(120)),
        };
        let (next, floor) = backoff_for(&e, 0, 1000).unwrap();
        assert_eq!(floor, 2);
        assert!((1120..=1132).contains(&next), "{next}");
        let e = Error::Throttled {
            status: 429,
            retry_after: None,
        };
        let (next, floor) = backoff_for(&e, 8, 1000).unwrap();
        assert_eq!(floor, 16);
        assert!((1016..=1017).contains(&next), "{next}");
    }

    #[test]
    fn server_failures_back_off_from_30_seconds_to_an_hour() {
        let e = Error::Transient("502".into());
        assert_eq!(backoff_for(&e, 0, 0).unwrap().1, 30);
        assert_eq!(backoff_for(&e, 30, 0).unwrap().1, 60);
        assert_eq!(backoff_for(&e, 3600, 0).unwrap().1, 3600);
    }

    #[test]
    fn failures_that_are_not_the_servers_do_not_back_off() {
        assert!(backoff_for(&Error::Usage("x".into()), 30, 0).is_none());
        assert!(backoff_for(&Error::Io("x".into()), 30, 0).is_none());
    }
}
