//! Catching a panic of third-party code as an error, without the panic message on stderr.
//!
//! arrow2 asserts (panics) on some malformed parquet pages. The reader catches those panics
//! and reports a clear error naming the file, but Rust's default panic hook would still print
//! `thread '...' panicked at ...` to stderr first, which reads like a crash of the program.
//!
//! Validating pages before arrow2 sees them would mean re-implementing its decoders' checks
//! (and chasing every assertion of every version). Instead a panic hook is installed once per
//! process that wraps the hook in place at that moment (the default one, or the
//! application's) and stays silent only while the panicking thread is inside [`catch`]; a
//! thread-local flag says so. Every other panic, on every thread, goes to the previous hook
//! exactly as before. An application that later installs its own hook replaces this one, and
//! then guarded panics are printed again (still caught and reported as errors).

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`catch`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Restores the flag when `catch` ends, even by unwinding.
struct Guard {
    was: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        GUARDED.with(|g| g.set(self.was));
    }
}

/// Runs `f`; a panic inside it comes back as `Err` (its payload) without being printed.
pub fn catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    install_hook();
    let _guard = Guard { was: GUARDED.with(|g| g.replace(true)) };
    catch_unwind(AssertUnwindSafe(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_is_an_error_and_the_flag_is_restored() {
        let result = catch(|| -> u32 { panic!("inside") });
        let payload = result.expect_err("the panic is caught");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"inside"));
        assert!(!GUARDED.with(Cell::get));
        assert_eq!(catch(|| 7).ok(), Some(7));
        // Nested: the inner guard leaves the outer one in place.
        let outer = catch(|| {
            let inner = catch(|| 1);
            (inner.ok(), GUARDED.with(Cell::get))
        });
        assert_eq!(outer.ok(), Some((Some(1), true)));
        assert!(!GUARDED.with(Cell::get));
    }

    #[test]
    fn panics_outside_are_not_caught_or_silenced() {
        catch(|| ()).ok();
        // A panic outside `catch` still unwinds to the caller (and goes to the previous hook).
        let outside = std::thread::spawn(|| panic!("outside")).join();
        assert!(outside.is_err());
        assert!(!GUARDED.with(Cell::get));
    }
}
