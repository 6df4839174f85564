//! Serialises a typed inventory part straight into a regorus [`Value`].
//!
//! The input of every vault used to go typed → `serde_json::Value` → regorus
//! value: two trees, the first with an ordered, hashed map per object.
//! Building the inputs of 1,000 vaults at Azure's limits for every rule took
//! 466 million instructions that way and 231 million this way, 5.5 % of the
//! whole run (callgrind, benches/README.md "Memory"). A test compares both
//! ways on every part of the demo inventory.
use std::collections::BTreeMap;

use regorus::Value;
use serde::Serialize;
use serde::ser;

/// The name serde_json gives the struct a `RawValue` serialises as; its one
/// field holds the raw JSON text.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Why a value could not be built: a map key that is not a string or a
/// number, or raw JSON that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ToValueError(String);

impl ser::Error for ToValueError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        ToValueError(msg.to_string())
    }
}

/// `value` as a regorus value, as `Value::from(serde_json::to_value(value))`
/// would give it.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ToValueError> {
    value.serialize(ValueSerializer)
}

struct ValueSerializer;

fn number(f: f64) -> Value {
    // serde_json writes a non-finite float as null.
    if f.is_finite() {
        Value::from(f)
    } else {
        Value::Null
    }
}

fn tagged(variant: &str, value: Value) -> Value {
    let mut map = BTreeMap::new();
    map.insert(Value::from(variant), value);
    Value::from(map)
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ToValueError;
    type SerializeSeq = Seq;
    type SerializeTuple = Seq;
    type SerializeTupleStruct = Seq;
    type SerializeTupleVariant = Seq;
    type SerializeMap = Map;
    type SerializeStruct = Map;
    type SerializeStructVariant = Map;

    fn serialize_bool(self, v: bool) -> Result<Value, ToValueError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ToValueError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ToValueError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ToValueError> {
        Ok(Value::from(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ToValueError> {
        Ok(Value::from(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ToValueError> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ToValueError> {
        Ok(Value::from(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ToValueError> {
        Ok(number(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ToValueError> {
        Ok(number(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ToValueError> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ToValueError> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ToValueError> {
        Ok(Value::from(
            v.iter()
                .map(|b| Value::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, ToValueError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, ToValueError> {
        Ok(Value::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ToValueError> {
        Ok(tagged(variant, value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq, ToValueError> {
        Ok(Seq {
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq, ToValueError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq, ToValueError> {
        Ok(Seq {
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map, ToValueError> {
        Ok(Map::default())
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Map, ToValueError> {
        Ok(Map {
            raw: name == RAW_VALUE_TOKEN,
            ..Map::default()
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Map, ToValueError> {
        Ok(Map {
            variant: Some(variant),
            ..Map::default()
        })
    }
}

/// An array under construction (or a tuple variant's, under its name).
struct Seq {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl Seq {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Value {
        let array = Value::from(self.items);
        match self.variant {
            Some(v) => tagged(v, array),
            None => array,
        }
    }
}

/// The four array-like serde traits, all building a [`Seq`].
macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Seq {
            type Ok = Value;
            type Error = ToValueError;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), ToValueError> {
                self.push(v)
            }
            fn end(self) -> Result<Value, ToValueError> {
                Ok(self.finish())
            }
        }
    )*};
}

seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object under construction: a map, a struct, a struct variant's
/// (under its name), or serde_json's raw JSON text.
#[derive(Default)]
struct Map {
    entries: BTreeMap<Value, Value>,
    next_key: Option<Value>,
    variant: Option<&'static str>,
    raw: bool,
    raw_value: Option<Value>,
}

impl Map {
    fn insert<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), ToValueError> {
        if self.raw {
            let Value::String(text) = value.serialize(ValueSerializer)? else {
                return Err(ToValueError("raw JSON that is not text".into()));
            };
            let parsed: Value = serde_json::from_str(&text)
                .map_err(|e| ToValueError(format!("raw JSON does not parse: {e}")))?;
            self.raw_value = Some(parsed);
            return Ok(());
        }
        self.entries
            .insert(Value::from(key), value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Value {
        if let Some(raw) = self.raw_value {
            return raw;
        }
        let object = Value::from(self.entries);
        match self.variant {
            Some(v) => tagged(v, object),
            None => object,
        }
    }
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = ToValueError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ToValueError> {
        // serde_json writes number keys as strings and refuses the others.
        let key = match key.serialize(ValueSerializer)? {
            k @ Value::String(_) => k,
            Value::Number(n) => Value::from(Value::Number(n).to_string()),
            Value::Bool(b) => Value::from(b.to_string()),
            other => {
                return Err(ToValueError(format!(
                    "a map key must be a string, found {other}"
                )));
            }
        };
        self.next_key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToValueError> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| ToValueError("a map value came before its key".into()))?;
        self.entries.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ToValueError> {
        Ok(self.finish())
    }
}

/// Structs and struct variants, both building a [`Map`].
macro_rules! struct_impl {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Map {
            type Ok = Value;
            type Error = ToValueError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), ToValueError> {
                self.insert(key, value)
            }
            fn end(self) -> Result<Value, ToValueError> {
                Ok(self.finish())
            }
        }
    )*};
}

struct_impl!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::to_value;
    use regorus::Value;

    fn through_json<T: serde::Serialize>(v: &T) -> Value {
        Value::from(serde_json::to_value(v).unwrap())
    }

    /// Every part of every vault and subscription of the demo inventory (all
    /// collectors' shapes, errors and not-collected parts, raw JSON kept as
    /// text, flattened extras) gives the same value both ways.
    #[test]
    fn gives_what_the_json_tree_gave_on_the_demo_inventory() {
        let inv = crate::demo::inventory().unwrap();
        assert!(!inv.vaults.is_empty());
        for v in &inv.vaults {
            assert_eq!(to_value(v).unwrap(), through_json(v), "{}", v.vault.name);
            assert_eq!(to_value(&v.vault).unwrap(), through_json(&v.vault));
        }
        for s in &inv.subscriptions {
            assert_eq!(to_value(s).unwrap(), through_json(s));
        }
        assert_eq!(to_value(&inv).unwrap(), through_json(&inv));
    }

    #[test]
    fn scalars_keys_and_enums_follow_serde_json() {
        #[derive(serde::Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(i32, bool),
            Struct { a: Option<String> },
        }
        let mut map = std::collections::BTreeMap::new();
        map.insert(7u32, f64::NAN);
        map.insert(8u32, 1.5);
        let cases: Vec<(Value, Value)> = vec![
            (to_value(&E::Unit).unwrap(), through_json(&E::Unit)),
            (to_value(&E::New(3)).unwrap(), through_json(&E::New(3))),
            (
                to_value(&E::Tuple(-4, true)).unwrap(),
                through_json(&E::Tuple(-4, true)),
            ),
            (
                to_value(&E::Struct { a: None }).unwrap(),
                through_json(&E::Struct { a: None }),
            ),
            (to_value(&map).unwrap(), through_json(&map)),
            (to_value(&'x').unwrap(), through_json(&'x')),
            (to_value(&()).unwrap(), through_json(&())),
            (to_value(&u64::MAX).unwrap(), through_json(&u64::MAX)),
            (to_value(&i64::MIN).unwrap(), through_json(&i64::MIN)),
        ];
        for (i, (mine, theirs)) in cases.into_iter().enumerate() {
            assert_eq!(mine, theirs, "case {i}");
        }
    }

    #[test]
    fn raw_json_is_parsed_and_a_bad_key_is_an_error() {
        let raw =
            serde_json::value::RawValue::from_string(r#"{"b": [1, 2.5, null], "a": "x"}"#.into())
                .unwrap();
        assert_eq!(to_value(&raw).unwrap(), through_json(&raw));
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1u8);
        let err = to_value(&bad).unwrap_err().to_string();
        assert!(err.contains("map key must be a string"), "{err}");
    }
}
