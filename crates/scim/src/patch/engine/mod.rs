//! Applies parsed operations to a resource, recording every change in a [`Journal`] so a
//! failure restores the resource exactly.
//!
//! This module holds the [`Engine`] state, the journaled primitives every change goes through
//! and the mutability checks; each kind of operation lives in its own file:
//!
//! * `path`: the entry point, dispatching an operation and resolving its path;
//! * `extension`: a path naming a whole extension schema;
//! * `container`: the object an attribute lives in, and `schemas` kept in step with it;
//! * `attribute`: add/replace/remove on an attribute or sub-attribute without a filter;
//! * `multi`: multi-valued attributes (duplicates, replacing, removing, `primary`);
//! * `filtered`: value filters (`emails[type eq "work"].value`).

mod attribute;
mod container;
mod extension;
mod filtered;
mod multi;
mod path;

use serde_json::Value;

use super::error::PatchErrorKind as K;
use super::journal::{Journal, Loc, NoContainer, Step};
use super::value::Normalizer;
use super::PatchOptions;
use crate::schema::{AttributeDef, Mutability, ResourceType, SchemaRegistry};

type R<T = ()> = Result<T, K>;

/// Where an attribute lives and what defines it.
#[derive(Clone, Copy)]
struct Attr<'r> {
    /// The extension schema URN (canonical) when the attribute lives under it.
    ext: Option<&'r str>,
    def: &'r AttributeDef,
}

impl Attr<'_> {
    fn label(&self) -> String {
        match self.ext {
            Some(urn) => format!("{urn}:{}", self.def.name),
            None => self.def.name.clone(),
        }
    }

    fn sub_label(&self, sub: &AttributeDef) -> String {
        format!("{}.{}", self.label(), sub.name)
    }
}

pub(super) struct Engine<'r, 'o> {
    registry: &'r SchemaRegistry,
    rt: &'r ResourceType,
    opts: &'o PatchOptions,
    norm: Normalizer<'o>,
    pub(super) journal: Journal,
    /// Top-level attributes changed so far, labels in order of first change.
    pub(super) changed: Vec<String>,
    /// The attribute the current primitive belongs to, for `changed`.
    current: String,
}

fn malformed(attribute: &str, reason: &'static str) -> K {
    K::MalformedResource {
        attribute: attribute.to_owned(),
        reason,
    }
}

fn mutability_error(label: String, mutability: Mutability, action: &'static str) -> K {
    K::Mutability {
        attribute: label,
        mutability,
        action,
    }
}

/// Whether writing `new` over `current` is allowed for an attribute with this mutability
/// (RFC 7644 §3.5.2: readOnly never changes; immutable may be set once, when unassigned).
/// Equal values are not a modification.
fn check_write(
    def: &AttributeDef,
    label: impl FnOnce() -> String,
    current: Option<&Value>,
    new: Option<&Value>,
) -> R {
    if current == new {
        return Ok(());
    }
    let action = if new.is_some() { "modified" } else { "removed" };
    match def.mutability {
        Mutability::ReadOnly => Err(mutability_error(label(), Mutability::ReadOnly, action)),
        Mutability::Immutable if current.is_some_and(is_assigned) => {
            Err(mutability_error(label(), Mutability::Immutable, action))
        }
        _ => Ok(()),
    }
}

/// A sub-attribute changes: the complex attribute holding it must allow that (readOnly
/// never; immutable only while it has no value).
fn check_parent(attr: Attr<'_>, parent_assigned: bool) -> R {
    match attr.def.mutability {
        Mutability::ReadOnly => Err(mutability_error(attr.label(), Mutability::ReadOnly, "modified")),
        Mutability::Immutable if parent_assigned => {
            Err(mutability_error(attr.label(), Mutability::Immutable, "modified"))
        }
        _ => Ok(()),
    }
}

/// Whether a stored value counts as assigned (RFC 7643 §2.5: null and `[]` are unassigned).
fn is_assigned(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

fn child(loc: &[Step], key: &str) -> Loc {
    let mut l = loc.to_vec();
    l.push(Step::Key(key.to_owned()));
    l
}

fn index(loc: &[Step], i: usize) -> Loc {
    let mut l = loc.to_vec();
    l.push(Step::Index(i));
    l
}

impl From<NoContainer> for K {
    fn from(_: NoContainer) -> Self {
        malformed(
            "(resource)",
            "a container the operation writes to is missing or has the wrong type",
        )
    }
}

impl<'r, 'o> Engine<'r, 'o> {
    pub(super) fn new(registry: &'r SchemaRegistry, rt: &'r ResourceType, opts: &'o PatchOptions) -> Self {
        Self {
            registry,
            rt,
            opts,
            norm: Normalizer { opts },
            journal: Journal::default(),
            changed: Vec::new(),
            current: String::new(),
        }
    }

    fn note_change(&mut self) {
        if !self.changed.iter().any(|c| c == &self.current) {
            self.changed.push(self.current.clone());
        }
    }

    // ---- journaled primitives -------------------------------------------------------

    fn set(&mut self, root: &mut Value, at: &[Step], key: &str, v: Value) -> R<bool> {
        let changed = self.journal.set(root, at, key, v)?;
        if changed {
            self.note_change();
        }
        Ok(changed)
    }

    fn remove_key(&mut self, root: &mut Value, at: &[Step], key: &str) -> R<bool> {
        let changed = self.journal.remove(root, at, key)?;
        if changed {
            self.note_change();
        }
        Ok(changed)
    }

    fn push(&mut self, root: &mut Value, at: &[Step], v: Value) -> R {
        self.journal.push(root, at, v)?;
        self.note_change();
        Ok(())
    }

    fn remove_indices(&mut self, root: &mut Value, at: &[Step], indices: &[usize]) -> R {
        if !indices.is_empty() {
            self.journal.remove_indices(root, at, indices)?;
            self.note_change();
        }
        Ok(())
    }
}
