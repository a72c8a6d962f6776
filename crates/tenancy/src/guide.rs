//! Generated IdP-side setup guides: for one connection, every value an admin copies into
//! the IdP console, step by step, as structured data (for a web page) with a Markdown
//! renderer (for a CLI, an email, a docs page).
//!
//! The console names (tabs, fields, buttons) are the vendors' own as their public
//! documentation and the seed guides show them; consoles change, so each guide says which
//! screen a value goes to rather than where on it.
//!
//! ```
//! use fedkit_tenancy::guide::{GuideInput, IdpVendor, ScimGuide};
//! let mut input = GuideInput::new("Acme App", "https://app.example.com/saml/acme/metadata", "https://app.example.com/saml/acme/acs");
//! input.scim = Some(ScimGuide { base_url: "https://app.example.com/scim/v2".into(), token_with_bearer_prefix: false });
//! let guide = IdpVendor::JumpCloud.guide(&input);
//! let md = guide.to_markdown();
//! assert!(md.contains("| ACS URL | `https://app.example.com/saml/acme/acs` |"));
//! assert!(md.contains("Identity Management"));
//! ```

use std::fmt::Write as _;
use std::str::FromStr;

use fedkit_saml::connection::Connection;
use serde::Serialize;

/// The emailAddress NameID format.
pub const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const UNSPECIFIED_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// The IdPs a guide can be generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdpVendor {
    /// JumpCloud (a Custom SAML application).
    JumpCloud,
    /// Okta (a SAML 2.0 app integration).
    Okta,
    /// Microsoft Entra ID (an enterprise application, "create your own").
    Entra,
    /// Google Workspace (a custom SAML app).
    Google,
}

/// An IdP name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuideError {
    /// Unknown vendor.
    #[error("no setup guide for {0:?}; known: jumpcloud, okta, entra, google")]
    UnknownIdp(String),
}

impl GuideError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            GuideError::UnknownIdp(_) => "unknown_idp",
        }
    }
}

impl FromStr for IdpVendor {
    type Err = GuideError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jumpcloud" => Ok(IdpVendor::JumpCloud),
            "okta" => Ok(IdpVendor::Okta),
            "entra" | "entra-id" | "azure" | "azure-ad" => Ok(IdpVendor::Entra),
            "google" | "google-workspace" => Ok(IdpVendor::Google),
            other => Err(GuideError::UnknownIdp(other.to_owned())),
        }
    }
}

/// The SCIM side of a guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScimGuide {
    /// The SCIM base URL (no trailing slash).
    pub base_url: String,
    /// Whether the IdP's token field must hold `Bearer <token>` rather than the bare token
    /// (CRA Evidence's JumpCloud guide asks for the prefix; TrueFoundry's for the bare token).
    pub token_with_bearer_prefix: bool,
}

/// This connection's values that go into the IdP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuideInput {
    /// The application's name, as users will see the tile.
    pub app_name: String,
    /// SP entity ID.
    pub sp_entity_id: String,
    /// ACS URL.
    pub acs_url: String,
    /// SP metadata URL, when served.
    pub metadata_url: Option<String>,
    /// Single Logout URL, when the SP has one.
    pub slo_url: Option<String>,
    /// NameID format URI (default emailAddress).
    pub name_id_format: String,
    /// The SP's attribute name for the email (default `email`).
    pub email_attribute: String,
    /// Given name (default `firstName`).
    pub first_name_attribute: String,
    /// Family name (default `lastName`).
    pub last_name_attribute: String,
    /// SCIM, when the SP offers it.
    pub scim: Option<ScimGuide>,
}

impl GuideInput {
    /// The values with fedkit-saml's defaults (emailAddress NameID; `email`, `firstName`,
    /// `lastName` attributes, the names [`fedkit_saml::AttributeMapping::default`] looks
    /// for first), no SLO, no SCIM.
    pub fn new(app_name: &str, sp_entity_id: &str, acs_url: &str) -> Self {
        Self {
            app_name: app_name.to_owned(),
            sp_entity_id: sp_entity_id.to_owned(),
            acs_url: acs_url.to_owned(),
            metadata_url: None,
            slo_url: None,
            name_id_format: EMAIL_FORMAT.to_owned(),
            email_attribute: "email".to_owned(),
            first_name_attribute: "firstName".to_owned(),
            last_name_attribute: "lastName".to_owned(),
            scim: None,
        }
    }

    /// The values of a fedkit-saml connection served under `base_url`.
    pub fn for_connection(connection: &Connection, base_url: &str, app_name: &str) -> Self {
        let urls = connection.sp_urls(base_url);
        let mut input = Self::new(app_name, &urls.entity_id, &urls.acs_url);
        input.metadata_url = Some(urls.metadata_url);
        input
    }
}

/// How a note is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Information.
    Note,
    /// Something that breaks logins if done wrong.
    Warning,
}

/// A note under a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Its kind.
    pub kind: NoteKind,
    /// Its text.
    pub text: String,
}

/// A console field and the value to enter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The console's label.
    pub label: String,
    /// The value (this connection's real one, or an instruction).
    pub value: String,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What to do.
    pub text: String,
    /// Fields to fill in.
    pub fields: Vec<Field>,
    /// Notes and warnings.
    pub notes: Vec<Note>,
}

/// A titled group of steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Title.
    pub title: String,
    /// Steps.
    pub steps: Vec<Step>,
}

/// A generated guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupGuide {
    /// The IdP.
    pub idp: IdpVendor,
    /// Title.
    pub title: String,
    /// Sections, in order.
    pub sections: Vec<Section>,
}

fn step(text: impl Into<String>) -> Step {
    Step {
        text: text.into(),
        fields: Vec::new(),
        notes: Vec::new(),
    }
}

impl Step {
    fn field(mut self, label: &str, value: impl Into<String>) -> Self {
        self.fields.push(Field {
            label: label.to_owned(),
            value: value.into(),
        });
        self
    }
    fn note(mut self, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            kind: NoteKind::Note,
            text: text.into(),
        });
        self
    }
    fn warning(mut self, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            kind: NoteKind::Warning,
            text: text.into(),
        });
        self
    }
}

fn section(title: &str, steps: Vec<Step>) -> Section {
    Section {
        title: title.to_owned(),
        steps,
    }
}

fn code(v: &str) -> String {
    format!("`{v}`")
}

const FORMAT_WARNING: &str = "Do not change the NameID format after users have signed in: every user would arrive with a new identity, and the application refuses such logins (code name_id_format_changed).";

fn token_value(scim: &ScimGuide) -> &'static str {
    if scim.token_with_bearer_prefix {
        "`Bearer ` (with the space) followed by the SCIM token from the application's SSO settings"
    } else {
        "the SCIM token from the application's SSO settings (without a `Bearer ` prefix)"
    }
}

fn vendor_format(vendor: IdpVendor, uri: &str) -> String {
    let label = match (vendor, uri) {
        (IdpVendor::Okta, EMAIL_FORMAT) => "EmailAddress",
        (IdpVendor::Okta, PERSISTENT_FORMAT) => "Persistent",
        (IdpVendor::Okta, UNSPECIFIED_FORMAT) => "Unspecified",
        (IdpVendor::Google, EMAIL_FORMAT) => "EMAIL",
        (IdpVendor::Google, PERSISTENT_FORMAT) => "PERSISTENT",
        (IdpVendor::Google, UNSPECIFIED_FORMAT) => "UNSPECIFIED",
        (IdpVendor::Entra, EMAIL_FORMAT) => "Email address",
        (IdpVendor::Entra, PERSISTENT_FORMAT) => "Persistent",
        (IdpVendor::Entra, UNSPECIFIED_FORMAT) => "Unspecified",
        _ => return code(uri),
    };
    format!("{label} ({})", code(uri))
}

impl IdpVendor {
    /// The vendor's display name.
    pub fn name(self) -> &'static str {
        match self {
            IdpVendor::JumpCloud => "JumpCloud",
            IdpVendor::Okta => "Okta",
            IdpVendor::Entra => "Microsoft Entra ID",
            IdpVendor::Google => "Google Workspace",
        }
    }

    /// The guide for this IdP with `input`'s values.
    pub fn guide(self, input: &GuideInput) -> SetupGuide {
        let sections = match self {
            IdpVendor::JumpCloud => jumpcloud(input),
            IdpVendor::Okta => okta(input),
            IdpVendor::Entra => entra(input),
            IdpVendor::Google => google(input),
        };
        SetupGuide {
            idp: self,
            title: format!("Set up {} single sign-on for {}", self.name(), input.app_name),
            sections,
        }
    }
}

fn jumpcloud(i: &GuideInput) -> Vec<Section> {
    let v = IdpVendor::JumpCloud;
    let mut out = vec![
        section(
            "Create the application",
            vec![
                step("In the JumpCloud Admin Portal, open SSO Applications and select + Add New Application."),
                step("Choose Custom Application, then Manage Single Sign-On (SSO) with Configure SSO with SAML."),
                step("Under General Info, enter a display label.").field("Display Label", &i.app_name),
            ],
        ),
        section(
            "SSO tab",
            vec![
                step("On the SSO tab, enter this application's values.")
                    .field("IdP Entity ID", "a value unique in your JumpCloud organisation, e.g. the application's name in lower case")
                    .field("SP Entity ID", code(&i.sp_entity_id))
                    .field("ACS URL", code(&i.acs_url))
                    .field("SAMLSubject NameID", if i.name_id_format == EMAIL_FORMAT { code("email") } else { "the attribute that never changes for a user".to_owned() })
                    .field("SAMLSubject NameID Format", vendor_format(v, &i.name_id_format))
                    .field("Signature Algorithm", code("RSA-SHA256"))
                    .note("The values must match exactly: https, no trailing slash.")
                    .warning(FORMAT_WARNING),
                step("Set Sign to Assertion and Response (Sign Assertion and Sign Response both on)."),
            ],
        ),
        section(
            "Attributes",
            vec![step("Under User Attribute Mapping, add one row per attribute (+ Add Attribute): the Service Provider Attribute Name on the left, the JumpCloud attribute on the right.")
                .field(&i.email_attribute, "email")
                .field(&i.first_name_attribute, "firstname")
                .field(&i.last_name_attribute, "lastname")],
        ),
        section(
            "User groups",
            vec![step("On the User Groups tab, tick each group whose members may sign in, and save.")
                .note("JumpCloud lets a user sign in only to applications bound to a group that contains them.")],
        ),
        section(
            "Give the IdP's values to the application",
            vec![step("Activate (or Save) the application. On the SSO tab, select Export Metadata and upload the XML in the application's SSO settings; or copy the IDP URL, the IdP Entity ID and the certificate (the whole PEM, with its BEGIN and END lines).")],
        ),
    ];
    if let Some(scim) = &i.scim {
        out.push(section(
            "Identity Management tab (SCIM)",
            vec![
                step("On the Identity Management tab, choose SCIM 2.0 as the SCIM version, then fill in:")
                    .field("Base URL", code(&scim.base_url))
                    .field("Token Key", token_value(scim))
                    .field("Test User Email", "the email of an existing, active JumpCloud user"),
                step("Select Test Connection: JumpCloud reads the service's discovery endpoints with the token. Then activate and save.")
                    .note("JumpCloud provisions only members of the user groups bound to the application; removing a user from all of them deactivates the user (PATCH active=false)."),
            ],
        ));
    }
    out.push(section(
        "Test the connection",
        vec![step("In a private browser window, open the application's login page, enter the email of a user in an assigned group, and sign in at JumpCloud.")],
    ));
    out
}

fn okta(i: &GuideInput) -> Vec<Section> {
    let v = IdpVendor::Okta;
    let mut saml = step("In Configure SAML, under SAML Settings:")
        .field("Single sign-on URL", code(&i.acs_url))
        .field("Audience URI (SP Entity ID)", code(&i.sp_entity_id))
        .field("Name ID format", vendor_format(v, &i.name_id_format))
        .field(
            "Application username",
            if i.name_id_format == EMAIL_FORMAT {
                "Email"
            } else {
                "a value that never changes for a user"
            },
        )
        .warning(FORMAT_WARNING);
    if let Some(slo) = &i.slo_url {
        saml = saml
            .field(
                "Single Logout URL (Show Advanced Settings, Enable Single Logout)",
                code(slo),
            )
            .field("SP Issuer", code(&i.sp_entity_id));
    }
    let mut out = vec![
        section(
            "Create the app integration",
            vec![
                step("In the Okta Admin Console, open Applications > Applications and select Create App Integration."),
                step("Choose SAML 2.0, then Next; enter the app name and Next.").field("App name", &i.app_name),
            ],
        ),
        section(
            "SAML settings",
            vec![
                saml,
                step("Under Attribute Statements, add:")
                    .field(&i.email_attribute, "user.email")
                    .field(&i.first_name_attribute, "user.firstName")
                    .field(&i.last_name_attribute, "user.lastName"),
                step("Finish the wizard (an internal app)."),
            ],
        ),
        section(
            "Give the IdP's values to the application",
            vec![step("On the Sign On tab, open the IdP metadata (View IdP metadata, or copy its Metadata URL) and give it to the application's SSO settings.")],
        ),
        section(
            "Assignments",
            vec![step("On the Assignments tab, assign the people or groups who may sign in.")],
        ),
    ];
    if let Some(scim) = &i.scim {
        out.push(section(
            "Provisioning (SCIM)",
            vec![
                step("On the General tab, edit App Settings and set Provisioning to SCIM; save."),
                step("On the Provisioning tab, under Integration, edit and fill in:")
                    .field("SCIM connector base URL", code(&scim.base_url))
                    .field("Unique identifier field for users", code("userName"))
                    .field("Supported provisioning actions", "Push New Users, Push Profile Updates (and Push Groups if the application uses groups)")
                    .field("Authentication Mode", "HTTP Header")
                    .field("Authorization (Bearer)", token_value(scim)),
                step("Select Test Connector Configuration, then save; under To App, enable Create Users, Update User Attributes and Deactivate Users."),
            ],
        ));
    }
    out.push(section(
        "Test the connection",
        vec![step(
            "In a private browser window, open the application's login page and sign in as an assigned user.",
        )],
    ));
    out
}

fn entra(i: &GuideInput) -> Vec<Section> {
    let v = IdpVendor::Entra;
    let mut basic = step("On Set up Single Sign-On with SAML, edit Basic SAML Configuration:")
        .field("Identifier (Entity ID)", code(&i.sp_entity_id))
        .field("Reply URL (Assertion Consumer Service URL)", code(&i.acs_url));
    if let Some(slo) = &i.slo_url {
        basic = basic.field("Logout Url (Optional)", code(slo));
    }
    let mut out = vec![
        section(
            "Create the enterprise application",
            vec![
                step("In the Microsoft Entra admin center, open Enterprise applications > All applications > New application > Create your own application.")
                    .field("Name", &i.app_name)
                    .note("Choose: integrate any other application you don't find in the gallery (Non-gallery)."),
                step("Open Single sign-on and choose SAML."),
            ],
        ),
        section(
            "Basic SAML Configuration",
            vec![basic],
        ),
        section(
            "Attributes & Claims",
            vec![
                step("Edit Attributes & Claims. Set the Unique User Identifier (Name ID) claim:")
                    .field("Name identifier format", vendor_format(v, &i.name_id_format))
                    .field("Source attribute", if i.name_id_format == EMAIL_FORMAT { "user.mail (or user.userprincipalname when it is the email)" } else { "user.objectid" })
                    .warning(FORMAT_WARNING),
                step("The default claims already carry the email, given name and surname under their http://schemas.xmlsoap.org/ws/2005/05/identity/claims/ names, which the application reads; keep them."),
            ],
        ),
        section(
            "Give the IdP's values to the application",
            vec![step("Under SAML Certificates, copy the App Federation Metadata Url (or download the Federation Metadata XML) and give it to the application's SSO settings.")],
        ),
        section(
            "Users and groups",
            vec![step("Under Users and groups, add the users or groups who may sign in.")],
        ),
    ];
    if let Some(scim) = &i.scim {
        out.push(section(
            "Provisioning (SCIM)",
            vec![
                step("Open Provisioning, set Provisioning Mode to Automatic, and under Admin Credentials fill in:")
                    .field("Tenant URL", code(&scim.base_url))
                    .field("Secret Token", "the SCIM token from the application's SSO settings (Entra sends it as a Bearer token)"),
                step("Select Test Connection, save, and set Provisioning Status to On."),
            ],
        ));
    }
    out.push(section(
        "Test the connection",
        vec![step(
            "In a private browser window, open the application's login page and sign in as an assigned user.",
        )],
    ));
    out
}

fn google(i: &GuideInput) -> Vec<Section> {
    let v = IdpVendor::Google;
    let mut out = vec![
        section(
            "Create the custom SAML app",
            vec![
                step("In the Google Admin console, open Apps > Web and mobile apps, then Add app > Add custom SAML app.")
                    .field("App name", &i.app_name),
                step("On the Google Identity Provider details page, download the metadata (DOWNLOAD METADATA) and give it to the application's SSO settings, then Continue."),
            ],
        ),
        section(
            "Service provider details",
            vec![step("Fill in:")
                .field("ACS URL", code(&i.acs_url))
                .field("Entity ID", code(&i.sp_entity_id))
                .field("Signed response", "ticked (the response is then signed as well as the assertion)")
                .field("Name ID format", vendor_format(v, &i.name_id_format))
                .field("Name ID", "Basic Information > Primary email")
                .warning(FORMAT_WARNING)],
        ),
        section(
            "Attribute mapping",
            vec![step("Add mappings (Google directory attribute → App attribute):")
                .field("Primary email", &i.email_attribute)
                .field("First name", &i.first_name_attribute)
                .field("Last name", &i.last_name_attribute)],
        ),
        section(
            "User access",
            vec![step("Open the app's User access and set it ON for everyone, or for the organisational units or groups who may sign in (it is off by default); save.")
                .note("Google Workspace does not support single logout for custom SAML apps.")],
        ),
    ];
    if i.scim.is_some() {
        out.push(section(
            "Provisioning",
            vec![step("Google Workspace offers no SCIM provisioning for custom SAML apps: create users by JIT or invitation in the application instead.")],
        ));
    }
    out.push(section(
        "Test the connection",
        vec![step("In a private browser window, open the application's login page and sign in as a user with access (changes to User access can take a while to apply).")],
    ));
    out
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl SetupGuide {
    /// The guide as Markdown: one `##` heading per section, numbered steps, a two-column
    /// table per step's fields, notes and warnings as quotes.
    pub fn to_markdown(&self) -> String {
        let mut md = format!("# {}\n", self.title);
        let mut n = 0;
        for s in &self.sections {
            let _ = write!(md, "\n## {}\n\n", s.title);
            for st in &s.steps {
                n += 1;
                let _ = writeln!(md, "{n}. {}", st.text);
                if !st.fields.is_empty() {
                    md.push_str("\n   | Field | Value |\n   |---|---|\n");
                    for f in &st.fields {
                        let _ = writeln!(md, "   | {} | {} |", cell(&f.label), cell(&f.value));
                    }
                }
                for note in &st.notes {
                    let label = match note.kind {
                        NoteKind::Note => "Note",
                        NoteKind::Warning => "Warning",
                    };
                    let _ = write!(md, "\n   > **{label}:** {}\n", note.text);
                }
                if !st.fields.is_empty() || !st.notes.is_empty() {
                    md.push('\n');
                }
            }
        }
        md
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(scim: bool) -> GuideInput {
        let mut i = GuideInput::new(
            "Acme",
            "https://sp.example/saml/acme/metadata",
            "https://sp.example/saml/acme/acs",
        );
        i.slo_url = Some("https://sp.example/saml/acme/slo".into());
        if scim {
            i.scim = Some(ScimGuide {
                base_url: "https://sp.example/scim/v2".into(),
                token_with_bearer_prefix: true,
            });
        }
        i
    }

    #[test]
    fn every_guide_carries_the_connection_values() {
        for v in [
            IdpVendor::JumpCloud,
            IdpVendor::Okta,
            IdpVendor::Entra,
            IdpVendor::Google,
        ] {
            let md = v.guide(&input(true)).to_markdown();
            assert!(md.contains("`https://sp.example/saml/acme/acs`"), "{v:?}");
            assert!(md.contains("`https://sp.example/saml/acme/metadata`"), "{v:?}");
            assert!(md.contains(EMAIL_FORMAT), "{v:?}");
            assert!(md.contains("name_id_format_changed"), "{v:?}");
            let has_scim_url = md.contains("`https://sp.example/scim/v2`");
            assert_eq!(has_scim_url, v != IdpVendor::Google, "{v:?}");
            let without = v.guide(&input(false)).to_markdown();
            assert!(!without.contains("scim/v2"), "{v:?}");
        }
    }

    #[test]
    fn jumpcloud_has_the_seed_shape() {
        let g = IdpVendor::JumpCloud.guide(&input(true));
        let titles: Vec<&str> = g.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Create the application",
                "SSO tab",
                "Attributes",
                "User groups",
                "Give the IdP's values to the application",
                "Identity Management tab (SCIM)",
                "Test the connection"
            ]
        );
        let md = g.to_markdown();
        assert!(md.contains("Assertion and Response"));
        assert!(md.contains("Test Connection"));
        assert!(md.contains("`Bearer `"));
        assert!(md.contains("| firstName | firstname |"));
    }

    #[test]
    fn vendor_names_parse() {
        assert_eq!("JumpCloud".parse::<IdpVendor>().unwrap(), IdpVendor::JumpCloud);
        assert_eq!("entra".parse::<IdpVendor>().unwrap(), IdpVendor::Entra);
        assert_eq!("pingone".parse::<IdpVendor>().unwrap_err().code(), "unknown_idp");
    }

    #[test]
    fn slo_only_where_the_idp_takes_it() {
        assert!(IdpVendor::Okta
            .guide(&input(false))
            .to_markdown()
            .contains("saml/acme/slo"));
        assert!(IdpVendor::Entra
            .guide(&input(false))
            .to_markdown()
            .contains("saml/acme/slo"));
        assert!(!IdpVendor::Google
            .guide(&input(false))
            .to_markdown()
            .contains("saml/acme/slo"));
    }
}
