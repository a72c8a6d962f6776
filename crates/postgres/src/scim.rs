//! The SCIM [`Store`](fedkit_scim_service::store::Store) on PostgreSQL. (Being written.)
