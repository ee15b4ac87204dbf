//! RFC 8785 JSON Canonicalization Scheme (JCS), for the integer-only JSON the
//! protocol signs and digests.
//!
//! Object members are sorted by the UTF-16 code units of their names, there
//! is no whitespace, strings are escaped as ECMAScript's `JSON.stringify`
//! does, and numbers are integers written in plain decimal.
//!
//! Non-integer numbers are refused with `number_not_integer`: money is always
//! an integer here, and refusing avoids reimplementing ECMAScript's
//! shortest-round-trip float printing. Integers are written exactly, also
//! beyond 2^53 where RFC 8785 would round them through an IEEE double; the
//! protocol's amounts never exceed 2^53 - 1, so the two agree on every valid
//! order.

use serde_json::Value;

use crate::error::FieldError;

/// Canonicalizes `value` per RFC 8785. Fails only for a non-integer number.
pub fn canonicalize(value: &Value) -> Result<String, FieldError> {
    let mut out = String::new();
    write_value(&mut out, value, "")?;
    Ok(out)
}

/// Appends the canonical form of `value`; `path` names it in errors.
fn write_value(out: &mut String, value: &Value, path: &str) -> Result<(), FieldError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number, path)?,
        Value::String(text) => write_string(out, text),
        Value::Array(values) => {
            out.push('[');
            for (index, element) in values.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, element, &format!("{path}[{index}]"))?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, member)) in members.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                let member_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                write_value(out, member, &member_path)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(out: &mut String, number: &serde_json::Number, path: &str) -> Result<(), FieldError> {
    if let Some(unsigned) = number.as_u64() {
        out.push_str(&unsigned.to_string());
    } else if let Some(signed) = number.as_i64() {
        out.push_str(&signed.to_string());
    } else {
        return Err(FieldError::new(
            "number_not_integer",
            path,
            format!(
                "{} must be an integer; fractional numbers are not accepted.",
                display_path(path)
            ),
        ));
    }
    Ok(())
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "The value"
    } else {
        path
    }
}

/// Appends `text` as a JSON string literal escaped like ECMAScript's
/// `JSON.stringify`: `"` and `\` escaped, the five short escapes for
/// control characters that have one, `\u00xx` (lowercase hex) for the other
/// characters below U+0020, and everything else (including U+007F and all
/// non-ASCII) as literal UTF-8.
pub(crate) fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(control)));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        canonicalize(&value).unwrap()
    }

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let value = json!({"b": [1, 2, {"z": null, "a": true}], "a": false, "c": "x"});
        assert_eq!(canonical(value), r#"{"a":false,"b":[1,2,{"a":true,"z":null}],"c":"x"}"#);
    }

    #[test]
    fn sorts_keys_by_utf16_code_units_not_bytes() {
        // U+E000 is one UTF-16 unit 0xE000; U+1F600 is the surrogate pair
        // 0xD83D 0xDE00, so it sorts first in UTF-16 but last in UTF-8.
        let value = json!({"\u{E000}": 1, "\u{1F600}": 2, "a": 3});
        assert_eq!(canonical(value), "{\"a\":3,\"\u{1F600}\":2,\"\u{E000}\":1}");
    }

    #[test]
    fn escapes_strings_like_json_stringify() {
        let value = json!("q\" b\\ \u{08}\u{0C}\n\r\t \u{01}\u{1F} \u{7F} é 注文 😀 /");
        assert_eq!(
            canonical(value),
            "\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f \u{7F} é 注文 😀 /\""
        );
    }

    #[test]
    fn writes_integers_in_plain_decimal() {
        assert_eq!(
            canonical(json!([0, -1, 9_007_199_254_740_991_u64, u64::MAX])),
            "[0,-1,9007199254740991,18446744073709551615]"
        );
    }

    #[test]
    fn refuses_fractional_numbers_with_their_path() {
        let error = canonicalize(&json!({"order": {"items": [{"unit_price": 1.5}]}})).unwrap_err();
        assert_eq!(error.code, "number_not_integer");
        assert_eq!(error.param, "order.items[0].unit_price");
        let error = canonicalize(&json!(0.5)).unwrap_err();
        assert_eq!(error.param, "");
    }

    #[test]
    fn empty_containers() {
        assert_eq!(canonical(json!({})), "{}");
        assert_eq!(canonical(json!([])), "[]");
        assert_eq!(canonical(json!("")), "\"\"");
    }
}
