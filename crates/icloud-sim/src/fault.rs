//! Failure scenarios applied to a request (test builds only: the `testing` feature). The throttles,
//! error statuses, sign-in pages, redirects and broken bodies a client must survive, named after
//! docs/icloud.md sections.

use crate::dav::State;
use crate::http::Response;
use crate::scenario::{RequestKind, Scenario};
use crate::xml::XML_DECL;

/// What Apple's sign-in page looks like to a client that expected DAV.
const SIGN_IN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta charset=\"utf-8\"><title>Sign in with Apple ID</title></head>\n<body><div id=\"sign-in\"><h1>Sign in with your Apple&nbsp;ID</h1><form action=\"https://idmsa.apple.com/appleauth/auth/signin\" method=\"post\"><input type=\"text\" name=\"accountName\"><input type=\"password\" name=\"password\"></form></div></body></html>\n";

/// The scenario this request gets; `Err` is the whole answer when the scenario replaces it.
pub(crate) fn before(st: &mut State, kind: RequestKind) -> Result<Scenario, Response> {
    let scenario = st.armed.apply_to(kind);
    match &scenario {
        // QUIRK(icloud §2.6): throttling is a 503, Retry-After optional and passed verbatim.
        Scenario::Throttle2_6 { retry_after } => {
            let r = Response::new(503);
            return Err(match retry_after {
                Some(v) => r.header("Retry-After", v.clone()),
                None => r,
            });
        }
        Scenario::ServerError { status } => return Err(Response::new(*status)),
        Scenario::HtmlSignIn => {
            return Err(Response::new(200)
                .with_body("text/html; charset=utf-8", SIGN_IN_PAGE.as_bytes().to_vec()));
        }
        Scenario::RedirectOtherHost { location } => {
            return Err(Response::new(302).header("Location", location.clone()));
        }
        Scenario::MalformedXml => {
            return Err(Response::xml(
                207,
                format!("{XML_DECL}<multistatus xmlns=\"DAV:\"><response><href>/</href><propstat><prop><displayname>Home</prop></displayname><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"),
            ));
        }
        Scenario::EmptyOk => return Err(Response::new(200)),
        Scenario::HugeResponse { bytes } => {
            let mut r = Response::new(207).header("Content-Type", "text/xml; charset=utf-8");
            r.huge = Some(*bytes);
            return Err(r);
        }
        Scenario::CalendarDisappears { slug } => {
            if let Some(c) = st.store.calendar_index(slug) {
                st.store.remove_calendar(c);
            }
        }
        _ => {}
    }
    Ok(scenario)
}

/// Breaks the answer the way the scenario says (after it was made).
pub(crate) fn after(scenario: &Scenario, resp: &mut Response) {
    match scenario {
        Scenario::TruncatedBody => resp.truncate = true,
        Scenario::ConnectionResetMidBody => resp.reset = true,
        Scenario::TruncatedXml => {
            let half = resp.body.len() / 2;
            resp.body.truncate(half);
        }
        _ => {}
    }
}
