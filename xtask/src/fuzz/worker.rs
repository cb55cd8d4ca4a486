//! Worker processes, so that an abort or a stack overflow is a finding rather than the end of
//! the run.
//!
//! The parent starts `xtask fuzz --worker` and talks to it over pipes, one line per message:
//!
//! ```text
//! parent ─► worker   run<TAB>escaped SQL      |  reset
//! worker ─► parent   ready (once, after the database is set up)
//!                    one encoded Outcome per request (see exec.rs)
//! ```
//!
//! The worker runs statements on a thread with a fixed stack size (`--stack-kb`, default
//! 2 MiB, the size of a Rust thread an application would spawn), under `catch_unwind`. The
//! parent waits for each answer up to the statement timeout and kills the worker when it
//! passes (a hang); a worker that dies (a crash) is restarted on the next statement.

use super::exec::{escape, execute, fresh_database, install_panic_hook, unescape, Executor, Outcome};
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a worker may take to set up its database.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How much of a worker's stderr is kept for a crash report.
const STDERR_TAIL: usize = 4_096;

/// The body of `xtask fuzz --worker`.
pub fn worker_main(stack_kb: usize, statement_timeout: Option<Duration>) -> Result<()> {
    let handle = std::thread::Builder::new()
        .name("fuzz-worker".into())
        .stack_size(stack_kb * 1024)
        .spawn(move || worker_loop(statement_timeout))
        .context("starting the worker thread")?;
    handle.join().map_err(|_| anyhow!("the worker thread panicked outside a statement"))?
}

fn worker_loop(statement_timeout: Option<Duration>) -> Result<()> {
    install_panic_hook();
    let (mut _db, mut conn) = fresh_database(statement_timeout)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let (cmd, arg) = line.split_once('\t').unwrap_or((line.as_str(), ""));
        let reply = match cmd {
            "run" => execute(&conn, &unescape(arg)),
            "reset" => {
                (_db, conn) = fresh_database(statement_timeout)?;
                Outcome::Ok { rows: 0 }
            }
            other => bail!("unknown worker command {other:?}"),
        };
        writeln!(stdout, "{}", reply.encode())?;
        stdout.flush()?;
    }
    Ok(())
}

/// How to start workers.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub exe: PathBuf,
    pub stack_kb: usize,
    pub timeout: Duration,
    /// The engine's `statement_timeout` in the worker (0: none).
    pub statement_timeout: Option<Duration>,
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(opts: &WorkerOptions) -> Result<Worker> {
        let mut child = Command::new(&opts.exe)
            .args(["fuzz", "--worker", "--stack-kb", &opts.stack_kb.to_string()])
            .args([
                "--statement-timeout-ms".to_string(),
                opts.statement_timeout.map_or(0, |t| t.as_millis().max(1)).to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting worker {}", opts.exe.display()))?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = child.stdout.take().context("worker stdout")?;
        let mut stderr_pipe = child.stderr.take().context("worker stderr")?;
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut tail = sink.lock().unwrap_or_else(|p| p.into_inner());
                tail.push_str(&String::from_utf8_lossy(&buf[..n]));
                if tail.len() > 2 * STDERR_TAIL {
                    let mut cut = tail.len() - STDERR_TAIL;
                    while !tail.is_char_boundary(cut) {
                        cut += 1;
                    }
                    tail.drain(..cut);
                }
            }
        });
        let mut worker = Worker { child, stdin, replies, stderr, stderr_reader: Some(stderr_reader) };
        match worker.replies.recv_timeout(SETUP_TIMEOUT) {
            Ok(line) if line == "ready" => Ok(worker),
            Ok(line) => bail!("worker said {line:?} instead of ready"),
            Err(_) => {
                let detail = worker.died();
                bail!("worker did not start: {detail}")
            }
        }
    }

    /// Sends one request and waits up to `timeout` for the answer.
    fn request(&mut self, line: &str, timeout: Duration) -> Outcome {
        let start = Instant::now();
        if writeln!(self.stdin, "{line}").and_then(|_| self.stdin.flush()).is_err() {
            return Outcome::Crash { detail: self.died() };
        }
        match self.replies.recv_timeout(timeout) {
            Ok(reply) => Outcome::decode(&reply)
                .unwrap_or_else(|| Outcome::Crash { detail: format!("unreadable reply {reply:?}") }),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Outcome::Hang { millis: start.elapsed().as_millis() as u64 }
            }
            Err(RecvTimeoutError::Disconnected) => Outcome::Crash { detail: self.died() },
        }
    }

    /// Waits for a dead worker and says how it died, with the end of its stderr.
    fn died(&mut self) -> String {
        let status = match self.child.try_wait() {
            Ok(Some(status)) => status.to_string(),
            _ => {
                let _ = self.child.kill();
                self.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
            }
        };
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let tail = self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let tail: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(6)..].join("\n");
        format!("{status}\n{tail}")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs statements in worker processes, starting a new one after a crash or a hang.
pub struct Subprocess {
    opts: WorkerOptions,
    worker: Option<Worker>,
    /// Workers started after the first, because one crashed or hung.
    pub restarts: u64,
    lost_state: bool,
}

impl Subprocess {
    pub fn new(opts: WorkerOptions) -> Result<Subprocess> {
        let worker = Worker::spawn(&opts)?;
        Ok(Subprocess { opts, worker: Some(worker), restarts: 0, lost_state: false })
    }

    fn worker(&mut self) -> Result<&mut Worker> {
        if self.worker.is_none() {
            self.restarts += 1;
            self.worker = Some(Worker::spawn(&self.opts)?);
        }
        self.worker.as_mut().context("no worker")
    }
}

impl Executor for Subprocess {
    fn run(&mut self, sql: &str) -> Result<Outcome> {
        let timeout = self.opts.timeout;
        let outcome = self.worker()?.request(&format!("run\t{}", escape(sql)), timeout);
        if matches!(outcome, Outcome::Crash { .. } | Outcome::Hang { .. }) {
            self.worker = None;
            self.lost_state = true;
        }
        Ok(outcome)
    }

    fn take_lost_state(&mut self) -> bool {
        std::mem::take(&mut self.lost_state)
    }

    fn reset(&mut self) -> Result<()> {
        let Some(worker) = self.worker.as_mut() else { return Ok(()) };
        match worker.request("reset", SETUP_TIMEOUT) {
            Outcome::Ok { .. } => Ok(()),
            other => {
                self.worker = None;
                bail!("resetting the worker failed: {}", other.describe())
            }
        }
    }
}
