//! The DAV side: authentication, scenarios, PROPFIND, REPORT, GET and writes.

use std::sync::{Mutex, MutexGuard};

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use crate::http::{Request, Response};
#[cfg(feature = "testing")]
use crate::scenario::Armed;
use crate::scenario::{RequestKind, Scenario, Stats};
use crate::store::{Since, Store};
use crate::xml::{self, escape, PropName, RequestBody, CALDAV, CS, DAV, ICAL, XML_DECL};

/// `Server:` on every answer (§2.1).
const SERVER: &str = "AppleHttpServer/b866cf47a603";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    Front,
    Partition,
}

impl Host {
    fn name(self) -> &'static str {
        match self {
            Host::Front => "front",
            Host::Partition => "partition",
        }
    }
}

pub(crate) struct State {
    pub(crate) store: Store,
    pub(crate) apple_id: String,
    pub(crate) password: String,
    #[cfg(feature = "testing")]
    pub(crate) armed: Armed,
    pub(crate) stats: Stats,
    /// Published calendars by token (QUIRK(icloud §1.9)).
    pub(crate) published: std::collections::BTreeMap<String, Published>,
    seq: u64,
    seed: u64,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub(crate) partition_url: String,
    /// Client connections open on either listener (see [`crate::Sim::settle`]).
    pub(crate) open_connections: std::sync::atomic::AtomicUsize,
}

impl Shared {
    pub(crate) fn new(
        store: Store,
        apple_id: String,
        password: String,
        seed: u64,
        partition_url: String,
    ) -> Self {
        Shared {
            state: Mutex::new(State {
                store,
                apple_id,
                password,
                #[cfg(feature = "testing")]
                armed: Armed::new(Scenario::Normal),
                stats: Stats::default(),
                published: Default::default(),
                seq: 0,
                seed,
            }),
            partition_url,
            open_connections: Default::default(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every change is a single insert/remove).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    Inbox,
    Outbox,
    Notification,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Res {
    Root,
    Principal,
    Home,
    Calendar(usize),
    Special(Special),
    /// An object path in an existing calendar; the object itself may not exist.
    Object(usize, String),
    Missing,
}

fn decode(path: &str) -> String {
    percent_decode_str(path).decode_utf8_lossy().into_owned()
}

/// An href (absolute URL or path, maybe percent-encoded) as a decoded path.
fn href_path(href: &str) -> String {
    let h = href.trim();
    let h = match h.find("://") {
        Some(i) => h[i + 3..].find('/').map_or("/", |j| &h[i + 3 + j..]),
        None => h,
    };
    decode(h.split(['?', '#']).next().unwrap_or("/"))
}

fn resolve(store: &Store, path: &str) -> Res {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [] => Res::Root,
        [d, "principal"] if *d == store.dsid => Res::Principal,
        [d, "calendars"] if *d == store.dsid => Res::Home,
        [d, "calendars", "inbox"] if *d == store.dsid => Res::Special(Special::Inbox),
        [d, "calendars", "outbox"] if *d == store.dsid => Res::Special(Special::Outbox),
        [d, "calendars", "notification"] if *d == store.dsid => Res::Special(Special::Notification),
        [d, "calendars", slug] if *d == store.dsid => store
            .calendar_index(slug)
            .map_or(Res::Missing, Res::Calendar),
        [d, "calendars", slug, name] if *d == store.dsid => store
            .calendar_index(slug)
            .map_or(Res::Missing, |c| Res::Object(c, (*name).to_owned())),
        _ => Res::Missing,
    }
}

fn classify(req: &Request, body: &RequestBody) -> RequestKind {
    match req.method.as_str() {
        "PROPFIND" => RequestKind::Propfind,
        "GET" | "HEAD" => RequestKind::Get,
        "REPORT" if body.root_is(DAV, "sync-collection") => RequestKind::SyncCollection,
        "REPORT" if body.root_is(CALDAV, "calendar-multiget") => RequestKind::Multiget,
        _ => RequestKind::Other,
    }
}

fn request_uuid(seed: u64, seq: u64) -> String {
    let mut r = crate::generate::Rng::new(crate::generate::mix(seed ^ 0x000E_0E57, seq));
    r.uuid().to_lowercase()
}

/// QUIRK(icloud §2.1): the one 401 iCloud sends for every credential failure.
fn unauthorized(joined: bool, with_body: bool) -> Response {
    let mut r = Response::new(401);
    if joined {
        r = r.header(
            "WWW-Authenticate",
            "Basic realm=\"MMCalDav\", X-MobileMe-AuthToken realm=\"MMCalDav\"",
        );
    } else {
        r = r
            .header("WWW-Authenticate", "Basic realm=\"MMCalDav\"")
            .header(
                "WWW-Authenticate",
                "X-MobileMe-AuthToken realm=\"MMCalDav\"",
            );
    }
    if with_body {
        r = r.with_body("text/plain", b"Unauthorized".to_vec());
    }
    r
}

fn credentials_ok(req: &Request, apple_id: &str, password: &str) -> bool {
    let Some(value) = req.header("Authorization") else {
        return false;
    };
    let Some((scheme, b64)) = value.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let raw = String::from_utf8_lossy(&raw);
    let Some((user, pass)) = raw.split_once(':') else {
        return false;
    };
    user.eq_ignore_ascii_case(apple_id) && pass == password
}

pub(crate) fn handle(shared: &Shared, host: Host, req: &Request) -> Response {
    let mut st = shared.lock();
    st.seq += 1;
    let request_id = request_uuid(st.seed, st.seq);
    let mut resp = handle_locked(shared, &mut st, host, req);
    st.stats.bytes_down += resp.huge.unwrap_or(resp.body.len() as u64);
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    // QUIRK(icloud §2.2): Apple's logging headers on every answer.
    let mut headers = vec![
        ("Server".to_owned(), SERVER.to_owned()),
        ("Date".to_owned(), date),
        ("X-Apple-Request-UUID".to_owned(), request_id),
        (
            "X-Responding-Instance".to_owned(),
            "caldav:62200201:pv62p00ic-ztbu12345678:8001:2503B60:abcdef".to_owned(),
        ),
        ("x-apple-user-partition".to_owned(), "62".to_owned()),
    ];
    headers.append(&mut resp.headers);
    resp.headers = headers;
    resp
}

fn handle_locked(shared: &Shared, st: &mut State, host: Host, req: &Request) -> Response {
    let parsed = if matches!(req.method.as_str(), "PROPFIND" | "REPORT") && !req.body.is_empty() {
        xml::parse(&req.body)
    } else {
        Ok(RequestBody::default())
    };
    let body = parsed.as_ref().ok();
    let kind = classify(req, body.unwrap_or(&RequestBody::default()));

    let s = &mut st.stats;
    s.requests += 1;
    *s.by_host.entry(host.name().to_owned()).or_default() += 1;
    if req.header("Authorization").is_some() {
        s.authenticated += 1;
    }
    match kind {
        RequestKind::Propfind => s.propfind += 1,
        RequestKind::SyncCollection => s.sync_collection += 1,
        RequestKind::Multiget => {
            s.multiget += 1;
            s.multiget_hrefs += body.map_or(0, |b| b.hrefs.len() as u64);
        }
        RequestKind::Get => s.get += 1,
        RequestKind::Other => s.other += 1,
    }

    // Failure scenarios exist in test builds only; the demo's server is iCloud on a good day.
    #[cfg(feature = "testing")]
    let scenario = match crate::fault::before(st, kind) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    #[cfg(not(feature = "testing"))]
    let scenario = Scenario::Normal;

    let raw_path = req.raw_path();
    if raw_path.trim_end_matches('/') == "/.well-known/caldav" {
        return Response::new(301).header("Location", "/");
    }

    // QUIRK(icloud §1.9): a published calendar is a plain GET without credentials.
    if let Some(token) = raw_path.strip_prefix("/published/2/") {
        return published(st, token, req);
    }

    let rejected = match &scenario {
        Scenario::Reject2_1 {
            joined_header,
            with_body,
        } => Some((*joined_header, *with_body)),
        _ if !credentials_ok(req, &st.apple_id, &st.password) => Some((false, false)),
        _ => None,
    };
    if let Some((joined, with_body)) = rejected {
        st.stats.unauthorized += 1;
        return unauthorized(joined, with_body);
    }

    if scenario == Scenario::EtagChangesBetweenListingAndFetch && kind == RequestKind::Multiget {
        // The listing the client planned from named the old etags; serve every object changed.
        for href in body.map(|b| b.hrefs.clone()).unwrap_or_default() {
            if let Res::Object(c, name) = resolve(&st.store, &href_path(&href)) {
                st.store.touch(c, &name);
            }
        }
    }

    #[cfg_attr(not(feature = "testing"), allow(unused_mut))]
    let mut resp = match (req.method.as_str(), parsed) {
        ("PROPFIND" | "REPORT", Err(e)) => {
            Response::xml(400, format!("{XML_DECL}<error xmlns=\"DAV:\"><description>{}</description></error>", escape(&e)))
        }
        ("OPTIONS", _) => Response::new(200)
            .header(
                "DAV",
                "1, 2, 3, access-control, calendar-access, calendar-schedule, calendar-auto-schedule, calendar-managed-attachments, calendarserver-sharing, calendarserver-subscribed, calendarserver-home-sync, extended-mkcol",
            )
            .header("Allow", "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT"),
        ("GET" | "HEAD", _) => get(&st.store, req),
        ("PROPFIND", Ok(b)) => propfind(shared, st, req, &b),
        ("REPORT", Ok(b)) => report(st, req, &b, &scenario),
        ("PUT", _) => put(&mut st.store, req),
        ("DELETE", _) => delete(&mut st.store, req),
        // QUIRK(icloud §2.8): iCloud says 403 for what it will not do.
        ("PROPPATCH" | "MKCALENDAR" | "MKCOL" | "MOVE" | "COPY", _) => Response::new(403),
        _ => Response::new(405).header("Allow", "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT"),
    };
    #[cfg(feature = "testing")]
    crate::fault::after(&scenario, &mut resp);
    resp
}

fn get(store: &Store, req: &Request) -> Response {
    let raw = req.raw_path();
    match resolve(store, &decode(raw)) {
        // QUIRK(icloud §1.5): the %40 form listings use is not accepted back on GET.
        Res::Object(..) if raw.to_ascii_lowercase().contains("%40") => Response::new(404),
        Res::Object(cal, name) => match store.calendars[cal].objects.get(&name) {
            Some(o) => Response::new(200)
                .header("ETag", o.etag.clone())
                .with_body("text/calendar; charset=utf-8", o.data.as_ref().clone()),
            None => Response::new(404),
        },
        // QUIRK(icloud §1.8): GET / and GET on a collection answer an empty 400.
        Res::Missing => Response::new(404),
        _ => Response::new(400),
    }
}

fn put(store: &mut Store, req: &Request) -> Response {
    let Res::Object(cal, name) = resolve(store, &decode(req.raw_path())) else {
        return Response::new(403);
    };
    let c = &store.calendars[cal];
    // QUIRK(icloud §2.8): read-only calendars reject writes with 403.
    if c.spec.read_only {
        return Response::new(403);
    }
    let existing = c.objects.get(&name).map(|o| o.etag.clone());
    if req.header("If-None-Match").is_some_and(|v| v.trim() == "*") && existing.is_some() {
        return Response::new(412);
    }
    if let Some(want) = req.header("If-Match") {
        if existing.as_deref() != Some(want.trim()) && want.trim() != "*" || existing.is_none() {
            return Response::new(412);
        }
    }
    let text = String::from_utf8_lossy(&req.body);
    // QUIRK(icloud §3.5): a VEVENT without DTEND or DURATION is refused with 404.
    if text.contains("BEGIN:VEVENT") && !text.contains("\nDTEND") && !text.contains("\nDURATION") {
        return Response::new(404);
    }
    store.put(cal, &name, req.body.clone());
    let etag = store.calendars[cal]
        .objects
        .get(&name)
        .map(|o| o.etag.clone())
        .unwrap_or_default();
    Response::new(if existing.is_some() { 204 } else { 201 }).header("ETag", etag)
}

fn delete(store: &mut Store, req: &Request) -> Response {
    let Res::Object(cal, name) = resolve(store, &decode(req.raw_path())) else {
        return Response::new(403);
    };
    if store.calendars[cal].spec.read_only {
        return Response::new(403);
    }
    if let Some(want) = req.header("If-Match") {
        let have = store.calendars[cal]
            .objects
            .get(&name)
            .map(|o| o.etag.as_str());
        if have.is_some_and(|h| h != want.trim()) {
            return Response::new(412);
        }
    }
    if store.remove(cal, &name) {
        Response::new(204)
    } else {
        Response::new(404)
    }
}

/// Renders properties; `None` for one this resource does not have (→ 404 propstat).
struct Props<'a> {
    store: &'a Store,
    apple_id: &'a str,
    partition_url: &'a str,
}

const ALLPROP: &[(&str, &str)] = &[
    (DAV, "resourcetype"),
    (DAV, "displayname"),
    (DAV, "current-user-principal"),
    (DAV, "owner"),
    (DAV, "getetag"),
    (DAV, "getcontenttype"),
    (DAV, "getcontentlength"),
    (DAV, "sync-token"),
    (CS, "getctag"),
    (CALDAV, "calendar-home-set"),
    (CALDAV, "supported-calendar-component-set"),
    (ICAL, "calendar-color"),
    (ICAL, "calendar-order"),
];

impl Props<'_> {
    fn principal(&self) -> String {
        format!("/{}/principal/", self.store.dsid)
    }

    fn href(&self, res: &Res) -> String {
        let d = &self.store.dsid;
        match res {
            Res::Root | Res::Missing => "/".to_owned(),
            Res::Principal => self.principal(),
            Res::Home => format!("/{d}/calendars/"),
            Res::Calendar(c) => format!("/{d}/calendars/{}/", self.store.calendars[*c].spec.slug),
            Res::Special(Special::Inbox) => format!("/{d}/calendars/inbox/"),
            Res::Special(Special::Outbox) => format!("/{d}/calendars/outbox/"),
            Res::Special(Special::Notification) => format!("/{d}/calendars/notification/"),
            Res::Object(c, name) => self.store.listed_href(*c, name),
        }
    }

    fn privileges(read_only: bool) -> String {
        let mut s = String::from("<current-user-privilege-set><privilege><read/></privilege><privilege><read-current-user-privilege-set/></privilege><privilege><read-free-busy xmlns=\"urn:ietf:params:xml:ns:caldav\"/></privilege>");
        if !read_only {
            s.push_str("<privilege><write/></privilege><privilege><write-content/></privilege><privilege><write-properties/></privilege><privilege><bind/></privilege><privilege><unbind/></privilege>");
        }
        s.push_str("</current-user-privilege-set>");
        s
    }

    fn get(&self, res: &Res, p: &PropName) -> Option<String> {
        let store = self.store;
        let cal = match res {
            Res::Calendar(c) => Some(&store.calendars[*c]),
            _ => None,
        };
        let object = match res {
            Res::Object(c, name) => store.calendars[*c].objects.get(name),
            _ => None,
        };
        let v = match (p.ns.as_str(), p.local.as_str()) {
            (DAV, "current-user-principal") => {
                format!("<current-user-principal><href>{}</href></current-user-principal>", self.principal())
            }
            (DAV, "principal-URL") if *res == Res::Principal => {
                format!("<principal-URL><href>{}</href></principal-URL>", self.principal())
            }
            (DAV, "resourcetype") => {
                let inner = match res {
                    Res::Root | Res::Home => "<collection/>".to_owned(),
                    Res::Principal => "<principal/>".to_owned(),
                    Res::Calendar(c) => {
                        // QUIRK(icloud §1.6): calendars carry C:calendar, shared ones a CS marker too.
                        let shared = if store.calendars[*c].spec.read_only {
                            "<shared xmlns=\"http://calendarserver.org/ns/\"/>"
                        } else {
                            ""
                        };
                        format!("<collection/><calendar xmlns=\"{CALDAV}\"/>{shared}")
                    }
                    Res::Special(Special::Inbox) => format!("<collection/><schedule-inbox xmlns=\"{CALDAV}\"/>"),
                    Res::Special(Special::Outbox) => format!("<collection/><schedule-outbox xmlns=\"{CALDAV}\"/>"),
                    Res::Special(Special::Notification) => format!("<collection/><notification xmlns=\"{CS}\"/>"),
                    Res::Object(..) | Res::Missing => String::new(),
                };
                if inner.is_empty() {
                    "<resourcetype/>".to_owned()
                } else {
                    format!("<resourcetype>{inner}</resourcetype>")
                }
            }
            (DAV, "displayname") => match res {
                Res::Principal => {
                    let user = self.apple_id.split('@').next().unwrap_or(self.apple_id);
                    format!("<displayname>{}</displayname>", escape(user))
                }
                Res::Calendar(_) => format!("<displayname>{}</displayname>", escape(&cal?.spec.display_name)),
                _ => return None,
            },
            (DAV, "owner") if matches!(res, Res::Home | Res::Calendar(_)) => {
                format!("<owner><href>{}</href></owner>", self.principal())
            }
            (DAV, "current-user-privilege-set") => match res {
                Res::Calendar(_) => Self::privileges(cal?.spec.read_only),
                Res::Home | Res::Special(_) | Res::Principal => Self::privileges(false),
                _ => return None,
            },
            (DAV, "sync-token") => match res {
                Res::Calendar(c) => format!("<sync-token>{}</sync-token>", store.sync_token(*c)),
                _ => return None,
            },
            (DAV, "getetag") => match res {
                Res::Calendar(_) => format!("<getetag>{}</getetag>", escape(&cal?.etag())),
                Res::Object(..) => format!("<getetag>{}</getetag>", escape(&object?.etag)),
                _ => return None,
            },
            (DAV, "getcontenttype") => {
                object?;
                "<getcontenttype>text/calendar; charset=utf-8</getcontenttype>".to_owned()
            }
            (DAV, "getcontentlength") => format!("<getcontentlength>{}</getcontentlength>", object?.data.len()),
            (DAV, "supported-report-set") if cal.is_some() => "<supported-report-set><supported-report><report><sync-collection/></report></supported-report><supported-report><report><calendar-multiget xmlns=\"urn:ietf:params:xml:ns:caldav\"/></report></supported-report><supported-report><report><calendar-query xmlns=\"urn:ietf:params:xml:ns:caldav\"/></report></supported-report></supported-report-set>".to_owned(),
            // QUIRK(icloud §1.3): the home is an absolute URL on the partition host.
            (CALDAV, "calendar-home-set") if *res == Res::Principal => format!(
                "<calendar-home-set xmlns=\"{CALDAV}\"><href xmlns=\"DAV:\">{}{}/calendars/</href></calendar-home-set>",
                self.partition_url, store.dsid
            ),
            (CALDAV, "calendar-user-address-set") if *res == Res::Principal => format!(
                "<calendar-user-address-set xmlns=\"{CALDAV}\"><href xmlns=\"DAV:\">mailto:{}</href><href xmlns=\"DAV:\">{}</href></calendar-user-address-set>",
                escape(self.apple_id),
                self.principal()
            ),
            (CALDAV, "schedule-inbox-URL") if *res == Res::Principal => format!(
                "<schedule-inbox-URL xmlns=\"{CALDAV}\"><href xmlns=\"DAV:\">/{}/calendars/inbox/</href></schedule-inbox-URL>",
                store.dsid
            ),
            (CALDAV, "schedule-outbox-URL") if *res == Res::Principal => format!(
                "<schedule-outbox-URL xmlns=\"{CALDAV}\"><href xmlns=\"DAV:\">/{}/calendars/outbox/</href></schedule-outbox-URL>",
                store.dsid
            ),
            (CS, "email-address-set") if *res == Res::Principal => format!(
                "<email-address-set xmlns=\"{CS}\"><email-address>{}</email-address></email-address-set>",
                escape(self.apple_id)
            ),
            (CALDAV, "supported-calendar-component-set") => match res {
                Res::Calendar(_) => format!(
                    "<supported-calendar-component-set xmlns=\"{CALDAV}\"><comp name=\"{}\"/></supported-calendar-component-set>",
                    cal?.spec.component.name()
                ),
                Res::Special(Special::Inbox | Special::Outbox) => format!(
                    "<supported-calendar-component-set xmlns=\"{CALDAV}\"><comp name=\"VEVENT\"/><comp name=\"VTODO\"/></supported-calendar-component-set>"
                ),
                _ => return None,
            },
            (CALDAV, "calendar-data") => {
                let o = object?;
                let mut s = String::with_capacity(o.data.len() + 96);
                xml::push_calendar_data(&mut s, &o.data, o.cdata);
                s
            }
            (CS, "getctag") => match res {
                Res::Calendar(_) => format!("<getctag xmlns=\"{CS}\">{}</getctag>", escape(&cal?.ctag())),
                Res::Special(_) => format!("<getctag xmlns=\"{CS}\">FT=-@RU=00000000@S=1</getctag>"),
                _ => return None,
            },
            // QUIRK(icloud §1.7): 8-digit #RRGGBBAA colour in Apple's namespace.
            (ICAL, "calendar-color") => format!(
                "<calendar-color xmlns=\"{ICAL}\" symbolic-color=\"custom\">{}</calendar-color>",
                escape(&cal?.spec.color)
            ),
            (ICAL, "calendar-order") => match res {
                Res::Calendar(c) => format!("<calendar-order xmlns=\"{ICAL}\">{}</calendar-order>", c + 1),
                _ => return None,
            },
            _ => return None,
        };
        Some(v)
    }

    /// One `<response>`; `report_missing` puts absent properties in a separate 404 propstat (§1.7).
    fn push_response(&self, out: &mut String, res: &Res, props: &[PropName], report_missing: bool) {
        out.push_str("<response><href>");
        out.push_str(&escape(&self.href(res)));
        out.push_str("</href>");
        let mut missing = String::new();
        let mut found = String::new();
        for p in props {
            match self.get(res, p) {
                Some(v) => found.push_str(&v),
                None if report_missing => missing.push_str(&p.empty_element()),
                None => {}
            }
        }
        if !found.is_empty() || missing.is_empty() {
            out.push_str("<propstat><prop>");
            out.push_str(&found);
            out.push_str("</prop><status>HTTP/1.1 200 OK</status></propstat>");
        }
        if !missing.is_empty() {
            // QUIRK(icloud §1.7): missing properties in their own 404 propstat.
            out.push_str("<propstat><prop>");
            out.push_str(&missing);
            out.push_str("</prop><status>HTTP/1.1 404 Not Found</status></propstat>");
        }
        out.push_str("</response>");
    }
}

fn not_found_response(out: &mut String, href: &str) {
    out.push_str("<response><href>");
    out.push_str(&escape(href));
    out.push_str("</href><status>HTTP/1.1 404 Not Found</status></response>");
}

fn propfind(shared: &Shared, st: &State, req: &Request, body: &RequestBody) -> Response {
    let store = &st.store;
    let res = resolve(store, &decode(req.raw_path()));
    match &res {
        Res::Missing => return Response::new(404),
        Res::Object(c, name) if !store.calendars[*c].objects.contains_key(name) => {
            return Response::new(404)
        }
        _ => {}
    }
    let allprop = body.allprop || body.props.is_empty();
    let props: Vec<PropName> = if allprop {
        ALLPROP
            .iter()
            .map(|(ns, local)| PropName {
                ns: (*ns).to_owned(),
                local: (*local).to_owned(),
            })
            .collect()
    } else {
        body.props.clone()
    };
    let ctx = Props {
        store,
        apple_id: &st.apple_id,
        partition_url: &shared.partition_url,
    };
    let depth0 = req.header("Depth").is_some_and(|d| d.trim() == "0");
    let mut out = String::with_capacity(4096);
    out.push_str(XML_DECL);
    // QUIRK(icloud §1.2): default namespace, no prefixes.
    out.push_str("<multistatus xmlns=\"DAV:\">");
    ctx.push_response(&mut out, &res, &props, !allprop);
    if !depth0 {
        match res {
            Res::Home => {
                // QUIRK(icloud §1.6): the home lists calendars, reminder lists and the scheduling collections.
                let mut children: Vec<Res> =
                    (0..store.calendars.len()).map(Res::Calendar).collect();
                children.extend(
                    [Special::Inbox, Special::Outbox, Special::Notification].map(Res::Special),
                );
                for child in &children {
                    ctx.push_response(&mut out, child, &props, !allprop);
                }
            }
            Res::Calendar(c) => {
                out.reserve(store.calendars[c].objects.len() * 200);
                for name in store.calendars[c].objects.keys() {
                    ctx.push_response(&mut out, &Res::Object(c, name.clone()), &props, !allprop);
                }
            }
            _ => {}
        }
    }
    out.push_str("</multistatus>");
    Response::xml(207, out)
}

fn valid_sync_token_error(status: u16) -> Response {
    Response::xml(
        status,
        format!("{XML_DECL}<D:error xmlns:D=\"DAV:\"><D:valid-sync-token/></D:error>"),
    )
}

fn report(st: &State, req: &Request, body: &RequestBody, scenario: &Scenario) -> Response {
    let store = &st.store;
    let res = resolve(store, &decode(req.raw_path()));
    if res == Res::Missing {
        // A REPORT on a collection that does not exist (any more).
        return Response::new(404);
    }
    let ctx = Props {
        store,
        apple_id: &st.apple_id,
        partition_url: "",
    };
    let props: Vec<PropName> = if body.props.is_empty() {
        vec![PropName {
            ns: DAV.to_owned(),
            local: "getetag".to_owned(),
        }]
    } else {
        body.props.clone()
    };
    let mut out = String::with_capacity(4096);
    out.push_str(XML_DECL);
    out.push_str("<multistatus xmlns=\"DAV:\">");
    if body.root_is(DAV, "sync-collection") {
        let Res::Calendar(c) = res else {
            return Response::xml(
                403,
                format!("{XML_DECL}<error xmlns=\"DAV:\"><supported-report/></error>"),
            );
        };
        let token = body.sync_token.as_deref().unwrap_or("").trim();
        if let Scenario::TokenExpired3_2 { status } = scenario {
            if !token.is_empty() {
                // QUIRK(icloud §3.2): an expired token, in one of the statuses iCloud uses.
                return valid_sync_token_error(*status);
            }
        }
        let Some(since) = store.check_token(c, token) else {
            // QUIRK(icloud §3.2): unknown or expired token.
            return valid_sync_token_error(403);
        };
        let cal = &store.calendars[c];
        // QUIRK(icloud §3.1): the collection itself appears among the results with an etag.
        let etag_only = [PropName {
            ns: DAV.to_owned(),
            local: "getetag".to_owned(),
        }];
        ctx.push_response(&mut out, &Res::Calendar(c), &etag_only, false);
        let after = match since {
            Since::Everything => 0,
            Since::Revision(r) => r,
        };
        out.reserve(cal.objects.len() * 120);
        for (name, o) in &cal.objects {
            if matches!(since, Since::Everything) || o.rev > after {
                ctx.push_response(&mut out, &Res::Object(c, name.clone()), &props, true);
            }
        }
        if let Since::Revision(r) = since {
            for (name, rev) in &cal.tombstones {
                if *rev > r {
                    not_found_response(&mut out, &store.listed_href(c, name));
                }
            }
        }
        out.push_str(&format!("<sync-token>{}</sync-token>", store.sync_token(c)));
    } else if body.root_is(CALDAV, "calendar-multiget") {
        let every_nth = match scenario {
            Scenario::MultigetItem404_3_3 { every_nth } => *every_nth,
            _ => 0,
        };
        for (i, href) in body.hrefs.iter().enumerate() {
            // QUIRK(icloud §3.3): a listed href that comes back 404 inside the multiget.
            if every_nth > 0 && (i + 1) % every_nth == 0 {
                not_found_response(&mut out, href);
                continue;
            }
            // Both '@' and '%40' forms are accepted here, unlike on GET.
            match resolve(store, &href_path(href)) {
                Res::Object(c, name) if store.calendars[c].objects.contains_key(&name) => {
                    ctx.push_response(&mut out, &Res::Object(c, name), &props, true)
                }
                _ => not_found_response(&mut out, href),
            }
        }
    } else if body.root_is(CALDAV, "calendar-query") {
        // Filters are not evaluated: every object matches.
        let Res::Calendar(c) = res else {
            return Response::new(403);
        };
        for name in store.calendars[c].objects.keys() {
            ctx.push_response(&mut out, &Res::Object(c, name.clone()), &props, true);
        }
    } else {
        return Response::xml(
            403,
            format!("{XML_DECL}<error xmlns=\"DAV:\"><supported-report/></error>"),
        );
    }
    out.push_str("</multistatus>");
    Response::xml(207, out)
}

/// One published calendar: the whole VCALENDAR, its etag and when it last changed.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    pub(crate) ics: Vec<u8>,
    pub(crate) etag: String,
    pub(crate) modified: String,
    /// Answered with `301 Moved Permanently` to this URL instead (QUIRK(icloud §1.9)).
    pub(crate) moved_to: Option<String>,
}

impl Published {
    /// A calendar published now (from the configuration; test builds also change them later).
    pub(crate) fn new(ics: Vec<u8>) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in &ics {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Published {
            ics,
            etag: format!("\"{h:016x}\""),
            modified: chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
            moved_to: None,
        }
    }

    /// A link that moved: every GET answers 301 to `location`.
    #[cfg(feature = "testing")]
    pub(crate) fn moved(location: String) -> Self {
        Published {
            moved_to: Some(location),
            ..Published::new(Vec::new())
        }
    }
}

/// `GET /published/2/<token>`: 200 with the calendar, 304 when `If-None-Match` names its etag, 404
/// when nothing is published under the token. Credentials are neither needed nor looked at.
fn published(st: &mut State, token: &str, req: &Request) -> Response {
    if !matches!(req.method.as_str(), "GET" | "HEAD") {
        return Response::new(405).header("Allow", "GET, HEAD");
    }
    st.stats.published_get += 1;
    let inm = req.header("If-None-Match").map(str::to_owned);
    if inm.is_some() {
        st.stats.if_none_match += 1;
    }
    let Some(p) = st.published.get(token.trim_end_matches('/')) else {
        return Response::new(404);
    };
    if let Some(to) = &p.moved_to {
        return Response::new(301).header("Location", to.clone());
    }
    if inm.is_some_and(|v| v.split(',').any(|t| t.trim() == p.etag || t.trim() == "*")) {
        st.stats.not_modified += 1;
        return Response::new(304).header("ETag", p.etag.clone());
    }
    Response::new(200)
        .header("ETag", p.etag.clone())
        .header("Last-Modified", p.modified.clone())
        .with_body("text/calendar; charset=utf-8", p.ics.clone())
}
