//! The login path's directory lookup: is this user provisioned, and active?

use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, EvalContext, Filter};
use fedkit_scim::resource::get_attr;
use serde_json::Value;

use super::ScimService;
use crate::auth::TenantId;
use crate::store::{ResourceKind, StoreError};

/// The attribute [`ScimService::user_status`] finds a user by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserKey<'a> {
    /// `userName`, compared as a SCIM filter `userName eq` compares it (case-insensitively;
    /// unique in a tenant).
    UserName(&'a str),
    /// `externalId`, the IdP's own identifier (caseExact; RFC 7643 does not make it unique).
    ExternalId(&'a str),
}

/// What the login path needs to know about a provisioned user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserStatus {
    /// The SCIM `id`.
    pub id: String,
    /// Whether the user may log in: `false` only when `active` is stored as `false` (RFC 7643
    /// §4.1.1 gives `active` no default; IdPs deactivate by sending `false`).
    pub active: bool,
    /// The `userName`.
    pub user_name: String,
    /// The `externalId`, when the IdP set one.
    pub external_id: Option<String>,
}

/// Why [`ScimService::user_status`] has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserStatusError {
    /// The store failed (see [`StoreError::code`]).
    #[error("the directory lookup failed: {0}")]
    Store(#[from] StoreError),
    /// More than one user has this `externalId`: the IdP reused it, so it cannot identify a
    /// login. Look the user up by `userName`, or correct the IdP's attribute mapping.
    #[error(
        "{count} users have externalId {value:?}; an externalId that identifies a login must be \
         unique: look the user up by userName or fix the IdP's externalId mapping"
    )]
    Ambiguous {
        /// The `externalId` looked up.
        value: String,
        /// How many users have it.
        count: usize,
    },
}

impl UserStatusError {
    /// A stable `snake_case` code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            UserStatusError::Store(e) => e.code(),
            UserStatusError::Ambiguous { .. } => "external_id_ambiguous",
        }
    }
}

impl ScimService {
    /// The user of `tenant` with this `userName` or `externalId`, read from the store in one
    /// read transaction: no HTTP request is made up, and no event is sent. The lookup goes
    /// through the store's index for the attribute (both SQL stores index `userName` and
    /// `externalId`; [`MemoryStore`](crate::store::MemoryStore) indexes `userName`), so its
    /// cost does not grow with the directory. `None` when there is no such user.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use fedkit_scim_service::auth::TenantId;
    /// use fedkit_scim_service::ids::RandomIds;
    /// use fedkit_scim_service::store::MemoryStore;
    /// use fedkit_scim_service::{RequestContext, ScimRequest, ScimService, UserKey};
    ///
    /// let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new()));
    /// let tenant = TenantId::new("acme")?;
    /// let ctx = RequestContext { tenant: &tenant, base_url: "https://app.example.com/scim/v2",
    ///                            now: chrono::DateTime::from_timestamp(1_790_000_000, 0).ok_or("time")? };
    /// let body = br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    ///                 "userName": "bjensen@example.com", "externalId": "E-1", "active": false}"#;
    /// let created = service.handle(&ctx, &ScimRequest { method: "POST", path: "/Users", query: "", headers: &[], body });
    /// assert_eq!(created.status, 201);
    ///
    /// let status = service.user_status(&tenant, UserKey::UserName("BJensen@example.com"))?.ok_or("absent")?;
    /// assert!(!status.active);
    /// assert_eq!(status.external_id.as_deref(), Some("E-1"));
    /// assert_eq!(service.user_status(&tenant, UserKey::ExternalId("e-1"))?, None); // caseExact
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_status(
        &self,
        tenant: &TenantId,
        by: UserKey<'_>,
    ) -> Result<Option<UserStatus>, UserStatusError> {
        let (attribute, value) = match by {
            UserKey::UserName(v) => ("userName", v),
            UserKey::ExternalId(v) => ("externalId", v),
        };
        let filter = Filter::compare(
            AttrPath::new(attribute),
            CompareOp::Eq,
            CompValue::String(value.to_owned()),
        );
        let mut tx = self.store.begin_read(tenant)?;
        let candidates = tx.find_attributes(ResourceKind::User, Some(&filter))?;
        drop(tx);
        // The store returns a superset: the filter decides, as it does for a GET.
        let eval = EvalContext::new(&self.registry, ResourceKind::User.name());
        let mut found: Vec<&Value> = match filter.compile(&eval) {
            Ok(compiled) => candidates.iter().filter(|u| compiled.matches(u)).collect(),
            Err(_) => Vec::new(),
        };
        if found.len() > 1 {
            return Err(UserStatusError::Ambiguous {
                value: value.to_owned(),
                count: found.len(),
            });
        }
        Ok(found.pop().and_then(Value::as_object).and_then(|user| {
            let text = |name: &str| get_attr(user, name).and_then(Value::as_str).map(str::to_owned);
            Some(UserStatus {
                id: text("id")?,
                active: get_attr(user, "active").and_then(Value::as_bool) != Some(false),
                user_name: text("userName").unwrap_or_default(),
                external_id: text("externalId"),
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::ids::RandomIds;
    use crate::store::{MemoryStore, Store, Transaction};
    use crate::{RequestContext, ScimRequest};

    /// A store that counts the resources `find_attributes` and `find` hand out.
    struct Counting {
        inner: MemoryStore,
        read: Arc<AtomicUsize>,
    }

    struct CountingTx<'a> {
        inner: Box<dyn Transaction + 'a>,
        read: Arc<AtomicUsize>,
    }

    impl Store for Counting {
        fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
            Ok(Box::new(CountingTx {
                inner: self.inner.begin(tenant)?,
                read: Arc::clone(&self.read),
            }))
        }
    }

    impl Transaction for CountingTx<'_> {
        fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
            self.inner.get(kind, id)
        }
        fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
            let found = self.inner.find(kind, filter)?;
            self.read.fetch_add(found.len(), Ordering::Relaxed);
            Ok(found)
        }
        fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
            self.inner.insert(kind, resource)
        }
        fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
            self.inner.update(kind, resource)
        }
        fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError> {
            self.inner.delete(kind, id)
        }
        fn memberships(&mut self, member_ids: &[&str]) -> Result<Vec<crate::store::Membership>, StoreError> {
            self.inner.memberships(member_ids)
        }
        fn commit(self: Box<Self>) -> Result<(), StoreError> {
            self.inner.commit()
        }
    }

    fn service(store: Arc<dyn Store>) -> (ScimService, TenantId) {
        (
            ScimService::new(store, Arc::new(RandomIds::new())),
            TenantId::new("acme").unwrap(),
        )
    }

    fn create(service: &ScimService, tenant: &TenantId, body: Value) -> String {
        let ctx = RequestContext {
            tenant,
            base_url: "https://app.example.com/scim/v2",
            now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        };
        let mut body = body;
        body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
        let r = service.handle(
            &ctx,
            &ScimRequest {
                method: "POST",
                path: "/Users",
                query: "",
                headers: &[],
                body: body.to_string().as_bytes(),
            },
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let created: Value = serde_json::from_slice(&r.body).unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    #[test]
    fn finds_users_by_user_name_and_external_id_as_a_filter_would() {
        let (s, t) = service(Arc::new(MemoryStore::new()));
        let ada = create(
            &s,
            &t,
            json!({"userName": "Ada@Example.com", "externalId": "E-1"}),
        );
        let bob = create(&s, &t, json!({"userName": "bob", "active": false}));
        assert_eq!(
            s.user_status(&t, UserKey::UserName("ada@example.COM")).unwrap(),
            Some(UserStatus {
                id: ada.clone(),
                active: true,
                user_name: "Ada@Example.com".into(),
                external_id: Some("E-1".into()),
            })
        );
        assert_eq!(
            s.user_status(&t, UserKey::ExternalId("E-1"))
                .unwrap()
                .map(|u| u.id),
            Some(ada)
        );
        // externalId is caseExact.
        assert_eq!(s.user_status(&t, UserKey::ExternalId("e-1")).unwrap(), None);
        let b = s.user_status(&t, UserKey::UserName("BOB")).unwrap().unwrap();
        assert_eq!((b.id, b.active, b.external_id), (bob, false, None));
        assert_eq!(s.user_status(&t, UserKey::UserName("carol")).unwrap(), None);
        // Another tenant sees none of them.
        let other = TenantId::new("other").unwrap();
        assert_eq!(s.user_status(&other, UserKey::UserName("bob")).unwrap(), None);
    }

    #[test]
    fn a_reused_external_id_is_ambiguous() {
        let (s, t) = service(Arc::new(MemoryStore::new()));
        create(&s, &t, json!({"userName": "a", "externalId": "same"}));
        create(&s, &t, json!({"userName": "b", "externalId": "same"}));
        let err = s.user_status(&t, UserKey::ExternalId("same")).unwrap_err();
        assert_eq!(err.code(), "external_id_ambiguous");
        assert_eq!(
            err,
            UserStatusError::Ambiguous {
                value: "same".into(),
                count: 2
            }
        );
    }

    #[test]
    fn the_lookup_reads_through_the_index_not_the_directory() {
        let read = Arc::new(AtomicUsize::new(0));
        let (s, t) = service(Arc::new(Counting {
            inner: MemoryStore::new(),
            read: Arc::clone(&read),
        }));
        for i in 0..300 {
            create(
                &s,
                &t,
                json!({"userName": format!("user{i}"), "externalId": format!("X{i}")}),
            );
        }
        read.store(0, Ordering::Relaxed);
        let found = s.user_status(&t, UserKey::UserName("USER150")).unwrap().unwrap();
        assert_eq!(found.user_name, "user150");
        assert_eq!(read.load(Ordering::Relaxed), 1);
        read.store(0, Ordering::Relaxed);
        let found = s.user_status(&t, UserKey::ExternalId("X299")).unwrap().unwrap();
        assert_eq!(found.user_name, "user299");
        assert_eq!(read.load(Ordering::Relaxed), 1);
    }
}
