//! Outputs that never destroy what a user already has.
//!
//! Every file and folder fdbench writes goes through this module:
//!
//! - `-` is standard output.
//! - A character device or a FIFO (`/dev/null`, a named pipe) is written in place: it is
//!   never replaced by a regular file.
//! - A symlink is followed; its target is replaced as below.
//! - A regular file (or a new name) is written to a temporary in the same folder, created
//!   exclusively (`O_EXCL`), fsynced, renamed over the destination, and the folder is
//!   fsynced. An interrupted run leaves the previous file or the new one, never a mix.
//! - A folder output ([`StagedDir`]) is built complete under a temporary name next to
//!   its destination and swapped in (one `renameat2(RENAME_EXCHANGE)` on Linux). An
//!   existing folder is replaced only when it is one fdbench made ([`FolderKind`]);
//!   anything else is refused.
//! - [`check_not_input`] refuses an output that is the same file as an input (device and
//!   inode, not names), or a folder holding one, before any work starts.
//!
//! Temporary names are `.NAME.tmp-` followed by 64 random bits, so writers in different
//! PID namespaces or on different hosts sharing a volume never collide. A writer holds
//! an exclusive `flock` on its temporary for as long as it lives; a later run removes a
//! temporary whose lock it can take (its writer is dead), and never a live writer's.
//! Where the file system has no locks, only temporaries older than a day are removed.
//!
//! # Fault injection
//!
//! Every step that changes the file system here (a buffer written, an fsync, a rename, a
//! folder created or removed) is counted. With `FDBENCH_FAULT_KILL_AT=N` in the
//! environment, the process kills itself with SIGKILL just before step `N`; with
//! `FDBENCH_FAULT_ENOSPC_AT=N`, step `N` fails as on a full disk. With
//! `FDBENCH_FAULT_COUNT=1`, the number of steps is printed to stderr at exit
//! ([`fault_steps`]). The fault-injection suite (`tests/it/faults.rs`) uses these to stop
//! a run at every step of its output, deterministically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The fault to inject at a given step, read once from the environment.
#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    kill_at: Option<u64>,
    enospc_at: Option<u64>,
}

fn faults() -> Faults {
    static F: std::sync::OnceLock<Faults> = std::sync::OnceLock::new();
    *F.get_or_init(|| {
        let at = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        Faults {
            kill_at: at("FDBENCH_FAULT_KILL_AT"),
            enospc_at: at("FDBENCH_FAULT_ENOSPC_AT"),
        }
    })
}

static STEPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of output steps taken so far by this process (see the module docs).
pub fn fault_steps() -> u64 {
    STEPS.load(std::sync::atomic::Ordering::SeqCst)
}

/// Counts one step that changes the file system, injecting the configured fault.
fn step() -> io::Result<()> {
    let n = STEPS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let f = faults();
    if f.kill_at == Some(n) {
        // SAFETY: sending a signal to this very process.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
    if f.enospc_at == Some(n) {
        return Err(io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// A writer that counts every write as a step.
struct Counted<W>(W);

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        step()?;
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A temporary whose lock cannot be tested is removed only when older than this.
const STALE_AGE: Duration = Duration::from_secs(24 * 3600);

/// Why an output was refused before any work was done.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output is one of the inputs.
    #[error(
        "{output}: is the same file as the input {input}; writing it would destroy the input, so write the output to another path"
    )]
    SameAsInput {
        /// The output as given.
        output: PathBuf,
        /// The input as given.
        input: PathBuf,
    },
    /// The output folder holds an input.
    #[error(
        "{output}: holds the input {input}, which replacing the folder would delete; give another output folder or move the input out"
    )]
    HoldsInput {
        /// The output folder as given.
        output: PathBuf,
        /// The input as given.
        input: PathBuf,
    },
    /// An existing folder that fdbench did not make.
    #[error(
        "{path}: exists and is not an fdbench {what} ({why}); fdbench replaces only its own {what}s, so give a new folder name or remove this one yourself"
    )]
    NotOurs {
        /// The folder.
        path: PathBuf,
        /// What fdbench would write there (`report`, `figure folder`).
        what: &'static str,
        /// What is missing or extra.
        why: String,
    },
    /// A file where a folder is wanted.
    #[error("{path}: exists and is not a folder; give the name of a new folder (fdbench will not replace this file)")]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// A folder where a file is wanted.
    #[error("{path}: is a folder; give a file name")]
    IsAFolder {
        /// The path.
        path: PathBuf,
    },
    /// A mount point (or `/`), which no rename can replace.
    #[error("{path}: is a mount point, which cannot be replaced; give a new folder inside it, e.g. {path}/report")]
    MountPoint {
        /// The path.
        path: PathBuf,
    },
    /// A block device or a socket.
    #[error("{path}: is a {kind}; fdbench writes regular files, character devices and pipes only")]
    Special {
        /// The path.
        path: PathBuf,
        /// `block device` or `socket`.
        kind: &'static str,
    },
    /// The file system failed.
    #[error("{path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    /// Whether the output was refused because of what the command line names (a usage
    /// error), rather than because the file system failed.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, OutputError::Io { .. })
    }
}

impl From<OutputError> for io::Error {
    fn from(e: OutputError) -> io::Error {
        match e {
            OutputError::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidInput, other),
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `path` safely (see the module docs): `fill` writes the whole content, which
/// replaces a regular file only if `fill` succeeds. `-` writes to standard output; a
/// character device or FIFO is written in place.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    if path.as_os_str() == "-" {
        let stdout = io::stdout();
        let mut lock = stdout.lock();
        fill(&mut lock)?;
        return lock.flush();
    }
    let target = follow_symlinks(path)?;
    match fs::metadata(&target) {
        Ok(m) if m.file_type().is_char_device() || m.file_type().is_fifo() => {
            let file = OpenOptions::new().write(true).open(&target)?;
            let mut w = io::BufWriter::new(file);
            fill(&mut w)?;
            return w.flush();
        }
        Ok(m) if m.is_dir() => {
            return Err(OutputError::IsAFolder {
                path: path.to_path_buf(),
            }
            .into());
        }
        Ok(m) if m.file_type().is_block_device() => {
            return Err(OutputError::Special {
                path: path.to_path_buf(),
                kind: "block device",
            }
            .into());
        }
        Ok(m) if m.file_type().is_socket() => {
            return Err(OutputError::Special {
                path: path.to_path_buf(),
                kind: "socket",
            }
            .into());
        }
        _ => {}
    }
    let (dir, name) = split(&target)?;
    remove_stale(&dir, &name);
    let (tmp, file) = create_temp_file(&dir, &name)?;
    let result = (|| {
        let mut w = io::BufWriter::with_capacity(1 << 16, Counted(&file));
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        step()?;
        file.sync_all()?;
        step()?;
        fs::rename(&tmp, &target)?;
        // The file is in place; the folder's fsync only hastens its durability.
        let _ = sync_dir(&dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes bytes to `path` safely (see [`write_atomic`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

/// Follows a chain of symlinks (at most 40) to the path it ends at, which may not exist.
fn follow_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = fs::read_link(&p)?;
                p = if to.is_absolute() {
                    to
                } else {
                    p.parent().unwrap_or(Path::new("")).join(to)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// The folder and file name of a destination.
fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string_lossy().into_owned()))
}

/// 64 random bits from the operating system, in hex.
fn random_suffix() -> String {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is a valid writable buffer of the length passed.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != buf.len() as isize {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        buf = (nanos ^ (u64::from(std::process::id()) << 32)).to_le_bytes();
    }
    format!("{:016x}", u64::from_le_bytes(buf))
}

/// The prefix of every temporary of the destination `name`.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Takes an exclusive lock on `file` without waiting: `Ok(true)` if taken, `Ok(false)` if
/// another process holds it, an error if the file system has no locks.
fn try_lock(file: &File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Whether `file` is still the one at `path` (a cleaner may have removed it between its
/// creation and our lock).
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Creates a locked temporary file for `name` in `dir`.
fn create_temp_file(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!("{}{}", temp_prefix(name), random_suffix()));
        step()?;
        let file = match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                last = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        // Without locks (some network file systems) the file is protected by its age.
        let _ = try_lock(&file);
        if still_at(&file, &tmp) {
            return Ok((tmp, file));
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no unique temporary name could be created")))
}

/// Fsyncs a folder, so that a rename in it survives a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes the temporaries of `name` in `dir` whose writers are provably gone: their
/// lock can be taken, or (where locks are unsupported) they are older than a day.
fn remove_stale(dir: &Path, name: &str) {
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name();
        if !file_name.to_str().is_some_and(|n| n.starts_with(&prefix)) {
            continue;
        }
        let path = e.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() && !meta.is_dir() {
            continue;
        }
        let Ok(handle) = File::open(&path) else {
            continue;
        };
        let dead = match try_lock(&handle) {
            Ok(taken) => taken,
            Err(_) => meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > STALE_AGE),
        };
        if dead && still_at(&handle, &path) {
            let _ = if meta.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

/// Refuses an output that is the same file as one of `inputs` (compared by device and
/// inode, after symlinks), or a folder that holds one of them. `-`, character devices,
/// FIFOs and outputs that do not exist yet pass.
pub fn check_not_input(output: &Path, inputs: &[&Path]) -> Result<(), OutputError> {
    if output.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(out) = fs::metadata(output) else {
        return Ok(());
    };
    if out.file_type().is_char_device() || out.file_type().is_fifo() {
        return Ok(());
    }
    let out_dir = if out.is_dir() {
        fs::canonicalize(output).ok()
    } else {
        None
    };
    for &input in inputs {
        if input.as_os_str() == "-" {
            continue;
        }
        let Ok(m) = fs::metadata(input) else {
            continue;
        };
        if m.dev() == out.dev() && m.ino() == out.ino() {
            return Err(OutputError::SameAsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
        if let (Some(dir), Ok(inp)) = (&out_dir, fs::canonicalize(input))
            && inp.starts_with(dir)
        {
            return Err(OutputError::HoldsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Whether two paths name the same existing file (device and inode, after symlinks).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// A kind of folder fdbench makes, and how to recognise one it made.
#[derive(Clone, Copy, Debug)]
pub struct FolderKind {
    /// What the folder is, e.g. `report`.
    pub what: &'static str,
    /// `Ok(())` when the existing folder is one of this kind; otherwise what is wrong
    /// with it (e.g. `no manifest.json in it`).
    pub recognise: fn(&Path) -> Result<(), String>,
}

/// Checks that the folder output `dest` may be written: it does not exist, or it is an
/// empty folder or one of `kind`, and not a mount point. Returns the absolute path it
/// stands for (symlinks followed, `.` and `..` resolved).
pub fn check_folder(dest: &Path, kind: FolderKind) -> Result<PathBuf, OutputError> {
    let resolved = resolve_folder(dest)?;
    match fs::metadata(&resolved) {
        Ok(m) if m.is_dir() => {
            let empty = fs::read_dir(&resolved).map_err(io_at(dest))?.next().is_none();
            if !empty {
                (kind.recognise)(&resolved).map_err(|why| OutputError::NotOurs {
                    path: dest.to_path_buf(),
                    what: kind.what,
                    why,
                })?;
            }
            let parent_dev = resolved.parent().and_then(|p| fs::metadata(p).ok()).map(|p| p.dev());
            if parent_dev != Some(m.dev()) {
                return Err(OutputError::MountPoint {
                    path: dest.to_path_buf(),
                });
            }
        }
        Ok(_) => {
            return Err(OutputError::NotAFolder {
                path: dest.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(OutputError::Io {
                path: dest.to_path_buf(),
                source: e,
            });
        }
    }
    Ok(resolved)
}

/// A folder output being built: a locked staging folder next to its destination,
/// swapped into place by [`StagedDir::commit`]. Dropped uncommitted, it is removed.
#[derive(Debug)]
pub struct StagedDir {
    dest: PathBuf,
    staging: PathBuf,
    lock: Option<File>,
}

impl StagedDir {
    /// Checks that `dest` may be written (absent, or an existing folder of `kind`, not a
    /// mount point), removes stale staging folders of dead runs, and creates the staging
    /// folder.
    pub fn new(dest: &Path, kind: FolderKind) -> Result<StagedDir, OutputError> {
        let resolved = check_folder(dest, kind)?;
        let (parent, name) = split(&resolved).map_err(io_at(dest))?;
        fs::create_dir_all(&parent).map_err(io_at(&parent))?;
        remove_stale(&parent, &name);
        let mut last = None;
        for _ in 0..16 {
            let staging = parent.join(format!("{}{}", temp_prefix(&name), random_suffix()));
            step().map_err(io_at(&staging))?;
            match fs::create_dir(&staging) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    last = Some(e);
                    continue;
                }
                Err(e) => {
                    return Err(OutputError::Io {
                        path: staging,
                        source: e,
                    });
                }
            }
            let lock = File::open(&staging).map_err(io_at(&staging))?;
            let _ = try_lock(&lock);
            if still_at(&lock, &staging) {
                return Ok(StagedDir {
                    dest: resolved,
                    staging,
                    lock: Some(lock),
                });
            }
        }
        Err(OutputError::Io {
            path: dest.to_path_buf(),
            source: last.unwrap_or_else(|| io::Error::other("no unique staging name could be created")),
        })
    }

    /// The staging folder to write into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Carries over every file of the existing destination that the staging folder does
    /// not have, as a hard link (no copy; the destination is unchanged until
    /// [`StagedDir::commit`]).
    pub fn keep_from_dest(&self) -> io::Result<()> {
        self.keep_from_dest_except(&[])
    }

    /// [`keep_from_dest`](StagedDir::keep_from_dest) but for the files named in
    /// `dropped`, which the new folder leaves out (a file that belongs to a figure drawn
    /// again without it).
    pub fn keep_from_dest_except(&self, dropped: &[&str]) -> io::Result<()> {
        let Ok(entries) = fs::read_dir(&self.dest) else {
            return Ok(());
        };
        for e in entries {
            let e = e?;
            let to = self.staging.join(e.file_name());
            let gone = dropped.iter().any(|d| e.file_name() == std::ffi::OsStr::new(d));
            if e.file_type()?.is_file() && !gone && fs::symlink_metadata(&to).is_err() {
                step()?;
                fs::hard_link(e.path(), &to)?;
            }
        }
        Ok(())
    }

    /// Fsyncs the staging folder's files and swaps it into place. An existing folder at
    /// the destination is exchanged with it in one step where the system allows it
    /// (Linux `renameat2`), then removed.
    pub fn commit(mut self) -> io::Result<()> {
        for e in fs::read_dir(&self.staging)? {
            let e = e?;
            if e.file_type()?.is_file() {
                File::open(e.path())?.sync_all()?;
            }
        }
        step()?;
        sync_dir(&self.staging)?;
        let parent = self.dest.parent().unwrap_or(Path::new("/")).to_path_buf();
        step()?;
        if fs::symlink_metadata(&self.dest).is_err() {
            fs::rename(&self.staging, &self.dest)?;
        } else if exchange(&self.staging, &self.dest).is_ok() {
            // The new folder is in place and the staging name holds the previous one: a
            // failure to remove it leaves garbage that the next run removes, not an error.
            let _ = step().and_then(|()| sync_dir(&parent));
            let _ = step().and_then(|()| fs::remove_dir_all(&self.staging));
        } else {
            let old = parent.join(format!(
                ".{}.old-{}",
                self.dest.file_name().unwrap_or_default().to_string_lossy(),
                random_suffix()
            ));
            fs::rename(&self.dest, &old)?;
            fs::rename(&self.staging, &self.dest)?;
            sync_dir(&parent)?;
            fs::remove_dir_all(&old)?;
        }
        self.lock = None;
        let _ = sync_dir(&parent);
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if self.lock.is_some() {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// The absolute path a folder output stands for: symlinks followed, `.` and `..`
/// resolved where the path exists.
fn resolve_folder(dest: &Path) -> Result<PathBuf, OutputError> {
    if let Ok(p) = fs::canonicalize(dest) {
        if p.parent().is_none() {
            return Err(OutputError::MountPoint {
                path: dest.to_path_buf(),
            });
        }
        return Ok(p);
    }
    let target = follow_symlinks(dest).map_err(io_at(dest))?;
    let (parent, name) = split(&target).map_err(io_at(dest))?;
    if name == ".." || name == "." {
        return Err(OutputError::Io {
            path: dest.to_path_buf(),
            source: io::Error::from(io::ErrorKind::NotFound),
        });
    }
    let parent = match fs::canonicalize(&parent) {
        Ok(p) => p,
        Err(_) if parent.is_absolute() => parent,
        Err(_) => std::env::current_dir().map_err(io_at(dest))?.join(parent),
    };
    Ok(parent.join(name))
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

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
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn a_dead_writers_temporary_is_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        let dead = dir.path().join(".out.csv.tmp-00000000000000aa");
        let live = dir.path().join(".out.csv.tmp-00000000000000bb");
        let other = dir.path().join(".other.csv.tmp-00000000000000cc");
        fs::write(&dead, b"half").unwrap();
        fs::write(&live, b"half").unwrap();
        fs::write(&other, b"half").unwrap();
        let holder = File::open(&live).unwrap();
        assert!(try_lock(&holder).unwrap());
        // A separate open file description: the lock is held by "another writer".
        write_bytes(&p, b"new\n").unwrap();
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists());
        assert_eq!(fs::read(&p).unwrap(), b"new\n");
        drop(holder);
        write_bytes(&p, b"newer\n").unwrap();
        assert!(!live.exists());
    }

    #[test]
    fn a_symlink_is_followed_and_its_target_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.csv");
        let link = dir.path().join("link.csv");
        fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_bytes(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_character_device_is_written_in_place() {
        write_bytes(Path::new("/dev/null"), b"discarded").unwrap();
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[test]
    fn a_folder_is_not_a_file_output() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_bytes(dir.path(), b"x").unwrap_err();
        assert!(e.to_string().ends_with("is a folder; give a file name"), "{e}");
    }

    #[test]
    fn an_input_is_never_an_output() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.csv");
        fs::write(&t, b"x").unwrap();
        let link = dir.path().join("l.csv");
        std::os::unix::fs::symlink(&t, &link).unwrap();
        let other = dir.path().join("o.csv");
        assert!(matches!(
            check_not_input(&link, &[&t]),
            Err(OutputError::SameAsInput { .. })
        ));
        assert!(matches!(
            check_not_input(dir.path(), &[&t]),
            Err(OutputError::HoldsInput { .. })
        ));
        assert!(check_not_input(&other, &[&t]).is_ok());
        fs::write(&other, b"y").unwrap();
        assert!(check_not_input(&other, &[&t]).is_ok());
        assert!(check_not_input(Path::new("-"), &[&t]).is_ok());
    }

    fn with_marker(p: &Path) -> Result<(), String> {
        if p.join("marker").is_file() {
            Ok(())
        } else {
            Err("no marker in it".into())
        }
    }

    const KIND: FolderKind = FolderKind {
        what: "test folder",
        recognise: with_marker,
    };

    #[test]
    fn a_staged_folder_replaces_one_of_its_kind_only() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let s = StagedDir::new(&dest, KIND).unwrap();
        fs::write(s.path().join("marker"), b"1").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read(dest.join("marker")).unwrap(), b"1");
        let s = StagedDir::new(&dest, KIND).unwrap();
        fs::write(s.path().join("marker"), b"2").unwrap();
        s.commit().unwrap();
        assert_eq!(fs::read(dest.join("marker")).unwrap(), b"2");
        assert_eq!(names(dir.path()), ["out"]);

        let foreign = dir.path().join("thesis");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("thesis.tex"), b"x").unwrap();
        let e = StagedDir::new(&foreign, KIND).unwrap_err();
        assert!(e.is_refusal());
        assert_eq!(
            e.to_string(),
            format!(
                "{}: exists and is not an fdbench test folder (no marker in it); fdbench replaces only its own test folders, so give a new folder name or remove this one yourself",
                foreign.display()
            )
        );
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        assert!(matches!(
            StagedDir::new(&file, KIND),
            Err(OutputError::NotAFolder { .. })
        ));
        assert_eq!(fs::read(foreign.join("thesis.tex")).unwrap(), b"x");
        assert_eq!(fs::read(&file).unwrap(), b"x");
        assert_eq!(names(dir.path()), ["f", "out", "thesis"]);
    }

    #[test]
    fn a_dropped_staging_folder_is_removed_and_a_dead_ones_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out");
        let s = StagedDir::new(&dest, KIND).unwrap();
        fs::write(s.path().join("x"), b"1").unwrap();
        drop(s);
        assert!(names(dir.path()).is_empty());
        let dead = dir.path().join(".out.tmp-0000000000000001");
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("half"), b"1").unwrap();
        let s = StagedDir::new(&dest, KIND).unwrap();
        assert!(!dead.exists());
        drop(s);
    }

    #[test]
    fn the_root_is_refused() {
        assert!(matches!(
            StagedDir::new(Path::new("/"), KIND),
            Err(OutputError::MountPoint { .. })
        ));
    }

    #[test]
    fn an_unwritable_folder_is_an_error() {
        let r = write_bytes(Path::new("/nonexistent-dir/x.csv"), b"x");
        assert!(r.is_err());
    }
}
