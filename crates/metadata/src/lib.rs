#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod explicit;
mod limits;
pub mod mdq;
mod metadata;
mod model;
mod read;
mod time;
mod url;
mod warning;

pub use error::{Error, Location, PasteProblem};
#[allow(deprecated)]
pub use limits::LimitKind;
pub use limits::{Limits, MetadataLimit};
#[allow(deprecated)]
pub use metadata::Options;
pub use metadata::{IdpSummary, ImportSettings, Metadata, SignaturePolicy};
pub use model::{
    Binding, Certificate, ContactPerson, ContactType, Endpoint, EntityAttribute, IdpMetadata, KeyUse,
    Localized, Logo, Organization, RegistrationInfo, Scope, SignatureStatus, SkippedCertificate, UiInfo,
};
pub use time::{parse_datetime, CacheDuration, DurationError, MissingZone};
pub use url::UrlProblem;
pub use warning::ImportWarning;
#[allow(deprecated)]
pub use warning::Warning;
