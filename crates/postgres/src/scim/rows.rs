//! What the store writes for a resource and reads back: ids it can keep, documents in the
//! `body` (JSONB) or `body_json` (JSON) column, and the column arrays of resources and group
//! member rows about to be written.

use fedkit_scim_service::store::{user_name_key, ResourceKind, StoreError};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::pushdown::{self, cut, index_form, indexed_values, Indexed};
use super::MAX_ID_BYTES;

/// The `id` of a resource, if the store can keep it.
pub(crate) fn checked_id(resource: &Value) -> Result<&str, StoreError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| storable_id(id))
        .ok_or(StoreError::MalformedResource)
}

/// Ids are compared exactly, so they are stored as they are: no U+0000, bounded length.
pub(crate) fn storable_id(id: &str) -> bool {
    id.len() <= MAX_ID_BYTES && !id.contains('\0')
}

pub(crate) fn display_name(resource: &Value) -> Option<&str> {
    resource
        .as_object()
        .and_then(|o| fedkit_scim::resource::get_attr(o, "displayName"))
        .and_then(Value::as_str)
}

/// Whether any string or key of `v` holds U+0000 (which JSONB cannot store).
pub(crate) fn holds_nul(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                if s.contains('\0') {
                    return true;
                }
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(m) => {
                if m.keys().any(|k| k.contains('\0')) {
                    return true;
                }
                stack.extend(m.values());
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    false
}

/// The document from a row's `body` (JSONB) or `body_json` (JSON) column.
pub(crate) fn body_of(kind: ResourceKind, row: &postgres::Row, first: usize) -> Result<Value, StoreError> {
    let broken = |e: postgres::Error| StoreError::Backend {
        detail: format!(
            "a stored {} cannot be read ({e}); was the database changed outside fedkit?",
            kind.name()
        ),
    };
    let body: Option<Value> = row.try_get(first).map_err(broken)?;
    let raw: Option<Value> = row.try_get(first + 1).map_err(broken)?;
    body.or(raw).ok_or_else(|| StoreError::Backend {
        detail: format!(
            "a stored {} has no body; was the database changed outside fedkit?",
            kind.name()
        ),
    })
}

/// The column values of resources about to be written, as arrays for `unnest`.
#[derive(Default)]
pub(crate) struct Rows<'v> {
    pub(crate) ids: Vec<&'v str>,
    pub(crate) user_names: Vec<Option<Vec<u8>>>,
    pub(crate) displays: Vec<Option<String>>,
    pub(crate) bodies: Vec<Option<&'v Value>>,
    pub(crate) raw_bodies: Vec<Option<&'v Value>>,
    pub(crate) value_ids: Vec<&'v str>,
    pub(crate) value_attrs: Vec<i16>,
    pub(crate) values: Vec<Option<String>>,
    pub(crate) value_cuts: Vec<bool>,
    pub(crate) member_counts: Vec<i64>,
}

/// Member rows about to be written, as arrays for `unnest`.
#[derive(Default)]
pub(crate) struct MemberRows {
    /// The group's id (to join with the inserted resources).
    pub(crate) group_ids: Vec<String>,
    pub(crate) keys: Vec<Vec<u8>>,
    pub(crate) vs: Vec<String>,
    pub(crate) cuts: Vec<bool>,
    pub(crate) bodies: Vec<Option<Value>>,
    pub(crate) raw_bodies: Vec<Option<Value>>,
    /// The member ids, for the caller.
    pub(crate) ids: Vec<String>,
}

impl MemberRows {
    pub(crate) fn push(&mut self, group_id: &str, id: &str, member: &Value) {
        let full = index_form(&Indexed::MemberValue.normalize(id));
        let (kept, was_cut) = cut(&full);
        self.group_ids.push(group_id.to_owned());
        self.keys.push(member_key(id));
        self.vs.push(kept.to_owned());
        self.cuts.push(was_cut);
        if holds_nul(member) {
            self.bodies.push(None);
            self.raw_bodies.push(Some(member.clone()));
        } else {
            self.bodies.push(Some(member.clone()));
            self.raw_bodies.push(None);
        }
        self.ids.push(id.to_owned());
    }
}

/// The key of a member id: its SHA-256 (so an id of any length and content fits the index).
pub(crate) fn member_key(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// A member row's object from its `member` (JSONB) or `member_json` (JSON) column.
pub(crate) fn member_of_row(row: &postgres::Row, first: usize) -> Result<Value, StoreError> {
    let broken = |e: postgres::Error| StoreError::Backend {
        detail: format!(
            "a stored group member cannot be read ({e}); was the database changed outside fedkit?"
        ),
    };
    let body: Option<Value> = row.try_get(first).map_err(broken)?;
    let raw: Option<Value> = row.try_get(first + 1).map_err(broken)?;
    body.or(raw).ok_or_else(|| StoreError::Backend {
        detail: "a stored group member has no value; was the database changed outside fedkit?".into(),
    })
}

impl<'v> Rows<'v> {
    pub(crate) fn build(kind: ResourceKind, resources: &'v [Value]) -> Result<Self, StoreError> {
        let mut rows = Rows::default();
        for r in resources {
            let id = checked_id(r)?;
            rows.ids.push(id);
            rows.user_names.push(match kind {
                ResourceKind::User => user_name_key(r).map(String::into_bytes),
                _ => None,
            });
            rows.displays.push(display_name(r).map(index_form));
            if holds_nul(r) {
                rows.bodies.push(None);
                rows.raw_bodies.push(Some(r));
            } else {
                rows.bodies.push(Some(r));
                rows.raw_bodies.push(None);
            }
            for row in indexed_values(kind, r) {
                rows.value_ids.push(id);
                rows.value_attrs.push(pushdown::code(row.attr));
                rows.values.push(row.value);
                rows.value_cuts.push(row.cut);
            }
            rows.member_counts.push(0);
        }
        Ok(rows)
    }
}
