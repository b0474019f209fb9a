//! Secrets the local runtime keeps in its data directory: created once,
//! readable by their owner only, never logged.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(2 * n);
    while out.len() < 2 * n {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(2 * n);
    out
}

/// The content of `dir/name`, made with `make` (and written, mode 0600) if
/// the file does not exist yet. Two processes racing to make it agree on
/// the one that was written first.
pub fn read_or_create(dir: &Path, name: &str, make: impl Fn() -> String) -> anyhow::Result<String> {
    let path = dir.join(name);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(text.trim().to_owned());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut f) => {
            let value = make();
            f.write_all(value.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(value)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process made it: wait for its content.
            for _ in 0..50 {
                let text = std::fs::read_to_string(&path)?;
                if !text.trim().is_empty() {
                    return Ok(text.trim().to_owned());
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            anyhow::bail!("{} stayed empty", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}
