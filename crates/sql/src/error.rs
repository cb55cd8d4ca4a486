//! [`SqlError`]: what the SQL front end reports, with the position in the SQL text.

use std::fmt;

/// A 1-based line and column in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Errors from parsing, binding, planning and running a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The text is not valid SQL. The user's fault.
    #[error("syntax error at {pos}: {message}")]
    Parse { message: String, pos: Pos },
    /// Valid SQL that names something that does not exist or mixes types. The user's fault.
    #[error("{message}{}", fmt_pos(.pos))]
    Bind { message: String, pos: Option<Pos> },
    /// Valid SQL that this engine does not support yet.
    #[error("not supported: {message}{}", fmt_pos(.pos))]
    NotSupported { message: String, pos: Option<Pos> },
    /// The statement failed while running (division by zero, bad cast, constraint, ...).
    #[error(transparent)]
    Exec(#[from] exec::ExecError),
    /// The transaction layer refused the statement (duplicate key, missing table, ...).
    #[error(transparent)]
    Txn(#[from] mvcc::TxnError),
    /// A statement that does not fit the session's transaction state (COMMIT without BEGIN,
    /// anything but ROLLBACK after an error inside a transaction).
    #[error("{0}")]
    TxnState(String),
    /// A bug: an invariant of the engine does not hold.
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_pos(pos: &Option<Pos>) -> String {
    pos.map(|p| format!(" (at {p})")).unwrap_or_default()
}

impl SqlError {
    /// Line and column of the error in the SQL text, when known.
    pub fn position(&self) -> Option<(u64, u64)> {
        match self {
            SqlError::Parse { pos, .. } => Some((pos.line, pos.column)),
            SqlError::Bind { pos, .. } | SqlError::NotSupported { pos, .. } => pos.map(|p| (p.line, p.column)),
            _ => None,
        }
    }
}

pub type Result<T, E = SqlError> = std::result::Result<T, E>;

/// `Err(SqlError::Bind)` with a formatted message and no position.
#[macro_export]
macro_rules! bind_err {
    ($($arg:tt)*) => { Err($crate::SqlError::Bind { message: format!($($arg)*), pos: None }) };
}

/// `Err(SqlError::NotSupported)` with a formatted message and no position.
#[macro_export]
macro_rules! unsupported {
    ($($arg:tt)*) => { Err($crate::SqlError::NotSupported { message: format!($($arg)*), pos: None }) };
}
