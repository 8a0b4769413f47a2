//! Native notifications: rare and useful (docs/design.md rule 6). The policy — one per account per problem,
//! replacing itself, re-raised at most daily while unresolved, snoozed by "Later", withdrawn and
//! confirmed when fixed, transient failures only after 24 h without a successful sync — is pure and
//! lives in [`decide`]; the desktop is reached through the small [`Notifier`] trait, implemented by
//! [`DesktopNotifier`] for each platform.

use std::sync::Arc;

use crate::relink::RelinkReason;
use crate::text::{for_display, for_display_lines};

#[cfg(all(unix, not(target_os = "macos")))]
mod freedesktop;

/// Title of the relink notification.
pub const RELINK_SUMMARY: &str = "iCloud calendars paused: new app-specific password needed";
/// Title of the prolonged-failure notification.
pub const STALE_SUMMARY: &str = "iCloud calendars have not synced for a day";
/// Title of the confirmation.
pub const RECONNECTED_SUMMARY: &str = "Calendars reconnected";
/// App name shown by the notification server.
pub const APP_NAME: &str = "Calendar Connector";
/// Seconds in a day: the re-raise and snooze period.
pub const DAY: i64 = 24 * 3600;

/// One notification to show.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationSpec {
    /// Title.
    pub summary: String,
    /// Body.
    pub body: String,
    /// (key, label); key "default" is the click on the notification itself.
    pub actions: Vec<(&'static str, &'static str)>,
    /// Id of the notification this one replaces.
    pub replaces: Option<u32>,
}

/// What the person did with a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// "Fix now" or a click on the notification.
    FixNow,
    /// "Later": snooze a day.
    Later,
    /// Closed without choosing.
    Dismissed,
}

impl UserAction {
    /// From a notification action key.
    pub fn from_key(key: &str) -> UserAction {
        match key {
            "default" | "fix" => UserAction::FixNow,
            "later" => UserAction::Later,
            _ => UserAction::Dismissed,
        }
    }
}

/// Receives (apple_id, action).
pub type ActionHandler = Arc<dyn Fn(&str, UserAction) + Send + Sync>;

/// The desktop's notification service.
pub trait Notifier: Send + Sync {
    /// Shows (or replaces) a notification for `account`; returns its id. Actions on it are delivered
    /// to the notifier's handler.
    fn show(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String>;
    /// Withdraws a notification.
    fn close(&self, id: u32) -> Result<(), String>;
    /// Takes over a notification an earlier process showed (`spec.replaces` is its id) and may still
    /// be on screen, so that a click on it reaches this process; returns the id it has now. The
    /// freedesktop servers send a click only to the process that showed the notification (dunst,
    /// for one, addresses ActionInvoked to that sender), so the default re-shows it in place.
    fn adopt(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        self.show(account, spec)
    }
}

/// Stands in for the desktop notifier when the person turned notifications off: nothing is shown, and
/// the records still say "handled", so turning them on again does not replay old ones.
pub struct Silent;

impl Notifier for Silent {
    fn show(&self, _account: &str, _spec: &NotificationSpec) -> Result<u32, String> {
        Ok(0)
    }
    fn close(&self, _id: u32) -> Result<(), String> {
        Ok(())
    }
}

/// The notifier for the "Notifications" setting: the desktop's, or [`Silent`].
pub fn desktop_or_silent(enabled: bool, handler: ActionHandler) -> Arc<dyn Notifier> {
    if enabled {
        Arc::new(DesktopNotifier::new(handler))
    } else {
        Arc::new(Silent)
    }
}

/// The persisted notification state of one account (stored by the cache, which knows nothing else of
/// notifications).
pub use crate::cache::NotifyRecord;

/// The account's health, as the policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Paused until relinked.
    NeedsRelink(RelinkReason),
    /// Failing for transient reasons; `last_success` is the last complete sync (unix seconds).
    Failing {
        /// Last success, if any.
        last_success: Option<i64>,
        /// Since when the account exists (for accounts that never synced).
        linked_at: i64,
        /// The error.
        message: String,
    },
    /// Fine.
    Healthy,
}

/// What to do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing.
    Nothing,
    /// Show this and record it as `kind`.
    Show {
        /// Record kind.
        kind: &'static str,
        /// What to show.
        spec: NotificationSpec,
    },
    /// Withdraw the notification; when `confirm`, show the short confirmation.
    Resolve {
        /// Id to close.
        close: Option<u32>,
        /// Show "Calendars reconnected".
        confirm: bool,
    },
}

/// The notification policy (pure).
pub fn decide(rec: &NotifyRecord, health: &Health, apple_id: &str, now: i64) -> Decision {
    let due = |kind: &str| -> bool {
        if rec.snoozed_until.is_some_and(|t| now < t) {
            return false;
        }
        match (rec.kind.as_deref(), rec.last_shown) {
            (Some(k), Some(t)) if k == kind => now - t >= DAY,
            _ => true,
        }
    };
    match health {
        Health::NeedsRelink(_) => {
            if !due("needs_relink") {
                return Decision::Nothing;
            }
            Decision::Show {
                kind: "needs_relink",
                spec: spec_for(health, apple_id, rec.id),
            }
        }
        Health::Failing {
            last_success,
            linked_at,
            ..
        } => {
            let since = last_success.unwrap_or(*linked_at);
            if now - since < DAY || !due("stale") {
                return Decision::Nothing;
            }
            Decision::Show {
                kind: "stale",
                spec: spec_for(health, apple_id, rec.id),
            }
        }
        Health::Healthy => match rec.kind.as_deref() {
            Some(kind) => Decision::Resolve {
                close: rec.id,
                confirm: kind == "needs_relink",
            },
            None => Decision::Nothing,
        },
    }
}

/// The notification kind (as recorded) of a health that has one.
pub fn kind_of(health: &Health) -> Option<&'static str> {
    match health {
        Health::NeedsRelink(_) => Some("needs_relink"),
        Health::Failing { .. } => Some("stale"),
        Health::Healthy => None,
    }
}

/// The notification for an unhealthy account (`replaces`: the id it takes the place of).
fn spec_for(health: &Health, apple_id: &str, replaces: Option<u32>) -> NotificationSpec {
    match health {
        Health::NeedsRelink(reason) => NotificationSpec {
            summary: RELINK_SUMMARY.into(),
            body: format!("{} ({apple_id})", reason.sentence()),
            // "default" is a click on the body (GNOME Shell and KDE show no button for it): "Fix now"
            // is also a button of its own.
            actions: vec![
                ("default", "Fix now"),
                ("fix", "Fix now"),
                ("later", "Later"),
            ],
            replaces,
        },
        Health::Failing { message, .. } => NotificationSpec {
            summary: STALE_SUMMARY.into(),
            body: format!(
                "{apple_id}: {message}. Your cached calendars are still available; syncing retries by itself."
            ),
            actions: vec![("default", "Open"), ("later", "Later")],
            replaces,
        },
        // Nothing is raised for a healthy account; were it asked for, the confirmation is the one.
        Health::Healthy => reconnected(apple_id, replaces),
    }
}

/// At start: the notification an earlier process left on screen for this account, to be adopted so
/// that its buttons work — only while it is still about the account's current problem and not
/// snoozed or dismissed (a dismissed one has no recorded id).
pub fn left_on_screen(
    rec: &NotifyRecord,
    health: &Health,
    apple_id: &str,
    now: i64,
) -> Option<NotificationSpec> {
    let id = rec.id?;
    if rec.snoozed_until.is_some_and(|t| now < t) || rec.kind.as_deref() != kind_of(health) {
        return None;
    }
    Some(spec_for(health, apple_id, Some(id)))
}

/// The confirmation shown after a relink.
pub fn reconnected(apple_id: &str, replaces: Option<u32>) -> NotificationSpec {
    NotificationSpec {
        summary: RECONNECTED_SUMMARY.into(),
        body: format!("{apple_id} is syncing again. Nothing cached was lost."),
        actions: vec![],
        replaces,
    }
}

/// The real desktop's notifications: org.freedesktop.Notifications over D-Bus on Linux/BSD
/// (`notify/freedesktop.rs`), Notification Center on macOS (notify-rust), toasts on Windows
/// (`notify/toast.rs`).
pub struct DesktopNotifier {
    handler: ActionHandler,
}

impl DesktopNotifier {
    /// A notifier delivering actions to `handler` (called on a background thread).
    pub fn new(handler: ActionHandler) -> Self {
        DesktopNotifier { handler }
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
impl Notifier for DesktopNotifier {
    fn show(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        let summary = for_display(&spec.summary);
        let body = for_display_lines(&spec.body);
        let bubble = freedesktop::Bubble {
            app_name: APP_NAME,
            icon: "calendar",
            summary: &summary,
            body: &body,
            actions: &spec.actions,
            replaces: spec.replaces.unwrap_or(0),
        };
        let (id, answers) = freedesktop::show(&bubble)
            .map_err(|e| format!("could not show a notification: {e}"))?;
        if let Some(answers) = answers {
            let handler = self.handler.clone();
            let account = account.to_owned();
            std::thread::spawn(move || {
                if let Some(action) = answers.wait() {
                    handler(&account, action);
                }
            });
        }
        Ok(id)
    }

    fn close(&self, id: u32) -> Result<(), String> {
        freedesktop::close(id).map_err(|e| format!("could not withdraw notification {id}: {e}"))
    }
}

#[cfg(target_os = "macos")]
impl Notifier for DesktopNotifier {
    // macOS: Notification Center through notify-rust's NSUserNotification backend
    // (mac-notification-sys), posted as the app's bundle ([`crate::config::BUNDLE_ID`]). "Fix now" is
    // the action button and a click on the body, "Later" the close button (Info.plist makes "Alerts",
    // the style that shows both, the default). A thread waits for the answer as on Linux; the main
    // run loop that delivers it is the app's own (Tauri's). That backend can neither replace nor
    // withdraw a delivered notification, so `close` has nothing to do (docs/macos.md).
    fn show(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        use notify_rust::NsNotificationExt;
        post_as_bundle();
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME)
            .summary(&for_display(&spec.summary))
            .body(&for_display_lines(&spec.body));
        for (key, label) in &spec.actions {
            match *key {
                // The click on the notification itself: no button of its own.
                "default" => {}
                "later" => {
                    n.close_button(label);
                }
                _ => {
                    n.action(key, label);
                }
            }
        }
        let handle = n
            .show()
            .map_err(|e| format!("could not show a notification: {e}"))?;
        let id = spec.replaces.unwrap_or_else(|| toast_id(account));
        if spec.actions.is_empty() {
            // Dropping the handle delivers it without waiting for an answer.
            drop(handle);
            return Ok(id);
        }
        let handler = self.handler.clone();
        let account = account.to_owned();
        let has_later = spec.actions.iter().any(|(k, _)| *k == "later");
        std::thread::spawn(move || {
            let answered = handle.wait_for_response(|r: &notify_rust::NotificationResponse| {
                handler(&account, UserAction::from_key(macos_key(r, has_later)));
            });
            if let Err(e) = answered {
                tracing::warn!("notification answer lost: {e}");
            }
        });
        Ok(id)
    }

    fn close(&self, _id: u32) -> Result<(), String> {
        Ok(())
    }

    // NSUserNotification cannot replace a notification: showing an earlier run's again would post a
    // second one. Its click opens the app, which relinks what needs it at start.
    fn adopt(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        let _ = account;
        Ok(spec.replaces.unwrap_or(1))
    }
}

/// Posts notifications as the app's bundle; without it mac-notification-sys posts as another app.
/// Done once; an unbundled binary (a development build) cannot be set and keeps the default.
#[cfg(target_os = "macos")]
fn post_as_bundle() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Err(e) = notify_rust::set_application(crate::config::BUNDLE_ID) {
            tracing::info!("notifications are posted without the app's bundle identity: {e}");
        }
    });
}

/// The action key of a macOS notification answer: the close button is "Later" when the notification
/// has one. (notify-rust's answer type exists on every Unix, so Linux tests it.)
#[cfg(any(target_os = "macos", all(test, unix)))]
fn macos_key(r: &notify_rust::NotificationResponse, has_later: bool) -> &str {
    use notify_rust::{CloseReason, NotificationResponse as R};
    match r {
        R::Default => "default",
        R::Action(key) => key.as_str(),
        R::Closed(CloseReason::Dismissed) if has_later => "later",
        _ => "__closed",
    }
}

#[cfg(windows)]
mod toast;

#[cfg(windows)]
impl Notifier for DesktopNotifier {
    // Windows: a toast whose body and buttons activate `calendar-connector:` URIs, which the installer
    // registers for the desktop app. Windows starts the app with the URI (or the running instance
    // receives it through single-instance), so a click works whether or not the app is running; the
    // in-process handler is not needed.
    fn show(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        let _ = &self.handler;
        let id = spec.replaces.unwrap_or_else(|| toast_id(account));
        toast::show(&toast_xml(account, spec), id)?;
        Ok(id)
    }

    fn close(&self, id: u32) -> Result<(), String> {
        toast::withdraw(id)
    }

    // A click on a toast activates a URI, which reaches whichever process runs (or starts one): an
    // earlier run's toast needs nothing, and showing it again would pop it up a second time.
    fn adopt(&self, account: &str, spec: &NotificationSpec) -> Result<u32, String> {
        Ok(spec.replaces.unwrap_or_else(|| toast_id(account)))
    }
}

/// The Windows AppUserModelID: the installer's Start-menu shortcut carries it, and toasts are shown
/// under it (Windows shows no toast for an id without such a shortcut).
pub const APP_USER_MODEL_ID: &str = crate::config::BUNDLE_ID;

/// URI scheme of notification clicks on Windows (registered by the MSI for the desktop app).
pub const URI_SCHEME: &str = "calendar-connector";

/// A stable id per account, so a new toast for the same account replaces the old one.
pub fn toast_id(account: &str) -> u32 {
    // FNV-1a: stable across runs and builds (std's hasher is not).
    let mut h: u32 = 0x811c_9dc5;
    for b in account.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.max(1)
}

/// `calendar-connector:notification?action=KEY&account=ID`: what a click on a toast opens.
pub fn activation_uri(key: &str, account: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    format!(
        "{URI_SCHEME}:notification?action={}&account={}",
        utf8_percent_encode(key, NON_ALPHANUMERIC),
        utf8_percent_encode(account, NON_ALPHANUMERIC)
    )
}

/// The action and account of an [`activation_uri`], or `None` for anything else.
pub fn parse_activation_uri(uri: &str) -> Option<(UserAction, String)> {
    let rest = uri
        .strip_prefix(URI_SCHEME)?
        .strip_prefix(':')?
        .trim_start_matches('/')
        .strip_prefix("notification?")?;
    let (mut action, mut account) = (None, None);
    for pair in rest.trim_end_matches('/').split('&') {
        let (k, v) = pair.split_once('=')?;
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .ok()?
            .into_owned();
        match k {
            "action" => action = Some(v),
            "account" => account = Some(v),
            _ => {}
        }
    }
    let account =
        account.filter(|a| !a.is_empty() && a.len() <= 320 && !a.contains(char::is_control))?;
    Some((UserAction::from_key(&action?), account))
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters; a toast has no use for them.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The toast XML (Windows' ToastGeneric schema) of a notification: the body click is the `default`
/// action, and every other action ("Fix now", "Later") is a button, each opening its
/// [`activation_uri`].
pub fn toast_xml(account: &str, spec: &NotificationSpec) -> String {
    let launch = spec
        .actions
        .iter()
        .find(|(k, _)| *k == "default")
        .map(|(k, _)| activation_uri(k, account));
    let mut xml = String::from("<toast");
    if let Some(l) = &launch {
        xml.push_str(&format!(
            " activationType=\"protocol\" launch=\"{}\"",
            xml_escape(l)
        ));
    }
    xml.push_str(&format!(
        "><visual><binding template=\"ToastGeneric\"><text>{}</text><text>{}</text></binding></visual>",
        xml_escape(&for_display(&spec.summary)),
        xml_escape(&for_display_lines(&spec.body))
    ));
    let buttons: Vec<_> = spec
        .actions
        .iter()
        .filter(|(k, _)| *k != "default")
        .collect();
    if !buttons.is_empty() {
        xml.push_str("<actions>");
        for (key, label) in buttons {
            xml.push_str(&format!(
                "<action content=\"{}\" activationType=\"protocol\" arguments=\"{}\"/>",
                xml_escape(label),
                xml_escape(&activation_uri(key, account))
            ));
        }
        xml.push_str("</actions>");
    }
    xml.push_str("</toast>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn needs_relink_shows_once_then_daily_replacing_itself() {
        let h = Health::NeedsRelink(RelinkReason::PasswordRevoked);
        let d = decide(&NotifyRecord::default(), &h, "a@b.c", NOW);
        let Decision::Show { kind, spec } = d else {
            panic!("{d:?}")
        };
        assert_eq!(kind, "needs_relink");
        assert_eq!(spec.summary, RELINK_SUMMARY);
        assert_eq!(
            spec.actions,
            vec![
                ("default", "Fix now"),
                ("fix", "Fix now"),
                ("later", "Later")
            ]
        );
        assert_eq!(UserAction::from_key("fix"), UserAction::FixNow);
        assert_eq!(UserAction::from_key("default"), UserAction::FixNow);
        assert!(spec.body.contains("revokes every app-specific password"));
        let rec = NotifyRecord {
            kind: Some("needs_relink".into()),
            id: Some(7),
            last_shown: Some(NOW),
            snoozed_until: None,
        };
        assert_eq!(decide(&rec, &h, "a@b.c", NOW + 3600), Decision::Nothing);
        match decide(&rec, &h, "a@b.c", NOW + DAY) {
            Decision::Show { spec, .. } => assert_eq!(spec.replaces, Some(7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn toast_buttons_and_body_open_activation_uris_that_parse_back() {
        let h = Health::NeedsRelink(RelinkReason::PasswordRevoked);
        let who = "jane+work@example.com";
        let Decision::Show { spec, .. } = decide(&NotifyRecord::default(), &h, who, NOW) else {
            panic!()
        };
        let xml = toast_xml(who, &spec);
        let fix = activation_uri("default", who);
        assert_eq!(
            fix,
            "calendar-connector:notification?action=default&account=jane%2Bwork%40example%2Ecom"
        );
        let fix_attr = fix.replace('&', "&amp;");
        assert!(xml.starts_with(&format!(
            "<toast activationType=\"protocol\" launch=\"{fix_attr}\">"
        )));
        let fix_button = activation_uri("fix", who).replace('&', "&amp;");
        assert!(xml.contains(&format!(
            "<action content=\"Fix now\" activationType=\"protocol\" arguments=\"{fix_button}\"/>"
        )));
        assert_eq!(xml.matches("<action ").count(), 2, "{xml}");
        assert!(xml.contains("<action content=\"Later\" activationType=\"protocol\" arguments=\"calendar-connector:notification?action=later&amp;account="));
        assert_eq!(
            parse_activation_uri(&fix),
            Some((UserAction::FixNow, who.to_owned()))
        );
        assert_eq!(
            parse_activation_uri(&activation_uri("later", who)),
            Some((UserAction::Later, who.to_owned()))
        );
        assert_eq!(
            parse_activation_uri("calendar-connector:notification?action=later"),
            None
        );
        assert_eq!(
            parse_activation_uri("https://example.com/?action=later&account=a"),
            None
        );
        assert_eq!(
            parse_activation_uri("calendar-connector:notification?action=later&account=%0a"),
            None
        );
    }

    #[test]
    fn toast_text_is_escaped_and_ids_are_stable() {
        let spec = NotificationSpec {
            summary: "a <b> & \"c\"".into(),
            body: "x\u{7}y".into(),
            actions: vec![],
            replaces: None,
        };
        let xml = toast_xml("a", &spec);
        assert!(
            xml.contains("<text>a &lt;b&gt; &amp; &quot;c&quot;</text><text>x y</text>"),
            "{xml}"
        );
        assert!(!xml.contains("<actions>"));
        assert!(!xml.contains("launch="));
        assert_eq!(toast_id("a@b.c"), toast_id("a@b.c"));
        assert_ne!(toast_id("a@b.c"), toast_id("a@b.d"));
    }

    #[test]
    fn a_notification_left_on_screen_is_adopted_only_while_it_is_still_about_the_problem() {
        let relink = Health::NeedsRelink(RelinkReason::PasswordRevoked);
        let shown = NotifyRecord {
            kind: Some("needs_relink".into()),
            id: Some(7),
            last_shown: Some(NOW - 60),
            snoozed_until: None,
        };
        let spec = left_on_screen(&shown, &relink, "a@b.c", NOW).unwrap();
        assert_eq!(spec.replaces, Some(7), "re-shown in place");
        assert!(spec.actions.contains(&("fix", "Fix now")));
        // Dismissed (no id), snoozed, resolved or about another problem: nothing to adopt.
        let dismissed = NotifyRecord {
            id: None,
            ..shown.clone()
        };
        assert_eq!(left_on_screen(&dismissed, &relink, "a@b.c", NOW), None);
        let snoozed = NotifyRecord {
            snoozed_until: Some(NOW + 60),
            ..shown.clone()
        };
        assert_eq!(left_on_screen(&snoozed, &relink, "a@b.c", NOW), None);
        assert_eq!(left_on_screen(&shown, &Health::Healthy, "a@b.c", NOW), None);
        let stale = Health::Failing {
            last_success: None,
            linked_at: 0,
            message: "x".into(),
        };
        assert_eq!(left_on_screen(&shown, &stale, "a@b.c", NOW), None);
    }

    #[test]
    fn macos_answers_map_to_fix_now_and_later() {
        use notify_rust::{CloseReason, NotificationResponse as R};
        let key = |r: R, later| UserAction::from_key(macos_key(&r, later));
        assert_eq!(key(R::Default, true), UserAction::FixNow);
        assert_eq!(key(R::Action("fix".into()), true), UserAction::FixNow);
        assert_eq!(
            key(R::Closed(CloseReason::Dismissed), true),
            UserAction::Later
        );
        assert_eq!(
            key(R::Closed(CloseReason::Dismissed), false),
            UserAction::Dismissed
        );
        assert_eq!(
            key(R::Closed(CloseReason::Expired), true),
            UserAction::Dismissed
        );
        assert_eq!(key(R::Reply("x".into()), true), UserAction::Dismissed);
    }

    #[test]
    fn later_snoozes_a_day() {
        let h = Health::NeedsRelink(RelinkReason::PasswordRejected);
        let rec = NotifyRecord {
            kind: Some("needs_relink".into()),
            id: Some(7),
            last_shown: Some(NOW - 2 * DAY),
            snoozed_until: Some(NOW + DAY),
        };
        assert_eq!(decide(&rec, &h, "a", NOW), Decision::Nothing);
        assert!(matches!(
            decide(&rec, &h, "a", NOW + DAY),
            Decision::Show { .. }
        ));
    }

    #[test]
    fn transient_failures_notify_only_after_a_day_without_success() {
        let h = |last| Health::Failing {
            last_success: Some(last),
            linked_at: 0,
            message: "offline".into(),
        };
        assert_eq!(
            decide(&NotifyRecord::default(), &h(NOW - 3600), "a", NOW),
            Decision::Nothing
        );
        assert!(matches!(
            decide(&NotifyRecord::default(), &h(NOW - DAY - 1), "a", NOW),
            Decision::Show { kind: "stale", .. }
        ));
    }

    #[test]
    fn healthy_again_withdraws_and_confirms_a_relink() {
        let rec = NotifyRecord {
            kind: Some("needs_relink".into()),
            id: Some(9),
            last_shown: Some(NOW),
            snoozed_until: None,
        };
        assert_eq!(
            decide(&rec, &Health::Healthy, "a", NOW),
            Decision::Resolve {
                close: Some(9),
                confirm: true
            }
        );
        assert_eq!(
            decide(&NotifyRecord::default(), &Health::Healthy, "a", NOW),
            Decision::Nothing
        );
    }
}
