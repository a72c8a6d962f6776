//! The handler over [`MemoryStore`]: the store-independent checks of
//! [`crate::store::conformance::handler`], one `#[test]` each. fedkit-scim-sqlite and
//! fedkit-postgres run the same checks over their stores.

use std::sync::Arc;

use crate::store::{MemoryStore, Store};

crate::handler_suite!(|| -> Arc<dyn Store> { Arc::new(MemoryStore::new()) });
