//! `application/x-www-form-urlencoded`, decoded exactly once; a repeated key is an error (R11).

use percent_encoding::percent_decode;

use super::DialectError;

/// The decoded fields, in body order. A callback has a handful of them, so a scan beats hashing.
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, DialectError> {
        let mut fields: Vec<(String, String)> = Vec::with_capacity(8);
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let mut kv = pair.splitn(2, |&b| b == b'=');
            let key = decode(kv.next().unwrap_or_default())?;
            let value = decode(kv.next().unwrap_or_default())?;
            fields.push((key, value));
        }
        if has_duplicate(&fields) {
            return Err(DialectError::DuplicateKey);
        }
        Ok(Self(fields))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub(crate) fn take(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }

    pub(crate) fn require(&mut self, key: &'static str) -> Result<String, DialectError> {
        self.take(key).filter(|v| !v.trim_ascii().is_empty()).ok_or(DialectError::MissingField(key))
    }
}

/// Pairwise for a real callback's few fields; sorted for a crafted body of thousands, which would
/// otherwise cost a quadratic scan.
fn has_duplicate(fields: &[(String, String)]) -> bool {
    if fields.len() <= 16 {
        return fields.iter().enumerate().any(|(i, (k, _))| fields[..i].iter().any(|(other, _)| other == k));
    }
    let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// `+` is a space, then percent-decoding, exactly once; most fields hold neither and are copied as is.
fn decode(raw: &[u8]) -> Result<String, DialectError> {
    if !raw.iter().any(|&b| b == b'+' || b == b'%') {
        return std::str::from_utf8(raw).map(str::to_owned).map_err(|_| DialectError::Undecodable);
    }
    let plus: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_decode(&plus).collect();
    String::from_utf8(bytes).map_err(|_| DialectError::Undecodable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_once_and_a_repeated_key_is_refused_however_many_fields() {
        let mut form = Form::parse(b"phoneNumber=%2B255712345678&text=1*2&x=a+b%2Bc").unwrap();
        assert_eq!(form.get("x"), Some("a b+c"));
        assert_eq!(form.take("phoneNumber").as_deref(), Some("+255712345678"));
        assert_eq!(form.take("phoneNumber"), None);
        assert_eq!(form.get("text"), Some("1*2"));
        assert!(matches!(Form::parse(b"a=1&b=2&a=3"), Err(DialectError::DuplicateKey)));
        let many: Vec<String> = (0..100).map(|i| format!("k{i}=v")).collect();
        assert!(Form::parse(many.join("&").as_bytes()).is_ok());
        let repeated = format!("{}&k7=again", many.join("&"));
        assert!(matches!(Form::parse(repeated.as_bytes()), Err(DialectError::DuplicateKey)));
        assert!(matches!(Form::parse(b"a=%FF"), Err(DialectError::Undecodable)));
        assert!(
            matches!(Form::parse(b"a=\xff"), Err(DialectError::Undecodable)),
            "the unescaped fast path checks UTF-8 too"
        );
    }
}
