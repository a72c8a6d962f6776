//! Entry points: dispatching an operation, and resolving its path against the schema.

use serde_json::Value;

use super::{Attr, Engine, R};
use crate::filter::{parse_path_with_limits, AttrPath, Filter, PatchPath};
use crate::patch::error::{describe, PatchErrorKind as K};
use crate::patch::value::known_subs;
use crate::patch::{ParsedPath, PatchOpKind, PatchOperation};
use crate::schema::{AttributeDef, AttributeType};

impl<'r, 'o> Engine<'r, 'o> {
    pub(in crate::patch) fn operation(&mut self, root: &mut Value, op: &PatchOperation) -> R {
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
    /// with [`PatchOptions::path_keys_in_value`](crate::patch::PatchOptions::path_keys_in_value), a path) to apply the operation to; members
    /// named by a schema URN hold that schema's attributes.
    pub(super) fn pathless(&mut self, root: &mut Value, op: PatchOpKind, value: &Value) -> R {
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
}
