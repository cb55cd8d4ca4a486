//! Errors raised while running a plan.

/// Why running a plan failed. All but `Internal` are caused by the data or the query.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    #[error("division by zero")]
    DivisionByZero,
    /// An arithmetic result does not fit its type.
    #[error("{0} out of range")]
    Overflow(&'static str),
    /// A value cannot be converted to the requested type.
    #[error("invalid input syntax for type {to}: \"{value}\"")]
    InvalidCast { value: String, to: storage::DataType },
    #[error("null value in column \"{column}\" of table \"{table}\" violates not-null constraint")]
    NotNull { table: String, column: String },
    /// A function got an argument it cannot take.
    #[error("{0}")]
    InvalidArgument(String),
    /// Reading table data from the database's files failed (a damaged file; the message names
    /// it).
    #[error("{0}")]
    Storage(String),
    /// Another thread interrupted the statement (`Connection::interrupt_handle`).
    #[error("query interrupted")]
    Interrupted,
    /// The statement ran past the session's `statement_timeout`.
    #[error("canceling statement due to statement timeout ({millis} ms)")]
    StatementTimeout { millis: u64 },
    /// A bug in the engine: an invariant the planner should have guaranteed did not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = ExecError> = std::result::Result<T, E>;
