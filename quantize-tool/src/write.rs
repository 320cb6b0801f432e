//! Writing output files so that a user's file is never lost or half-written.
//!
//! [`check_outputs`] runs before anything is read or written: it resolves every output path
//! (canonical parent directory, which must exist, plus the file name) and refuses one that equals
//! or sits inside an input, or equals another output.
//!
//! [`Outputs`] writes each output to a temporary file `<name>.tmp.<pid>.<random>` in the
//! destination directory (fsync), and [`Outputs::commit`] renames them all into place only once
//! every one was written. A failure before the commit (or a dropped [`Outputs`]) removes the
//! temporaries and leaves every existing output as it was; a process killed at any point leaves
//! each output either as it was or complete (at worst a temporary file stays behind). The next run
//! that writes the same output removes such a left-over temporary once its process is gone (on
//! Linux, where `/proc` tells; elsewhere they are left alone).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tempfile::{Builder, NamedTempFile};

/// Writes `bytes` to `path` atomically (one [`Outputs`] of one file).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut out = Outputs::new();
    out.stage(path, bytes)?;
    out.commit()
}

/// Resolves each output `(flag, path)` as [`resolve_output`] does and refuses any that equals or
/// sits inside an input `(noun, path)` (e.g. `("input directory", dir)`), or equals an earlier
/// output. Inputs that do not exist are skipped (reading them fails later, before any write).
/// Returns the resolved outputs in order: write to these, so that what was checked is what is
/// written (an existing symlink is followed).
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<Vec<PathBuf>> {
    let mut resolved: Vec<PathBuf> = Vec::with_capacity(outputs.len());
    for &(flag, path) in outputs {
        let out = resolve_output(flag, path)?;
        for &(noun, input) in inputs {
            let Ok(canon) = std::fs::canonicalize(input) else { continue };
            if out == canon {
                bail!(
                    "{flag} {} is the {noun} {}: refusing to overwrite an input",
                    path.display(),
                    input.display()
                );
            }
            if out.starts_with(&canon) {
                bail!(
                    "{flag} {} is inside the {noun} {}: refusing to overwrite an input",
                    path.display(),
                    input.display()
                );
            }
        }
        if let Some(i) = resolved.iter().position(|r| *r == out) {
            let (other, other_path) = outputs[i];
            bail!(
                "{flag} {} is the same file as {other} {}: refusing to write two outputs to one file",
                path.display(),
                other_path.display()
            );
        }
        resolved.push(out);
    }
    Ok(resolved)
}

/// Where output `path` (given with `flag`) lands: the canonical path of an existing file (symlinks
/// and `..` resolved), else the canonical parent directory joined with the file name. Errors (naming
/// the flag) when the parent directory is missing, or the path is a directory or another
/// non-regular file (a device, a FIFO).
pub fn resolve_output(flag: &str, path: &Path) -> Result<PathBuf> {
    let shown = path.display();
    if path.as_os_str().as_encoded_bytes().last().is_some_and(|&b| std::path::is_separator(b as char)) {
        bail!("{flag} {shown} is a directory path: give a file name");
    }
    if let Ok(canon) = std::fs::canonicalize(path) {
        if canon.is_dir() {
            bail!("{flag} {shown} is a directory: give a file name");
        }
        if !canon.is_file() {
            // a device or FIFO (`/dev/null`): the rename would replace it, not write into it
            bail!("{flag} {shown} is not a regular file: refusing to replace it");
        }
        return Ok(canon);
    }
    // not there (or a dangling symlink, which the rename replaces): canonical parent + name
    let Some(name) = path.file_name() else {
        bail!("{flag} {shown} does not name a file");
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = match std::fs::canonicalize(parent) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{flag} {shown}: the directory {} does not exist", parent.display())
        }
        Err(e) => bail!("{flag} {shown}: cannot open the directory {}: {e}", parent.display()),
    };
    if !dir.is_dir() {
        bail!("{flag} {shown}: {} is not a directory", parent.display());
    }
    Ok(dir.join(name))
}

/// Outputs written together: [`stage`](Outputs::stage) each (a synced temporary file next to its
/// target), then [`commit`](Outputs::commit) all. Dropping it uncommitted removes the temporaries.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<(PathBuf, NamedTempFile)>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Writes `bytes` to a new temporary file in `path`'s directory and syncs it; `path` itself is
    /// not touched until [`commit`](Outputs::commit). Temporaries of `path` left by killed runs are
    /// removed first.
    pub fn stage(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let dir = parent_dir(path);
        remove_stale_temps(path);
        let mut tmp = temp_builder(&temp_prefix(path)).tempfile_in(dir).with_context(|| {
            format!("{}: cannot create a temporary file in {}", path.display(), dir.display())
        })?;
        let shown = tmp.path().display().to_string();
        tmp.write_all(bytes).with_context(|| format!("{shown}: write failed"))?;
        tmp.as_file().sync_all().with_context(|| format!("{shown}: fsync failed"))?;
        self.staged.push((path.to_path_buf(), tmp));
        Ok(())
    }

    /// Renames every staged file over its target, in staging order, then syncs the directories.
    /// Each rename is atomic; should one fail, the targets already replaced are put back (from a
    /// hard link taken before the renames; one that did not exist is removed) and the remaining
    /// temporaries are removed.
    pub fn commit(self) -> Result<()> {
        let n = self.staged.len();
        // a hard link to each existing target but the last, to undo its rename if a later one fails
        let mut backups: Vec<Backup> = Vec::with_capacity(n);
        for (i, (target, _)) in self.staged.iter().enumerate() {
            backups.push(match i + 1 < n && std::fs::symlink_metadata(target).is_ok() {
                true => temp_builder(&temp_prefix(target))
                    .make_in(parent_dir(target), |p| std::fs::hard_link(target, p))
                    .map_or(Backup::Unavailable, Backup::Link),
                false => Backup::Absent,
            });
        }
        let mut done: Vec<(PathBuf, Backup)> = Vec::with_capacity(n);
        for ((target, tmp), backup) in self.staged.into_iter().zip(backups) {
            if let Err(e) = tmp.persist(&target) {
                let rename_err = format!(
                    "{}: cannot rename {} over it: {}",
                    target.display(),
                    e.file.path().display(),
                    e.error
                );
                drop(e); // removes the temporary
                let not_restored = roll_back(done);
                if not_restored.is_empty() {
                    bail!("{rename_err} (no output was changed)");
                }
                let list: Vec<String> = not_restored.iter().map(|p| p.display().to_string()).collect();
                bail!("{rename_err}; already replaced and not restored: {}", list.join(", "));
            }
            done.push((target, backup));
        }
        let mut synced: Vec<&Path> = Vec::new();
        for (target, _) in &done {
            let dir = parent_dir(target);
            if !synced.contains(&dir) {
                sync_dir(dir);
                synced.push(dir);
            }
        }
        Ok(()) // `done` drops here: the backups' links are removed
    }
}

/// What undoes the rename of one committed output.
enum Backup {
    /// A hard link to the previous file (removed on drop).
    Link(NamedTempFile<()>),
    /// There was no previous file: remove the new one.
    Absent,
    /// There was a previous file, but it could not be linked (file system without hard links).
    Unavailable,
}

/// Undoes committed renames, newest first; returns the targets it could not restore.
fn roll_back(done: Vec<(PathBuf, Backup)>) -> Vec<PathBuf> {
    let mut failed = Vec::new();
    for (target, backup) in done.into_iter().rev() {
        let ok = match backup {
            Backup::Link(link) => link.persist(&target).is_ok(),
            Backup::Absent => std::fs::remove_file(&target).is_ok(),
            Backup::Unavailable => false,
        };
        if !ok {
            failed.push(target);
        }
    }
    failed
}

/// `<name>.tmp.<pid>.`: temporary files next to `target` are `<name>.tmp.<pid>.<random>`, `pid`
/// being this process's id.
fn temp_prefix(target: &Path) -> OsString {
    let mut prefix = target.file_name().unwrap_or_default().to_owned();
    prefix.push(format!(".tmp.{}.", std::process::id()));
    prefix
}

/// The id of the process that made the temporary file `name` of `target` (`<name>.tmp.<pid>.<random>`);
/// `None` for any other name.
fn temp_owner(target: &Path, name: &OsStr) -> Option<u32> {
    let mut prefix = target.file_name()?.to_owned();
    prefix.push(".tmp.");
    let rest = name.as_encoded_bytes().strip_prefix(prefix.as_encoded_bytes())?;
    let dot = rest.iter().position(|&b| b == b'.')?;
    let (pid, random) = (&rest[..dot], &rest[dot + 1..]);
    if pid.is_empty() || !pid.iter().all(u8::is_ascii_digit) || random.is_empty() || random.contains(&b'.') {
        return None;
    }
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// Whether process `pid` is gone, where that can be told (Linux: no `/proc/<pid>` while `/proc`
/// is mounted); `false` elsewhere.
fn process_gone(pid: u32) -> bool {
    if !cfg!(target_os = "linux") || !Path::new("/proc/self").exists() {
        return false;
    }
    matches!(std::fs::symlink_metadata(format!("/proc/{pid}")), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// Removes the temporary files of `target` left by runs that were killed before they could remove
/// them (regular files named `<name>.tmp.<pid>.<random>` whose process is gone), saying so on
/// stderr. Best effort: a directory or file that cannot be read or removed is left as it is.
fn remove_stale_temps(target: &Path) {
    let dir = parent_dir(target);
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Some(pid) = temp_owner(target, &e.file_name()) else { continue };
        if pid == std::process::id() || !e.file_type().is_ok_and(|t| t.is_file()) || !process_gone(pid) {
            continue;
        }
        let path = e.path();
        if std::fs::remove_file(&path).is_ok() {
            let shown = path.display().to_string();
            eprintln!("removed stale temporary file {} from an interrupted run", crate::escape::line(&shown));
        }
    }
}

/// Temporary files named `<prefix><random>` (unique, created exclusively), with the permissions a
/// plain `File::create` gives (0666 less the umask; the crate's default is 0600).
fn temp_builder(prefix: &OsStr) -> Builder<'_, 'static> {
    let mut b = Builder::new();
    b.prefix(prefix).rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Makes the renames durable (best effort; not all platforms can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.pfm");
        write_atomic(&out, b"abc").unwrap();
        write_atomic(&out, b"defg").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"defg");
        assert_eq!(names(dir.path()), ["m.pfm"]);
        let bad = dir.path().join("missing-dir").join("m.pfm");
        assert!(write_atomic(&bad, b"x").is_err());
    }

    #[test]
    fn dropped_outputs_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::fs::write(&a, b"old").unwrap();
        let mut out = Outputs::new();
        out.stage(&a, b"new").unwrap();
        out.stage(&dir.path().join("b"), b"new").unwrap();
        assert_eq!(names(dir.path()).len(), 3, "{:?}", names(dir.path()));
        assert!(out.stage(&dir.path().join("missing").join("c"), b"x").is_err());
        drop(out);
        assert_eq!(names(dir.path()), ["a"]);
        assert_eq!(std::fs::read(&a).unwrap(), b"old");
    }

    /// The second rename fails (its target is a non-empty directory): the first is undone.
    #[test]
    fn failed_commit_restores_earlier_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&a, b"old a").unwrap();
        std::fs::create_dir(&c).unwrap();
        std::fs::write(c.join("x"), b"x").unwrap();
        let mut out = Outputs::new();
        out.stage(&a, b"new a").unwrap();
        out.stage(&b, b"new b").unwrap();
        out.stage(&c, b"new c").unwrap();
        let err = out.commit().unwrap_err().to_string();
        assert!(err.contains("no output was changed"), "{err}");
        assert_eq!(names(dir.path()), ["a", "c"]);
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
    }

    #[test]
    fn temp_names_carry_the_process_id() {
        let t = Path::new("/x/m.pfm");
        let name = |s: &str| temp_owner(t, OsStr::new(s));
        assert_eq!(name("m.pfm.tmp.123.AbC9zz"), Some(123));
        assert_eq!(name(temp_prefix(t).to_str().unwrap()), None);
        assert_eq!(name(&format!("{}Xy12ab", temp_prefix(t).to_str().unwrap())), Some(std::process::id()));
        for other in
            ["m.pfm.tmp.AbC9zz", "m.pfm.tmp..x", "m.pfm.tmp.12.", "m.pfm.tmp.1a.x", "n.pfm.tmp.1.x", "m.pfm"]
        {
            assert_eq!(name(other), None, "{other}");
        }
        assert_eq!(name("m.pfm.tmp.1.x.y"), None);
    }

    /// A temporary of a process that is gone is removed by the next write of the same output; one
    /// of a live process, one of another output and one in the old `<name>.tmp.<random>` form stay.
    #[cfg(target_os = "linux")]
    #[test]
    fn stale_temps_of_the_same_output_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = format!("m.pfm.tmp.{dead}.abcdef");
        let kept = [
            format!("m.pfm.tmp.{}.abcdef", std::process::id()),
            format!("other.pfm.tmp.{dead}.abcdef"),
            "m.pfm.tmp.abcdef".to_string(),
        ];
        for n in kept.iter().chain([&stale]) {
            std::fs::write(dir.path().join(n), b"partial").unwrap();
        }
        write_atomic(&dir.path().join("m.pfm"), b"new").unwrap();
        let mut want: Vec<String> = kept.to_vec();
        want.push("m.pfm".into());
        want.sort();
        assert_eq!(names(dir.path()), want);
    }

    #[test]
    fn refuses_outputs_over_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("hf");
        std::fs::create_dir(&input).unwrap();
        std::fs::write(input.join("model.safetensors"), b"w").unwrap();
        let corpus = dir.path().join("corpus.txt");
        std::fs::write(&corpus, b"text").unwrap();
        let inputs = [("input directory", input.as_path()), ("--prune-vocab corpus", corpus.as_path())];
        let check = |out: &Path| check_outputs(&[("-o", out)], &inputs).map_err(|e| e.to_string());
        let inside = check(&input.join("model.safetensors")).unwrap_err();
        assert!(inside.contains("is inside the input directory"), "{inside}");
        assert!(check(&input.join("new.pfm")).is_err());
        assert!(check(&input.join("..").join("hf").join("config.json")).is_err());
        assert!(check(&input).is_err());
        assert!(check(&corpus).unwrap_err().contains("is the --prune-vocab corpus"));
        let ok = dir.path().join("m.pfm");
        assert_eq!(check(&ok).unwrap(), [std::fs::canonicalize(dir.path()).unwrap().join("m.pfm")]);
        let missing = check(&dir.path().join("nope").join("m.pfm")).unwrap_err();
        assert!(missing.contains("-o") && missing.contains("does not exist"), "{missing}");
        let twice =
            check_outputs(&[("-o", ok.as_path()), ("--vocab-out", ok.as_path())], &inputs).unwrap_err();
        assert!(twice.to_string().contains("--vocab-out"), "{twice}");
        #[cfg(unix)]
        assert!(check(Path::new("/dev/null")).unwrap_err().contains("not a regular file"));
    }
}
