//! Transaction-layer errors.

/// Why a transaction could not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TxnError {
    #[error("table \"{0}\" already exists")]
    TableExists(String),
    #[error("table \"{0}\" does not exist")]
    NoSuchTable(String),
    /// A committed row (or another row of the same transaction) already has this key.
    #[error("duplicate key value violates primary key of table \"{table}\": key ({key}) already exists")]
    DuplicateKey { table: String, key: String },
    /// The table was dropped while the transaction wrote to it.
    #[error("table \"{0}\" was dropped by a concurrent statement")]
    TableDropped(String),
    /// A row this transaction wants to change was changed by another transaction since its
    /// snapshot (first committer wins). SQLSTATE 40001: retrying the transaction may succeed.
    #[error(
        "could not serialize access due to concurrent update of table \"{table}\" (SQLSTATE 40001); \
         retry the transaction"
    )]
    SerializationFailure { table: String },
    /// A row id that names no row (an internal error of the caller).
    #[error("internal error: row id {0} names no row")]
    NoSuchRow(u64),
}

pub type Result<T, E = TxnError> = std::result::Result<T, E>;
