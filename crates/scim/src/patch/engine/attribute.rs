//! add/replace/remove on an attribute or sub-attribute addressed without a value filter.

use serde_json::{Map, Value};

use super::{check_parent, check_write, child, is_assigned, malformed, Attr, Engine, R};
use crate::patch::error::PatchErrorKind as K;
use crate::patch::journal::resolve;
use crate::patch::value::find_key;
use crate::patch::PatchOpKind;
use crate::schema::{AttributeDef, AttributeType};

impl<'r, 'o> Engine<'r, 'o> {
    pub(super) fn attr_op(
        &mut self,
        root: &mut Value,
        op: PatchOpKind,
        attr: Attr<'r>,
        value: Option<&Value>,
    ) -> R {
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
    pub(super) fn remove_attr(&mut self, root: &mut Value, attr: Attr<'r>) -> R {
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

    pub(super) fn set_attr(&mut self, root: &mut Value, attr: Attr<'r>, nv: Value) -> R {
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
    pub(super) fn sub_op(
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
}
