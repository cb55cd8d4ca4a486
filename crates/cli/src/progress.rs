//! The progress line of a long import (`COPY ... FROM`, `.import`) on stderr.
//!
//! Like DuckDB's progress bar: nothing for a statement that ends within a second, then one
//! line updated in place (a carriage return, no other terminal control) at most ten times a
//! second, and wiped when the statement ends, so that what follows starts on a clean line.
//! By default the line appears only when stderr is a terminal; `HELIOSDB_PROGRESS=on` shows it
//! anyway and from the first report (for tests and logs), `off` never.

use heliosdb_nano::Progress;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The environment variable that chooses [`Mode`].
pub const ENV: &str = "HELIOSDB_PROGRESS";

/// Quiet time before the line appears.
const DELAY: Duration = Duration::from_secs(1);

/// Least time between two updates.
const INTERVAL: Duration = Duration::from_millis(100);

/// Cells of the bar.
const BAR_WIDTH: usize = 30;

/// When the progress line is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// When stderr is a terminal, after a second.
    Auto,
    /// Always, from the first report.
    On,
    /// Never.
    Off,
}

impl Mode {
    /// The mode `value` (of [`ENV`]) names; unset is `Auto`.
    pub fn parse(value: Option<&str>) -> Result<Mode, String> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "auto") => Ok(Mode::Auto),
            Some("on" | "1" | "always") => Ok(Mode::On),
            Some("off" | "0" | "never") => Ok(Mode::Off),
            Some(_) => Err(format!("{ENV} must be on, off or auto, not {:?}", value.unwrap_or_default())),
        }
    }
}

struct State {
    sink: Box<dyn Write + Send>,
    /// Characters of the line on screen, 0 when none is.
    shown: usize,
    last: Option<Instant>,
}

/// One progress line, fed by a connection's progress handler.
pub struct ProgressLine {
    delay: Duration,
    state: Mutex<State>,
}

impl ProgressLine {
    /// A line written to `sink` once a statement has run for `delay`.
    pub fn new(sink: Box<dyn Write + Send>, delay: Duration) -> ProgressLine {
        ProgressLine { delay, state: Mutex::new(State { sink, shown: 0, last: None }) }
    }

    /// The line for `mode`, on stderr, or `None` when it is never shown.
    pub fn for_stderr(mode: Mode, stderr_is_terminal: bool) -> Option<ProgressLine> {
        let delay = match mode {
            Mode::Auto if stderr_is_terminal => DELAY,
            Mode::On => Duration::ZERO,
            Mode::Auto | Mode::Off => return None,
        };
        Some(ProgressLine::new(Box::new(std::io::stderr()), delay))
    }

    /// Shows `p`, unless the statement is young or the line was updated very recently (the
    /// last report, `done == total`, is always shown once the line is up).
    pub fn update(&self, p: &Progress) {
        if p.elapsed < self.delay {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let finished = p.done >= p.total;
        if state.last.is_some_and(|last| now.duration_since(last) < INTERVAL) && !(finished && state.shown > 0) {
            return;
        }
        let text = render(p);
        let pad = state.shown.saturating_sub(text.chars().count());
        // Progress is a courtesy: a failing stderr must not fail the import.
        let _ = write!(state.sink, "\r{text}{:pad$}", "").and_then(|()| state.sink.flush());
        state.shown = text.chars().count();
        state.last = Some(now);
    }

    /// Wipes the line, if one is shown; the next statement starts afresh.
    pub fn clear(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.shown > 0 {
            let width = state.shown;
            let _ = write!(state.sink, "\r{:width$}\r", "").and_then(|()| state.sink.flush());
        }
        state.shown = 0;
        state.last = None;
    }
}

/// `[##########--------------------]  33% of 12.5 MB`
fn render(p: &Progress) -> String {
    let fraction = p.fraction();
    let filled = ((fraction * BAR_WIDTH as f64) as usize).min(BAR_WIDTH);
    format!(
        "[{}{}] {:>3}% of {}",
        "#".repeat(filled),
        "-".repeat(BAR_WIDTH - filled),
        (fraction * 100.0) as u32,
        size(p.total)
    )
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / (1u64 << 10) as f64),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink the test can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn progress(done: u64, total: u64, elapsed_ms: u64) -> Progress {
        Progress::new(done, total, Duration::from_millis(elapsed_ms))
    }

    #[test]
    fn quiet_at_first_then_in_place_then_wiped() {
        let sink = Shared::default();
        let line = ProgressLine::new(Box::new(sink.clone()), Duration::from_secs(1));
        line.update(&progress(10, 100, 500));
        assert_eq!(sink.text(), "", "nothing within the delay");
        line.update(&progress(33, 100, 1200));
        assert_eq!(sink.text(), "\r[#########---------------------]  33% of 100 bytes");
        line.update(&progress(40, 100, 1250));
        assert!(!sink.text().contains("40%"), "at most ten updates a second");
        line.update(&progress(100, 100, 1260));
        assert!(sink.text().ends_with("\r[##############################] 100% of 100 bytes"), "{}", sink.text());
        line.clear();
        let width = "[##############################] 100% of 100 bytes".len();
        assert!(sink.text().ends_with(&format!("\r{}\r", " ".repeat(width))));
        let before = sink.text().len();
        line.clear();
        assert_eq!(sink.text().len(), before, "nothing to wipe twice");
    }

    #[test]
    fn modes() {
        assert_eq!(Mode::parse(None), Ok(Mode::Auto));
        assert_eq!(Mode::parse(Some("ON")), Ok(Mode::On));
        assert_eq!(Mode::parse(Some("off")), Ok(Mode::Off));
        assert!(Mode::parse(Some("sometimes")).unwrap_err().contains("HELIOSDB_PROGRESS"));
        assert!(ProgressLine::for_stderr(Mode::Auto, false).is_none());
        assert!(ProgressLine::for_stderr(Mode::Off, true).is_none());
        assert!(ProgressLine::for_stderr(Mode::On, false).is_some());
        assert_eq!(size(3 << 20), "3.0 MB");
    }
}
