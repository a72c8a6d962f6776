//! Case-insensitive member lookup, and where a resolved attribute lives in a resource.

use serde_json::{Map, Value};

use crate::schema::ResolvedAttribute;

/// The actual key of `obj` matching `name` case-insensitively (an exact match wins).
pub fn find_key<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
    if let Some((k, _)) = obj.get_key_value(name) {
        return Some(k.as_str());
    }
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

/// The member of `obj` called `name`, compared case-insensitively (an exact match wins).
pub fn get_attr<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Mutable access to the member of `obj` called `name`, compared case-insensitively.
pub fn get_attr_mut<'v>(obj: &'v mut Map<String, Value>, name: &str) -> Option<&'v mut Value> {
    let key = find_key(obj, name)?.to_owned();
    obj.get_mut(&key)
}

/// Removes the member called `name` (case-insensitively) and returns it.
pub fn remove_attr(obj: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(obj, name)?.to_owned();
    obj.remove(&key)
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
