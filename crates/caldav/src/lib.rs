//! CalDAV/WebDAV protocol for the Calendar Connector.
//!
//! Requests are values implementing [`DavRequest`] (as in libdav): build one (e.g. [`ListCalendars`]),
//! and [`Transport::run`] sends its `request()` and hands the answer to its `parse()`. Callers that
//! look at the raw answer first (the connector classifies every response) send the
//! [`PreparedRequest`] with [`Transport::execute`] and call `parse()` themselves. The multistatus parser ([`parse_multistatus`]) tolerates the iCloud quirks documented in
//! `docs/icloud.md`; each workaround is tagged `QUIRK(icloud §N.M)`.
//!
//! This crate knows the protocol only: nothing about accounts, keychains, caches or sync planning.
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod body;
pub mod discovery;
pub mod error;
pub mod get;
pub mod multiget;
pub mod options;
pub mod propfind;
pub mod sync_collection;
pub mod transport;
pub mod xml;

pub use discovery::{CalendarHomeSet, CalendarInfo, CurrentUserPrincipal, ListCalendars};
pub use error::{DavError, RunError, TransportError, XmlError};
pub use get::{ConditionalGet, ConditionalResult, Get, GetResult};
pub use multiget::{CalendarMultiget, MultigetItem};
pub use options::{DavCapabilities, Options};
pub use propfind::{ListEtags, Propfind};
pub use sync_collection::{ItemRef, SyncCollection, SyncResult};
pub use transport::{Credentials, Transport, TransportConfig};
pub use url::Url;
pub use xml::{
    normalize_href, parse_multistatus, parse_multistatus_each, DavResponse, Element, Multistatus,
    Propstat, CALDAV, CS, DAV, ICAL,
};

/// A request as a value: it builds its HTTP request and parses the answer to it, so each request is
/// unit-tested against recorded XML without a network, and one [`Transport::run`] sends any of them.
pub trait DavRequest {
    /// What a successful answer is parsed into.
    type Response;

    /// The HTTP request to send.
    fn request(&self) -> PreparedRequest;

    /// Parses the answer to [`DavRequest::request`]; a status the request does not accept is
    /// [`DavError::UnexpectedStatus`].
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError>;
}

/// The HTTP request a [`DavRequest`] builds.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    /// HTTP method, including WebDAV extension methods (PROPFIND, REPORT).
    pub method: http::Method,
    /// Absolute request URL.
    pub url: Url,
    /// Value of the `Depth` header, if one is sent.
    pub depth: Option<Depth>,
    /// `Content-Type` of `body`; the transport uses `application/xml; charset=utf-8` if a body has
    /// none.
    pub content_type: Option<&'static str>,
    /// Request body.
    pub body: Option<Vec<u8>>,
}

impl PreparedRequest {
    /// A plain GET of `url`: no depth, no body.
    pub fn get(url: &Url) -> Self {
        PreparedRequest {
            method: http::Method::GET,
            url: url.clone(),
            depth: None,
            content_type: None,
            body: None,
        }
    }
}

/// The WebDAV `Depth` header (RFC 4918 §10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// `Depth: 0`, the resource itself.
    Zero,
    /// `Depth: 1`, the resource and its direct members.
    One,
    /// `Depth: infinity`.
    Infinity,
}

impl Depth {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::Zero => "0",
            Depth::One => "1",
            Depth::Infinity => "infinity",
        }
    }
}

/// A response as received, body fully read.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// The whole (decompressed) body.
    pub body: bytes::Bytes,
    /// The URL finally answered (after same-host redirects); hrefs resolve against it.
    pub url: Url,
}

/// Content type of the XML bodies this crate sends.
pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// `PROPFIND` as an [`http::Method`].
pub(crate) fn method_propfind() -> http::Method {
    // Both names are valid tokens; from_bytes only fails on invalid bytes.
    http::Method::from_bytes(b"PROPFIND").unwrap_or(http::Method::GET)
}

/// `REPORT` as an [`http::Method`].
pub(crate) fn method_report() -> http::Method {
    http::Method::from_bytes(b"REPORT").unwrap_or(http::Method::GET)
}

/// Fails with [`DavError::UnexpectedStatus`] unless the response is `207 Multi-Status`.
pub(crate) fn expect_207(resp: &RawResponse) -> Result<(), DavError> {
    if resp.status == 207 {
        Ok(())
    } else {
        Err(DavError::UnexpectedStatus {
            status: resp.status,
        })
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    use quick_xml::NsReader;

    use crate::xml::Element;
    use crate::{RawResponse, Url};

    pub(crate) fn raw(status: u16, body: &str, url: &str) -> RawResponse {
        raw_bytes(status, body.as_bytes(), url)
    }

    /// Like [`raw`], for bodies that are not UTF-8.
    pub(crate) fn raw_bytes(status: u16, body: &[u8], url: &str) -> RawResponse {
        RawResponse {
            status,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::copy_from_slice(body),
            url: Url::parse(url).unwrap(),
        }
    }

    /// Parses a whole document into a tree, panicking unless it is well-formed.
    pub(crate) fn tree(doc: &[u8]) -> Element {
        let mut r = NsReader::from_reader(doc);
        let mut buf = Vec::new();
        let mut stack: Vec<Element> = Vec::new();
        loop {
            buf.clear();
            let (ns, ev) = r.read_resolved_event_into(&mut buf).unwrap();
            let ns = match ns {
                ResolveResult::Bound(n) => String::from_utf8(n.as_ref().to_vec()).unwrap(),
                _ => String::new(),
            };
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let el = Element {
                        ns,
                        name: String::from_utf8(e.local_name().as_ref().to_vec()).unwrap(),
                        attrs: vec![],
                        text: String::new(),
                        children: vec![],
                    };
                    stack.push(el);
                    if empty {
                        let done = stack.pop().unwrap();
                        match stack.last_mut() {
                            Some(p) => p.children.push(done),
                            None => return done,
                        }
                    }
                }
                Event::End(_) => {
                    let done = stack.pop().unwrap();
                    match stack.last_mut() {
                        Some(p) => p.children.push(done),
                        None => return done,
                    }
                }
                Event::Text(t) => {
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&t.unescape().unwrap());
                    }
                }
                Event::Eof => panic!("document ended early"),
                _ => {}
            }
        }
    }
}
