//! Flink's names for what it writes on storage, each rule in one place:
//! job ids, `chk-<n>` directories, savepoint directories. No I/O, no
//! imports: the layout scan, the classifier, summaries and the profile all
//! use these.

/// Whether `s` is a Flink JobID as a directory name: 32 hex digits.
pub fn is_job_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The checkpoint id of a `chk-<n>` directory name: `n` is one or more
/// ASCII digits that fit a `u64` (no sign, no spaces).
pub fn checkpoint_id(name: &str) -> Option<u64> {
    let n = name.strip_prefix("chk-")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The file `flink-chk replicate` writes into each replica snapshot
/// directory: which source snapshot it is a version of.
pub const REPLICA_IDENTITY: &str = "_flink-chk-replica.json";

/// Whether `name` is a savepoint directory name (`savepoint-<job6>-<random>`).
pub fn is_savepoint_dir(name: &str) -> bool {
    name.starts_with("savepoint-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_job_id("a2d4a4a0c5cd1ee1f1ba2fd1f5e9c2ab"));
        assert!(is_job_id("A2D4A4A0C5CD1EE1F1BA2FD1F5E9C2AB"));
        assert!(!is_job_id("a2d4a4a0c5cd1ee1f1ba2fd1f5e9c2a"));
        assert!(!is_job_id("g2d4a4a0c5cd1ee1f1ba2fd1f5e9c2ab"));
        assert_eq!(checkpoint_id("chk-0"), Some(0));
        assert_eq!(checkpoint_id("chk-42"), Some(42));
        for bad in [
            "chk-",
            "chk-+5",
            "chk- 5",
            "chk-5a",
            "chk-99999999999999999999",
            "chk5",
        ] {
            assert_eq!(checkpoint_id(bad), None, "{bad}");
        }
        assert!(is_savepoint_dir("savepoint-a2d4a4-0123456789ab"));
        assert!(!is_savepoint_dir("chk-1"));
    }
}
