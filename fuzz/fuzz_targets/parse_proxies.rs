//! Fuzz the state-file serialization-proxy readers: they must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(flink_chk::statemeta::parse_keyed_proxy(data));
    let _ = std::hint::black_box(flink_chk::statemeta::parse_operator_proxy(data));
});
