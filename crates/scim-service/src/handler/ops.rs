//! The operations: create, read, replace, patch, delete, search and bulk, each in one store
//! transaction committed only when the whole operation succeeded.

use std::collections::{BTreeMap, HashSet};

use fedkit_scim::bulk::{BulkIds, BulkMethod, BulkOperation, BulkOperationResult, BulkRequest, BulkResponse};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use fedkit_scim::list::SearchRequest;
use fedkit_scim::patch::{self, PatchRequest};
use fedkit_scim::projection::Projection;
use fedkit_scim::resource::{get_attr, version_of, MetaContext, ResourceError, ResourceSchema};
use serde_json::{json, Map, Value};

use super::route::tag_list_matches;
use super::{json_response, DeleteAction, RequestContext, ScimResponse, ScimService};
use crate::events::Event;
use crate::store::{member_ids, ResourceKind, StoreError, Transaction};

/// `If-Match` / `If-None-Match` of a request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Preconditions<'a> {
    pub(crate) if_match: Option<&'a str>,
    pub(crate) if_none_match: Option<&'a str>,
}

/// A resource after a write, as the client sees it.
pub(super) struct Written {
    pub(super) resource: Value,
    pub(super) version: String,
    pub(super) location: String,
}

pub(crate) struct Ops<'s> {
    pub(super) service: &'s ScimService,
    pub(super) ctx: &'s RequestContext<'s>,
    pub(super) meta: MetaContext,
    /// Whether a group written in place is returned with its members (false for bulk, and
    /// when the request's projection drops them).
    pub(super) members_in_response: std::cell::Cell<bool>,
}

pub(super) type Tx<'a> = Box<dyn Transaction + 'a>;

pub(super) fn store_error(err: StoreError) -> ScimError {
    match err {
        StoreError::Conflict {
            kind,
            attribute,
            value,
        } => ScimError::uniqueness(format!(
            "another {kind} of this tenant already has {attribute} {value:?} ({attribute} is \
             compared case-insensitively); look the existing one up with a filter and update it instead"
        )),
        StoreError::NotFound { kind, id } => ScimError::not_found(format!("no {kind} with id {id:?}")),
        StoreError::DuplicateId { kind, id } => {
            ScimError::uniqueness(format!("a {kind} with id {id:?} already exists"))
        }
        StoreError::Busy { detail } => ScimError::new(
            503,
            None,
            format!("the service is busy, retry shortly ({detail})"),
        ),
        other => ScimError::new(500, None, format!("the service's storage failed: {other}")),
    }
}

pub(super) fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::not_found(format!(
        "no {} with id {id:?} in this tenant (it may have been deleted)",
        kind.name()
    ))
}

fn is_active(resource: &Value) -> bool {
    resource
        .as_object()
        .and_then(|o| get_attr(o, "active"))
        .and_then(Value::as_bool)
        != Some(false)
}

/// A new resource's id, from the host's [`crate::ids::IdSource`], checked.
fn new_id(service: &ScimService) -> Result<String, ScimError> {
    service
        .ids
        .next_id()
        .and_then(|id| crate::ids::check_id(&id).map(|()| id))
        .map_err(|e| ScimError::new(500, None, format!("no id for the new resource: {e}")))
}

/// The 500 for an id the host's id source returned twice.
fn repeated_id(holder: ResourceKind, id: &str) -> ScimError {
    ScimError::new(
        500,
        None,
        format!(
            "the service's id source returned {id:?}, which a {} of this tenant already has; \
             an IdSource must never repeat an id",
            holder.name()
        ),
    )
}

/// The top-level attributes whose values differ (meta and groups excluded).
fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "meta" | "groups" | "schemas"))
        .filter(|k| b.get(k.as_str()) != a.get(k.as_str()))
        .cloned()
        .collect()
}

impl<'s> Ops<'s> {
    pub(crate) fn new(service: &'s ScimService, ctx: &'s RequestContext<'s>) -> Self {
        Self {
            service,
            ctx,
            meta: MetaContext::new(ctx.now, ctx.base_url),
            members_in_response: std::cell::Cell::new(true),
        }
    }

    pub(super) fn begin(&self) -> Result<Tx<'s>, ScimError> {
        self.service.store.begin(self.ctx.tenant).map_err(store_error)
    }

    /// A transaction for a request that only reads.
    pub(super) fn begin_read(&self) -> Result<Tx<'s>, ScimError> {
        self.service
            .store
            .begin_read(self.ctx.tenant)
            .map_err(store_error)
    }

    /// Commits, then delivers the events.
    pub(super) fn commit(&self, tx: Tx<'_>, events: Vec<Event>) -> Result<(), ScimError> {
        tx.commit().map_err(store_error)?;
        if let (Some(sink), false) = (&self.service.events, events.is_empty()) {
            sink.deliver(&events);
        }
        Ok(())
    }

    pub(super) fn schema(&self, kind: ResourceKind) -> Result<ResourceSchema<'s>, ScimError> {
        Ok(ResourceSchema::new(&self.service.registry, kind.name())?
            .with_options(*self.service.config.validation_options()))
    }

    fn parse_body(&self, body: &[u8]) -> Result<Value, ScimError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "the request has no body; send a SCIM JSON document",
            ));
        }
        let max = self.service.config.max_body_bytes();
        if body.len() > max {
            return Err(ResourceError::TooLarge {
                max,
                actual: body.len(),
            }
            .into());
        }
        Ok(fedkit_scim::json::parse(body).map_err(ResourceError::from)?)
    }

    pub(crate) fn parse_search_body(&self, body: &[u8]) -> Result<SearchRequest, ScimError> {
        let value = self.parse_body(body)?;
        Ok(SearchRequest::from_json(
            &value,
            self.service.config.filter_limits(),
        )?)
    }

    pub(super) fn location(&self, kind: ResourceKind, id: &str) -> Result<String, ScimError> {
        Ok(self.schema(kind)?.location(id, &self.meta.base_url))
    }

    /// Adds what is derived at read time (a user's `groups`) and the version of the result.
    pub(super) fn render_many(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        mut resources: Vec<Value>,
    ) -> Result<Vec<Value>, ScimError> {
        if kind == ResourceKind::User && !resources.is_empty() {
            let ids: Vec<&str> = resources
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str))
                .collect();
            let mut by_member: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
            for m in tx.memberships(&ids).map_err(store_error)? {
                by_member
                    .entry(m.member_id)
                    .or_default()
                    .push((m.group_id, m.group_display));
            }
            let groups_base = format!("{}/Groups/", self.meta.base_url);
            for r in &mut resources {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                let Some(obj) = r.as_object_mut() else { continue };
                if let Some(k) = fedkit_scim::resource::find_key(obj, "groups").map(str::to_owned) {
                    obj.remove(&k);
                }
                if let Some(mut groups) = by_member.remove(&id) {
                    groups.sort();
                    let list: Vec<Value> = groups
                        .into_iter()
                        .map(|(gid, display)| {
                            let mut g = json!({"value": gid, "$ref": format!("{groups_base}{gid}"), "type": "direct"});
                            if let (Some(d), Some(o)) = (display, g.as_object_mut()) {
                                o.insert("display".into(), Value::String(d));
                            }
                            g
                        })
                        .collect();
                    obj.insert("groups".into(), Value::Array(list));
                }
            }
        }
        for r in &mut resources {
            if let Some(obj) = r.as_object_mut() {
                let version = if kind == ResourceKind::Group {
                    super::members::group_version(obj)
                } else {
                    version_of(obj)
                };
                if let Some(Value::Object(meta)) = obj.get_mut("meta") {
                    meta.insert("version".into(), Value::String(version));
                }
            }
        }
        Ok(resources)
    }

    pub(super) fn render(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        resource: Value,
    ) -> Result<Value, ScimError> {
        Ok(self
            .render_many(tx, kind, vec![resource])?
            .pop()
            .unwrap_or(Value::Null))
    }

    pub(super) fn written(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        mut stored: Value,
    ) -> Result<Written, ScimError> {
        if kind == ResourceKind::Group && member_ids(&stored).len() > self.service.config.max_inline_members()
        {
            crate::store::drop_members(&mut stored);
        }
        let resource = self.render(tx, kind, stored)?;
        let version = version_str(&resource);
        let id = resource.get("id").and_then(Value::as_str).unwrap_or_default();
        let location = self.location(kind, id)?;
        Ok(Written {
            resource,
            version,
            location,
        })
    }

    fn load(&self, tx: &mut Tx<'_>, kind: ResourceKind, id: &str) -> Result<Value, ScimError> {
        tx.get(kind, id)
            .map_err(store_error)?
            .ok_or_else(|| not_found(kind, id))
    }

    /// Checks `If-Match` against the current (rendered) version.
    pub(super) fn check_if_match(
        &self,
        tx: &mut Tx<'_>,
        kind: ResourceKind,
        stored: &Value,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let Some(expected) = if_match else {
            return Ok(());
        };
        let current = version_str(&self.render(tx, kind, stored.clone())?);
        if tag_list_matches(expected, &current) {
            Ok(())
        } else {
            Err(ScimError::new(
                412,
                None,
                format!(
                    "the {} changed since you read it: If-Match {expected} but the current version is {current}; \
                     GET it again and retry",
                    kind.name()
                ),
            ))
        }
    }

    /// Group checks before a write: members exist, no self-membership, members without
    /// duplicates, unique displayName when configured.
    /// Only members not already in `previous` (the stored group) are looked up, so adding one
    /// member to a large group costs one lookup.
    pub(super) fn check_group(
        &self,
        tx: &mut Tx<'_>,
        group: &mut Value,
        previous: Option<&Value>,
    ) -> Result<(), ScimError> {
        let known: HashSet<&str> = previous.map(member_ids).unwrap_or_default().into_iter().collect();
        let id = group
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(Value::Array(members)) = group.as_object_mut().and_then(|o| {
            let k = fedkit_scim::resource::find_key(o, "members")?.to_owned();
            o.get_mut(&k)
        }) {
            let mut seen = HashSet::new();
            members.retain(|m| {
                let v = m
                    .as_object()
                    .and_then(|o| get_attr(o, "value"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                v.is_none_or(|v| seen.insert(v))
            });
        }
        for member in member_ids(group) {
            if member == id {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("a group cannot be a member of itself (members value {member:?})"),
                ));
            }
            if self.service.config.member_check()
                && !known.contains(member)
                && tx.get(ResourceKind::User, member).map_err(store_error)?.is_none()
                && tx
                    .get(ResourceKind::Group, member)
                    .map_err(store_error)?
                    .is_none()
            {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!(
                        "members value {member:?} is neither a user nor a group of this tenant; \
                         create the user first, then add it to the group"
                    ),
                ));
            }
        }
        if self.service.config.unique_group_display_name() {
            if let Some(name) = group
                .as_object()
                .and_then(|o| get_attr(o, "displayName"))
                .and_then(Value::as_str)
            {
                let filter = Filter::Compare {
                    path: AttrPath::new("displayName"),
                    op: CompareOp::Eq,
                    value: CompValue::String(name.to_owned()),
                };
                let lower = name.to_lowercase();
                let clash = tx
                    .find(ResourceKind::Group, Some(&filter))
                    .map_err(store_error)?
                    .into_iter()
                    .any(|g| {
                        g.get("id").and_then(Value::as_str) != Some(id.as_str())
                            && g.as_object()
                                .and_then(|o| get_attr(o, "displayName"))
                                .and_then(Value::as_str)
                                .is_some_and(|n| n.to_lowercase() == lower)
                    });
                if clash {
                    return Err(ScimError::uniqueness(format!(
                        "another group of this tenant is already named {name:?} (displayName is unique on this service)"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Reports the `schemas` entries validation ignored ([`Event::SchemaIgnored`]).
    fn note_ignored_schemas(
        &self,
        schema: &ResourceSchema<'_>,
        kind: ResourceKind,
        id: &str,
        input: &Value,
        events: &mut Vec<Event>,
    ) {
        let urns = schema.ignored_schemas(input);
        if !urns.is_empty() {
            events.push(Event::SchemaIgnored {
                tenant: self.ctx.tenant.clone(),
                kind,
                id: id.to_owned(),
                urns,
            });
        }
    }

    /// The events of a change from `before` to `after` (either may be absent).
    pub(super) fn change_events(
        &self,
        kind: ResourceKind,
        id: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Vec<Event> {
        let tenant = self.ctx.tenant.clone();
        let mut events = Vec::new();
        match (before, after) {
            (None, Some(_)) => events.push(Event::Created {
                tenant: tenant.clone(),
                kind,
                id: id.to_owned(),
            }),
            (Some(b), Some(a)) => {
                let mut attributes = changed_attributes(b, a);
                if kind == ResourceKind::User && is_active(b) != is_active(a) {
                    attributes.retain(|k| !k.eq_ignore_ascii_case("active"));
                    events.push(if is_active(a) {
                        Event::Reactivated {
                            tenant: tenant.clone(),
                            id: id.to_owned(),
                        }
                    } else {
                        Event::Deactivated {
                            tenant: tenant.clone(),
                            id: id.to_owned(),
                        }
                    });
                }
                if kind == ResourceKind::Group {
                    attributes.retain(|k| !k.eq_ignore_ascii_case("members"));
                }
                if !attributes.is_empty() {
                    events.push(Event::Updated {
                        tenant: tenant.clone(),
                        kind,
                        id: id.to_owned(),
                        attributes,
                    });
                }
            }
            (Some(_), None) => events.push(Event::Deleted {
                tenant: tenant.clone(),
                kind,
                id: id.to_owned(),
            }),
            (None, None) => {}
        }
        if kind == ResourceKind::Group {
            let b: Vec<&str> = before.map(member_ids).unwrap_or_default();
            let a: Vec<&str> = after.map(member_ids).unwrap_or_default();
            let b_set: HashSet<&str> = b.iter().copied().collect();
            let a_set: HashSet<&str> = a.iter().copied().collect();
            let added: Vec<String> = a
                .iter()
                .filter(|m| !b_set.contains(*m))
                .map(|m| (*m).to_owned())
                .collect();
            let removed: Vec<String> = b
                .iter()
                .filter(|m| !a_set.contains(*m))
                .map(|m| (*m).to_owned())
                .collect();
            if !added.is_empty() || !removed.is_empty() {
                events.push(Event::MembershipChanged {
                    tenant,
                    group_id: id.to_owned(),
                    added,
                    removed,
                });
            }
        }
        events
    }

    // ---------------------------------------------------------------------------------
    // The operations, as used by both single requests and bulk.

    fn do_create(&self, kind: ResourceKind, input: &Value) -> Result<Written, ScimError> {
        let schema = self.schema(kind)?;
        let mut tx = self.begin()?;
        let id = new_id(self.service)?;
        // RFC 7643 §3.1: unique across all the tenant's resources, not only those of one
        // kind (a member `value` names a user or a group by id alone). The store refuses a
        // taken id of the same kind on insert; the other kinds are looked up here.
        for other in ResourceKind::ALL.into_iter().filter(|k| *k != kind) {
            if tx.get_attributes(other, &id).map_err(store_error)?.is_some() {
                return Err(repeated_id(other, &id));
            }
        }
        let mut resource = schema.create(input, &id, &self.meta)?;
        if kind == ResourceKind::Group {
            self.check_group(&mut tx, &mut resource, None)?;
            super::members::seal(&mut resource);
        }
        tx.insert(kind, &resource).map_err(|e| match e {
            // Ids are the service's to assign (RFC 7643 §3.1): a taken one is the id
            // source's fault, not the client's.
            StoreError::DuplicateId { id, .. } => repeated_id(kind, &id),
            other => store_error(other),
        })?;
        let mut events = self.change_events(kind, &id, None, Some(&resource));
        self.note_ignored_schemas(&schema, kind, &id, input, &mut events);
        let written = self.written(&mut tx, kind, resource)?;
        self.commit(tx, events)?;
        Ok(written)
    }

    fn do_replace(
        &self,
        kind: ResourceKind,
        id: &str,
        input: &Value,
        if_match: Option<&str>,
    ) -> Result<Written, ScimError> {
        let schema = self.schema(kind)?;
        let mut tx = self.begin()?;
        let mut stored = self.load(&mut tx, kind, id)?;
        self.check_if_match(&mut tx, kind, &stored, if_match)?;
        let sealed = super::members::unseal(&mut stored);
        let mut updated = schema.replace(&stored, input, &self.meta)?;
        if kind == ResourceKind::User {
            // `groups` is derived, never stored.
            if let Some(o) = updated.as_object_mut() {
                o.remove("groups");
            }
        }
        if kind == ResourceKind::Group {
            self.check_group(&mut tx, &mut updated, Some(&stored))?;
        }
        let mut events = self.change_events(kind, id, Some(&stored), Some(&updated));
        self.note_ignored_schemas(&schema, kind, id, input, &mut events);
        if updated != stored {
            if kind == ResourceKind::Group {
                super::members::seal(&mut updated);
            }
            tx.update(kind, &updated).map_err(store_error)?;
        } else {
            super::members::reseal(&mut updated, sealed);
        }
        let written = self.written(&mut tx, kind, updated)?;
        self.commit(tx, events)?;
        Ok(written)
    }

    fn do_patch(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<Written, ScimError> {
        let options = self.service.config.patch_options();
        let request = PatchRequest::parse_with_options(body, options)?;
        if kind == ResourceKind::Group {
            if let Some(written) = self.patch_members_in_place(id, body, &request, if_match)? {
                return Ok(written);
            }
        }
        let schema = self.schema(kind)?;
        let mut tx = self.begin()?;
        let mut stored = self.load(&mut tx, kind, id)?;
        self.check_if_match(&mut tx, kind, &stored, if_match)?;
        let sealed = super::members::unseal(&mut stored);
        let mut working = stored.clone();
        let outcome = patch::apply(
            &self.service.registry,
            kind.name(),
            &mut working,
            &request,
            options,
        )?;
        if !outcome.changed {
            super::members::reseal(&mut stored, sealed);
            let written = self.written(&mut tx, kind, stored)?;
            self.commit(tx, Vec::new())?;
            return Ok(written);
        }
        let mut updated = schema.finish_update(&stored, working, &self.meta);
        if kind == ResourceKind::Group {
            self.check_group(&mut tx, &mut updated, Some(&stored))?;
        }
        // The result must still be a valid resource (e.g. a required attribute removed).
        schema.validate_stored(&updated)?;
        let events = self.change_events(kind, id, Some(&stored), Some(&updated));
        if kind == ResourceKind::Group {
            super::members::seal(&mut updated);
        }
        tx.update(kind, &updated).map_err(store_error)?;
        let written = self.written(&mut tx, kind, updated)?;
        self.commit(tx, events)?;
        Ok(written)
    }

    fn do_delete(&self, kind: ResourceKind, id: &str, if_match: Option<&str>) -> Result<(), ScimError> {
        let mut tx = self.begin()?;
        let stored = self.load(&mut tx, kind, id)?;
        self.check_if_match(&mut tx, kind, &stored, if_match)?;
        let action = match (&self.service.config.user_deletion(), kind) {
            (Some(policy), ResourceKind::User) => policy(self.ctx.tenant, &stored),
            _ => DeleteAction::Delete,
        };
        if action == DeleteAction::Deactivate {
            let mut working = stored.clone();
            if let Some(o) = working.as_object_mut() {
                if let Some(k) = fedkit_scim::resource::find_key(o, "active").map(str::to_owned) {
                    o.remove(&k);
                }
                o.insert("active".into(), Value::Bool(false));
            }
            let schema = self.schema(kind)?;
            let updated = schema.finish_update(&stored, working, &self.meta);
            let events = self.change_events(kind, id, Some(&stored), Some(&updated));
            if updated != stored {
                tx.update(kind, &updated).map_err(store_error)?;
            }
            return self.commit(tx, events);
        }
        // Remove it from every group it is a member of, in the same transaction: one row per
        // membership, whatever the size of the groups.
        let mut events = self.remove_from_groups(&mut tx, id)?;
        tx.delete(kind, id).map_err(store_error)?;
        events.extend(self.change_events(kind, id, Some(&stored), None));
        self.commit(tx, events)
    }

    // ---------------------------------------------------------------------------------
    // Single requests.

    fn resource_response(
        &self,
        status: u16,
        kind: ResourceKind,
        written: &Written,
        projection: &Projection,
        location: bool,
    ) -> Result<ScimResponse, ScimError> {
        let body = projection.apply(&written.resource, &self.schema(kind)?);
        let mut response = json_response(status, &body);
        response.headers.push(("ETag", written.version.clone()));
        if location {
            response.headers.push(("Location", written.location.clone()));
        }
        Ok(response)
    }

    pub(crate) fn create(
        &self,
        kind: ResourceKind,
        body: &[u8],
        projection: &Projection,
    ) -> Result<ScimResponse, ScimError> {
        let input = self.parse_body(body)?;
        let written = self.do_create(kind, &input)?;
        self.resource_response(201, kind, &written, projection, true)
    }

    pub(crate) fn get(
        &self,
        kind: ResourceKind,
        id: &str,
        pre: &Preconditions<'_>,
        projection: &Projection,
    ) -> Result<ScimResponse, ScimError> {
        let mut tx = self.begin_read()?;
        let stored = if kind == ResourceKind::Group {
            self.load_group(&mut tx, id, projection)?
        } else {
            self.load(&mut tx, kind, id)?
        };
        self.check_if_match(&mut tx, kind, &stored, pre.if_match)?;
        let written = self.written(&mut tx, kind, stored)?;
        drop(tx);
        if pre
            .if_none_match
            .is_some_and(|h| tag_list_matches(h, &written.version))
        {
            return Ok(ScimResponse {
                status: 304,
                headers: vec![("ETag", written.version), ("Location", written.location)],
                body: Vec::new(),
            });
        }
        self.resource_response(200, kind, &written, projection, true)
    }

    pub(crate) fn replace(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &[u8],
        pre: &Preconditions<'_>,
        projection: &Projection,
    ) -> Result<ScimResponse, ScimError> {
        let input = self.parse_body(body)?;
        let written = self.do_replace(kind, id, &input, pre.if_match)?;
        self.resource_response(200, kind, &written, projection, true)
    }

    pub(crate) fn patch(
        &self,
        kind: ResourceKind,
        id: &str,
        body: &[u8],
        pre: &Preconditions<'_>,
        projection: &Projection,
    ) -> Result<ScimResponse, ScimError> {
        let input = self.parse_body(body)?;
        if kind == ResourceKind::Group {
            self.members_in_response.set(self.members_wanted(projection)?.0);
        }
        let written = self.do_patch(kind, id, &input, pre.if_match)?;
        self.resource_response(200, kind, &written, projection, true)
    }

    pub(crate) fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        pre: &Preconditions<'_>,
    ) -> Result<ScimResponse, ScimError> {
        self.do_delete(kind, id, pre.if_match)?;
        Ok(ScimResponse {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    // ---------------------------------------------------------------------------------
    // Bulk (RFC 7644 §3.7): each operation is its own transaction, as the RFC makes
    // operations independent; `failOnErrors` stops processing after that many errors.

    pub(crate) fn bulk(&self, body: &[u8]) -> Result<ScimResponse, ScimError> {
        let request = BulkRequest::parse(body, self.service.config.bulk_limits())?;
        // Bulk results carry no resource.
        self.members_in_response.set(false);
        let order = request.execution_order()?;
        let mut ids = BulkIds::new();
        let mut results = Vec::new();
        let mut errors = 0usize;
        for index in order {
            if request.should_stop(errors) {
                break;
            }
            let Some(op) = request.operations.get(index) else {
                continue;
            };
            match self.bulk_operation(op, &mut ids) {
                Ok(result) => results.push(result),
                Err(e) => {
                    errors += 1;
                    results.push(BulkOperationResult::failure(op, &e));
                }
            }
        }
        Ok(json_response(
            200,
            &BulkResponse { operations: results }.to_json(),
        ))
    }

    fn bulk_operation(
        &self,
        op: &BulkOperation,
        ids: &mut BulkIds,
    ) -> Result<BulkOperationResult, ScimError> {
        let path = ids.resolve_path(&op.path)?;
        let data = op.data.as_ref().map(|d| ids.resolve_data(d)).transpose()?;
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let bad_path = || {
            ScimError::bad_request(
                ScimType::InvalidPath,
                format!(
                    "bulk path {:?} must be /Users, /Groups, /Users/{{id}} or /Groups/{{id}}",
                    op.path
                ),
            )
        };
        let kind = segs
            .first()
            .and_then(|s| super::route::kind_of(s))
            .ok_or_else(bad_path)?;
        let need_data = || {
            data.as_ref().ok_or_else(|| {
                ScimError::bad_request(
                    ScimType::InvalidSyntax,
                    format!("bulk {} needs \"data\"", op.method.as_str()),
                )
            })
        };
        match (op.method, segs.as_slice()) {
            (BulkMethod::Post, [_]) => {
                let written = self.do_create(kind, need_data()?)?;
                if let (Some(bulk_id), Some(id)) =
                    (&op.bulk_id, written.resource.get("id").and_then(Value::as_str))
                {
                    ids.insert(bulk_id.clone(), id);
                }
                Ok(BulkOperationResult::success(
                    op,
                    201,
                    Some(written.location),
                    Some(written.version),
                ))
            }
            (BulkMethod::Put, [_, id]) => {
                let written = self.do_replace(kind, id, need_data()?, op.version.as_deref())?;
                Ok(BulkOperationResult::success(
                    op,
                    200,
                    Some(written.location),
                    Some(written.version),
                ))
            }
            (BulkMethod::Patch, [_, id]) => {
                let written = self.do_patch(kind, id, need_data()?, op.version.as_deref())?;
                Ok(BulkOperationResult::success(
                    op,
                    200,
                    Some(written.location),
                    Some(written.version),
                ))
            }
            (BulkMethod::Delete, [_, id]) => {
                self.do_delete(kind, id, op.version.as_deref())?;
                Ok(BulkOperationResult::success(
                    op,
                    204,
                    Some(self.location(kind, id)?),
                    None,
                ))
            }
            _ => Err(bad_path()),
        }
    }
}

pub(super) fn version_str(resource: &Value) -> String {
    resource
        .get("meta")
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
