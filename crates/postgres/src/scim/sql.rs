//! The statements the store sends: those of the writes (one statement each, resource and
//! index rows together), and those of the lists (`find`, `find_page`), with a pushed-down
//! filter's condition (see `pushdown`) in them.

use fedkit_scim::filter::Filter;
use fedkit_scim_service::store::ResourceKind;
use postgres::types::{ToSql, Type};

use super::pushdown::{self, PushDown};

/// The statements of
/// [`Transaction::find_page`](fedkit_scim_service::store::Transaction::find_page)
/// (parameters `$1` tenant, `$2` kind, `$3` the group whose members are listed or -1, `$4`
/// limit, `$5` offset; then a filter's).
pub(crate) struct PageSql {
    /// How many match; when sorted by `userName`, also how many of them have a name.
    pub(crate) count: String,
    /// The page (when sorted by `userName`: of the users with a name).
    pub(crate) page: String,
    /// When sorted by `userName`: the users without one, in creation order.
    pub(crate) unnamed: Option<String>,
}

impl PageSql {
    /// `by_name`: `Some(descending)` when sorted by `userName`; `filter`: an exact
    /// pushed-down condition the resources must meet, its parameters after the statement's
    /// own (from `$4` in `count`, from `$6` in the row statements).
    pub(crate) fn new(member_of: bool, by_name: Option<bool>, filter: Option<&pushdown::Cond>) -> Self {
        let (from, base) = if member_of {
            (
                "fedkit_scim_group_members m JOIN fedkit_scim_resources r
                     ON r.tenant = m.tenant AND r.kind = $2 AND r.id = coalesce(m.member->>'value', m.member_json->>'value')",
                "m.group_seq = $3 AND r.tenant = $1",
            )
        } else {
            (
                "fedkit_scim_resources r",
                "r.tenant = $1 AND r.kind = $2 AND $3::bigint IS NOT NULL",
            )
        };
        let restrict = |first: usize| match filter {
            Some(f) => format!("{base} AND r.seq IN ({})", f.numbered_from(first)),
            None => base.to_owned(),
        };
        let (count_cond, cond) = (restrict(4), restrict(6));
        let select = "SELECT r.body, r.body_json, r.seq FROM";
        let Some(descending) = by_name else {
            return Self {
                count: format!("SELECT count(*) FROM {from} WHERE {count_cond}"),
                page: format!("{select} {from} WHERE {cond} ORDER BY r.seq LIMIT $4 OFFSET $5"),
                unnamed: None,
            };
        };
        // By `userName` as `sort_resources` orders it: the users with a (non-empty) name by
        // their sort key, then those without one in creation order, in both directions. The
        // first part reads the sort index in order (a prefix of the key; ties within a
        // prefix are sorted on the whole key), so a page costs `offset + limit` rows.
        let dir = if descending { "DESC" } else { "ASC" };
        let keyed = "r.user_name_sort <> ''::bytea";
        Self {
            count: format!("SELECT count(*), count(*) FILTER (WHERE {keyed}) FROM {from} WHERE {count_cond}"),
            page: format!(
                "{select} {from} WHERE {cond} AND {keyed}
                 ORDER BY substring(r.user_name_sort FROM 1 FOR 1024) {dir}, r.user_name_sort {dir}, r.seq
                 LIMIT $4 OFFSET $5"
            ),
            unnamed: Some(format!(
                "{select} {from} WHERE {cond} AND NOT coalesce({keyed}, false) ORDER BY r.seq LIMIT $4 OFFSET $5"
            )),
        }
    }
}

/// The SQL of [`Transaction::find`](fedkit_scim_service::store::Transaction::find) and the
/// values of its parameters after `$1` (tenant) and `$2` (kind).
pub(crate) fn find_query(kind: ResourceKind, filter: Option<&Filter>) -> (String, Vec<String>) {
    let mut sql = String::from(
        "SELECT r.body, r.body_json, r.seq FROM fedkit_scim_resources r WHERE r.tenant = $1 AND r.kind = $2",
    );
    let cond = filter.and_then(|f| PushDown::translate(kind, f));
    let mut values = Vec::new();
    if let Some(cond) = cond {
        sql.push_str(" AND r.seq IN (");
        sql.push_str(&cond.numbered());
        sql.push(')');
        values = cond.params;
    }
    sql.push_str(" ORDER BY r.seq");
    (sql, values)
}

/// The parameters of [`find_query`], typed (every one is `text`).
pub(crate) fn find_params<'a>(
    tenant: &'a String,
    kind: ResourceKind,
    values: &'a [String],
) -> Vec<(&'a (dyn ToSql + Sync), Type)> {
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> =
        vec![(tenant, Type::TEXT), (kind_name(kind), Type::TEXT)];
    params.extend(values.iter().map(|p| (p as &(dyn ToSql + Sync), Type::TEXT)));
    params
}

/// `kind.name()` as a `'static` reference to a `&str` (a bind parameter).
pub(crate) fn kind_name(kind: ResourceKind) -> &'static &'static str {
    match kind {
        ResourceKind::Group => &"Group",
        _ => &"User",
    }
}

pub(crate) const INSERT_SQL: &str = "WITH r AS (
        INSERT INTO fedkit_scim_resources (tenant, kind, id, user_name_key, user_name_sort, display_name, body, body_json, member_count)
        SELECT $1, $2, x.id, sha256(x.un), x.un, x.dn, x.b, x.bj, x.mc
        FROM unnest($3::text[], $4::bytea[], $5::text[], $6::jsonb[], $7::json[], $12::bigint[])
             WITH ORDINALITY AS x(id, un, dn, b, bj, mc, n)
        ORDER BY x.n
        RETURNING seq, id
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM unnest($8::text[], $9::smallint[], $10::text[], $11::boolean[]) AS y(id, a, v, c)
        JOIN r ON r.id = y.id
    ), m AS (
        INSERT INTO fedkit_scim_group_members (group_seq, tenant, member_key, v, cut, member, member_json)
        SELECT r.seq, $1, z.k, z.v, z.c, z.m, z.mj
        FROM unnest($13::text[], $14::bytea[], $15::text[], $16::boolean[], $17::jsonb[], $18::json[])
             WITH ORDINALITY AS z(id, k, v, c, m, mj, n)
        JOIN r ON r.id = z.id
        ORDER BY z.n
    )
    SELECT count(*) FROM r";

/// Replaces a resource's attributes and indexed values; its member rows stay.
pub(crate) const UPDATE_SQL: &str = "WITH r AS (
        UPDATE fedkit_scim_resources
        SET user_name_key = sha256($4::bytea), user_name_sort = $4::bytea, display_name = $5, body = $6, body_json = $7
        WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM r, unnest($8::smallint[], $9::text[], $10::boolean[]) AS y(a, v, c)
    )
    SELECT seq FROM r";

pub(crate) const DELETE_SQL: &str = "WITH r AS (
        DELETE FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2 AND id = $3
        RETURNING seq
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), dm AS (
        DELETE FROM fedkit_scim_group_members WHERE group_seq IN (SELECT seq FROM r)
    )
    SELECT count(*) FROM r";

/// Replaces the attributes and indexed values of several groups; their member rows stay.
pub(crate) const UPDATE_MANY_GROUPS_SQL: &str = "WITH x AS (
        SELECT * FROM unnest($3::text[], $4::text[], $5::jsonb[], $6::json[]) AS x(id, dn, b, bj)
    ), r AS (
        UPDATE fedkit_scim_resources t SET display_name = x.dn, body = x.b, body_json = x.bj
        FROM x WHERE t.tenant = $1 AND t.kind = $2 AND t.id = x.id
        RETURNING t.seq, t.id
    ), dv AS (
        DELETE FROM fedkit_scim_values WHERE seq IN (SELECT seq FROM r)
    ), v AS (
        INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
        SELECT r.seq, $1, $2, y.a, y.v, y.c
        FROM unnest($7::text[], $8::smallint[], $9::text[], $10::boolean[]) AS y(id, a, v, c)
        JOIN r ON r.id = y.id
    )
    SELECT count(*) FROM r";

/// Adds member rows to group `$1` (a key it has already is skipped) and counts them.
pub(crate) const ADD_MEMBERS_SQL: &str = "WITH ins AS (
        INSERT INTO fedkit_scim_group_members (group_seq, tenant, member_key, v, cut, member, member_json)
        SELECT $1, $2, x.k, x.v, x.c, x.m, x.mj
        FROM unnest($3::bytea[], $4::text[], $5::boolean[], $6::jsonb[], $7::json[])
             WITH ORDINALITY AS x(k, v, c, m, mj, n)
        ORDER BY x.n
        ON CONFLICT (group_seq, member_key) DO NOTHING
        RETURNING member_key
    ), c AS (
        UPDATE fedkit_scim_resources SET member_count = member_count + (SELECT count(*) FROM ins) WHERE seq = $1
    )
    SELECT member_key FROM ins";

/// Removes member rows of group `$1` by key and counts them.
pub(crate) const REMOVE_MEMBERS_SQL: &str = "WITH d AS (
        DELETE FROM fedkit_scim_group_members WHERE group_seq = $1 AND member_key = ANY($2::bytea[])
        RETURNING member_key
    ), c AS (
        UPDATE fedkit_scim_resources SET member_count = member_count - (SELECT count(*) FROM d) WHERE seq = $1
    )
    SELECT member_key FROM d";
