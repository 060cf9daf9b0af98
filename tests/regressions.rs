//! Inputs the fuzzer once crashed on (`fuzz/regressions/`), replayed through
//! everything the fuzz targets run: they must never panic again.

use crate::common;

#[test]
fn fuzz_findings_stay_fixed() {
    let dir = common::repo().join("fuzz/regressions");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let data = std::fs::read(e.path()).unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("parse_metadata") {
            if let Ok(m) = flink_chk::metadata::parse(&data) {
                assert_eq!(
                    flink_chk::metadata::write(&m).unwrap(),
                    data,
                    "{name}: round trip"
                );
                let _ = flink_chk::analysis::refs::collect(&m);
                for op in &m.operators {
                    let _ = flink_chk::analysis::size::operator(op);
                    let _ = flink_chk::analysis::summary::handle_kinds(op);
                }
                let _ = flink_chk::analysis::summary::snapshot_kind(&m, "x");
            }
        } else {
            let _ = flink_chk::statemeta::parse_keyed_proxy(&data);
            let _ = flink_chk::statemeta::parse_operator_proxy(&data);
        }
        n += 1;
    }
    assert!(n >= 1, "no regression inputs in {}", dir.display());
}
