//! Multi-valued attributes: adding values without duplicates, replacing and removing
//! values, merging elements, and keeping at most one `primary`.

use serde_json::{Map, Value};

use super::{
    check_parent, check_write, child, index, is_assigned, malformed, mutability_error, Attr, Engine, R,
};
use crate::patch::error::PatchErrorKind as K;
use crate::patch::journal::{resolve, Loc, Step};
use crate::patch::value::{find_key, get_attr, str_eq, truthy, Identity};
use crate::patch::PatchOpKind;
use crate::schema::Mutability;

/// Above this many request values, duplicates are found through a hash index of the stored
/// values instead of a scan per request value.
const INDEX_THRESHOLD: usize = 8;

impl<'r, 'o> Engine<'r, 'o> {
    /// The stored array of a multi-valued attribute: its location (when present) and a
    /// shared view.
    pub(super) fn array_loc(&self, root: &Value, attr: Attr<'r>) -> R<Option<(Loc, String)>> {
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

    pub(super) fn elements<'v>(root: &'v Value, loc: Option<&[Step]>) -> &'v [Value] {
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
    pub(super) fn add_elements(&mut self, root: &mut Value, attr: Attr<'r>, items: Vec<Value>) -> R {
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
                        .and_then(|o| get_attr(o, &t.name))
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
                .is_some_and(|p| truthy(item.as_object().and_then(|o| get_attr(o, p))))
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
    pub(super) fn replace_all(&mut self, root: &mut Value, attr: Attr<'r>, items: Vec<Value>) -> R {
        let ident = Identity::new(attr.def);
        let unique = Self::dedupe(&ident, items);
        if let Some(p) = attr.def.find_sub_attribute("primary") {
            let count = unique
                .iter()
                .filter(|u| truthy(u.as_object().and_then(|o| get_attr(o, &p.name))))
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
    pub(super) fn remove_listed(&mut self, root: &mut Value, attr: Attr<'r>, v: &Value) -> R {
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

    pub(super) fn no_removal_target(&self, attr: Attr<'r>, condition: impl FnOnce() -> String) -> R {
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
    pub(super) fn remove_elements(
        &mut self,
        root: &mut Value,
        attr: Attr<'r>,
        loc: &[Step],
        indices: &[usize],
    ) -> R {
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
    pub(super) fn merge_element(
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
    pub(super) fn settle_primary(
        &mut self,
        root: &mut Value,
        attr: Attr<'r>,
        loc: &[Step],
        primaries: &[usize],
    ) -> R {
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
