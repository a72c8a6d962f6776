//! Support shared by the example app's test targets: the workspace's `fedkit` binary and a
//! running `fedkit idp serve`, and (for the browser test) a small WebDriver client.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod webdriver;

use std::path::PathBuf;

/// The `fedkit` binary of this workspace, built (with the profile of this test) if needed.
pub fn fedkit_binary() -> PathBuf {
    let profile_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev".to_owned(),
        Some(other) => other.to_owned(),
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "fedkit-cli",
            "--bin",
            "fedkit",
            "--profile",
            &profile,
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p fedkit-cli failed");
    profile_dir.join(format!("fedkit{}", std::env::consts::EXE_SUFFIX))
}

/// `fedkit --json idp serve` on a free loopback port; killed (and its state removed) on drop.
pub struct FedkitIdp {
    child: std::process::Child,
    started: serde_json::Value,
    state_dir: PathBuf,
}

impl Drop for FedkitIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

impl FedkitIdp {
    pub fn start(sp_base: &str) -> Self {
        use std::io::BufRead as _;
        let state_dir = std::env::temp_dir().join(format!("fedkit-saas-app-idp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        let mut child = std::process::Command::new(fedkit_binary())
            .args(["--json", "idp", "serve", "--listen", "127.0.0.1:0"])
            .args(["--sp-entity-id", &format!("{sp_base}/saml/metadata")])
            .args(["--acs-url", &format!("{sp_base}/saml/acs")])
            .args(["--sp-slo-url", &format!("{sp_base}/saml/slo")])
            .arg("--state-dir")
            .arg(&state_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("no start-up line ({e}): {line:?}"));
        Self {
            child,
            started,
            state_dir,
        }
    }

    pub fn field(&self, name: &str) -> String {
        self.started[name].as_str().unwrap().to_owned()
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.field("listen"))
    }
}
