//! Writing an output file atomically: a temporary file `<out>.tmp.<pid>` in the same directory,
//! fsync, rename over `<out>`. A failure at any point leaves `<out>` as it was and removes the
//! temporary file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let guard = RemoveOnDrop(&tmp);
    let mut f = File::create(&tmp)
        .with_context(|| format!("{}: cannot create the temporary file {}", path.display(), tmp.display()))?;
    f.write_all(bytes).with_context(|| format!("{}: write failed", tmp.display()))?;
    f.sync_all().with_context(|| format!("{}: fsync failed", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("{}: cannot rename {} over it", path.display(), tmp.display()))?;
    std::mem::forget(guard);
    sync_dir(path);
    Ok(())
}

/// `<out>.tmp.<pid>`, next to `<out>` so the rename stays on one file system.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".tmp.{}", std::process::id()));
    PathBuf::from(name)
}

/// Makes the rename durable (best effort; not all platforms can open a directory).
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

struct RemoveOnDrop<'a>(&'a Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.pfm");
        write_atomic(&out, b"abc").unwrap();
        write_atomic(&out, b"defg").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"defg");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("missing-dir").join("m.pfm");
        assert!(write_atomic(&bad, b"x").is_err());
    }
}
