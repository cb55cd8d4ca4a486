//! Execution: vectorized, push-based evaluation of physical plans over arrow2 arrays.
//!
//! ```text
//! PhysicalPlan ──execute──► source (Scan / Values) ──push(Batch)──► Filter ─► Project ─► ... ─► Sink
//!                                         pipeline breakers (Aggregate, Sort) absorb, then re-emit
//! ```
//!
//! Expressions ([`Expr`]) are bound and typed by the SQL layer; kernels never coerce types.
//! This crate never sees a sqlparser AST.

pub mod correlated;
pub mod error;
pub mod expr;
pub mod functions;
pub mod interrupt;
pub mod kernels;
pub mod operator;
pub mod row_key;
pub mod time;

pub use error::{ExecError, Result};
pub use expr::{DateOp, Expr};
pub use functions::ScalarFunction;
pub use kernels::arith::ArithOp;
pub use kernels::compare::CmpOp;
pub use operator::{
    collect, concat_batches, execute, AggFunc, AggregateExpr, CachedRows, CollectSink, Flow, FrameBound, FrameUnits,
    JoinKind, JoinSpec, PhysicalPlan, SetOpKind, Sink, SortKey, WindowExpr, WindowFrame, WindowFunc, WorkingTable,
};

use std::sync::OnceLock;

/// The default number of rows in a batch: 8192 rows of an 8-byte column are 64 KiB, so a
/// morsel's few columns stay in L2 while the per-batch work (slicing, evaluating, allocating
/// result vectors) is spread over four times the rows it was at 2048 (q02 at 10M rows:
/// 6.6 -> 5.4 ms, q14 19.5 -> 13.1 ms; 16384 measured no better).
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// The number of rows sources put in one batch: [`DEFAULT_BATCH_SIZE`], or the value of the
/// `HELIOSDB_BATCH_SIZE` environment variable (CI runs the suite with 2 so that batch
/// boundaries are exercised everywhere; results must not depend on them).
pub fn batch_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        std::env::var("HELIOSDB_BATCH_SIZE")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(DEFAULT_BATCH_SIZE)
    })
}

thread_local! {
    /// The session's `SET threads` for the statement running on this thread.
    static THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The default number of worker threads of a parallel pipeline: the `HELIOSDB_THREADS`
/// environment variable, or the machine's available parallelism.
pub fn default_threads() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("HELIOSDB_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
}

/// The number of worker threads parallel pipelines use on this thread: the session's setting
/// (see [`ThreadsGuard`]) or [`default_threads`]. 1 runs every pipeline on the calling thread.
pub fn threads() -> usize {
    THREADS.with(|t| t.get()).unwrap_or_else(default_threads)
}

/// Sets [`threads`] for the calling thread until dropped (a session's `SET threads` around
/// one statement); `None` means the default.
#[derive(Debug)]
pub struct ThreadsGuard {
    previous: Option<usize>,
}

impl ThreadsGuard {
    pub fn set(threads: Option<usize>) -> ThreadsGuard {
        ThreadsGuard { previous: THREADS.with(|t| t.replace(threads.filter(|&n| n > 0))) }
    }
}

impl Drop for ThreadsGuard {
    fn drop(&mut self) {
        THREADS.with(|t| t.set(self.previous));
    }
}
