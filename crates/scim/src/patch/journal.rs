//! The undo journal that makes a PATCH atomic without copying the resource.
//!
//! Operations mutate the resource in place through a few primitives (set a key, remove a
//! key, append to an array, remove array elements). Each primitive records its inverse, with
//! the *moved-out* old value (never a copy). On failure the inverses run in reverse order and
//! restore the resource exactly; on success the journal is dropped. The cost of atomicity is
//! therefore proportional to what changed, not to the size of the resource: removing one
//! member of a 100 000-member group records one element.

use serde_json::{Map, Value};

/// One step from the resource root: an object key (as stored) or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// Where a container lives, from the resource root.
pub(super) type Loc = Vec<Step>;

#[derive(Debug)]
enum Undo {
    /// Put `old` back under `key` of the object at `at` (remove the key when `None`).
    Set {
        at: Loc,
        key: String,
        old: Option<Value>,
    },
    /// Truncate the array at `at` to `len` elements (undoes appends).
    Truncate { at: Loc, len: usize },
    /// Re-insert removed elements, with their original indices in ascending order.
    Reinsert { at: Loc, items: Vec<(usize, Value)> },
    /// Put `old` back as element `i` of the array at `at`.
    Element { at: Loc, i: usize, old: Value },
}

pub(super) fn resolve_mut<'a>(root: &'a mut Value, at: &[Step]) -> Option<&'a mut Value> {
    let mut cur = root;
    for step in at {
        cur = match step {
            Step::Key(k) => cur.as_object_mut()?.get_mut(k)?,
            Step::Index(i) => cur.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(cur)
}

pub(super) fn resolve<'a>(root: &'a Value, at: &[Step]) -> Option<&'a Value> {
    let mut cur = root;
    for step in at {
        cur = match step {
            Step::Key(k) => cur.as_object()?.get(k)?,
            Step::Index(i) => cur.as_array()?.get(*i)?,
        };
    }
    Some(cur)
}

/// The journal of one `apply` call.
#[derive(Debug, Default)]
pub(super) struct Journal {
    entries: Vec<Undo>,
}

/// A primitive could not find its container: the engine addressed something that does not
/// exist or has the wrong shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NoContainer;

impl Journal {
    /// Whether anything was recorded.
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `key` of the object at `at` to `value`. Returns whether the resource changed
    /// (setting an equal value changes nothing and records nothing).
    pub(super) fn set(
        &mut self,
        root: &mut Value,
        at: &[Step],
        key: &str,
        value: Value,
    ) -> Result<bool, NoContainer> {
        let map = object_at(root, at)?;
        if map.get(key) == Some(&value) {
            return Ok(false);
        }
        let old = map.insert(key.to_owned(), value);
        self.entries.push(Undo::Set {
            at: at.to_vec(),
            key: key.to_owned(),
            old,
        });
        Ok(true)
    }

    /// Removes `key` from the object at `at`. Returns whether it was there.
    pub(super) fn remove(&mut self, root: &mut Value, at: &[Step], key: &str) -> Result<bool, NoContainer> {
        let map = object_at(root, at)?;
        match map.remove(key) {
            None => Ok(false),
            Some(old) => {
                self.entries.push(Undo::Set {
                    at: at.to_vec(),
                    key: key.to_owned(),
                    old: Some(old),
                });
                Ok(true)
            }
        }
    }

    /// Overwrites element `i` of the array at `at`. Returns whether it changed.
    pub(super) fn replace_element(
        &mut self,
        root: &mut Value,
        at: &[Step],
        i: usize,
        value: Value,
    ) -> Result<bool, NoContainer> {
        let slot = resolve_mut(root, at)
            .and_then(Value::as_array_mut)
            .and_then(|a| a.get_mut(i))
            .ok_or(NoContainer)?;
        if *slot == value {
            return Ok(false);
        }
        let old = std::mem::replace(slot, value);
        self.entries.push(Undo::Element {
            at: at.to_vec(),
            i,
            old,
        });
        Ok(true)
    }

    /// Appends `value` to the array at `at`.
    pub(super) fn push(&mut self, root: &mut Value, at: &[Step], value: Value) -> Result<(), NoContainer> {
        let arr = resolve_mut(root, at)
            .and_then(Value::as_array_mut)
            .ok_or(NoContainer)?;
        let len = arr.len();
        arr.push(value);
        // Consecutive appends to the same array share one entry: truncating to the first
        // length undoes them all.
        let covered =
            matches!(self.entries.last(), Some(Undo::Truncate { at: last, .. }) if last.as_slice() == at);
        if !covered {
            self.entries.push(Undo::Truncate { at: at.to_vec(), len });
        }
        Ok(())
    }

    /// Removes the elements at `indices` (ascending, distinct, in range) from the array at
    /// `at`.
    pub(super) fn remove_indices(
        &mut self,
        root: &mut Value,
        at: &[Step],
        indices: &[usize],
    ) -> Result<(), NoContainer> {
        if indices.is_empty() {
            return Ok(());
        }
        let arr = resolve_mut(root, at)
            .and_then(Value::as_array_mut)
            .ok_or(NoContainer)?;
        if indices.iter().any(|&i| i >= arr.len()) || indices.windows(2).any(|w| w.first() >= w.get(1)) {
            return Err(NoContainer);
        }
        let mut items = Vec::with_capacity(indices.len());
        if indices.len() <= 4 {
            // A few elements: shift the tail once per element, no reallocation.
            for &i in indices.iter().rev() {
                items.push((i, arr.remove(i)));
            }
            items.reverse();
        } else {
            let old = std::mem::take(arr);
            arr.reserve(old.len() - indices.len());
            let mut next = indices.iter().peekable();
            for (i, v) in old.into_iter().enumerate() {
                if next.peek() == Some(&&i) {
                    next.next();
                    items.push((i, v));
                } else {
                    arr.push(v);
                }
            }
        }
        self.entries.push(Undo::Reinsert {
            at: at.to_vec(),
            items,
        });
        Ok(())
    }

    /// Restores the resource to its state before the first recorded change.
    pub(super) fn rollback(self, root: &mut Value) {
        for undo in self.entries.into_iter().rev() {
            let restored = match undo {
                Undo::Set { at, key, old } => match object_at(root, &at) {
                    Ok(map) => {
                        match old {
                            Some(v) => map.insert(key, v),
                            None => map.remove(&key),
                        };
                        true
                    }
                    Err(NoContainer) => false,
                },
                Undo::Truncate { at, len } => match resolve_mut(root, &at).and_then(Value::as_array_mut) {
                    Some(arr) => {
                        arr.truncate(len);
                        true
                    }
                    None => false,
                },
                Undo::Element { at, i, old } => {
                    match resolve_mut(root, &at)
                        .and_then(Value::as_array_mut)
                        .and_then(|a| a.get_mut(i))
                    {
                        Some(slot) => {
                            *slot = old;
                            true
                        }
                        None => false,
                    }
                }
                Undo::Reinsert { at, items } => match resolve_mut(root, &at).and_then(Value::as_array_mut) {
                    Some(arr) => {
                        reinsert(arr, items);
                        true
                    }
                    None => false,
                },
            };
            // Entries are undone in reverse order, so every container an entry names exists
            // again when its turn comes.
            debug_assert!(restored, "PATCH journal could not find a container to restore");
        }
    }
}

fn object_at<'a>(root: &'a mut Value, at: &[Step]) -> Result<&'a mut Map<String, Value>, NoContainer> {
    resolve_mut(root, at)
        .and_then(Value::as_object_mut)
        .ok_or(NoContainer)
}

fn reinsert(arr: &mut Vec<Value>, items: Vec<(usize, Value)>) {
    if items.len() <= 4 {
        for (i, v) in items {
            let i = i.min(arr.len());
            arr.insert(i, v);
        }
        return;
    }
    let rest = std::mem::take(arr);
    arr.reserve(rest.len() + items.len());
    let mut rest = rest.into_iter();
    for (i, v) in items {
        while arr.len() < i {
            match rest.next() {
                Some(x) => arr.push(x),
                None => break,
            }
        }
        arr.push(v);
    }
    arr.extend(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollback_restores_every_primitive() {
        let original = json!({
            "a": 1,
            "list": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            "obj": {"x": "y"}
        });
        let mut doc = original.clone();
        let mut j = Journal::default();
        let list = vec![Step::Key("list".into())];
        assert!(j.set(&mut doc, &[], "a", json!(2)).unwrap());
        assert!(!j.set(&mut doc, &[], "a", json!(2)).unwrap());
        assert!(j.set(&mut doc, &[], "new", json!("n")).unwrap());
        assert!(j.remove(&mut doc, &[Step::Key("obj".into())], "x").unwrap());
        j.push(&mut doc, &list, json!(10)).unwrap();
        j.push(&mut doc, &list, json!(11)).unwrap();
        j.remove_indices(&mut doc, &list, &[0, 2]).unwrap();
        j.remove_indices(&mut doc, &list, &[1, 2, 3, 5, 8]).unwrap();
        assert!(j.replace_element(&mut doc, &list, 0, json!("x")).unwrap());
        j.set(
            &mut doc,
            &[Step::Key("list".into()), Step::Index(0)],
            "k",
            json!(1),
        )
        .unwrap_err();
        assert_ne!(doc, original);
        j.rollback(&mut doc);
        assert_eq!(doc, original);
    }

    #[test]
    fn equal_values_record_nothing() {
        let mut doc = json!({"a": [1]});
        let mut j = Journal::default();
        assert!(!j.set(&mut doc, &[], "a", json!([1])).unwrap());
        assert!(j.is_empty());
    }
}
