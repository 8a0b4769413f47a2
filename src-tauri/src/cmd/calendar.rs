//! The calendar views' commands beyond `events`: one event's details, search, and opening a link
//! from an event once the person has confirmed it in the window.

use connector::{DetailsOut, SearchOut};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// Most search results sent to the window at once.
pub const SEARCH_LIMIT: usize = 200;

/// The details of the event at `href` (one occurrence's when `recurrence_id` is given).
#[tauri::command]
pub async fn event_details(
    state: State<'_, AppState>,
    href: String,
    recurrence_id: Option<String>,
) -> CmdResult<DetailsOut> {
    let conn = state.current().await;
    conn.event_details(&href, recurrence_id.as_deref())?
        .ok_or_else(|| {
            IpcError::new(
                "not_found",
                "This event is no longer in the cache; it may have been deleted on the server.",
            )
        })
}

/// Events of visible calendars whose title, location or notes contain `query`, by date.
#[tauri::command]
pub async fn search_events(state: State<'_, AppState>, query: String) -> CmdResult<SearchOut> {
    let conn = state.current().await;
    Ok(conn.search(&query, SEARCH_LIMIT, chrono::Utc::now())?)
}

/// Whether `url` is a web or mail link that a browser may be asked to open (no userinfo tricks,
/// no other schemes).
pub fn event_link_allowed(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:"))
        && !url.contains('\\')
        && !url.chars().any(char::is_whitespace)
        && !url
            .split_once("://")
            .is_some_and(|(_, rest)| rest.split('/').next().is_some_and(|h| h.contains('@')))
}

/// Opens a link written in an event (its URL or a link in its notes) in the default browser, after
/// the person confirmed it in the window. Only a link that is in that event's cached data is
/// opened, so the window cannot be made to open anything else.
#[tauri::command]
pub async fn open_event_link<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    href: String,
    recurrence_id: Option<String>,
    url: String,
) -> CmdResult<()> {
    let conn = state.current().await;
    let details = conn
        .event_details(&href, recurrence_id.as_deref())?
        .ok_or_else(|| IpcError::new("not_found", "This event is no longer in the cache."))?
        .details;
    let in_event = details.url.as_deref() == Some(url.as_str())
        || details.notes.as_deref().is_some_and(|n| n.contains(&url));
    if !in_event || !event_link_allowed(&url) {
        return Err(IpcError::bad_request(
            "Only a web or mail link written in this event can be opened.",
        ));
    }
    match app.try_state::<tauri_plugin_opener::Opener<R>>() {
        Some(_) => app
            .opener()
            .open_url(&url, None::<&str>)
            .map_err(|e| IpcError::new("io", format!("Could not open the browser: {e}"))),
        None => Err(IpcError::new("io", "No browser opener in this build.")),
    }
}

#[cfg(test)]
mod tests {
    use super::event_link_allowed;

    #[test]
    fn only_web_and_mail_links_open() {
        assert!(event_link_allowed("https://example.com/j/123?pwd=x"));
        assert!(event_link_allowed("mailto:ana@example.com"));
        assert!(!event_link_allowed("file:///etc/passwd"));
        assert!(!event_link_allowed("javascript:alert(1)"));
        assert!(!event_link_allowed("https://good.example@evil.example/"));
        assert!(!event_link_allowed("https://a b/"));
    }
}

/// The file in the data dir that keeps the chosen view and date across windows.
const VIEW_FILE: &str = "view.json";

/// The view and date the window showed last: `{view, date}` with `view` one of agenda, day, week,
/// month and `date` a `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ViewState {
    /// agenda, day, week or month.
    pub view: String,
    /// The day the view shows (or starts from), local `YYYY-MM-DD`.
    pub date: String,
}

impl ViewState {
    fn valid(&self) -> bool {
        ["agenda", "day", "week", "month"].contains(&self.view.as_str())
            && chrono::NaiveDate::parse_from_str(&self.date, "%Y-%m-%d").is_ok()
    }
}

/// The view and date last chosen in this data dir, if any (an unreadable file counts as none).
#[tauri::command]
pub async fn get_view_state(state: State<'_, AppState>) -> CmdResult<Option<ViewState>> {
    let path = state.data_dir.join(VIEW_FILE);
    Ok(std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<ViewState>(&b).ok())
        .filter(ViewState::valid))
}

/// Remembers the chosen view and date for the next window.
#[tauri::command]
pub async fn set_view_state(
    state: State<'_, AppState>,
    view: String,
    date: String,
) -> CmdResult<()> {
    let v = ViewState { view, date };
    if !v.valid() {
        return Err(IpcError::bad_request(format!(
            "“{}” on {} is not a view this window has.",
            v.view, v.date
        )));
    }
    let bytes =
        serde_json::to_vec(&v).map_err(|e| IpcError::internal("Could not remember the view", e))?;
    std::fs::write(state.data_dir.join(VIEW_FILE), bytes)
        .map_err(|e| IpcError::internal("Could not remember the view", e))
}
