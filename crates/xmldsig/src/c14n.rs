//! Canonical XML 1.0 and Exclusive XML Canonicalization 1.0, with and without comments, over
//! the parsed tree.
//!
//! One implementation serves whole documents and element subtrees (the document subset a
//! same-document `#ID` reference selects). Output goes to a [`Sink`], so canonical bytes can
//! be streamed straight into a digest without being buffered.
//!
//! ```
//! use fedkit_xmldsig::{c14n, Document};
//! let doc = Document::parse(r#"<a xmlns:u="urn:unused" b='1' a="2"><c/><!--x--></a>"#)?;
//! let method = c14n::Method::new(c14n::Algorithm::Exclusive);
//! let bytes = c14n::canonicalize_document_to_vec(&doc, &method)?;
//! assert_eq!(bytes, br#"<a a="2" b="1"><c></c></a>"#);
//! # Ok::<(), fedkit_xmldsig::Error>(())
//! ```

use roxmltree::{Node, NodeId, NodeType};

use crate::document::Document;
use crate::error::C14nError;

/// Namespace of the `InclusiveNamespaces` element of Exclusive C14N.
pub const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A canonicalization algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Canonical XML 1.0, comments omitted.
    Inclusive,
    /// Canonical XML 1.0 with comments.
    InclusiveWithComments,
    /// Exclusive XML Canonicalization 1.0, comments omitted.
    Exclusive,
    /// Exclusive XML Canonicalization 1.0 with comments.
    ExclusiveWithComments,
}

impl Algorithm {
    /// All supported algorithms.
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Inclusive,
        Algorithm::InclusiveWithComments,
        Algorithm::Exclusive,
        Algorithm::ExclusiveWithComments,
    ];

    /// The algorithm identified by `uri`, if supported.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// The algorithm's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Algorithm::Inclusive => "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            Algorithm::InclusiveWithComments => {
                "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
            }
            Algorithm::Exclusive => "http://www.w3.org/2001/10/xml-exc-c14n#",
            Algorithm::ExclusiveWithComments => "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
        }
    }

    /// A short name for messages and the CLI (`c14n`, `exc-with-comments`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Inclusive => "c14n",
            Algorithm::InclusiveWithComments => "c14n-with-comments",
            Algorithm::Exclusive => "exc",
            Algorithm::ExclusiveWithComments => "exc-with-comments",
        }
    }

    /// Whether this is an Exclusive C14N variant.
    pub fn is_exclusive(self) -> bool {
        matches!(self, Algorithm::Exclusive | Algorithm::ExclusiveWithComments)
    }

    /// Whether comments are kept.
    pub fn with_comments(self) -> bool {
        matches!(
            self,
            Algorithm::InclusiveWithComments | Algorithm::ExclusiveWithComments
        )
    }
}

/// An algorithm plus, for Exclusive C14N, the `InclusiveNamespaces PrefixList`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    algorithm: Algorithm,
    /// Prefixes treated as in Inclusive C14N; `None` stands for `#default`.
    inclusive_prefixes: Vec<Option<String>>,
}

impl Method {
    /// A method without a prefix list.
    pub fn new(algorithm: Algorithm) -> Self {
        Self {
            algorithm,
            inclusive_prefixes: Vec::new(),
        }
    }

    /// An Exclusive C14N method with an `InclusiveNamespaces PrefixList` (whitespace
    /// separated; `#default` names the default namespace). For inclusive algorithms the list
    /// is meaningless and ignored.
    pub fn with_prefix_list(algorithm: Algorithm, prefix_list: &str) -> Self {
        let mut inclusive_prefixes: Vec<Option<String>> = Vec::new();
        if algorithm.is_exclusive() {
            for p in prefix_list.split_ascii_whitespace() {
                let p = if p == "#default" { None } else { Some(p.to_owned()) };
                if !inclusive_prefixes.contains(&p) {
                    inclusive_prefixes.push(p);
                }
            }
        }
        Self {
            algorithm,
            inclusive_prefixes,
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The prefix list as written back (`#default` for the default namespace).
    pub fn prefix_list(&self) -> Vec<&str> {
        self.inclusive_prefixes
            .iter()
            .map(|p| p.as_deref().unwrap_or("#default"))
            .collect()
    }
}

/// Where canonical bytes go.
pub trait Sink {
    /// Appends bytes.
    fn write(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Which part of an element's subtree to canonicalize. The default is all of it, comments
/// as the algorithm says.
///
/// ```
/// use fedkit_xmldsig::c14n::SubtreeOptions;
/// let options = SubtreeOptions::default().without_comments();
/// assert!(options.strips_comments() && options.excluded().is_none());
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct SubtreeOptions {
    exclude: Option<NodeId>,
    strip_comments: bool,
}

impl SubtreeOptions {
    /// Leaves out a descendant element with its whole subtree (the enveloped-signature
    /// transform's `ds:Signature`); `None` leaves nothing out.
    #[must_use]
    pub fn excluding(mut self, element: Option<NodeId>) -> Self {
        self.exclude = element;
        self
    }

    /// Drops comments even if the algorithm keeps them: a same-document `#ID` reference
    /// selects a node-set without comments.
    #[must_use]
    pub fn without_comments(mut self) -> Self {
        self.strip_comments = true;
        self
    }

    /// See [`SubtreeOptions::excluding`].
    pub fn excluded(&self) -> Option<NodeId> {
        self.exclude
    }

    /// See [`SubtreeOptions::without_comments`].
    pub fn strips_comments(&self) -> bool {
        self.strip_comments
    }
}

/// Canonicalizes the whole document into `out`.
pub fn canonicalize_document<S: Sink>(
    doc: &Document<'_>,
    method: &Method,
    out: &mut S,
) -> Result<(), C14nError> {
    let tree = doc.tree();
    let mut w = Writer::new(
        tree.input_text(),
        method,
        method.algorithm.with_comments(),
        None,
        out,
    );
    let mut seen_root = false;
    for child in tree.root().children() {
        match child.node_type() {
            NodeType::Element => {
                w.walk(child, false)?;
                seen_root = true;
            }
            NodeType::Comment if w.with_comments => {
                if seen_root {
                    w.out.write(b"\n");
                }
                w.comment(child);
                if !seen_root {
                    w.out.write(b"\n");
                }
            }
            NodeType::PI => {
                if seen_root {
                    w.out.write(b"\n");
                }
                w.pi(child);
                if !seen_root {
                    w.out.write(b"\n");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Canonicalizes the whole document into a new vector.
pub fn canonicalize_document_to_vec(doc: &Document<'_>, method: &Method) -> Result<Vec<u8>, C14nError> {
    let mut out = Vec::with_capacity(doc.input_text().len());
    canonicalize_document(doc, method, &mut out)?;
    Ok(out)
}

/// Canonicalizes the subtree rooted at `apex` as a document subset: the apex element, its
/// descendants, and (for inclusive algorithms) the namespace declarations and `xml:*`
/// attributes it inherits from its ancestors.
pub fn canonicalize_subtree<S: Sink>(
    apex: Node<'_, '_>,
    method: &Method,
    options: SubtreeOptions,
    out: &mut S,
) -> Result<(), C14nError> {
    let with_comments = method.algorithm.with_comments() && !options.strip_comments;
    let mut w = Writer::new(
        apex.document().input_text(),
        method,
        with_comments,
        options.exclude,
        out,
    );
    if apex.is_element() {
        w.walk(apex, true)
    } else {
        Ok(())
    }
}

/// Canonicalizes a subtree into a new vector.
pub fn canonicalize_subtree_to_vec(
    apex: Node<'_, '_>,
    method: &Method,
    options: SubtreeOptions,
) -> Result<Vec<u8>, C14nError> {
    let mut out = Vec::new();
    canonicalize_subtree(apex, method, options, &mut out)?;
    Ok(out)
}

/// Writes comment or processing-instruction content with XML 1.0 §2.11 end-of-line handling
/// (CRLF and a lone CR become LF), which roxmltree applies to text and attribute values but
/// not to these nodes.
fn write_line_normalized<S: Sink>(out: &mut S, text: &str) {
    let mut rest = text.as_bytes();
    while let Some(p) = memchr::memchr(b'\r', rest) {
        out.write(rest.get(..p).unwrap_or_default());
        out.write(b"\n");
        let skip = if rest.get(p + 1) == Some(&b'\n') { 2 } else { 1 };
        rest = rest.get(p + skip..).unwrap_or_default();
    }
    out.write(rest);
}

/// Whether `uri` is an absolute URI (has a scheme), as canonical XML requires of namespace
/// names.
pub(crate) fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The qualified name of an element as written in the source.
fn element_qname<'d>(input: &'d str, node: Node<'_, '_>) -> Result<&'d str, C14nError> {
    let start = node.range().start + 1;
    let tail = input
        .get(start..)
        .ok_or(C14nError::MalformedName { offset: start })?;
    let end = tail
        .bytes()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'))
        .unwrap_or(tail.len());
    let qname = tail
        .get(..end)
        .ok_or(C14nError::MalformedName { offset: start })?;
    let local = qname.rsplit_once(':').map_or(qname, |(_, l)| l);
    if local != node.tag_name().name() {
        return Err(C14nError::MalformedName { offset: start });
    }
    Ok(qname)
}

fn prefix_of(qname: &str) -> Option<&str> {
    qname.split_once(':').map(|(p, _)| p)
}

struct Attr<'a> {
    ns: &'a str,
    local: &'a str,
    qname: &'a str,
    value: &'a str,
}

struct Writer<'m, 'd, 'o, S: Sink> {
    input: &'d str,
    method: &'m Method,
    with_comments: bool,
    exclude: Option<NodeId>,
    out: &'o mut S,
    /// Namespace declarations rendered by open output elements, innermost last.
    rendered: Vec<(Option<&'d str>, &'d str)>,
    /// For each open element: its qname and the length of `rendered` before it.
    open: Vec<(&'d str, usize)>,
    ns_buf: Vec<(Option<&'d str>, &'d str)>,
    attr_buf: Vec<Attr<'d>>,
}

impl<'m, 'd, 'o, S: Sink> Writer<'m, 'd, 'o, S> {
    fn new(
        input: &'d str,
        method: &'m Method,
        with_comments: bool,
        exclude: Option<NodeId>,
        out: &'o mut S,
    ) -> Self {
        Self {
            input,
            method,
            with_comments,
            exclude,
            out,
            rendered: Vec::new(),
            open: Vec::new(),
            ns_buf: Vec::new(),
            attr_buf: Vec::new(),
        }
    }

    /// Depth-first walk of the subtree at `apex`, without recursion.
    fn walk(&mut self, apex: Node<'d, '_>, subset: bool) -> Result<(), C14nError> {
        let mut node = apex;
        'visit: loop {
            if self.visit(node, subset && node == apex)? {
                if let Some(child) = node.first_child() {
                    node = child;
                    continue 'visit;
                }
                self.close();
            }
            loop {
                if node == apex {
                    return Ok(());
                }
                if let Some(sibling) = node.next_sibling() {
                    node = sibling;
                    continue 'visit;
                }
                match node.parent() {
                    Some(parent) => node = parent,
                    None => return Ok(()),
                }
                self.close();
            }
        }
    }

    /// Outputs a node's opening part; returns true when it is an element whose children
    /// must be visited (and which must then be closed).
    fn visit(&mut self, node: Node<'d, '_>, is_subset_apex: bool) -> Result<bool, C14nError> {
        match node.node_type() {
            NodeType::Element => {
                if Some(node.id()) == self.exclude {
                    return Ok(false);
                }
                self.open_element(node, is_subset_apex)?;
                Ok(true)
            }
            NodeType::Text => {
                if let Some(text) = node.text() {
                    write_escaped_text(self.out, text);
                }
                Ok(false)
            }
            NodeType::Comment => {
                if self.with_comments {
                    self.comment(node);
                }
                Ok(false)
            }
            NodeType::PI => {
                self.pi(node);
                Ok(false)
            }
            NodeType::Root => Ok(false),
        }
    }

    fn comment(&mut self, node: Node<'_, '_>) {
        self.out.write(b"<!--");
        write_line_normalized(self.out, node.text().unwrap_or_default());
        self.out.write(b"-->");
    }

    fn pi(&mut self, node: Node<'_, '_>) {
        if let Some(pi) = node.pi() {
            self.out.write(b"<?");
            self.out.write(pi.target.as_bytes());
            if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                self.out.write(b" ");
                write_line_normalized(self.out, value);
            }
            self.out.write(b"?>");
        }
    }

    fn rendered_uri(&self, prefix: Option<&str>) -> &'d str {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map_or("", |(_, uri)| *uri)
    }

    fn consider(&mut self, prefix: Option<&'d str>, uri: &'d str) {
        if self.rendered_uri(prefix) != uri && !self.ns_buf.iter().any(|(p, _)| *p == prefix) {
            self.ns_buf.push((prefix, uri));
        }
    }

    fn open_element(&mut self, node: Node<'d, '_>, is_subset_apex: bool) -> Result<(), C14nError> {
        let qname = element_qname(self.input, node)?;
        self.out.write(b"<");
        self.out.write(qname.as_bytes());

        // Attributes first (exclusive c14n needs their prefixes).
        self.attr_buf.clear();
        for a in node.attributes() {
            let range = a.range_qname();
            let aq = self
                .input
                .get(range.clone())
                .ok_or(C14nError::MalformedName { offset: range.start })?;
            let local = aq.rsplit_once(':').map_or(aq, |(_, l)| l);
            if local != a.name() {
                return Err(C14nError::MalformedName { offset: range.start });
            }
            self.attr_buf.push(Attr {
                ns: a.namespace().unwrap_or(""),
                local: a.name(),
                qname: aq,
                value: a.value(),
            });
        }
        if is_subset_apex && !self.method.algorithm.is_exclusive() {
            // Canonical XML 1.0 §2.4: a subset apex inherits the xml:* attributes of its
            // ancestors (the nearest occurrence wins).
            for ancestor in node.ancestors().skip(1) {
                for a in ancestor.attributes() {
                    if a.namespace() == Some(XML_NS)
                        && !self
                            .attr_buf
                            .iter()
                            .any(|x| x.ns == XML_NS && x.local == a.name())
                    {
                        let range = a.range_qname();
                        let aq = self
                            .input
                            .get(range.clone())
                            .ok_or(C14nError::MalformedName { offset: range.start })?;
                        self.attr_buf.push(Attr {
                            ns: XML_NS,
                            local: a.name(),
                            qname: aq,
                            value: a.value(),
                        });
                    }
                }
            }
        }

        // Namespace declarations to render.
        self.ns_buf.clear();
        if self.method.algorithm.is_exclusive() {
            let element_prefix = prefix_of(qname);
            self.consider_in_scope(node, element_prefix);
            for i in 0..self.attr_buf.len() {
                let prefix = self.attr_buf.get(i).and_then(|a| prefix_of(a.qname));
                if let Some(p) = prefix {
                    if p != "xml" {
                        self.consider_in_scope(node, Some(p));
                    }
                }
            }
            for i in 0..self.method.inclusive_prefixes.len() {
                let prefix = self.method.inclusive_prefixes.get(i).cloned().flatten();
                let in_scope = node
                    .namespaces()
                    .find(|ns| ns.name() == prefix.as_deref())
                    .map(|ns| (ns.name(), ns.uri()));
                if let Some((p, uri)) = in_scope {
                    self.consider(p, uri);
                } else if prefix.is_none() {
                    self.consider(None, "");
                }
            }
        } else {
            let unchanged = !is_subset_apex
                && node
                    .parent_element()
                    .is_some_and(|parent| same_namespaces(node, parent));
            if !unchanged {
                for ns in node.namespaces() {
                    self.consider(ns.name(), ns.uri());
                }
                if node.default_namespace().is_none() {
                    self.consider(None, "");
                }
            }
        }
        self.ns_buf.sort_by(|a, b| a.0.cmp(&b.0));
        let mark = self.rendered.len();
        for i in 0..self.ns_buf.len() {
            let Some(&(prefix, uri)) = self.ns_buf.get(i) else {
                continue;
            };
            match prefix {
                Some(p) => {
                    if uri.is_empty() {
                        return Err(C14nError::EmptyPrefixedNamespace { prefix: p.to_owned() });
                    }
                    if !is_absolute_uri(uri) {
                        return Err(C14nError::RelativeNamespaceUri {
                            prefix: Some(p.to_owned()),
                            uri: uri.to_owned(),
                        });
                    }
                    self.out.write(b" xmlns:");
                    self.out.write(p.as_bytes());
                }
                None => {
                    if !uri.is_empty() && !is_absolute_uri(uri) {
                        return Err(C14nError::RelativeNamespaceUri {
                            prefix: None,
                            uri: uri.to_owned(),
                        });
                    }
                    self.out.write(b" xmlns");
                }
            }
            self.out.write(b"=\"");
            write_escaped_attr(self.out, uri);
            self.out.write(b"\"");
            self.rendered.push((prefix, uri));
        }

        self.attr_buf
            .sort_by(|a, b| (a.ns, a.local).cmp(&(b.ns, b.local)));
        for a in &self.attr_buf {
            self.out.write(b" ");
            self.out.write(a.qname.as_bytes());
            self.out.write(b"=\"");
            write_escaped_attr(self.out, a.value);
            self.out.write(b"\"");
        }
        self.out.write(b">");
        self.open.push((qname, mark));
        Ok(())
    }

    /// Exclusive C14N: the namespace bound to `prefix` at `node` is visibly utilized.
    fn consider_in_scope(&mut self, node: Node<'d, '_>, prefix: Option<&str>) {
        match prefix {
            None => {
                let uri = node
                    .namespaces()
                    .find(|ns| ns.name().is_none())
                    .map_or("", |ns| ns.uri());
                self.consider(None, uri);
            }
            Some(p) => {
                if let Some(ns) = node.namespaces().find(|ns| ns.name() == Some(p)) {
                    self.consider(ns.name(), ns.uri());
                }
            }
        }
    }

    fn close(&mut self) {
        if let Some((qname, mark)) = self.open.pop() {
            self.out.write(b"</");
            self.out.write(qname.as_bytes());
            self.out.write(b">");
            self.rendered.truncate(mark);
        }
    }
}

/// Whether two elements have the very same in-scope namespaces. roxmltree shares (and
/// deduplicates) namespace entries, so pointer equality is a cheap, exact test.
fn same_namespaces(a: Node<'_, '_>, b: Node<'_, '_>) -> bool {
    let (mut x, mut y) = (a.namespaces(), b.namespaces());
    if x.len() != y.len() {
        return false;
    }
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) => {
                if p.name() != q.name() || !core::ptr::eq(p.uri(), q.uri()) && p.uri() != q.uri() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn write_escaped<S: Sink>(out: &mut S, s: &str, escape: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if let Some(rep) = escape(b) {
            if let Some(run) = bytes.get(start..i) {
                out.write(run);
            }
            out.write(rep);
            start = i + 1;
        }
    }
    if let Some(run) = bytes.get(start..) {
        out.write(run);
    }
}

fn write_escaped_text<S: Sink>(out: &mut S, s: &str) {
    write_escaped(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// `s` escaped for a double-quoted attribute value as canonical XML writes it: the one XML
/// attribute escaping of this crate (decryption uses it to re-declare namespaces).
pub(crate) fn escape_attribute(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    write_escaped_attr(&mut out, s);
    // Only ASCII bytes were replaced, by ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn write_escaped_attr<S: Sink>(out: &mut S, s: &str) {
    write_escaped(out, s, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Finds the unique element whose `ID`, `Id` or `id` attribute (unqualified) or `xml:id`
/// equals `id`.
pub fn find_by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Result<Node<'a, 'i>, C14nError> {
    let mut found = None;
    let mut count = 0usize;
    for node in doc.tree().descendants().filter(Node::is_element) {
        if id_attributes(node).any(|v| v == id) {
            count += 1;
            found.get_or_insert(node);
        }
    }
    match (found, count) {
        (Some(node), 1) => Ok(node),
        (Some(_), n) => Err(C14nError::DuplicateId {
            id: id.to_owned(),
            count: n,
        }),
        (None, _) => Err(C14nError::SubtreeNotFound { id: id.to_owned() }),
    }
}

/// The values of an element's ID-typed attributes: unqualified `ID`, `Id`, `id`, and
/// `xml:id`. Without a DTD or schema, these are the attributes XML-DSig and SAML use.
pub(crate) fn id_attributes<'a>(node: Node<'a, '_>) -> impl Iterator<Item = &'a str> + 'a {
    node.attributes()
        .filter(|a| match a.namespace() {
            None => matches!(a.name(), "ID" | "Id" | "id"),
            Some(ns) => ns == XML_NS && a.name() == "id",
        })
        .map(|a| a.value())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_c14n(xml: &str, alg: Algorithm) -> String {
        let doc = Document::parse(xml).unwrap();
        String::from_utf8(canonicalize_document_to_vec(&doc, &Method::new(alg)).unwrap()).unwrap()
    }

    fn sub_c14n(xml: &str, id: &str, method: &Method) -> String {
        let doc = Document::parse(xml).unwrap();
        let node = find_by_id(&doc, id).unwrap();
        String::from_utf8(canonicalize_subtree_to_vec(node, method, SubtreeOptions::default()).unwrap())
            .unwrap()
    }

    #[test]
    fn escapes_text_and_attributes() {
        let out = doc_c14n(
            "<a b='&lt;&amp;&quot;&#9;&#10;&#13;>'>&lt;&amp;&gt;&#13;\"'</a>",
            Algorithm::Inclusive,
        );
        assert_eq!(
            out,
            "<a b=\"&lt;&amp;&quot;&#x9;&#xA;&#xD;>\">&lt;&amp;&gt;&#xD;\"'</a>"
        );
    }

    #[test]
    fn sorts_attributes_and_namespaces() {
        let xml = r#"<a xmlns:z="urn:z" xmlns:b="urn:b" xmlns="urn:d" z:x="1" b:y="2" c="3" a="4"/>"#;
        assert_eq!(
            doc_c14n(xml, Algorithm::Inclusive),
            r#"<a xmlns="urn:d" xmlns:b="urn:b" xmlns:z="urn:z" a="4" c="3" b:y="2" z:x="1"></a>"#
        );
    }

    #[test]
    fn exclusive_renders_only_utilized_namespaces() {
        let xml =
            r#"<r xmlns:u="urn:u" xmlns:p="urn:p"><p:a ID="x" xmlns:q="urn:q"><p:b/><c q:z="1"/></p:a></r>"#;
        assert_eq!(
            sub_c14n(xml, "x", &Method::new(Algorithm::Exclusive)),
            r#"<p:a xmlns:p="urn:p" ID="x"><p:b></p:b><c xmlns:q="urn:q" q:z="1"></c></p:a>"#
        );
        assert_eq!(
            sub_c14n(xml, "x", &Method::with_prefix_list(Algorithm::Exclusive, "u")),
            r#"<p:a xmlns:p="urn:p" xmlns:u="urn:u" ID="x"><p:b></p:b><c xmlns:q="urn:q" q:z="1"></c></p:a>"#
        );
    }

    #[test]
    fn inclusive_subtree_imports_namespaces_and_xml_attributes() {
        let xml = r#"<r xmlns:u="urn:u" xml:lang="en" xml:space="preserve"><a ID="x" xml:space="default"><b/></a></r>"#;
        assert_eq!(
            sub_c14n(xml, "x", &Method::new(Algorithm::Inclusive)),
            r#"<a xmlns:u="urn:u" ID="x" xml:lang="en" xml:space="default"><b></b></a>"#
        );
    }

    #[test]
    fn default_namespace_undeclaration() {
        let xml = r#"<a xmlns="urn:a"><b xmlns=""><c/></b></a>"#;
        assert_eq!(
            doc_c14n(xml, Algorithm::Inclusive),
            r#"<a xmlns="urn:a"><b xmlns=""><c></c></b></a>"#
        );
        assert_eq!(
            doc_c14n(xml, Algorithm::Exclusive),
            r#"<a xmlns="urn:a"><b xmlns=""><c></c></b></a>"#
        );
        // A redundant undeclaration is not output.
        assert_eq!(
            doc_c14n(r#"<a><b xmlns=""/></a>"#, Algorithm::Inclusive),
            "<a><b></b></a>"
        );
    }

    #[test]
    fn comments_and_pis_around_the_root() {
        let xml = "<?xml version='1.0'?>\n<?pi data?>\n<!--c1-->\n<a><!--in--><?p?></a>\n<!--c2-->";
        assert_eq!(doc_c14n(xml, Algorithm::Inclusive), "<?pi data?>\n<a><?p?></a>");
        assert_eq!(
            doc_c14n(xml, Algorithm::ExclusiveWithComments),
            "<?pi data?>\n<!--c1-->\n<a><!--in--><?p?></a>\n<!--c2-->"
        );
    }

    #[test]
    fn excluded_subtree_and_stripped_comments() {
        let xml = r#"<a ID="x"><s><t/></s><!--c--><u/></a>"#;
        let doc = Document::parse(xml).unwrap();
        let apex = find_by_id(&doc, "x").unwrap();
        let s = apex.first_element_child().unwrap();
        let opts = SubtreeOptions {
            exclude: Some(s.id()),
            strip_comments: true,
        };
        let out =
            canonicalize_subtree_to_vec(apex, &Method::new(Algorithm::ExclusiveWithComments), opts).unwrap();
        assert_eq!(out, br#"<a ID="x"><u></u></a>"#);
    }

    #[test]
    fn refuses_relative_namespace_uris() {
        // The hardened parser already refuses them…
        assert!(Document::parse(r#"<a xmlns="foo/bar"/>"#).is_err());
        // …and canonicalization of a tree parsed elsewhere refuses them too.
        let tree = roxmltree::Document::parse(r#"<a xmlns="foo/bar"/>"#).unwrap();
        let err = canonicalize_subtree_to_vec(
            tree.root_element(),
            &Method::new(Algorithm::Inclusive),
            SubtreeOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            C14nError::RelativeNamespaceUri { prefix: None, .. }
        ));
        let tree = roxmltree::Document::parse(r#"<p:a xmlns:p="../x"/>"#).unwrap();
        let err = canonicalize_subtree_to_vec(
            tree.root_element(),
            &Method::new(Algorithm::Exclusive),
            SubtreeOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            C14nError::RelativeNamespaceUri { prefix: Some(_), .. }
        ));
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let doc = Document::parse(r#"<a><b ID="x"/><c Id="x"/></a>"#).unwrap();
        assert_eq!(
            find_by_id(&doc, "x").unwrap_err(),
            C14nError::DuplicateId {
                id: "x".into(),
                count: 2
            }
        );
        assert_eq!(
            find_by_id(&doc, "y").unwrap_err(),
            C14nError::SubtreeNotFound { id: "y".into() }
        );
    }

    #[test]
    fn line_endings_and_whitespace_in_attributes() {
        let out = doc_c14n("<a b='x\r\ny\tz'>1\r\n2\r3</a>", Algorithm::Inclusive);
        assert_eq!(out, "<a b=\"x y z\">1\n2\n3</a>");
    }
}
