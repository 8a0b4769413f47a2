//! docs/icloud.md §3.1–§3.2: sync-collection.

use std::collections::BTreeSet;

use crate::client::*;
use icloud_sim::Scenario;

struct SyncAnswer {
    status: u16,
    changed: BTreeSet<String>,
    deleted: BTreeSet<String>,
    collection_etag: Option<String>,
    token: String,
    body: String,
}

async fn sync(base: &str, slug: &str, token: &str) -> SyncAnswer {
    let r = dav(
        base,
        "REPORT",
        &cal_path(slug),
        Some("0"),
        &sync_body(token),
    )
    .await;
    let mut a = SyncAnswer {
        status: r.status,
        changed: BTreeSet::new(),
        deleted: BTreeSet::new(),
        collection_etag: None,
        token: between(&r.text(), "<sync-token>", "</sync-token>")
            .unwrap_or("")
            .to_owned(),
        body: r.text(),
    };
    for resp in r.responses() {
        let href = between(&resp, "<href>", "</href>").unwrap().to_owned();
        if href.ends_with('/') {
            a.collection_etag = between(&resp, "<getetag>", "</getetag>").map(str::to_owned);
        } else if resp.contains("<propstat>") {
            a.changed.insert(href);
        } else {
            assert!(
                resp.contains("<status>HTTP/1.1 404 Not Found</status>"),
                "{resp}"
            );
            a.deleted.insert(href);
        }
    }
    a
}

#[tokio::test]
async fn initial_sync_lists_every_object_and_the_collection_itself() {
    let sim = start().await;
    let a = sync(&sim.partition_url(), "home", "").await;
    assert_eq!(a.status, 207);
    let expected: BTreeSet<String> = sim
        .objects("home")
        .into_iter()
        .map(|(h, _, _)| listed(&h))
        .collect();
    assert_eq!(a.changed, expected);
    assert!(
        a.collection_etag.is_some(),
        "QUIRK §3.1: the collection appears with an etag"
    );
    assert!(a.token.starts_with("HwoQEgwAAAh4"));
    assert!(
        a.body.contains("%40"),
        "some hrefs are served with %40 (§1.5)"
    );
    assert_eq!(sim.stats().sync_collection, 1);
}

#[tokio::test]
async fn incremental_sync_reports_exactly_the_added_modified_and_deleted_objects() {
    let sim = start().await;
    let base = sim.partition_url();
    let first = sync(&base, "home", "").await;
    let none = sync(&base, "home", &first.token).await;
    assert_eq!(none.status, 207);
    assert!(none.changed.is_empty() && none.deleted.is_empty());

    let old_etags: Vec<String> = sim
        .objects("home")
        .into_iter()
        .map(|(_, e, _)| e)
        .take(2)
        .collect();
    let deleted = sim.delete_events("home", 1);
    let modified = sim.modify_events("home", 2);
    let added = sim.add_events("home", 3);
    assert_eq!((deleted.len(), modified.len(), added.len()), (1, 2, 3));
    let new_etags: Vec<String> = sim
        .objects("home")
        .into_iter()
        .map(|(_, e, _)| e)
        .take(2)
        .collect();
    assert_ne!(old_etags, new_etags);

    let next = sync(&base, "home", &first.token).await;
    assert_eq!(next.status, 207);
    let want: BTreeSet<String> = modified.iter().chain(&added).map(|h| listed(h)).collect();
    assert_eq!(next.changed, want);
    assert_eq!(next.deleted, deleted.iter().map(|h| listed(h)).collect());
    assert_ne!(next.token, first.token);
    assert_ne!(next.collection_etag, first.collection_etag);

    let after = sync(&base, "home", &next.token).await;
    assert!(after.changed.is_empty() && after.deleted.is_empty());
}

#[tokio::test]
async fn ctag_changes_on_every_change() {
    let sim = start().await;
    let body = r#"<propfind xmlns="DAV:"><prop><getctag xmlns="http://calendarserver.org/ns/"/></prop></propfind>"#;
    let ctag = || async {
        let r = dav(
            &sim.partition_url(),
            "PROPFIND",
            &cal_path("work"),
            Some("0"),
            body,
        )
        .await;
        between(&r.text(), "http://calendarserver.org/ns/\">", "</getctag>")
            .unwrap()
            .to_owned()
    };
    let a = ctag().await;
    sim.modify_events("work", 1);
    let b = ctag().await;
    sim.delete_events("work", 1);
    let c = ctag().await;
    assert!(a != b && b != c && a != c);
}

#[tokio::test]
async fn expired_token_is_a_403_with_valid_sync_token_and_a_tokenless_sync_still_works() {
    let sim = start().await;
    let base = sim.partition_url();
    let first = sync(&base, "work", "").await;
    sim.expire_sync_tokens();
    let r = sync(&base, "work", &first.token).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<D:valid-sync-token/>"), "{}", r.body);
    let fresh = sync(&base, "work", "").await;
    assert_eq!(fresh.status, 207);
    assert_eq!(fresh.changed.len(), 25);
    assert_eq!(sync(&base, "work", &fresh.token).await.status, 207);
}

#[tokio::test]
async fn garbage_or_foreign_tokens_are_rejected() {
    let sim = start().await;
    let base = sim.partition_url();
    let work = sync(&base, "work", "").await;
    assert_eq!(
        sync(&base, "home", &work.token).await.status,
        403,
        "a token of another calendar"
    );
    assert_eq!(
        sync(&base, "home", "http://example.com/sync/1")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn token_expired_scenario_uses_the_configured_status_only_for_token_carrying_syncs() {
    let sim = start().await;
    let base = sim.partition_url();
    let first = sync(&base, "home", "").await;
    for status in [403, 409, 410, 412] {
        sim.set_scenario(Scenario::TokenExpired3_2 { status });
        let r = sync(&base, "home", &first.token).await;
        assert_eq!(r.status, status);
        assert!(r.body.contains("valid-sync-token"));
        assert_eq!(sync(&base, "home", "").await.status, 207);
    }
}
