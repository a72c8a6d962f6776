#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod admission;
pub mod discovery;
pub mod domain;
pub mod enforcement;
pub mod guide;
pub mod identity;

pub use admission::{
    admit, admit_assertion, Admission, AdmissionPolicy, Decision, Directory, Provisioning, Refusal,
};
pub use discovery::{discover_by_email, discover_by_slug, Route, RouteMiss, Tenants};
pub use domain::{
    AppName, DomainChallenge, DomainError, DomainName, DomainRegistry, TenantId, TxtCheck, VerifyError,
};
pub use enforcement::{password_login, Enforcement, EnforcementError, PasswordLogin};
pub use guide::{GuideInput, IdpVendor, SetupGuide};
pub use identity::IdentityKey;
