//! sync-collection REPORT (RFC 6578): what changed in a collection since a sync token.

use url::Url;

use crate::error::DavError;
use crate::xml::{parse_multistatus_each, DAV};
use crate::{
    body, expect_207, method_report, DavRequest, Depth, PreparedRequest, RawResponse,
    XML_CONTENT_TYPE,
};

/// A member of a collection and its etag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// Resolved, normalized URL of the item.
    pub url: Url,
    /// The etag exactly as the server sent it (only surrounding whitespace trimmed).
    pub etag: Option<String>,
    /// The href was not valid UTF-8 and was decoded lossily: the URL names no member the server
    /// would find, so the item cannot be fetched; callers report it instead. (An etag with a bad
    /// byte decodes to the same text every time, so it still tells versions apart.)
    pub invalid_utf8: bool,
}

/// The sync-collection REPORT asking for etags.
#[derive(Debug, Clone)]
pub struct SyncCollection {
    /// The collection.
    pub url: Url,
    /// Token from the previous sync; `None` for an initial sync. Opaque: never parsed
    /// (QUIRK(icloud §1.7): iCloud tokens are not URIs despite RFC 6578 §6.2).
    pub token: Option<String>,
}

/// What the server reported.
#[derive(Debug, Clone, Default)]
pub struct SyncResult {
    /// Members added or changed since the token.
    pub changed: Vec<ItemRef>,
    /// Members removed since the token (response status 404).
    pub deleted: Vec<Url>,
    /// The new token to store, if the server sent one.
    pub token: Option<String>,
    /// The server truncated the result (507 for the collection, RFC 6578 §3.6): ask again with
    /// the new token to get the rest.
    pub incomplete: bool,
}

impl DavRequest for SyncCollection {
    type Response = SyncResult;

    /// The request to send. RFC 6578 §3.2 defines the report for `Depth: 0` only; the scope is
    /// given by `DAV:sync-level`.
    fn request(&self) -> PreparedRequest {
        let mut ns = body::Namespaces::new();
        let token = match &self.token {
            Some(t) => format!("<D:sync-token>{}</D:sync-token>", body::escape(t)),
            None => "<D:sync-token/>".to_owned(),
        };
        let prop = body::prop_element(&mut ns, &[(DAV, "getetag")]);
        let inner = format!("{token}<D:sync-level>1</D:sync-level>{prop}");
        PreparedRequest {
            method: method_report(),
            url: self.url.clone(),
            depth: Some(Depth::Zero),
            content_type: Some(XML_CONTENT_TYPE),
            body: Some(body::document(&ns, "D:sync-collection", &inner)),
        }
    }

    /// Parses the 207 answer. Other statuses (e.g. 403/409/410/412 for an expired token,
    /// §3.2) come back as [`DavError::UnexpectedStatus`] for the caller to decide.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        expect_207(resp)?;
        let own = trim_slash(resp.url.path()).to_owned();
        let mut out = SyncResult::default();
        // Streamed: each response becomes an ItemRef (or is dropped) as soon as it is parsed.
        let ms = parse_multistatus_each(&resp.body, &resp.url, &mut |r| {
            let is_collection = trim_slash(r.url.path()) == own;
            if is_collection && r.status == Some(507) {
                out.incomplete = true;
                return;
            }
            // QUIRK(icloud §3.1): the collection itself is listed among the changes, with an etag.
            if is_collection || r.url.path().ends_with('/') || r.href.ends_with('/') {
                return;
            }
            if r.status == Some(404) {
                out.deleted.push(r.url);
                return;
            }
            let etag = r
                .prop(DAV, "getetag")
                .and_then(|e| e.trimmed_text())
                .map(str::to_owned);
            let invalid_utf8 = r.invalid_utf8.iter().any(|n| n == "href");
            out.changed.push(ItemRef {
                url: r.url,
                etag,
                invalid_utf8,
            });
        })?;
        out.token = ms.sync_token;
        Ok(out)
    }
}

fn trim_slash(p: &str) -> &str {
    p.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{raw, tree};

    #[test]
    fn a_bad_byte_in_one_href_marks_that_member_and_the_listing_is_still_read() {
        let body = b"<?xml version=\"1.0\"?><multistatus xmlns=\"DAV:\">\
<response><href>/17149682/calendars/home/caf\xE9.ics</href><propstat><prop><getetag>\"1\"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>\
<response><href>/17149682/calendars/home/ok.ics</href><propstat><prop><getetag>\"2\xFF\"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>\
<sync-token>tok</sync-token></multistatus>";
        let r = sync(None)
            .parse(&crate::testutil::raw_bytes(207, body, COLL))
            .unwrap();
        assert_eq!(r.changed.len(), 2);
        assert!(r.changed[0].invalid_utf8);
        // A bad byte in an etag still tells versions apart: the member is usable.
        assert!(!r.changed[1].invalid_utf8);
        assert_eq!(r.changed[1].etag.as_deref(), Some("\"2\u{FFFD}\""));
        assert_eq!(r.token.as_deref(), Some("tok"));
    }

    const COLL: &str = "https://p62-caldav.icloud.com:443/17149682/calendars/home/";

    fn sync(token: Option<&str>) -> SyncCollection {
        SyncCollection {
            url: Url::parse(COLL).unwrap(),
            token: token.map(str::to_owned),
        }
    }

    #[test]
    fn request_carries_token_sync_level_and_etag_prop() {
        let req = sync(Some("HwoQEgwAAA<&>")).request();
        assert_eq!(req.method.as_str(), "REPORT");
        assert_eq!(req.depth, Some(Depth::Zero));
        let t = tree(req.body.as_deref().unwrap());
        assert!(t.is(DAV, "sync-collection"));
        assert_eq!(t.child(DAV, "sync-token").unwrap().text, "HwoQEgwAAA<&>");
        assert_eq!(t.child(DAV, "sync-level").unwrap().text, "1");
        assert!(t.child(DAV, "prop").unwrap().has_child(DAV, "getetag"));
    }

    #[test]
    fn initial_request_sends_empty_token() {
        let t = tree(sync(None).request().body.as_deref().unwrap());
        let tok = t.child(DAV, "sync-token").unwrap();
        assert!(tok.text.is_empty() && tok.children.is_empty());
    }

    #[test]
    fn icloud_3_1_collection_href_dropped_from_sync() {
        let body = include_str!("../tests/fixtures/icloud_3_1_sync_collection.xml");
        let r = sync(Some("old")).parse(&raw(207, body, COLL)).unwrap();
        let changed: Vec<_> = r.changed.iter().map(|i| i.url.path()).collect();
        assert_eq!(
            changed,
            [
                "/17149682/calendars/home/new-event.ics",
                "/17149682/calendars/home/changed@example.com.ics"
            ]
        );
        assert_eq!(r.changed[0].etag.as_deref(), Some("\"mf1b3a8v\""));
        assert!(!r.incomplete);
    }

    #[test]
    fn sync_collection_deletions_and_new_token() {
        let body = include_str!("../tests/fixtures/icloud_3_1_sync_collection.xml");
        let r = sync(Some("old")).parse(&raw(207, body, COLL)).unwrap();
        let deleted: Vec<_> = r.deleted.iter().map(Url::path).collect();
        assert_eq!(deleted, ["/17149682/calendars/home/gone.ics"]);
        // QUIRK(icloud §1.7): opaque, not a URI; returned verbatim.
        assert_eq!(
            r.token.as_deref(),
            Some("HwoQEgwAAAGdhcnqFtHSgAAAAAAAAA0YAhgAIhYI+qv6")
        );
    }

    #[test]
    fn sync_collection_507_marks_incomplete() {
        let body = r#"<d:multistatus xmlns:d="DAV:">
  <d:response><d:href>/17149682/calendars/home/a.ics</d:href>
    <d:propstat><d:prop><d:getetag>"1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
  <d:response><d:href>/17149682/calendars/home/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>
  <d:sync-token>tok-2</d:sync-token>
</d:multistatus>"#;
        let r = sync(None).parse(&raw(207, body, COLL)).unwrap();
        assert!(r.incomplete);
        assert_eq!(r.changed.len(), 1);
        assert_eq!(r.token.as_deref(), Some("tok-2"));
    }

    #[test]
    fn icloud_3_2_expired_token_status_surfaces_as_unexpected_status() {
        for status in [403, 409, 410, 412] {
            let err = sync(Some("old")).parse(&raw(status, "", COLL)).unwrap_err();
            assert!(matches!(err, DavError::UnexpectedStatus { status: s } if s == status));
        }
    }
}
