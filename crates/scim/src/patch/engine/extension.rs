//! Operations whose path is a whole extension schema URN.

use serde_json::{Map, Value};

use super::{Attr, Engine, R};
use crate::patch::error::PatchErrorKind as K;
use crate::patch::value::find_key;
use crate::patch::PatchOpKind;

impl<'r, 'o> Engine<'r, 'o> {
    /// `path` is an extension URN: add/replace merge the value's attributes into the
    /// extension; remove drops the extension.
    pub(super) fn extension_op(
        &mut self,
        root: &mut Value,
        op: PatchOpKind,
        urn: &'r str,
        value: Option<&Value>,
    ) -> R {
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
}
