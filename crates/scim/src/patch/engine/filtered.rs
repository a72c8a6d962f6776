//! Value filters (`attr[filter]`, `attr[filter].sub`): matching elements, operating on the
//! selected values, and creating the described element when none matches.

use serde_json::{Map, Value};

use super::{index, mutability_error, Attr, Engine, R};
use crate::filter::{AttrPath, CompValue, CompareOp, CompiledFilter, EvalContext, Filter};
use crate::patch::error::PatchErrorKind as K;
use crate::patch::journal::resolve;
use crate::patch::value::{str_eq, Identity};
use crate::patch::PatchOpKind;
use crate::schema::{AttributeDef, AttributeType, Mutability, ResourceType, SchemaRegistry};

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

/// The element a value filter describes, for [`PatchOptions::create_on_unmatched_filter`](crate::patch::PatchOptions::create_on_unmatched_filter):
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
    /// Operations on selected values of a multi-valued attribute: `attr[filter]`,
    /// `attr[filter].sub`, or `attr.sub` (every value) when `filter` is `None`.
    pub(super) fn filtered_op(
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
            } else if let Some(arr) =
                crate::patch::journal::resolve_mut(root, loc).and_then(Value::as_array_mut)
            {
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
    /// [`PatchOptions::create_on_unmatched_filter`](crate::patch::PatchOptions::create_on_unmatched_filter) (what Microsoft Entra ID expects), the
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
