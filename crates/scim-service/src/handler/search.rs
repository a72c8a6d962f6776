//! Lists and searches (RFC 7644 §3.4.2, §3.4.3): paged by the store when it can
//! ([`Transaction::find_page`](crate::store::Transaction::find_page)), else read chunk by
//! chunk ([`Transaction::find_chunk`](crate::store::Transaction::find_chunk)), filtered here
//! and cut to the page as the matches stream past, so a query's memory follows its page, not
//! the directory.

use fedkit_scim::error::ScimError;
use fedkit_scim::filter::{CompValue, CompareOp, CompiledFilter, EvalContext, Filter};
use fedkit_scim::list::{ListResponse, PageWindow, SearchRequest, SortOrder};
use serde_json::Value;

use super::ops::{store_error, Ops, Tx};
use super::{json_response, ScimResponse};
use crate::store::{PageQuery, ResourceKind, SortKey};

/// Candidates read per statement when groups come without their members.
pub(super) const CHUNK: usize = 256;
/// Candidates read per statement when the filter or the sort needs groups' members (each
/// group may carry up to the whole member list).
pub(super) const MEMBER_CHUNK: usize = 16;

/// Whether the filter or the sort names `groups`, which the handler computes for users from
/// the memberships (so the candidates are rendered before the filter sees them).
fn mentions_groups(filter: Option<&Filter>, search: &SearchRequest) -> bool {
    let f = filter.is_some_and(|f| f.to_string().to_ascii_lowercase().contains("groups"));
    let s = search
        .sort
        .as_ref()
        .is_some_and(|s| s.by.name.eq_ignore_ascii_case("groups"));
    f || s
}

/// What a page keeps of a match until the page is rendered.
enum Held {
    /// The candidate as read (`true`: already rendered, or a group with its members).
    Read(Value, bool),
    /// Only its id, read again once the page is known (a sorted page keeps every entry
    /// that can still be on it, and ids are small).
    Id(String),
}

impl<'s> Ops<'s> {
    /// A query over one or (root `/.search`) several resource types. At the root the list
    /// is the matching users, then the matching groups, each sorted by itself.
    pub(crate) fn search(
        &self,
        kinds: &[ResourceKind],
        search: &SearchRequest,
    ) -> Result<ScimResponse, ScimError> {
        let mut tx = self.begin_read()?;
        if let [kind] = kinds {
            if let Some(response) = self.search_in_store(&mut tx, *kind, search)? {
                return Ok(response);
            }
        }
        let page = search.pagination(self.service.config.list_limits());
        let start = page.start_index.saturating_sub(1);
        let end = start.saturating_add(page.count);
        let mut total = 0usize;
        let mut resources = Vec::new();
        let mut first_error = None;
        let mut compiled_any = false;
        for &kind in kinds {
            let eval = EvalContext::new(&self.service.registry, kind.name());
            let compiled: Option<CompiledFilter<'_>> = match &search.filter {
                None => None,
                Some(f) => match f.compile(&eval) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        // At the root, a filter may fit only some resource types.
                        first_error.get_or_insert(e);
                        continue;
                    }
                },
            };
            compiled_any = true;
            // This type's part of the page: the types' lists follow one another.
            let from = start.saturating_sub(total);
            let count = end.saturating_sub(total.max(start));
            let (matched, held) = self.scan(&mut tx, kind, search, compiled.as_ref(), from, count)?;
            total = total.saturating_add(matched);
            for held in held {
                let (resource, rendered) = match held {
                    Held::Read(r, rendered) => (r, rendered),
                    Held::Id(id) => {
                        let again = if kind == ResourceKind::Group {
                            tx.get_attributes(kind, &id)
                        } else {
                            tx.get(kind, &id)
                        };
                        match again.map_err(store_error)? {
                            Some(r) => (r, false),
                            // Not in this read's snapshot any more: nothing to show.
                            None => continue,
                        }
                    }
                };
                let resource = if kind == ResourceKind::Group {
                    self.page_group(&mut tx, resource, &search.projection, rendered)?
                } else if rendered {
                    resource
                } else {
                    self.render(&mut tx, kind, resource)?
                };
                resources.push(search.projection.apply(&resource, &self.schema(kind)?));
            }
        }
        if !compiled_any {
            if let Some(e) = first_error {
                return Err(e.into());
            }
        }
        drop(tx);
        Ok(json_response(
            200,
            &ListResponse::new(total, page.start_index, resources).to_json(),
        ))
    }

    /// The matches of `kind` (how many, and the entries `from .. from + count` of their
    /// list) read chunk by chunk: the store pushes down what its indexes answer, the
    /// compiled filter decides, and only what the page can still need is kept.
    fn scan(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        search: &SearchRequest,
        compiled: Option<&CompiledFilter<'_>>,
        from: usize,
        count: usize,
    ) -> Result<(usize, Vec<Held>), ScimError> {
        // Groups' members are read only when the filter or the sort needs them; the page's
        // groups get theirs (up to the inline cap) once it is cut.
        let needs_members =
            kind == ResourceKind::Group && super::members::mentions_members(search.filter.as_ref(), search);
        let render_first = kind == ResourceKind::User && mentions_groups(search.filter.as_ref(), search);
        let loaded = render_first || needs_members;
        let schema = self.schema(kind)?;
        let mut window = search
            .sort
            .as_ref()
            .map(|sort| PageWindow::new(Some(sort), &schema, from, count));
        let mut matched = 0usize;
        let mut kept = Vec::new();
        let mut after = None;
        loop {
            let size = if needs_members { MEMBER_CHUNK } else { CHUNK };
            let chunk = tx
                .find_chunk(kind, search.filter.as_ref(), needs_members, after, size)
                .map_err(store_error)?;
            let candidates = if render_first {
                self.render_many(tx, kind, chunk.resources)?
            } else {
                chunk.resources
            };
            for r in candidates {
                if !compiled.is_none_or(|c| c.matches(&r)) {
                    continue;
                }
                match &mut window {
                    Some(w) => {
                        let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                        w.push(&r, id);
                    }
                    None => {
                        if matched >= from && matched - from < count {
                            kept.push(Held::Read(r, loaded));
                        }
                        matched += 1;
                    }
                }
            }
            match chunk.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(match window {
            Some(w) => {
                let (total, ids) = w.finish();
                (total, ids.into_iter().map(Held::Id).collect())
            }
            None => (matched, kept),
        })
    }

    /// A list or search answered by the store's paging ([`crate::store::Transaction::find_page`]):
    /// no filter, a filter the store's indexes answer exactly, or (users) `groups.value eq "…"`;
    /// creation order or `sortBy=userName`.
    /// `None` when the query needs the handler's own filtering.
    pub(super) fn search_in_store(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        search: &SearchRequest,
    ) -> Result<Option<ScimResponse>, ScimError> {
        let mut filter = None;
        let member_of = match (&search.filter, kind) {
            (None, _) => None,
            (
                Some(Filter::Compare {
                    path,
                    op: CompareOp::Eq,
                    value: CompValue::String(v),
                }),
                ResourceKind::User,
            ) if path.urn.is_none()
                && path.name.eq_ignore_ascii_case("groups")
                && path
                    .sub_attr
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("value"))
                && v.is_ascii() =>
            {
                Some(v.as_str())
            }
            (Some(f), _) => {
                // Any other filter goes to the store, which pages it only when its indexes
                // answer it exactly (else `None`: the handler's evaluator below). It must
                // first be valid for this type; the fallback reports why it is not.
                let eval = EvalContext::new(&self.service.registry, kind.name());
                if f.compile(&eval).is_err() {
                    return Ok(None);
                }
                filter = Some(f);
                None
            }
        };
        let sort = match &search.sort {
            None => None,
            Some(s)
                if kind == ResourceKind::User
                    && s.by.name.eq_ignore_ascii_case("userName")
                    && s.by.sub_attr.is_none()
                    && s.by.urn.as_deref().is_none_or(|u| {
                        u.eq_ignore_ascii_case("urn:ietf:params:scim:schemas:core:2.0:User")
                    }) =>
            {
                Some((SortKey::UserName, s.order == SortOrder::Descending))
            }
            Some(_) => return Ok(None),
        };
        let page = search.pagination(self.service.config.list_limits());
        let (keeps, explicit) = if kind == ResourceKind::Group {
            self.members_wanted(&search.projection)?
        } else {
            (false, false)
        };
        let mut query = PageQuery::new(page.start_index.saturating_sub(1), page.count);
        query.filter = filter;
        query.member_of = member_of;
        query.sort = sort;
        query.members = keeps;
        query.member_cap = self.member_cap();
        let Some(found) = tx.find_page(kind, &query).map_err(store_error)? else {
            return Ok(None);
        };
        if explicit {
            for g in &found.resources {
                if g.get("members").is_none() {
                    let id = g.get("id").and_then(Value::as_str).unwrap_or_default();
                    let count = tx.member_count(id).map_err(store_error)?.unwrap_or_default();
                    if count > self.member_cap() {
                        return Err(self.too_many(id, count));
                    }
                }
            }
        }
        let schema = self.schema(kind)?;
        let resources: Vec<Value> = self
            .render_many(tx, kind, found.resources)?
            .iter()
            .map(|r| search.projection.apply(r, &schema))
            .collect();
        Ok(Some(json_response(
            200,
            &ListResponse::new(found.total, page.start_index, resources).to_json(),
        )))
    }
}
