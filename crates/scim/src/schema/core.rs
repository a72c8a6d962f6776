//! The schemas RFC 7643 §8.7.1 defines (`User`, `EnterpriseUser`, `Group`) and the common
//! attributes of RFC 7643 §3.

use super::model::{
    default_sub_attributes_for, AttributeDef, AttributeType, Mutability, Returned, Schema, Uniqueness,
};
use super::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

fn s(name: &str, description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::String).describe(description)
}

fn b(name: &str, description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Boolean).describe(description)
}

fn r(name: &str, types: &[&str], description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Reference)
        .describe(description)
        .reference_types(types)
}

fn c(name: &str, description: &str, subs: Vec<AttributeDef>) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Complex)
        .describe(description)
        .sub_attributes(subs)
}

const DISPLAY_DESC: &str = "A human-readable name, primarily used for display purposes.  READ-ONLY.";

fn primary(what: &str) -> AttributeDef {
    b(
        "primary",
        &format!(
            "A Boolean value indicating the 'primary' or preferred attribute value for this attribute{what}.  The primary attribute value 'true' MUST appear no more than once."
        ),
    )
}

/// The common attributes of RFC 7643 §3 and §3.1 (`schemas`, `id`, `externalId`, `meta`).
/// `schemas` is not marked required here: resource validation checks it separately.
pub(super) fn common_attributes() -> Vec<AttributeDef> {
    use Mutability::ReadOnly;
    vec![
        AttributeDef::new("schemas", AttributeType::Reference)
            .describe("The schema URIs the resource's attributes are defined by.")
            .multi_valued()
            .reference_types(&["uri"])
            .returned(Returned::Always),
        s("id", "A unique identifier for a SCIM resource as defined by the service provider.")
            .case_exact()
            .mutability(ReadOnly)
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server),
        s("externalId", "A String that is an identifier for the resource as defined by the provisioning client.")
            .case_exact(),
        c(
            "meta",
            "A complex attribute containing resource metadata.",
            vec![
                s("resourceType", "The name of the resource type of the resource.").case_exact().mutability(ReadOnly),
                AttributeDef::new("created", AttributeType::DateTime)
                    .describe("The \"DateTime\" that the resource was added to the service provider.")
                    .mutability(ReadOnly),
                AttributeDef::new("lastModified", AttributeType::DateTime)
                    .describe("The most recent DateTime that the details of this resource were updated at the service provider.")
                    .mutability(ReadOnly),
                r("location", &["uri"], "The URI of the resource being returned.").case_exact().mutability(ReadOnly),
                s("version", "The version of the resource being returned.").case_exact().mutability(ReadOnly),
            ],
        )
        .mutability(ReadOnly),
    ]
}

/// A multi-valued complex attribute of a core schema: the sub-attributes RFC 7643 §8.7.1
/// lists, then the RFC 7643 §2.4 defaults it does not list (accepted and stored by
/// [`AttributeDef::find_sub_attribute`]), so `/Schemas` publishes every sub-attribute the
/// service stores and returns: `members.display` (sent by Okta and Entra ID),
/// `addresses.primary` (sent in RFC 7643 §8.2), ... (`$ref` only where `value` is not
/// itself a reference: not on `photos`).
fn multi_complex(name: &str, description: &str, mut subs: Vec<AttributeDef>) -> AttributeDef {
    let missing: Vec<AttributeDef> = default_sub_attributes_for(&subs)
        .filter(|d| !subs.iter().any(|s| s.name.eq_ignore_ascii_case(&d.name)))
        .cloned()
        .collect();
    subs.extend(missing);
    c(name, description, subs).multi_valued()
}

/// The core User schema of RFC 7643 §8.7.1.
pub fn user_schema() -> Schema {
    use Mutability::ReadOnly;
    let mut schema = Schema::new(USER_SCHEMA, "User", "User Account");
    schema.attributes = vec![
        s("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.")
            .required()
            .uniqueness(Uniqueness::Server),
        c("name", "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both.  If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.", vec![
            s("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
            s("familyName", "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
            s("givenName", "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
            s("middleName", "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
        ]),
        s("displayName", "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User being described, if known."),
        s("nickName", "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge')."),
        r("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
        s("title", "The user's title, such as \"Vice President.\""),
        s("userType", "Used to identify the relationship between the organization and the user.  Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
        s("preferredLanguage", "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
        s("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
        s("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
        b("active", "A Boolean value indicating the User's administrative status."),
        s("password", "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
        multi_complex("emails", "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.", vec![
            s("value", "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.").canonical_values(&["work", "home", "other"]),
            primary(", e.g., the preferred mailing address or primary email address"),
        ]),
        multi_complex("phoneNumbers", "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.", vec![
            s("value", "Phone number of the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.").canonical_values(&["work", "home", "mobile", "fax", "pager", "other"]),
            primary(", e.g., the preferred phone number or primary phone number"),
        ]),
        multi_complex("ims", "Instant messaging addresses for the User.", vec![
            s("value", "Instant messaging address for the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.").canonical_values(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
            primary(", e.g., the preferred messenger or primary messenger"),
        ]),
        multi_complex("photos", "URLs of photos of the User.", vec![
            r("value", &["external"], "URL of a photo of the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.").canonical_values(&["photo", "thumbnail"]),
            primary(", e.g., the preferred photo or thumbnail"),
        ]),
        multi_complex("addresses", "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.  This attribute is a complex type with the following sub-attributes.", vec![
            s("formatted", "The full mailing address, formatted for display or use with a mailing label.  This attribute MAY contain newlines."),
            s("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.  This attribute MAY contain newlines."),
            s("locality", "The city or locality component."),
            s("region", "The state or region component."),
            s("postalCode", "The zip code or postal code component."),
            s("country", "The country name component."),
            s("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.").canonical_values(&["work", "home", "other"]),
            // RFC 7643 §8.7.1 lists no "primary" here although §8.2 sends one: it is the §2.4
            // default, added (and published) by multi_complex.
            primary(", e.g., the preferred mailing address or primary address"),
        ]),
        c("groups", "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.", vec![
            s("value", "The identifier of the User's group.").mutability(ReadOnly),
            r("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource to which the user belongs.").mutability(ReadOnly),
            s("display", DISPLAY_DESC).mutability(ReadOnly),
            s("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.").canonical_values(&["direct", "indirect"]).mutability(ReadOnly),
        ])
        // Built by the service (never stored from input): exactly these four sub-attributes.
        .multi_valued()
        .mutability(ReadOnly),
        multi_complex("entitlements", "A list of entitlements for the User that represent a thing the User has.", vec![
            s("value", "The value of an entitlement."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
        multi_complex("roles", "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.", vec![
            s("value", "The value of a role."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
        multi_complex("x509Certificates", "A list of certificates issued to the User.", vec![
            AttributeDef::new("value", AttributeType::Binary).describe("The value of an X.509 certificate."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
    ];
    schema
}

/// The Enterprise User extension of RFC 7643 §8.7.1 (§4.3).
pub fn enterprise_user_schema() -> Schema {
    let mut schema = Schema::new(ENTERPRISE_USER_SCHEMA, "EnterpriseUser", "Enterprise User");
    schema.attributes = vec![
        s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
        s("costCenter", "Identifies the name of a cost center."),
        s("organization", "Identifies the name of an organization."),
        s("division", "Identifies the name of a division."),
        s("department", "Identifies the name of a department."),
        c("manager", "The User's manager.  A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.", vec![
            s("value", "The id of the SCIM resource representing the User's manager.  REQUIRED."),
            r("$ref", &["User"], "The URI of the SCIM resource representing the User's manager.  REQUIRED."),
            s("displayName", "The displayName of the User's manager. OPTIONAL and READ-ONLY.").mutability(Mutability::ReadOnly),
        ]),
    ];
    schema
}

/// The core Group schema of RFC 7643 §8.7.1.
pub fn group_schema() -> Schema {
    let mut schema = Schema::new(GROUP_SCHEMA, "Group", "Group");
    schema.attributes = vec![
        s("displayName", "A human-readable name for the Group. REQUIRED."),
        multi_complex(
            "members",
            "A list of members of the Group.",
            vec![
                s("value", "Identifier of the member of this Group.").mutability(Mutability::Immutable),
                r(
                    "$ref",
                    &["User", "Group"],
                    "The URI corresponding to a SCIM resource that is a member of this Group.",
                )
                .mutability(Mutability::Immutable),
                s(
                    "type",
                    "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                )
                .canonical_values(&["User", "Group"])
                .mutability(Mutability::Immutable),
                // Not in RFC 7643 §8.7.1; Okta and Entra ID send it with each member, and it is
                // kept as sent (a client may correct it: readWrite).
                s(
                    "display",
                    "A human-readable name for the member, as the client sent it.",
                ),
            ],
        ),
    ];
    schema
}
