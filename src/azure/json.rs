//! JSON kvaudit keeps without reading it: the fields of an Azure answer no
//! model names, and the free-form objects a model carries as is (a key's
//! rotation policy, a vault's network ACLs). Rules read them through
//! `input`; Rust code does not.
//!
//! Kept as compact text rather than as a `serde_json::Value` tree: a key's
//! rotation policy is about 150 bytes of JSON but 2 KB as a tree of hashed
//! maps. On the 10,000-vault inventory at Azure's limits (25,145 keys,
//! 74,982 secrets, 50,000 diagnostic settings) the parsed inventory took
//! 431 MB of peak RSS as trees (benches/README.md, "Memory").
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// One JSON value, kept as its compact text and written back verbatim.
#[derive(Clone)]
pub struct Json(Box<RawValue>);

impl Json {
    /// The value of `value`.
    pub fn from_value(value: &serde_json::Value) -> Json {
        // A `serde_json::Value` always serialises to valid JSON.
        Json(serde_json::value::to_raw_value(value).expect("a JSON value serialises"))
    }

    /// Its compact JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// Parsed again, for the rare reader in Rust.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.text()).unwrap_or_default()
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        self.text() == other.text()
    }
}

impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Json {
    /// Through a `serde_json::Value`, not `RawValue` directly: models are
    /// read inside internally tagged enums and flattened structs, whose
    /// buffered content `RawValue` cannot be read from.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Json::from_value(&value))
    }
}

/// The fields of an answer its model does not name, in their order, kept
/// verbatim. Empty, it allocates nothing.
#[derive(Clone, Default, PartialEq)]
pub struct Extra(Vec<(String, Json)>);

impl Extra {
    /// Sets `key` (replacing it if present).
    pub fn insert(&mut self, key: impl Into<String>, value: serde_json::Value) {
        let key = key.into();
        let value = Json::from_value(&value);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of `key`, parsed.
    pub fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.value())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Extra, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Extra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extra, A::Error> {
                let mut entries: Vec<(String, Json)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    // A key repeated in the text: the last one wins, as in
                    // a `serde_json::Map`.
                    match entries.iter_mut().find(|(e, _)| *e == k) {
                        Some(entry) => entry.1 = v,
                        None => entries.push((k, v)),
                    }
                }
                entries.shrink_to_fit();
                Ok(Extra(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Model {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<Json>,
        #[serde(flatten)]
        extra: Extra,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    #[serde(tag = "status", rename_all = "camelCase")]
    enum Tagged {
        Ok { value: Vec<Model> },
    }

    #[test]
    fn round_trips_verbatim_in_order_inside_tagged_and_flattened_content() {
        let text = r#"{"status":"ok","value":[{"name":"k","policy":{"b":[1,2.5,{"c":null}],"a":"x"},"zeta":{"status":"ok"},"alpha":[true,"\u001b"]}]}"#;
        let parsed: Tagged = serde_json::from_str(text).unwrap();
        let Tagged::Ok { value } = &parsed;
        assert_eq!(value[0].extra.len(), 2);
        assert_eq!(value[0].extra.get("zeta"), Some(json!({"status": "ok"})));
        assert_eq!(
            value[0].policy.as_ref().unwrap().text(),
            r#"{"b":[1,2.5,{"c":null}],"a":"x"}"#
        );
        assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
        // What rules see: the same tree as the text's.
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn insert_replaces_and_empty_writes_nothing() {
        let mut m = Model {
            name: "k".into(),
            policy: None,
            extra: Extra::default(),
        };
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"name":"k"}"#);
        m.extra.insert("read", json!({"status": "error"}));
        m.extra.insert("read", json!({"status": "ok"}));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"name":"k","read":{"status":"ok"}}"#
        );
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value() {
        let m: Model = serde_json::from_str(r#"{"name":"k","x":1,"x":2}"#).unwrap();
        assert_eq!(m.extra.get("x"), Some(json!(2)));
        assert_eq!(m.extra.len(), 1);
    }
}
