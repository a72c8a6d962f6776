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
pub use limits::{LimitKind, Limits};
pub use metadata::{IdpSummary, Metadata, Options, SignaturePolicy};
pub use model::{
    Binding, Certificate, ContactPerson, ContactType, Endpoint, EntityAttribute, IdpMetadata, KeyUse,
    Localized, Logo, Organization, RegistrationInfo, Scope, SignatureStatus, SkippedCertificate, UiInfo,
};
pub use time::{parse_datetime, CacheDuration, DurationError, MissingZone};
pub use url::UrlProblem;
pub use warning::Warning;
