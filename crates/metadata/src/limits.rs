//! Resource limits for importing untrusted metadata.

/// Upper bounds checked while importing metadata. Exceeding one is its own error,
/// [`Error::LimitExceeded`](crate::Error::LimitExceeded) (or, for the XML-level limits,
/// [`Error::Xml`](crate::Error::Xml) with
/// [`ParseError::LimitExceeded`](fedkit_xmldsig::ParseError::LimitExceeded)), naming the limit.
///
/// [`Limits::default`] suits what an admin uploads or a connection's metadata URL returns:
/// one IdP, or a handful, in at most 1 MiB. Federation aggregates (InCommon, eduGAIN: tens of
/// megabytes, 10 000+ entities) need the explicit opt-in [`Limits::aggregate`].
///
/// ```
/// use fedkit_metadata::Limits;
/// let single = Limits::default();
/// assert_eq!(single.xml().max_bytes(), 1024 * 1024);
/// let federation = Limits::aggregate();
/// assert!(federation.max_entities() >= 100_000);
/// let tighter = Limits::default().with_max_entities(10);
/// assert_eq!(tighter.max_nesting(), single.max_nesting());
/// ```
///
/// Each `with_*` method changes one limit. Every value is valid and none can make the import
/// panic: a limit of 0 refuses every document that has one of what it counts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Limits of the hardened XML parser (size, nodes, depth, attributes and namespace
    /// declarations per element). Default: 1 MiB and 100 000 nodes, the other fields as in
    /// [`fedkit_xmldsig::Limits::default`].
    pub(crate) xml: fedkit_xmldsig::Limits,
    /// Maximum number of `EntityDescriptor`s in one document. Default 1 000.
    pub(crate) max_entities: usize,
    /// Maximum nesting of `EntitiesDescriptor` elements (the root counts as 1). Default 8;
    /// real federations use 1 or 2.
    pub(crate) max_nesting: usize,
    /// Maximum length in bytes of any single value read from the metadata (an attribute such
    /// as `Location`, or an element's text such as `NameIDFormat`), certificates excepted.
    /// Default 16 KiB. (`entityID` is also held to the 1 024 characters SAML allows.)
    pub(crate) max_value_bytes: usize,
    /// Maximum length in bytes of one `ds:X509Certificate` (base64 text, whitespace
    /// included). Default 64 KiB; a 4096-bit RSA certificate is about 2 KiB.
    pub(crate) max_certificate_bytes: usize,
    /// Maximum number of certificates read from one entity's `IDPSSODescriptor`. Default 32.
    pub(crate) max_certificates_per_entity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            xml: fedkit_xmldsig::Limits::default()
                .with_max_bytes(1024 * 1024)
                .with_max_nodes(100_000),
            max_entities: 1_000,
            max_nesting: 8,
            max_value_bytes: 16 * 1024,
            max_certificate_bytes: 64 * 1024,
            max_certificates_per_entity: 32,
        }
    }
}

impl Limits {
    /// Limits for signed federation aggregates: up to 512 MiB, 64 million nodes and 500 000
    /// entities; the per-value limits stay as in [`Limits::default`]. Use it only for
    /// documents whose signature is required ([`SignaturePolicy::Required`](crate::SignaturePolicy::Required)):
    /// the parse happens before the signature can be checked, so these limits bound what an
    /// attacker who can feed you a document may make you allocate.
    pub fn aggregate() -> Self {
        Self {
            xml: fedkit_xmldsig::Limits::large_documents(),
            max_entities: 500_000,
            ..Self::default()
        }
    }

    /// Sets [`Limits::xml`].
    #[must_use]
    pub fn with_xml(mut self, value: fedkit_xmldsig::Limits) -> Self {
        self.xml = value;
        self
    }

    /// Limits of the hardened XML parser (size, nodes, depth, attributes and namespace
    /// declarations per element). Default: 1 MiB and 100 000 nodes, the other fields as in
    /// [`fedkit_xmldsig::Limits::default`].
    pub fn xml(&self) -> &fedkit_xmldsig::Limits {
        &self.xml
    }

    /// Sets [`Limits::max_entities`].
    #[must_use]
    pub fn with_max_entities(mut self, value: usize) -> Self {
        self.max_entities = value;
        self
    }

    /// Maximum number of `EntityDescriptor`s in one document. Default 1 000.
    pub fn max_entities(&self) -> usize {
        self.max_entities
    }

    /// Sets [`Limits::max_nesting`].
    #[must_use]
    pub fn with_max_nesting(mut self, value: usize) -> Self {
        self.max_nesting = value;
        self
    }

    /// Maximum nesting of `EntitiesDescriptor` elements (the root counts as 1). Default 8;
    /// real federations use 1 or 2.
    pub fn max_nesting(&self) -> usize {
        self.max_nesting
    }

    /// Sets [`Limits::max_value_bytes`].
    #[must_use]
    pub fn with_max_value_bytes(mut self, value: usize) -> Self {
        self.max_value_bytes = value;
        self
    }

    /// Maximum length in bytes of any single value read from the metadata (an attribute such
    /// as `Location`, or an element's text such as `NameIDFormat`), certificates excepted.
    /// Default 16 KiB. (`entityID` is also held to the 1 024 characters SAML allows.)
    pub fn max_value_bytes(&self) -> usize {
        self.max_value_bytes
    }

    /// Sets [`Limits::max_certificate_bytes`].
    #[must_use]
    pub fn with_max_certificate_bytes(mut self, value: usize) -> Self {
        self.max_certificate_bytes = value;
        self
    }

    /// Maximum length in bytes of one `ds:X509Certificate` (base64 text, whitespace
    /// included). Default 64 KiB; a 4096-bit RSA certificate is about 2 KiB.
    pub fn max_certificate_bytes(&self) -> usize {
        self.max_certificate_bytes
    }

    /// Sets [`Limits::max_certificates_per_entity`].
    #[must_use]
    pub fn with_max_certificates_per_entity(mut self, value: usize) -> Self {
        self.max_certificates_per_entity = value;
        self
    }

    /// Maximum number of certificates read from one entity's `IDPSSODescriptor`. Default 32.
    pub fn max_certificates_per_entity(&self) -> usize {
        self.max_certificates_per_entity
    }
}

/// Which limit of [`Limits`] a document exceeded (the XML-level ones are reported by the parser).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataLimit {
    /// [`Limits::max_entities`].
    Entities,
    /// [`Limits::max_nesting`].
    Nesting,
    /// [`Limits::max_value_bytes`].
    ValueBytes,
    /// [`Limits::max_certificate_bytes`].
    CertificateBytes,
    /// [`Limits::max_certificates_per_entity`].
    CertificatesPerEntity,
}

impl core::fmt::Display for MetadataLimit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MetadataLimit::Entities => "number of EntityDescriptor elements",
            MetadataLimit::Nesting => "nesting of EntitiesDescriptor elements",
            MetadataLimit::ValueBytes => "length of one value in bytes",
            MetadataLimit::CertificateBytes => "length of one certificate in bytes",
            MetadataLimit::CertificatesPerEntity => "number of certificates of one entity",
        })
    }
}

/// Renamed [`MetadataLimit`] (the XML parser's limits are `fedkit_xmldsig::XmlLimit`).
#[deprecated(note = "renamed to MetadataLimit")]
pub type LimitKind = MetadataLimit;
