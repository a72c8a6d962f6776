//! Where the ids of new resources come from.
//!
//! RFC 7643 §3.1 makes `id` the service provider's to assign: unique across the tenant's
//! resources, stable, never reassigned, and never the reserved word `bulkId`. The handler
//! does no I/O of its own, so the host hands it an [`IdSource`] with
//! [`ScimService::new`](crate::ScimService::new):
//!
//! * `RandomIds` (feature `getrandom`): version 4 UUIDs from the operating system's
//!   random number generator, what `fedkit scim serve` uses;
//! * any `Fn() -> Result<String, IdError> + Send + Sync` closure, e.g. one drawing 16 bytes
//!   from the host's own CSPRNG and formatting them with [`uuid_v4`].
//!
//! Every id a source returns is checked before it is used ([`check_id`]): an id that
//! cannot be one (empty, longer than [`MAX_ID_LEN`], a character outside RFC 3986's
//! unreserved set, a dot segment, `bulkId`) fails the request with a 500 naming the source,
//! rather than producing a resource whose `Location` would not route back to it; so does an
//! id a user or a group of the tenant already has.
//!
//! ```
//! use std::sync::Arc;
//! use fedkit_scim_service::ids::{uuid_v4, IdError, IdSource};
//! use fedkit_scim_service::store::MemoryStore;
//! use fedkit_scim_service::ScimService;
//!
//! // A host's own CSPRNG (here a stand-in) behind a closure.
//! let fill = |buf: &mut [u8; 16]| -> Result<(), String> { buf.fill(0x5a); Ok(()) };
//! let ids = move || -> Result<String, IdError> {
//!     let mut random = [0u8; 16];
//!     fill(&mut random).map_err(|detail| IdError::Unavailable { detail })?;
//!     Ok(uuid_v4(random))
//! };
//! assert_eq!(ids.next_id()?, "5a5a5a5a-5a5a-4a5a-9a5a-5a5a5a5a5a5a");
//! let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(ids));
//! # let _ = service;
//! # Ok::<(), IdError>(())
//! ```

/// The longest id [`check_id`] accepts, in bytes.
pub const MAX_ID_LEN: usize = 255;

/// A source of ids for new resources. Shared by every request, hence `Send + Sync`.
pub trait IdSource: Send + Sync {
    /// A fresh id, never returned before for this service's data. Called once per created
    /// resource; the store refuses an id that is already taken, so a source that repeats
    /// ids fails those creations (with a 500 naming the id), it never overwrites a resource.
    fn next_id(&self) -> Result<String, IdError>;
}

impl<F> IdSource for F
where
    F: Fn() -> Result<String, IdError> + Send + Sync,
{
    fn next_id(&self) -> Result<String, IdError> {
        self()
    }
}

/// Why no id could be had for a new resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The source could not produce an id (e.g. the operating system's random number
    /// generator failed).
    #[error("the id source could not make a new id: {detail}")]
    Unavailable {
        /// What failed, in the source's words.
        detail: String,
    },
    /// The source returned something that cannot be a resource id.
    #[error(
        "the id source returned {id:?}, which cannot be a resource id: {reason} (RFC 7643 §3.1; \
         ids must be 1 to 255 characters from A-Z a-z 0-9 - . _ ~, and not \"bulkId\")"
    )]
    Invalid {
        /// The id as returned (cut to its first 64 characters).
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl IdError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Unavailable { .. } => "id_unavailable",
            IdError::Invalid { .. } => "id_invalid",
        }
    }
}

/// Checks that `id` can be a resource id: 1 to [`MAX_ID_LEN`] bytes, each an RFC 3986
/// unreserved character (`A-Z a-z 0-9 - . _ ~`, so the id needs no escaping in a
/// `Location` URL or a filter), and not `bulkId`, which RFC 7643 §3.1 reserves.
pub fn check_id(id: &str) -> Result<(), IdError> {
    let invalid = |reason| {
        Err(IdError::Invalid {
            id: id.chars().take(64).collect(),
            reason,
        })
    };
    if id.is_empty() {
        return invalid("it is empty");
    }
    if id.len() > MAX_ID_LEN {
        return invalid("it is longer than 255 bytes");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return invalid("it holds a character outside A-Z a-z 0-9 - . _ ~");
    }
    if id == "." || id == ".." {
        return invalid("it is a dot segment, which URLs collapse");
    }
    if id == "bulkId" {
        return invalid("\"bulkId\" is a reserved keyword");
    }
    Ok(())
}

/// The version 4 UUID (RFC 9562 §5.4) made of 16 random bytes, in its lowercase hyphenated
/// form, e.g. `9f3c2a1e-5b7d-4c8e-a1f2-3d4e5f607182`. The version and variant bits are set
/// here; the other 122 bits are `random`'s, so they must come from a CSPRNG.
pub fn uuid_v4(random: [u8; 16]) -> String {
    uuid::Builder::from_random_bytes(random)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Version 4 UUIDs ([`uuid_v4`]) from the operating system's random number generator
/// (the `getrandom` crate). Feature `getrandom`.
#[cfg(feature = "getrandom")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RandomIds;

#[cfg(feature = "getrandom")]
impl RandomIds {
    /// The source.
    pub fn new() -> Self {
        RandomIds
    }
}

#[cfg(feature = "getrandom")]
impl IdSource for RandomIds {
    fn next_id(&self) -> Result<String, IdError> {
        let mut random = [0u8; 16];
        getrandom::getrandom(&mut random).map_err(|e| IdError::Unavailable {
            detail: format!("the operating system's random number generator failed: {e}"),
        })?;
        Ok(uuid_v4(random))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc_9562_5_4_uuid_v4_sets_version_and_variant_bits() {
        // RFC 9562 §5.4: version 0b0100 in the high nibble of octet 6, variant 0b10 in the
        // two high bits of octet 8; every other bit is the random input's.
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4(*b"\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef");
        assert_eq!(id, "01234567-89ab-4def-8123-456789abcdef");
        check_id(&id).unwrap();
    }

    #[test]
    fn rfc_7643_3_1_ids_are_url_safe_and_not_bulk_id() {
        for good in [
            "a",
            "2819c223-7f76-453a-919d-413861904646",
            "A.b_c~d-1",
            "x".repeat(255).as_str(),
        ] {
            assert_eq!(check_id(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("", "empty"),
            ("x".repeat(256).as_str(), "longer"),
            ("a/b", "outside"),
            ("a b", "outside"),
            ("caf\u{e9}", "outside"),
            ("%2F", "outside"),
            ("..", "dot segment"),
            ("bulkId", "reserved"),
        ] {
            let err = check_id(bad).unwrap_err();
            assert_eq!(err.code(), "id_invalid");
            assert!(err.to_string().contains(reason), "{bad:?}: {err}");
        }
    }

    #[test]
    fn closures_are_sources() {
        let source = || -> Result<String, IdError> {
            Err(IdError::Unavailable {
                detail: "no entropy".into(),
            })
        };
        let err = source.next_id().unwrap_err();
        assert_eq!(err.code(), "id_unavailable");
        assert!(err.to_string().contains("no entropy"));
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn random_ids_are_uuid_v4_and_differ() {
        let a = RandomIds::new().next_id().unwrap();
        let b = RandomIds::new().next_id().unwrap();
        assert_ne!(a, b);
        for id in [&a, &b] {
            check_id(id).unwrap();
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
    }
}
