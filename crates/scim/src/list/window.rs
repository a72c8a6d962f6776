//! [`PageWindow`]: one page cut from a stream of resources without holding the stream.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde_json::Value;

use super::{resolve_sort, sort_key, Key, SortOrder, SortSpec, SortTarget};
use crate::resource::ResourceSchema;

/// One page of a result list, cut while the matches stream past: the resources are offered
/// one at a time ([`PageWindow::push`]) in creation order, and the window keeps only what
/// the page can still need, with a payload of the caller's choice for each (the resource
/// itself, or just its id to fetch again afterwards).
///
/// Without a sort it keeps the page's own entries: memory follows `count`, never the number
/// of matches. With a sort it keeps the best `start + count` so far (the entries before the
/// page decide which come on it): memory follows the page's end, `startIndex + count`, and
/// never exceeds the number of matches. The order is [`sort_resources`](super::sort_resources)'s
/// (resources without a value last in both directions, ties in the order offered), so a
/// window gives the same page as sorting every match and slicing.
///
/// ```
/// use fedkit_scim::filter::AttrPath;
/// use fedkit_scim::list::{PageWindow, SortOrder, SortSpec};
/// use fedkit_scim::resource::ResourceSchema;
/// use fedkit_scim::schema::SchemaRegistry;
/// use serde_json::json;
///
/// let registry = SchemaRegistry::core();
/// let users = ResourceSchema::new(&registry, "User").unwrap();
/// let sort = SortSpec { by: AttrPath::new("userName"), order: SortOrder::Ascending };
/// // The second page of two: entries 3 and 4 in userName order.
/// let mut window = PageWindow::new(Some(&sort), &users, 2, 2);
/// for (id, name) in [("1", "erin"), ("2", "Bob"), ("3", "dave"), ("4", "alice"), ("5", "carol")] {
///     let user = json!({"id": id, "userName": name});
///     window.push(&user, id);
/// }
/// assert_eq!(window.finish(), (5, vec!["5", "3"]));
/// ```
pub struct PageWindow<'r, T> {
    target: Option<SortTarget<'r>>,
    order: SortOrder,
    start: usize,
    count: usize,
    offered: usize,
    /// Unsorted: the page's entries, in order.
    kept: Vec<T>,
    /// Sorted: the best `start + count` entries so far, the worst on top.
    best: BinaryHeap<Ranked<T>>,
}

impl<T> std::fmt::Debug for PageWindow<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageWindow")
            .field("sorted", &self.target.is_some())
            .field("start", &self.start)
            .field("count", &self.count)
            .field("offered", &self.offered)
            .finish_non_exhaustive()
    }
}

impl<'r, T> PageWindow<'r, T> {
    /// A window over the 0-based entries `start .. start + count` of the result list,
    /// sorted by `sort` (an attribute `schema` does not define leaves the order of offer,
    /// as [`sort_resources`](super::sort_resources) does).
    pub fn new(sort: Option<&SortSpec>, schema: &ResourceSchema<'r>, start: usize, count: usize) -> Self {
        Self {
            target: sort.and_then(|s| resolve_sort(schema, &s.by)),
            order: sort.map(|s| s.order).unwrap_or_default(),
            start,
            count,
            offered: 0,
            kept: Vec::new(),
            best: BinaryHeap::new(),
        }
    }

    /// Offers the next matching resource, with what to keep of it should it be on the page.
    pub fn push(&mut self, resource: &Value, payload: T) {
        let position = self.offered;
        self.offered += 1;
        let end = self.start.saturating_add(self.count);
        let Some(target) = &self.target else {
            if (self.start..end).contains(&position) {
                self.kept.push(payload);
            }
            return;
        };
        if self.count == 0 {
            // An empty page needs nothing kept, only the count.
            return;
        }
        let entry = Ranked {
            key: sort_key(target, resource),
            position,
            descending: self.order == SortOrder::Descending,
            payload,
        };
        if self.best.len() < end {
            self.best.push(entry);
        } else if self.best.peek().is_some_and(|worst| entry < *worst) {
            self.best.pop();
            self.best.push(entry);
        }
    }

    /// How many resources were offered so far (`totalResults` once all are).
    pub fn total(&self) -> usize {
        self.offered
    }

    /// `totalResults` and the page's payloads, in order.
    pub fn finish(self) -> (usize, Vec<T>) {
        let page = if self.target.is_some() {
            self.best
                .into_sorted_vec()
                .into_iter()
                .skip(self.start)
                .map(|r| r.payload)
                .collect()
        } else {
            self.kept
        };
        (self.offered, page)
    }
}

/// An entry of a sorted window, ordered as the page lists them (best first).
struct Ranked<T> {
    key: Option<Key>,
    position: usize,
    descending: bool,
    payload: T,
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_key = match (&self.key, &other.key) {
            (Some(a), Some(b)) if self.descending => b.cmp(a),
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_key.then(self.position.cmp(&other.position))
    }
}

impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T> Eq for Ranked<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::AttrPath;
    use crate::list::{sort_resources, Pagination};
    use crate::schema::SchemaRegistry;
    use proptest::prelude::*;
    use serde_json::json;

    fn user(i: usize, name: Option<&str>, age: Option<i64>) -> Value {
        let mut u = json!({"id": i.to_string(), "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]});
        if let Some(n) = name {
            u["userName"] = json!(n);
        }
        if let Some(a) = age {
            u["name"] = json!({"familyName": format!("f{a:03}")});
            u["active"] = json!(a % 2 == 0);
        }
        u
    }

    proptest! {
        /// A window gives exactly the page that sorting every match and slicing gives, for
        /// every sort (or none), direction, start and count, ties and missing values included.
        #[test]
        fn a_window_is_the_slice_of_the_sorted_list(
            entries in prop::collection::vec((prop::option::of("[a-cA-C]{0,2}"), prop::option::of(0i64..6)), 0..40),
            by in prop::sample::select(vec![None, Some("userName"), Some("name.familyName"), Some("active"), Some("nickName"), Some("noSuchAttribute")]),
            descending in any::<bool>(),
            start in 0usize..45,
            count in 0usize..12,
        ) {
            let registry = SchemaRegistry::core();
            let schema = ResourceSchema::new(&registry, "User").unwrap();
            let all: Vec<Value> = entries.iter().enumerate().map(|(i, (n, a))| user(i, n.as_deref(), *a)).collect();
            let sort = by.map(|b| SortSpec {
                by: match b.split_once('.') {
                    Some((a, sub)) => AttrPath::new(a).with_sub_attr(sub),
                    None => AttrPath::new(b),
                },
                order: if descending { SortOrder::Descending } else { SortOrder::Ascending },
            });
            let mut sorted = all.clone();
            if let Some(s) = &sort {
                sort_resources(&mut sorted, s, &schema);
            }
            let page = Pagination { start_index: start + 1, count };
            let expected: Vec<String> = sorted[page.range(sorted.len())].iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
            let mut window = PageWindow::new(sort.as_ref(), &schema, start, count);
            for u in &all {
                window.push(u, u["id"].as_str().unwrap().to_owned());
            }
            let (total, got) = window.finish();
            prop_assert_eq!(total, all.len());
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn an_unsorted_window_keeps_only_its_page() {
        let registry = SchemaRegistry::core();
        let schema = ResourceSchema::new(&registry, "User").unwrap();
        let mut window = PageWindow::new(None, &schema, 10, 3);
        for i in 0..1000 {
            window.push(&user(i, Some("x"), None), i);
            assert!(window.kept.len() <= 3);
        }
        assert_eq!(window.finish(), (1000, vec![10, 11, 12]));
    }

    #[test]
    fn a_sorted_window_keeps_at_most_the_end_of_its_page() {
        let registry = SchemaRegistry::core();
        let schema = ResourceSchema::new(&registry, "User").unwrap();
        let sort = SortSpec {
            by: AttrPath::new("userName"),
            order: SortOrder::Descending,
        };
        let mut window = PageWindow::new(Some(&sort), &schema, 5, 5);
        for i in 0..1000 {
            window.push(&user(i, Some(&format!("u{i:04}")), None), i);
            assert!(window.best.len() <= 10);
        }
        assert_eq!(window.finish(), (1000, vec![994, 993, 992, 991, 990]));
    }
}
