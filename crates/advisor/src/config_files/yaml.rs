//! Spring's `application.yml` through a YAML 1.2 parser (saphyr): anchors and aliases,
//! flow style, block scalars, several documents, a byte-order mark, quoted keys. Nested keys
//! are joined with dots, list items as `key[i]` (Spring's binding), and merge keys (`<<:`,
//! which Spring's YAML reader honours) bring in their mappings before the mapping's own keys,
//! so explicit keys win.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::{ConfigError, Setting, error, is_pool_key, setting};

pub fn parse(file: &str, text: &str) -> Result<Vec<Setting>, ConfigError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        error(
            file,
            e.marker().line(),
            format!("this is not valid YAML: {}", e.info()),
        )
    })?;
    let mut out = Vec::new();
    for doc in &docs {
        walk(file, doc, String::new(), &mut out)?;
    }
    Ok(out)
}

fn walk(
    file: &str,
    node: &MarkedYaml,
    path: String,
    out: &mut Vec<Setting>,
) -> Result<(), ConfigError> {
    let line = node.span.start.line();
    match &node.data {
        YamlData::Mapping(map) => {
            let merges = map
                .iter()
                .filter(|(k, _)| scalar(k).as_deref() == Some("<<"));
            for (_, merged) in merges {
                match &merged.data {
                    // Of several merged mappings the first wins: walk them last to first.
                    YamlData::Sequence(items) => {
                        for item in items.iter().rev() {
                            walk(file, item, path.clone(), out)?;
                        }
                    }
                    _ => walk(file, merged, path.clone(), out)?,
                }
            }
            for (key, value) in map {
                let Some(key) = scalar(key) else { continue };
                if key == "<<" {
                    continue;
                }
                let full = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(file, value, full, out)?;
            }
        }
        YamlData::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(file, item, format!("{path}[{i}]"), out)?;
            }
        }
        YamlData::Tagged(_, inner) => walk(file, inner, path.clone(), out)?,
        _ => match scalar(node) {
            Some(value) => out.push(setting(file, &path, &value, line)),
            None if is_pool_key(&path) => {
                return Err(error(
                    file,
                    line,
                    format!("{path}: this value cannot be read"),
                ));
            }
            None => {}
        },
    }
    if matches!(node.data, YamlData::Mapping(_) | YamlData::Sequence(_)) && is_pool_key(&path) {
        return Err(error(
            file,
            line,
            format!("{path} is one value, not a list or a mapping"),
        ));
    }
    Ok(())
}

/// A scalar node's text as Spring would bind it (a null is empty).
fn scalar(node: &MarkedYaml) -> Option<String> {
    match &node.data {
        YamlData::Value(v) => Some(match v {
            Scalar::Null => String::new(),
            Scalar::Boolean(b) => b.to_string(),
            Scalar::Integer(i) => i.to_string(),
            Scalar::FloatingPoint(f) => f.to_string(),
            Scalar::String(s) => s.to_string(),
        }),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        YamlData::Tagged(_, inner) => scalar(inner),
        _ => None,
    }
}
