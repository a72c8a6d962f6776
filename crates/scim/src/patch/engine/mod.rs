//! Applies parsed operations to a resource, recording every change in a [`Journal`] so a
//! failure restores the resource exactly.

use serde_json::{Map, Value};

use super::error::{describe, PatchErrorKind as K};
use super::journal::{resolve, Journal, Loc, NoContainer, Step};
use super::value::{find_key, get_ci, known_subs, str_eq, truthy, Identity, Normalizer};
use super::{ParsedPath, PatchOpKind, PatchOperation, PatchOptions};
use crate::filter::{
    parse_path_with_limits, AttrPath, CompValue, CompareOp, CompiledFilter, EvalContext, Filter, PatchPath,
};
use crate::schema::{AttributeDef, AttributeType, Mutability, ResourceType, SchemaRegistry};

type R<T = ()> = Result<T, K>;

/// Above this many request values, duplicates are found through a hash index of the stored
/// values instead of a scan per request value.
const INDEX_THRESHOLD: usize = 8;

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

/// A value filter bound to one multi-valued attribute, evaluated element by element.
///
/// The filter evaluator works on resources, so each element is moved (not copied) into a
/// one-attribute wrapper resource, evaluated, and moved back.
struct ElementMatcher<'r> {
    compiled: CompiledFilter<'r>,
    wrapper: Value,
    ext: Option<&'r str>,
    name: &'r str,
}

impl<'r> ElementMatcher<'r> {
    fn new(
        registry: &'r SchemaRegistry,
        rt: &'r ResourceType,
        attr: Attr<'r>,
        filter: &Filter,
    ) -> Result<Self, crate::filter::FilterError> {
        let mut path = AttrPath::new(attr.def.name.clone());
        if let Some(urn) = attr.ext {
            path = path.with_urn(urn);
        }
        let f = Filter::value_path(path, filter.clone());
        let compiled = f.compile(&EvalContext::new(registry, rt.name.as_str()))?;
        let mut slot = Map::new();
        slot.insert(attr.def.name.clone(), Value::Null);
        let wrapper = match attr.ext {
            None => Value::Object(slot),
            Some(urn) => {
                let mut outer = Map::new();
                outer.insert(urn.to_owned(), Value::Object(slot));
                Value::Object(outer)
            }
        };
        Ok(Self {
            compiled,
            wrapper,
            ext: attr.ext,
            name: attr.def.name.as_str(),
        })
    }

    fn slot(&mut self) -> Option<&mut Value> {
        let container = match self.ext {
            None => &mut self.wrapper,
            Some(urn) => self.wrapper.as_object_mut()?.get_mut(urn)?,
        };
        container.as_object_mut()?.get_mut(self.name)
    }

    fn matches(&mut self, element: &mut Value) -> bool {
        let Some(slot) = self.slot() else {
            return false;
        };
        std::mem::swap(slot, element);
        let hit = self.compiled.matches(&self.wrapper);
        if let Some(slot) = self.slot() {
            std::mem::swap(slot, element);
        }
        hit
    }
}

/// The literal of a `value eq "literal"` filter on an attribute whose values are keyed by a
/// string `value` (`members`, `emails`, or a multi-valued string attribute), for the direct
/// comparison path of [`Engine::filtered_op`].
fn value_equality<'f>(def: &AttributeDef, f: &'f Filter) -> Option<&'f str> {
    let Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::String(literal),
    } = f
    else {
        return None;
    };
    if path.urn.is_some() || path.sub_attr.is_some() || !path.name.eq_ignore_ascii_case("value") {
        return None;
    }
    let value_def = if def.attr_type == AttributeType::Complex {
        def.find_sub_attribute("value")?
    } else {
        def
    };
    matches!(
        value_def.attr_type,
        AttributeType::String | AttributeType::Reference | AttributeType::Binary
    )
    .then_some(literal.as_str())
}

/// Describes an unmatched filter for a `noTarget` message: `has type "work"` for a single
/// equality, `matches [filter]` otherwise.
fn condition(filter: Option<&Filter>, sub: Option<&AttributeDef>) -> String {
    match filter {
        Some(Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        }) if path.urn.is_none() && path.sub_attr.is_none() => format!("has {} {value}", path.name),
        Some(f) => format!("matches [{f}]"),
        None => match sub {
            Some(s) => format!("exists to set {} on", s.name),
            None => "exists".to_owned(),
        },
    }
}

/// The element a value filter describes, for [`PatchOptions::create_on_unmatched_filter`]:
/// the filter must be `sub eq literal` conditions joined by `and`.
fn element_from_filter(f: &Filter, out: &mut Map<String, Value>) -> bool {
    match f {
        Filter::And(l, r) => element_from_filter(l, out) && element_from_filter(r, out),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub_attr.is_none() => {
            let v = match value {
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return false,
            };
            out.insert(path.name.clone(), v);
            true
        }
        _ => false,
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

    // ---- entry points -----------------------------------------------------------------

    pub(super) fn operation(&mut self, root: &mut Value, op: &PatchOperation) -> R {
        match &op.path {
            ParsedPath::None => match op.op {
                PatchOpKind::Remove => Err(K::RemoveWithoutPath),
                _ => self.pathless(root, op.op, op.value.as_ref().unwrap_or(&Value::Null)),
            },
            ParsedPath::Path(p) => self.with_path(root, op.op, p, op.value.as_ref()),
        }
    }

    /// The canonical URN when `text` names the resource type's core schema or one of its
    /// extensions (case-insensitive), and whether it is an extension.
    fn schema_urn(&self, text: &str) -> Option<(&'r str, bool)> {
        if self.rt.schema.eq_ignore_ascii_case(text) {
            return Some((self.rt.schema.as_str(), false));
        }
        self.rt
            .schema_extensions
            .iter()
            .find(|e| e.schema.eq_ignore_ascii_case(text))
            .map(|e| (e.schema.as_str(), true))
    }

    fn parse_key(&self, key: &str) -> R<PatchPath> {
        parse_path_with_limits(key, &self.opts.limits.path).map_err(|error| K::InvalidPath {
            path: key.to_owned(),
            error: Box::new(error),
        })
    }

    /// `add`/`replace` without a path: each member of the value object is an attribute (or,
    /// with [`PatchOptions::path_keys_in_value`], a path) to apply the operation to; members
    /// named by a schema URN hold that schema's attributes.
    fn pathless(&mut self, root: &mut Value, op: PatchOpKind, value: &Value) -> R {
        let Value::Object(obj) = value else {
            return Err(K::PathlessValueNotObject {
                found: describe(value),
            });
        };
        for (key, v) in obj {
            if let Some((urn, _)) = self.schema_urn(key) {
                let Value::Object(inner) = v else {
                    return Err(K::InvalidValue {
                        attribute: key.clone(),
                        expected: "an object of the schema's attributes",
                        found: describe(v),
                    });
                };
                for (k2, v2) in inner {
                    if k2.eq_ignore_ascii_case("schemas") {
                        // An extension object has no `schemas` attribute; some clients copy
                        // the resource's into the value of `"path": "urn:...:enterprise:2.0:User"`.
                        // The resource's own `schemas` is kept right by the engine.
                        continue;
                    }
                    let path = self.parse_key(k2)?;
                    let qualified = match path {
                        PatchPath::Attr(a) if a.urn.is_none() => {
                            if a.sub_attr.is_some() && !self.opts.path_keys_in_value {
                                return Err(K::PathAsKey { key: k2.clone() });
                            }
                            PatchPath::Attr(AttrPath {
                                urn: Some(urn.to_owned()),
                                ..a
                            })
                        }
                        PatchPath::Value {
                            attr,
                            filter,
                            sub_attr,
                        } if attr.urn.is_none() && self.opts.path_keys_in_value => PatchPath::Value {
                            attr: AttrPath {
                                urn: Some(urn.to_owned()),
                                ..attr
                            },
                            filter,
                            sub_attr,
                        },
                        _ => return Err(K::PathAsKey { key: k2.clone() }),
                    };
                    self.with_path(root, op, &qualified, Some(v2))?;
                }
                continue;
            }
            let path = self.parse_key(key)?;
            let plain = matches!(&path, PatchPath::Attr(a) if a.urn.is_none() && a.sub_attr.is_none());
            if !plain && !self.opts.path_keys_in_value {
                return Err(K::PathAsKey { key: key.clone() });
            }
            self.with_path(root, op, &path, Some(v))?;
        }
        Ok(())
    }

    /// Resolves an attribute path (without value filter) to its definition, with a precise
    /// error for each way it can be wrong.
    fn resolve(&self, path: &AttrPath) -> R<(Attr<'r>, Option<&'r AttributeDef>)> {
        if let Some(r) = self.registry.resolve(&self.rt.name, path) {
            let attr = Attr {
                ext: r.extension.then_some(r.schema),
                def: r.attribute,
            };
            return Ok((attr, r.sub_attribute));
        }
        if let Some(urn) = &path.urn {
            if self.schema_urn(urn).is_none() {
                return Err(K::UnknownSchema {
                    urn: urn.clone(),
                    resource_type: self.rt.name.clone(),
                });
            }
        }
        let base = AttrPath {
            sub_attr: None,
            ..path.clone()
        };
        match (self.registry.resolve(&self.rt.name, &base), &path.sub_attr) {
            (Some(r), Some(sub)) if r.attribute.attr_type != AttributeType::Complex => {
                Err(K::SubAttributeOfSimple {
                    attribute: base.to_string(),
                    attr_type: r.attribute.attr_type.as_str(),
                    sub_attribute: sub.clone(),
                })
            }
            (Some(r), Some(sub)) => Err(K::NoSuchSubAttribute {
                attribute: base.to_string(),
                sub_attribute: sub.clone(),
                known: known_subs(r.attribute),
            }),
            _ => Err(K::UnknownAttribute {
                attribute: base.to_string(),
                resource_type: self.rt.name.clone(),
            }),
        }
    }

    fn sub_of(&self, attr: Attr<'r>, name: &str) -> R<&'r AttributeDef> {
        if attr.def.attr_type != AttributeType::Complex {
            return Err(K::SubAttributeOfSimple {
                attribute: attr.label(),
                attr_type: attr.def.attr_type.as_str(),
                sub_attribute: name.to_owned(),
            });
        }
        attr.def
            .find_sub_attribute(name)
            .ok_or_else(|| K::NoSuchSubAttribute {
                attribute: attr.label(),
                sub_attribute: name.to_owned(),
                known: known_subs(attr.def),
            })
    }

    fn with_path(&mut self, root: &mut Value, op: PatchOpKind, path: &PatchPath, value: Option<&Value>) -> R {
        match path {
            PatchPath::Attr(ap) => {
                // A path that is a whole extension URN: "urn:...:enterprise:2.0:User".
                if let (Some(urn), None) = (&ap.urn, &ap.sub_attr) {
                    if let Some((ext, true)) = self.schema_urn(&format!("{urn}:{}", ap.name)) {
                        return self.extension_op(root, op, ext, value);
                    }
                }
                let (attr, sub) = self.resolve(ap)?;
                self.current = attr.label();
                match sub {
                    None => self.attr_op(root, op, attr, value),
                    Some(sub) if attr.def.multi_valued => {
                        self.filtered_op(root, op, attr, None, Some(sub), value)
                    }
                    Some(sub) => self.sub_op(root, op, attr, sub, value),
                }
            }
            PatchPath::Value {
                attr,
                filter,
                sub_attr,
            } => {
                let (a, sub) = self.resolve(attr)?;
                if sub.is_some() {
                    return Err(K::FilterOnSingleValued {
                        attribute: attr.to_string(),
                    });
                }
                if !a.def.multi_valued {
                    return Err(K::FilterOnSingleValued { attribute: a.label() });
                }
                let sub = sub_attr.as_deref().map(|s| self.sub_of(a, s)).transpose()?;
                self.check_filter(a, filter)?;
                self.current = a.label();
                self.filtered_op(root, op, a, Some(filter), sub, value)
            }
        }
    }

    /// Every attribute a value filter names must be a sub-attribute of the filtered attribute
    /// (or `value` for a multi-valued simple attribute): an unknown name is a mistake in the
    /// path, not a filter that matches nothing.
    fn check_filter(&self, attr: Attr<'r>, f: &Filter) -> R {
        match f {
            Filter::And(l, r) | Filter::Or(l, r) => {
                self.check_filter(attr, l)?;
                self.check_filter(attr, r)
            }
            Filter::Not(i) => self.check_filter(attr, i),
            Filter::Present(p) | Filter::Compare { path: p, .. } => {
                if p.urn.is_some() || p.sub_attr.is_some() {
                    return Err(K::NoSuchSubAttribute {
                        attribute: attr.label(),
                        sub_attribute: p.to_string(),
                        known: known_subs(attr.def),
                    });
                }
                if attr.def.attr_type == AttributeType::Complex {
                    self.sub_of(attr, &p.name).map(|_| ())
                } else if p.name.eq_ignore_ascii_case("value") {
                    Ok(())
                } else {
                    Err(K::SubAttributeOfSimple {
                        attribute: attr.label(),
                        attr_type: attr.def.attr_type.as_str(),
                        sub_attribute: p.name.clone(),
                    })
                }
            }
            Filter::ValuePath { attr: inner, .. } => Err(K::NoSuchSubAttribute {
                attribute: attr.label(),
                sub_attribute: format!("{inner}[...]"),
                known: known_subs(attr.def),
            }),
        }
    }

    // ---- containers ---------------------------------------------------------------------

    /// The location of the object holding `attr` (the resource, or its extension object),
    /// when it exists.
    fn container(&self, root: &Value, attr: Attr<'r>) -> R<Option<Loc>> {
        let Some(urn) = attr.ext else {
            return Ok(Some(Vec::new()));
        };
        let obj = root.as_object().ok_or(K::ResourceNotAnObject)?;
        match find_key(obj, urn) {
            None => Ok(None),
            Some(k) => match obj.get(k) {
                Some(Value::Object(_)) => Ok(Some(vec![Step::Key(k.to_owned())])),
                Some(Value::Null) => Ok(None),
                _ => Err(malformed(urn, "the extension member is not an object")),
            },
        }
    }

    /// Like [`Self::container`], creating the extension object (and listing its URN in
    /// `schemas`) when absent.
    fn container_mut(&mut self, root: &mut Value, attr: Attr<'r>) -> R<Loc> {
        if let Some(loc) = self.container(root, attr)? {
            return Ok(loc);
        }
        let Some(urn) = attr.ext else {
            return Ok(Vec::new());
        };
        let key = root
            .as_object()
            .and_then(|o| find_key(o, urn))
            .unwrap_or(urn)
            .to_owned();
        self.set(root, &[], &key, Value::Object(Map::new()))?;
        self.list_schema(root, urn)?;
        Ok(vec![Step::Key(key)])
    }

    /// Adds `urn` to `schemas` (RFC 7643 §3: `schemas` lists the extensions in use).
    fn list_schema(&mut self, root: &mut Value, urn: &str) -> R {
        let obj = root.as_object().ok_or(K::ResourceNotAnObject)?;
        let saved = std::mem::replace(&mut self.current, "schemas".to_owned());
        let result = match find_key(obj, "schemas").map(str::to_owned) {
            None => {
                let core = Value::String(self.rt.schema.clone());
                self.set(
                    root,
                    &[],
                    "schemas",
                    Value::Array(vec![core, Value::String(urn.to_owned())]),
                )
                .map(drop)
            }
            Some(k) => match obj.get(&k) {
                Some(Value::Array(items)) => {
                    if items
                        .iter()
                        .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)))
                    {
                        Ok(())
                    } else {
                        self.push(root, &[Step::Key(k)], Value::String(urn.to_owned()))
                    }
                }
                _ => Err(malformed("schemas", "\"schemas\" is not an array")),
            },
        };
        self.current = saved;
        result
    }

    /// After a removal inside an extension: drop the extension object when it became empty,
    /// and its URN from `schemas`.
    fn tidy_extension(&mut self, root: &mut Value, attr: Attr<'r>) -> R {
        let Some(urn) = attr.ext else {
            return Ok(());
        };
        let Some(loc) = self.container(root, attr)? else {
            return Ok(());
        };
        let empty = resolve(root, &loc)
            .and_then(Value::as_object)
            .is_some_and(|o| !o.values().any(is_assigned));
        if !empty {
            return Ok(());
        }
        if let Some(Step::Key(k)) = loc.first() {
            let k = k.clone();
            self.remove_key(root, &[], &k)?;
        }
        self.unlist_schema(root, urn)
    }

    fn unlist_schema(&mut self, root: &mut Value, urn: &str) -> R {
        let Some(obj) = root.as_object() else {
            return Ok(());
        };
        let Some(k) = find_key(obj, "schemas").map(str::to_owned) else {
            return Ok(());
        };
        let positions: Vec<usize> = match obj.get(&k) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, s)| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)))
                .map(|(i, _)| i)
                .collect(),
            _ => return Ok(()),
        };
        let saved = std::mem::replace(&mut self.current, "schemas".to_owned());
        let result = self.remove_indices(root, &[Step::Key(k)], &positions);
        self.current = saved;
        result
    }

    /// The stored key and value of `attr` in its container.
    fn stored<'v>(&self, root: &'v Value, loc: &[Step], attr: Attr<'r>) -> Option<(String, &'v Value)> {
        let obj = resolve(root, loc)?.as_object()?;
        let k = find_key(obj, &attr.def.name)?;
        Some((k.to_owned(), obj.get(k)?))
    }

    // ---- whole extension ------------------------------------------------------------------

    /// `path` is an extension URN: add/replace merge the value's attributes into the
    /// extension; remove drops the extension.
    fn extension_op(&mut self, root: &mut Value, op: PatchOpKind, urn: &'r str, value: Option<&Value>) -> R {
        self.current = urn.to_owned();
        if op != PatchOpKind::Remove {
            let mut wrapper = Map::new();
            wrapper.insert(urn.to_owned(), value.cloned().unwrap_or(Value::Null));
            return self.pathless(root, op, &Value::Object(wrapper));
        }
        let Some(schema) = self.registry.schema(urn) else {
            return Ok(());
        };
        if self
            .rt
            .schema_extensions
            .iter()
            .any(|e| e.required && e.schema.eq_ignore_ascii_case(urn))
        {
            return Err(K::RequiredAttribute {
                attribute: urn.to_owned(),
            });
        }
        for def in &schema.attributes {
            let attr = Attr { ext: Some(urn), def };
            self.current = attr.label();
            self.remove_attr(root, attr)?;
        }
        let obj = root.as_object().ok_or(K::ResourceNotAnObject)?;
        if let Some(k) = find_key(obj, urn).map(str::to_owned) {
            self.current = urn.to_owned();
            self.remove_key(root, &[], &k)?;
        }
        self.unlist_schema(root, urn)
    }

    // ---- attribute without filter ---------------------------------------------------------------

    fn attr_op(&mut self, root: &mut Value, op: PatchOpKind, attr: Attr<'r>, value: Option<&Value>) -> R {
        let def = attr.def;
        let label = attr.label();
        match op {
            PatchOpKind::Remove => match value {
                Some(v) if def.multi_valued && !v.is_null() => self.remove_listed(root, attr, v),
                // A value on a single-valued attribute adds nothing to "remove it".
                _ => self.remove_attr(root, attr),
            },
            PatchOpKind::Add | PatchOpKind::Replace => {
                let v = value.unwrap_or(&Value::Null);
                if def.multi_valued {
                    let items = self.norm.multi(def, &label, v)?;
                    if op == PatchOpKind::Add {
                        self.add_elements(root, attr, items)
                    } else {
                        self.replace_all(root, attr, items)
                    }
                } else if def.attr_type == AttributeType::Complex {
                    match self.norm.complex(def, &label, v)? {
                        None if op == PatchOpKind::Replace => self.remove_attr(root, attr),
                        None => Ok(()),
                        Some(m) => self.merge_single(root, attr, m, op),
                    }
                } else {
                    match self.norm.simple(def, &label, v)? {
                        None if op == PatchOpKind::Replace => self.remove_attr(root, attr),
                        None => Ok(()),
                        Some(nv) => self.set_attr(root, attr, nv),
                    }
                }
            }
        }
    }

    fn check_removable(&self, attr: Attr<'r>, current: &Value) -> R {
        if !is_assigned(current) {
            return Ok(());
        }
        if attr.def.required || (attr.ext.is_none() && attr.def.name == "schemas") {
            return Err(K::RequiredAttribute {
                attribute: attr.label(),
            });
        }
        check_write(attr.def, || attr.label(), Some(current), None)
    }

    /// Removes the attribute (absent: nothing to do).
    fn remove_attr(&mut self, root: &mut Value, attr: Attr<'r>) -> R {
        let Some(loc) = self.container(root, attr)? else {
            return Ok(());
        };
        let Some((key, current)) = self.stored(root, &loc, attr) else {
            return Ok(());
        };
        self.check_removable(attr, current)?;
        self.remove_key(root, &loc, &key)?;
        self.tidy_extension(root, attr)
    }

    fn set_attr(&mut self, root: &mut Value, attr: Attr<'r>, nv: Value) -> R {
        let loc = self.container(root, attr)?;
        let current = loc.as_ref().and_then(|l| self.stored(root, l, attr));
        check_write(
            attr.def,
            || attr.label(),
            current.as_ref().map(|(_, v)| *v),
            Some(&nv),
        )?;
        if current.as_ref().is_some_and(|(_, v)| **v == nv) {
            return Ok(());
        }
        let key = current.map_or_else(|| attr.def.name.clone(), |(k, _)| k);
        let loc = self.container_mut(root, attr)?;
        self.set(root, &loc, &key, nv).map(drop)
    }

    /// Merges sub-attribute values into a single-valued complex attribute (RFC 7644 §3.5.2.1
    /// and §3.5.2.3: sub-attributes not named are left unchanged). `null` unassigns a
    /// sub-attribute on replace and is ignored on add.
    fn merge_single(
        &mut self,
        root: &mut Value,
        attr: Attr<'r>,
        m: Map<String, Value>,
        op: PatchOpKind,
    ) -> R {
        let loc = self.container(root, attr)?;
        let stored = loc.as_ref().and_then(|l| self.stored(root, l, attr));
        let (key, current): (String, Option<Map<String, Value>>) = match stored {
            None => (attr.def.name.clone(), None),
            Some((k, Value::Object(o))) => (k, Some(o.clone())),
            Some((k, Value::Null)) => (k, None),
            Some(_) => {
                return Err(malformed(
                    &attr.label(),
                    "a complex attribute is stored as a non-object",
                ))
            }
        };
        let parent_assigned = current.as_ref().is_some_and(|o| !o.is_empty());
        let mut changes: Vec<(String, Option<Value>)> = Vec::new();
        for (name, nv) in m {
            let Some(sub) = attr.def.find_sub_attribute(&name) else {
                continue;
            };
            let stored_key = current
                .as_ref()
                .and_then(|o| find_key(o, &sub.name))
                .map(str::to_owned);
            let cur = stored_key
                .as_ref()
                .and_then(|k| current.as_ref().and_then(|o| o.get(k)));
            let new = if nv.is_null() {
                if op == PatchOpKind::Add {
                    continue;
                }
                None
            } else {
                Some(&nv)
            };
            if cur == new {
                continue;
            }
            check_write(sub, || attr.sub_label(sub), cur, new)?;
            check_parent(attr, parent_assigned)?;
            if new.is_none() && sub.required {
                return Err(K::RequiredAttribute {
                    attribute: attr.sub_label(sub),
                });
            }
            changes.push((stored_key.unwrap_or_else(|| sub.name.clone()), new.cloned()));
        }
        if changes.is_empty() {
            return Ok(());
        }
        let base = self.container_mut(root, attr)?;
        let at = child(&base, &key);
        if !matches!(resolve(root, &at), Some(Value::Object(_))) {
            self.set(root, &base, &key, Value::Object(Map::new()))?;
        }
        for (k, nv) in changes {
            match nv {
                Some(v) => self.set(root, &at, &k, v).map(drop)?,
                None => self.remove_key(root, &at, &k).map(drop)?,
            }
        }
        if resolve(root, &at)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            self.remove_key(root, &base, &key)?;
            self.tidy_extension(root, attr)?;
        }
        Ok(())
    }

    /// `name.givenName`, `urn:...:User:manager.value`: a sub-attribute of a single-valued
    /// complex attribute.
    fn sub_op(
        &mut self,
        root: &mut Value,
        op: PatchOpKind,
        attr: Attr<'r>,
        sub: &'r AttributeDef,
        value: Option<&Value>,
    ) -> R {
        let label = attr.sub_label(sub);
        let nv = match op {
            PatchOpKind::Remove => Value::Null,
            _ => {
                let v = value.unwrap_or(&Value::Null);
                if sub.multi_valued {
                    let items = self.norm.multi(sub, &label, v)?;
                    if items.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(items)
                    }
                } else {
                    self.norm.simple(sub, &label, v)?.unwrap_or(Value::Null)
                }
            }
        };
        if nv.is_null() && op == PatchOpKind::Add {
            return Ok(());
        }
        let mut m = Map::new();
        m.insert(sub.name.clone(), nv);
        let merge_op = if op == PatchOpKind::Remove {
            PatchOpKind::Replace
        } else {
            op
        };
        self.merge_single(root, attr, m, merge_op)
    }

    // ---- multi-valued attributes ------------------------------------------------------------

    /// The stored array of a multi-valued attribute: its location (when present) and a
    /// shared view.
    fn array_loc(&self, root: &Value, attr: Attr<'r>) -> R<Option<(Loc, String)>> {
        let Some(loc) = self.container(root, attr)? else {
            return Ok(None);
        };
        let Some((key, v)) = self.stored(root, &loc, attr) else {
            return Ok(None);
        };
        match v {
            Value::Array(_) => Ok(Some((child(&loc, &key), key))),
            Value::Null => Ok(None),
            _ => Err(malformed(
                &attr.label(),
                "a multi-valued attribute is stored as a non-array",
            )),
        }
    }

    /// Ensures the attribute's array exists (creating `[]`), returning its location.
    fn array_mut(&mut self, root: &mut Value, attr: Attr<'r>) -> R<Loc> {
        if let Some((loc, _)) = self.array_loc(root, attr)? {
            return Ok(loc);
        }
        let base = self.container_mut(root, attr)?;
        let key = resolve(root, &base)
            .and_then(Value::as_object)
            .and_then(|o| find_key(o, &attr.def.name))
            .map_or_else(|| attr.def.name.clone(), str::to_owned);
        self.set(root, &base, &key, Value::Array(Vec::new()))?;
        Ok(child(&base, &key))
    }

    fn elements<'v>(root: &'v Value, loc: Option<&[Step]>) -> &'v [Value] {
        loc.and_then(|l| resolve(root, l))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// For each request value, the index of the stored element that is the same value, if
    /// any (see [`Identity`]). One pass over the stored values, plus a hash index of them
    /// when there are many request values, so adding or removing a few members of a large
    /// group is linear, never quadratic.
    fn find_same(ident: &Identity<'_>, stored: &[Value], candidates: &[Value]) -> Vec<Option<usize>> {
        let mut found = vec![None; candidates.len()];
        if candidates.len() > INDEX_THRESHOLD && ident.keyed() {
            use std::collections::HashMap;
            let mut by_key: HashMap<FoldedKey<'_>, Vec<usize>> = HashMap::with_capacity(stored.len());
            for (i, e) in stored.iter().enumerate() {
                if let Some(k) = ident.key_str(e) {
                    by_key
                        .entry(FoldedKey {
                            text: k,
                            case_exact: ident.case_exact(),
                        })
                        .or_default()
                        .push(i);
                }
            }
            for (c, slot) in candidates.iter().zip(found.iter_mut()) {
                *slot = match ident.key_str(c) {
                    Some(k) => by_key
                        .get(&FoldedKey {
                            text: k,
                            case_exact: ident.case_exact(),
                        })
                        .and_then(|is| {
                            is.iter()
                                .copied()
                                .find(|&i| stored.get(i).is_some_and(|e| ident.same(c, e)))
                        }),
                    None => stored.iter().position(|e| ident.same(c, e)),
                };
            }
            return found;
        }
        let keys: Vec<Option<&str>> = candidates.iter().map(|c| ident.key_str(c)).collect();
        let mut open = candidates.len();
        for (i, e) in stored.iter().enumerate() {
            // One lookup of the stored value's key, compared with every request key; the
            // full comparison only on a key match.
            let ekey = if ident.keyed() { ident.key_str(e) } else { None };
            for ((c, key), slot) in candidates.iter().zip(&keys).zip(found.iter_mut()) {
                if slot.is_some() {
                    continue;
                }
                let candidate = match (key, ekey) {
                    (Some(k), Some(ek)) => str_eq(k, ek, ident.case_exact()),
                    _ => true,
                };
                if candidate && ident.same(c, e) {
                    *slot = Some(i);
                    open -= 1;
                }
            }
            if open == 0 {
                break;
            }
        }
        found
    }

    /// `add` to a multi-valued attribute: values already present are merged into the stored
    /// value (no duplicates), new values are appended; a new `primary` value demotes the
    /// others.
    fn add_elements(&mut self, root: &mut Value, attr: Attr<'r>, items: Vec<Value>) -> R {
        if items.is_empty() {
            return Ok(());
        }
        let ident = Identity::new(attr.def);
        // Values of this request that repeat an earlier one are dropped.
        let items = Self::dedupe(&ident, items);
        let existing = self.array_loc(root, attr)?;
        let stored = Self::elements(root, existing.as_ref().map(|(l, _)| l.as_slice()));
        let same = Self::find_same(&ident, stored, &items);
        let stored_len = stored.len();
        let mut fresh: Vec<Value> = Vec::new();
        let mut merges: Vec<(usize, Value)> = Vec::new();
        for (item, hit) in items.into_iter().zip(same) {
            match hit {
                Some(i) => merges.push((i, item)),
                None => fresh.push(item),
            }
        }
        if !fresh.is_empty() {
            let current = existing
                .as_ref()
                .and_then(|(l, _)| resolve(root, l))
                .filter(|v| is_assigned(v));
            if current.is_some() || attr.def.mutability == Mutability::ReadOnly {
                check_write(attr.def, || attr.label(), current, Some(&Value::Null))?;
            }
        }
        let mut primaries: Vec<usize> = Vec::new();
        let loc = if fresh.is_empty() {
            existing.map(|(l, _)| l)
        } else {
            Some(self.array_mut(root, attr)?)
        };
        let Some(loc) = loc else {
            return Ok(());
        };
        for (i, item) in merges {
            if let Value::Object(mut m) = item {
                // The stored value is "the same value": its identity (`value`, and `type` when
                // it has one) stays as stored, e.g. a member id differing only in case.
                if let Some(v) = attr.def.find_sub_attribute("value") {
                    m.remove(&v.name);
                }
                if let Some(t) = attr.def.find_sub_attribute("type") {
                    let stored_type = Self::elements(root, Some(loc.as_slice()))
                        .get(i)
                        .and_then(Value::as_object)
                        .and_then(|o| get_ci(o, &t.name))
                        .is_some();
                    if stored_type {
                        m.remove(&t.name);
                    }
                }
                if self.merge_element(root, attr, &loc, i, m, PatchOpKind::Add)? {
                    primaries.push(i);
                }
            }
        }
        let primary_key = attr.def.find_sub_attribute("primary").map(|s| s.name.clone());
        for (n, item) in fresh.into_iter().enumerate() {
            if primary_key
                .as_ref()
                .is_some_and(|p| truthy(item.as_object().and_then(|o| get_ci(o, p))))
            {
                primaries.push(stored_len + n);
            }
            self.push(root, &loc, item)?;
        }
        self.settle_primary(root, attr, &loc, &primaries)
    }

    /// The request values without repetitions (first occurrence kept), in linear time for
    /// string-keyed values.
    fn dedupe(ident: &Identity<'_>, items: Vec<Value>) -> Vec<Value> {
        if items.len() <= INDEX_THRESHOLD || !ident.keyed() {
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.iter().any(|u| ident.same(&item, u)) {
                    unique.push(item);
                }
            }
            return unique;
        }
        use std::collections::HashMap;
        let mut keep = vec![true; items.len()];
        {
            let mut seen: HashMap<FoldedKey<'_>, Vec<usize>> = HashMap::with_capacity(items.len());
            let mut unkeyed: Vec<usize> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let earlier: &mut Vec<usize> = match ident.key_str(item) {
                    Some(k) => seen
                        .entry(FoldedKey {
                            text: k,
                            case_exact: ident.case_exact(),
                        })
                        .or_default(),
                    None => &mut unkeyed,
                };
                let dup = earlier
                    .iter()
                    .any(|&j| items.get(j).is_some_and(|prev| ident.same(item, prev)));
                if dup {
                    if let Some(k) = keep.get_mut(i) {
                        *k = false;
                    }
                } else {
                    earlier.push(i);
                }
            }
        }
        items
            .into_iter()
            .zip(keep)
            .filter_map(|(v, k)| k.then_some(v))
            .collect()
    }

    /// `replace` of a whole multi-valued attribute: the request values (without duplicates)
    /// become the attribute's values; an empty list unassigns it.
    fn replace_all(&mut self, root: &mut Value, attr: Attr<'r>, items: Vec<Value>) -> R {
        let ident = Identity::new(attr.def);
        let unique = Self::dedupe(&ident, items);
        if let Some(p) = attr.def.find_sub_attribute("primary") {
            let count = unique
                .iter()
                .filter(|u| truthy(u.as_object().and_then(|o| get_ci(o, &p.name))))
                .count();
            if count > 1 {
                return Err(K::MultiplePrimary {
                    attribute: attr.label(),
                });
            }
        }
        if unique.is_empty() {
            return self.remove_attr(root, attr);
        }
        self.set_attr(root, attr, Value::Array(unique))
    }

    /// `remove` with a value list on a multi-valued attribute (Okta, JumpCloud and Entra ID
    /// remove group members this way): removes the stored values that are the same as a
    /// listed value.
    fn remove_listed(&mut self, root: &mut Value, attr: Attr<'r>, v: &Value) -> R {
        let items = self.norm.multi(attr.def, &attr.label(), v)?;
        let ident = Identity::new(attr.def);
        let Some((loc, _)) = self.array_loc(root, attr)? else {
            return self.no_removal_target(attr, || "matches a listed value".to_owned());
        };
        let stored = Self::elements(root, Some(loc.as_slice()));
        let mut hits: Vec<usize> = Self::find_same_all(&ident, stored, &items);
        hits.sort_unstable();
        hits.dedup();
        if hits.is_empty() {
            return self.no_removal_target(attr, || "matches a listed value".to_owned());
        }
        self.remove_elements(root, attr, &loc, &hits)
    }

    /// Indices of every stored element that is the same as one of `candidates`.
    fn find_same_all(ident: &Identity<'_>, stored: &[Value], candidates: &[Value]) -> Vec<usize> {
        if candidates.is_empty() {
            return Vec::new();
        }
        if candidates.len() > INDEX_THRESHOLD && ident.keyed() {
            use std::collections::HashMap;
            let mut by_key: HashMap<FoldedKey<'_>, Vec<&Value>> = HashMap::with_capacity(candidates.len());
            let mut unkeyed: Vec<&Value> = Vec::new();
            for c in candidates {
                match ident.key_str(c) {
                    Some(k) => by_key
                        .entry(FoldedKey {
                            text: k,
                            case_exact: ident.case_exact(),
                        })
                        .or_default()
                        .push(c),
                    None => unkeyed.push(c),
                }
            }
            return stored
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    let keyed_hit = ident.key_str(e).is_some_and(|k| {
                        by_key
                            .get(&FoldedKey {
                                text: k,
                                case_exact: ident.case_exact(),
                            })
                            .is_some_and(|cs| cs.iter().any(|c| ident.same(c, e)))
                    });
                    keyed_hit || unkeyed.iter().any(|c| ident.same(c, e))
                })
                .map(|(i, _)| i)
                .collect();
        }
        let keys: Vec<Option<&str>> = candidates.iter().map(|c| ident.key_str(c)).collect();
        stored
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                let ekey = if ident.keyed() { ident.key_str(e) } else { None };
                candidates.iter().zip(&keys).any(|(c, key)| {
                    let candidate = match (key, ekey) {
                        (Some(k), Some(ek)) => str_eq(k, ek, ident.case_exact()),
                        _ => true,
                    };
                    candidate && ident.same(c, e)
                })
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn no_removal_target(&self, attr: Attr<'r>, condition: impl FnOnce() -> String) -> R {
        if self.opts.require_remove_target {
            Err(K::NoTarget {
                attribute: attr.label(),
                condition: condition(),
            })
        } else {
            Ok(())
        }
    }

    /// Removes stored elements; the attribute is unassigned when none remain.
    fn remove_elements(&mut self, root: &mut Value, attr: Attr<'r>, loc: &[Step], indices: &[usize]) -> R {
        if indices.is_empty() {
            return Ok(());
        }
        let total = Self::elements(root, Some(loc)).len();
        if indices.len() >= total {
            return self.remove_attr(root, attr);
        }
        if matches!(attr.def.mutability, Mutability::ReadOnly | Mutability::Immutable) {
            return Err(mutability_error(attr.label(), attr.def.mutability, "modified"));
        }
        self.remove_indices(root, loc, indices)
    }

    /// Merges sub-attribute values into the stored element `i`. Returns whether the merge
    /// asks for `primary: true` (even if the element already was primary).
    fn merge_element(
        &mut self,
        root: &mut Value,
        attr: Attr<'r>,
        loc: &[Step],
        i: usize,
        m: Map<String, Value>,
        op: PatchOpKind,
    ) -> R<bool> {
        let at = index(loc, i);
        let Some(Value::Object(current)) = resolve(root, &at) else {
            return Err(malformed(
                &attr.label(),
                "a value of a multi-valued complex attribute is not an object",
            ));
        };
        let mut changes: Vec<(String, Option<Value>)> = Vec::new();
        let mut became_primary = false;
        for (name, nv) in m {
            let Some(sub) = attr.def.find_sub_attribute(&name) else {
                continue;
            };
            let key = find_key(current, &sub.name).map(str::to_owned);
            let cur = key.as_ref().and_then(|k| current.get(k));
            let new = if nv.is_null() {
                if op == PatchOpKind::Add {
                    continue;
                }
                None
            } else {
                Some(&nv)
            };
            if sub.name == "primary" && truthy(new) {
                became_primary = true;
            }
            if cur == new {
                continue;
            }
            check_write(sub, || attr.sub_label(sub), cur, new)?;
            check_parent(attr, true)?;
            if new.is_none() && sub.required {
                return Err(K::RequiredAttribute {
                    attribute: attr.sub_label(sub),
                });
            }
            changes.push((key.unwrap_or_else(|| sub.name.clone()), new.cloned()));
        }
        for (k, nv) in changes {
            match nv {
                Some(v) => self.set(root, &at, &k, v).map(drop)?,
                None => self.remove_key(root, &at, &k).map(drop)?,
            }
        }
        Ok(became_primary)
    }

    /// RFC 7644 §3.5.2: setting `primary` to true on one value sets it to false on the
    /// others. `primaries` are the elements this operation made primary.
    fn settle_primary(&mut self, root: &mut Value, attr: Attr<'r>, loc: &[Step], primaries: &[usize]) -> R {
        let Some(psub) = attr.def.find_sub_attribute("primary") else {
            return Ok(());
        };
        let mut chosen = primaries.to_vec();
        chosen.sort_unstable();
        chosen.dedup();
        let keep = match chosen.as_slice() {
            [] => return Ok(()),
            [one] => *one,
            _ => {
                return Err(K::MultiplePrimary {
                    attribute: attr.label(),
                })
            }
        };
        let demote: Vec<(usize, String)> = Self::elements(root, Some(loc))
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != keep)
            .filter_map(|(i, e)| {
                let o = e.as_object()?;
                let k = find_key(o, &psub.name)?;
                truthy(o.get(k)).then(|| (i, k.to_owned()))
            })
            .collect();
        for (i, k) in demote {
            self.set(root, &index(loc, i), &k, Value::Bool(false))?;
        }
        Ok(())
    }

    /// Operations on selected values of a multi-valued attribute: `attr[filter]`,
    /// `attr[filter].sub`, or `attr.sub` (every value) when `filter` is `None`.
    fn filtered_op(
        &mut self,
        root: &mut Value,
        op: PatchOpKind,
        attr: Attr<'r>,
        filter: Option<&Filter>,
        sub: Option<&'r AttributeDef>,
        value: Option<&Value>,
    ) -> R {
        let path_text = || match filter {
            Some(f) => format!("{}[{f}]", attr.label()),
            None => attr.label(),
        };
        let mut matcher = match filter {
            Some(f) => Some(
                ElementMatcher::new(self.registry, self.rt, attr, f).map_err(|error| K::InvalidPath {
                    path: path_text(),
                    error: Box::new(error),
                })?,
            ),
            None => None,
        };
        let existing = self.array_loc(root, attr)?;
        let mut hits: Vec<usize> = Vec::new();
        if let Some((loc, _)) = &existing {
            if let Some(literal) = filter.and_then(|f| value_equality(attr.def, f)) {
                // `members[value eq "id"]`, the usual way to name one member: compared
                // directly, as the filter evaluator would (same case rule), one key lookup
                // per member.
                let ident = Identity::new(attr.def);
                for (i, e) in Self::elements(root, Some(loc.as_slice())).iter().enumerate() {
                    if ident
                        .key_str(e)
                        .is_some_and(|k| str_eq(k, literal, ident.case_exact()))
                    {
                        hits.push(i);
                    }
                }
            } else if let Some(arr) = super::journal::resolve_mut(root, loc).and_then(Value::as_array_mut) {
                for (i, e) in arr.iter_mut().enumerate() {
                    if matcher.as_mut().is_none_or(|m| m.matches(e)) {
                        hits.push(i);
                    }
                }
            }
        }
        if op == PatchOpKind::Remove {
            let Some((loc, _)) = existing.filter(|_| !hits.is_empty()) else {
                return self.no_removal_target(attr, || match filter {
                    Some(_) => condition(filter, None),
                    None => "exists".to_owned(),
                });
            };
            return match sub {
                None => self.remove_elements(root, attr, &loc, &hits),
                Some(s) => {
                    let mut m = Map::new();
                    m.insert(s.name.clone(), Value::Null);
                    let mut emptied = Vec::new();
                    for &i in &hits {
                        self.merge_element(root, attr, &loc, i, m.clone(), PatchOpKind::Replace)?;
                        if resolve(root, &index(&loc, i))
                            .and_then(Value::as_object)
                            .is_some_and(Map::is_empty)
                        {
                            emptied.push(i);
                        }
                    }
                    self.remove_elements(root, attr, &loc, &emptied)
                }
            };
        }
        // add / replace
        let v = value.unwrap_or(&Value::Null);
        let label = match sub {
            Some(s) => attr.sub_label(s),
            None => attr.label(),
        };
        if attr.def.attr_type != AttributeType::Complex {
            // `emails`-like simple multi-valued attribute: `attr[value eq "x"]` replaced by a
            // new value.
            let nv = self.norm.simple(attr.def, &label, v)?;
            let Some((loc, _)) = existing.filter(|_| !hits.is_empty()) else {
                return Err(K::NoTarget {
                    attribute: attr.label(),
                    condition: condition(filter, None),
                });
            };
            let Some(nv) = nv else {
                return self.remove_elements(root, attr, &loc, &hits);
            };
            if attr.def.mutability == Mutability::ReadOnly || attr.def.mutability == Mutability::Immutable {
                return Err(mutability_error(attr.label(), attr.def.mutability, "modified"));
            }
            for &i in &hits {
                if self.journal.replace_element(root, &loc, i, nv.clone())? {
                    self.note_change();
                }
            }
            return Ok(());
        }
        let m: Map<String, Value> = match sub {
            Some(s) => {
                let nv = if s.multi_valued {
                    let items = self.norm.multi(s, &label, v)?;
                    if items.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(items)
                    }
                } else {
                    self.norm.simple(s, &label, v)?.unwrap_or(Value::Null)
                };
                let mut m = Map::new();
                m.insert(s.name.clone(), nv);
                m
            }
            None => match self.norm.complex(attr.def, &label, v)? {
                Some(m) => m,
                None if op == PatchOpKind::Replace => {
                    // replace attr[filter] with null: unassign the selected values.
                    let Some((loc, _)) = existing.filter(|_| !hits.is_empty()) else {
                        return Err(K::NoTarget {
                            attribute: attr.label(),
                            condition: condition(filter, sub),
                        });
                    };
                    return self.remove_elements(root, attr, &loc, &hits);
                }
                None => return Ok(()),
            },
        };
        let Some((loc, _)) = existing.filter(|_| !hits.is_empty()) else {
            return self.create_unmatched(root, op, attr, filter, sub, m);
        };
        let mut primaries = Vec::new();
        for &i in &hits {
            if self.merge_element(root, attr, &loc, i, m.clone(), op)? {
                primaries.push(i);
            }
        }
        self.settle_primary(root, attr, &loc, &primaries)
    }

    /// No value matched the filter of an add/replace. For `add`, RFC 7644 §3.5.2.1: "If the
    /// target location specifies an attribute that does not exist (has no value), the
    /// attribute is added with the new value", so the value the filter describes is created.
    /// For `replace`, RFC 7644 §3.5.2.3 requires `noTarget`; with
    /// [`PatchOptions::create_on_unmatched_filter`] (what Microsoft Entra ID expects), the
    /// value is created as for `add`.
    fn create_unmatched(
        &mut self,
        root: &mut Value,
        op: PatchOpKind,
        attr: Attr<'r>,
        filter: Option<&Filter>,
        sub: Option<&'r AttributeDef>,
        m: Map<String, Value>,
    ) -> R {
        let no_target = || K::NoTarget {
            attribute: attr.label(),
            condition: condition(filter, sub),
        };
        let Some(f) = filter.filter(|_| op == PatchOpKind::Add || self.opts.create_on_unmatched_filter)
        else {
            return Err(no_target());
        };
        let mut described = Map::new();
        if !element_from_filter(f, &mut described) {
            return Err(no_target());
        }
        // The filter's conditions, typed like request values, then the operation's value.
        let mut element = match self
            .norm
            .complex(attr.def, &attr.label(), &Value::Object(described))?
        {
            Some(e) => e,
            None => return Err(no_target()),
        };
        for (k, v) in m {
            element.insert(k, v);
        }
        element.retain(|_, v| !v.is_null());
        if element.is_empty() {
            return Err(no_target());
        }
        self.add_elements(root, attr, vec![Value::Object(element)])
    }
}

/// A string hashed and compared as SCIM compares values (case-folded unless `caseExact`),
/// without allocating.
#[derive(Clone, Copy)]
struct FoldedKey<'a> {
    text: &'a str,
    case_exact: bool,
}

impl PartialEq for FoldedKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        str_eq(self.text, other.text, self.case_exact && other.case_exact)
    }
}

impl Eq for FoldedKey<'_> {}

impl std::hash::Hash for FoldedKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Must agree with `str_eq`: the ASCII path writes the same code points the Unicode
        // path would.
        if self.case_exact {
            self.text.hash(state);
        } else if self.text.is_ascii() {
            for b in self.text.bytes() {
                state.write_u32(u32::from(b.to_ascii_lowercase()));
            }
            state.write_u8(0xff);
        } else {
            for c in self.text.chars().flat_map(char::to_lowercase) {
                state.write_u32(c as u32);
            }
            state.write_u8(0xff);
        }
    }
}
