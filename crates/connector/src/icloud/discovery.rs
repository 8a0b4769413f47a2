//! Discovery: principal → calendar-home-set (which on iCloud is an absolute URL on a partition host,
//! §1.3) → the event calendars in it (§1.6). The same steps work on generic servers (Radicale answers
//! the principal on `/` and on `/.well-known/caldav`).

use caldav::{CalendarHomeSet, CalendarInfo, CurrentUserPrincipal, DavRequest, ListCalendars, Url};

use super::classify::Expect;
use super::session::{dav_error, is_loopback, Session};
use crate::error::{Error, Result};

/// What discovery found.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// Principal URL.
    pub principal: Url,
    /// calendar-home-set URL.
    pub home: Url,
    /// Apple's numeric person id (iCloud) — the stable part of the cache key (§1.4).
    pub dsid: Option<String>,
    /// Event calendars.
    pub calendars: Vec<CalendarInfo>,
    /// host:port of every host that may receive credentials.
    pub trusted_hosts: Vec<String>,
}

/// `host:port` of a URL.
pub fn host_key(u: &Url) -> String {
    format!(
        "{}:{}",
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').rsplit('.').take(3).collect();
    // icloud.com.cn keeps three labels; everything else two.
    if labels.len() == 3 && labels[0] == "cn" && labels[1] == "com" {
        format!("{}.{}.{}", labels[2], labels[1], labels[0])
    } else {
        labels
            .iter()
            .take(2)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// docs/design.md rule 5: credentials go only to the configured host and hosts discovery returned within the
/// same trusted domain (both loopback, or the same registrable domain such as icloud.com).
pub fn same_trust_domain(configured: &Url, other: &Url) -> bool {
    if is_loopback(configured) || is_loopback(other) {
        return is_loopback(configured) && is_loopback(other);
    }
    match (configured.host_str(), other.host_str()) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b) || registrable(a) == registrable(b),
        _ => false,
    }
}

fn numeric_first_segment(u: &Url) -> Option<String> {
    let seg = u.path_segments()?.find(|s| !s.is_empty())?;
    (seg.len() >= 5 && seg.chars().all(|c| c.is_ascii_digit())).then(|| seg.to_owned())
}

async fn principal(session: &Session, server: &Url) -> Result<Url> {
    let req = CurrentUserPrincipal {
        url: server.clone(),
    };
    let first = session.send(&req.request(), Expect::Multistatus).await;
    let resp = match first {
        Ok(r) => r,
        // Generic servers: RFC 6764 well-known URL (Radicale redirects it to its root, same host).
        Err(Error::Protocol(_)) | Err(Error::NotDav(_)) if server.path() == "/" => {
            let wk = server
                .join("/.well-known/caldav")
                .map_err(|e| Error::Usage(format!("bad server URL {server}: {e}")))?;
            let req = CurrentUserPrincipal { url: wk };
            return session
                .run(&req, Expect::Multistatus, "current-user-principal")
                .await;
        }
        Err(e) => return Err(e),
    };
    req.parse(&resp)
        .map_err(|e| dav_error(e, "current-user-principal"))
}

/// Runs discovery from `server` (the configured URL). Trusts the hosts it returns on the session's
/// transport when they are in the same trust domain; refuses others.
pub async fn discover(session: &Session, server: &Url) -> Result<Discovered> {
    session.transport().trust_host(server);
    let principal = principal(session, server).await?;
    check_trust(session, server, &principal)?;
    // QUIRK(icloud §1.5): the principal may come back as `/principal/` without the dsid; it still
    // answers calendar-home-set, and the dsid is then read from the home URL.
    let home_req = CalendarHomeSet {
        principal: principal.clone(),
    };
    let home = session
        .run(&home_req, Expect::Multistatus, "calendar-home-set")
        .await?;
    // QUIRK(icloud §1.3): the home set is an absolute URL on a partition host (pNN-caldav, explicit
    // :443); keep sending credentials there — it is in the same trust domain.
    check_trust(session, server, &home)?;
    let calendars = list_calendars(session, &home).await?;
    let dsid = numeric_first_segment(&principal).or_else(|| numeric_first_segment(&home));
    let mut trusted_hosts = vec![host_key(server)];
    for u in [&principal, &home] {
        let k = host_key(u);
        if !trusted_hosts.contains(&k) {
            trusted_hosts.push(k);
        }
    }
    Ok(Discovered {
        principal,
        home,
        dsid,
        calendars,
        trusted_hosts,
    })
}

/// Lists the event calendars in a home set (QUIRK(icloud §1.6): by resourcetype + component set).
pub async fn list_calendars(session: &Session, home: &Url) -> Result<Vec<CalendarInfo>> {
    let req = ListCalendars { home: home.clone() };
    session
        .run(&req, Expect::Multistatus, "the calendar list")
        .await
}

fn check_trust(session: &Session, configured: &Url, found: &Url) -> Result<()> {
    if same_trust_domain(configured, found) {
        session.transport().trust_host(found);
        Ok(())
    } else {
        Err(Error::Redirected(format!(
            "discovery pointed to {} which is outside {}; credentials were not sent there",
            found.host_str().unwrap_or("?"),
            configured.host_str().unwrap_or("?")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icloud_1_3_partition_hosts_share_the_trust_domain() {
        let c = Url::parse("https://caldav.icloud.com/").unwrap();
        assert!(same_trust_domain(
            &c,
            &Url::parse("https://p62-caldav.icloud.com:443/1/calendars/").unwrap()
        ));
        assert!(!same_trust_domain(
            &c,
            &Url::parse("https://evil.example.com/").unwrap()
        ));
        assert!(!same_trust_domain(
            &c,
            &Url::parse("https://icloud.com.evil.net/").unwrap()
        ));
        let cn = Url::parse("https://caldav.icloud.com.cn/").unwrap();
        assert!(same_trust_domain(
            &cn,
            &Url::parse("https://p12-caldav.icloud.com.cn/").unwrap()
        ));
        let l = Url::parse("http://127.0.0.1:5232/").unwrap();
        assert!(same_trust_domain(
            &l,
            &Url::parse("http://127.0.0.1:6000/").unwrap()
        ));
        assert!(!same_trust_domain(
            &l,
            &Url::parse("http://example.com/").unwrap()
        ));
    }

    #[test]
    fn icloud_1_4_dsid_comes_from_the_path_not_the_host() {
        let u = Url::parse("https://p62-caldav.icloud.com:443/17149682/calendars/").unwrap();
        assert_eq!(numeric_first_segment(&u).as_deref(), Some("17149682"));
        assert_eq!(
            numeric_first_segment(&Url::parse("http://x/bench/").unwrap()),
            None
        );
    }
}
