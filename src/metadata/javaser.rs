//! Minimal Java Object Serialization stream reader (FORMAT.md §7.3).
//!
//! Flink writes Java-serialized objects in two places this crate reads: the
//! `CheckpointProperties` trailer of V4+ `_metadata` files (§7) and a few
//! serializer snapshots inside state-file proxies (§10.7). This module reads
//! **one** stream — `AC ED 00 05` followed by exactly one top-level `content`
//! (preceded by any number of `TC_RESET`s) — into a small owned [`Value`] tree,
//! and leaves the reader right after it.
//!
//! # Design
//!
//! Parsing happens in two phases so that hostile input cannot make either
//! phase explode:
//!
//! 1. The stream is parsed into a flat arena of items. Every item costs at
//!    least one input byte, handles point at arena slots, and recursion is
//!    bounded by [`MAX_DEPTH`] (an error beyond it). Back-references are kept
//!    as arena links, so parsing is linear in the input.
//! 2. The arena is turned into a tree. A back-reference is expanded into a copy
//!    of its target while a global copy budget lasts ([`MAX_COPY_COST`]); a
//!    reference to an object that is still being built (a cycle), a reference
//!    nested too deep, or one past the budget becomes [`Value::Ref`] with the
//!    handle number instead. The returned tree is therefore always finite and
//!    bounded in size.
//!
//! Class descriptors (including super classes, `SC_WRITE_METHOD` annotations,
//! `SC_ENUM`, proxy classes and externalizable classes written with block data)
//! are decoded but not returned, except as class names. Externalizable classes
//! written with the old protocol 1 (no block data) cannot be read generically
//! and are reported as an error. Serial version UIDs are not validated.
//!
//! All errors carry absolute byte offsets; running out of input gives the
//! reader's [`ErrorKind::UnexpectedEof`], every other problem
//! [`ErrorKind::JavaSerialization`] (or [`ErrorKind::TooDeep`] /
//! [`ErrorKind::BadLength`]).

use super::error::{Error, ErrorKind, Result};
use super::jstring::JavaString;
use super::reader::ByteReader;

/// Stream magic `0xACED`.
pub const STREAM_MAGIC: u16 = 0xACED;
/// Stream protocol version 5.
pub const STREAM_VERSION: u16 = 5;
/// First handle number assigned in a stream.
pub const BASE_HANDLE: u32 = 0x7E_0000;

/// Maximum nesting of contents (objects within objects, annotations, arrays).
pub const MAX_DEPTH: u32 = 200;
/// Budget, in roughly "nodes + bytes/8", for copies made while expanding
/// back-references into the returned tree. Past it, references stay [`Value::Ref`].
pub const MAX_COPY_COST: u64 = 1 << 21;

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_CLASS: u8 = 0x76;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_RESET: u8 = 0x79;
const TC_BLOCKDATALONG: u8 = 0x7A;
const TC_EXCEPTION: u8 = 0x7B;
const TC_LONGSTRING: u8 = 0x7C;
const TC_PROXYCLASSDESC: u8 = 0x7D;
const TC_ENUM: u8 = 0x7E;

/// Class descriptor flag: the class has a `writeObject` method (data is followed by an annotation).
pub const SC_WRITE_METHOD: u8 = 0x01;
/// Class descriptor flag: externalizable data written in block-data mode (protocol 2).
pub const SC_BLOCK_DATA: u8 = 0x08;
/// Class descriptor flag: `Serializable`.
pub const SC_SERIALIZABLE: u8 = 0x02;
/// Class descriptor flag: `Externalizable`.
pub const SC_EXTERNALIZABLE: u8 = 0x04;
/// Class descriptor flag: an enum class.
pub const SC_ENUM: u8 = 0x10;

/// A primitive field value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Prim {
    /// `Z`
    Bool(bool),
    /// `B`
    Byte(i8),
    /// `C` (a UTF-16 code unit)
    Char(u16),
    /// `S`
    Short(i16),
    /// `I`
    Int(i32),
    /// `J`
    Long(i64),
    /// `F`
    Float(f32),
    /// `D`
    Double(f64),
}

/// A decoded Java value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// `null`.
    Null,
    /// A `java.lang.String` (`TC_STRING` or `TC_LONGSTRING`).
    String(String),
    /// An enum constant.
    Enum {
        /// Enum class name (`org.apache.flink.core.execution.SavepointFormatType`).
        class: String,
        /// Constant name (`CANONICAL`).
        constant: String,
    },
    /// A serializable or externalizable object.
    Object(Object),
    /// An array of objects (or of arrays).
    Array {
        /// Array class name (`[Ljava.lang.String;`).
        class: String,
        /// The elements.
        elements: Vec<Value>,
    },
    /// An array of primitives, kept as its raw big-endian bytes.
    PrimitiveArray {
        /// Array class name (`[B`, `[I`, …).
        class: String,
        /// Element type code (`B`, `C`, `D`, `F`, `I`, `J`, `S`, `Z`).
        element: char,
        /// Number of elements.
        len: usize,
        /// The raw element bytes (`len` × element size).
        bytes: Vec<u8>,
    },
    /// A `java.lang.Class` object (`TC_CLASS`), by name.
    Class(String),
    /// A primitive field value.
    Primitive(Prim),
    /// Block data inside an annotation (`TC_BLOCKDATA` / `TC_BLOCKDATALONG`).
    BlockData(Vec<u8>),
    /// A back-reference left unexpanded (cycle, nesting or copy budget), by handle number.
    Ref(u32),
}

impl Value {
    /// The string, if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is a [`Value::Object`].
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The constant name, if this is a [`Value::Enum`].
    pub fn enum_constant(&self) -> Option<&str> {
        match self {
            Value::Enum { constant, .. } => Some(constant),
            _ => None,
        }
    }

    /// The boolean, if this is a `Z` primitive.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Primitive(Prim::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The value as `i64`, if this is an integral primitive (`B`, `C`, `S`, `I`, `J`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Primitive(Prim::Byte(v)) => Some(i64::from(*v)),
            Value::Primitive(Prim::Char(v)) => Some(i64::from(*v)),
            Value::Primitive(Prim::Short(v)) => Some(i64::from(*v)),
            Value::Primitive(Prim::Int(v)) => Some(i64::from(*v)),
            Value::Primitive(Prim::Long(v)) => Some(*v),
            _ => None,
        }
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A serializable object: its class and the data of every class in its
/// serializable hierarchy, top-most super class first.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Object {
    /// The object's (most derived) class name.
    pub class: String,
    /// Per-class data, from the top-most serializable super class down to `class`.
    /// An externalizable object has exactly one entry, whose `annotation` holds its data.
    pub classes: Vec<ClassData>,
}

impl Object {
    /// The value of field `name`, searching the most derived class first
    /// (so a shadowing field wins, as in Java).
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.classes
            .iter()
            .rev()
            .flat_map(|c| c.fields.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The string value of field `name`.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::as_str)
    }

    /// The boolean value of field `name`.
    pub fn bool_field(&self, name: &str) -> Option<bool> {
        self.field(name).and_then(Value::as_bool)
    }

    /// The enum constant name of field `name`.
    pub fn enum_field(&self, name: &str) -> Option<&str> {
        self.field(name).and_then(Value::enum_constant)
    }

    /// The object value of field `name`.
    pub fn object_field(&self, name: &str) -> Option<&Object> {
        self.field(name).and_then(Value::as_object)
    }
}

/// The serialized data one class of an object's hierarchy contributed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClassData {
    /// Class name.
    pub class: String,
    /// Field values in descriptor order (Java sorts primitives first, then by name).
    pub fields: Vec<(String, Value)>,
    /// What `writeObject` / `writeExternal` wrote after the fields, if the class
    /// has `SC_WRITE_METHOD` (or is externalizable with block data).
    pub annotation: Option<Vec<Value>>,
}

/// Reads one Java serialization stream (`AC ED 00 05` + one content) and
/// leaves `r` right after it.
pub fn read_stream(r: &mut ByteReader<'_>) -> Result<Value> {
    let mut p = Parser::new();
    let root = p.stream(r)?;
    let mut m = Materializer {
        arena: &p.arena,
        descs: &p.descs,
        budget: MAX_COPY_COST,
        path: Vec::new(),
    };
    Ok(m.value(root, 0))
}

/// Skips one Java serialization stream (`AC ED 00 05` + one content),
/// validating it as [`read_stream`] does but without building the tree.
pub fn skip_stream(r: &mut ByteReader<'_>) -> Result<()> {
    let mut p = Parser::new();
    p.stream(r).map(|_| ())
}

/// Validates a count `n` (read at `at`) of elements of at least `min` bytes each:
/// negative is [`ErrorKind::BadLength`]; more than what remains is
/// [`ErrorKind::UnexpectedEof`] (the input may be a truncated prefix).
pub(crate) fn check_len(
    r: &ByteReader<'_>,
    at: u64,
    field: &'static str,
    n: i64,
    min: usize,
) -> Result<usize> {
    let remaining = r.remaining() as u64;
    let Ok(count) = u64::try_from(n) else {
        return Err(Error::new(
            at,
            ErrorKind::BadLength {
                field,
                value: n,
                remaining,
            },
        ));
    };
    let needed = count.saturating_mul(min.max(1) as u64);
    if needed > remaining {
        return Err(r.error(ErrorKind::UnexpectedEof {
            field,
            needed,
            available: remaining,
        }));
    }
    usize::try_from(count).map_err(|_| {
        Error::new(
            at,
            ErrorKind::BadLength {
                field,
                value: n,
                remaining,
            },
        )
    })
}

/// Reads an `i32` count validated by [`check_len`].
pub(crate) fn read_len(r: &mut ByteReader<'_>, field: &'static str, min: usize) -> Result<usize> {
    let at = r.offset();
    let n = r.read_i32(field)?;
    check_len(r, at, field, i64::from(n), min)
}

/// Reads an `i16` count validated by [`check_len`].
pub(crate) fn read_len_i16(
    r: &mut ByteReader<'_>,
    field: &'static str,
    min: usize,
) -> Result<usize> {
    let at = r.offset();
    let n = r.read_i16(field)?;
    check_len(r, at, field, i64::from(n), min)
}

fn jerr(at: u64, msg: impl Into<String>) -> Error {
    Error::new(at, ErrorKind::JavaSerialization(msg.into()))
}

/// Index into the arena.
type ItemId = usize;

#[derive(Debug, Clone)]
enum Item {
    /// Placeholder for an object whose contents are still being read.
    Pending,
    Null,
    Str(String),
    Enum {
        desc: usize,
        constant: ItemId,
    },
    Object {
        desc: usize,
        classes: Vec<ItemClassData>,
    },
    Array {
        desc: usize,
        elements: Vec<ItemId>,
    },
    PrimArray {
        desc: usize,
        element: char,
        len: usize,
        bytes: Vec<u8>,
    },
    Class(usize),
    Prim(Prim),
    BlockData(Vec<u8>),
    /// Back-reference to `target` (handle `handle`).
    Ref {
        handle: u32,
        target: ItemId,
    },
    /// Back-reference to a class descriptor used as a value.
    DescRef(usize),
}

#[derive(Debug, Clone)]
struct ItemClassData {
    desc: usize,
    fields: Vec<ItemId>,
    annotation: Option<Vec<ItemId>>,
}

#[derive(Debug, Clone)]
struct FieldDesc {
    code: u8,
    name: String,
}

#[derive(Debug, Clone)]
struct ClassDesc {
    name: String,
    flags: u8,
    fields: Vec<FieldDesc>,
    super_desc: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
enum Handle {
    /// A class descriptor (index into `descs`; `None` in `descs` while being read).
    Desc(usize),
    Item(ItemId),
}

#[derive(Debug)]
struct Parser {
    arena: Vec<Item>,
    descs: Vec<Option<ClassDesc>>,
    handles: Vec<Handle>,
}

impl Parser {
    fn new() -> Self {
        Parser {
            arena: Vec::new(),
            descs: Vec::new(),
            handles: Vec::new(),
        }
    }

    fn push(&mut self, item: Item) -> ItemId {
        self.arena.push(item);
        self.arena.len() - 1
    }

    fn new_handle(&mut self, h: Handle) {
        self.handles.push(h);
    }

    fn lookup(&self, at: u64, handle: u32) -> Result<Handle> {
        handle
            .checked_sub(BASE_HANDLE)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.handles.get(i).copied())
            .ok_or_else(|| jerr(at, format!("reference to unknown handle {handle:#x}")))
    }

    fn stream(&mut self, r: &mut ByteReader<'_>) -> Result<ItemId> {
        let at = r.offset();
        let magic = r.read_u16("java stream magic")?;
        let version = r.read_u16("java stream version")?;
        if magic != STREAM_MAGIC || version != STREAM_VERSION {
            return Err(jerr(
                at,
                format!(
                    "not a Java serialization stream: header {magic:04X} {version:04X}, expected ACED 0005"
                ),
            ));
        }
        self.content(r, 0)
    }

    fn peek(r: &ByteReader<'_>, field: &'static str) -> Result<u8> {
        r.rest().first().copied().ok_or_else(|| {
            r.error(ErrorKind::UnexpectedEof {
                field,
                needed: 1,
                available: 0,
            })
        })
    }

    fn check_depth(r: &ByteReader<'_>, depth: u32) -> Result<()> {
        if depth > MAX_DEPTH {
            Err(r.error(ErrorKind::TooDeep(MAX_DEPTH)))
        } else {
            Ok(())
        }
    }

    /// Reads one `content` (an object or block data).
    fn content(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<ItemId> {
        Self::check_depth(r, depth)?;
        loop {
            let at = r.offset();
            let tc = r.read_u8("java type code")?;
            return match tc {
                TC_RESET => {
                    if depth > 0 {
                        return Err(jerr(at, "TC_RESET inside an object"));
                    }
                    self.handles.clear();
                    continue;
                }
                TC_NULL => Ok(self.push(Item::Null)),
                TC_REFERENCE => self.reference(r, at),
                TC_STRING => {
                    let s = r.read_utf("java string")?;
                    Ok(self.new_string(s))
                }
                TC_LONGSTRING => {
                    let s = Self::long_string(r)?;
                    Ok(self.new_string(s))
                }
                TC_CLASSDESC | TC_PROXYCLASSDESC => {
                    // A class descriptor as a value: read it, expose its name.
                    let d = self.class_desc_after_tc(r, tc, at, depth)?;
                    Ok(self.push(Item::DescRef(d)))
                }
                TC_OBJECT => self.object(r, depth),
                TC_ARRAY => self.array(r, depth),
                TC_CLASS => {
                    let d = self.class_desc_required(r, depth, "TC_CLASS")?;
                    let id = self.push(Item::Class(d));
                    self.new_handle(Handle::Item(id));
                    Ok(id)
                }
                TC_ENUM => self.enumeration(r, depth),
                TC_BLOCKDATA => {
                    let n = r.read_u8("java block data length")?;
                    let b = r.read_bytes(usize::from(n), "java block data")?;
                    Ok(self.push(Item::BlockData(b.to_vec())))
                }
                TC_BLOCKDATALONG => {
                    let n = read_len(r, "java block data length", 1)?;
                    let b = r.read_bytes(n, "java block data")?;
                    Ok(self.push(Item::BlockData(b.to_vec())))
                }
                TC_EXCEPTION => Err(jerr(
                    at,
                    "stream contains TC_EXCEPTION (the writer failed mid-object)",
                )),
                TC_ENDBLOCKDATA => Err(jerr(at, "unexpected TC_ENDBLOCKDATA")),
                other => Err(jerr(at, format!("invalid type code {other:#04x}"))),
            };
        }
    }

    fn new_string(&mut self, s: JavaString) -> ItemId {
        let id = self.push(Item::Str(s.as_str().to_owned()));
        self.new_handle(Handle::Item(id));
        id
    }

    fn long_string(r: &mut ByteReader<'_>) -> Result<JavaString> {
        let at = r.offset();
        let n = r.read_i64("java long string length")?;
        let n = check_len(r, at, "java long string length", n, 1)?;
        let start = r.offset();
        let b = r.read_bytes(n, "java long string")?;
        JavaString::decode(b).map_err(|reason| {
            Error::new(
                start,
                ErrorKind::BadUtf {
                    field: "java long string",
                    reason,
                },
            )
        })
    }

    fn reference(&mut self, r: &mut ByteReader<'_>, at: u64) -> Result<ItemId> {
        let handle = r.read_u32("java handle")?;
        match self.lookup(at, handle)? {
            Handle::Item(target) => Ok(self.push(Item::Ref { handle, target })),
            Handle::Desc(d) => Ok(self.push(Item::DescRef(d))),
        }
    }

    /// Reads a string content (`TC_STRING`, `TC_LONGSTRING` or a reference to one), e.g.
    /// a field type signature or an enum constant name.
    fn string_content(&mut self, r: &mut ByteReader<'_>, what: &str) -> Result<(ItemId, String)> {
        let at = r.offset();
        let tc = r.read_u8("java type code")?;
        let s = match tc {
            TC_STRING => r.read_utf("java string")?,
            TC_LONGSTRING => Self::long_string(r)?,
            TC_REFERENCE => {
                let handle = r.read_u32("java handle")?;
                return match self.lookup(at, handle)? {
                    Handle::Item(target) => match self.arena.get(target) {
                        Some(Item::Str(s)) => {
                            let s = s.clone();
                            Ok((self.push(Item::Ref { handle, target }), s))
                        }
                        _ => Err(jerr(
                            at,
                            format!("{what}: handle {handle:#x} is not a string"),
                        )),
                    },
                    Handle::Desc(_) => Err(jerr(
                        at,
                        format!("{what}: handle {handle:#x} is not a string"),
                    )),
                };
            }
            other => {
                return Err(jerr(
                    at,
                    format!("{what}: expected a string, found type code {other:#04x}"),
                ));
            }
        };
        let text = s.as_str().to_owned();
        Ok((self.new_string(s), text))
    }

    /// Reads a `classDesc` that must not be null.
    fn class_desc_required(
        &mut self,
        r: &mut ByteReader<'_>,
        depth: u32,
        what: &str,
    ) -> Result<usize> {
        let at = r.offset();
        self.class_desc(r, depth)?
            .ok_or_else(|| jerr(at, format!("{what} with a null class descriptor")))
    }

    /// Reads a `classDesc`: a new descriptor, a proxy descriptor, `TC_NULL` or a reference.
    fn class_desc(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<Option<usize>> {
        Self::check_depth(r, depth)?;
        let at = r.offset();
        let tc = r.read_u8("java class descriptor type code")?;
        match tc {
            TC_NULL => Ok(None),
            TC_REFERENCE => {
                let handle = r.read_u32("java handle")?;
                match self.lookup(at, handle)? {
                    Handle::Desc(d) => match self.descs.get(d) {
                        Some(Some(_)) => Ok(Some(d)),
                        _ => Err(jerr(
                            at,
                            format!("reference to incomplete class descriptor {handle:#x}"),
                        )),
                    },
                    Handle::Item(_) => Err(jerr(
                        at,
                        format!("handle {handle:#x} is not a class descriptor"),
                    )),
                }
            }
            TC_CLASSDESC | TC_PROXYCLASSDESC => {
                self.class_desc_after_tc(r, tc, at, depth).map(Some)
            }
            other => Err(jerr(
                at,
                format!("expected a class descriptor, found type code {other:#04x}"),
            )),
        }
    }

    fn class_desc_after_tc(
        &mut self,
        r: &mut ByteReader<'_>,
        tc: u8,
        at: u64,
        depth: u32,
    ) -> Result<usize> {
        let idx = self.descs.len();
        let desc = if tc == TC_PROXYCLASSDESC {
            self.descs.push(None);
            self.new_handle(Handle::Desc(idx));
            let n = read_len(r, "java proxy interface count", 2)?;
            let mut names = Vec::new();
            for _ in 0..n {
                names.push(r.read_utf("java proxy interface name")?.as_str().to_owned());
            }
            self.annotation(r, depth + 1)?;
            let super_desc = self.class_desc(r, depth + 1)?;
            ClassDesc {
                name: format!("$Proxy({})", names.join(",")),
                flags: SC_SERIALIZABLE,
                fields: Vec::new(),
                super_desc,
            }
        } else {
            let name = r.read_utf("java class name")?.as_str().to_owned();
            let _suid = r.read_i64("java serialVersionUID")?;
            self.descs.push(None);
            self.new_handle(Handle::Desc(idx));
            let flags = r.read_u8("java class flags")?;
            let n = read_len_i16(r, "java field count", 3)?;
            let mut fields = Vec::new();
            for _ in 0..n {
                let fat = r.offset();
                let code = r.read_u8("java field type code")?;
                let fname = r.read_utf("java field name")?.as_str().to_owned();
                match code {
                    b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                    b'L' | b'[' => {
                        self.string_content(r, "field type")?;
                    }
                    other => {
                        return Err(jerr(
                            fat,
                            format!("class {name}: invalid field type code {other:#04x}"),
                        ));
                    }
                }
                fields.push(FieldDesc { code, name: fname });
            }
            if flags & SC_EXTERNALIZABLE != 0 && flags & SC_SERIALIZABLE != 0 {
                return Err(jerr(
                    at,
                    format!("class {name}: both serializable and externalizable"),
                ));
            }
            self.annotation(r, depth + 1)?;
            let super_desc = self.class_desc(r, depth + 1)?;
            ClassDesc {
                name,
                flags,
                fields,
                super_desc,
            }
        };
        if let Some(slot) = self.descs.get_mut(idx) {
            *slot = Some(desc);
        }
        Ok(idx)
    }

    fn desc(&self, r: &ByteReader<'_>, d: usize) -> Result<&ClassDesc> {
        self.descs
            .get(d)
            .and_then(Option::as_ref)
            .ok_or_else(|| jerr(r.offset(), "incomplete class descriptor"))
    }

    /// Reads contents up to `TC_ENDBLOCKDATA` (a class or object annotation).
    fn annotation(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<Vec<ItemId>> {
        let mut items = Vec::new();
        loop {
            if Self::peek(r, "java annotation")? == TC_ENDBLOCKDATA {
                r.read_u8("java annotation end")?;
                return Ok(items);
            }
            items.push(self.content(r, depth)?);
        }
    }

    fn object(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<ItemId> {
        let at = r.offset();
        let d = self.class_desc_required(r, depth + 1, "TC_OBJECT")?;
        let id = self.push(Item::Pending);
        self.new_handle(Handle::Item(id));
        let top = self.desc(r, d)?;
        if top.flags & SC_ENUM != 0 {
            return Err(jerr(at, format!("TC_OBJECT of enum class {}", top.name)));
        }
        let classes = if top.flags & SC_EXTERNALIZABLE != 0 {
            if top.flags & SC_BLOCK_DATA == 0 {
                return Err(jerr(
                    at,
                    format!(
                        "externalizable class {} written without block data (protocol 1) cannot be read",
                        top.name
                    ),
                ));
            }
            let annotation = self.annotation(r, depth + 1)?;
            vec![ItemClassData {
                desc: d,
                fields: Vec::new(),
                annotation: Some(annotation),
            }]
        } else {
            // Hierarchy, top-most super class first. The chain only links to
            // completed descriptors, so it is acyclic; bound it anyway.
            let mut chain = vec![d];
            let mut cur = d;
            while let Some(s) = self.desc(r, cur)?.super_desc {
                if chain.len() > self.descs.len() {
                    return Err(jerr(at, "class hierarchy loops"));
                }
                chain.push(s);
                cur = s;
            }
            let mut classes = Vec::with_capacity(chain.len());
            for &cd in chain.iter().rev() {
                let desc = self.desc(r, cd)?.clone();
                let mut fields = Vec::with_capacity(desc.fields.len());
                for f in &desc.fields {
                    let v = self.field_value(r, f.code, depth + 1)?;
                    fields.push(v);
                }
                let annotation = if desc.flags & SC_WRITE_METHOD != 0 {
                    Some(self.annotation(r, depth + 1)?)
                } else {
                    None
                };
                classes.push(ItemClassData {
                    desc: cd,
                    fields,
                    annotation,
                });
            }
            classes
        };
        if let Some(slot) = self.arena.get_mut(id) {
            *slot = Item::Object { desc: d, classes };
        }
        Ok(id)
    }

    fn field_value(&mut self, r: &mut ByteReader<'_>, code: u8, depth: u32) -> Result<ItemId> {
        let p = match code {
            b'Z' => Prim::Bool(r.read_u8("java boolean")? != 0),
            b'B' => Prim::Byte(i8::from_be_bytes([r.read_u8("java byte")?])),
            b'C' => Prim::Char(r.read_u16("java char")?),
            b'S' => Prim::Short(r.read_i16("java short")?),
            b'I' => Prim::Int(r.read_i32("java int")?),
            b'J' => Prim::Long(r.read_i64("java long")?),
            b'F' => Prim::Float(f32::from_bits(r.read_u32("java float")?)),
            b'D' => Prim::Double(f64::from_bits(u64::from_be_bytes(
                r.read_i64("java double")?.to_be_bytes(),
            ))),
            _ => return self.content(r, depth),
        };
        Ok(self.push(Item::Prim(p)))
    }

    fn array(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<ItemId> {
        let at = r.offset();
        let d = self.class_desc_required(r, depth + 1, "TC_ARRAY")?;
        let name = self.desc(r, d)?.name.clone();
        let id = self.push(Item::Pending);
        self.new_handle(Handle::Item(id));
        let element = name.chars().nth(1);
        if !name.starts_with('[') {
            return Err(jerr(
                at,
                format!("array class name {name:?} does not start with '['"),
            ));
        }
        let size = match element {
            Some('Z' | 'B') => Some(1),
            Some('C' | 'S') => Some(2),
            Some('I' | 'F') => Some(4),
            Some('J' | 'D') => Some(8),
            Some('L' | '[') => None,
            _ => return Err(jerr(at, format!("invalid array class name {name:?}"))),
        };
        let item = match (size, element) {
            (Some(size), Some(element)) => {
                let len = read_len(r, "java array length", size)?;
                let bytes = r
                    .read_bytes(len.saturating_mul(size), "java array data")?
                    .to_vec();
                Item::PrimArray {
                    desc: d,
                    element,
                    len,
                    bytes,
                }
            }
            _ => {
                let len = read_len(r, "java array length", 1)?;
                let mut elements = Vec::with_capacity(len.min(4096));
                for _ in 0..len {
                    elements.push(self.content(r, depth + 1)?);
                }
                Item::Array { desc: d, elements }
            }
        };
        if let Some(slot) = self.arena.get_mut(id) {
            *slot = item;
        }
        Ok(id)
    }

    fn enumeration(&mut self, r: &mut ByteReader<'_>, depth: u32) -> Result<ItemId> {
        let at = r.offset();
        let d = self.class_desc_required(r, depth + 1, "TC_ENUM")?;
        let flags = self.desc(r, d)?.flags;
        if flags & SC_ENUM == 0 {
            let name = self.desc(r, d)?.name.clone();
            return Err(jerr(at, format!("TC_ENUM of non-enum class {name}")));
        }
        let id = self.push(Item::Pending);
        self.new_handle(Handle::Item(id));
        let (constant, _) = self.string_content(r, "enum constant")?;
        if let Some(slot) = self.arena.get_mut(id) {
            *slot = Item::Enum { desc: d, constant };
        }
        Ok(id)
    }
}

/// Phase 2: arena → tree, expanding back-references within a copy budget.
struct Materializer<'p> {
    arena: &'p [Item],
    descs: &'p [Option<ClassDesc>],
    budget: u64,
    /// Items being expanded (for cycle detection).
    path: Vec<ItemId>,
}

impl Materializer<'_> {
    fn desc_name(&self, d: usize) -> String {
        self.descs
            .get(d)
            .and_then(Option::as_ref)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    fn charge(&mut self, bytes: usize) {
        let cost = 1 + (bytes as u64) / 8;
        self.budget = self.budget.saturating_sub(cost);
    }

    fn value(&mut self, id: ItemId, depth: u32) -> Value {
        let Some(item) = self.arena.get(id) else {
            return Value::Null;
        };
        self.charge(0);
        match item {
            Item::Pending | Item::Null => Value::Null,
            Item::Str(s) => {
                self.charge(s.len());
                Value::String(s.clone())
            }
            Item::Enum { desc, constant } => {
                let constant = match self.arena.get(*constant) {
                    Some(Item::Str(s)) => s.clone(),
                    Some(Item::Ref { target, .. }) => match self.arena.get(*target) {
                        Some(Item::Str(s)) => s.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                self.charge(constant.len());
                Value::Enum {
                    class: self.desc_name(*desc),
                    constant,
                }
            }
            Item::Object { desc, classes } => {
                self.path.push(id);
                let mut out = Vec::with_capacity(classes.len());
                for c in classes {
                    let names: Vec<String> = self
                        .descs
                        .get(c.desc)
                        .and_then(Option::as_ref)
                        .map(|d| d.fields.iter().map(|f| f.name.clone()).collect())
                        .unwrap_or_default();
                    let fields = names
                        .into_iter()
                        .zip(c.fields.iter())
                        .map(|(n, &f)| (n, self.value(f, depth + 1)))
                        .collect();
                    let annotation = c
                        .annotation
                        .as_ref()
                        .map(|a| a.iter().map(|&x| self.value(x, depth + 1)).collect());
                    out.push(ClassData {
                        class: self.desc_name(c.desc),
                        fields,
                        annotation,
                    });
                }
                self.path.pop();
                Value::Object(Object {
                    class: self.desc_name(*desc),
                    classes: out,
                })
            }
            Item::Array { desc, elements } => {
                self.path.push(id);
                let elements = elements.iter().map(|&e| self.value(e, depth + 1)).collect();
                self.path.pop();
                Value::Array {
                    class: self.desc_name(*desc),
                    elements,
                }
            }
            Item::PrimArray {
                desc,
                element,
                len,
                bytes,
            } => {
                self.charge(bytes.len());
                Value::PrimitiveArray {
                    class: self.desc_name(*desc),
                    element: *element,
                    len: *len,
                    bytes: bytes.clone(),
                }
            }
            Item::Class(d) | Item::DescRef(d) => Value::Class(self.desc_name(*d)),
            Item::Prim(p) => Value::Primitive(*p),
            Item::BlockData(b) => {
                self.charge(b.len());
                Value::BlockData(b.clone())
            }
            Item::Ref { handle, target } => {
                let cyclic = self.path.contains(target);
                if cyclic || self.budget == 0 || depth >= MAX_DEPTH * 2 {
                    Value::Ref(*handle)
                } else {
                    self.value(*target, depth + 1)
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]
mod tests {
    use super::*;

    use crate::testutil::corpus;

    fn last_stream_start(data: &[u8]) -> Option<usize> {
        data.windows(4).rposition(|w| w == [0xAC, 0xED, 0x00, 0x05])
    }

    /// (dir, checkpoint_properties column) for V4+ dirs.
    fn manifest(root: &std::path::Path) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let col = header
            .iter()
            .position(|h| *h == "checkpoint_properties")
            .unwrap();
        lines
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                let cp = cols.get(col)?.to_string();
                (!cp.is_empty()).then(|| (cols[0].to_string(), cp))
            })
            .collect()
    }

    fn check_trailer(data: &[u8], expected: &str) {
        let start = last_stream_start(data).expect("no stream magic");
        let mut r = ByteReader::with_base(data.get(start..).unwrap(), start as u64);
        let v = read_stream(&mut r).unwrap();
        assert!(
            r.is_empty(),
            "stream must end at end of file, {} bytes left",
            r.remaining()
        );
        let mut r2 = ByteReader::with_base(&data[start..], start as u64);
        skip_stream(&mut r2).unwrap();
        assert!(r2.is_empty());

        let props = v.as_object().expect("object");
        assert_eq!(
            props.class,
            "org.apache.flink.runtime.checkpoint.CheckpointProperties"
        );
        let ct = props
            .object_field("checkpointType")
            .expect("checkpointType");
        let parts: Vec<&str> = expected.split(':').collect();
        let is_checkpoint = parts[0] == "CheckpointType";
        assert_eq!(
            ct.class,
            format!("org.apache.flink.runtime.checkpoint.{}", parts[0])
        );
        assert_eq!(ct.str_field("name"), Some(parts[1]));
        for f in [
            "discardCancelled",
            "discardFailed",
            "discardFinished",
            "discardSubsumed",
            "discardSuspended",
        ] {
            assert_eq!(props.bool_field(f), Some(is_checkpoint), "{f}");
        }
        assert!(props.bool_field("forced").is_some());
        if is_checkpoint {
            assert_eq!(props.bool_field("forced"), Some(false));
            assert!(matches!(
                ct.field("sharingFilesStrategy"),
                Some(Value::Enum { class, constant })
                    if class == "org.apache.flink.runtime.checkpoint.SnapshotType$SharingFilesStrategy"
                        && constant == "FORWARD_BACKWARD"
            ));
        } else {
            assert!(matches!(
                ct.field("formatType"),
                Some(Value::Enum { class, constant })
                    if class == "org.apache.flink.core.execution.SavepointFormatType" && constant == parts[2]
            ));
            let post = ct.enum_field("postCheckpointAction").unwrap();
            let want = if parts[1] == "Suspend Savepoint" {
                "SUSPEND"
            } else {
                "NONE"
            };
            assert_eq!(post, want);
        }
    }

    #[test]
    fn reads_checkpoint_properties_from_corpus() {
        let Some(root) = corpus() else { return };
        let all = manifest(&root);
        let mut per_kind: std::collections::BTreeMap<String, usize> = Default::default();
        for (dir, cp) in &all {
            let path = root.join(dir).join("_metadata");
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            check_trailer(&data, cp);
            *per_kind.entry(cp.clone()).or_default() += 1;
        }
        eprintln!("checked trailers: {per_kind:?}");
        assert!(per_kind.len() >= 4, "{per_kind:?}");
    }

    #[test]
    fn reads_specific_savepoint() {
        let Some(root) = corpus() else { return };
        let data = std::fs::read(root.join("operatorstate-nonKeyed-flink2.3/_metadata")).unwrap();
        check_trailer(&data, "SavepointType:Savepoint:CANONICAL");
        let start = last_stream_start(&data).unwrap();
        let v = read_stream(&mut ByteReader::new(&data[start..])).unwrap();
        assert_eq!(v.as_object().unwrap().bool_field("forced"), Some(true));
    }

    #[test]
    fn null_stream() {
        let bytes = [0xAC, 0xED, 0x00, 0x05, 0x70, 0x99];
        let mut r = ByteReader::new(&bytes);
        assert_eq!(read_stream(&mut r).unwrap(), Value::Null);
        assert_eq!(r.position(), 5);
    }

    #[test]
    fn truncation_is_eof_with_offset() {
        let Some(root) = corpus() else { return };
        let data = std::fs::read(root.join("operatorstate-nonKeyed-flink2.3/_metadata")).unwrap();
        let start = last_stream_start(&data).unwrap();
        for cut in start..data.len() {
            let mut r = ByteReader::with_base(&data[start..cut], start as u64);
            let e = read_stream(&mut r).unwrap_err();
            assert!(
                matches!(e.kind, ErrorKind::UnexpectedEof { .. }),
                "{cut}: {e}"
            );
            assert!(e.offset >= start as u64 && e.offset <= cut as u64);
        }
    }

    #[test]
    fn bad_header_and_bad_reference() {
        let e = read_stream(&mut ByteReader::new(&[0xAC, 0xED, 0x00, 0x04, 0x70])).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::JavaSerialization(_)));
        let e = read_stream(&mut ByteReader::new(&[
            0xAC, 0xED, 0x00, 0x05, 0x71, 0, 0x7E, 0, 0,
        ]))
        .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::JavaSerialization(_)));
        assert_eq!(e.offset, 4);
    }

    // --- Hand-built streams (test-side writer), not from real files. ---

    fn utf(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    #[test]
    fn handbuilt_cycle_becomes_ref() {
        // class Node { Object next; } with node.next = node (writeObject annotation empty)
        let mut b = vec![0xAC, 0xED, 0, 5, TC_OBJECT, TC_CLASSDESC];
        utf(&mut b, "Node");
        b.extend_from_slice(&1i64.to_be_bytes());
        b.push(SC_SERIALIZABLE | SC_WRITE_METHOD);
        b.extend_from_slice(&1i16.to_be_bytes());
        b.push(b'L');
        utf(&mut b, "next");
        b.push(TC_STRING); // handle 0x7E0001
        utf(&mut b, "Ljava/lang/Object;");
        b.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        // object handle 0x7E0002
        b.push(TC_REFERENCE);
        b.extend_from_slice(&0x7E_0002u32.to_be_bytes());
        b.extend_from_slice(&[TC_BLOCKDATA, 2, 0xAB, 0xCD, TC_ENDBLOCKDATA]);
        let mut r = ByteReader::new(&b);
        let v = read_stream(&mut r).unwrap();
        assert!(r.is_empty());
        let o = v.as_object().unwrap();
        assert_eq!(o.class, "Node");
        assert_eq!(o.field("next"), Some(&Value::Ref(0x7E_0002)));
        assert_eq!(
            o.classes[0].annotation,
            Some(vec![Value::BlockData(vec![0xAB, 0xCD])])
        );
    }

    #[test]
    fn handbuilt_exponential_references_are_bounded() {
        // Arrays of Object where each array holds two references to the previous one:
        // expanding naively would be 2^n nodes.
        let mut b = vec![0xAC, 0xED, 0, 5];
        let n = 60u32;
        // outermost array first; nest n arrays each [prev?]. Build innermost-first is not
        // possible with a stream, so build: array(class) of 2 elements: a new array, ref to it.
        fn arr(b: &mut Vec<u8>, level: u32, first: bool) {
            b.push(TC_ARRAY);
            if first {
                b.push(TC_CLASSDESC);
                utf(b, "[Ljava.lang.Object;");
                b.extend_from_slice(&0i64.to_be_bytes());
                b.push(SC_SERIALIZABLE);
                b.extend_from_slice(&0i16.to_be_bytes());
                b.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
            } else {
                b.push(TC_REFERENCE);
                b.extend_from_slice(&BASE_HANDLE.to_be_bytes());
            }
            if level == 0 {
                b.extend_from_slice(&0i32.to_be_bytes());
                return;
            }
            b.extend_from_slice(&2i32.to_be_bytes());
            // handle of the child array: desc=0, then arrays 1,2,3,... in order
            let child_handle = BASE_HANDLE + 1 + (60 - level) + 1;
            arr(b, level - 1, false);
            b.push(TC_REFERENCE);
            b.extend_from_slice(&child_handle.to_be_bytes());
        }
        arr(&mut b, n, true);
        let mut r = ByteReader::new(&b);
        let v = read_stream(&mut r).unwrap();
        assert!(r.is_empty());
        assert!(matches!(v, Value::Array { .. }));
        let mut r = ByteReader::new(&b);
        skip_stream(&mut r).unwrap();
    }

    #[test]
    fn handbuilt_deep_nesting_is_too_deep() {
        let mut b = vec![0xAC, 0xED, 0, 5];
        b.push(TC_ARRAY);
        b.push(TC_CLASSDESC);
        utf(&mut b, "[Ljava.lang.Object;");
        b.extend_from_slice(&0i64.to_be_bytes());
        b.push(SC_SERIALIZABLE);
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        b.extend_from_slice(&1i32.to_be_bytes());
        for _ in 0..100_000 {
            b.push(TC_ARRAY);
            b.push(TC_REFERENCE);
            b.extend_from_slice(&BASE_HANDLE.to_be_bytes());
            b.extend_from_slice(&1i32.to_be_bytes());
        }
        b.push(TC_NULL);
        let e = read_stream(&mut ByteReader::new(&b)).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooDeep(_)), "{e}");
    }

    #[test]
    fn handbuilt_primitive_array_and_long_string() {
        let mut b = vec![0xAC, 0xED, 0, 5, TC_ARRAY, TC_CLASSDESC];
        utf(&mut b, "[I");
        b.extend_from_slice(&0i64.to_be_bytes());
        b.push(SC_SERIALIZABLE);
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        b.extend_from_slice(&2i32.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
        let v = read_stream(&mut ByteReader::new(&b)).unwrap();
        assert!(matches!(
            v,
            Value::PrimitiveArray {
                element: 'I',
                len: 2,
                ..
            }
        ));
        // huge length rejected before allocating
        let mut b2 = b.clone();
        let at = b2.len() - 12;
        b2[at..at + 4].copy_from_slice(&0x7fff_ffffi32.to_be_bytes());
        let e = read_stream(&mut ByteReader::new(&b2)).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::UnexpectedEof {
                    needed: 0x1_ffff_fffc,
                    ..
                }
            ),
            "{e}"
        );

        let mut b = vec![0xAC, 0xED, 0, 5, TC_LONGSTRING];
        b.extend_from_slice(&3i64.to_be_bytes());
        b.extend_from_slice(b"abc");
        assert_eq!(
            read_stream(&mut ByteReader::new(&b)).unwrap(),
            Value::String("abc".into())
        );
    }
}
