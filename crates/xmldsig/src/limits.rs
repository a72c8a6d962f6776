//! Resource limits for parsing untrusted XML.

/// Upper bounds checked while parsing untrusted XML.
///
/// Every limit is checked by a linear pre-scan *before* the tree is built, so a hostile
/// document (50 000 attributes on one element, a million nested elements) is refused in time
/// proportional to its size, never quadratic. Exceeding a limit is its own error,
/// [`ParseError::LimitExceeded`](crate::ParseError::LimitExceeded), naming the limit.
///
/// The defaults suit SAML protocol messages and single-entity metadata. Federation
/// aggregates need [`Limits::large_documents`].
///
/// Each `with_*` method changes one limit. Every value is valid, none can make the parser
/// panic or allocate more than the input calls for: a limit of 0 refuses every document that
/// has one of what it counts (0 attributes per element accepts only elements without any).
///
/// ```
/// use fedkit_xmldsig::Limits;
/// let limits = Limits::default().with_max_bytes(64 * 1024);
/// assert_eq!(limits.max_bytes(), 64 * 1024);
/// assert_eq!(limits.max_depth(), Limits::default().max_depth());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum input size in bytes. Default 8 MiB.
    pub(crate) max_bytes: usize,
    /// Maximum number of nodes (elements, text runs, comments, processing instructions).
    /// Default 500 000.
    pub(crate) max_nodes: u32,
    /// Maximum element nesting depth. Default 128.
    pub(crate) max_depth: usize,
    /// Maximum attributes on one element, namespace declarations excluded. Default 128.
    pub(crate) max_attributes_per_element: usize,
    /// Maximum namespace declarations (`xmlns`, `xmlns:p`) on one element. Default 64.
    pub(crate) max_namespace_declarations_per_element: usize,
    /// Maximum namespace declarations in scope at any element (summed over its ancestors).
    /// Bounds the per-element namespace bookkeeping of the tree. Default 256.
    pub(crate) max_namespaces_in_scope: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_nodes: 500_000,
            max_depth: 128,
            max_attributes_per_element: 128,
            max_namespace_declarations_per_element: 64,
            max_namespaces_in_scope: 256,
        }
    }
}

impl Limits {
    /// Limits for large signed metadata aggregates (up to 512 MiB and 64 million nodes);
    /// the per-element limits stay as in [`Limits::default`].
    pub fn large_documents() -> Self {
        Self {
            max_bytes: 512 * 1024 * 1024,
            max_nodes: 64_000_000,
            ..Self::default()
        }
    }

    /// Sets [`Limits::max_bytes`].
    #[must_use]
    pub fn with_max_bytes(mut self, value: usize) -> Self {
        self.max_bytes = value;
        self
    }

    /// Maximum input size in bytes. Default 8 MiB.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Sets [`Limits::max_nodes`].
    #[must_use]
    pub fn with_max_nodes(mut self, value: u32) -> Self {
        self.max_nodes = value;
        self
    }

    /// Maximum number of nodes (elements, text runs, comments, processing instructions).
    /// Default 500 000.
    pub fn max_nodes(&self) -> u32 {
        self.max_nodes
    }

    /// Sets [`Limits::max_depth`].
    #[must_use]
    pub fn with_max_depth(mut self, value: usize) -> Self {
        self.max_depth = value;
        self
    }

    /// Maximum element nesting depth. Default 128.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Sets [`Limits::max_attributes_per_element`].
    #[must_use]
    pub fn with_max_attributes_per_element(mut self, value: usize) -> Self {
        self.max_attributes_per_element = value;
        self
    }

    /// Maximum attributes on one element, namespace declarations excluded. Default 128.
    pub fn max_attributes_per_element(&self) -> usize {
        self.max_attributes_per_element
    }

    /// Sets [`Limits::max_namespace_declarations_per_element`].
    #[must_use]
    pub fn with_max_namespace_declarations_per_element(mut self, value: usize) -> Self {
        self.max_namespace_declarations_per_element = value;
        self
    }

    /// Maximum namespace declarations (`xmlns`, `xmlns:p`) on one element. Default 64.
    pub fn max_namespace_declarations_per_element(&self) -> usize {
        self.max_namespace_declarations_per_element
    }

    /// Sets [`Limits::max_namespaces_in_scope`].
    #[must_use]
    pub fn with_max_namespaces_in_scope(mut self, value: usize) -> Self {
        self.max_namespaces_in_scope = value;
        self
    }

    /// Maximum namespace declarations in scope at any element (summed over its ancestors).
    /// Bounds the per-element namespace bookkeeping of the tree. Default 256.
    pub fn max_namespaces_in_scope(&self) -> usize {
        self.max_namespaces_in_scope
    }
}

/// Which limit of [`Limits`] a document exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlLimit {
    /// [`Limits::max_bytes`].
    Bytes,
    /// [`Limits::max_nodes`].
    Nodes,
    /// [`Limits::max_depth`].
    Depth,
    /// [`Limits::max_attributes_per_element`].
    AttributesPerElement,
    /// [`Limits::max_namespace_declarations_per_element`].
    NamespaceDeclarationsPerElement,
    /// [`Limits::max_namespaces_in_scope`].
    NamespacesInScope,
}

impl core::fmt::Display for XmlLimit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            XmlLimit::Bytes => "input size in bytes",
            XmlLimit::Nodes => "number of nodes",
            XmlLimit::Depth => "element nesting depth",
            XmlLimit::AttributesPerElement => "attributes on one element",
            XmlLimit::NamespaceDeclarationsPerElement => "namespace declarations on one element",
            XmlLimit::NamespacesInScope => "namespace declarations in scope",
        })
    }
}

/// Renamed [`XmlLimit`] (fedkit-metadata's own limits are `MetadataLimit`).
#[deprecated(note = "renamed to XmlLimit")]
pub type LimitKind = XmlLimit;
