//! Human-readable output: progress, status, agenda. JSON output is the serde form of the connector's
//! types and lives in lib.rs.

use std::sync::Arc;

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use connector::calendar::OccTime;
use connector::config::StatusReport;
use connector::sync::{Progress, ProgressFn};
use connector::{EventOut, SyncReport};

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
                bar.set_message(calendar);
            }
            Progress::Fetched { done, .. } => bar.set_position(done as u64),
            Progress::CalendarDone { calendar, report } => {
                bar.finish_and_clear();
                eprintln!("{calendar}: {}", calendar_line(&report));
            }
        })
    } else {
        Arc::new(|p: Progress| match p {
            Progress::CalendarStarted { calendar, to_fetch } if to_fetch > 0 => {
                eprintln!("{calendar}: downloading {to_fetch} event(s)");
            }
            Progress::CalendarDone { calendar, report } => {
                eprintln!("{calendar}: {}", calendar_line(&report));
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
        "Synced {}: {} calendar(s), {} downloaded, {} removed, {} request(s)",
        r.apple_id,
        r.calendars.len(),
        fetched,
        deleted,
        r.requests
    )
}

/// The status in words.
pub fn status_text(st: &StatusReport) -> String {
    let mut s = String::new();
    if st.accounts.is_empty() {
        s.push_str("No account is linked. Link one with: calendar-connector-cli link --apple-id YOU@icloud.com\n");
        s.push_str("Or try it without an Apple ID: calendar-connector-cli demo\n");
        return s;
    }
    for a in &st.accounts {
        let state = match a.state.as_str() {
            "needs_relink" => "PAUSED — needs a new app-specific password",
            "active" => "active",
            other => other,
        };
        s.push_str(&format!("{} ({}): {}\n", a.apple_id, a.server_url, state));
        match &a.last_successful_sync {
            Some(t) => s.push_str(&format!("  last successful sync: {t}\n")),
            None => s.push_str("  never synced\n"),
        }
        if let Some(e) = &a.last_error {
            s.push_str(&format!("  last error: {e}\n"));
        }
        if let Some(g) = &a.guidance {
            s.push_str("  What to do:\n");
            for line in g.lines() {
                s.push_str(&format!("    {line}\n"));
            }
        }
        for c in &a.calendars {
            s.push_str(&format!(
                "  {:<24} {:>6} event(s){}{}\n",
                c.display_name,
                c.event_count,
                if c.read_only { "  read-only" } else { "" },
                if c.hidden { "  hidden" } else { "" }
            ));
        }
        if !a.quarantined.is_empty() {
            s.push_str(&format!(
                "  {} event(s) could not be read and are kept aside (the rest synced):\n",
                a.quarantined.len()
            ));
            for q in &a.quarantined {
                s.push_str(&format!("    {} {}: {}\n", q.calendar, q.href, q.error));
            }
        }
    }
    s
}

/// The managed policy for `status --json`: every documented key with its value and where it came
/// from, the file and registry key that were read, and the error when either is invalid (the desktop
/// app then refuses to start).
pub fn policy_json(p: &connector::Result<connector::policy::Managed>) -> serde_json::Value {
    use connector::policy;
    let registry_key = if cfg!(windows) {
        Some(format!(r"HKLM\{}", policy::REGISTRY_KEY))
    } else {
        None
    };
    match p {
        Ok(m) => serde_json::json!({
            "file": m.file.display().to_string(),
            "registry_key": registry_key,
            "error": null,
            "keys": m.report(),
        }),
        Err(e) => serde_json::json!({
            "file": policy::policy_path().display().to_string(),
            "registry_key": registry_key,
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

/// An agenda grouped by day.
pub fn agenda_text(evs: &[EventOut]) -> String {
    if evs.is_empty() {
        return "  (nothing scheduled)\n".into();
    }
    let mut s = String::new();
    let mut day = None;
    for e in evs {
        let d = day_of(&e.start);
        if day != Some(d) {
            s.push_str(&format!("{}\n", d.format("%a %e %b %Y")));
            day = Some(d);
        }
        let when = if e.all_day {
            "all day    ".to_owned()
        } else {
            format!("{}–{}", fmt_time(&e.start), fmt_time(&e.end))
        };
        s.push_str(&format!(
            "  {when}  {}{}  [{}]\n",
            e.summary.as_deref().unwrap_or("(no title)"),
            e.location
                .as_deref()
                .map(|l| format!(" @ {l}"))
                .unwrap_or_default(),
            e.calendar
        ));
    }
    s
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
