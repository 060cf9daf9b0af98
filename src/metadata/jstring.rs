//! Java strings as Flink writes them with `DataOutputStream.writeUTF`:
//! *modified* UTF-8 (NUL as `C0 80`, supplementary characters as two 3-byte
//! surrogates). [`JavaString`] keeps the decoded text and, when re-encoding
//! the text would not give back the same bytes (lone surrogates, overlong
//! forms that Java's reader accepts), the original bytes too — so nothing
//! read from a file is lost.

use std::fmt;

/// A string read from a Java `writeUTF` field.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct JavaString {
    text: String,
    /// Original bytes, kept only when `encode(text)` would differ from them.
    raw: Option<Box<[u8]>>,
}

impl JavaString {
    /// Decodes modified UTF-8 exactly as `java.io.DataInputStream.readUTF` does.
    pub fn decode(bytes: &[u8]) -> Result<JavaString, &'static str> {
        // Fast path: standard UTF-8 without NUL bytes and 4-byte sequences is
        // byte-identical to modified UTF-8.
        if !bytes.iter().any(|&b| b == 0 || b >= 0xf0)
            && let Ok(s) = std::str::from_utf8(bytes)
        {
            return Ok(JavaString {
                text: s.to_owned(),
                raw: None,
            });
        }
        let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
        let mut canonical = true;
        let mut it = bytes.iter().copied();
        while let Some(a) = it.next() {
            let a16 = u16::from(a);
            match a >> 4 {
                0..=7 => {
                    canonical &= a != 0;
                    units.push(a16);
                }
                12 | 13 => {
                    let b = it.next().ok_or("partial character at end")?;
                    if b & 0xc0 != 0x80 {
                        return Err("malformed input around byte");
                    }
                    let c = ((a16 & 0x1f) << 6) | (u16::from(b) & 0x3f);
                    canonical &= c >= 0x80 || c == 0;
                    units.push(c);
                }
                14 => {
                    let b = it.next().ok_or("partial character at end")?;
                    let c = it.next().ok_or("partial character at end")?;
                    if b & 0xc0 != 0x80 || c & 0xc0 != 0x80 {
                        return Err("malformed input around byte");
                    }
                    let ch =
                        ((a16 & 0x0f) << 12) | ((u16::from(b) & 0x3f) << 6) | (u16::from(c) & 0x3f);
                    canonical &= ch >= 0x800;
                    units.push(ch);
                }
                _ => return Err("malformed input around byte"),
            }
        }
        let (text, lossless) = match String::from_utf16(&units) {
            Ok(s) => (s, canonical),
            Err(_) => (String::from_utf16_lossy(&units), false),
        };
        let raw = (!lossless).then(|| bytes.to_vec().into_boxed_slice());
        Ok(JavaString { text, raw })
    }

    /// The decoded text (lone surrogates, which Java allows, appear as U+FFFD).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.raw.as_ref().is_none_or(|r| r.is_empty())
    }

    /// The exact bytes to write back: the original bytes when the text alone
    /// cannot reproduce them, else the modified UTF-8 encoding of the text.
    pub fn to_modified_utf8(&self) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.to_vec();
        }
        encode(&self.text)
    }
}

/// Encodes `s` as Java modified UTF-8 (without the length prefix).
pub fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            1..=0x7f => out.push(unit as u8),
            0 | 0x80..=0x7ff => {
                out.push(0xc0 | (unit >> 6) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
            _ => {
                out.push(0xe0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3f) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
        }
    }
    out
}

impl From<&str> for JavaString {
    fn from(s: &str) -> Self {
        JavaString {
            text: s.to_owned(),
            raw: None,
        }
    }
}

impl From<String> for JavaString {
    fn from(text: String) -> Self {
        JavaString { text, raw: None }
    }
}

impl fmt::Display for JavaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for JavaString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl serde::Serialize for JavaString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl PartialEq<str> for JavaString {
    fn eq(&self, other: &str) -> bool {
        self.raw.is_none() && self.text == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nul_and_supplementary_like_java() {
        // "a\0b" + U+1F600 as Java writes it (test-side encoding, per the JDK docs).
        let bytes = [b'a', 0xc0, 0x80, b'b', 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80];
        let s = JavaString::decode(&bytes).unwrap();
        assert_eq!(s.as_str(), "a\0b\u{1F600}");
        assert_eq!(s.to_modified_utf8(), bytes);
        assert_eq!(encode("a\0b\u{1F600}"), bytes);
    }

    #[test]
    fn keeps_bytes_that_text_cannot_reproduce() {
        // Lone high surrogate, and an overlong 'A' (C1 81), both accepted by Java.
        for bytes in [&[0xed, 0xa0, 0xbd][..], &[0xc1, 0x81][..], &[0x00][..]] {
            let s = JavaString::decode(bytes).unwrap();
            assert_eq!(s.to_modified_utf8(), bytes);
        }
    }

    #[test]
    fn agrees_with_the_cesu8_crate_on_every_code_point_class() {
        // Independent oracle: the `cesu8` crate's Java variant.
        let mut text = String::new();
        for c in (0u32..0x800)
            .chain((0x800..0x11_0000).step_by(97))
            .filter_map(char::from_u32)
        {
            text.push(c);
            let want = cesu8::to_java_cesu8(&text);
            assert_eq!(encode(&text), want.as_ref(), "encoding {c:?}");
            let s = JavaString::decode(&want).unwrap();
            assert_eq!(s.as_str(), text);
            assert_eq!(s.to_modified_utf8(), want.as_ref());
            if text.len() > 200 {
                text.clear();
            }
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(JavaString::decode(&[0xc3]).is_err());
        assert!(JavaString::decode(&[0xe2, 0x28, 0xa1]).is_err());
        assert!(JavaString::decode(&[0xf0, 0x9f, 0x98, 0x80]).is_err());
    }
}
