//! What the simulator serves: account, listeners and calendars.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The one component type a calendar holds (docs/icloud.md §1.6: never both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Component {
    /// An event calendar.
    Vevent,
    /// A reminders list.
    Vtodo,
}

impl Component {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Component::Vevent => "VEVENT",
            Component::Vtodo => "VTODO",
        }
    }
}

/// One calendar collection under the calendar home.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// Path segment, e.g. `home` in `/<dsid>/calendars/home/`.
    pub slug: String,
    /// `DAV:displayname`.
    pub display_name: String,
    /// `ICAL:calendar-color`, 8-digit `#RRGGBBAA` (§1.7).
    pub color: String,
    /// What the calendar holds.
    pub component: Component,
    /// How many objects to generate.
    pub events: usize,
    /// A read-only shared calendar: its privilege set lacks `write` and writes answer 403 (§2.8).
    pub read_only: bool,
}

impl CalendarSpec {
    /// A writable calendar.
    pub fn new(
        slug: &str,
        display_name: &str,
        color: &str,
        component: Component,
        events: usize,
    ) -> Self {
        CalendarSpec {
            slug: slug.to_owned(),
            display_name: display_name.to_owned(),
            color: color.to_owned(),
            component,
            events,
            read_only: false,
        }
    }
}

/// Everything [`crate::Sim::start`] needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The Apple ID (Basic auth user name).
    pub apple_id: String,
    /// The accepted app-specific password.
    pub password: String,
    /// Numeric account id used in every path (§1.2).
    pub dsid: String,
    /// Port of the front host (`caldav.icloud.com`); 0 picks a free one.
    pub front_port: u16,
    /// Port of the partition host (`pNN-caldav.icloud.com`); 0 picks a free one.
    pub partition_port: u16,
    /// The calendars to generate (ignored when `ics_dir` is set).
    pub calendars: Vec<CalendarSpec>,
    /// Seed of the deterministic generator.
    pub seed: u64,
    /// Events are spread around this date (−60..+120 days); at least three fall on it.
    pub base_date: chrono::NaiveDate,
    /// Serve these files instead of generating: each subdirectory is one calendar, each `*.ics` file one
    /// object, served byte for byte.
    pub ics_dir: Option<PathBuf>,
    /// Percentage (0..100) of generated objects that are deliberately unparseable.
    pub broken_percent: f64,
    /// Published calendars served from the start at `/published/2/<token>` (QUIRK(icloud §1.9)):
    /// (token, one whole VCALENDAR). The demo publishes one so a person can try subscribing.
    pub published: Vec<(String, Vec<u8>)>,
}

impl SimConfig {
    /// Home (40 events), Work (25 events), Reminders (3 todos).
    pub fn default_calendars() -> Vec<CalendarSpec> {
        vec![
            CalendarSpec::new("home", "Home", "#1BADF8FF", Component::Vevent, 40),
            CalendarSpec::new("work", "Work", "#FF9500FF", Component::Vevent, 25),
            CalendarSpec::new("reminders", "Reminders", "#63DA38FF", Component::Vtodo, 3),
        ]
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            apple_id: "demo@example.com".to_owned(),
            password: "abcd-efgh-ijkl-mnop".to_owned(),
            dsid: "17149682".to_owned(),
            front_port: 0,
            partition_port: 0,
            calendars: SimConfig::default_calendars(),
            seed: 1,
            base_date: chrono::Utc::now().date_naive(),
            ics_dir: None,
            broken_percent: 0.0,
            published: Vec::new(),
        }
    }
}
