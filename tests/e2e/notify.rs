//! `daemon` notifications on a real session bus with dunst (TESTING.md §3, docs/design.md rule 6): one
//! notification per account per problem with "Fix now" and "Later", no repeats on later ticks or
//! restarts, re-raised (replacing itself) after a day, snoozed by "Later", withdrawn and confirmed after
//! a relink, silent for transient failures; one daemon per data dir; SIGTERM ends it cleanly.
//!
//! Each test captures the bus with its own `dbus-monitor` and parses the Notify calls, dunst's replies
//! (the ids) and CloseNotification calls of this app. The bus and dunst are shared by every test running
//! in the binary, so a test that counts notifications or clicks through dunst holds
//! [`e2e::desktop_exclusive`] for its whole run: no other test's daemon can notify meanwhile. Run under
//! `scripts/ci/desktop-session.sh` with `REQUIRE_KEYCHAIN=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use connector::relink::RelinkReason;
use e2e::{show, Env};
use icloud_sim::{Scenario, Sim, SimConfig};

const ID: &str = "demo@example.com";
const PW: &str = "abcd-efgh-ijkl-mnop";
const NEW: &str = "qrst-uvwx-yzab-cdef";
const APP: &str = "Calendar Connector";
const PAUSED: &str = "iCloud calendars paused: new app-specific password needed";
const RECONNECTED: &str = "Calendars reconnected";
const OFFSET: &str = "CALENDAR_CONNECTOR_CLOCK_OFFSET_SECS";

fn desktop_or_skip() -> bool {
    let missing: Vec<&str> = ["DBUS_SESSION_BUS_ADDRESS", "DISPLAY"]
        .into_iter()
        .filter(|v| std::env::var_os(v).is_none())
        .collect();
    if !missing.is_empty() {
        if std::env::var_os("REQUIRE_KEYCHAIN").is_some() {
            panic!("REQUIRE_KEYCHAIN is set but {missing:?} unset: run under scripts/ci/desktop-session.sh");
        }
        eprintln!("skipping: {missing:?} unset (run under scripts/ci/desktop-session.sh)");
        return false;
    }
    e2e::keychain_or_skip()
}

async fn default_sim() -> Sim {
    let cal = e2e::event_calendar;
    Sim::start(SimConfig {
        calendars: vec![cal("home", "Home", 20), cal("work", "Work", 10)],
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn linked(sim: &Sim) -> Env {
    Env::linked(&sim.front_url(), ID, PW).await
}

/// Linked and synced, then Apple revoked the password: the account needs a relink.
async fn paused_account(sim: &Sim) -> Env {
    Env::paused(sim, ID, PW, NEW).await
}

// ------------------------------------------------------------------------------------------------
// Capturing the bus

/// One Notify call and the id dunst answered with.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    app_name: String,
    replaces_id: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    id: Option<u32>,
}

#[derive(Debug, Default)]
struct BusLog {
    /// Notify calls of this app, in order.
    shown: Vec<Shown>,
    /// Ids passed to CloseNotification, in order.
    closed: Vec<u32>,
    raw: String,
}

impl BusLog {
    fn summaries(&self) -> Vec<&str> {
        self.shown.iter().map(|s| s.summary.as_str()).collect()
    }
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    header
        .split([' ', ';'])
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

/// Reads the value of a `string "..."` argument starting at `lines[*i]` (strings may span lines).
fn take_string(lines: &[&str], i: &mut usize) -> Option<String> {
    let first = lines.get(*i)?.trim_start().strip_prefix("string \"")?;
    let mut s = first.to_owned();
    *i += 1;
    while !s.ends_with('"') {
        let next = lines.get(*i)?;
        s.push('\n');
        s.push_str(next);
        *i += 1;
    }
    s.pop();
    Some(s)
}

fn take_uint(lines: &[&str], i: &mut usize) -> Option<u32> {
    let v = lines.get(*i)?.trim_start().strip_prefix("uint32 ")?;
    *i += 1;
    v.trim().parse().ok()
}

fn parse_notify(body: &[&str]) -> Option<Shown> {
    let mut i = 0;
    let app_name = take_string(body, &mut i)?;
    let replaces_id = take_uint(body, &mut i)?;
    let _icon = take_string(body, &mut i)?;
    let summary = take_string(body, &mut i)?;
    let body_text = take_string(body, &mut i)?;
    let mut actions = Vec::new();
    if body.get(i)?.trim() == "array [" {
        i += 1;
        while let Some(l) = body.get(i) {
            if l.trim() == "]" {
                break;
            }
            actions.push(take_string(body, &mut i)?);
        }
    }
    Some(Shown {
        app_name,
        replaces_id,
        summary,
        body: body_text,
        actions,
        id: None,
    })
}

/// Parses dbus-monitor's text output (format: TESTING.md §3, scripts/ci/notify-ids.awk).
fn parse_bus_log(raw: &str) -> BusLog {
    let starts = [
        "method call time=",
        "method return time=",
        "signal time=",
        "error time=",
    ];
    let mut messages: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in raw.lines() {
        if starts.iter().any(|s| line.starts_with(s)) {
            messages.push((line, Vec::new()));
        } else if let Some((_, body)) = messages.last_mut() {
            body.push(line);
        }
    }
    let mut log = BusLog {
        raw: raw.to_owned(),
        ..Default::default()
    };
    // (sender, serial) of each Notify call → index in `shown`.
    let mut pending: Vec<((String, String), usize)> = Vec::new();
    for (header, body) in &messages {
        let member = header_field(header, "member");
        if header.starts_with("method call") && member == Some("Notify") {
            if let Some(n) = parse_notify(body) {
                if n.app_name == APP {
                    let key = (
                        header_field(header, "sender").unwrap_or("").to_owned(),
                        header_field(header, "serial").unwrap_or("").to_owned(),
                    );
                    pending.push((key, log.shown.len()));
                    log.shown.push(n);
                }
            }
        } else if header.starts_with("method call") && member == Some("CloseNotification") {
            let mut i = 0;
            if let Some(id) = take_uint(body, &mut i) {
                log.closed.push(id);
            }
        } else if header.starts_with("method return") {
            let key = (
                header_field(header, "destination").unwrap_or("").to_owned(),
                header_field(header, "reply_serial")
                    .unwrap_or("")
                    .to_owned(),
            );
            if let Some(pos) = pending.iter().position(|(k, _)| *k == key) {
                let (_, idx) = pending.remove(pos);
                let mut i = 0;
                log.shown[idx].id = take_uint(body, &mut i);
            }
        }
    }
    log
}

/// A dbus-monitor of org.freedesktop.Notifications writing to a file; killed on drop.
struct Monitor {
    child: Child,
    path: PathBuf,
}

impl Monitor {
    async fn start(env: &Env) -> Monitor {
        let path = env.dir.path().join("notify.log");
        let child = Command::new("dbus-monitor")
            .args([
                "--session",
                "interface='org.freedesktop.Notifications'",
                "type='method_return',sender='org.freedesktop.Notifications'",
            ])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (package dbus) is needed");
        let m = Monitor { child, path };
        // It prints its own NameAcquired signal once it is attached.
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(&m.path).map(|md| md.len()).unwrap_or(0) == 0 {
            assert!(Instant::now() < deadline, "dbus-monitor did not attach");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        m
    }

    fn log(&self) -> BusLog {
        parse_bus_log(&std::fs::read_to_string(&self.path).unwrap_or_default())
    }

    /// Waits up to `limit` until `cond` holds; returns the log either way.
    /// The id of the first notification shown, waiting up to 5 s for it while `d` runs.
    async fn first_id(&self, d: &Daemon) -> u32 {
        let log = self
            .wait_until(Duration::from_secs(5), |l| {
                l.shown.iter().any(|s| s.id.is_some())
            })
            .await;
        log.shown
            .first()
            .and_then(|s| s.id)
            .unwrap_or_else(|| panic!("no notification within 5 s:\n{}\n{}", log.raw, d.stderr()))
    }

    async fn wait_until(&self, limit: Duration, cond: impl Fn(&BusLog) -> bool) -> BusLog {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if cond(&log) || Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Removes a popup that gdbus or a test left on screen (dunst keeps them: timeout = 0).
fn close_popup(id: u32) {
    let _ = Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.Notifications",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--method",
            "org.freedesktop.Notifications.CloseNotification",
            &id.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// What a click on the popup's button sends (TESTING.md §3).
fn invoke_action(id: u32, key: &str) {
    let ok = Command::new("gdbus")
        .args([
            "emit",
            "--session",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--signal",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32 {id}"),
            &format!("'{key}'"),
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "gdbus emit ActionInvoked({id}, {key}) failed");
}

// ------------------------------------------------------------------------------------------------
// The daemon

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(env: &Env, tag: &str, offset_secs: Option<u64>) -> Daemon {
        let log = env.dir.path().join(format!("daemon-{tag}.log"));
        let mut c = env.cmd();
        c.args(["-v", "daemon", "--interval", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(o) = offset_secs {
            c.env(OFFSET, o.to_string());
        }
        Daemon {
            child: c.spawn().unwrap(),
            log,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn assert_running(&mut self) {
        if let Some(s) = self.child.try_wait().unwrap() {
            panic!("the daemon exited early ({s}):\n{}", self.stderr());
        }
    }

    /// SIGTERM; it must exit 0 within 5 s. Returns its stderr.
    async fn stop(mut self) -> String {
        self.assert_running();
        e2e::sigterm(self.child.id());
        let status = e2e::wait_exit(&mut self.child, Duration::from_secs(5)).await;
        let stderr = self.stderr();
        match status {
            None => panic!("the daemon ignored SIGTERM for 5 s:\n{stderr}"),
            Some(s) => assert_eq!(s.code(), Some(0), "SIGTERM → exit 0:\n{stderr}"),
        }
        stderr
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn assert_relink_notification(n: &Shown, reason: RelinkReason, log: &BusLog) {
    assert_eq!(n.app_name, APP, "{n:#?}");
    assert_eq!(n.summary, PAUSED, "{n:#?}");
    // The contract says the body is the one-sentence reason; naming the account after it, as in
    // "<sentence> (<apple id>)", is accepted too (with several accounts the person must know which).
    let with_account = format!("{} ({ID})", reason.sentence());
    assert!(
        n.body == reason.sentence() || n.body == with_account,
        "body is the one-sentence reason {:?}, got {:?}",
        reason.sentence(),
        n.body
    );
    // "default" is the click on the body; "fix" is the "Fix now" button GNOME Shell and KDE show.
    assert_eq!(
        n.actions,
        ["default", "Fix now", "fix", "Fix now", "later", "Later"],
        "actions (key, label pairs): {n:#?}"
    );
    assert!(n.id.is_some(), "dunst answered with an id:\n{}", log.raw);
}

// ------------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread")]
async fn daemon_notifies_once_per_account_restarts_stay_quiet_and_a_day_later_it_replaces_itself() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let mon = Monitor::start(&env).await;

    // First run: one notification, and later ticks (interval 1 s) add none.
    let d = Daemon::start(&env, "first", None);
    let log = mon
        .wait_until(Duration::from_secs(5), |l| !l.shown.is_empty())
        .await;
    assert!(
        !log.shown.is_empty(),
        "no notification within 5 s:\n{}\n{}",
        log.raw,
        d.stderr()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stderr = d.stop().await;
    let log = mon.log();
    assert_eq!(
        log.shown.len(),
        1,
        "exactly one notification over ~4 ticks: {:#?}\n{stderr}",
        log.shown
    );
    let first = log.shown[0].clone();
    assert_relink_notification(&first, RelinkReason::PasswordRevoked, &log);
    assert_eq!(first.replaces_id, 0, "a new notification: {first:#?}");
    let id = first.id.unwrap();

    // A restart within the day shows nothing new (the last-shown time is persisted): it only takes
    // over the notification still on screen, in place, so that its buttons reach the new process.
    let d = Daemon::start(&env, "restart", None);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stderr = d.stop().await;
    let log = mon.log();
    assert_eq!(
        log.shown.len(),
        2,
        "a restart within a day re-shows the notification in place once, nothing more: {:#?}\n{stderr}",
        log.shown
    );
    assert_eq!(
        log.shown[1].replaces_id, id,
        "in place: {:#?}",
        log.shown[1]
    );
    assert_eq!(
        log.shown[1].id,
        Some(id),
        "same notification: {:#?}",
        log.shown[1]
    );
    assert_eq!(log.shown[1].summary, first.summary);

    // 25 h later and still unresolved: raised once more, replacing the first.
    let d = Daemon::start(&env, "next-day", Some(90_000));
    let log = mon
        .wait_until(Duration::from_secs(5), |l| l.shown.len() >= 3)
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stderr = d.stop().await;
    let log2 = mon.log();
    assert_eq!(
        log2.shown.len(),
        3,
        "re-raised exactly once a day later: {:#?}\n{stderr}\n{}",
        log2.shown,
        log.raw
    );
    let again = &log2.shown[2];
    assert_relink_notification(again, RelinkReason::PasswordRevoked, &log2);
    assert_eq!(again.replaces_id, id, "it replaces itself: {again:#?}");
    assert_eq!(
        sim.stats().unauthorized,
        1,
        "the daemon never retried the password"
    );
    close_popup(again.id.unwrap_or(id));
    env.forget(ID);
}

/// Runs `dunstctl` (dunst's own control tool: what a click does, with dunst addressing the
/// ActionInvoked signal to the process that showed the notification, as real servers do).
fn dunstctl(args: &[&str]) {
    let ok = Command::new("dunstctl")
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "dunstctl {args:?} failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_click_on_a_notification_left_from_before_a_restart_reaches_the_new_process() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    dunstctl(&["close-all"]);
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let mon = Monitor::start(&env).await;

    let d = Daemon::start(&env, "before", None);
    let id = mon.first_id(&d).await;
    d.stop().await;

    // The notification stays on screen; a new process starts and the person clicks it.
    let d = Daemon::start(&env, "after", None);
    let log = mon
        .wait_until(Duration::from_secs(5), |l| l.shown.len() >= 2)
        .await;
    assert_eq!(
        log.shown.get(1).map(|s| s.replaces_id),
        Some(id),
        "the new process takes over the notification in place:\n{}\n{}",
        log.raw,
        d.stderr()
    );
    dunstctl(&["action", "0"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !d.stderr().contains(&format!("To reconnect {ID}")) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stderr = d.stop().await;
    assert!(
        stderr.contains(&format!("To reconnect {ID}")),
        "the click on the notification from before the restart reached the new process:\n{stderr}"
    );
    close_popup(id);
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn later_snoozes_the_notification_for_a_day() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let mon = Monitor::start(&env).await;

    let d = Daemon::start(&env, "first", None);
    let id = mon.first_id(&d).await;
    invoke_action(id, "later");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stderr = d.stop().await;
    assert!(
        stderr.to_lowercase().contains("snoozed"),
        "the daemon logs the snooze at -v:\n{stderr}"
    );
    close_popup(id);

    // 12 h later: still snoozed.
    let d = Daemon::start(&env, "12h", Some(43_200));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stderr = d.stop().await;
    let log = mon.log();
    assert_eq!(
        log.shown.len(),
        1,
        "snoozed for a day: nothing 12 h later: {:#?}\n{stderr}",
        log.shown
    );

    // 25 h later: the snooze is over and it comes back, replacing the first.
    let d = Daemon::start(&env, "25h", Some(90_000));
    let log = mon
        .wait_until(Duration::from_secs(5), |l| l.shown.len() >= 2)
        .await;
    let stderr = d.stop().await;
    assert_eq!(
        log.shown.len(),
        2,
        "shown again after the day of snooze: {:#?}\n{stderr}",
        log.shown
    );
    assert_eq!(log.shown[1].summary, PAUSED);
    assert_eq!(log.shown[1].replaces_id, id);
    close_popup(log.shown[1].id.unwrap_or(id));
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn relink_while_the_daemon_runs_withdraws_the_notification_and_confirms_reconnection() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    let sim = default_sim().await;
    let env = paused_account(&sim).await;
    let mon = Monitor::start(&env).await;

    let d = Daemon::start(&env, "daemon", None);
    let id = mon.first_id(&d).await;

    let r = env
        .run_async(&["relink", "--apple-id", ID, "--password-stdin"], Some(NEW))
        .await;
    assert_eq!(r.code, 0, "{}", show(&r));
    let log = mon
        .wait_until(Duration::from_secs(5), |l| {
            l.closed.contains(&id) && l.summaries().contains(&RECONNECTED)
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stderr = d.stop().await;
    let log2 = mon.log();
    assert!(
        log.closed.contains(&id),
        "the relink notification {id} is withdrawn (CloseNotification): closed {:?}\n{}\n{stderr}",
        log.closed,
        log.raw
    );
    let confirm: Vec<&Shown> = log2
        .shown
        .iter()
        .filter(|s| s.summary == RECONNECTED)
        .collect();
    assert_eq!(
        confirm.len(),
        1,
        "one confirmation: {:#?}\n{stderr}",
        log2.shown
    );
    assert_eq!(
        log2.shown.iter().filter(|s| s.summary == PAUSED).count(),
        1,
        "nothing asks for a password after the relink: {:#?}",
        log2.shown
    );
    for s in &log2.shown {
        if let Some(i) = s.id {
            close_popup(i);
        }
    }
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_server_errors_notify_nothing_while_the_last_sync_is_recent() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    let sim = default_sim().await;
    let env = linked(&sim).await;
    sim.set_scenario(Scenario::ServerError { status: 500 });
    let mon = Monitor::start(&env).await;
    let d = Daemon::start(&env, "daemon", None);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let stderr = d.stop().await;
    let log = mon.log();
    assert!(
        sim.stats().requests > 0,
        "the daemon did try to sync:\n{stderr}"
    );
    assert!(
        log.shown.is_empty(),
        "a server that is merely failing is no reason to notify: {:#?}\n{stderr}",
        log.shown
    );
    let st = env.status().await;
    assert_ne!(st["accounts"][0]["state"], "needs_relink", "{st:#}");
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn prolonged_transient_failure_notifies_once_after_24_hours_without_a_sync() {
    if !desktop_or_skip() {
        return;
    }
    let _desktop = e2e::desktop_exclusive().await;
    let sim = default_sim().await;
    let env = linked(&sim).await;
    sim.set_scenario(Scenario::ServerError { status: 500 });
    let mon = Monitor::start(&env).await;
    let d = Daemon::start(&env, "daemon", Some(90_000));
    let log = mon
        .wait_until(Duration::from_secs(5), |l| !l.shown.is_empty())
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stderr = d.stop().await;
    let log2 = mon.log();
    assert_eq!(
        log2.shown.len(),
        1,
        "one notification after 25 h without a successful sync: {:#?}\n{stderr}\n{}",
        log2.shown,
        log.raw
    );
    assert!(
        log2.shown[0].summary.starts_with("iCloud calendars"),
        "{:#?}",
        log2.shown[0]
    );
    assert_ne!(
        log2.shown[0].summary, PAUSED,
        "a failing server is not a password problem"
    );
    if let Some(i) = log2.shown[0].id {
        close_popup(i);
    }
    env.forget(ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_daemon_on_the_same_data_dir_exits_1_at_once_saying_already_running() {
    if !desktop_or_skip() {
        return;
    }
    // It shows nothing it looks for, but its daemons may notify.
    let _desktop = e2e::desktop_shared().await;
    let sim = default_sim().await;
    let env = linked(&sim).await;
    let mut first = Daemon::start(&env, "first", None);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.assert_running();

    let log = env.dir.path().join("daemon-second.log");
    let mut second = env
        .cmd()
        .args(["daemon", "--interval", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let status = e2e::wait_exit(&mut second, Duration::from_secs(3)).await;
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
        panic!("a second daemon kept running:\n{stderr}");
    }
    assert_eq!(status.unwrap().code(), Some(1), "{stderr}");
    assert!(stderr.contains("already running"), "it says why:\n{stderr}");
    first.assert_running();
    let _ = first.stop().await;
    env.forget(ID);
}

#[test]
fn bus_log_parser_reads_notify_calls_their_ids_and_closes() {
    let raw = r#"signal time=1.0 sender=org.freedesktop.DBus -> destination=:1.6 serial=2 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameAcquired
   string ":1.6"
method call time=2.0 sender=:1.7 -> destination=:1.4 serial=10 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "Calendar Connector"
   uint32 0
   string ""
   string "iCloud calendars paused: new app-specific password needed"
   string "Apple stopped — most "often" x."
   array [
      string "default"
      string "Fix now"
      string "later"
      string "Later"
   ]
   array [
      dict entry(
         string "urgency"
         variant             byte 1
      )
   ]
   int32 -1
method call time=2.1 sender=:1.9 -> destination=:1.4 serial=10 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "other app"
   uint32 0
   string ""
   string "s"
   string "b"
   array [
   ]
   array [
   ]
   int32 -1
method return time=2.2 sender=:1.4 -> destination=:1.9 serial=5 reply_serial=10
   uint32 7
method return time=2.3 sender=:1.4 -> destination=:1.7 serial=6 reply_serial=10
   uint32 2
method call time=3.0 sender=:1.7 -> destination=:1.4 serial=11 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=CloseNotification
   uint32 2
signal time=3.1 sender=:1.4 -> destination=:1.7 serial=8 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=NotificationClosed
   uint32 2
   uint32 3
"#;
    let log = parse_bus_log(raw);
    assert_eq!(
        log.shown,
        vec![Shown {
            app_name: APP.into(),
            replaces_id: 0,
            summary: PAUSED.into(),
            body: "Apple stopped — most \"often\" x.".into(),
            actions: vec![
                "default".into(),
                "Fix now".into(),
                "later".into(),
                "Later".into()
            ],
            id: Some(2),
        }]
    );
    assert_eq!(log.closed, vec![2]);
}
