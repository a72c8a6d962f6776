//! The blocks of a PEM text (RFC 7468 §2), read leniently: CRLF, indentation, blank lines and
//! explanatory text around the blocks (`Bag Attributes`, `subject=…`) are allowed. The one PEM
//! splitter of the workspace: key loading and fedkit-metadata's pasted certificates build on
//! it, each with its own policy for labels and its own errors.

use zeroize::Zeroizing;

/// One block: `-----BEGIN label-----`, base64 lines, `-----END label-----`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PemBlock {
    /// The label between `BEGIN ` and the closing dashes, trimmed (`CERTIFICATE`).
    pub label: String,
    /// The base64 body: the lines between BEGIN and END, each trimmed, joined; not decoded.
    pub body: String,
    /// Whether the matching END line was found. A block without one ends at the next line
    /// starting with `-----` or at the end of the text.
    pub closed: bool,
}

/// The blocks of `text`, in order. Text outside the blocks is ignored; a text without a
/// BEGIN line has none.
///
/// ```
/// use fedkit_xmldsig::pem::blocks;
/// let text = "subject=CN=idp\r\n-----BEGIN CERTIFICATE-----\r\n  TUlJ\r\n QQ==\r\n-----END CERTIFICATE-----\r\n";
/// let found = blocks(text);
/// assert_eq!(found.len(), 1);
/// assert_eq!((found[0].label.as_str(), found[0].body.as_str(), found[0].closed), ("CERTIFICATE", "TUlJQQ==", true));
/// assert!(!blocks("-----BEGIN CERTIFICATE-----\nTUlJ\n")[0].closed);
/// ```
pub fn blocks(text: &str) -> Vec<PemBlock> {
    secret_blocks(text)
        .into_iter()
        .map(|b| PemBlock {
            label: b.label,
            body: b.body.to_string(),
            closed: b.closed,
        })
        .collect()
}

/// A [`PemBlock`] whose body is zeroized when dropped: key loading reads private keys with it.
pub(crate) struct SecretPemBlock {
    pub(crate) label: String,
    pub(crate) body: Zeroizing<String>,
    pub(crate) closed: bool,
}

/// [`blocks`], the bodies zeroized when dropped (they may hold a private key).
pub(crate) fn secret_blocks(text: &str) -> Vec<SecretPemBlock> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.trim().to_owned();
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                break;
            }
            body.push_str(line);
        }
        out.push(SecretPemBlock { label, body, closed });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_in_order_with_text_around_them() {
        let text = "Bag Attributes\n-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n\
                    junk\n\t-----BEGIN  PRIVATE KEY -----\n\tREVG\n-----END PRIVATE KEY-----\n";
        let found = blocks(text);
        let summary: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|b| (b.label.as_str(), b.body.as_str(), b.closed))
            .collect();
        assert_eq!(
            summary,
            [("CERTIFICATE", "QUJD", true), ("PRIVATE KEY", "REVG", true)]
        );
    }

    #[test]
    fn an_unclosed_block_ends_at_the_next_marker() {
        let found = blocks("-----BEGIN CERTIFICATE-----\nQUJD\n-----END PUBLIC KEY-----\nREVG\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].body.as_str(), found[0].closed), ("QUJD", false));
        assert!(blocks("no pem here\n-----BEGIN CERTIFICATE").is_empty());
    }
}
