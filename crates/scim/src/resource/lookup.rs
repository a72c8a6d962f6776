//! Case-insensitive member lookup, and where a resolved attribute lives in a resource.

use serde_json::{Map, Value};

use crate::schema::ResolvedAttribute;

/// Objects up to this many members are searched by [`find_entry`] in one pass.
const SCAN_MAX: usize = 32;

/// The member of `obj` whose name is `name` (attribute names are case-insensitive, RFC 7643
/// §2.1): the exact spelling if present, else the first whose name equals `name` ignoring
/// ASCII case. The one case-insensitive lookup of fedkit-scim: [`find_key`] and [`get_attr`]
/// are built on it, and every crate of the workspace uses those two.
///
/// Resources and their elements are small objects whose key texts live behind pointers, so
/// for those one pass compares the lengths stored inline first and reads the text of
/// same-length keys only (the scan is memory-bound: a filter over many resources, or a PATCH
/// over 100 000 group members, spends its time waiting for key texts). A larger object is
/// searched exactly first (its B-tree), then scanned.
pub(crate) fn find_entry<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<(&'v String, &'v Value)> {
    if obj.len() > SCAN_MAX {
        return obj
            .get_key_value(name)
            .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)));
    }
    let mut folded = None;
    for (k, v) in obj {
        if k.len() != name.len() {
            continue;
        }
        if k == name {
            return Some((k, v));
        }
        if folded.is_none() && k.eq_ignore_ascii_case(name) {
            folded = Some((k, v));
        }
    }
    folded
}

/// The actual key of `obj` matching `name` case-insensitively (an exact match wins).
///
/// ```
/// use fedkit_scim::resource::find_key;
/// let obj = serde_json::json!({"userName": "bjensen", "USERNAME": "other"});
/// let obj = obj.as_object().unwrap();
/// assert_eq!(find_key(obj, "USERNAME"), Some("USERNAME"));
/// assert_eq!(find_key(obj, "username"), Some("USERNAME")); // first in key order
/// assert_eq!(find_key(obj, "displayName"), None);
/// ```
pub fn find_key<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
    find_entry(obj, name).map(|(k, _)| k.as_str())
}

/// The member of `obj` called `name`, compared case-insensitively (an exact match wins).
///
/// ```
/// use fedkit_scim::resource::get_attr;
/// let obj = serde_json::json!({"userName": "bjensen"});
/// assert_eq!(get_attr(obj.as_object().unwrap(), "USERNAME"), Some(&"bjensen".into()));
/// ```
pub fn get_attr<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    find_entry(obj, name).map(|(_, v)| v)
}

/// The object holding a resolved attribute in a resource: the resource itself for core and
/// common attributes, the extension object (`resource["urn:…:enterprise:2.0:User"]`) for
/// extension attributes. `None` when the extension object is absent or not an object.
pub fn attribute_container<'v>(
    resource: &'v Map<String, Value>,
    resolved: &ResolvedAttribute<'_>,
) -> Option<&'v Map<String, Value>> {
    if resolved.extension {
        get_attr(resource, resolved.schema)?.as_object()
    } else {
        Some(resource)
    }
}

/// Mutable [`attribute_container`]; with `create`, an absent extension object is created
/// (under the canonical URN). `None` when the extension member exists but is not an object.
pub fn attribute_container_mut<'v>(
    resource: &'v mut Map<String, Value>,
    resolved: &ResolvedAttribute<'_>,
    create: bool,
) -> Option<&'v mut Map<String, Value>> {
    if !resolved.extension {
        return Some(resource);
    }
    let key = match find_key(resource, resolved.schema) {
        Some(k) => k.to_owned(),
        None if create => {
            resource.insert(resolved.schema.to_owned(), Value::Object(Map::new()));
            resolved.schema.to_owned()
        }
        None => return None,
    };
    resource.get_mut(&key)?.as_object_mut()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{get_attr, SCAN_MAX};
    use serde_json::{json, Map, Value};

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn get_ci_prefers_the_exact_spelling_then_the_first_case_insensitive_match() {
        let m = obj(json!({"EMAILS": 1, "Emails": 2, "emails": 3, "email": 4, "emailsX": 5}));
        assert_eq!(get_attr(&m, "emails"), Some(&json!(3)));
        assert_eq!(get_attr(&m, "Emails"), Some(&json!(2)));
        // No exact spelling: the first in the map's order ("EMAILS" < "Emails" in a BTreeMap).
        assert_eq!(get_attr(&m, "eMails"), Some(&json!(1)));
        assert_eq!(get_attr(&m, "emai"), None);
        assert_eq!(get_attr(&m, "emailsx"), Some(&json!(5)));
        assert_eq!(get_attr(&m, ""), None);
    }

    #[test]
    fn get_ci_on_large_objects_gives_the_same_answers() {
        let mut m = obj(json!({"EMAILS": 1, "Emails": 2, "emails": 3}));
        for i in 0..SCAN_MAX {
            m.insert(format!("pad{i:02}"), json!(i));
        }
        assert!(m.len() > SCAN_MAX);
        assert_eq!(get_attr(&m, "emails"), Some(&json!(3)));
        assert_eq!(get_attr(&m, "Emails"), Some(&json!(2)));
        assert_eq!(get_attr(&m, "eMails"), Some(&json!(1)));
        assert_eq!(get_attr(&m, "PAD07"), Some(&json!(7)));
        assert_eq!(get_attr(&m, "title"), None);
    }
}
