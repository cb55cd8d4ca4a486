//! What the benchmark measures about the machine and its own process: resident memory and its
//! peak (Linux `/proc/self`), the CPU features the binary was compiled for, and the memory
//! bandwidth of a plain sum over a large array (the floor for a scan that reads every byte),
//! and the fdatasync rate of a disk (the ceiling of one session's durable commits).

use std::hint::black_box;
use std::time::Instant;

/// Resident memory of this process, from `/proc/self/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident now, in bytes.
    pub rss: u64,
    /// `VmHWM`: the peak resident size since the process started or since the last
    /// [`reset_peak`], in bytes.
    pub peak: u64,
}

/// Reads `VmRSS` and `VmHWM` (kB) from `/proc/self/status`; `None` where there is no such file.
pub fn memory() -> Option<Memory> {
    parse_status(&std::fs::read_to_string("/proc/self/status").ok()?)
}

fn parse_status(text: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    };
    Some(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// Resets this process's peak resident size (`VmHWM`) to its current size, by writing `5` to
/// `/proc/self/clear_refs` (Linux 4.0+); `Err` says why it could not.
pub fn reset_peak() -> Result<(), String> {
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| format!("writing 5 to /proc/self/clear_refs: {e}"))?;
    let mem = memory().ok_or("no /proc/self/status")?;
    // The kernel resets VmHWM to the current RSS; allow for pages touched in between.
    if mem.peak > mem.rss + (64 << 20) {
        return Err(format!("VmHWM stayed at {} MiB after clear_refs (RSS {} MiB)", mem.peak >> 20, mem.rss >> 20));
    }
    Ok(())
}

macro_rules! features {
    ($($name:tt),* $(,)?) => {
        [$(($name, cfg!(target_feature = $name))),*]
    };
}

/// The SIMD-relevant target features this binary was compiled with (`-C target-cpu=native`
/// turns on whatever the build machine has).
pub fn target_features() -> Vec<&'static str> {
    let all = features![
        "sse2",
        "sse3",
        "ssse3",
        "sse4.1",
        "sse4.2",
        "popcnt",
        "avx",
        "avx2",
        "fma",
        "bmi1",
        "bmi2",
        "lzcnt",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512vl",
        "avx512dq",
        "avx512vpopcntdq",
        "neon",
        "sve",
        "sve2",
    ];
    all.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect()
}

/// The CPU's model name (`/proc/cpuinfo`) and the number of cores this process may use.
pub fn cpu() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    (model, std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// CPU time counters, in clock ticks: the whole machine's (`/proc/stat`) and this process's
/// plus its waited-for children's (`/proc/self/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTicks {
    /// Every CPU's busy time (everything but idle and iowait).
    pub machine_busy: u64,
    /// Every CPU's time, busy or not.
    pub machine_total: u64,
    /// This process and its finished children.
    pub ours: u64,
}

/// Reads the CPU counters; `None` off Linux.
pub fn cpu_ticks() -> Option<CpuTicks> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_ticks(&stat, &own)
}

fn parse_ticks(stat: &str, own: &str) -> Option<CpuTicks> {
    let cpu: Vec<u64> =
        stat.lines().next()?.strip_prefix("cpu ")?.split_whitespace().map(|v| v.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user and nice]
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3)? + cpu.get(4).unwrap_or(&0);
    // Fields after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let ours = field(14)? + field(15)? + field(16)? + field(17)?;
    Some(CpuTicks { machine_busy: total - idle, machine_total: total, ours })
}

/// How many cores' worth of CPU other processes used between two readings (the machine's busy
/// time minus this process's and its children's, over the elapsed time); `None` if the readings
/// are missing or no time passed.
pub fn others_cores(before: Option<CpuTicks>, after: Option<CpuTicks>, cores: usize) -> Option<f64> {
    let (a, b) = (before?, after?);
    let total = b.machine_total.checked_sub(a.machine_total)?;
    if total == 0 {
        return None;
    }
    let busy = b.machine_busy.saturating_sub(a.machine_busy);
    let ours = b.ours.saturating_sub(a.ours);
    Some(busy.saturating_sub(ours) as f64 / total as f64 * cores as f64)
}

/// The measured bandwidth of summing a large `i64` array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bandwidth {
    /// The array's size.
    pub bytes: u64,
    /// Bytes per second, one thread (the best of the passes).
    pub one_thread: f64,
    /// Bytes per second with `threads` threads each summing a slice (the best of the passes).
    pub all_threads: f64,
    pub threads: usize,
}

impl Bandwidth {
    /// The better of the two rates: what a scan can hope for on this machine.
    pub fn best(&self) -> f64 {
        self.one_thread.max(self.all_threads)
    }
}

/// Sums `elems` `i64` values (`8 * elems` bytes, touched first so they are resident) `passes`
/// times on one thread and on every available core; keeps the best pass of each.
pub fn measure_bandwidth(elems: usize, passes: usize) -> Bandwidth {
    let values: Vec<i64> = (0..elems as i64).collect();
    let expected: i64 = (elems as i64 - 1) * elems as i64 / 2;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let best = |f: &dyn Fn() -> i64| -> f64 {
        (0..passes.max(1))
            .map(|_| {
                let t = Instant::now();
                let sum = black_box(f());
                let secs = t.elapsed().as_secs_f64();
                assert_eq!(sum, expected, "the bandwidth loop summed wrong");
                secs
            })
            .fold(f64::INFINITY, f64::min)
    };
    let one = best(&|| black_box(&values[..]).iter().sum());
    let part = elems.div_ceil(threads).max(1);
    let all = best(&|| {
        std::thread::scope(|s| {
            let handles: Vec<_> =
                values.chunks(part).map(|slice| s.spawn(move || black_box(slice).iter().sum::<i64>())).collect();
            handles.into_iter().map(|h| h.join().expect("a summing thread panicked")).sum()
        })
    });
    let bytes = (elems * std::mem::size_of::<i64>()) as u64;
    Bandwidth { bytes, one_thread: bytes as f64 / one, all_threads: bytes as f64 / all, threads }
}

/// How many append + fdatasync rounds the disk under `dir` does in half a second: the ceiling
/// of one session's `full` commits, printed with durable benchmarks for context.
pub fn fdatasyncs_per_sec(dir: &std::path::Path) -> std::io::Result<f64> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < std::time::Duration::from_millis(500) {
        file.write_all(&[b'x'; 100])?;
        file.sync_data()?;
        n += 1;
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_status() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(parse_status(text), Some(Memory { rss: 1 << 20, peak: 2 << 20 }));
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    fn parses_cpu_ticks() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n";
        let own = "42 (heliosdb bench) S 1 2 3 4 5 6 7 8 9 10 7 3 20 10 0\n";
        let t = parse_ticks(stat, own).unwrap();
        assert_eq!((t.machine_busy, t.machine_total, t.ours), (150, 1000, 40));
        let later = CpuTicks { machine_busy: 350, machine_total: 1400, ours: 140 };
        // 200 busy ticks of 400, 100 of them ours: others used a quarter of 2 cores.
        assert_eq!(others_cores(Some(t), Some(later), 2), Some(0.5));
        assert_eq!(others_cores(None, Some(later), 2), None);
        if cfg!(target_os = "linux") {
            assert!(cpu_ticks().is_some());
        }
    }

    #[test]
    fn memory_and_bandwidth_measure_something() {
        if cfg!(target_os = "linux") {
            let mem = memory().unwrap();
            assert!(mem.rss > 0 && mem.peak >= mem.rss);
        }
        let bw = measure_bandwidth(1 << 16, 2);
        assert!(bw.one_thread > 0.0 && bw.all_threads > 0.0 && bw.bytes == 8 << 16);
        assert!(target_features().iter().all(|f| !f.is_empty()));
    }
}
