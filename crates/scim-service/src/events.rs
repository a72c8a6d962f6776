//! What happened, for the host: delivered after the change is committed.
//!
//! A host registers an [`EventSink`] with [`crate::ScimService::with_events`] to react to
//! provisioning: end the sessions of a deactivated user, map groups to teams, send a welcome
//! mail. Events of one request are delivered together, in order, after the store committed;
//! a request that failed delivers nothing. Delivery runs on the request's thread: a sink
//! that does slow work should hand it off (e.g. [`channel`]).

use std::sync::mpsc;

use crate::auth::TenantId;
use crate::store::ResourceKind;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A user or group was created.
    Created {
        /// The tenant.
        tenant: TenantId,
        /// User or Group.
        kind: ResourceKind,
        /// The new id.
        id: String,
    },
    /// A user or group changed (PUT, PATCH), other than what the more specific events
    /// below report.
    Updated {
        /// The tenant.
        tenant: TenantId,
        /// User or Group.
        kind: ResourceKind,
        /// The id.
        id: String,
        /// The top-level attributes whose value changed, as the schema spells them.
        attributes: Vec<String>,
    },
    /// A user's `active` went from true (or absent) to false: JumpCloud's deactivation
    /// (`PATCH active=false`) or a DELETE turned into deactivation by the host's policy.
    /// The host should end the user's sessions.
    Deactivated {
        /// The tenant.
        tenant: TenantId,
        /// The user's id.
        id: String,
    },
    /// A user's `active` went from false to true.
    Reactivated {
        /// The tenant.
        tenant: TenantId,
        /// The user's id.
        id: String,
    },
    /// A user or group was deleted.
    Deleted {
        /// The tenant.
        tenant: TenantId,
        /// User or Group.
        kind: ResourceKind,
        /// The id.
        id: String,
    },
    /// A create or replace listed schema URNs in `schemas` that the service does not define
    /// and that no attribute of the body uses; they were ignored
    /// ([`UndefinedSchemas::IgnoreUnused`](fedkit_scim::resource::UndefinedSchemas::IgnoreUnused)),
    /// e.g. Microsoft Entra ID's
    /// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`. Worth a
    /// log line: an IdP mapping that later puts attributes under such a URN is refused.
    SchemaIgnored {
        /// The tenant.
        tenant: TenantId,
        /// User or Group.
        kind: ResourceKind,
        /// The resource's id.
        id: String,
        /// The ignored URNs, as sent.
        urns: Vec<String>,
    },
    /// Members were added to or removed from a group (including removals because a member
    /// was deleted).
    MembershipChanged {
        /// The tenant.
        tenant: TenantId,
        /// The group's id.
        group_id: String,
        /// Ids of the members added.
        added: Vec<String>,
        /// Ids of the members removed.
        removed: Vec<String>,
    },
}

/// Receives the events of each successful request.
pub trait EventSink: Send + Sync {
    /// Called once per committed request with its events (never empty).
    fn deliver(&self, events: &[Event]);
}

impl<F> EventSink for F
where
    F: Fn(&[Event]) + Send + Sync,
{
    fn deliver(&self, events: &[Event]) {
        self(events)
    }
}

/// An [`EventSink`] that forwards every event to a channel, for a host thread that
/// consumes them at its own pace.
#[derive(Debug)]
pub struct ChannelSink(mpsc::Sender<Event>);

impl EventSink for ChannelSink {
    fn deliver(&self, events: &[Event]) {
        for e in events {
            // A receiver that went away means the host no longer listens: drop the event.
            let _ = self.0.send(e.clone());
        }
    }
}

/// A [`ChannelSink`] and the receiving end.
///
/// ```
/// use std::sync::Arc;
/// use fedkit_scim_service::events::{channel, Event};
/// use fedkit_scim_service::{store::MemoryStore, ScimService};
///
/// let (sink, events) = channel();
/// let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(fedkit_scim_service::ids::RandomIds::new())).with_events(Arc::new(sink));
/// # let _ = (service, events);
/// ```
pub fn channel() -> (ChannelSink, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel();
    (ChannelSink(tx), rx)
}
