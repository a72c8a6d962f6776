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
/// ```
/// use fedkit_xmldsig::Limits;
/// let limits = Limits { max_bytes: 64 * 1024, ..Limits::default() };
/// assert_eq!(limits.max_depth, Limits::default().max_depth);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum input size in bytes. Default 8 MiB.
    pub max_bytes: usize,
    /// Maximum number of nodes (elements, text runs, comments, processing instructions).
    /// Default 500 000.
    pub max_nodes: u32,
    /// Maximum element nesting depth. Default 128.
    pub max_depth: usize,
    /// Maximum attributes on one element, namespace declarations excluded. Default 128.
    pub max_attributes_per_element: usize,
    /// Maximum namespace declarations (`xmlns`, `xmlns:p`) on one element. Default 64.
    pub max_namespace_declarations_per_element: usize,
    /// Maximum namespace declarations in scope at any element (summed over its ancestors).
    /// Bounds the per-element namespace bookkeeping of the tree. Default 256.
    pub max_namespaces_in_scope: usize,
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
}

/// Which limit of [`Limits`] a document exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
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

impl core::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LimitKind::Bytes => "input size in bytes",
            LimitKind::Nodes => "number of nodes",
            LimitKind::Depth => "element nesting depth",
            LimitKind::AttributesPerElement => "attributes on one element",
            LimitKind::NamespaceDeclarationsPerElement => "namespace declarations on one element",
            LimitKind::NamespacesInScope => "namespace declarations in scope",
        })
    }
}
