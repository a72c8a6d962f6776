//! Containers: the object holding an attribute (the resource or an extension object), and
//! keeping `schemas` in step with the extension objects present.

use serde_json::{Map, Value};

use super::{is_assigned, malformed, Attr, Engine, R};
use crate::patch::error::PatchErrorKind as K;
use crate::patch::journal::{resolve, Loc, Step};
use crate::patch::value::find_key;

impl<'r, 'o> Engine<'r, 'o> {
    /// The location of the object holding `attr` (the resource, or its extension object),
    /// when it exists.
    pub(super) fn container(&self, root: &Value, attr: Attr<'r>) -> R<Option<Loc>> {
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
    pub(super) fn container_mut(&mut self, root: &mut Value, attr: Attr<'r>) -> R<Loc> {
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
    pub(super) fn tidy_extension(&mut self, root: &mut Value, attr: Attr<'r>) -> R {
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

    pub(super) fn unlist_schema(&mut self, root: &mut Value, urn: &str) -> R {
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
    pub(super) fn stored<'v>(
        &self,
        root: &'v Value,
        loc: &[Step],
        attr: Attr<'r>,
    ) -> Option<(String, &'v Value)> {
        let obj = resolve(root, loc)?.as_object()?;
        let k = find_key(obj, &attr.def.name)?;
        Some((k.to_owned(), obj.get(k)?))
    }
}
