//! fedkit-tenancy's domain handling on arbitrary text: the domain an admin types, the domain of
//! an email an IdP asserts, the TXT strings a resolver returns. Oracles: nothing panics;
//! normalisation is idempotent (a parsed name re-parses to itself, and an email's domain is a
//! name that does); a challenge's own record value verifies, and a check of arbitrary records
//! verifies only when one of them carries the token; every check can be described.
//!
//! Input: the first line is the domain (or email) text, every further line one TXT string.

use fedkit_tenancy::domain::{describe_check, AppName, DomainChallenge, DomainName, TxtCheck};

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let records: Vec<&str> = lines.collect();

    if let Some(of_email) = DomainName::of_email(first) {
        let again = DomainName::parse(of_email.as_str()).expect("an email's domain is a domain name");
        assert_eq!(again, of_email, "an email's domain re-parses to itself");
    }
    let Ok(domain) = DomainName::parse(first) else {
        return;
    };
    let again = DomainName::parse(&domain.to_string()).expect("a parsed name parses again");
    assert_eq!(again, domain, "normalisation is idempotent");

    let app = AppName::new("fuzzapp").expect("a valid app name");
    let challenge = DomainChallenge::new(domain, &app, &[0x5a; 16]).expect("16 random bytes");
    assert!(
        matches!(
            challenge.check(&[challenge.record_value.as_str()]),
            TxtCheck::Verified { .. }
        ),
        "the challenge's own record verifies"
    );
    let check = challenge.check(&records);
    if matches!(check, TxtCheck::Verified { .. }) {
        assert!(
            records.iter().any(|r| r.contains(&challenge.token)),
            "verified without the token: {records:?}"
        );
    }
    let _ = describe_check(&check, &challenge.record_name);
}
