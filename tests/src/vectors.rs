//! Where the public conformance vectors are: one lookup for every test that reads them.
//!
//! The vectors are third-party test data with the layout of `shared/vectors/` (one folder per
//! source, each with a `manifest.json`). They are looked for, in this order:
//!
//! 1. `FEDKIT_VECTORS`: a directory with that layout. When set it must exist; it never falls
//!    through to the other places.
//! 2. `<workspace root>/../shared/vectors`: a `shared/` checkout beside the repository (CI).
//! 3. The cache `bash scripts/vectors.sh` fills: `$FEDKIT_VECTORS_CACHE`, else
//!    `<workspace root>/target/vectors`; only a complete one counts (the script marks it with
//!    [`VERIFIED_MARK`] after checking every file against `scripts/vectors.lock`).
//!
//! When none is found the caller fails (never skips) with the one-line message of
//! [`Missing`], which names every place looked at and the command to run.
//!
//! This file uses only `std`: `fedkit-metadata`'s conformance test includes it with `#[path]`
//! rather than depending on this unpublished crate.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file `scripts/vectors.sh` writes into a cache once every file has been verified.
pub const VERIFIED_MARK: &str = ".fedkit-vectors-verified";

/// Where a vectors root was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `FEDKIT_VECTORS`.
    EnvVar,
    /// `<workspace root>/../shared/vectors`.
    Sibling,
    /// The cache of `scripts/vectors.sh`.
    Cache,
}

/// A directory with the layout of `shared/vectors/`.
#[derive(Clone, Debug)]
pub struct VectorsRoot {
    /// The directory.
    pub dir: PathBuf,
    /// Which of the places it is.
    pub origin: Origin,
}

/// Why no vectors root was found; `Display` is the one line a test fails with.
#[derive(Clone, Debug)]
pub enum Missing {
    /// `FEDKIT_VECTORS` is set but is not a directory.
    EnvVarNotADirectory(PathBuf),
    /// Nothing at any of the three places.
    NotFound {
        /// `<workspace root>/../shared/vectors`.
        sibling: PathBuf,
        /// The cache directory looked at.
        cache: PathBuf,
        /// The cache directory exists but was never completely verified.
        cache_incomplete: bool,
    },
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EnvVarNotADirectory(dir) => write!(
                f,
                "conformance vectors not found: FEDKIT_VECTORS={} is not a directory; point it at \
                 a copy of shared/vectors, or unset it to use ../shared/vectors or the cache of \
                 `bash scripts/vectors.sh`",
                dir.display()
            ),
            Self::NotFound {
                sibling,
                cache,
                cache_incomplete,
            } => write!(
                f,
                "conformance vectors not found: FEDKIT_VECTORS is not set, {} does not exist, and \
                 {} {}; run `bash scripts/vectors.sh` to fetch them there (or set FEDKIT_VECTORS \
                 to a copy of shared/vectors)",
                sibling.display(),
                cache.display(),
                if *cache_incomplete {
                    "is an incomplete cache (no .fedkit-vectors-verified)"
                } else {
                    "does not exist"
                }
            ),
        }
    }
}

/// Finds the vectors for the workspace at `workspace_root`, reading `FEDKIT_VECTORS` and
/// `FEDKIT_VECTORS_CACHE` from the environment.
pub fn locate(workspace_root: &Path) -> Result<VectorsRoot, Missing> {
    locate_with(
        workspace_root,
        std::env::var_os("FEDKIT_VECTORS"),
        std::env::var_os("FEDKIT_VECTORS_CACHE"),
    )
}

/// [`locate`] with the two variables given (tests of the lookup itself).
pub fn locate_with(
    workspace_root: &Path,
    vectors: Option<OsString>,
    cache: Option<OsString>,
) -> Result<VectorsRoot, Missing> {
    if let Some(dir) = vectors.filter(|v| !v.is_empty()).map(PathBuf::from) {
        return if dir.is_dir() {
            Ok(VectorsRoot {
                dir,
                origin: Origin::EnvVar,
            })
        } else {
            Err(Missing::EnvVarNotADirectory(dir))
        };
    }
    // Resolved, so that messages show real paths (no `crates/metadata/../..`).
    let root = workspace_root
        .canonicalize()
        .unwrap_or_else(|_| workspace_root.to_path_buf());
    let sibling = match root.parent() {
        Some(parent) => parent.join("shared/vectors"),
        None => root.join("../shared/vectors"),
    };
    if sibling.is_dir() {
        return Ok(VectorsRoot {
            dir: sibling,
            origin: Origin::Sibling,
        });
    }
    let cache = cache
        .filter(|v| !v.is_empty())
        .map_or_else(|| root.join("target/vectors"), PathBuf::from);
    if cache.join(VERIFIED_MARK).is_file() {
        return Ok(VectorsRoot {
            dir: cache,
            origin: Origin::Cache,
        });
    }
    Err(Missing::NotFound {
        sibling,
        cache_incomplete: cache.is_dir(),
        cache,
    })
}
