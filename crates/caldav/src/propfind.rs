//! PROPFIND (RFC 4918 §9.1), generic and for listing member etags.

use url::Url;

use crate::error::DavError;
use crate::sync_collection::ItemRef;
use crate::xml::{parse_multistatus, Multistatus, DAV};
use crate::{
    body, expect_207, method_propfind, DavRequest, Depth, PreparedRequest, RawResponse,
    XML_CONTENT_TYPE,
};

/// PROPFIND for a list of properties, each given as (namespace, local name).
#[derive(Debug, Clone)]
pub struct Propfind {
    /// Resource or collection.
    pub url: Url,
    /// `Depth` header.
    pub depth: Depth,
    /// Properties to ask for.
    pub props: Vec<(&'static str, &'static str)>,
}

impl DavRequest for Propfind {
    type Response = Multistatus;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        PreparedRequest {
            method: method_propfind(),
            url: self.url.clone(),
            depth: Some(self.depth),
            content_type: Some(XML_CONTENT_TYPE),
            body: Some(body::propfind(&self.props)),
        }
    }

    /// Parses the 207 answer.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        expect_207(resp)?;
        Ok(parse_multistatus(&resp.body, &resp.url)?)
    }
}

/// Lists the members of a collection with their etags (PROPFIND Depth 1, getetag + resourcetype).
/// The fallback when sync-collection is unavailable.
#[derive(Debug, Clone)]
pub struct ListEtags {
    /// The collection.
    pub url: Url,
}

impl ListEtags {
    fn propfind(&self) -> Propfind {
        Propfind {
            url: self.url.clone(),
            depth: Depth::One,
            props: vec![(DAV, "getetag"), (DAV, "resourcetype")],
        }
    }
}

impl DavRequest for ListEtags {
    type Response = Vec<ItemRef>;

    /// The request to send.
    fn request(&self) -> PreparedRequest {
        self.propfind().request()
    }

    /// Member items; the collection itself, sub-collections and members the server reports as
    /// not found are left out.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        let ms = self.propfind().parse(resp)?;
        let mut items = Vec::new();
        for r in ms.responses {
            if r.status.is_some_and(|s| !(200..300).contains(&s)) {
                continue;
            }
            let is_collection = r
                .prop(DAV, "resourcetype")
                .is_some_and(|rt| rt.has_child(DAV, "collection"));
            if is_collection || r.url.path().ends_with('/') || r.href.ends_with('/') {
                continue;
            }
            let etag = r
                .prop(DAV, "getetag")
                .and_then(|e| e.trimmed_text())
                .map(str::to_owned);
            let invalid_utf8 = r.invalid_utf8.iter().any(|n| n == "href");
            items.push(ItemRef {
                url: r.url,
                etag,
                invalid_utf8,
            });
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{raw, tree};

    #[test]
    fn propfind_request_declares_namespaces_and_depth() {
        let req = Propfind {
            url: Url::parse("https://caldav.icloud.com/").unwrap(),
            depth: Depth::Zero,
            props: vec![
                (DAV, "current-user-principal"),
                (crate::CALDAV, "calendar-home-set"),
                ("urn:x-example", "thing"),
            ],
        }
        .request();
        assert_eq!(req.method.as_str(), "PROPFIND");
        assert_eq!(req.depth, Some(Depth::Zero));
        let t = tree(req.body.as_deref().unwrap());
        assert!(t.is(DAV, "propfind"));
        let prop = t.child(DAV, "prop").unwrap();
        assert!(prop.has_child(DAV, "current-user-principal"));
        assert!(prop.has_child(crate::CALDAV, "calendar-home-set"));
        assert!(prop.has_child("urn:x-example", "thing"));
    }

    #[test]
    fn propfind_non_207_is_unexpected_status() {
        let pf = Propfind {
            url: Url::parse("https://h/").unwrap(),
            depth: Depth::Zero,
            props: vec![],
        };
        let err = pf.parse(&raw(401, "", "https://h/")).unwrap_err();
        assert!(matches!(err, DavError::UnexpectedStatus { status: 401 }));
    }

    const ETAGS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<multistatus xmlns="DAV:">
  <response><href>/1234/calendars/home/</href>
    <propstat><prop><resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype><getetag>"ctag"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/1234/calendars/home/a.ics</href>
    <propstat><prop><getetag> "e1" </getetag><resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/1234/calendars/home/sub/</href>
    <propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
  <response><href>/1234/calendars/home/b.ics</href>
    <propstat><prop><resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat>
    <propstat><prop><getetag/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
</multistatus>"#;

    #[test]
    fn list_etags_skips_collections_and_keeps_etags_verbatim() {
        let base = "https://p01-caldav.icloud.com/1234/calendars/home/";
        let le = ListEtags {
            url: Url::parse(base).unwrap(),
        };
        let req = le.request();
        assert_eq!(req.depth, Some(Depth::One));
        let prop = tree(req.body.as_deref().unwrap());
        let prop = prop.child(DAV, "prop").unwrap();
        assert!(prop.has_child(DAV, "getetag") && prop.has_child(DAV, "resourcetype"));

        let items = le.parse(&raw(207, ETAGS, base)).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].url.as_str(), format!("{base}a.ics"));
        assert_eq!(items[0].etag.as_deref(), Some("\"e1\""));
        assert_eq!(items[1].etag, None);
    }
}
