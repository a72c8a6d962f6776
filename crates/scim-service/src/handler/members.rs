//! Memberships at scale: a group's members live in the store beside the group, so the
//! operations here read and write only the members they concern.
//!
//! * A user's DELETE removes its membership rows through the store's index by member
//!   ([`Transaction::remove_from_all_groups`]) and touches each of its groups' attributes
//!   (`meta.lastModified`, the version), not their member lists.
//! * A group PATCH whose member operations only add members or remove members named by
//!   `value` is applied to a *proxy* of the group: its attributes plus the stored members
//!   the operations name. The library's PATCH semantics run unchanged on the proxy; the
//!   difference between the proxy's members before and after is written as rows
//!   ([`Transaction::add_members`], [`Transaction::remove_members`]).
//! * Reads load members only when the response carries them, and never more than
//!   [`ScimSettings::max_inline_members`](super::ScimSettings::max_inline_members) for one
//!   group: a larger group is returned without `members`; a request that names `members`
//!   in `attributes` gets 400 `tooMany` (RFC 7644 §3.12).
//!
//! A group's version (ETag) is therefore kept in its stored `meta.version`: the content hash
//! of the whole group after a write that had it in memory, or the hash of the previous
//! version, the change and the time after an in-place member change. Groups stored before
//! this (no `meta.version`) get the hash of their attributes without members.

use std::collections::HashSet;

use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::filter::{CompValue, CompareOp, Filter};
use fedkit_scim::list::SearchRequest;
use fedkit_scim::patch::{self, PatchRequest};
use fedkit_scim::projection::Projection;
use fedkit_scim::resource::{get_attr, version_of};
use serde_json::{json, Map, Value};

use super::ops::{not_found, store_error, Ops, Tx, Written};
use crate::events::Event;
use crate::store::{drop_members, member_ids, member_value, ResourceKind};

/// The version of a stored group: its `meta.version`, or else the hash of its attributes
/// without `members` (the same whether or not the members were loaded).
pub(super) fn group_version(group: &Map<String, Value>) -> String {
    if let Some(v) = group
        .get("meta")
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str)
    {
        return v.to_owned();
    }
    let mut shallow = group.clone();
    if let Some(k) = fedkit_scim::resource::find_key(&shallow, "members").map(str::to_owned) {
        shallow.remove(&k);
    }
    version_of(&shallow)
}

fn set_version(resource: &mut Value, version: String) {
    if let Some(Value::Object(meta)) = resource.as_object_mut().and_then(|o| o.get_mut("meta")) {
        meta.insert("version".into(), Value::String(version));
    }
}

/// Stores the version of a whole group (members included) in its `meta.version`.
pub(super) fn seal(group: &mut Value) {
    if let Some(obj) = group.as_object_mut() {
        let version = version_of(obj);
        set_version(group, version);
    }
}

/// Takes a stored `meta.version` out (before comparing or rewriting a resource).
pub(super) fn unseal(resource: &mut Value) -> Option<String> {
    match resource.as_object_mut().and_then(|o| o.get_mut("meta")) {
        Some(Value::Object(meta)) => match meta.remove("version") {
            Some(Value::String(v)) => Some(v),
            _ => None,
        },
        _ => None,
    }
}

/// Puts back what [`unseal`] took.
pub(super) fn reseal(resource: &mut Value, version: Option<String>) {
    if let Some(v) = version {
        set_version(resource, v);
    }
}

/// The version after an in-place change: a hash of the previous version, the change and
/// the new `meta.lastModified`.
fn chained_version(previous: &str, change: &Value, group: &Value) -> String {
    let at = group.get("meta").and_then(|m| m.get("lastModified")).cloned();
    let link = json!({"previous": previous, "change": change, "at": at});
    link.as_object().map(version_of).unwrap_or_default()
}

/// Whether the filter or the sort of a group query reads `members`.
pub(super) fn mentions_members(filter: Option<&Filter>, search: &SearchRequest) -> bool {
    let f = filter.is_some_and(|f| f.to_string().to_ascii_lowercase().contains("members"));
    let s = search
        .sort
        .as_ref()
        .is_some_and(|s| s.by.name.eq_ignore_ascii_case("members"));
    f || s
}

/// A member-only probe group, to ask a projection what it keeps.
fn probe() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "p", "displayName": "p",
           "members": [{"value": "p"}]})
}

/// Whether a path (as sent in a PATCH operation) designates the group's `members`.
fn is_members_path(path: &str) -> bool {
    let lower = path.trim().to_ascii_lowercase();
    let lower = lower
        .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:")
        .unwrap_or(&lower);
    lower == "members" || lower.starts_with("members[") || lower.starts_with("members.")
}

/// The member `value` named by `members[value eq "…"]`, or `None` for any other path.
fn removed_by_filter(path: &str) -> Option<String> {
    let p = path.trim();
    let open = p.find('[')?;
    if !is_members_path(p) || !p.ends_with(']') || !p.get(..open)?.trim().eq_ignore_ascii_case("members") {
        return None;
    }
    match Filter::parse(p.get(open + 1..p.len() - 1)?).ok()? {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(v),
        } if path.urn.is_none() && path.sub_attr.is_none() && path.name.eq_ignore_ascii_case("value") => {
            Some(v)
        }
        _ => None,
    }
}

/// The member values a list of member objects names; `None` if one has no string `value`.
fn values_of(list: &Value) -> Option<Vec<String>> {
    let items: Vec<&Value> = match list {
        Value::Array(items) => items.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => return None,
    };
    items
        .into_iter()
        .map(|m| member_value(m).map(str::to_owned))
        .collect()
}

/// The member values a PATCH names when each of its operations on `members` is an add of
/// listed members or a remove of members named by value; `None` when one is not (a
/// `replace` of members, a remove of all members, a filter on another sub-attribute): that
/// PATCH needs the whole member list.
fn named_members(body: &Value) -> Option<Vec<String>> {
    let ops = body
        .as_object()
        .and_then(|o| get_attr(o, "Operations"))
        .and_then(Value::as_array)?;
    let mut named = Vec::new();
    for op in ops {
        let op = op.as_object()?;
        let kind = get_attr(op, "op")?.as_str()?.to_ascii_lowercase();
        let path = get_attr(op, "path").and_then(Value::as_str);
        let value = get_attr(op, "value").filter(|v| !v.is_null());
        match (kind.as_str(), path) {
            (_, Some(p)) if !is_members_path(p) => {}
            ("add", Some(p)) if p.trim().eq_ignore_ascii_case("members") => named.extend(values_of(value?)?),
            ("remove", Some(p)) if value.is_some() && p.trim().eq_ignore_ascii_case("members") => {
                named.extend(values_of(value?)?);
            }
            ("remove", Some(p)) if value.is_none() => named.push(removed_by_filter(p)?),
            (_, Some(_)) => return None,
            (k, None) => {
                let Some(Value::Object(attrs)) = value else {
                    return None;
                };
                let members = get_attr(attrs, "members");
                match (k, members) {
                    (_, None) => {}
                    ("add", Some(list)) => named.extend(values_of(list)?),
                    _ => return None,
                }
            }
        }
    }
    Some(named)
}

impl Ops<'_> {
    pub(super) fn member_cap(&self) -> usize {
        self.service.config.max_inline_members()
    }

    /// Whether `projection` keeps a group's `members`, and whether it names them explicitly.
    pub(super) fn members_wanted(&self, projection: &Projection) -> Result<(bool, bool), ScimError> {
        let out = projection.apply(&probe(), &self.schema(ResourceKind::Group)?);
        let keeps = out.get("members").is_some();
        Ok((keeps, keeps && out.get("displayName").is_none()))
    }

    pub(super) fn too_many(&self, id: &str, count: usize) -> ScimError {
        ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "group {id:?} has {count} members, more than the {} this service returns in one response; \
                 page them with GET /Users?filter=groups.value eq \"{id}\"&startIndex=1&count=100, or test \
                 one membership with GET /Groups?filter=id eq \"{id}\" and members.value eq \"<user id>\"\
                 &excludedAttributes=members",
                self.member_cap()
            ),
        )
    }

    /// A stored group as a read returns it: members loaded only when `projection` keeps
    /// them and there are at most the cap of them.
    pub(super) fn load_group(
        &self,
        tx: &mut Tx<'_>,
        id: &str,
        projection: &Projection,
    ) -> Result<Value, ScimError> {
        let (keeps, explicit) = self.members_wanted(projection)?;
        let mut shallow = tx
            .get_attributes(ResourceKind::Group, id)
            .map_err(store_error)?
            .ok_or_else(|| not_found(ResourceKind::Group, id))?;
        if keeps {
            let count = tx.member_count(id).map_err(store_error)?.unwrap_or_default();
            if count <= self.member_cap() {
                return tx
                    .get(ResourceKind::Group, id)
                    .map_err(store_error)?
                    .ok_or_else(|| not_found(ResourceKind::Group, id));
            }
            if explicit {
                return Err(self.too_many(id, count));
            }
        }
        drop_members(&mut shallow);
        Ok(shallow)
    }

    /// A group of a list page, rendered: `loaded` says whether it holds its members already.
    pub(super) fn page_group(
        &self,
        tx: &mut Tx<'_>,
        group: Value,
        projection: &Projection,
        loaded: bool,
    ) -> Result<Value, ScimError> {
        let id = group
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (keeps, explicit) = self.members_wanted(projection)?;
        let group = if loaded {
            let count = member_ids(&group).len();
            let mut group = group;
            if count > self.member_cap() {
                if keeps && explicit {
                    return Err(self.too_many(&id, count));
                }
                drop_members(&mut group);
            }
            group
        } else if keeps {
            self.load_group(tx, &id, projection)?
        } else {
            group
        };
        self.render_many(tx, ResourceKind::Group, vec![group])
            .map(|mut v| v.pop().unwrap_or(Value::Null))
    }

    /// Removes `member_id` from every group, touching each group's attributes (not its
    /// member list); returns the events.
    pub(super) fn remove_from_groups(
        &self,
        tx: &mut Tx<'_>,
        member_id: &str,
    ) -> Result<Vec<Event>, ScimError> {
        let groups = tx.remove_from_all_groups(member_id).map_err(store_error)?;
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let schema = self.schema(ResourceKind::Group)?;
        let ids: Vec<&str> = groups.iter().map(String::as_str).collect();
        let stored = tx
            .get_attributes_many(ResourceKind::Group, &ids)
            .map_err(store_error)?;
        let mut events = Vec::with_capacity(stored.len());
        let mut updated_all = Vec::with_capacity(stored.len());
        for mut group in stored {
            let previous = group.as_object().map(group_version).unwrap_or_default();
            unseal(&mut group);
            let mut updated = schema.finish_update(&group, group.clone(), &self.meta);
            let version = chained_version(&previous, &json!({"removed": member_id}), &updated);
            set_version(&mut updated, version);
            let gid = updated
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            events.push(Event::MembershipChanged {
                tenant: self.ctx.tenant.clone(),
                group_id: gid,
                added: Vec::new(),
                removed: vec![member_id.to_owned()],
            });
            updated_all.push(updated);
        }
        tx.update_attributes_many(ResourceKind::Group, &updated_all)
            .map_err(store_error)?;
        Ok(events)
    }

    /// A group PATCH applied without reading the whole member list, when its member
    /// operations allow (see the module docs); `None` when the PATCH needs the whole list.
    pub(super) fn patch_members_in_place(
        &self,
        id: &str,
        body: &Value,
        request: &PatchRequest,
        if_match: Option<&str>,
    ) -> Result<Option<Written>, ScimError> {
        let Some(named) = named_members(body) else {
            return Ok(None);
        };
        let kind = ResourceKind::Group;
        let schema = self.schema(kind)?;
        let mut tx = self.begin()?;
        let mut shallow = tx
            .get_attributes(kind, id)
            .map_err(store_error)?
            .ok_or_else(|| not_found(kind, id))?;
        self.check_if_match(&mut tx, kind, &shallow, if_match)?;
        let previous = shallow.as_object().map(group_version).unwrap_or_default();
        unseal(&mut shallow);
        // The proxy: the attributes and the stored members the operations name (compared
        // as the evaluator compares `members.value`: case-insensitively).
        let wanted: HashSet<String> = named.iter().map(|v| v.to_lowercase()).collect();
        let wanted_list: Vec<&str> = named.iter().map(String::as_str).collect();
        let present = tx.members_named(id, &wanted_list).map_err(store_error)?;
        let present: Vec<Value> = present
            .into_iter()
            .filter(|m| member_value(m).is_some_and(|v| wanted.contains(&v.to_lowercase())))
            .collect();
        let mut before = shallow.clone();
        if let Some(obj) = before.as_object_mut() {
            let mut list = match fedkit_scim::resource::find_key(obj, "members").map(str::to_owned) {
                Some(k) => match obj.remove(&k) {
                    Some(Value::Array(l)) => l,
                    _ => Vec::new(),
                },
                None => Vec::new(),
            };
            list.extend(present);
            if !list.is_empty() {
                obj.insert("members".into(), Value::Array(list));
            }
        }
        let mut working = before.clone();
        let outcome = patch::apply(
            &self.service.registry,
            kind.name(),
            &mut working,
            request,
            self.service.config.patch_options(),
        )?;
        if !outcome.changed {
            reseal(&mut shallow, Some(previous));
            let written = self.written_group(&mut tx, shallow)?;
            self.commit(tx, Vec::new())?;
            return Ok(Some(written));
        }
        let mut updated = schema.finish_update(&before, working, &self.meta);
        self.check_group(&mut tx, &mut updated, Some(&before))?;
        schema.validate_stored(&updated)?;
        let events = self.change_events(kind, id, Some(&before), Some(&updated));
        let before_ids: HashSet<&str> = member_ids(&before).into_iter().collect();
        let after_ids: HashSet<&str> = member_ids(&updated).into_iter().collect();
        let removed: Vec<&str> = before_ids.difference(&after_ids).copied().collect();
        let added: Vec<Value> = updated
            .as_object()
            .and_then(|o| get_attr(o, "members"))
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter(|m| member_value(m).is_some_and(|v| !before_ids.contains(v)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        tx.remove_members(id, &removed).map_err(store_error)?;
        tx.add_members(id, &added).map_err(store_error)?;
        let version = chained_version(&previous, body, &updated);
        set_version(&mut updated, version);
        tx.update_attributes(kind, &updated).map_err(store_error)?;
        // What the client gets back: the group as a read returns it (members up to the cap).
        let mut attrs = updated;
        drop_members(&mut attrs);
        let written = self.written_group(&mut tx, attrs)?;
        self.commit(tx, events)?;
        Ok(Some(written))
    }

    /// A group after an in-place write, with its members when there are at most the cap.
    fn written_group(&self, tx: &mut Tx<'_>, attrs: Value) -> Result<Written, ScimError> {
        let id = attrs
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let count = tx.member_count(&id).map_err(store_error)?.unwrap_or_default();
        let group = if self.members_in_response.get() && count <= self.member_cap() {
            tx.get(ResourceKind::Group, &id)
                .map_err(store_error)?
                .unwrap_or(attrs)
        } else {
            let mut attrs = attrs;
            drop_members(&mut attrs);
            attrs
        };
        self.written(tx, ResourceKind::Group, group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_members_recognizes_the_idp_forms() {
        let add = json!({"Operations": [{"op": "Add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]});
        assert_eq!(named_members(&add), Some(vec!["u1".to_owned(), "u2".to_owned()]));
        let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"u3\"]"}]});
        assert_eq!(named_members(&remove), Some(vec!["u3".to_owned()]));
        let remove_listed =
            json!({"Operations": [{"op": "Remove", "path": "members", "value": [{"value": "u4"}]}]});
        assert_eq!(named_members(&remove_listed), Some(vec!["u4".to_owned()]));
        let pathless = json!({"Operations": [{"op": "add", "value": {"members": [{"value": "u5"}], "displayName": "x"}}]});
        assert_eq!(named_members(&pathless), Some(vec!["u5".to_owned()]));
        let rename = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
        assert_eq!(named_members(&rename), Some(vec![]));
        // These need the whole member list.
        for whole in [
            json!({"Operations": [{"op": "replace", "path": "members", "value": [{"value": "u1"}]}]}),
            json!({"Operations": [{"op": "remove", "path": "members"}]}),
            json!({"Operations": [{"op": "remove", "path": "members[display eq \"x\"]"}]}),
            json!({"Operations": [{"op": "replace", "value": {"members": []}}]}),
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"display": "no value"}]}]}),
            json!({"Operations": [{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "x"}]}),
        ] {
            assert_eq!(named_members(&whole), None, "{whole}");
        }
    }
}
