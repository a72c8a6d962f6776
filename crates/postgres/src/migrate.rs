//! Schema migrations shipped with the crate.
//!
//! Each component (`scim`, `saml`) has an ordered list of SQL steps. [`apply`] runs the steps
//! a database has not seen yet, each in its own transaction, and records them in
//! `fedkit_migrations`. A transaction-level advisory lock serialises concurrent starts, so
//! several app servers booting at once against an empty database apply each step once.
//! Steps are append-only: a released step is never edited, a change is a new step.

use postgres::Client;

/// The advisory-lock key all fedkit migrations take (an arbitrary constant: "fedkit" in
/// ASCII).
const LOCK_KEY: i64 = 0x6665_646b_6974;

/// One migration step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Version, starting at 1, strictly increasing within a component.
    pub(crate) version: i32,
    /// What the step does (recorded beside the version).
    pub(crate) description: &'static str,
    /// The SQL, run with `batch_execute` (several statements allowed).
    pub(crate) sql: &'static str,
}

/// Brings `component`'s schema up to the last of `steps`, all in one transaction (PostgreSQL
/// DDL is transactional: a failed step leaves the schema as it was). Returns how many steps
/// ran.
pub(crate) fn apply(client: &mut Client, component: &str, steps: &[Step]) -> Result<usize, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS fedkit_migrations (
             component text NOT NULL,
             version integer NOT NULL,
             description text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now(),
             PRIMARY KEY (component, version)
         )",
    )?;
    let mut ran = 0;
    for step in steps {
        let done = tx
            .query_opt(
                "SELECT 1 FROM fedkit_migrations WHERE component = $1 AND version = $2",
                &[&component, &step.version],
            )?
            .is_some();
        if !done {
            tx.batch_execute(step.sql)?;
            tx.execute(
                "INSERT INTO fedkit_migrations (component, version, description) VALUES ($1, $2, $3)",
                &[&component, &step.version, &step.description],
            )?;
            ran += 1;
        }
    }
    tx.commit()?;
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Step] = &[
        Step {
            version: 1,
            description: "t1",
            sql: "CREATE TABLE m_one (a int)",
        },
        Step {
            version: 2,
            description: "t2",
            sql: "ALTER TABLE m_one ADD COLUMN b int",
        },
    ];

    #[test]
    fn steps_run_once_even_when_nodes_start_together() {
        if crate::testing::skip_without_postgres() {
            return;
        }
        let server = crate::testing::TestServer::start().unwrap();
        let url = server.create_database("migrate").unwrap();
        let runs: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    s.spawn(move || {
                        let mut c = Client::connect(&url, postgres::NoTls).unwrap();
                        apply(&mut c, "test", STEPS).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(runs.iter().sum::<usize>(), 2, "{runs:?}");
        let mut c = Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute("INSERT INTO m_one (a, b) VALUES (1, 2)").unwrap();
        // A failing step changes nothing and is not recorded.
        let bad = [Step {
            version: 3,
            description: "bad",
            sql: "CREATE TABLE m_two (a int); SELECT nope",
        }];
        assert!(apply(&mut c, "test", &[STEPS[0], STEPS[1], bad[0]]).is_err());
        assert!(c
            .query_opt("SELECT 1 FROM pg_tables WHERE tablename = 'm_two'", &[])
            .unwrap()
            .is_none());
        let versions: i64 = c
            .query_one(
                "SELECT count(*) FROM fedkit_migrations WHERE component = 'test'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(versions, 2);
    }
}
