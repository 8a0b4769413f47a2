//! calendar-multiget REPORT (RFC 4791 §7.9): fetch many items by href in one request.

use url::Url;

use crate::error::DavError;
use crate::xml::{normalize_escapes, parse_multistatus, CALDAV, DAV};
use crate::{
    body, expect_207, method_report, DavRequest, Depth, PreparedRequest, RawResponse,
    XML_CONTENT_TYPE,
};

/// calendar-multiget for getetag + calendar-data of `hrefs`.
///
/// Keep batches small (10–50, docs/icloud.md §3.3) and always check [`CalendarMultiget::missing`].
#[derive(Debug, Clone)]
pub struct CalendarMultiget {
    /// The collection holding the items.
    pub url: Url,
    /// The items to fetch.
    pub hrefs: Vec<Url>,
}

/// One item as the multiget answered it.
#[derive(Debug, Clone)]
pub struct MultigetItem {
    /// Resolved, normalized URL.
    pub url: Url,
    /// Response-level status if given, else the status of the propstat carrying calendar-data,
    /// else of the first propstat; 404 if the response carried none of these.
    pub status: u16,
    /// The etag as sent (surrounding whitespace trimmed).
    pub etag: Option<String>,
    /// The calendar data, exactly as sent (CDATA and entities decoded); `Some` and empty when the
    /// server sent an empty or blank `calendar-data` with a 2xx status (it answered, with nothing).
    pub data: Option<Vec<u8>>,
    /// The calendar data was not valid UTF-8 and `data` holds a lossy decoding (U+FFFD for each bad
    /// sequence): fetch the item alone (GET) for its exact bytes.
    pub invalid_utf8: bool,
}

impl CalendarMultiget {
    /// Requested hrefs that did not come back with a 2xx status and data.
    ///
    /// QUIRK(icloud §3.3): one href can come back 404 though the listing named it, and servers
    /// have silently capped multigets; callers skip these and recheck next time.
    pub fn missing(&self, items: &[MultigetItem]) -> Vec<Url> {
        let answered: std::collections::HashSet<&str> = items
            .iter()
            .filter(|it| (200..300).contains(&it.status) && it.data.is_some())
            .map(|it| it.url.path())
            .collect();
        self.hrefs
            .iter()
            // The request URL is already parsed: normalising its path's escapes is what
            // normalize_href would do to it, without another URL parse.
            .filter(|h| !answered.contains(normalize_escapes(h.path()).as_str()))
            .cloned()
            .collect()
    }
}

impl DavRequest for CalendarMultiget {
    type Response = Vec<MultigetItem>;

    /// The request to send; hrefs are written as paths.
    fn request(&self) -> PreparedRequest {
        let mut ns = body::Namespaces::new();
        ns.prefix(CALDAV);
        let mut inner = body::prop_element(&mut ns, &[(DAV, "getetag"), (CALDAV, "calendar-data")]);
        for h in &self.hrefs {
            inner.push_str("<D:href>");
            inner.push_str(&body::escape(h.path()));
            inner.push_str("</D:href>");
        }
        PreparedRequest {
            method: method_report(),
            url: self.url.clone(),
            depth: Some(Depth::One),
            content_type: Some(XML_CONTENT_TYPE),
            body: Some(body::document(&ns, "C:calendar-multiget", &inner)),
        }
    }

    /// Parses the 207 answer: one item per response, in the server's order.
    fn parse(&self, resp: &RawResponse) -> Result<Self::Response, DavError> {
        expect_207(resp)?;
        let ms = parse_multistatus(&resp.body, &resp.url)?;
        let mut items = Vec::with_capacity(ms.responses.len());
        for mut r in ms.responses {
            let data_status = r
                .propstats
                .iter()
                .find(|ps| ps.props.iter().any(|p| p.is(CALDAV, "calendar-data")))
                .map(|ps| ps.status);
            let status = r
                .status
                .or(data_status)
                .or(r.propstats.first().map(|ps| ps.status))
                .unwrap_or(404);
            let etag = r
                .prop(DAV, "getetag")
                .and_then(|e| e.trimmed_text())
                .map(str::to_owned);
            let invalid_utf8 = r.invalid_utf8.iter().any(|n| n == "calendar-data");
            let data = r.take_prop(CALDAV, "calendar-data").map(|e| {
                if e.text.trim().is_empty() {
                    Vec::new()
                } else {
                    e.text.into_bytes()
                }
            });
            items.push(MultigetItem {
                url: r.url,
                status,
                etag,
                data,
                invalid_utf8,
            });
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_in_one_objects_data_costs_that_object_only() {
        let coll = "https://p62-caldav.icloud.com/1/calendars/home/";
        let mut body = b"<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">".to_vec();
        for (name, data) in [
            (
                "bad",
                &b"BEGIN:VCALENDAR\r\nSUMMARY:caf\xE9\r\nEND:VCALENDAR"[..],
            ),
            (
                "good",
                &b"BEGIN:VCALENDAR\r\nSUMMARY:ok\r\nEND:VCALENDAR"[..],
            ),
            ("empty", &b"  \r\n"[..]),
        ] {
            body.extend_from_slice(format!("<d:response><d:href>/1/calendars/home/{name}.ics</d:href><d:propstat><d:prop><d:getetag>\"{name}\"</d:getetag><c:calendar-data><![CDATA[").as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"]]></c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>");
        }
        body.extend_from_slice(b"</d:multistatus>");
        let req = CalendarMultiget {
            url: Url::parse(coll).unwrap(),
            hrefs: ["bad", "good", "empty"]
                .iter()
                .map(|n| Url::parse(&format!("{coll}{n}.ics")).unwrap())
                .collect(),
        };
        let items = req
            .parse(&crate::testutil::raw_bytes(207, &body, coll))
            .unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[0].invalid_utf8);
        assert!(String::from_utf8(items[0].data.clone().unwrap())
            .unwrap()
            .contains("caf\u{FFFD}"));
        assert!(!items[1].invalid_utf8);
        assert_eq!(
            items[1].data.as_deref(),
            Some(&b"BEGIN:VCALENDAR\r\nSUMMARY:ok\r\nEND:VCALENDAR"[..])
        );
        // Delivered, but empty: answered (not "missing"), with no bytes.
        assert_eq!(items[2].data.as_deref(), Some(&b""[..]));
        assert!(req.missing(&items).is_empty());
    }
    use crate::testutil::{raw, tree};

    const COLL: &str = "https://p62-caldav.icloud.com/17149682/calendars/work/";

    fn mg() -> CalendarMultiget {
        let base = Url::parse(COLL).unwrap();
        CalendarMultiget {
            url: base.clone(),
            hrefs: ["a.ics", "b.ics", "me%40icloud.com.ics", "never.ics"]
                .iter()
                .map(|h| base.join(h).unwrap())
                .collect(),
        }
    }

    #[test]
    fn request_lists_hrefs_as_paths_with_depth_1() {
        let req = mg().request();
        assert_eq!(req.method.as_str(), "REPORT");
        assert_eq!(req.depth, Some(Depth::One));
        let t = tree(req.body.as_deref().unwrap());
        assert!(t.is(CALDAV, "calendar-multiget"));
        let prop = t.child(DAV, "prop").unwrap();
        assert!(prop.has_child(DAV, "getetag") && prop.has_child(CALDAV, "calendar-data"));
        let hrefs: Vec<_> = t
            .children
            .iter()
            .filter(|c| c.is(DAV, "href"))
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(hrefs[0], "/17149682/calendars/work/a.ics");
        assert_eq!(hrefs.len(), 4);
    }

    #[test]
    fn icloud_3_3_multiget_missing_item_reported() {
        let body = include_str!("../tests/fixtures/icloud_3_3_multiget.xml");
        let m = mg();
        let items = m.parse(&raw(207, body, COLL)).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].status, 200);
        assert_eq!(items[0].etag.as_deref(), Some("\"e-a\""));
        let data = String::from_utf8(items[0].data.clone().unwrap()).unwrap();
        assert!(data.starts_with("BEGIN:VCALENDAR\r\n"), "{data:?}");
        assert!(data.contains("SUMMARY:Tom & Jerry <3\r\n"), "{data:?}");
        assert_eq!(items[1].status, 404);
        assert!(items[1].data.is_none());
        // Entity-escaped (not CDATA) calendar-data is decoded too.
        let data2 = String::from_utf8(items[2].data.clone().unwrap()).unwrap();
        assert!(data2.contains("SUMMARY:Lunch & talk\r\n"), "{data2:?}");
        let missing: Vec<_> = m
            .missing(&items)
            .iter()
            .map(|u| u.path().to_owned())
            .collect();
        assert_eq!(
            missing,
            [
                "/17149682/calendars/work/b.ics",
                "/17149682/calendars/work/never.ics"
            ]
        );
    }

    #[test]
    fn multiget_response_level_404_without_propstat() {
        let body = r#"<D:multistatus xmlns:D="DAV:"><D:response><D:href>/x/a.ics</D:href>
            <D:status>HTTP/1.1 404 Not Found</D:status></D:response></D:multistatus>"#;
        let items = mg().parse(&raw(207, body, COLL)).unwrap();
        assert_eq!(items[0].status, 404);
        assert!(items[0].data.is_none() && items[0].etag.is_none());
    }
}
