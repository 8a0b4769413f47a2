//! Human-readable output: progress, status, agenda. JSON output is the serde form of the connector's
//! types and lives in lib.rs.

use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use connector::calendar::OccTime;
use connector::config::StatusReport;
use connector::sync::{Progress, ProgressFn};
use connector::text::{for_display as shown, for_display_lines};
use connector::{EventOut, SyncReport};

/// Whether to colour what goes to `stream`: on a terminal only, and never with `NO_COLOR` set to
/// anything non-empty (no-color.org) or `TERM=dumb`.
pub fn color_on(stream: &impl std::io::IsTerminal) -> bool {
    stream.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// ANSI styles, or plain text when colour is off.
#[derive(Clone, Copy, Debug)]
pub struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn ok(self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn warn(self, s: &str) -> String {
        self.wrap("33", s)
    }
    fn bad(self, s: &str) -> String {
        self.wrap("1;31", s)
    }
    fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// "1 event", "2 events".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `s` padded with spaces to `width` terminal columns (by display width: CJK and emoji take two).
fn pad(s: &str, width: usize) -> String {
    let w = unicode_width::UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// A progress printer: an indicatif bar per calendar on a terminal, plain lines otherwise.
pub fn progress_printer(tty: bool) -> ProgressFn {
    if tty {
        let bar = indicatif::ProgressBar::new(0);
        let style = indicatif::ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        Arc::new(move |p: Progress| match p {
            Progress::CalendarStarted { calendar, to_fetch } => {
                bar.reset();
                bar.set_length(to_fetch as u64);
                bar.set_message(shown(&calendar).into_owned());
            }
            Progress::Fetched { done, .. } => bar.set_position(done as u64),
            Progress::CalendarDone { calendar, report } => {
                bar.finish_and_clear();
                eprintln!("{}: {}", shown(&calendar), calendar_line(&report));
            }
        })
    } else {
        Arc::new(|p: Progress| match p {
            Progress::CalendarStarted { calendar, to_fetch } if to_fetch > 0 => {
                eprintln!(
                    "{}: downloading {}",
                    shown(&calendar),
                    count(to_fetch, "event", "events")
                );
            }
            Progress::CalendarDone { calendar, report } => {
                eprintln!("{}: {}", shown(&calendar), calendar_line(&report));
            }
            _ => {}
        })
    }
}

fn calendar_line(r: &connector::sync::CalendarReport) -> String {
    if r.unchanged {
        return "up to date".into();
    }
    let mut s = format!("{} downloaded, {} removed", r.fetched, r.deleted);
    if r.quarantined > 0 {
        s.push_str(&format!(
            ", {} could not be read (see status)",
            r.quarantined
        ));
    }
    if r.missing > 0 {
        s.push_str(&format!(
            ", {} not delivered by the server (retried next sync)",
            r.missing
        ));
    }
    s
}

/// One line per synced account.
pub fn sync_summary(r: &SyncReport) -> String {
    let fetched: usize = r.calendars.iter().map(|(_, c)| c.fetched).sum();
    let deleted: usize = r.calendars.iter().map(|(_, c)| c.deleted).sum();
    format!(
        "Synced {}: {}, {} downloaded, {} removed, {}",
        shown(&r.apple_id),
        count(r.calendars.len(), "calendar", "calendars"),
        fetched,
        deleted,
        count(r.requests as usize, "request", "requests")
    )
}

/// The status in words (`paint`: colour for a terminal).
pub fn status_text(st: &StatusReport, paint: Paint) -> String {
    let mut s = String::new();
    if st.accounts.is_empty() && st.subscriptions.is_empty() {
        s.push_str("No account is linked. Link one with: calendar-connector-cli link --apple-id YOU@icloud.com\n");
        s.push_str("Or try it without an Apple ID: calendar-connector-cli demo\n");
        return s;
    }
    for a in &st.accounts {
        let state = match a.state.as_str() {
            "needs_relink" => paint.bad("paused: needs a new app-specific password"),
            "active" if a.last_error.is_none() => paint.ok("up to date"),
            "active" | "backoff" => paint.warn("syncing, with errors (retried by itself)"),
            "syncing" => paint.ok("syncing"),
            "verifying" => paint.warn("checking the password"),
            other => other.to_owned(),
        };
        s.push_str(&format!(
            "{} {}: {}\n",
            paint.bold(&shown(&a.apple_id)),
            paint.dim(&format!("({})", shown(&a.server_url))),
            state
        ));
        match &a.last_successful_sync {
            Some(t) => s.push_str(&format!("  last successful sync: {t}\n")),
            None => s.push_str("  never synced\n"),
        }
        match &a.guidance {
            // The guidance starts with the reason: the error line would only say it twice.
            Some(g) => {
                s.push_str(&format!("  {}\n", paint.bold("What to do:")));
                for line in for_display_lines(g).lines() {
                    s.push_str(&format!("    {line}\n"));
                }
            }
            None => {
                if let Some(e) = &a.last_error {
                    s.push_str(&format!("  last error: {}\n", paint.warn(&shown(e))));
                }
            }
        }
        let name_width = a
            .calendars
            .iter()
            .map(|c| unicode_width::UnicodeWidthStr::width(shown(&c.display_name).as_ref()))
            .max()
            .unwrap_or(0)
            .clamp(12, 40);
        for c in &a.calendars {
            s.push_str(&format!(
                "  {} {:>6} {}{}{}\n",
                pad(&shown(&c.display_name), name_width),
                c.event_count,
                if c.event_count == 1 {
                    "event "
                } else {
                    "events"
                },
                if c.read_only { "  read-only" } else { "" },
                if c.hidden { "  hidden" } else { "" }
            ));
        }
        if !a.quarantined.is_empty() {
            s.push_str(&format!(
                "  {} could not be read and {} kept aside (the rest synced):\n",
                paint.warn(&count(a.quarantined.len(), "event", "events")),
                if a.quarantined.len() == 1 {
                    "is"
                } else {
                    "are"
                }
            ));
            for q in &a.quarantined {
                s.push_str(&format!(
                    "    {} {}: {}\n",
                    shown(&q.calendar),
                    shown(&q.href),
                    shown(&q.error)
                ));
            }
        }
    }
    s.push_str(&subscriptions_text(st, paint));
    s
}

/// The subscriptions to published calendars in `status`: one line each, read-only, with the last
/// refresh or what went wrong.
fn subscriptions_text(st: &StatusReport, paint: Paint) -> String {
    let mut s = String::new();
    if st.subscriptions.is_empty() {
        return s;
    }
    s.push_str(&format!(
        "{} {}
",
        paint.bold("Subscribed calendars"),
        paint.dim("(public links, read-only, no password)")
    ));
    for sub in &st.subscriptions {
        let state = match (&sub.last_error, &sub.last_success) {
            (Some(_), _) => paint.warn("refresh failed (retried by itself)"),
            (None, Some(_)) => paint.ok("up to date"),
            (None, None) => "not refreshed yet".to_owned(),
        };
        s.push_str(&format!(
            "  {} {:>6} {}  read-only{}: {}\n",
            paint.bold(&shown(&sub.display_name)),
            sub.event_count,
            if sub.event_count == 1 {
                "event "
            } else {
                "events"
            },
            if sub.hidden { "  hidden" } else { "" },
            state
        ));
        s.push_str(&format!("    {}\n", paint.dim(&shown(&sub.url))));
        if let Some(t) = &sub.last_success {
            s.push_str(&format!("    last refreshed: {t}\n"));
        }
        if let Some(e) = &sub.last_error {
            s.push_str(&format!("    last error: {}\n", paint.warn(&shown(e))));
        }
        for q in &sub.quarantined {
            s.push_str(&format!(
                "    could not read {}: {}\n",
                shown(&q.href),
                shown(&q.error)
            ));
        }
    }
    s
}

/// What `subscribe` stored, in words.
pub fn subscribed_counts(r: &connector::SubscriptionReport) -> String {
    let mut s = count(r.events as usize, "event", "events");
    if r.quarantined > 0 {
        s.push_str(&format!(
            " ({} could not be read and {} kept aside; `status` lists {})",
            r.quarantined,
            if r.quarantined == 1 { "is" } else { "are" },
            if r.quarantined == 1 { "it" } else { "them" }
        ));
    }
    s
}

/// What a refresh did, in words.
pub fn subscription_summary(r: &connector::SubscriptionReport) -> String {
    if r.unchanged {
        return format!(
            "{}: unchanged ({})",
            shown(&r.name),
            count(r.events as usize, "event", "events")
        );
    }
    let mut s = format!(
        "{}: {}",
        shown(&r.name),
        count(r.events as usize, "event", "events")
    );
    let mut parts = Vec::new();
    if r.fetched > 0 {
        parts.push(format!("{} new or changed", r.fetched));
    }
    if r.deleted > 0 {
        parts.push(format!("{} removed", r.deleted));
    }
    if r.quarantined > 0 {
        parts.push(format!(
            "{} could not be read and kept aside",
            count(r.quarantined, "event", "events")
        ));
    }
    if !parts.is_empty() {
        s.push_str(&format!(" ({})", parts.join(", ")));
    }
    s
}

/// The managed policy for `status --json`: every documented key with its value and where it came
/// from, the file, registry key (Windows) and managed preferences file (macOS) that were read, and the
/// error when any is invalid (the desktop app then refuses to start).
pub fn policy_json(p: &connector::Result<connector::policy::Managed>) -> serde_json::Value {
    use connector::policy;
    let registry_key = if cfg!(windows) {
        Some(format!(r"HKLM\{}", policy::REGISTRY_KEY))
    } else {
        None
    };
    let managed_preferences = if cfg!(target_os = "macos") {
        Some(policy::managed_preferences_path().display().to_string())
    } else {
        None
    };
    match p {
        Ok(m) => serde_json::json!({
            "file": m.file.display().to_string(),
            "registry_key": registry_key,
            "managed_preferences": managed_preferences,
            "error": null,
            "keys": m.report(),
        }),
        Err(e) => serde_json::json!({
            "file": policy::policy_path().display().to_string(),
            "registry_key": registry_key,
            "managed_preferences": managed_preferences,
            "error": e.to_string(),
            "keys": null,
        }),
    }
}

/// The managed policy in words (nothing when no policy is set).
pub fn policy_text(p: &connector::Result<connector::policy::Managed>) -> String {
    match p {
        Err(e) => format!("Managed policy: not valid, so the desktop app will not start: {e}\n"),
        Ok(m) if m.policy.is_empty() => String::new(),
        Ok(m) => {
            let mut s = String::from("Managed policy (set by your organisation):\n");
            for (key, r) in m.report() {
                if let (Some(v), Some(at)) = (r.value, r.location) {
                    s.push_str(&format!("  {key} = {v}  (from {at})\n"));
                }
            }
            s
        }
    }
}

fn fmt_time(t: &OccTime) -> String {
    match t {
        OccTime::Date(d) => d.to_string(),
        OccTime::DateTime(dt) => dt.with_timezone(&Local).format("%H:%M").to_string(),
    }
}

fn day_of(t: &OccTime) -> NaiveDate {
    match t {
        OccTime::Date(d) => *d,
        OccTime::DateTime(dt) => dt.with_timezone(&Local).date_naive(),
    }
}

/// The local days an occurrence covers: from its start's day to the day of its last moment (an end
/// is exclusive, so an event ending at midnight or an all-day event ending on the 5th ends on the 4th).
fn days_of(e: &EventOut) -> (NaiveDate, NaiveDate) {
    let first = day_of(&e.start);
    let last = match &e.end {
        OccTime::Date(d) => d.pred_opt().unwrap_or(*d),
        OccTime::DateTime(dt) => {
            let end = dt.with_timezone(&Local);
            let day = end.date_naive();
            if end.time() == chrono::NaiveTime::MIN && day > first {
                day.pred_opt().unwrap_or(day)
            } else {
                day
            }
        }
    };
    (first, last.max(first))
}

/// An agenda grouped by day, for the local days `first..=last` (the range asked for). An event that
/// spans several days is listed under each of them, as calendar apps show it; no day outside the range
/// is printed.
pub fn agenda_text(evs: &[EventOut], first: NaiveDate, last: NaiveDate) -> String {
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<String>> = Default::default();
    for e in evs {
        let (start_day, end_day) = days_of(e);
        let total = (end_day - start_day).num_days() + 1;
        let mut d = start_day.max(first);
        while d <= end_day.min(last) {
            let when = if e.all_day || (d != start_day && d != end_day) {
                "all day    ".to_owned()
            } else if start_day == end_day {
                format!("{}–{}", fmt_time(&e.start), fmt_time(&e.end))
            } else if d == start_day {
                format!("from {}", fmt_time(&e.start))
            } else {
                format!("to {}   ", fmt_time(&e.end))
            };
            let part = if total > 1 {
                format!(" (day {} of {total})", (d - start_day).num_days() + 1)
            } else {
                String::new()
            };
            days.entry(d).or_default().push(format!(
                "  {when}  {}{}{part}  [{}]\n",
                shown(e.summary.as_deref().unwrap_or("(no title)")),
                e.location
                    .as_deref()
                    .map(|l| format!(" @ {}", shown(l)))
                    .unwrap_or_default(),
                shown(&e.calendar)
            ));
            let Some(next) = d.succ_opt() else { break };
            d = next;
        }
    }
    if days.is_empty() {
        return "  (nothing scheduled)\n".into();
    }
    let mut s = String::new();
    for (d, lines) in days {
        s.push_str(&format!("{}\n", d.format("%a %e %b %Y")));
        for l in lines {
            s.push_str(&l);
        }
    }
    s
}

/// The local days `[from, to)` covers, for [`agenda_text`].
pub fn local_days(from: DateTime<Utc>, to: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let first = from.with_timezone(&Local).date_naive();
    let last = (to - chrono::Duration::nanoseconds(1))
        .with_timezone(&Local)
        .date_naive();
    (first, last.max(first))
}

fn parse_when(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        connector::Error::Usage(format!(
            "{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"
        ))
    })?;
    local_midnight(d)
}

fn local_midnight(d: NaiveDate) -> anyhow::Result<DateTime<Utc>> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow::anyhow!("{d} has no local midnight"))
}

/// `--from`/`--to` with their defaults (today, +30 days).
pub fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<(DateTime<Utc>, DateTime<Utc>)> {
    let from = match from {
        Some(f) => parse_when(f)?,
        None => local_midnight(Local::now().date_naive())?,
    };
    let to = match to {
        Some(t) => parse_when(t)?,
        None => from + chrono::Duration::days(30),
    };
    if to <= from {
        anyhow::bail!(connector::Error::Usage("--to must be after --from".into()));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_lines_say_what_happened_in_words() {
        let mut r = connector::SubscriptionReport {
            url: "https://h/published/2/x".into(),
            name: "Team".into(),
            events: 3,
            fetched: 3,
            deleted: 0,
            quarantined: 1,
            unchanged: false,
        };
        assert_eq!(
            subscribed_counts(&r),
            "3 events (1 could not be read and is kept aside; `status` lists it)"
        );
        assert_eq!(
            subscription_summary(&r),
            "Team: 3 events (3 new or changed, 1 event could not be read and kept aside)"
        );
        r.unchanged = true;
        assert_eq!(subscription_summary(&r), "Team: unchanged (3 events)");
        let st = StatusReport {
            accounts: vec![],
            subscriptions: vec![connector::config::SubscriptionStatus {
                url: r.url.clone(),
                display_name: "Team".into(),
                color: None,
                event_count: 1,
                read_only: true,
                hidden: false,
                last_refresh: None,
                last_success: None,
                last_error: Some("gone".into()),
                quarantined: vec![],
            }],
        };
        let text = status_text(&st, Paint(false));
        assert!(!text.contains("No account is linked"), "{text}");
        assert!(
            text.contains("Team") && text.contains("1 event ") && text.contains("last error: gone"),
            "{text}"
        );
    }

    #[test]
    fn policy_json_names_the_managed_preferences_as_a_source() {
        use connector::policy::{managed_preferences_path, Managed, Policy};
        let file = Policy {
            allow_demo: Some(true),
            ..Policy::default()
        };
        let prefs = Policy {
            sync_interval_minutes: Some(15),
            ..Policy::default()
        };
        let m = Managed::merge("/etc/p.toml".into(), file, Policy::default())
            .with_managed_preferences(managed_preferences_path(), prefs);
        let v = policy_json(&Ok(m));
        let k = &v["keys"];
        assert_eq!(k["sync_interval_minutes"]["value"], 15);
        assert_eq!(k["sync_interval_minutes"]["source"], "managed_preferences");
        assert_eq!(
            k["sync_interval_minutes"]["location"],
            "/Library/Managed Preferences/com.calendarconnector.desktop.plist sync_interval_minutes"
        );
        assert_eq!(k["allow_demo"]["source"], "file");
        assert!(k["server_url"]["source"].is_null());
        // Which layers this OS reads.
        assert_eq!(v["registry_key"].is_null(), !cfg!(windows));
        assert_eq!(
            v["managed_preferences"].is_null(),
            !cfg!(target_os = "macos")
        );
        assert!(v["error"].is_null());
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn ev(summary: &str, start: OccTime, end: OccTime, all_day: bool) -> EventOut {
        EventOut {
            calendar: "Home".into(),
            uid: summary.into(),
            summary: Some(summary.into()),
            start,
            end,
            all_day,
            location: None,
            recurrence_id: None,
            href: format!("/{summary}.ics"),
        }
    }

    fn local(s: &str) -> OccTime {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        OccTime::DateTime(
            Local
                .from_local_datetime(&naive)
                .earliest()
                .unwrap()
                .fixed_offset(),
        )
    }

    #[test]
    fn a_multi_day_event_is_listed_under_every_day_it_covers_within_the_range() {
        let evs = vec![
            ev(
                "Conference",
                OccTime::Date(d("2026-12-01")),
                OccTime::Date(d("2026-12-04")),
                true,
            ),
            ev(
                "Night shift",
                local("2026-12-02 22:00"),
                local("2026-12-03 06:00"),
                false,
            ),
            ev(
                "Lunch",
                local("2026-12-02 12:00"),
                local("2026-12-02 13:00"),
                false,
            ),
        ];
        // Asked from the 2nd: the conference started before, and no day before the 2nd is printed.
        let text = agenda_text(&evs, d("2026-12-02"), d("2026-12-05"));
        let days: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(days, ["Wed  2 Dec 2026", "Thu  3 Dec 2026"], "{text}");
        assert!(
            text.contains("all day      Conference (day 2 of 3)"),
            "{text}"
        );
        assert!(
            text.contains("all day      Conference (day 3 of 3)"),
            "{text}"
        );
        assert!(
            text.contains("from 22:00  Night shift (day 1 of 2)"),
            "{text}"
        );
        assert!(
            text.contains("to 06:00     Night shift (day 2 of 2)"),
            "{text}"
        );
        assert!(text.contains("12:00–13:00  Lunch  [Home]"), "{text}");
        // Ends at the range's last day.
        let text = agenda_text(&evs, d("2026-12-01"), d("2026-12-02"));
        assert!(!text.contains("Thu  3 Dec"), "{text}");
        assert!(text.contains("Conference (day 1 of 3)"), "{text}");
    }

    #[test]
    fn status_columns_align_by_display_width_with_emoji_and_cjk_names() {
        let cal = |name: &str, n: u64| connector::config::CalendarStatus {
            id: format!("/{name}/"),
            display_name: name.into(),
            color: None,
            event_count: n,
            read_only: false,
            hidden: false,
        };
        let st = StatusReport {
            subscriptions: vec![],
            accounts: vec![connector::config::AccountStatus {
                apple_id: "a@b.c".into(),
                server_url: "https://caldav.icloud.com/".into(),
                state: "active".into(),
                icloud_app_specific_password_required: false,
                relink_reason: None,
                guidance: None,
                last_successful_sync: None,
                last_error: None,
                next_attempt_at: None,
                password_checks_left: 3,
                next_password_check_at: None,
                calendars: vec![
                    cal("Home", 1),
                    cal("家族の予定", 12),
                    cal("🎉 Parties", 300),
                ],
                quarantined: vec![],
            }],
        };
        let text = status_text(&st, Paint(false));
        assert!(
            !text.contains('\u{1b}'),
            "no colour when it is off: {text:?}"
        );
        let coloured = status_text(&st, Paint(true));
        assert!(
            coloured.contains("\u{1b}[32mup to date\u{1b}[0m"),
            "{coloured:?}"
        );
        let rows: Vec<&str> = text.lines().filter(|l| l.contains("event")).collect();
        assert_eq!(rows.len(), 3, "{text}");
        // The count column ends at the same terminal column on every row.
        let ends: Vec<usize> = rows
            .iter()
            .map(|r| {
                let at = r.find(" event").unwrap();
                unicode_width::UnicodeWidthStr::width(&r[..at])
            })
            .collect();
        assert!(ends.windows(2).all(|w| w[0] == w[1]), "{text}");
        assert!(
            rows[0].contains(" 1 event ") && rows[1].contains("12 events"),
            "{text}"
        );
    }

    #[test]
    fn server_text_cannot_reorder_the_terminal_line() {
        let mut e = ev(
            "x",
            OccTime::Date(d("2026-12-01")),
            OccTime::Date(d("2026-12-02")),
            true,
        );
        e.summary = Some("Payroll \u{202E}gnp.exe\u{202C} review".into());
        e.location = Some("Room\u{1b}[2J 4".into());
        let text = agenda_text(&[e], d("2026-12-01"), d("2026-12-01"));
        assert!(
            text.contains("Payroll gnp.exe review @ Room [2J 4"),
            "{text:?}"
        );
        assert!(!text.contains('\u{202E}') && !text.contains('\u{1b}'));
    }
}
