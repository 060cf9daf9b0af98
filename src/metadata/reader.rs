//! `ByteReader`: a big-endian cursor over a byte slice that never panics.
//!
//! Every read is bounds-checked and reports the absolute offset of the field
//! that failed. Counts and lengths read from the input are validated against the
//! bytes that remain *before* anything is allocated for them.

use super::error::{Error, ErrorKind, Result};
use super::jstring::JavaString;

/// A checked big-endian reader over `&[u8]` (Java `DataInputStream` semantics).
#[derive(Debug, Clone)]
pub struct ByteReader<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
}

impl<'a> ByteReader<'a> {
    /// A reader over `data`, whose first byte is at offset 0.
    pub fn new(data: &'a [u8]) -> Self {
        Self::with_base(data, 0)
    }

    /// A reader over `data`, whose first byte is at absolute offset `base` in the file.
    pub fn with_base(data: &'a [u8], base: u64) -> Self {
        ByteReader { data, pos: 0, base }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Position relative to the start of this reader's slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// True when every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// The whole underlying slice.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> Error {
        Error::new(self.offset(), kind)
    }

    /// Reads `n` bytes.
    pub fn read_bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        match end.and_then(|end| self.data.get(self.pos..end).map(|s| (end, s))) {
            Some((end, slice)) => {
                self.pos = end;
                Ok(slice)
            }
            None => Err(self.error(ErrorKind::UnexpectedEof {
                field,
                needed: n as u64,
                available: self.remaining() as u64,
            })),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let b = self.read_bytes(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one unsigned byte.
    pub fn read_u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn read_u16(&mut self, field: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i16` (Java `short`).
    pub fn read_i16(&mut self, field: &'static str) -> Result<i16> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i32` (Java `int`).
    pub fn read_i32(&mut self, field: &'static str) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u32`.
    pub fn read_u32(&mut self, field: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `i64` (Java `long`).
    pub fn read_i64(&mut self, field: &'static str) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// Reads a count (`i32`) of elements that each take at least `min_elem_bytes`
    /// bytes, rejecting negative counts and counts that cannot fit in what remains.
    pub fn read_count(&mut self, field: &'static str, min_elem_bytes: usize) -> Result<usize> {
        let at = self.offset();
        let n = self.read_i32(field)?;
        self.check_count(at, field, i64::from(n), min_elem_bytes)
    }

    /// Validates a count already read at `at`.
    pub fn check_count(
        &self,
        at: u64,
        field: &'static str,
        n: i64,
        min_elem_bytes: usize,
    ) -> Result<usize> {
        let remaining = self.remaining() as u64;
        let need = u64::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(min_elem_bytes.max(1) as u64));
        match need {
            Some(need) if need <= remaining => usize::try_from(n).map_err(|_| {
                Error::new(
                    at,
                    ErrorKind::BadLength {
                        field,
                        value: n,
                        remaining,
                    },
                )
            }),
            _ => Err(Error::new(
                at,
                ErrorKind::BadLength {
                    field,
                    value: n,
                    remaining,
                },
            )),
        }
    }

    /// Reads an `i32` length followed by that many bytes.
    pub fn read_byte_array(&mut self, field: &'static str) -> Result<&'a [u8]> {
        let n = self.read_count(field, 1)?;
        self.read_bytes(n, field)
    }

    /// Reads `n` big-endian `i64`s (the count was already validated).
    pub fn read_i64_array(&mut self, n: usize, field: &'static str) -> Result<Vec<i64>> {
        let bytes = self.read_bytes(n.saturating_mul(8), field)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                i64::from_be_bytes(a)
            })
            .collect())
    }

    /// Reads a Java `DataInput.readUTF` string: `u16` length + modified UTF-8.
    pub fn read_utf(&mut self, field: &'static str) -> Result<JavaString> {
        let len = self.read_u16(field)?;
        let start = self.offset();
        let bytes = self.read_bytes(usize::from(len), field)?;
        JavaString::decode(bytes)
            .map_err(|reason| Error::new(start, ErrorKind::BadUtf { field, reason }))
    }

    /// Splits off a sub-reader over the next `n` bytes; offsets stay absolute.
    pub fn sub_reader(&mut self, n: usize, field: &'static str) -> Result<ByteReader<'a>> {
        let base = self.offset();
        let bytes = self.read_bytes(n, field)?;
        Ok(ByteReader::with_base(bytes, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_reports_offsets() {
        let mut r = ByteReader::new(&[0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 1]);
        assert_eq!(r.read_i32("a").unwrap(), 7);
        assert_eq!(r.read_i32("b").unwrap(), -1);
        let e = r.read_i32("c").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(matches!(
            e.kind,
            ErrorKind::UnexpectedEof {
                field: "c",
                needed: 4,
                available: 1
            }
        ));
    }

    #[test]
    fn rejects_counts_larger_than_input_before_allocating() {
        let mut r = ByteReader::new(&[0x7f, 0xff, 0xff, 0xff, 0, 0]);
        let e = r.read_count("numThings", 8).unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(matches!(
            e.kind,
            ErrorKind::BadLength {
                value: 2147483647,
                ..
            }
        ));
        let mut r = ByteReader::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(r.read_count("n", 1).is_err());
    }
}
