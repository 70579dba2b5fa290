//! Output files that are never left half-written.
//!
//! Every file fdbench produces is written to a temporary file in the destination's
//! folder, flushed to disk, and renamed over the destination only when complete. An
//! interrupted or failed run leaves either the previous complete file or none.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `path` atomically: `fill` writes the whole content to a temporary file in the
/// same folder, which is renamed over `path` only if `fill` succeeds. `-` writes to
/// standard output instead.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    if path.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        fill(&mut lock)?;
        return lock.flush();
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let prefix = format!(".{}.tmp", name.to_string_lossy());
    remove_stale(&dir, &prefix);
    let tmp = dir.join(format!("{prefix}{}", std::process::id()));
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes the temporaries `{prefix}{pid}` in `dir` left by processes that no longer run
/// (a run killed while writing). Only where `/proc` tells which processes run.
fn remove_stale(dir: &Path, prefix: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes bytes to `path` atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_previous_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_bytes(&p, b"good\n").unwrap();
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"good\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_temporary_left_by_a_dead_process_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let dead = dir.path().join(format!(".out.csv.tmp{}", u32::MAX));
        let other = dir.path().join(".other.csv.tmp1");
        fs::write(&dead, b"half").unwrap();
        fs::write(&other, b"half").unwrap();
        write_bytes(&p, b"new\n").unwrap();
        assert!(!dead.exists());
        assert!(other.exists());
        assert_eq!(fs::read(&p).unwrap(), b"new\n");
    }

    #[test]
    fn an_unwritable_folder_is_an_error() {
        let r = write_bytes(Path::new("/nonexistent-dir/x.csv"), b"x");
        assert!(r.is_err());
    }
}
