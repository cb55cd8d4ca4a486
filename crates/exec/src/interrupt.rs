//! Stopping a running statement: an interrupt from another thread (an application's
//! "cancel" button, the shell's Ctrl-C) or the session's `statement_timeout`.
//!
//! The session enters a [`StatementScope`] around each statement. Operators call [`check`]
//! between batches (sources before each batch they push, joins between batch pairs, the
//! correlated-subquery loop before each run, recursive CTEs before each step), so a statement
//! stops within one batch's work of the request and returns [`ExecError::Interrupted`] or
//! [`ExecError::StatementTimeout`]. The statement's transaction then rolls back as after any
//! other error: a cancelled write changes nothing.
//!
//! The scope is thread-local; a parallel pipeline hands it to its workers with [`current`]
//! and [`Scope::enter`]. A check costs a thread-local read, an atomic load and, with a
//! timeout, a clock read: nothing next to a batch of 2,048 rows.

use crate::error::{ExecError, Result};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The flag an [`InterruptHandle`] raises; one per session.
#[derive(Debug, Default)]
pub struct InterruptFlag(AtomicBool);

impl InterruptFlag {
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Lowers the flag: each statement starts uninterrupted.
    pub fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a running statement is checked against.
#[derive(Debug, Clone)]
pub struct Scope {
    flag: Arc<InterruptFlag>,
    /// When the statement times out, and the timeout (for the message).
    deadline: Option<(Instant, Duration)>,
}

thread_local! {
    static CURRENT: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

impl Scope {
    /// Makes this scope the calling thread's until the guard drops.
    pub fn enter(self) -> ScopeGuard {
        ScopeGuard { previous: CURRENT.with(|c| c.replace(Some(self))) }
    }

    /// Fails if the statement was interrupted or ran past its deadline.
    pub fn check(&self) -> Result<()> {
        if self.flag.is_raised() {
            return Err(ExecError::Interrupted);
        }
        match self.deadline {
            Some((at, timeout)) if Instant::now() >= at => {
                Err(ExecError::StatementTimeout { millis: timeout.as_millis().min(u64::MAX as u128) as u64 })
            }
            _ => Ok(()),
        }
    }
}

/// Restores the thread's previous scope when dropped.
#[derive(Debug)]
pub struct ScopeGuard {
    previous: Option<Scope>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// A statement's scope: `flag` (lowered now, so an interrupt aimed at an earlier statement
/// does not stop this one) and, with `timeout`, a deadline that far from now.
#[derive(Debug)]
pub struct StatementScope;

impl StatementScope {
    pub fn enter(flag: Arc<InterruptFlag>, timeout: Option<Duration>) -> ScopeGuard {
        flag.clear();
        // A deadline too far away to represent is no deadline.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t).map(|at| (at, t)));
        Scope { flag, deadline }.enter()
    }
}

/// The calling thread's scope, for handing to worker threads.
pub fn current() -> Option<Scope> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Fails if the running statement was interrupted or ran past its timeout; `Ok` outside a
/// statement scope.
pub fn check() -> Result<()> {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(scope) => scope.check(),
        None => Ok(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_flag_stops_the_statement_and_the_next_statement_starts_clear() {
        let flag = Arc::new(InterruptFlag::default());
        {
            let _g = StatementScope::enter(flag.clone(), None);
            assert_eq!(check(), Ok(()));
            flag.raise();
            assert_eq!(check(), Err(ExecError::Interrupted));
        }
        assert_eq!(check(), Ok(()), "outside a scope nothing is checked");
        let _g = StatementScope::enter(flag.clone(), None);
        assert_eq!(check(), Ok(()));
    }

    #[test]
    fn a_passed_deadline_is_a_timeout_and_workers_see_the_scope() {
        let flag = Arc::new(InterruptFlag::default());
        let _g = StatementScope::enter(flag, Some(Duration::ZERO));
        assert_eq!(check(), Err(ExecError::StatementTimeout { millis: 0 }));
        let scope = current();
        let seen = std::thread::spawn(move || {
            let _g = scope.map(Scope::enter);
            check()
        })
        .join()
        .unwrap();
        assert_eq!(seen, Err(ExecError::StatementTimeout { millis: 0 }));
    }

    #[test]
    fn scopes_nest_and_restore() {
        let outer = Arc::new(InterruptFlag::default());
        let _a = StatementScope::enter(outer.clone(), None);
        {
            let _b = StatementScope::enter(Arc::new(InterruptFlag::default()), Some(Duration::from_secs(3600)));
            outer.raise();
            assert_eq!(check(), Ok(()), "the inner scope has its own flag");
        }
        assert_eq!(check(), Err(ExecError::Interrupted));
    }

    #[test]
    fn an_unrepresentable_timeout_never_fires() {
        let _g = StatementScope::enter(Arc::new(InterruptFlag::default()), Some(Duration::MAX));
        assert_eq!(check(), Ok(()));
    }
}
