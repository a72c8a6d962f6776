#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod algorithm;
pub mod c14n;
pub mod crypto;
mod document;
mod error;
pub mod key;
mod limits;
pub mod pem;
pub mod sign;
mod signature;
mod verify;
pub mod xmlenc;

pub use algorithm::{AlgorithmPolicy, DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
pub use document::Document;
pub use error::{AlgorithmRole, C14nError, Error, KeyError, ParseError, VerifyError};
pub use key::{DecryptionKey, Fingerprint, SigningKey, TrustedKey, TrustedKeys};
#[allow(deprecated)]
pub use limits::LimitKind;
pub use limits::{Limits, XmlLimit};
pub use signature::{is_signature, DSIG_NS, ENVELOPED_SIGNATURE};
pub use verify::{find_signatures, SignatureInfo, Verified, VerifiedElement, Verifier};

/// The XML parser this crate is built on, re-exported so callers navigate the same tree
/// (and the same version) that was verified.
pub use roxmltree;
