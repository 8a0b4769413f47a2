//! The guidance text for each relink reason — written once here and shown identically by the
//! notification, `status`, the CLI and the desktop app (docs/design.md "one vocabulary"). The states and
//! reasons themselves, and what follows what, live in [`crate::account_state`].

pub use crate::account_state::{AccountState, RelinkReason};

impl RelinkReason {
    /// One sentence: what happened.
    pub fn sentence(self) -> &'static str {
        match self {
            RelinkReason::AppSpecificPasswordRequired => {
                "Apple requires an app-specific password for calendar apps; the password saved here is not one."
            }
            RelinkReason::PasswordRevoked => {
                "Apple stopped accepting the app-specific password that used to work — most often because the Apple ID password was changed or reset, which revokes every app-specific password."
            }
            RelinkReason::PasswordRejected => {
                "Apple rejected this app-specific password — check that it was copied completely and that the Apple ID is right."
            }
        }
    }
}

/// The steps to make a new app-specific password (docs/icloud.md §4.1, §4.2, §2.4), before the step
/// that depends on where the person reads them.
const STEPS_AT_APPLE: &str = "1. Open https://account.apple.com and sign in with your Apple ID.\n\
2. Choose Sign-In and Security, then App-Specific Passwords.\n\
3. Generate a new password, label it \"Calendar Connector\", and copy it (Apple shows it only once). It looks like abcd-efgh-ijkl-mnop: 16 lowercase letters in four groups.\n";

/// What is true whichever way the password is pasted.
const NOTES: &str = "App-specific passwords need two-factor authentication on the Apple ID. Changing or resetting the Apple ID password revokes every app-specific password.\n\
Nothing cached is lost: your calendars stay available offline and sync resumes where it stopped.";

/// Where the guidance is read: the last step differs (a window never tells people to run a command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The desktop app's relink wizard.
    Window,
    /// A terminal (`status`, errors of the CLI, the CLI daemon).
    Terminal,
}

/// The full guidance for a reason, as read in a terminal: the sentence, then the steps.
pub fn guidance(reason: RelinkReason) -> String {
    guidance_for(reason, Surface::Terminal)
}

/// The full guidance for a reason on `surface`: the sentence, the steps, the notes.
pub fn guidance_for(reason: RelinkReason, surface: Surface) -> String {
    let last = match surface {
        Surface::Window => "4. Paste it under \"Paste the new password\" and choose Verify and reconnect.",
        Surface::Terminal => "4. Run: calendar-connector-cli relink --apple-id YOUR-APPLE-ID (or paste it into the desktop app's relink window).",
    };
    format!("{}\n{STEPS_AT_APPLE}{last}\n{NOTES}", reason.sentence())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_guidance_says_apple_id_password_change_revokes_all() {
        let g = guidance(RelinkReason::PasswordRevoked);
        assert!(g.contains("revokes every app-specific password"));
        assert!(g.contains("account.apple.com"));
        assert!(g.contains("Sign-In and Security"));
        assert!(g.contains("Nothing cached is lost"));
    }

    #[test]
    fn the_window_never_tells_people_to_run_a_command() {
        for r in [
            RelinkReason::AppSpecificPasswordRequired,
            RelinkReason::PasswordRevoked,
            RelinkReason::PasswordRejected,
        ] {
            let w = guidance_for(r, Surface::Window);
            assert!(
                !w.contains("calendar-connector") && !w.contains("Run"),
                "{w}"
            );
            assert!(w.contains("4. Paste it under"), "{w}");
            assert!(guidance(r).contains("calendar-connector-cli relink"));
            assert_eq!(
                w.lines().next(),
                Some(r.sentence()),
                "the reason first, once"
            );
            assert_eq!(w.matches(r.sentence()).count(), 1);
        }
    }
}
