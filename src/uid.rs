//! OperatorIDs from user-set uids.
//!
//! Flink derives the OperatorID of an operator with a uid as Guava's
//! `murmur3_128(seed 0)` over the UTF-8 bytes of the uid, taking `h1` then `h2`
//! as little-endian bytes (`StreamGraphHasherV2.generateUserSpecifiedHash`).

use crate::metadata::OperatorId;

/// The OperatorID Flink assigns to an operator with this uid.
pub fn operator_id(uid: &str) -> OperatorId {
    let (h1, h2) = murmur3_x64_128(uid.as_bytes(), 0);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h1.to_le_bytes());
    out[8..].copy_from_slice(&h2.to_le_bytes());
    OperatorId(out)
}

/// MurmurHash3 x64 128-bit (Austin Appleby's reference algorithm).
pub fn murmur3_x64_128(data: &[u8], seed: u64) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let (mut h1, mut h2) = (seed, seed);
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let k1 = u64::from_le_bytes(a.try_into().unwrap_or_default());
        let k2 = u64::from_le_bytes(b.try_into().unwrap_or_default());
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    let (mut k1, mut k2) = (0u64, 0u64);
    for (i, &b) in tail.iter().enumerate() {
        if i < 8 {
            k1 |= u64::from(b) << (8 * i);
        } else {
            k2 |= u64::from(b) << (8 * (i - 8));
        }
    }
    if tail.len() > 8 {
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    let len = data.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_operator_ids() {
        // Values from the issue and from FORMAT.md §11 (a real Flink 2.3 file).
        assert_eq!(
            operator_id("source").to_hex(),
            "e5a72f353fc1e6bbf3bd96a41384998c"
        );
        assert_eq!(
            operator_id("second").to_hex(),
            "6730ef7375fb60f9d9bbdfdfd174d803"
        );
    }

    #[test]
    fn tails_of_every_length() {
        // Known murmur3_x64_128 vectors (seed 0): "" and "hello".
        assert_eq!(murmur3_x64_128(b"", 0), (0, 0));
        assert_eq!(
            murmur3_x64_128(b"hello", 0),
            (0xcbd8a7b341bd9b02, 0x5b1e906a48ae1d19)
        );
    }
}
