//! exec
mod error;
pub use error::{ExecError, Result};
