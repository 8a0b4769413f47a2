//! What a parsed `DAV:multistatus` is made of (RFC 4918 §14): responses, propstats and the element
//! trees of their properties, plus the namespaces this crate reads.

use url::Url;

/// The WebDAV namespace.
pub const DAV: &str = "DAV:";
/// The CalDAV namespace (RFC 4791).
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
/// Apple's CalendarServer namespace (getctag, notification, shared-owner).
pub const CS: &str = "http://calendarserver.org/ns/";
/// Apple's iCal namespace (calendar-color, calendar-order).
pub const ICAL: &str = "http://apple.com/ns/ical/";

/// An XML element inside a `DAV:prop`, with its namespace resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Namespace URI ("" if none).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes by local name, values unescaped; namespace declarations left out.
    pub attrs: Vec<(String, String)>,
    /// Text and CDATA content concatenated, entities unescaped, whitespace kept. Whitespace-only
    /// text of an element with children is dropped.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// First child with that namespace and local name.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// Whether a child with that namespace and local name exists.
    pub fn has_child(&self, ns: &str, name: &str) -> bool {
        self.child(ns, name).is_some()
    }

    /// Whether this element has that namespace and local name.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// Value of the attribute with that local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the element carries anything: non-blank text or children.
    pub fn has_content(&self) -> bool {
        !self.children.is_empty() || !self.text.trim().is_empty()
    }

    /// Text with surrounding whitespace removed, `None` if that leaves nothing.
    pub fn trimmed_text(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }
}

/// One `DAV:propstat`: properties sharing a status.
#[derive(Debug, Clone)]
pub struct Propstat {
    /// Status code from `DAV:status`; 0 if absent or unreadable.
    pub status: u16,
    /// The children of `DAV:prop`.
    pub props: Vec<Element>,
}

/// One `DAV:response`. A response naming several hrefs with one status becomes one value per href.
#[derive(Debug, Clone)]
pub struct DavResponse {
    /// The href as sent (whitespace trimmed, entities unescaped).
    pub href: String,
    /// The href resolved against the request URL and normalized (see [`normalize_href`]).
    pub url: Url,
    /// Response-level `DAV:status`, if any (e.g. 404 for deleted members in sync-collection).
    pub status: Option<u16>,
    /// The propstats in document order.
    pub propstats: Vec<Propstat>,
    /// Local names of the elements of this response whose text was not valid UTF-8 (`href`,
    /// `getetag`, `calendar-data`, …). Their text was decoded lossily (U+FFFD for each bad sequence)
    /// so that one bad byte costs this response, not the whole document.
    pub invalid_utf8: Vec<String>,
}

impl DavResponse {
    /// First property with that name whose propstat is 2xx.
    ///
    /// QUIRK(icloud §1.5): iCloud has put valid properties into a 404 propstat. If no 2xx
    /// propstat carries the property, a non-empty one from a 404 propstat is accepted.
    pub fn prop(&self, ns: &str, name: &str) -> Option<&Element> {
        let find = |ok: fn(u16) -> bool, need_content: bool| {
            self.propstats
                .iter()
                .filter(|p| ok(p.status))
                .flat_map(|p| p.props.iter())
                .find(|e| e.is(ns, name) && (!need_content || e.has_content()))
        };
        find(|s| (200..300).contains(&s), false).or_else(|| find(|s| s == 404, true))
    }

    /// Like [`DavResponse::prop`], but moves the property out (a multiget's calendar data is
    /// handed on without a copy). The same property is never found twice.
    pub fn take_prop(&mut self, ns: &str, name: &str) -> Option<Element> {
        let pos = |ok: fn(u16) -> bool, need_content: bool, pss: &[Propstat]| {
            pss.iter()
                .enumerate()
                .filter(|(_, p)| ok(p.status))
                .find_map(|(i, p)| {
                    p.props
                        .iter()
                        .position(|e| e.is(ns, name) && (!need_content || e.has_content()))
                        .map(|j| (i, j))
                })
        };
        let (i, j) = pos(|s| (200..300).contains(&s), false, &self.propstats)
            .or_else(|| pos(|s| s == 404, true, &self.propstats))?;
        Some(self.propstats[i].props.swap_remove(j))
    }
}

/// A parsed `DAV:multistatus`.
#[derive(Debug, Clone, Default)]
pub struct Multistatus {
    /// The responses in document order.
    pub responses: Vec<DavResponse>,
    /// `DAV:sync-token` at multistatus level (RFC 6578 §6.4); opaque.
    pub sync_token: Option<String>,
}
