//! The public error type: every layer's error, plus misuse of the API itself.

/// What went wrong, and whose fault it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Parsing, binding, planning or executing a statement failed.
    #[error(transparent)]
    Sql(#[from] sql::SqlError),
    /// A value was read from a row as the wrong Rust type, or a column does not exist.
    #[error("{0}")]
    Column(String),
    /// The API was called with arguments it cannot accept.
    #[error("{0}")]
    InvalidArgument(String),
    /// Opening or reading a database failed.
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
}

impl Error {
    /// Line and column (1-based) in the SQL text that the error points at, when known.
    pub fn position(&self) -> Option<(u64, u64)> {
        match self {
            Error::Sql(e) => e.position(),
            _ => None,
        }
    }

    /// The SQLSTATE code of the error, for the kinds applications act on: `40001`
    /// (serialization failure: retry the transaction), `23505` (duplicate key), `25P02`
    /// (statement in a failed transaction), `57014` (query canceled: interrupted, or past
    /// `statement_timeout`).
    pub fn sqlstate(&self) -> Option<&'static str> {
        match self {
            Error::Sql(sql::SqlError::Txn(mvcc_error)) => {
                let text = mvcc_error.to_string();
                if text.contains("SQLSTATE 40001") {
                    Some("40001")
                } else if text.starts_with("duplicate key") {
                    Some("23505")
                } else {
                    None
                }
            }
            Error::Sql(sql::SqlError::TxnState(m)) if m.starts_with("current transaction is aborted") => Some("25P02"),
            Error::Sql(sql::SqlError::Exec(
                exec::ExecError::Interrupted | exec::ExecError::StatementTimeout { .. },
            )) => Some("57014"),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
