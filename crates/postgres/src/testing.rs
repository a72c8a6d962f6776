//! A throwaway PostgreSQL server for tests (feature `testing`).
//!
//! [`TestServer::start`] runs the system's `initdb` into a temporary directory and starts
//! `postgres` on a free loopback port with trust authentication, no Unix socket and
//! `fsync=off` (a committed transaction survives [`stop`](TestServer::stop), which kills the
//! server, not the machine's page cache); dropping the server stops it and deletes the directory. Tests can
//! [`stop`](TestServer::stop) and [`start_again`](TestServer::start_again) it to check how
//! code behaves while the database restarts.
//!
//! The binaries are looked up in `FEDKIT_PG_BINDIR`, then `pg_config --bindir`, then
//! `/usr/lib/postgresql/<version>/bin` (Debian's layout). PostgreSQL refuses to run as root:
//! when the tests run as root (CI containers), the server runs as the `postgres` system user
//! (created by Debian's package) through `runuser`.
//!
//! [`TestServer::start_with_tls`] starts one that accepts only TLS connections, with a
//! certificate for `localhost` issued by a throwaway CA ([`TestServer::ca_file`]); its
//! [`url`](TestServer::url) asks for `sslmode=verify-full` against that CA.
//!
//! Tests start with [`skip_without_postgres`], so that they pass without running (and say so)
//! on a machine without PostgreSQL unless `FEDKIT_REQUIRE_POSTGRES=1`.
//!
//! **Never use this outside tests**: trust authentication lets any local process in.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a test server could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TestServerError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's `postgresql` package or set FEDKIT_PG_BINDIR"
    )]
    NotInstalled,
    /// A command failed.
    #[error("`{command}` failed: {output}")]
    Command {
        /// The command.
        command: String,
        /// Its stderr/stdout.
        output: String,
    },
}

impl TestServerError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            TestServerError::NotInstalled => "postgres_not_installed",
            TestServerError::Command { .. } => "postgres_command_failed",
        }
    }
}

/// For a test that needs a server: `true` when it should return without checking anything,
/// because PostgreSQL's server binaries are not installed here and `FEDKIT_REQUIRE_POSTGRES` is
/// not `1`; it then says so on stderr, naming the test. This keeps `cargo test --workspace`
/// free of system packages. With `FEDKIT_REQUIRE_POSTGRES=1` (set by `.ci/test`) it is always
/// `false`, so a missing PostgreSQL fails the test ([`TestServerError::NotInstalled`]) instead.
///
/// ```no_run
/// # use fedkit_postgres::testing::{skip_without_postgres, TestServer};
/// if skip_without_postgres() {
///     return;
/// }
/// let server = TestServer::start().expect("PostgreSQL test server");
/// ```
pub fn skip_without_postgres() -> bool {
    let thread = std::thread::current();
    if TestServer::available() {
        return false;
    }
    if std::env::var_os("FEDKIT_REQUIRE_POSTGRES").is_some_and(|v| v == "1") {
        eprintln!(
            "{}: FEDKIT_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries (initdb, pg_ctl) were found; \
             install Debian's `postgresql` package (bash .ci/install-deps does) or set FEDKIT_PG_BINDIR",
            thread.name().unwrap_or("this test")
        );
        return false;
    }
    eprintln!(
        "SKIPPED {}: no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's `postgresql` \
         package or set FEDKIT_PG_BINDIR (set FEDKIT_REQUIRE_POSTGRES=1 to fail instead)",
        thread.name().unwrap_or("this test")
    );
    true
}

/// A running throwaway server. See the [module docs](self).
#[derive(Debug)]
pub struct TestServer {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
    running: bool,
    /// The CA file of a TLS server.
    ca_file: Option<PathBuf>,
}

impl TestServer {
    /// Whether PostgreSQL's server binaries can be found here.
    pub fn available() -> bool {
        find_bindir().is_some()
    }

    /// initdb + start on a free loopback port. Takes a second or two.
    pub fn start() -> Result<TestServer, TestServerError> {
        Self::init(false)
    }

    /// Like [`start`](Self::start), for a server that refuses plain TCP: its certificate,
    /// for the name `localhost` only, is issued by a CA made for this server
    /// ([`ca_file`](Self::ca_file)).
    pub fn start_with_tls() -> Result<TestServer, TestServerError> {
        Self::init(true)
    }

    fn init(tls: bool) -> Result<TestServer, TestServerError> {
        let bindir = find_bindir().ok_or(TestServerError::NotInstalled)?;
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new()
            .prefix("fedkit-pg-")
            .tempdir()
            .map_err(|e| io_error("create a temporary directory", e))?;
        if as_postgres_user {
            run(Command::new("chown").arg("-R").arg("postgres").arg(dir.path()))?;
        }
        let port = free_port()?;
        let mut server = TestServer {
            bindir,
            dir,
            port,
            as_postgres_user,
            running: false,
            ca_file: None,
        };
        let data = server.data_dir();
        server.run_pg(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        if tls {
            server.make_tls()?;
        }
        server.start_again()?;
        Ok(server)
    }

    /// A CA, a `localhost` certificate in the data directory and a pg_hba.conf that takes
    /// TLS connections only.
    fn make_tls(&mut self) -> Result<(), TestServerError> {
        let failed = |e: rcgen::Error| TestServerError::Command {
            command: "generate test certificates".into(),
            output: e.to_string(),
        };
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "fedkit test CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().map_err(failed)?)
            .map_err(failed)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).map_err(failed)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        let key = rcgen::KeyPair::generate().map_err(failed)?;
        let cert = params.signed_by(&key, &ca).map_err(failed)?;

        let data = self.data_dir();
        let write = |path: &Path, text: &str| {
            std::fs::write(path, text).map_err(|e| io_error(&format!("write {}", path.display()), e))
        };
        let ca_file = self.dir.path().join("ca.pem");
        write(&ca_file, &ca.pem())?;
        write(&data.join("server.crt"), &cert.pem())?;
        let key_file = data.join("server.key");
        write(&key_file, &key.serialize_pem())?;
        write(
            &data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
        )?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("chmod server.key", e))?;
        }
        if self.as_postgres_user {
            run(Command::new("chown")
                .arg("postgres")
                .arg(&key_file)
                .arg(data.join("server.crt"))
                .arg(data.join("pg_hba.conf")))?;
        }
        self.ca_file = Some(ca_file);
        Ok(())
    }

    /// The CA that issued a TLS server's certificate (PEM), `None` for a plain server.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A connection string for the `postgres` database as the `postgres` superuser (for a
    /// TLS server: `localhost`, `sslmode=verify-full` and `sslrootcert` set to
    /// [`ca_file`](Self::ca_file)).
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    fn url_for(&self, database: &str) -> String {
        match &self.ca_file {
            None => format!("postgres://postgres@127.0.0.1:{}/{database}", self.port),
            Some(ca) => format!(
                "postgres://postgres@localhost:{}/{database}?sslmode=verify-full&sslrootcert={}",
                self.port,
                percent_encoding::utf8_percent_encode(
                    &ca.to_string_lossy(),
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
        }
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a database and returns its connection string (one per test keeps tests
    /// independent while sharing one server).
    pub fn create_database(&self, name: &str) -> Result<String, TestServerError> {
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || name.is_empty() {
            return Err(TestServerError::Command {
                command: "create database".into(),
                output: format!("invalid test database name {name:?}"),
            });
        }
        let failed = |e: &dyn std::error::Error| TestServerError::Command {
            command: "connect".into(),
            output: e.to_string(),
        };
        let settings = crate::PoolSettings::default()
            .with_max_size(1)
            .map_err(|e| failed(&e))?;
        let pool = crate::Pool::connect(&self.url(), settings).map_err(|e| failed(&e))?;
        let mut client = pool.get().map_err(|e| TestServerError::Command {
            command: "connect".into(),
            output: e.to_string(),
        })?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| TestServerError::Command {
                command: format!("CREATE DATABASE {name}"),
                output: e.to_string(),
            })?;
        Ok(self.url_for(name))
    }

    /// Stops the server immediately (like a crash: `pg_ctl stop -m immediate`); open
    /// connections are cut.
    pub fn stop(&mut self) -> Result<(), TestServerError> {
        if self.running {
            let data = self.data_dir();
            self.run_pg(
                "pg_ctl",
                &["-D", &data.to_string_lossy(), "-m", "immediate", "-w", "stop"],
            )?;
            self.running = false;
        }
        Ok(())
    }

    /// Starts the (stopped) server again on the same port and data.
    pub fn start_again(&mut self) -> Result<(), TestServerError> {
        let data = self.data_dir();
        let log = self.dir.path().join("server.log");
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' -c fsync=off \
             -c full_page_writes=off -c max_connections=200",
            self.port
        );
        if self.ca_file.is_some() {
            options.push_str(" -c ssl=on");
        }
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
        .map_err(|e| match e {
            TestServerError::Command { command, output } => TestServerError::Command {
                command,
                output: format!(
                    "{output}\nserver log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            },
            other => other,
        })?;
        self.running = true;
        Ok(())
    }

    fn run_pg(&self, program: &str, args: &[&str]) -> Result<(), TestServerError> {
        let exe = self.bindir.join(program);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.arg("-u").arg("postgres").arg("--").arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        run(&mut cmd)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Best effort: a server left running would keep the port and the directory.
        let _ = self.stop();
    }
}

fn run(cmd: &mut Command) -> Result<(), TestServerError> {
    let describe = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| TestServerError::Command {
        command: describe.clone(),
        output: e.to_string(),
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(TestServerError::Command {
            command: describe,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            ),
        })
    }
}

fn io_error(what: &str, e: std::io::Error) -> TestServerError {
    TestServerError::Command {
        command: what.into(),
        output: e.to_string(),
    }
}

fn free_port() -> Result<u16, TestServerError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| io_error("bind a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| io_error("read the free port", e))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FEDKIT_PG_BINDIR").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_server(d))
        .collect();
    // Newest version last (names are version numbers).
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}
