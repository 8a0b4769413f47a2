//! The freedesktop notification service (`org.freedesktop.Notifications`, the Desktop Notifications
//! Specification) on Linux and the BSDs, spoken directly over zbus 5: the version the keychain
//! (secret-service) and the tray already link, so the binaries carry one D-Bus stack.

use std::collections::HashMap;

use zbus::blocking::{Connection, MessageIterator};
use zbus::message::Type;
use zbus::zvariant::Value;
use zbus::MatchRule;

use super::UserAction;

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

/// What to show; `actions` are (key, label) pairs, key "default" being a click on the bubble.
pub(super) struct Bubble<'a> {
    pub app_name: &'a str,
    pub icon: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
    pub actions: &'a [(&'a str, &'a str)],
    /// The id of the notification this one replaces in place, 0 for a new one.
    pub replaces: u32,
}

/// The answers to one shown notification: its action or its closing.
pub(super) struct Answers {
    id: u32,
    signals: MessageIterator,
}

/// Shows `bubble` and returns its id, with its [`Answers`] when it has actions. The signals are
/// subscribed to before the notification exists, on the connection that shows it: servers such as
/// dunst address `ActionInvoked` to the sender of the notification only, and a click that comes at
/// once is not missed.
pub(super) fn show(bubble: &Bubble<'_>) -> zbus::Result<(u32, Option<Answers>)> {
    let conn = Connection::session()?;
    let signals = if bubble.actions.is_empty() {
        None
    } else {
        let rule = MatchRule::builder()
            .msg_type(Type::Signal)
            .interface(SERVICE)?
            .path(PATH)?
            .build();
        Some(MessageIterator::for_match_rule(rule, &conn, None)?)
    };
    let actions: Vec<&str> = bubble
        .actions
        .iter()
        .flat_map(|(key, label)| [*key, *label])
        .collect();
    let hints: HashMap<&str, Value<'_>> = HashMap::new();
    // Expiry 0: the notification stays until the person acts on it.
    let id: u32 = conn
        .call_method(
            Some(SERVICE),
            PATH,
            Some(SERVICE),
            "Notify",
            &(
                bubble.app_name,
                bubble.replaces,
                bubble.icon,
                bubble.summary,
                bubble.body,
                actions,
                hints,
                0i32,
            ),
        )?
        .body()
        .deserialize()?;
    Ok((id, signals.map(|signals| Answers { id, signals })))
}

impl Answers {
    /// Blocks until the person acts on the notification or it is closed ([`UserAction::Dismissed`]);
    /// `None` when the bus connection ends first.
    pub(super) fn wait(self) -> Option<UserAction> {
        for msg in self.signals {
            let Ok(msg) = msg else { return None };
            let header = msg.header();
            match header.member().map(|m| m.as_str()) {
                Some("ActionInvoked") => {
                    if let Ok((id, key)) = msg.body().deserialize::<(u32, String)>() {
                        if id == self.id {
                            return Some(UserAction::from_key(&key));
                        }
                    }
                }
                Some("NotificationClosed") => {
                    if let Ok((id, _reason)) = msg.body().deserialize::<(u32, u32)>() {
                        if id == self.id {
                            return Some(UserAction::Dismissed);
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Withdraws notification `id`.
pub(super) fn close(id: u32) -> zbus::Result<()> {
    Connection::session()?.call_method(
        Some(SERVICE),
        PATH,
        Some(SERVICE),
        "CloseNotification",
        &(id,),
    )?;
    Ok(())
}
