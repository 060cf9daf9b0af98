//! Every truncation of every real `_metadata` (each byte offset) is an error
//! with an offset inside the input — never a panic, never an `Ok`.

use flink_chk::metadata;

use crate::common;

#[test]
fn every_truncation_of_every_fixture_is_an_error() {
    let mut files = common::find_metadata(&common::repo().join("tests/fixtures/flink"));
    if let Some(corpus) = common::corpus() {
        // Plus one file per metadata version from the shared corpus.
        for d in [
            "operatorstate-nonKeyed-flink1.10",
            "operatorstate-nonKeyed-flink1.15",
            "operatorstate-complexKeyed-flink1.16",
            "operatorstate-complexKeyed-flink2.0",
        ] {
            files.push(corpus.join(d).join("_metadata"));
        }
    }
    assert!(files.len() >= 20, "{} files", files.len());
    let mut cuts = 0u64;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            metadata::parse(&bytes).is_ok(),
            "{} must parse whole",
            f.display()
        );
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            match metadata::parse(cut) {
                Ok(_) => panic!(
                    "{}: truncated to {len} bytes parsed as complete",
                    f.display()
                ),
                Err(e) => assert!(
                    e.offset <= len as u64,
                    "{}: offset {} beyond {len}",
                    f.display(),
                    e.offset
                ),
            }
            cuts += 1;
        }
    }
    eprintln!(
        "truncation: {} files, {cuts} truncations, all rejected",
        files.len()
    );
}
