//! The unauthenticated control API under `/__sim/` on the front listener. Not counted in stats.

use serde::Deserialize;

use crate::dav::Shared;
use crate::http::{Request, Response};
use crate::scenario::{Armed, Scenario, ScenarioRequest, Stats};

#[derive(Deserialize)]
struct Mutate {
    calendar: String,
    #[serde(default)]
    add: usize,
    #[serde(default)]
    modify: usize,
    #[serde(default)]
    delete: usize,
}

fn json(status: u16, value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::new(status).with_body("application/json", body)
}

fn error(status: u16, msg: &str) -> Response {
    json(status, &serde_json::json!({ "error": msg }))
}

pub(crate) fn handle(shared: &Shared, req: &Request) -> Response {
    let path = req
        .raw_path()
        .trim_start_matches("/__sim/")
        .trim_end_matches('/');
    let mut st = shared.lock();
    match (req.method.as_str(), path) {
        ("GET", "stats") => json(200, &st.stats),
        ("POST", "reset-stats") => {
            st.stats = Stats::default();
            Response::new(204)
        }
        ("GET", "scenario") => json(200, &st.armed),
        ("POST", "scenario") => {
            let armed = if let Ok(r) = serde_json::from_slice::<ScenarioRequest>(&req.body) {
                Armed {
                    scenario: r.scenario,
                    only: r.only,
                    skip: r.after_requests,
                }
            } else {
                match serde_json::from_slice::<Scenario>(&req.body) {
                    Ok(s) => Armed::new(s),
                    Err(e) => return error(400, &e.to_string()),
                }
            };
            st.armed = armed;
            Response::new(204)
        }
        ("POST", "password") => {
            st.password = String::from_utf8_lossy(&req.body).trim().to_owned();
            Response::new(204)
        }
        ("POST", "expire-tokens") => {
            st.store.expire_tokens();
            Response::new(204)
        }
        ("POST", "mutate") => {
            let m: Mutate = match serde_json::from_slice(&req.body) {
                Ok(m) => m,
                Err(e) => return error(400, &e.to_string()),
            };
            let Some(cal) = st.store.calendar_index(&m.calendar) else {
                return error(404, "no such calendar");
            };
            let store = &mut st.store;
            let plain = |store: &crate::store::Store, names: Vec<String>| -> Vec<String> {
                names.iter().map(|n| store.plain_href(cal, n)).collect()
            };
            let deleted = store.delete(cal, m.delete);
            let deleted = plain(store, deleted);
            let modified = store.modify(cal, m.modify);
            let modified = plain(store, modified);
            let added = store.add(cal, m.add);
            let added = plain(store, added);
            json(
                200,
                &serde_json::json!({ "added": added, "modified": modified, "deleted": deleted }),
            )
        }
        ("POST", "publish") | ("POST", "unpublish") => {
            let token = req
                .query()
                .and_then(|q| q.strip_prefix("token="))
                .unwrap_or("");
            if token.is_empty() || token.contains('/') {
                return error(400, "publish?token=<token> with the VCALENDAR as the body");
            }
            if path == "unpublish" {
                let gone = st.published.remove(token).is_some();
                return json(200, &serde_json::json!({ "removed": gone }));
            }
            let keep = st
                .published
                .get(token)
                .filter(|p| p.ics == req.body)
                .cloned();
            let p = keep.unwrap_or_else(|| crate::dav::Published::new(req.body.clone()));
            st.published.insert(token.to_owned(), p);
            let link = format!(
                "webcal://{}published/2/{token}",
                shared.partition_url.trim_start_matches("http://")
            );
            json(200, &serde_json::json!({ "link": link }))
        }
        ("GET", "objects") => {
            let slug = req
                .query()
                .and_then(|q| q.strip_prefix("calendar="))
                .unwrap_or("");
            let Some(cal) = st.store.calendar_index(slug) else {
                return error(404, "no such calendar");
            };
            let list: Vec<_> = st.store.calendars[cal]
                .objects
                .iter()
                .map(|(name, o)| serde_json::json!({ "href": st.store.plain_href(cal, name), "etag": o.etag }))
                .collect();
            json(200, &list)
        }
        _ => error(404, "unknown control endpoint"),
    }
}
