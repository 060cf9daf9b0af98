//! Fuzz `metadata::parse`, then check the lossless round trip and run the
//! analysis passes that every command uses over the parsed model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = flink_chk::metadata::parse(data) else {
        return;
    };
    // The model is lossless: writing a parsed file reproduces it byte for byte.
    // A parsed model always agrees with its version and dialect, so it writes.
    let written = flink_chk::metadata::write(&m)
        .unwrap_or_else(|e| panic!("a parsed model does not write: {e}"));
    if written != data {
        let at = written
            .iter()
            .zip(data)
            .position(|(a, b)| a != b)
            .unwrap_or(written.len().min(data.len()));
        panic!(
            "round trip differs: input {} bytes, written {} bytes, first difference at offset {at}",
            data.len(),
            written.len()
        );
    }
    let refs = flink_chk::analysis::refs::collect(&m);
    std::hint::black_box(&refs);
    for op in &m.operators {
        std::hint::black_box(flink_chk::analysis::size::operator(op));
    }
});
