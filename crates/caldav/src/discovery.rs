//! Discovery (RFC 5397, RFC 4791 §6.2): principal → calendar home → calendars.

use url::Url;

use crate::error::DavError;
use crate::propfind::Propfind;
use crate::xml::{normalize_href, DavResponse, Multistatus, CALDAV, CS, DAV, ICAL};
use crate::{DavRequest, Depth, PreparedRequest, RawResponse};

/// PROPFIND Depth 0 for `DAV:current-user-principal` (RFC 5397).
///
/// QUIRK(icloud §1.5): iCloud has answered `/principal/` instead of `/<dsid>/principal/`; that
/// URL is returned as is and the connector decides what to do with it.
#[derive(Debug, Clone)]
pub struct CurrentUserPrincipal {
    /// Where to ask; for iCloud `https://caldav.icloud.com/` (§1.1).
    pub url: Url,
}

impl CurrentUserPrincipal {
    fn propfind(&self) -> Propfind {
        Propfind {
            url: self.url.clone(),
            depth: Depth::Zero,
            props: vec![(DAV, "current-user-principal")],
        }
    }
}

impl DavRequest for CurrentUserPrincipal {
    type Response = Url;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        self.propfind().request()
    }

    /// The principal URL, absolute.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        let ms = self.propfind().parse(resp)?;
        first_href_prop(&ms, &resp.url, DAV, "current-user-principal")
    }
}

/// PROPFIND Depth 0 on the principal for `C:calendar-home-set` (RFC 4791 §6.2.1).
#[derive(Debug, Clone)]
pub struct CalendarHomeSet {
    /// The principal URL.
    pub principal: Url,
}

impl CalendarHomeSet {
    fn propfind(&self) -> Propfind {
        Propfind {
            url: self.principal.clone(),
            depth: Depth::Zero,
            props: vec![(CALDAV, "calendar-home-set")],
        }
    }
}

impl DavRequest for CalendarHomeSet {
    type Response = Url;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        self.propfind().request()
    }

    /// The calendar home, absolute.
    ///
    /// QUIRK(icloud §1.3): iCloud answers with an absolute URL on a partition host with an explicit
    /// port (`https://p62-caldav.icloud.com:443/…`); this is how clients move to that host.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        let ms = self.propfind().parse(resp)?;
        first_href_prop(&ms, &resp.url, CALDAV, "calendar-home-set")
    }
}

/// The href inside the first response carrying property `name`.
fn first_href_prop(
    ms: &Multistatus,
    base: &Url,
    ns: &str,
    name: &'static str,
) -> Result<Url, DavError> {
    let href = ms
        .responses
        .iter()
        .filter_map(|r| r.prop(ns, name))
        .find_map(|p| p.child(DAV, "href").and_then(|h| h.trimmed_text()))
        .ok_or_else(|| DavError::MissingProperty {
            name,
            url: base.to_string(),
        })?;
    Ok(normalize_href(base, href)?)
}

/// A calendar that can hold events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarInfo {
    /// Resolved, normalized URL of the collection.
    pub url: Url,
    /// `DAV:displayname`, trimmed.
    pub display_name: Option<String>,
    /// `ICAL:calendar-color` as `#RRGGBBAA`, uppercase; `#RRGGBB` gets `FF` appended.
    pub color: Option<String>,
    /// `CS:getctag`, opaque.
    pub ctag: Option<String>,
    /// `DAV:sync-token`, opaque (QUIRK(icloud §1.7): not a URI).
    pub sync_token: Option<String>,
    /// Component names from `C:supported-calendar-component-set`, uppercase; empty when the
    /// server did not say (which RFC 4791 §5.2.3 reads as "all").
    pub components: Vec<String>,
    /// The privilege set is known and grants no write access.
    pub read_only: bool,
    /// `ICAL:calendar-order`.
    pub order: Option<i64>,
}

/// PROPFIND Depth 1 on the calendar home, selecting event calendars.
#[derive(Debug, Clone)]
pub struct ListCalendars {
    /// The calendar home.
    pub home: Url,
}

const LIST_PROPS: &[(&str, &str)] = &[
    (DAV, "resourcetype"),
    (DAV, "displayname"),
    (CS, "getctag"),
    (DAV, "sync-token"),
    (CALDAV, "supported-calendar-component-set"),
    (ICAL, "calendar-color"),
    (ICAL, "calendar-order"),
    (DAV, "current-user-privilege-set"),
    (CS, "shared-owner"),
];

impl ListCalendars {
    fn propfind(&self) -> Propfind {
        Propfind {
            url: self.home.clone(),
            depth: Depth::One,
            props: LIST_PROPS.to_vec(),
        }
    }
}

impl DavRequest for ListCalendars {
    type Response = Vec<CalendarInfo>;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        self.propfind().request()
    }

    /// The event calendars in the home, in the server's order.
    ///
    /// QUIRK(icloud §1.6): selected by resourcetype containing `C:calendar` and a component set
    /// containing VEVENT, never by name; the home itself, VTODO lists, the scheduling inbox and
    /// outbox and the notification collection are skipped.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        let ms = self.propfind().parse(resp)?;
        let home_path = normalize_href(&self.home, self.home.as_str())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_else(|_| self.home.path().trim_end_matches('/').to_owned());
        Ok(ms
            .responses
            .iter()
            .filter(|r| r.url.path().trim_end_matches('/') != home_path)
            .filter_map(calendar_info)
            .collect())
    }
}

fn calendar_info(r: &DavResponse) -> Option<CalendarInfo> {
    if r.status.is_some_and(|s| !(200..300).contains(&s)) {
        return None;
    }
    let rt = r.prop(DAV, "resourcetype")?;
    let special = rt.has_child(CALDAV, "schedule-inbox")
        || rt.has_child(CALDAV, "schedule-outbox")
        || rt.has_child(CS, "notification");
    if !rt.has_child(CALDAV, "calendar") || special {
        return None;
    }
    let components: Vec<String> = r
        .prop(CALDAV, "supported-calendar-component-set")
        .map(|set| {
            set.children
                .iter()
                .filter(|c| c.is(CALDAV, "comp"))
                .filter_map(|c| c.attr("name"))
                .map(|n| n.trim().to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default();
    if !components.is_empty() && !components.iter().any(|c| c == "VEVENT") {
        return None;
    }
    let text = |ns: &str, name: &str| {
        r.prop(ns, name)
            .and_then(|e| e.trimmed_text())
            .map(str::to_owned)
    };
    let read_only = r
        .prop(DAV, "current-user-privilege-set")
        .is_some_and(|set| {
            !any_descendant(set, &|e| {
                e.ns == DAV && matches!(e.name.as_str(), "write" | "all" | "write-content" | "bind")
            })
        });
    Some(CalendarInfo {
        url: r.url.clone(),
        display_name: text(DAV, "displayname"),
        color: text(ICAL, "calendar-color").and_then(|c| normalize_color(&c)),
        ctag: text(CS, "getctag"),
        sync_token: text(DAV, "sync-token"),
        components,
        read_only,
        order: text(ICAL, "calendar-order").and_then(|o| o.parse().ok()),
    })
}

fn any_descendant(e: &crate::xml::Element, pred: &dyn Fn(&crate::xml::Element) -> bool) -> bool {
    e.children
        .iter()
        .any(|c| pred(c) || any_descendant(c, pred))
}

/// `#RRGGBB`, `#RRGGBBAA` or `#RGB` (with or without `#`) → `#RRGGBBAA` uppercase.
fn normalize_color(raw: &str) -> Option<String> {
    let hex = raw.trim().trim_start_matches('#');
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_uppercase();
    match hex.len() {
        8 => Some(format!("#{hex}")),
        6 => Some(format!("#{hex}FF")),
        3 => {
            let doubled: String = hex.chars().flat_map(|c| [c, c]).collect();
            Some(format!("#{doubled}FF"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{raw, tree};

    const ROOT: &str = "https://caldav.icloud.com/";
    const PRINCIPAL: &str = "https://caldav.icloud.com/17149682/principal/";
    const HOME: &str = "https://p62-caldav.icloud.com:443/17149682/calendars/";

    #[test]
    fn current_user_principal_request_is_depth_0() {
        let req = CurrentUserPrincipal {
            url: Url::parse(ROOT).unwrap(),
        }
        .request();
        assert_eq!(req.method.as_str(), "PROPFIND");
        assert_eq!(req.depth, Some(Depth::Zero));
        let t = tree(req.body.as_deref().unwrap());
        assert!(t
            .child(DAV, "prop")
            .unwrap()
            .has_child(DAV, "current-user-principal"));
    }

    #[test]
    fn icloud_1_2_principal_default_xmlns() {
        let body = include_str!("../tests/fixtures/icloud_1_2_principal.xml");
        let cup = CurrentUserPrincipal {
            url: Url::parse(ROOT).unwrap(),
        };
        let p = cup.parse(&raw(207, body, ROOT)).unwrap();
        assert_eq!(p.as_str(), PRINCIPAL);
    }

    #[test]
    fn icloud_1_5_principal_without_dsid() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop><current-user-principal><href>/principal/</href></current-user-principal></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let cup = CurrentUserPrincipal {
            url: Url::parse(ROOT).unwrap(),
        };
        let p = cup.parse(&raw(207, body, ROOT)).unwrap();
        assert_eq!(p.as_str(), "https://caldav.icloud.com/principal/");
    }

    #[test]
    fn principal_missing_is_missing_property() {
        let body = r#"<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop><current-user-principal/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>"#;
        let cup = CurrentUserPrincipal {
            url: Url::parse(ROOT).unwrap(),
        };
        let err = cup.parse(&raw(207, body, ROOT)).unwrap_err();
        assert!(matches!(
            err,
            DavError::MissingProperty {
                name: "current-user-principal",
                ..
            }
        ));
    }

    #[test]
    fn icloud_1_3_home_set_absolute_on_partition_host_with_port() {
        let body = include_str!("../tests/fixtures/icloud_1_3_home_set.xml");
        let hs = CalendarHomeSet {
            principal: Url::parse(PRINCIPAL).unwrap(),
        };
        let req = hs.request();
        assert_eq!(req.depth, Some(Depth::Zero));
        let t = tree(req.body.as_deref().unwrap());
        assert!(t
            .child(DAV, "prop")
            .unwrap()
            .has_child(CALDAV, "calendar-home-set"));
        let home = hs.parse(&raw(207, body, PRINCIPAL)).unwrap();
        assert_eq!(home.host_str(), Some("p62-caldav.icloud.com"));
        assert_eq!(home.port_or_known_default(), Some(443));
        assert_eq!(home.path(), "/17149682/calendars/");
    }

    #[test]
    fn home_set_on_other_port_keeps_port() {
        let body = r#"<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>/1/principal/</D:href><D:propstat><D:prop><C:calendar-home-set><D:href>http://127.0.0.1:8444/1/calendars/</D:href></C:calendar-home-set></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#;
        let base = "http://127.0.0.1:8443/1/principal/";
        let hs = CalendarHomeSet {
            principal: Url::parse(base).unwrap(),
        };
        let home = hs.parse(&raw(207, body, base)).unwrap();
        assert_eq!(home.as_str(), "http://127.0.0.1:8444/1/calendars/");
    }

    fn list() -> Vec<CalendarInfo> {
        let body = include_str!("../tests/fixtures/icloud_1_6_calendar_home.xml");
        ListCalendars {
            home: Url::parse(HOME).unwrap(),
        }
        .parse(&raw(207, body, HOME))
        .unwrap()
    }

    #[test]
    fn list_calendars_request_asks_for_selection_props() {
        let req = ListCalendars {
            home: Url::parse(HOME).unwrap(),
        }
        .request();
        assert_eq!(req.depth, Some(Depth::One));
        let t = tree(req.body.as_deref().unwrap());
        let prop = t.child(DAV, "prop").unwrap();
        for (ns, name) in LIST_PROPS {
            assert!(prop.has_child(ns, name), "{name}");
        }
    }

    #[test]
    fn icloud_1_6_selects_by_resourcetype_and_component_set() {
        let cals = list();
        let paths: Vec<_> = cals.iter().map(|c| c.url.path()).collect();
        assert_eq!(
            paths,
            [
                "/17149682/calendars/home/",
                "/17149682/calendars/3F1C2A0E-shared/",
                "/17149682/calendars/no-compset/"
            ]
        );
        let home = &cals[0];
        assert_eq!(home.display_name.as_deref(), Some("Home"));
        assert_eq!(
            home.ctag.as_deref(),
            Some("HwoQEgwAAAGdhcnqFtHSgAAAAAAAAA0YAhgAIhYI")
        );
        assert_eq!(
            home.sync_token.as_deref(),
            Some("HwoQEgwAAAGdhcnqFtHSgAAAAAAAAA0YAhgA")
        );
        assert_eq!(home.components, ["VEVENT"]);
        assert!(!home.read_only);
        assert_eq!(home.order, Some(1));
        let shared = &cals[1];
        assert!(shared.read_only, "shared calendar with read privilege only");
        assert!(cals[2].components.is_empty());
        assert!(
            !cals[2].read_only,
            "no privilege set means unknown, not read-only"
        );
    }

    #[test]
    fn icloud_1_7_color_8_digit() {
        let cals = list();
        assert_eq!(cals[0].color.as_deref(), Some("#1BADF8FF"));
        assert_eq!(cals[1].color.as_deref(), Some("#FF2968FF"));
        assert_eq!(cals[2].color, None);
        assert_eq!(normalize_color("#ff2968").as_deref(), Some("#FF2968FF"));
        assert_eq!(normalize_color("#abc").as_deref(), Some("#AABBCCFF"));
        assert_eq!(normalize_color("red"), None);
    }

    #[test]
    fn icloud_1_7_missing_props_in_separate_404_propstat() {
        let cals = list();
        // no-compset has displayname in a 404 propstat, empty: not taken.
        assert_eq!(cals[2].display_name, None);
        assert_eq!(cals[2].order, None);
    }
}
