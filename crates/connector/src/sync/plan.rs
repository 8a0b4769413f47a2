//! The planner: what to fetch and what to delete, from a listing and what the cache holds. Pure, so
//! docs/design.md rule 3 (a failed listing never deletes; mass drops need a second listing) is unit-tested.

use std::collections::{BTreeSet, HashMap};

/// A listing of a calendar.
#[derive(Debug, Clone)]
pub enum Listing {
    /// A complete listing (token-less sync-collection or Depth-1 etag PROPFIND): href → etag.
    Full(HashMap<String, Option<String>>),
    /// Changes since a token.
    Incremental {
        /// Changed or new: href → etag.
        changed: HashMap<String, Option<String>>,
        /// Deleted hrefs.
        deleted: BTreeSet<String>,
    },
}

/// What a pass will do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Hrefs to fetch (sorted, so batches are deterministic).
    pub fetch: Vec<String>,
    /// Hrefs to delete from the cache.
    pub delete: Vec<String>,
}

impl Plan {
    /// Builds the plan. `cached` and `quarantined` map href → etag.
    pub fn build(
        listing: &Listing,
        cached: &HashMap<String, Option<String>>,
        quarantined: &HashMap<String, Option<String>>,
    ) -> Plan {
        let known = |href: &str, etag: &Option<String>| {
            // An object is up to date when we hold this very version, parsed or quarantined (a
            // quarantined version is retried only when its etag changes, rule 4). A listing without
            // etags can't prove anything: fetch.
            etag.is_some()
                && (cached.get(href) == Some(etag) || quarantined.get(href) == Some(etag))
        };
        let mut plan = Plan::default();
        match listing {
            Listing::Full(items) => {
                for (h, e) in items {
                    if !known(h, e) {
                        plan.fetch.push(h.clone());
                    }
                }
                // An href can be both cached and quarantined (an old good version kept while a
                // newer one is quarantined): collect into a set so it is deleted once, in O(n).
                let gone: BTreeSet<&String> = cached
                    .keys()
                    .chain(quarantined.keys())
                    .filter(|h| !items.contains_key(*h))
                    .collect();
                plan.delete.extend(gone.into_iter().cloned());
            }
            Listing::Incremental { changed, deleted } => {
                for (h, e) in changed {
                    if !known(h, e) {
                        plan.fetch.push(h.clone());
                    }
                }
                for h in deleted {
                    if (cached.contains_key(h) || quarantined.contains_key(h))
                        && !changed.contains_key(h)
                    {
                        plan.delete.push(h.clone());
                    }
                }
            }
        }
        plan.fetch.sort();
        plan.delete.sort();
        plan
    }

    /// Rule 3: dropping more than half of a calendar in one pass needs a second listing that agrees.
    pub fn is_mass_deletion(&self, cached_count: usize) -> bool {
        cached_count >= 2 && self.delete.len() * 2 > cached_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(items: &[(&str, &str)]) -> HashMap<String, Option<String>> {
        items
            .iter()
            .map(|(h, e)| (h.to_string(), Some(e.to_string())))
            .collect()
    }

    #[test]
    fn full_listing_fetches_changed_and_deletes_missing() {
        let cached = m(&[("/a", "1"), ("/b", "1"), ("/c", "1")]);
        let listing = Listing::Full(m(&[("/a", "1"), ("/b", "2"), ("/d", "1")]));
        let p = Plan::build(&listing, &cached, &HashMap::new());
        assert_eq!(p.fetch, vec!["/b", "/d"]);
        assert_eq!(p.delete, vec!["/c"]);
        assert!(!p.is_mass_deletion(3));
    }

    #[test]
    fn quarantined_version_is_not_refetched_until_its_etag_changes() {
        let q = m(&[("/bad", "7")]);
        let p = Plan::build(&Listing::Full(m(&[("/bad", "7")])), &HashMap::new(), &q);
        assert!(p.fetch.is_empty() && p.delete.is_empty());
        let p = Plan::build(&Listing::Full(m(&[("/bad", "8")])), &HashMap::new(), &q);
        assert_eq!(p.fetch, vec!["/bad"]);
    }

    #[test]
    fn already_committed_batches_are_not_refetched_after_a_crash() {
        // The token was not stored, so the same changes come again; what a committed batch stored is
        // skipped by etag.
        let cached = m(&[("/a", "1"), ("/b", "1")]);
        let listing = Listing::Incremental {
            changed: m(&[("/a", "1"), ("/b", "1"), ("/c", "1")]),
            deleted: BTreeSet::new(),
        };
        assert_eq!(
            Plan::build(&listing, &cached, &HashMap::new()).fetch,
            vec!["/c"]
        );
    }

    #[test]
    fn dropping_more_than_half_is_a_mass_deletion() {
        let cached = m(&[("/a", "1"), ("/b", "1"), ("/c", "1")]);
        let p = Plan::build(&Listing::Full(m(&[("/a", "1")])), &cached, &HashMap::new());
        assert!(p.is_mass_deletion(3));
    }

    #[test]
    fn listing_without_etag_fetches() {
        let cached = m(&[("/a", "1")]);
        let mut l = HashMap::new();
        l.insert("/a".to_string(), None);
        assert_eq!(
            Plan::build(&Listing::Full(l), &cached, &HashMap::new()).fetch,
            vec!["/a"]
        );
    }
}
