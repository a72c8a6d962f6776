//! Translating a filter into another query language.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};

/// A bottom-up translation of a [`Filter`] (e.g. into a SQL `WHERE` clause). [`Filter::accept`]
/// calls the methods children first; `value_path` receives the raw inner filter so the
/// visitor can translate it with the element context it needs (typically by remembering the
/// attribute and calling `inner.accept(self)`).
///
/// A toy SQL translation that binds every value as a parameter (never interpolate filter
/// values into SQL):
///
/// ```
/// use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, Filter, Visitor};
///
/// #[derive(Default)]
/// struct Sql { params: Vec<String>, element: Option<String> }
///
/// impl Sql {
///     fn column(&self, p: &AttrPath) -> Result<String, String> {
///         let name = match (&self.element, &p.sub_attr) {
///             (Some(table), None) => format!("{table}.{}", p.name),
///             (None, Some(sub)) => format!("{}_{}", p.name, sub),
///             (None, None) => p.name.clone(),
///             (Some(_), Some(_)) => return Err("nested sub-attribute".into()),
///         };
///         // Allow-list the column names: the filter comes from the network.
///         match name.to_ascii_lowercase().as_str() {
///             "username" | "active" | "emails.type" | "emails.value" | "name_familyname" => Ok(name.to_ascii_lowercase()),
///             other => Err(format!("unsupported attribute {other}")),
///         }
///     }
/// }
///
/// impl Visitor for Sql {
///     type Output = String;
///     type Error = String;
///     fn and(&mut self, l: String, r: String) -> Result<String, String> { Ok(format!("({l} AND {r})")) }
///     fn or(&mut self, l: String, r: String) -> Result<String, String> { Ok(format!("({l} OR {r})")) }
///     fn not(&mut self, i: String) -> Result<String, String> { Ok(format!("NOT ({i})")) }
///     fn present(&mut self, p: &AttrPath) -> Result<String, String> {
///         Ok(format!("{} IS NOT NULL", self.column(p)?))
///     }
///     fn compare(&mut self, p: &AttrPath, op: CompareOp, v: &CompValue) -> Result<String, String> {
///         let col = self.column(p)?;
///         let value = match v {
///             CompValue::String(s) => s.clone(),
///             CompValue::Bool(b) => b.to_string(),
///             CompValue::Number(n) => n.to_string(),
///             CompValue::Null => return Ok(format!("{col} IS NULL")),
///         };
///         let (sql_op, value) = match op {
///             CompareOp::Eq => ("=", value),
///             CompareOp::Co => ("LIKE", format!("%{value}%")),
///             CompareOp::Ew => ("LIKE", format!("%{value}")),
///             other => return Err(format!("{other} not supported by this store")),
///         };
///         self.params.push(value);
///         Ok(format!("{col} {sql_op} ${}", self.params.len()))
///     }
///     fn value_path(&mut self, attr: &AttrPath, inner: &Filter) -> Result<String, String> {
///         self.element = Some(attr.name.to_ascii_lowercase());
///         let cond = inner.accept(self);
///         self.element = None;
///         Ok(format!("EXISTS (SELECT 1 FROM {} WHERE {})", attr.name.to_ascii_lowercase(), cond?))
///     }
/// }
///
/// let f = Filter::parse(r#"userName eq "bjensen" and (emails[type eq "work" and value ew "@example.com"] or active eq true)"#).unwrap();
/// let mut sql = Sql::default();
/// let clause = f.accept(&mut sql).unwrap();
/// assert_eq!(clause, "(username = $1 AND (EXISTS (SELECT 1 FROM emails WHERE (emails.type = $2 AND emails.value LIKE $3)) OR active = $4))");
/// assert_eq!(sql.params, ["bjensen", "work", "%@example.com", "true"]);
/// ```
pub trait Visitor {
    /// What each node translates to.
    type Output;
    /// Why a node cannot be translated (e.g. an unsupported attribute).
    type Error;

    /// `left and right`.
    fn and(&mut self, left: Self::Output, right: Self::Output) -> Result<Self::Output, Self::Error>;
    /// `left or right`.
    fn or(&mut self, left: Self::Output, right: Self::Output) -> Result<Self::Output, Self::Error>;
    /// `not (inner)`.
    fn not(&mut self, inner: Self::Output) -> Result<Self::Output, Self::Error>;
    /// `path pr`.
    fn present(&mut self, path: &AttrPath) -> Result<Self::Output, Self::Error>;
    /// `path op value`.
    fn compare(
        &mut self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Self::Output, Self::Error>;
    /// `attr[inner]`: the inner filter's paths are relative to an element of `attr`.
    fn value_path(&mut self, attr: &AttrPath, inner: &Filter) -> Result<Self::Output, Self::Error>;
}

impl Filter {
    /// Runs a [`Visitor`] over the filter, children first.
    pub fn accept<V: Visitor + ?Sized>(&self, visitor: &mut V) -> Result<V::Output, V::Error> {
        match self {
            Filter::And(l, r) => {
                let l = l.accept(visitor)?;
                let r = r.accept(visitor)?;
                visitor.and(l, r)
            }
            Filter::Or(l, r) => {
                let l = l.accept(visitor)?;
                let r = r.accept(visitor)?;
                visitor.or(l, r)
            }
            Filter::Not(i) => {
                let i = i.accept(visitor)?;
                visitor.not(i)
            }
            Filter::Present(p) => visitor.present(p),
            Filter::Compare { path, op, value } => visitor.compare(path, *op, value),
            Filter::ValuePath { attr, filter } => visitor.value_path(attr, filter),
        }
    }
}
