//! `application/x-www-form-urlencoded`, decoded exactly once; a repeated key is an error (R11).

use std::collections::HashMap;

use percent_encoding::percent_decode;

use super::DialectError;

pub(crate) struct Form(HashMap<String, String>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, DialectError> {
        let mut map = HashMap::new();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let mut kv = pair.splitn(2, |&b| b == b'=');
            let key = decode(kv.next().unwrap_or_default())?;
            let value = decode(kv.next().unwrap_or_default())?;
            if map.insert(key, value).is_some() {
                return Err(DialectError::DuplicateKey);
            }
        }
        Ok(Self(map))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    pub(crate) fn require(&mut self, key: &'static str) -> Result<String, DialectError> {
        self.take(key).filter(|v| !v.trim_ascii().is_empty()).ok_or(DialectError::MissingField(key))
    }
}

fn decode(raw: &[u8]) -> Result<String, DialectError> {
    let plus: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_decode(&plus).collect();
    String::from_utf8(bytes).map_err(|_| DialectError::Undecodable)
}
