//! Loading a metadata document: parse once, verify the root signature, read and index every
//! entity, then drop the tree.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::{is_signature, AlgorithmPolicy, Document, KeyError, TrustedKey, TrustedKeys, Verifier};

use crate::error::{Error, Location};
use crate::limits::{Limits, MetadataLimit};
use crate::model::{pick, Certificate, IdpMetadata, SignatureStatus, SkippedCertificate};
use crate::read::{earliest, El, Inherited, Plain, RawIdp, Reader, Slot, MD, MDRPI};
use crate::time::CacheDuration;
use crate::warning::ImportWarning;

/// Whether, and against which pinned certificates, the document's signature is verified.
///
/// The signature that counts is the one on the root element (`EntityDescriptor` or
/// `EntitiesDescriptor`), enveloped and covering the root itself; signatures deeper in the
/// document are covered by it or ignored.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum SignaturePolicy {
    /// The root must be signed by one of these keys: federation aggregates and MDQ
    /// responses, whose publisher gives out its signing certificate out of band.
    Required(TrustedKeys),
    /// Verify the signature when there is one (an invalid one is an error), accept unsigned
    /// documents: an IdP whose metadata is sometimes signed with a known key.
    IfSigned(TrustedKeys),
    /// Do not verify: the document's authenticity comes from how it was obtained (uploaded
    /// by the customer's admin, fetched over HTTPS from the IdP's own host). This is the
    /// common case for a SaaS connection (JumpCloud, Okta and Entra do not sign their
    /// per-application metadata with a key you could know in advance). A signature, if
    /// present, is reported as [`SignatureStatus::NotChecked`].
    NotRequired,
}

/// How to import a metadata document.
///
/// ```
/// use fedkit_metadata::{Limits, ImportSettings, SignaturePolicy};
/// let upload = ImportSettings::new(SignaturePolicy::NotRequired);
/// # let pem = include_str!("../../../examples/data/idp-cert.pem");
/// let keys = fedkit_xmldsig::TrustedKeys::from_pem(pem)?;
/// let federation = ImportSettings::new(SignaturePolicy::Required(keys)).with_limits(Limits::aggregate());
/// # let _ = (upload, federation);
/// # Ok::<(), fedkit_xmldsig::KeyError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ImportSettings {
    signature: SignaturePolicy,
    limits: Limits,
    algorithms: AlgorithmPolicy,
    provider: Option<&'static dyn CryptoProvider>,
    allow_http: bool,
}

impl ImportSettings {
    /// Settings with this signature policy, [`Limits::default`] (single entities up to 1 MiB),
    /// the default [`AlgorithmPolicy`] (no SHA-1, RSA ≥ 2048 bits), and `https://` endpoints
    /// only.
    pub fn new(signature: SignaturePolicy) -> Self {
        Self {
            signature,
            limits: Limits::default(),
            algorithms: AlgorithmPolicy::default(),
            provider: None,
            allow_http: false,
        }
    }

    /// Uses other limits ([`Limits::aggregate`] for federation aggregates).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Uses another algorithm policy for the signature.
    pub fn with_algorithms(mut self, algorithms: AlgorithmPolicy) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Verifies with this crypto provider instead of the default one
    /// ([`fedkit_xmldsig::crypto::default_provider`]: `AwsLcRs` when the `aws-lc-rs` feature
    /// is on, else `RustCrypto`), e.g. `&RustCrypto` to keep the pure-Rust provider in a
    /// build that has both.
    pub fn with_provider(mut self, provider: &'static dyn CryptoProvider) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Accepts `http://` endpoint URLs. Plain HTTP exposes SAML messages and lets a network
    /// attacker rewrite them: for a local test IdP only. `javascript:`, `data:`, `file:` and
    /// every other scheme stay refused.
    pub fn dangerous_allow_http_endpoints(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// The signature policy.
    pub fn signature(&self) -> &SignaturePolicy {
        &self.signature
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// An entity of the document, as listed by [`Metadata::idps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdpSummary<'a> {
    /// The entity ID.
    pub entity_id: &'a str,
    /// mdui `DisplayName` or organization name, when the IdP was read successfully.
    pub display_name: Option<&'a str>,
    /// Whether it was read without error at load time. [`Metadata::idp`] may still refuse
    /// it: when its `validUntil` has passed by then, or when none of its certificates can be
    /// used (certificates are parsed on lookup).
    pub usable: bool,
}

/// What the root element says about the whole document.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RootInfo {
    valid_until: Option<DateTime<Utc>>,
    cache_duration: Option<CacheDuration>,
    name: Option<String>,
}

/// A loaded metadata document: one entity or a whole federation aggregate, signature
/// checked, every entity indexed by entity ID. The parsed XML tree is dropped once loading
/// is done; what remains is the entities' data (certificates as DER, parsed on lookup).
///
/// ```
/// use fedkit_metadata::{Metadata, ImportSettings, SignaturePolicy};
/// let xml = include_bytes!("../../../examples/data/metadata-jumpcloud.xml");
/// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
/// let metadata = Metadata::parse(xml, &ImportSettings::new(SignaturePolicy::NotRequired), now)?;
/// assert_eq!(metadata.entities_total(), 1);
/// let idp = metadata.idp("https://sso.jumpcloud.com/saml2/fedkit-example", now)?;
/// assert_eq!(idp.signing_certificates().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Metadata {
    entries: Vec<(Arc<str>, Slot)>,
    index: HashMap<Arc<str>, u32>,
    idps_total: usize,
    root: RootInfo,
    signature: SignatureStatus,
    warnings: Vec<ImportWarning>,
}

fn describe(node: roxmltree::Node<'_, '_>) -> String {
    let tag = node.tag_name();
    match tag.namespace() {
        Some(ns) => format!("{{{ns}}}{}", tag.name()),
        None => tag.name().to_owned(),
    }
}

fn not_metadata(root: roxmltree::Node<'_, '_>) -> Error {
    let tag = root.tag_name();
    let local = tag.name();
    let hint = match (tag.namespace(), local) {
        (Some("urn:oasis:names:tc:SAML:2.0:protocol"), _) => {
            " (this is a SAML protocol message, not metadata: use the XML file the IdP offers as \"metadata\" or \"Export Metadata\")"
        }
        (Some("urn:oasis:names:tc:SAML:2.0:assertion"), _) => " (this is a SAML assertion, not metadata)",
        (_, "html" | "HTML") => {
            " (this is an HTML page: the metadata URL probably returned a login or error page)"
        }
        (_, "EntityDescriptor" | "EntitiesDescriptor") => {
            " (the element name is right but its namespace is not: declare xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\")"
        }
        (Some(MD), _) => " (this is only a fragment of metadata: export the whole EntityDescriptor)",
        _ => "",
    };
    Error::NotMetadata {
        found: describe(root),
        hint,
    }
}

/// The earlier of `validUntil` and `fetched_at + cacheDuration`.
pub(crate) fn refresh_at(
    valid_until: Option<DateTime<Utc>>,
    cache_duration: Option<CacheDuration>,
    fetched_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    earliest(valid_until, cache_duration.and_then(|d| d.after(fetched_at)))
}

struct Walk<'r, 'l> {
    reader: &'r Reader<'l>,
    entries: Vec<(Arc<str>, Slot)>,
    index: HashMap<Arc<str>, u32>,
    idps_total: usize,
    warnings: Vec<ImportWarning>,
}

impl Walk<'_, '_> {
    /// Reads an `EntitiesDescriptor`; `own_read` when its validUntil and cacheDuration are
    /// already in `inherited` (the root).
    fn entities<'a, E: El<'a>>(
        &mut self,
        el: E,
        depth: usize,
        inherited: &Inherited,
        own_read: bool,
    ) -> Result<(), Error> {
        let limits = self.reader.limits;
        if depth > limits.max_nesting {
            return Err(Error::LimitExceeded {
                limit: MetadataLimit::Nesting,
                max: limits.max_nesting,
                location: None,
            });
        }
        const NAME: &str = "EntitiesDescriptor";
        let mut here = inherited.clone();
        if !own_read {
            here.valid_until = earliest(here.valid_until, self.reader.valid_until(el, None, NAME)?);
            let own = self.reader.cache_duration(el, None, NAME, &mut self.warnings)?;
            here.cache_duration = self.reader.shortest(here.cache_duration, own);
        }
        for child in el.kids() {
            if child.ns() != Some(MD) {
                continue;
            }
            match child.local() {
                "Extensions" => {
                    if let Some(info) = child.kids().find(|k| k.is(MDRPI, "RegistrationInfo")) {
                        let read = self.reader.registration(info, None);
                        if let Some(r) = crate::read::lenient(read, &mut self.warnings)? {
                            here.registration = Some(r);
                        }
                    }
                }
                "EntityDescriptor" => self.entity(child, &here)?,
                "EntitiesDescriptor" => self.entities(child, depth + 1, &here, false)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn entity<'a, E: El<'a>>(&mut self, el: E, inherited: &Inherited) -> Result<(), Error> {
        let limits = self.reader.limits;
        if self.entries.len() >= limits.max_entities {
            return Err(Error::LimitExceeded {
                limit: MetadataLimit::Entities,
                max: limits.max_entities,
                location: None,
            });
        }
        let entity_id = self.reader.entity_id(el)?;
        let entity_id = &*entity_id;
        let slot = match self.reader.entity(el, entity_id, inherited) {
            Ok(slot) => slot,
            Err(e) => Slot::Invalid(Box::new(e)),
        };
        if !matches!(slot, Slot::Other(_)) {
            self.idps_total += 1;
        }
        match self.index.get(entity_id) {
            Some(&first) => {
                if let Some((_, existing)) = self.entries.get_mut(first as usize) {
                    let count = match existing {
                        Slot::Duplicate(n) => *n + 1,
                        _ => 2,
                    };
                    *existing = Slot::Duplicate(count);
                }
                // The duplicate itself is not indexed; it only counts.
                let id: Arc<str> = Arc::from(entity_id);
                self.entries.push((id, Slot::Duplicate(0)));
            }
            None => {
                let position = u32::try_from(self.entries.len()).map_err(|_| Error::LimitExceeded {
                    limit: MetadataLimit::Entities,
                    max: limits.max_entities,
                    location: None,
                })?;
                // One allocation for the name, shared by the list and the index.
                let id: Arc<str> = Arc::from(entity_id);
                self.index.insert(Arc::clone(&id), position);
                self.entries.push((id, slot));
            }
        }
        Ok(())
    }
}

impl Metadata {
    /// Parses, verifies (per the [`SignaturePolicy`]) and indexes a metadata document.
    ///
    /// Fails when the document as a whole is unacceptable: not XML, over a limit, not
    /// metadata, a required signature absent or invalid, the root `validUntil` passed at
    /// `now`. In an aggregate, a broken entity does not fail the load: looking it up returns
    /// its error. A single-entity document is checked completely here.
    pub fn parse(xml: &[u8], options: &ImportSettings, now: DateTime<Utc>) -> Result<Self, Error> {
        let doc = Document::parse_bytes_with_limits(xml, &options.limits.xml)?;
        let root = doc.root_element();
        let is_root =
            |local: &str| root.tag_name().namespace() == Some(MD) && root.tag_name().name() == local;
        if !is_root("EntityDescriptor") && !is_root("EntitiesDescriptor") {
            return Err(not_metadata(root));
        }
        let signed = root.children().any(is_signature);
        let keys = match (&options.signature, signed) {
            (SignaturePolicy::Required(_), false) => return Err(Error::Unsigned),
            (SignaturePolicy::Required(keys) | SignaturePolicy::IfSigned(keys), true) => Some(keys),
            _ => None,
        };
        let reader = Reader {
            limits: &options.limits,
            allow_http: options.allow_http,
            now,
        };
        match keys {
            Some(keys) => {
                let mut verifier = Verifier::new(keys.clone(), options.algorithms.clone());
                if let Some(p) = options.provider {
                    verifier = verifier.with_provider(p);
                }
                let verified = verifier.verify_enveloped(&doc, root).map_err(Error::Signature)?;
                let status = SignatureStatus::Verified {
                    key: verified.info().key_fingerprint,
                    algorithm: verified.info().signature_algorithm,
                };
                // Read only through the verified view: exactly what the signature covered.
                Self::load(verified.element(), &reader, status, now)
            }
            None => {
                let status = if signed {
                    SignatureStatus::NotChecked
                } else {
                    SignatureStatus::Absent
                };
                Self::load(Plain(root), &reader, status, now)
            }
        }
    }

    fn load<'a, E: El<'a>>(
        root: E,
        reader: &Reader<'_>,
        signature: SignatureStatus,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let mut walk = Walk {
            reader,
            entries: Vec::new(),
            index: HashMap::new(),
            idps_total: 0,
            warnings: Vec::new(),
        };
        if signature == SignatureStatus::NotChecked {
            walk.warnings.push(ImportWarning::SignatureNotChecked);
        }
        let single = root.local() == "EntityDescriptor";
        let mut ignored = Vec::new();
        let root_entity_id = if single {
            Some(reader.entity_id(root)?)
        } else {
            None
        };
        let root_entity_id = root_entity_id.as_deref();
        let element = if single {
            "EntityDescriptor"
        } else {
            "EntitiesDescriptor"
        };
        let root_info = RootInfo {
            valid_until: reader.valid_until(root, root_entity_id, element)?,
            // A single entity reports its own cacheDuration warning (with the entity's).
            cache_duration: reader.cache_duration(
                root,
                root_entity_id,
                element,
                if single { &mut ignored } else { &mut walk.warnings },
            )?,
            name: if single { None } else { reader_name(root, reader)? },
        };
        // A stale document is refused before any entity is read.
        if let Some(valid_until) = root_info.valid_until {
            if valid_until <= now {
                return Err(Error::Expired {
                    entity_id: None,
                    valid_until,
                    now,
                });
            }
        }
        match root_entity_id {
            Some(entity_id) => {
                // A single entity is checked completely now: its errors are the document's.
                let slot = reader.entity(root, entity_id, &Inherited::default())?;
                if !matches!(slot, Slot::Other(_)) {
                    walk.idps_total = 1;
                }
                let id: Arc<str> = Arc::from(entity_id);
                walk.index.insert(Arc::clone(&id), 0);
                walk.entries.push((id, slot));
            }
            None => {
                let inherited = Inherited {
                    valid_until: root_info.valid_until,
                    cache_duration: root_info.cache_duration,
                    registration: None,
                };
                walk.entities(root, 1, &inherited, true)?;
            }
        }
        let Walk {
            entries,
            index,
            idps_total,
            warnings,
            ..
        } = walk;
        Ok(Self {
            entries,
            index,
            idps_total,
            root: root_info,
            signature,
            warnings,
        })
    }

    /// Number of `EntityDescriptor`s in the document.
    pub fn entities_total(&self) -> usize {
        self.entries.len()
    }

    /// Number of entities with an `IDPSSODescriptor` (usable or not).
    pub fn idps_total(&self) -> usize {
        self.idps_total
    }

    /// How the document was authenticated.
    pub fn signature(&self) -> &SignatureStatus {
        &self.signature
    }

    /// The root element's `validUntil`.
    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.root.valid_until
    }

    /// The root element's `cacheDuration`.
    pub fn cache_duration(&self) -> Option<CacheDuration> {
        self.root.cache_duration
    }

    /// The `Name` of the root `EntitiesDescriptor` (federations name their aggregates).
    pub fn name(&self) -> Option<&str> {
        self.root.name.as_deref()
    }

    /// When to fetch the document again: the earlier of the root `validUntil` and
    /// `fetched_at + cacheDuration`. `None` when it says neither; then refresh on the host's
    /// own schedule (daily is common), and always before `validUntil`.
    pub fn refresh_at(&self, fetched_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        refresh_at(self.root.valid_until, self.root.cache_duration, fetched_at)
    }

    /// Document-level warnings (a signature that was not checked, an ignored
    /// `cacheDuration`).
    pub fn warnings(&self) -> &[ImportWarning] {
        &self.warnings
    }

    /// Every entity ID, in document order (duplicates included).
    pub fn entity_ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(id, _)| &**id)
    }

    /// The IdPs, in document order.
    pub fn idps(&self) -> impl Iterator<Item = IdpSummary<'_>> {
        self.entries.iter().filter_map(|(id, slot)| match slot {
            Slot::Idp(raw) => Some(IdpSummary {
                entity_id: id,
                display_name: raw
                    .ui
                    .as_ref()
                    .and_then(|u| pick(&u.display_names))
                    .or_else(|| raw.organization.as_ref().and_then(|o| pick(&o.display_names)))
                    .or_else(|| raw.organization.as_ref().and_then(|o| pick(&o.names))),
                usable: true,
            }),
            Slot::Invalid(_) => Some(IdpSummary {
                entity_id: id,
                display_name: None,
                usable: false,
            }),
            _ => None,
        })
    }

    /// The IdP with this entity ID, checked at `now` (its effective `validUntil`; its
    /// certificates are parsed and their expiry reported as warnings). O(1).
    pub fn idp(&self, entity_id: &str, now: DateTime<Utc>) -> Result<IdpMetadata, Error> {
        let Some(&position) = self.index.get(entity_id) else {
            return Err(Error::EntityNotFound {
                entity_id: entity_id.to_owned(),
                entities_total: self.entities_total(),
                idps_total: self.idps_total,
            });
        };
        match self.entries.get(position as usize) {
            Some((id, slot)) => self.finish(id, slot, now),
            None => Err(Error::EntityNotFound {
                entity_id: entity_id.to_owned(),
                entities_total: self.entities_total(),
                idps_total: self.idps_total,
            }),
        }
    }

    /// The only IdP of the document: the single entity of an `EntityDescriptor` file (an
    /// error says so when it is not an IdP), or the one IdP of an aggregate.
    pub fn only_idp(&self, now: DateTime<Utc>) -> Result<IdpMetadata, Error> {
        if let [(id, slot)] = self.entries.as_slice() {
            return self.finish(id, slot, now);
        }
        let mut idps = self
            .entries
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Idp(_) | Slot::Invalid(_)));
        match (idps.next(), idps.next()) {
            (Some((id, slot)), None) => self.finish(id, slot, now),
            _ => Err(Error::NotOneIdp {
                idps: self.idps_total,
                entities: self.entities_total(),
            }),
        }
    }

    fn finish(&self, entity_id: &str, slot: &Slot, now: DateTime<Utc>) -> Result<IdpMetadata, Error> {
        match slot {
            Slot::Idp(raw) => finish_idp(entity_id, raw, &self.signature, &self.warnings, now),
            Slot::Other(roles) => Err(Error::NotAnIdp {
                entity_id: entity_id.to_owned(),
                roles: roles.names(),
            }),
            Slot::Invalid(e) => Err((**e).clone()),
            Slot::Duplicate(count) => Err(Error::DuplicateEntityId {
                entity_id: entity_id.to_owned(),
                count: *count,
            }),
        }
    }
}

fn reader_name<'a, E: El<'a>>(root: E, reader: &Reader<'_>) -> Result<Option<String>, Error> {
    let name = root.attr("Name");
    if let Some(n) = name {
        if n.len() > reader.limits.max_value_bytes {
            return Err(Error::LimitExceeded {
                limit: MetadataLimit::ValueBytes,
                max: reader.limits.max_value_bytes,
                location: Some(Location::new(None, "EntitiesDescriptor", Some("Name"))),
            });
        }
    }
    Ok(name.map(str::to_owned))
}

/// Days before expiry from which a certificate draws a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

pub(crate) fn certificate_warnings(
    certificates: &[Certificate],
    now: DateTime<Utc>,
    out: &mut Vec<ImportWarning>,
) {
    for c in certificates {
        if out.iter().any(|w| match w {
            ImportWarning::CertificateExpired { sha256, .. }
            | ImportWarning::CertificateExpiresSoon { sha256, .. }
            | ImportWarning::CertificateNotYetValid { sha256, .. } => *sha256 == c.sha256,
            _ => false,
        }) {
            continue;
        }
        if c.not_after < now {
            out.push(ImportWarning::CertificateExpired {
                sha256: c.sha256,
                subject: c.subject.clone(),
                not_after: c.not_after,
            });
        } else if c.not_after - now < Duration::days(EXPIRY_WARNING_DAYS) {
            out.push(ImportWarning::CertificateExpiresSoon {
                sha256: c.sha256,
                subject: c.subject.clone(),
                not_after: c.not_after,
                days: (c.not_after - now).num_days(),
            });
        }
        if c.not_before > now {
            out.push(ImportWarning::CertificateNotYetValid {
                sha256: c.sha256,
                subject: c.subject.clone(),
                not_before: c.not_before,
            });
        }
    }
}

/// A parse failure, explained when the bytes show what went wrong: base64 of PEM text (the
/// certificate encoded twice) is a common export mistake.
fn explain_unparsable(der: &[u8], e: KeyError) -> KeyError {
    if der.starts_with(b"-----BEGIN") {
        return KeyError::BadCertificate {
            reason: "its base64 decodes to PEM text (\"-----BEGIN ...\"): the certificate was base64-encoded twice; X509Certificate must hold the base64 lines between BEGIN and END, not the whole PEM file encoded again".to_owned(),
        };
    }
    e
}

/// The signing keys of these certificates, each key once. `None` when there is none.
pub(crate) fn signing_keys(certificates: &[Certificate]) -> Option<TrustedKeys> {
    let mut keys: Vec<TrustedKey> = Vec::new();
    for c in certificates.iter().filter(|c| c.usage.signs()) {
        if !keys.iter().any(|k| k.fingerprint() == c.sha256) {
            keys.push(c.trusted_key().clone());
        }
    }
    TrustedKeys::new(keys)
}

fn finish_idp(
    entity_id: &str,
    raw: &RawIdp,
    signature: &SignatureStatus,
    document_warnings: &[ImportWarning],
    now: DateTime<Utc>,
) -> Result<IdpMetadata, Error> {
    if let Some(valid_until) = raw.valid_until {
        if valid_until <= now {
            return Err(Error::Expired {
                entity_id: Some(entity_id.to_owned()),
                valid_until,
                now,
            });
        }
    }
    let mut warnings: Vec<ImportWarning> = document_warnings.to_vec();
    warnings.extend(raw.warnings.iter().cloned());
    let mut certificates = Vec::new();
    let mut skipped: Vec<SkippedCertificate> = raw.skipped.clone();
    for key in &raw.keys {
        let mut ders = key.certificates.iter();
        let Some(first) = ders.next() else { continue };
        // A certificate that cannot be used is a warning; only the lack of any usable signing
        // certificate (below) refuses the IdP.
        let parsed = match TrustedKey::from_certificate_der(first) {
            Ok(k) => k,
            Err(e) => {
                let reason = explain_unparsable(first, e);
                if key.usage.signs() {
                    skipped.push(SkippedCertificate {
                        key_descriptor: key.key_descriptor,
                        usage: key.usage,
                        reason: reason.clone(),
                    });
                }
                warnings.push(ImportWarning::CertificateSkipped {
                    key_descriptor: key.key_descriptor,
                    reason,
                });
                continue;
            }
        };
        let spki = parsed.public_key().spki_der().to_vec();
        let mut ignored = 0;
        let mut same_key = Vec::new();
        for der in ders {
            match TrustedKey::from_certificate_der(der) {
                Ok(k) if k.public_key().spki_der() == spki.as_slice() => same_key.push(k),
                _ => ignored += 1,
            }
        }
        if ignored > 0 {
            warnings.push(ImportWarning::ExtraCertificatesIgnored {
                key_descriptor: key.key_descriptor,
                ignored,
            });
        }
        for k in std::iter::once(parsed).chain(same_key) {
            if let Some(c) = Certificate::new(key.usage, key.key_descriptor, k) {
                certificates.push(c);
            }
        }
    }
    let Some(signing_keys) = signing_keys(&certificates) else {
        return Err(Error::NoSigningCertificate {
            entity_id: entity_id.to_owned(),
            skipped,
        });
    };
    certificate_warnings(&certificates, now, &mut warnings);
    Ok(IdpMetadata {
        entity_id: entity_id.to_owned(),
        sso: raw.sso.clone(),
        slo: raw.slo.clone(),
        slo_plain_http: raw.slo_plain_http.clone(),
        artifact_resolution: raw.artifact_resolution.clone(),
        name_id_formats: raw.name_id_formats.clone(),
        want_authn_requests_signed: raw.want_authn_requests_signed,
        certificates,
        signing_keys,
        valid_until: raw.valid_until,
        cache_duration: raw.cache_duration,
        error_url: raw.error_url.clone(),
        organization: raw.organization.clone(),
        contacts: raw.contacts.clone(),
        ui: raw.ui.clone(),
        registration: raw.registration.clone(),
        scopes: raw.scopes.clone(),
        entity_attributes: raw.entity_attributes.clone(),
        signature: signature.clone(),
        warnings,
    })
}

impl IdpMetadata {
    /// Parses a metadata document that describes one IdP (what an admin uploads, or what the
    /// IdP's metadata URL returns) and returns that IdP, checked at `now`.
    ///
    /// ```
    /// use fedkit_metadata::{IdpMetadata, ImportSettings, SignaturePolicy};
    /// let xml = include_bytes!("../../../examples/data/metadata-jumpcloud.xml");
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
    /// let idp = IdpMetadata::from_xml(xml, &ImportSettings::new(SignaturePolicy::NotRequired), now)?;
    /// assert_eq!(idp.sso()[0].location, "https://sso.jumpcloud.com/saml2/fedkit-example");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_xml(xml: &[u8], options: &ImportSettings, now: DateTime<Utc>) -> Result<Self, Error> {
        Metadata::parse(xml, options, now)?.only_idp(now)
    }
}

/// Renamed [`ImportSettings`] (the workspace names component configuration `…Settings`).
#[deprecated(note = "renamed to ImportSettings")]
pub type Options = ImportSettings;
