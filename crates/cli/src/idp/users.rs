//! The users the test IdP offers on its login page: from `--users users.json`, or a default
//! set of demo users.

use serde::Deserialize;

use crate::output::Failure;

/// Most users a users.json may list (the login page shows them all).
pub(crate) const MAX_USERS: usize = 1000;
/// Longest value (email, name, group) accepted, in bytes.
pub(crate) const MAX_VALUE_BYTES: usize = 256;
/// Most groups per user.
pub(crate) const MAX_GROUPS: usize = 100;
/// Largest users.json read, in bytes.
pub(crate) const MAX_FILE_BYTES: usize = 1 << 20;

/// One user: the attributes JumpCloud sends with its default attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct User {
    /// The NameID (emailAddress format) and the `email` attribute.
    pub(crate) email: String,
    /// The `firstName` attribute.
    pub(crate) first_name: String,
    /// The `lastName` attribute.
    pub(crate) last_name: String,
    /// The `memberOf` attribute (JumpCloud's group attribute name), sent when not empty.
    #[serde(default)]
    pub(crate) groups: Vec<String>,
}

/// The users offered when no users.json is given.
pub(crate) fn demo_users() -> Vec<User> {
    let user = |email: &str, first: &str, last: &str, groups: &[&str]| User {
        email: email.to_owned(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    };
    vec![
        user(
            "jane.doe@example.com",
            "Jane",
            "Doe",
            &["Engineering", "SSO Admins"],
        ),
        user("john.smith@example.com", "John", "Smith", &["Engineering"]),
        // Another email domain: for trying an SP's email-domain allowlist.
        user("eve.outsider@example.net", "Eve", "Outsider", &[]),
    ]
}

/// Parses and checks a users.json document: a JSON array of users.
pub(crate) fn parse_users(source: &str, json: &[u8]) -> Result<Vec<User>, Failure> {
    let bad = |message: String| Failure::new("bad_users_file", format!("{source}: {message}"));
    if json.len() > MAX_FILE_BYTES {
        return Err(bad(format!(
            "the file is {} bytes; at most {MAX_FILE_BYTES} are read",
            json.len()
        )));
    }
    let users: Vec<User> = serde_json::from_slice(json).map_err(|e| {
        bad(format!(
            "{e}. Expected a JSON array like \
             [{{\"email\": \"jane.doe@example.com\", \"firstName\": \"Jane\", \"lastName\": \"Doe\", \
             \"groups\": [\"Engineering\"]}}] (groups optional)"
        ))
    })?;
    if users.is_empty() {
        return Err(bad("the array is empty: list at least one user".to_owned()));
    }
    if users.len() > MAX_USERS {
        return Err(bad(format!("{} users listed; at most {MAX_USERS}", users.len())));
    }
    for (i, user) in users.iter().enumerate() {
        let at = |m: String| bad(format!("user {} ({:?}): {m}", i + 1, user.email));
        let email = user.email.as_str();
        let (local, domain) = email.split_once('@').unwrap_or_default();
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(at("email must be an address like jane.doe@example.com".to_owned()));
        }
        for (field, value) in [
            ("email", email),
            ("firstName", user.first_name.as_str()),
            ("lastName", user.last_name.as_str()),
        ] {
            check_value(field, value).map_err(at)?;
        }
        if user.groups.len() > MAX_GROUPS {
            return Err(at(format!("more than {MAX_GROUPS} groups")));
        }
        for group in &user.groups {
            check_value("groups", group).map_err(at)?;
        }
        if users
            .get(..i)
            .unwrap_or_default()
            .iter()
            .any(|u| u.email.eq_ignore_ascii_case(email))
        {
            return Err(at("the email appears twice; each user needs its own".to_owned()));
        }
    }
    Ok(users)
}

fn check_value(field: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} is empty"));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!("{field} is longer than {MAX_VALUE_BYTES} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} contains a control character"));
    }
    if field == "email" && value.chars().any(char::is_whitespace) {
        return Err("email contains whitespace".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_file_is_read_with_optional_groups() {
        let json = br#"[
            {"email": "a@x.test", "firstName": "A", "lastName": "One"},
            {"email": "b@x.test", "firstName": "B", "lastName": "Two", "groups": ["g1", "g <2>"]}
        ]"#;
        let users = parse_users("users.json", json).unwrap_or_default();
        assert_eq!(users.len(), 2);
        assert_eq!(users.first().map(|u| u.groups.len()), Some(0));
        assert_eq!(
            users.get(1).map(|u| u.groups.clone()),
            Some(vec!["g1".to_owned(), "g <2>".to_owned()])
        );
    }

    #[test]
    fn bad_users_files_are_refused_with_the_reason() {
        let cases: [(&[u8], &str); 8] = [
            (b"{}", "Expected a JSON array"),
            (b"[]", "the array is empty"),
            (
                br#"[{"email": "a@x.test", "firstName": "A"}]"#,
                "missing field `lastName`",
            ),
            (
                br#"[{"email": "a@x.test", "firstName": "A", "lastName": "B", "role": "x"}]"#,
                "unknown field `role`",
            ),
            (
                br#"[{"email": "nobody", "firstName": "A", "lastName": "B"}]"#,
                "email must be an address",
            ),
            (
                br#"[{"email": "a@x.test", "firstName": " ", "lastName": "B"}]"#,
                "firstName is empty",
            ),
            (
                br#"[{"email": "a@x.test", "firstName": "A", "lastName": "B\u0000"}]"#,
                "lastName contains a control character",
            ),
            (
                br#"[{"email": "a@x.test", "firstName": "A", "lastName": "B"},
                    {"email": "A@x.test", "firstName": "A", "lastName": "B"}]"#,
                "user 2 (\"A@x.test\"): the email appears twice",
            ),
        ];
        for (json, expected) in cases {
            let err = parse_users("u.json", json).err().map(|f| (f.code, f.message));
            let (code, message) = err.unwrap_or_default();
            assert_eq!(code, "bad_users_file");
            assert!(message.starts_with("u.json: "), "{message}");
            assert!(message.contains(expected), "{message} should contain {expected}");
        }
    }

    #[test]
    fn the_demo_users_pass_the_same_checks() {
        let json = serde_json::to_vec(
            &demo_users()
                .iter()
                .map(|u| {
                    serde_json::json!({"email": u.email, "firstName": u.first_name,
                        "lastName": u.last_name, "groups": u.groups})
                })
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        assert_eq!(parse_users("demo", &json).ok(), Some(demo_users()));
    }
}
