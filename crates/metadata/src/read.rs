//! Reading entities out of the parsed (and, when signed, verified) tree.
//!
//! The same code reads a verified document (through [`VerifiedElement`], which only shows
//! what the signature covered) and an unsigned one (through the plain tree), via [`El`].

use std::borrow::Cow;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use fedkit_xmldsig::{KeyError, VerifiedElement};

use crate::error::{Error, Location};
use crate::limits::{Limits, MetadataLimit};
use crate::model::{
    Binding, ContactPerson, ContactType, Endpoint, EntityAttribute, KeyUse, Localized, Logo, Organization,
    PlainHttpEndpoint, RegistrationInfo, Scope, SkippedCertificate, UiInfo,
};
use crate::time::{parse_datetime, CacheDuration, MissingZone};
use crate::url::{check_display, check_endpoint, UrlProblem};
use crate::warning::ImportWarning;

pub(crate) const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub(crate) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const MDUI: &str = "urn:oasis:names:tc:SAML:metadata:ui";
pub(crate) const MDRPI: &str = "urn:oasis:names:tc:SAML:metadata:rpi";
const MDATTR: &str = "urn:oasis:names:tc:SAML:metadata:attribute";
const SHIBMD: &str = "urn:mace:shibboleth:metadata:1.0";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
pub(crate) const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// SAML Metadata §2.3.2: `entityID` is at most 1024 characters.
const MAX_ENTITY_ID_CHARS: usize = 1024;

/// An element to read: a verified element or a plain (unsigned-document) node, read the same
/// way: children are elements only, text concatenates all descendant text and skips comments.
pub(crate) trait El<'a>: Copy {
    fn ns(self) -> Option<&'a str>;
    fn local(self) -> &'a str;
    fn attr(self, name: &str) -> Option<&'a str>;
    fn attr_ns(self, ns: &str, name: &str) -> Option<&'a str>;
    fn kids(self) -> impl Iterator<Item = Self> + 'a;
    fn text(self) -> String;

    fn is(self, ns: &str, local: &str) -> bool {
        self.ns() == Some(ns) && self.local() == local
    }
}

impl<'a, 'i: 'a> El<'a> for VerifiedElement<'a, 'i> {
    fn ns(self) -> Option<&'a str> {
        self.namespace()
    }
    fn local(self) -> &'a str {
        self.local_name()
    }
    fn attr(self, name: &str) -> Option<&'a str> {
        self.attribute(name)
    }
    fn attr_ns(self, ns: &str, name: &str) -> Option<&'a str> {
        self.attribute_ns(ns, name)
    }
    fn kids(self) -> impl Iterator<Item = Self> + 'a {
        self.children()
    }
    fn text(self) -> String {
        VerifiedElement::text(&self)
    }
}

/// A node of an unsigned document.
#[derive(Clone, Copy)]
pub(crate) struct Plain<'a, 'i>(pub(crate) roxmltree::Node<'a, 'i>);

impl<'a, 'i: 'a> El<'a> for Plain<'a, 'i> {
    fn ns(self) -> Option<&'a str> {
        self.0.tag_name().namespace()
    }
    fn local(self) -> &'a str {
        self.0.tag_name().name()
    }
    fn attr(self, name: &str) -> Option<&'a str> {
        self.0
            .attributes()
            .find(|a| a.namespace().is_none() && a.name() == name)
            .map(|a| a.value())
    }
    fn attr_ns(self, ns: &str, name: &str) -> Option<&'a str> {
        self.0
            .attributes()
            .find(|a| a.namespace() == Some(ns) && a.name() == name)
            .map(|a| a.value())
    }
    fn kids(self) -> impl Iterator<Item = Self> + 'a {
        self.0.children().filter(roxmltree::Node::is_element).map(Plain)
    }
    fn text(self) -> String {
        let mut out = String::new();
        for n in self.0.descendants() {
            if n.is_text() {
                out.push_str(n.text().unwrap_or_default());
            }
        }
        out
    }
}

/// Leading and trailing XML whitespace removed: enough for values whose schema type cannot
/// contain spaces anyway (booleans, integers) and for element text.
fn collapse(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

/// XML Schema `whiteSpace="collapse"` (XML Schema Part 2 §4.3.6), which `xs:anyURI` values
/// (`entityID`, `Binding`, `Location`, `ResponseLocation`) undergo before they mean anything:
/// tabs, carriage returns and line feeds become spaces, runs of spaces become one, and leading
/// and trailing spaces go. A space left inside still makes an invalid URL.
pub(crate) fn collapse_uri(s: &str) -> Cow<'_, str> {
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = s.as_bytes();
    let clean = !bytes.first().is_some_and(|&b| ws(b))
        && !bytes.last().is_some_and(|&b| ws(b))
        && !bytes.iter().any(|&b| matches!(b, b'\t' | b'\r' | b'\n'))
        && !s.contains("  ");
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// What an entity inherits from its enclosing `EntitiesDescriptor`s.
#[derive(Clone, Debug, Default)]
pub(crate) struct Inherited {
    pub(crate) valid_until: Option<DateTime<Utc>>,
    pub(crate) cache_duration: Option<CacheDuration>,
    pub(crate) registration: Option<RegistrationInfo>,
}

/// The earlier of two optional instants.
pub(crate) fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// One raw certificate of a `KeyDescriptor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawKey {
    pub(crate) usage: KeyUse,
    pub(crate) key_descriptor: usize,
    /// DER of every `X509Certificate` of the KeyDescriptor, in order.
    pub(crate) certificates: Vec<Vec<u8>>,
}

/// An IdP as read from the document, before its certificates are parsed (that happens on
/// lookup, so a large aggregate loads quickly and keeps only DER bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawIdp {
    pub(crate) sso: Vec<Endpoint>,
    pub(crate) slo: Vec<Endpoint>,
    pub(crate) slo_plain_http: Vec<PlainHttpEndpoint>,
    pub(crate) artifact_resolution: Vec<Endpoint>,
    pub(crate) name_id_formats: Vec<String>,
    pub(crate) want_authn_requests_signed: bool,
    pub(crate) keys: Vec<RawKey>,
    /// Signing certificates whose base64 could not be read (the rest are parsed on lookup).
    pub(crate) skipped: Vec<SkippedCertificate>,
    pub(crate) valid_until: Option<DateTime<Utc>>,
    pub(crate) cache_duration: Option<CacheDuration>,
    pub(crate) error_url: Option<String>,
    pub(crate) organization: Option<Organization>,
    pub(crate) contacts: Vec<ContactPerson>,
    pub(crate) ui: Option<UiInfo>,
    pub(crate) registration: Option<RegistrationInfo>,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) entity_attributes: Vec<EntityAttribute>,
    pub(crate) warnings: Vec<ImportWarning>,
}

impl RawIdp {
    /// Gives back the spare capacity of every list: an aggregate keeps thousands of these.
    fn shrink(&mut self) {
        self.sso.shrink_to_fit();
        self.slo.shrink_to_fit();
        self.slo_plain_http.shrink_to_fit();
        self.artifact_resolution.shrink_to_fit();
        self.name_id_formats.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.contacts.shrink_to_fit();
        self.scopes.shrink_to_fit();
        self.entity_attributes.shrink_to_fit();
        self.warnings.shrink_to_fit();
        if let Some(ui) = &mut self.ui {
            ui.display_names.shrink_to_fit();
            ui.descriptions.shrink_to_fit();
            ui.logos.shrink_to_fit();
            ui.information_urls.shrink_to_fit();
            ui.privacy_statement_urls.shrink_to_fit();
        }
        if let Some(org) = &mut self.organization {
            org.names.shrink_to_fit();
            org.display_names.shrink_to_fit();
            org.urls.shrink_to_fit();
        }
    }
}

/// The role descriptors of an entity that is not an IdP, as a bit set (an aggregate has
/// thousands of such entities; their roles are only needed for an error message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roles(u8);

const ROLE_NAMES: [&str; 6] = [
    "SPSSODescriptor",
    "AuthnAuthorityDescriptor",
    "AttributeAuthorityDescriptor",
    "PDPDescriptor",
    "RoleDescriptor",
    "AffiliationDescriptor",
];

impl Roles {
    fn add(&mut self, name: &str) {
        if let Some(i) = ROLE_NAMES.iter().position(|r| *r == name) {
            self.0 |= 1 << i;
        }
    }

    /// The role names, in schema order.
    pub(crate) fn names(self) -> Vec<String> {
        ROLE_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| (*n).to_owned())
            .collect()
    }
}

/// What an `EntityDescriptor` turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Idp(Box<RawIdp>),
    /// Not an IdP: the role descriptors it has.
    Other(Roles),
    /// An IdP (or so it claims) that cannot be used.
    Invalid(Box<Error>),
    /// The entity ID is carried by this many entities.
    Duplicate(usize),
}

/// An element name with its 1-based position (`SingleSignOnService #2`), formatted only when
/// an error needs it.
#[derive(Clone, Copy)]
struct Nth(&'static str, usize);

impl core::fmt::Display for Nth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} #{}", self.0, self.1)
    }
}

/// Reads values with the limits and the entity in context.
pub(crate) struct Reader<'l> {
    pub(crate) limits: &'l Limits,
    pub(crate) allow_http: bool,
    pub(crate) now: DateTime<Utc>,
}

impl Reader<'_> {
    fn bounded(&self, location: impl FnOnce() -> Location, value: &str) -> Result<(), Error> {
        if value.len() > self.limits.max_value_bytes {
            return Err(Error::LimitExceeded {
                limit: MetadataLimit::ValueBytes,
                max: self.limits.max_value_bytes,
                location: Some(location()),
            });
        }
        Ok(())
    }

    /// An attribute value, length-checked.
    fn attr<'a, E: El<'a>>(
        &self,
        el: E,
        name: &'static str,
        entity: Option<&str>,
        element: &(impl core::fmt::Display + ?Sized),
    ) -> Result<Option<&'a str>, Error> {
        match el.attr(name) {
            Some(v) => {
                self.bounded(|| Location::new(entity, element.to_string(), Some(name)), v)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    fn required_attr<'a, E: El<'a>>(
        &self,
        el: E,
        name: &'static str,
        entity: Option<&str>,
        element: &(impl core::fmt::Display + ?Sized),
    ) -> Result<&'a str, Error> {
        self.attr(el, name, entity, element)?
            .ok_or_else(|| Error::Missing {
                location: Location::new(entity, element.to_string(), Some(name)),
            })
    }

    /// An element's text, length-checked, whitespace-collapsed.
    fn text<'a, E: El<'a>>(&self, el: E, entity: Option<&str>, element: &str) -> Result<String, Error> {
        let text = el.text();
        self.bounded(|| Location::new(entity, element, None), &text)?;
        let trimmed = collapse(&text);
        Ok(if trimmed.len() == text.len() {
            text
        } else {
            trimmed.to_owned()
        })
    }

    fn localized<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        element: &str,
    ) -> Result<Localized, Error> {
        let value = self.text(el, entity, element)?;
        let lang = el.attr_ns(XML, "lang");
        if let Some(l) = lang {
            self.bounded(|| Location::new(entity, element, Some("xml:lang")), l)?;
        }
        Ok(Localized::new(lang, value))
    }

    /// `validUntil`, when present; an unreadable one is an error (expiry is a security
    /// property).
    pub(crate) fn valid_until<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        element: &str,
    ) -> Result<Option<DateTime<Utc>>, Error> {
        let Some(v) = self.attr(el, "validUntil", entity, element)? else {
            return Ok(None);
        };
        parse_datetime(v, MissingZone::AssumeUtc)
            .map(Some)
            .ok_or_else(|| Error::InvalidValue {
                location: Location::new(entity, element, Some("validUntil")),
                value: v.to_owned(),
                expected: "an xs:dateTime such as 2026-12-31T00:00:00Z",
            })
    }

    /// `cacheDuration`, when present and valid; an invalid one is ignored with a warning
    /// (it is a caching hint, not a security property).
    pub(crate) fn cache_duration<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        element: &'static str,
        warnings: &mut Vec<ImportWarning>,
    ) -> Result<Option<CacheDuration>, Error> {
        let Some(v) = self.attr(el, "cacheDuration", entity, element)? else {
            return Ok(None);
        };
        match v.parse::<CacheDuration>() {
            Ok(d) => Ok(Some(d)),
            Err(reason) => {
                warnings.push(ImportWarning::CacheDurationIgnored {
                    element,
                    value: v.to_owned(),
                    reason,
                });
                Ok(None)
            }
        }
    }

    /// The shorter of two cache durations, compared from `now`.
    pub(crate) fn shortest(
        &self,
        a: Option<CacheDuration>,
        b: Option<CacheDuration>,
    ) -> Option<CacheDuration> {
        match (a, b) {
            (Some(x), Some(y)) => {
                let (tx, ty) = (x.after(self.now), y.after(self.now));
                Some(match (tx, ty) {
                    (Some(p), Some(q)) if q < p => y,
                    (None, Some(_)) => y,
                    _ => x,
                })
            }
            (x, None) => x,
            (None, y) => y,
        }
    }

    pub(crate) fn registration<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
    ) -> Result<RegistrationInfo, Error> {
        const NAME: &str = "mdrpi:RegistrationInfo";
        let authority = self.required_attr(el, "registrationAuthority", entity, NAME)?;
        let instant = self
            .attr(el, "registrationInstant", entity, NAME)?
            .and_then(|t| parse_datetime(t, MissingZone::AssumeUtc));
        let mut policies = Vec::new();
        for p in el.kids().filter(|k| k.is(MDRPI, "RegistrationPolicy")) {
            policies.push(self.localized(p, entity, "mdrpi:RegistrationPolicy")?);
        }
        Ok(RegistrationInfo {
            authority: authority.to_owned(),
            instant,
            policies,
        })
    }

    /// The `entityID` of an `EntityDescriptor`, whitespace-collapsed (its type, `entityIDType`,
    /// is an `xs:anyURI`).
    pub(crate) fn entity_id<'a, E: El<'a>>(&self, el: E) -> Result<Cow<'a, str>, Error> {
        const NAME: &str = "EntityDescriptor";
        let raw = self.required_attr(el, "entityID", None, NAME)?;
        let bad = |expected| Error::InvalidValue {
            location: Location::new(None, NAME, Some("entityID")),
            value: raw.to_owned(),
            expected,
        };
        let id = collapse_uri(raw);
        if id.is_empty() {
            return Err(bad("a non-empty identifier (usually the IdP's URL)"));
        }
        if id.chars().count() > MAX_ENTITY_ID_CHARS {
            return Err(bad("at most 1024 characters (SAML Metadata §2.3.2)"));
        }
        Ok(id)
    }

    /// Reads one `EntityDescriptor` (its `entityID` already read).
    pub(crate) fn entity<'a, E: El<'a>>(
        &self,
        el: E,
        entity_id: &str,
        inherited: &Inherited,
    ) -> Result<Slot, Error> {
        let entity = Some(entity_id);
        let mut roles = Roles::default();
        let mut idp_descriptors = Vec::new();
        let mut extensions = None;
        let mut organization = None;
        let mut contacts = Vec::new();
        for child in el.kids() {
            if child.ns() != Some(MD) {
                continue;
            }
            match child.local() {
                "Extensions" => extensions = Some(child),
                "IDPSSODescriptor" => idp_descriptors.push(child),
                "Organization" => organization = Some(child),
                "ContactPerson" => contacts.push(child),
                name @ ("SPSSODescriptor"
                | "AuthnAuthorityDescriptor"
                | "AttributeAuthorityDescriptor"
                | "PDPDescriptor"
                | "RoleDescriptor"
                | "AffiliationDescriptor") => roles.add(name),
                _ => {}
            }
        }
        // Other roles (Service Providers, attribute authorities) are only listed: nothing of
        // theirs is read or checked.
        if idp_descriptors.is_empty() {
            return Ok(Slot::Other(roles));
        }
        let mut warnings = Vec::new();
        let valid_until = earliest(
            inherited.valid_until,
            self.valid_until(el, entity, "EntityDescriptor")?,
        );
        let own_cache = self.cache_duration(el, entity, "EntityDescriptor", &mut warnings)?;
        let cache_duration = self.shortest(inherited.cache_duration, own_cache);
        let saml2 = idp_descriptors.iter().copied().find(|d| {
            d.attr("protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|u| u == SAML2_PROTOCOL))
        });
        let Some(idp) = saml2 else {
            let protocols = idp_descriptors
                .first()
                .and_then(|d| d.attr("protocolSupportEnumeration"))
                .unwrap_or_default();
            self.bounded(
                || Location::new(entity, "IDPSSODescriptor", Some("protocolSupportEnumeration")),
                protocols,
            )?;
            return Err(Error::NoSaml2 {
                entity_id: entity_id.to_owned(),
                protocols: protocols.to_owned(),
            });
        };

        let mut raw = RawIdp {
            sso: Vec::new(),
            slo: Vec::new(),
            slo_plain_http: Vec::new(),
            artifact_resolution: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: false,
            keys: Vec::new(),
            skipped: Vec::new(),
            valid_until: earliest(valid_until, self.valid_until(idp, entity, "IDPSSODescriptor")?),
            cache_duration: None,
            error_url: None,
            organization: None,
            contacts: Vec::new(),
            ui: None,
            registration: inherited.registration.clone(),
            scopes: Vec::new(),
            entity_attributes: Vec::new(),
            warnings: Vec::new(),
        };
        let role_cache = self.cache_duration(idp, entity, "IDPSSODescriptor", &mut warnings)?;
        raw.cache_duration = self.shortest(cache_duration, role_cache);

        if let Some(ext) = extensions {
            for item in ext.kids() {
                if item.is(MDRPI, "RegistrationInfo") {
                    if let Some(r) = lenient(self.registration(item, entity), &mut warnings)? {
                        raw.registration = Some(r);
                    }
                } else if item.is(MDATTR, "EntityAttributes") {
                    for attribute in item.kids().filter(|a| a.is(SAML, "Attribute")) {
                        if let Some(a) = lenient(self.entity_attribute(attribute, entity), &mut warnings)? {
                            raw.entity_attributes.push(a);
                        }
                    }
                } else if item.is(SHIBMD, "Scope") {
                    if let Some(scope) = lenient(self.scope(item, entity), &mut warnings)? {
                        raw.scopes.push(scope);
                    }
                }
            }
        }
        self.idp_descriptor(idp, entity_id, &mut raw, &mut warnings)?;
        if let Some(org) = organization {
            raw.organization = Some(self.organization(org, entity, &mut warnings)?);
        }
        for c in contacts {
            raw.contacts.push(self.contact(c, entity)?);
        }
        raw.warnings = warnings;
        raw.shrink();
        Ok(Slot::Idp(Box::new(raw)))
    }

    fn entity_attribute<'a, E: El<'a>>(&self, el: E, entity: Option<&str>) -> Result<EntityAttribute, Error> {
        const NAME: &str = "mdattr:EntityAttributes/saml:Attribute";
        let name = self.required_attr(el, "Name", entity, NAME)?;
        let name_format = self.attr(el, "NameFormat", entity, NAME)?;
        let mut values = Vec::new();
        for v in el.kids().filter(|v| v.is(SAML, "AttributeValue")) {
            values.push(self.text(v, entity, "saml:AttributeValue")?);
        }
        Ok(EntityAttribute {
            name: name.to_owned(),
            name_format: name_format.map(str::to_owned),
            values,
        })
    }

    fn scope<'a, E: El<'a>>(&self, el: E, entity: Option<&str>) -> Result<Scope, Error> {
        let regexp = match self.attr(el, "regexp", entity, "shibmd:Scope")?.map(collapse) {
            None => false,
            Some(v) => parse_bool(v).ok_or_else(|| Error::InvalidValue {
                location: Location::new(entity, "shibmd:Scope", Some("regexp")),
                value: v.to_owned(),
                expected: "true or false",
            })?,
        };
        Ok(Scope {
            value: self.text(el, entity, "shibmd:Scope")?,
            regexp,
        })
    }

    fn idp_descriptor<'a, E: El<'a>>(
        &self,
        el: E,
        entity_id: &str,
        raw: &mut RawIdp,
        warnings: &mut Vec<ImportWarning>,
    ) -> Result<(), Error> {
        const NAME: &str = "IDPSSODescriptor";
        let entity = Some(entity_id);
        if let Some(v) = self.attr(el, "WantAuthnRequestsSigned", entity, NAME)? {
            raw.want_authn_requests_signed = parse_bool(collapse(v)).ok_or_else(|| Error::InvalidValue {
                location: Location::new(entity, NAME, Some("WantAuthnRequestsSigned")),
                value: v.to_owned(),
                expected: "true or false",
            })?;
        }
        if let Some(url) = self.attr(el, "errorURL", entity, NAME)? {
            match check_display(url, false) {
                Ok(()) => raw.error_url = Some(url.to_owned()),
                Err(problem) => warnings.push(ImportWarning::DisplayUrlIgnored {
                    element: "IDPSSODescriptor errorURL",
                    url: url.to_owned(),
                    problem,
                }),
            }
        }
        let mut key_descriptors = 0usize;
        let mut certificates = 0usize;
        let (mut sso_n, mut slo_n, mut ars_n) = (0usize, 0usize, 0usize);
        for child in el.kids() {
            if child.is(MD, "Extensions") {
                for item in child.kids() {
                    if item.is(MDUI, "UIInfo") {
                        raw.ui = Some(self.ui_info(item, entity, warnings)?);
                    } else if item.is(SHIBMD, "Scope") {
                        if let Some(scope) = lenient(self.scope(item, entity), warnings)? {
                            raw.scopes.push(scope);
                        }
                    }
                }
                continue;
            }
            if child.ns() != Some(MD) {
                continue;
            }
            match child.local() {
                "KeyDescriptor" => {
                    key_descriptors += 1;
                    match self.key_descriptor(child, entity, key_descriptors, &mut certificates)? {
                        KeyRead::Key(key) => raw.keys.push(key),
                        KeyRead::NoCertificate => {
                            warnings.push(ImportWarning::KeyDescriptorWithoutCertificate {
                                key_descriptor: key_descriptors,
                            });
                        }
                        KeyRead::Unreadable(skipped) => {
                            warnings.push(ImportWarning::CertificateSkipped {
                                key_descriptor: key_descriptors,
                                reason: skipped.reason.clone(),
                            });
                            if skipped.usage.signs() {
                                raw.skipped.push(skipped);
                            }
                        }
                    }
                }
                "SingleSignOnService" => {
                    sso_n += 1;
                    let element = Nth("SingleSignOnService", sso_n);
                    // SAML 2.0 sign-on goes to these: any defect refuses the IdP. Endpoints of
                    // other bindings (SAML 1, Shibboleth 1.x AuthnRequest) are never used.
                    let saml2 = child
                        .attr("Binding")
                        .is_none_or(|b| !matches!(Binding::from_uri(&collapse_uri(b)), Binding::Other(_)));
                    let read = self.endpoint(child, entity, element, self.allow_http);
                    let read = if saml2 {
                        read.map(Some)?
                    } else {
                        ignored(read, element, warnings)?
                    };
                    raw.sso.extend(read);
                }
                "SingleLogoutService" => {
                    slo_n += 1;
                    let element = Nth("SingleLogoutService", slo_n);
                    match self.endpoint(child, entity, element, self.allow_http) {
                        Ok(e) => raw.slo.push(e),
                        Err(Error::UnsafeUrl {
                            url,
                            problem: UrlProblem::PlainHttp,
                            ..
                        }) => {
                            // Kept aside: refused when the host asks for it (slo_endpoint).
                            let read = self.endpoint(child, entity, element, true);
                            if let Some(endpoint) = ignored(read, element, warnings)? {
                                warnings.push(ImportWarning::SloPlainHttp {
                                    element: element.to_string(),
                                    url: url.clone(),
                                });
                                raw.slo_plain_http.push(PlainHttpEndpoint {
                                    element: element.to_string(),
                                    url,
                                    endpoint,
                                });
                            }
                        }
                        Err(e) => {
                            ignored(Err(e), element, warnings)?;
                        }
                    }
                }
                "ArtifactResolutionService" => {
                    ars_n += 1;
                    let element = Nth("ArtifactResolutionService", ars_n);
                    let read = self.endpoint(child, entity, element, self.allow_http);
                    raw.artifact_resolution.extend(ignored(read, element, warnings)?);
                }
                "NameIDFormat" => {
                    let format = self.text(child, entity, "NameIDFormat")?;
                    if !format.is_empty() && !raw.name_id_formats.contains(&format) {
                        raw.name_id_formats.push(format);
                    }
                }
                _ => {}
            }
        }
        if !raw.keys.iter().any(|k| k.usage.signs()) {
            return Err(Error::NoSigningCertificate {
                entity_id: entity_id.to_owned(),
                skipped: raw.skipped.clone(),
            });
        }
        if raw.sso.is_empty() {
            return Err(Error::NoSsoEndpoint {
                entity_id: entity_id.to_owned(),
            });
        }
        if !raw
            .sso
            .iter()
            .any(|e| matches!(e.binding, Binding::HttpRedirect | Binding::HttpPost))
        {
            warnings.push(ImportWarning::NoBrowserSsoBinding);
        }
        Ok(())
    }

    /// Reads an endpoint: `Binding`, `Location` and `ResponseLocation` whitespace-collapsed
    /// (they are `xs:anyURI`), both URLs checked (`http://` accepted when `allow_http`).
    fn endpoint<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        element: Nth,
        allow_http: bool,
    ) -> Result<Endpoint, Error> {
        let binding = collapse_uri(self.required_attr(el, "Binding", entity, &element)?);
        let location = collapse_uri(self.required_attr(el, "Location", entity, &element)?);
        let url = |attribute: &'static str, url: &str| {
            check_endpoint(url, allow_http).map_err(|problem| Error::UnsafeUrl {
                location: Location::new(entity, element.to_string(), Some(attribute)),
                url: url.to_owned(),
                problem,
            })
        };
        url("Location", &location)?;
        let response_location = self
            .attr(el, "ResponseLocation", entity, &element)?
            .map(collapse_uri);
        if let Some(r) = &response_location {
            url("ResponseLocation", r)?;
        }
        let index = match self.attr(el, "index", entity, &element)? {
            None => None,
            Some(v) => Some(collapse(v).parse::<u16>().map_err(|_| Error::InvalidValue {
                location: Location::new(entity, element.to_string(), Some("index")),
                value: v.to_owned(),
                expected: "an integer from 0 to 65535",
            })?),
        };
        Ok(Endpoint {
            binding: Binding::from_uri(&binding),
            location: location.into_owned(),
            response_location: response_location.map(Cow::into_owned),
            index,
        })
    }

    fn key_descriptor<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        n: usize,
        total: &mut usize,
    ) -> Result<KeyRead, Error> {
        let element = Nth("KeyDescriptor", n);
        let usage = match el.attr("use") {
            None => KeyUse::Both,
            Some("signing") => KeyUse::Signing,
            Some("encryption") => KeyUse::Encryption,
            Some(other) => {
                self.bounded(|| Location::new(entity, element.to_string(), Some("use")), other)?;
                return Err(Error::InvalidValue {
                    location: Location::new(entity, element.to_string(), Some("use")),
                    value: other.to_owned(),
                    expected: "\"signing\", \"encryption\" or no use attribute",
                });
            }
        };
        let mut certificates = Vec::new();
        for key_info in el.kids().filter(|k| k.is(DS, "KeyInfo")) {
            for data in key_info.kids().filter(|d| d.is(DS, "X509Data")) {
                for cert in data.kids().filter(|c| c.is(DS, "X509Certificate")) {
                    *total += 1;
                    if *total > self.limits.max_certificates_per_entity {
                        return Err(Error::LimitExceeded {
                            limit: MetadataLimit::CertificatesPerEntity,
                            max: self.limits.max_certificates_per_entity,
                            location: Some(Location::new(entity, "IDPSSODescriptor", None)),
                        });
                    }
                    let cert_location = || Location::new(entity, format!("{element} X509Certificate"), None);
                    let text = cert.text();
                    if text.len() > self.limits.max_certificate_bytes {
                        return Err(Error::LimitExceeded {
                            limit: MetadataLimit::CertificateBytes,
                            max: self.limits.max_certificate_bytes,
                            location: Some(cert_location()),
                        });
                    }
                    let mut compact = text.into_bytes();
                    compact.retain(|b| !b.is_ascii_whitespace());
                    let der = match base64::engine::general_purpose::STANDARD.decode(&compact) {
                        Ok(der) if !der.is_empty() => Ok(der),
                        Ok(_) => Err("the X509Certificate element is empty".to_owned()),
                        Err(e) => Err(format!("its base64 text is damaged ({e})")),
                    };
                    match der {
                        Ok(der) => certificates.push(der),
                        // The KeyDescriptor's key is its first certificate: when that cannot
                        // be read, the KeyDescriptor is skipped (a later certificate may be a
                        // CA's, never to be pinned in its place).
                        Err(reason) if certificates.is_empty() => {
                            return Ok(KeyRead::Unreadable(SkippedCertificate {
                                key_descriptor: n,
                                usage,
                                reason: KeyError::BadCertificate { reason },
                            }))
                        }
                        // A later one that cannot be read is counted among the ignored extras.
                        Err(_) => certificates.push(Vec::new()),
                    }
                }
            }
        }
        if certificates.is_empty() {
            return Ok(KeyRead::NoCertificate);
        }
        Ok(KeyRead::Key(RawKey {
            usage,
            key_descriptor: n,
            certificates,
        }))
    }

    fn ui_info<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        warnings: &mut Vec<ImportWarning>,
    ) -> Result<UiInfo, Error> {
        let mut ui = UiInfo::default();
        for item in el.kids().filter(|k| k.ns() == Some(MDUI)) {
            match item.local() {
                "DisplayName" => ui
                    .display_names
                    .push(self.localized(item, entity, "mdui:DisplayName")?),
                "Description" => ui
                    .descriptions
                    .push(self.localized(item, entity, "mdui:Description")?),
                "InformationURL" => {
                    let url = self.localized(item, entity, "mdui:InformationURL")?;
                    keep_display_url(&mut ui.information_urls, url, "mdui:InformationURL", warnings);
                }
                "PrivacyStatementURL" => {
                    let url = self.localized(item, entity, "mdui:PrivacyStatementURL")?;
                    keep_display_url(
                        &mut ui.privacy_statement_urls,
                        url,
                        "mdui:PrivacyStatementURL",
                        warnings,
                    );
                }
                "Logo" => {
                    let url = self.text(item, entity, "mdui:Logo")?;
                    match check_display(&url, true) {
                        Ok(()) => ui.logos.push(Logo {
                            url,
                            width: item.attr("width").and_then(|w| collapse(w).parse().ok()),
                            height: item.attr("height").and_then(|h| collapse(h).parse().ok()),
                            lang: item.attr_ns(XML, "lang").map(str::to_owned),
                        }),
                        Err(problem) => warnings.push(ImportWarning::DisplayUrlIgnored {
                            element: "mdui:Logo",
                            url,
                            problem,
                        }),
                    }
                }
                _ => {}
            }
        }
        Ok(ui)
    }

    fn organization<'a, E: El<'a>>(
        &self,
        el: E,
        entity: Option<&str>,
        warnings: &mut Vec<ImportWarning>,
    ) -> Result<Organization, Error> {
        let mut org = Organization::default();
        for item in el.kids().filter(|k| k.ns() == Some(MD)) {
            match item.local() {
                "OrganizationName" => org.names.push(self.localized(item, entity, "OrganizationName")?),
                "OrganizationDisplayName" => {
                    org.display_names
                        .push(self.localized(item, entity, "OrganizationDisplayName")?)
                }
                "OrganizationURL" => {
                    let url = self.localized(item, entity, "OrganizationURL")?;
                    keep_display_url(&mut org.urls, url, "OrganizationURL", warnings);
                }
                _ => {}
            }
        }
        Ok(org)
    }

    fn contact<'a, E: El<'a>>(&self, el: E, entity: Option<&str>) -> Result<ContactPerson, Error> {
        let contact_type = el
            .attr("contactType")
            .and_then(ContactType::from_attr)
            .unwrap_or(ContactType::Other);
        let mut contact = ContactPerson {
            contact_type,
            company: None,
            given_name: None,
            surname: None,
            emails: Vec::new(),
            phones: Vec::new(),
        };
        for item in el.kids().filter(|k| k.ns() == Some(MD)) {
            match item.local() {
                "Company" => contact.company = Some(self.text(item, entity, "ContactPerson/Company")?),
                "GivenName" => {
                    contact.given_name = Some(self.text(item, entity, "ContactPerson/GivenName")?)
                }
                "SurName" => contact.surname = Some(self.text(item, entity, "ContactPerson/SurName")?),
                "EmailAddress" => {
                    contact
                        .emails
                        .push(self.text(item, entity, "ContactPerson/EmailAddress")?)
                }
                "TelephoneNumber" => {
                    contact
                        .phones
                        .push(self.text(item, entity, "ContactPerson/TelephoneNumber")?)
                }
                _ => {}
            }
        }
        Ok(contact)
    }
}

/// What a `KeyDescriptor` gave.
enum KeyRead {
    Key(RawKey),
    /// No `X509Certificate` (only a `KeyName` or `KeyValue`).
    NoCertificate,
    /// Its first certificate's base64 cannot be read.
    Unreadable(SkippedCertificate),
}

/// An endpoint the SP does not depend on: a defect drops it with a warning instead of refusing
/// the IdP. Exceeding a limit still fails the import.
fn ignored(
    result: Result<Endpoint, Error>,
    element: Nth,
    warnings: &mut Vec<ImportWarning>,
) -> Result<Option<Endpoint>, Error> {
    match result {
        Ok(e) => Ok(Some(e)),
        Err(e @ Error::LimitExceeded { .. }) => Err(e),
        Err(e) => {
            warnings.push(ImportWarning::EndpointIgnored {
                element: element.to_string(),
                reason: Box::new(e),
            });
            Ok(None)
        }
    }
}

/// A known extension that breaks its schema (a missing or invalid attribute) is dropped with
/// a warning: extensions are data, and never fail an import. Exceeding a limit still does.
pub(crate) fn lenient<T>(
    result: Result<T, Error>,
    warnings: &mut Vec<ImportWarning>,
) -> Result<Option<T>, Error> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::Missing { location }) => {
            warnings.push(ImportWarning::ExtensionIgnored {
                reason: format!("{location} is missing"),
            });
            Ok(None)
        }
        Err(e @ Error::InvalidValue { .. }) => {
            warnings.push(ImportWarning::ExtensionIgnored {
                reason: e.to_string(),
            });
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn keep_display_url(
    list: &mut Vec<Localized>,
    url: Localized,
    element: &'static str,
    warnings: &mut Vec<ImportWarning>,
) {
    match check_display(&url.value, false) {
        Ok(()) => list.push(url),
        Err(problem) => warnings.push(ImportWarning::DisplayUrlIgnored {
            element,
            url: url.value,
            problem,
        }),
    }
}

/// `xs:boolean`.
pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}
