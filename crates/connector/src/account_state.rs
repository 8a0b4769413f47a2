//! The account state machine: the five states, the three relink reasons, and [`transition`], the one
//! place that decides what follows what. The connector applies events and stores the result; nothing
//! else writes a state, and the reason a relink is needed is chosen here (docs/design.md rule 2) from
//! what the event says about the password.
//!
//! The codes (`needs_relink`, `password_revoked`, …) are the vocabulary of every surface (docs/design.md
//! "one vocabulary"): stored in the cache, shown in `status --json`.

use serde::Serialize;

/// Account states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Syncing normally.
    Active,
    /// A sync is running.
    Syncing,
    /// Waiting after throttling or a server failure.
    Backoff,
    /// The server rejected the password; no request is sent until the person relinks.
    NeedsRelink,
    /// A password is being checked with the server.
    Verifying,
}

impl AccountState {
    /// Every state, in the order of the docs.
    pub const ALL: [AccountState; 5] = [
        AccountState::Active,
        AccountState::Syncing,
        AccountState::Backoff,
        AccountState::NeedsRelink,
        AccountState::Verifying,
    ];

    /// Stable code (stored in the cache, shown in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "active",
            AccountState::Syncing => "syncing",
            AccountState::Backoff => "backoff",
            AccountState::NeedsRelink => "needs_relink",
            AccountState::Verifying => "verifying",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<AccountState> {
        AccountState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Why a relink is needed. The 401 is identical in every case (docs/icloud.md §2.3); the reason comes from
/// context (docs/design.md rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelinkReason {
    /// The stored secret does not look like an app-specific password (§4.2).
    AppSpecificPasswordRequired,
    /// This password synced before and is now rejected (§2.4).
    PasswordRevoked,
    /// This password never worked.
    PasswordRejected,
}

impl RelinkReason {
    /// Every reason.
    pub const ALL: [RelinkReason; 3] = [
        RelinkReason::AppSpecificPasswordRequired,
        RelinkReason::PasswordRevoked,
        RelinkReason::PasswordRejected,
    ];

    /// Stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            RelinkReason::AppSpecificPasswordRequired => "app_specific_password_required",
            RelinkReason::PasswordRevoked => "password_revoked",
            RelinkReason::PasswordRejected => "password_rejected",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<RelinkReason> {
        RelinkReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Picks the reason from context (docs/design.md rule 2).
    pub fn from_context(secret_looks_like_asp: bool, password_worked_before: bool) -> RelinkReason {
        if !secret_looks_like_asp {
            RelinkReason::AppSpecificPasswordRequired
        } else if password_worked_before {
            RelinkReason::PasswordRevoked
        } else {
            RelinkReason::PasswordRejected
        }
    }
}

/// What the cache stores for an account: its state and, while a relink is needed (or a check of the
/// saved password is running), why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateWithReason {
    /// The state.
    pub state: AccountState,
    /// The relink reason: set with `needs_relink`, kept through `verifying`, otherwise none.
    pub reason: Option<RelinkReason>,
}

impl StateWithReason {
    /// A state without a relink reason.
    pub const fn plain(state: AccountState) -> StateWithReason {
        StateWithReason {
            state,
            reason: None,
        }
    }

    /// The reason a relink is needed, when the account needs one.
    pub fn needs_relink(self) -> Option<RelinkReason> {
        // A needs_relink without a reason cannot be stored (schema v4); the fallback is the mildest.
        (self.state == AccountState::NeedsRelink)
            .then(|| self.reason.unwrap_or(RelinkReason::PasswordRejected))
    }
}

/// The password a request was refused with, and what is known about it (the context of rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Password {
    /// The password saved in the keychain.
    Saved {
        /// It looks like an app-specific password.
        looks_like_asp: bool,
        /// It completed a sync before.
        worked_before: bool,
    },
    /// A password the person just typed (relink); it has never worked.
    New {
        /// It looks like an app-specific password.
        looks_like_asp: bool,
    },
}

impl Password {
    /// What a refusal of this password means (docs/design.md rule 2): the one place the reason is
    /// chosen from what the password looks like and whether it worked before.
    pub fn reason(self) -> RelinkReason {
        match self {
            Password::Saved {
                looks_like_asp,
                worked_before,
            } => RelinkReason::from_context(looks_like_asp, worked_before),
            Password::New { looks_like_asp } => RelinkReason::from_context(looks_like_asp, false),
        }
    }
}

/// Something that happened to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The server accepted the password at link time.
    Linked,
    /// A sync begins (with the saved password).
    SyncStarted,
    /// The sync completed.
    SyncSucceeded,
    /// The sync failed for a reason other than the password; `backing_off` when rule 7 schedules a wait.
    SyncFailed {
        /// A backoff was scheduled.
        backing_off: bool,
    },
    /// The server refused the saved password during a sync (the first 401, rule 1).
    SyncRefused(Password),
    /// One verification request is about to be sent (relink or "Try again").
    CheckStarted,
    /// The server accepted the checked password (and, on relink, it is saved).
    CheckAccepted,
    /// The server refused the checked password. `resume` is the state the check interrupted.
    CheckRefused {
        /// The password checked.
        password: Password,
        /// The state before the check.
        resume: AccountState,
    },
    /// The check got no answer from the server (network, 5xx): it changes nothing.
    CheckUnanswered {
        /// The state before the check.
        resume: AccountState,
    },
}

/// A transition the machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Rule 1: nothing is sent with a password the server refused; the person must relink (or ask to
    /// try again, which is a check).
    #[error("the account needs a relink ({})", .0.as_str())]
    NeedsRelink(RelinkReason),
    /// The event cannot happen in this state (a bug, never the person's doing).
    #[error("{event:?} cannot happen while the account is {}", .state.as_str())]
    NotAllowed {
        /// The state.
        state: AccountState,
        /// The event.
        event: Event,
    },
}

/// The next state after `event`, or why the event is not allowed now. Pure: the caller stores the result.
pub fn transition(
    current: StateWithReason,
    event: Event,
) -> Result<StateWithReason, TransitionError> {
    use AccountState::*;
    let not_allowed = || TransitionError::NotAllowed {
        state: current.state,
        event,
    };
    let next = match (current.state, event) {
        // Linking (again) starts over with a password the server just accepted.
        (_, Event::Linked) => StateWithReason::plain(Active),
        (NeedsRelink, Event::SyncStarted) => {
            return Err(TransitionError::NeedsRelink(
                current
                    .needs_relink()
                    .unwrap_or(RelinkReason::PasswordRejected),
            ))
        }
        // A `syncing` or `verifying` left by a killed process does not block a sync; the sync lock
        // keeps syncs of one data dir apart.
        (Active | Syncing | Backoff | Verifying, Event::SyncStarted) => {
            StateWithReason::plain(Syncing)
        }
        (Syncing, Event::SyncSucceeded) => StateWithReason::plain(Active),
        (Syncing, Event::SyncFailed { backing_off }) => {
            StateWithReason::plain(if backing_off { Backoff } else { Active })
        }
        (Syncing, Event::SyncRefused(password)) => StateWithReason {
            state: NeedsRelink,
            reason: Some(password.reason()),
        },
        (_, Event::CheckStarted) => StateWithReason {
            state: Verifying,
            reason: current.reason,
        },
        (Verifying, Event::CheckAccepted) => StateWithReason::plain(Active),
        (Verifying, Event::CheckRefused { password, resume }) => match password {
            // The saved password is still refused: the reason found when it was first refused stands.
            Password::Saved { .. } => StateWithReason {
                state: NeedsRelink,
                reason: Some(current.reason.unwrap_or_else(|| password.reason())),
            },
            Password::New { .. } if resume == NeedsRelink => StateWithReason {
                state: NeedsRelink,
                reason: Some(password.reason()),
            },
            // A new password was refused while the saved one still works: keep syncing with it.
            Password::New { .. } => StateWithReason {
                state: resume,
                reason: current.reason,
            },
        },
        (Verifying, Event::CheckUnanswered { resume }) => StateWithReason {
            state: resume,
            reason: current.reason,
        },
        (
            Active | Syncing | Backoff | NeedsRelink,
            Event::CheckAccepted | Event::CheckRefused { .. } | Event::CheckUnanswered { .. },
        )
        | (
            Active | Backoff | NeedsRelink | Verifying,
            Event::SyncSucceeded | Event::SyncFailed { .. } | Event::SyncRefused(_),
        ) => return Err(not_allowed()),
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccountState::*;

    const SAVED_ASP_WORKED: Password = Password::Saved {
        looks_like_asp: true,
        worked_before: true,
    };
    const SAVED_ASP_NEVER: Password = Password::Saved {
        looks_like_asp: true,
        worked_before: false,
    };
    const SAVED_NOT_ASP: Password = Password::Saved {
        looks_like_asp: false,
        worked_before: true,
    };
    const NEW_ASP: Password = Password::New {
        looks_like_asp: true,
    };
    const NEW_NOT_ASP: Password = Password::New {
        looks_like_asp: false,
    };

    fn s(state: AccountState) -> StateWithReason {
        StateWithReason::plain(state)
    }

    fn r(state: AccountState, reason: RelinkReason) -> StateWithReason {
        StateWithReason {
            state,
            reason: Some(reason),
        }
    }

    const REVOKED: RelinkReason = RelinkReason::PasswordRevoked;
    const REJECTED: RelinkReason = RelinkReason::PasswordRejected;
    const ASP: RelinkReason = RelinkReason::AppSpecificPasswordRequired;

    /// Every event kind with the variants of its data that change the outcome.
    fn events() -> Vec<Event> {
        let mut v = vec![
            Event::Linked,
            Event::SyncStarted,
            Event::SyncSucceeded,
            Event::SyncFailed { backing_off: true },
            Event::SyncFailed { backing_off: false },
            Event::CheckStarted,
            Event::CheckAccepted,
        ];
        for p in [
            SAVED_ASP_WORKED,
            SAVED_ASP_NEVER,
            SAVED_NOT_ASP,
            NEW_ASP,
            NEW_NOT_ASP,
        ] {
            v.push(Event::SyncRefused(p));
            for resume in AccountState::ALL {
                v.push(Event::CheckRefused {
                    password: p,
                    resume,
                });
            }
        }
        for resume in AccountState::ALL {
            v.push(Event::CheckUnanswered { resume });
        }
        v
    }

    /// The expected outcome of every (state, event) pair, written out as a table rather than derived
    /// from the implementation. `from` carries a reason where the state can have one.
    fn expected(from: StateWithReason, e: Event) -> Result<StateWithReason, TransitionError> {
        let na = Err(TransitionError::NotAllowed {
            state: from.state,
            event: e,
        });
        match (from.state, e) {
            (_, Event::Linked) => Ok(s(Active)),

            (Active, Event::SyncStarted) => Ok(s(Syncing)),
            (Syncing, Event::SyncStarted) => Ok(s(Syncing)),
            (Backoff, Event::SyncStarted) => Ok(s(Syncing)),
            (Verifying, Event::SyncStarted) => Ok(s(Syncing)),
            (NeedsRelink, Event::SyncStarted) => Err(TransitionError::NeedsRelink(REVOKED)),

            (Syncing, Event::SyncSucceeded) => Ok(s(Active)),
            (Syncing, Event::SyncFailed { backing_off: true }) => Ok(s(Backoff)),
            (Syncing, Event::SyncFailed { backing_off: false }) => Ok(s(Active)),
            (Syncing, Event::SyncRefused(SAVED_ASP_WORKED)) => Ok(r(NeedsRelink, REVOKED)),
            (Syncing, Event::SyncRefused(SAVED_ASP_NEVER)) => Ok(r(NeedsRelink, REJECTED)),
            (Syncing, Event::SyncRefused(SAVED_NOT_ASP)) => Ok(r(NeedsRelink, ASP)),
            (Syncing, Event::SyncRefused(NEW_ASP)) => Ok(r(NeedsRelink, REJECTED)),
            (Syncing, Event::SyncRefused(NEW_NOT_ASP)) => Ok(r(NeedsRelink, ASP)),
            (_, Event::SyncSucceeded | Event::SyncFailed { .. } | Event::SyncRefused(_)) => na,

            // A check keeps the reason of the state it interrupts.
            (_, Event::CheckStarted) => Ok(StateWithReason {
                state: Verifying,
                reason: from.reason,
            }),

            (Verifying, Event::CheckAccepted) => Ok(s(Active)),
            // The saved password: the stored reason stands (from() gives Verifying the reason
            // `revoked`), whatever the password looks like.
            (
                Verifying,
                Event::CheckRefused {
                    password: Password::Saved { .. },
                    ..
                },
            ) => Ok(r(NeedsRelink, REVOKED)),
            (
                Verifying,
                Event::CheckRefused {
                    password: NEW_ASP,
                    resume: NeedsRelink,
                },
            ) => Ok(r(NeedsRelink, REJECTED)),
            (
                Verifying,
                Event::CheckRefused {
                    password: NEW_NOT_ASP,
                    resume: NeedsRelink,
                },
            ) => Ok(r(NeedsRelink, ASP)),
            (
                Verifying,
                Event::CheckRefused {
                    password: Password::New { .. },
                    resume,
                },
            ) => Ok(StateWithReason {
                state: resume,
                reason: from.reason,
            }),
            (Verifying, Event::CheckUnanswered { resume }) => Ok(StateWithReason {
                state: resume,
                reason: from.reason,
            }),
            (
                _,
                Event::CheckAccepted | Event::CheckRefused { .. } | Event::CheckUnanswered { .. },
            ) => na,
        }
    }

    /// The state as stored: needs_relink and verifying carry the reason `revoked`.
    fn from(state: AccountState) -> StateWithReason {
        match state {
            NeedsRelink | Verifying => r(state, REVOKED),
            _ => s(state),
        }
    }

    #[test]
    fn every_state_and_event_pair_has_the_outcome_of_the_table() {
        let mut pairs = 0;
        for state in AccountState::ALL {
            for e in events() {
                let from = from(state);
                assert_eq!(transition(from, e), expected(from, e), "{state:?} + {e:?}");
                pairs += 1;
            }
        }
        assert_eq!(pairs, 5 * (7 + 5 * 6 + 5));
    }

    #[test]
    fn a_saved_password_checked_without_a_stored_reason_gets_one_from_context() {
        let verifying = s(Verifying);
        for (p, want) in [
            (SAVED_ASP_WORKED, REVOKED),
            (SAVED_ASP_NEVER, REJECTED),
            (SAVED_NOT_ASP, ASP),
        ] {
            let e = Event::CheckRefused {
                password: p,
                resume: NeedsRelink,
            };
            assert_eq!(transition(verifying, e), Ok(r(NeedsRelink, want)), "{p:?}");
        }
    }

    #[test]
    fn a_refused_new_password_leaves_a_working_account_syncing() {
        let mut st = s(Backoff);
        st = transition(st, Event::CheckStarted).unwrap();
        assert_eq!(st, s(Verifying));
        let e = Event::CheckRefused {
            password: NEW_ASP,
            resume: Backoff,
        };
        assert_eq!(transition(st, e), Ok(s(Backoff)));
    }

    #[test]
    fn a_sync_is_never_started_with_a_refused_password() {
        for reason in RelinkReason::ALL {
            assert_eq!(
                transition(r(NeedsRelink, reason), Event::SyncStarted),
                Err(TransitionError::NeedsRelink(reason))
            );
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for st in AccountState::ALL {
            assert_eq!(AccountState::parse(st.as_str()), Some(st));
        }
        for reason in RelinkReason::ALL {
            assert_eq!(RelinkReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(AccountState::parse("paused"), None);
        assert_eq!(RelinkReason::parse("Password_Revoked"), None);
    }

    #[test]
    fn reason_comes_from_context() {
        assert_eq!(RelinkReason::from_context(false, true), ASP);
        assert_eq!(RelinkReason::from_context(true, true), REVOKED);
        assert_eq!(RelinkReason::from_context(true, false), REJECTED);
    }
}
