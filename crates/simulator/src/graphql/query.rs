//! The incoming request, parsed with `graphql-parser` and lowered into the
//! small tree the rest of the module walks: each field with its response
//! key (alias or name), its arguments with variables already substituted,
//! the type condition of the fragment it came from, and its sub-selection.
//! Fragments (named and inline) are flattened here, so nothing else has to
//! know GraphQL's syntax.

use std::collections::BTreeMap;

use graphql_parser::query::{
    parse_query, Definition, Document, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet, TypeCondition, Value as GqlValue,
};
use serde_json::{Map, Value};

/// One selected field.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    pub name: String,
    /// Where the answer goes: the alias, or the name.
    pub key: String,
    pub args: BTreeMap<String, Value>,
    /// `Some("Order")` when selected inside `... on Order`.
    pub on: Option<String>,
    pub selection: Vec<Field>,
}

impl Field {
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.get(name).filter(|v| !v.is_null())
    }

    pub fn arg_str(&self, name: &str) -> Option<&str> {
        self.arg(name).and_then(Value::as_str)
    }

    pub fn arg_u64(&self, name: &str) -> Option<u64> {
        self.arg(name).and_then(Value::as_u64)
    }

    pub fn arg_bool(&self, name: &str) -> Option<bool> {
        self.arg(name).and_then(Value::as_bool)
    }

    /// The sub-field named `name` (the first, if selected twice).
    pub fn child(&self, name: &str) -> Option<&Field> {
        self.selection.iter().find(|f| f.name == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Query,
    Mutation,
}

/// The operation to run.
#[derive(Debug)]
pub(crate) struct Operation {
    pub kind: Kind,
    pub fields: Vec<Field>,
}

/// Why a request cannot run, worded as a GraphQL server words it.
#[derive(Debug, PartialEq)]
pub(crate) struct Invalid(pub String);

/// The JSON body Shopify's endpoint accepts.
#[derive(serde::Deserialize)]
pub(crate) struct Request {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
}

/// Parses `text` and selects the operation (`name`, or the only one).
pub(crate) fn operation(
    text: &str,
    variables: &Map<String, Value>,
    name: Option<&str>,
) -> Result<Operation, Invalid> {
    let document: Document<'_, String> =
        parse_query(text).map_err(|e| Invalid(e.to_string().trim().to_string()))?;
    let fragments: BTreeMap<&str, &FragmentDefinition<'_, String>> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            _ => None,
        })
        .collect();
    let operations: Vec<(Option<&String>, Kind, &SelectionSet<'_, String>, _)> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(op) => Some(op),
            _ => None,
        })
        .filter_map(|op| match op {
            OperationDefinition::SelectionSet(set) => Some((None, Kind::Query, set, Vec::new())),
            OperationDefinition::Query(q) => Some((
                q.name.as_ref(),
                Kind::Query,
                &q.selection_set,
                q.variable_definitions.clone(),
            )),
            OperationDefinition::Mutation(m) => Some((
                m.name.as_ref(),
                Kind::Mutation,
                &m.selection_set,
                m.variable_definitions.clone(),
            )),
            OperationDefinition::Subscription(_) => None,
        })
        .collect();
    let chosen = match name {
        Some(wanted) => operations
            .iter()
            .find(|o| o.0.map(String::as_str) == Some(wanted))
            .ok_or_else(|| Invalid(format!("No operation named \"{wanted}\"")))?,
        None if operations.len() == 1 => &operations[0],
        None if operations.is_empty() => {
            return Err(Invalid("No operations in query document".into()))
        }
        None => {
            return Err(Invalid(
                "An operation name is required when sending multiple operations.".into(),
            ))
        }
    };
    // Declared defaults first, then the variables sent.
    let mut vars = Map::new();
    for definition in &chosen.3 {
        if let Some(default) = &definition.default_value {
            vars.insert(definition.name.clone(), json_of(default, &Map::new()));
        }
    }
    for (k, v) in variables {
        vars.insert(k.clone(), v.clone());
    }
    let lowering = Lowering {
        fragments: &fragments,
        variables: &vars,
    };
    let mut fields = Vec::new();
    lowering.selection(chosen.2, None, &mut fields, 0)?;
    Ok(Operation {
        kind: chosen.1,
        fields,
    })
}

struct Lowering<'a, 'd> {
    fragments: &'a BTreeMap<&'a str, &'a FragmentDefinition<'d, String>>,
    variables: &'a Map<String, Value>,
}

/// Fragments may spread fragments; this bounds a cycle.
const MAX_FRAGMENT_DEPTH: usize = 32;

impl Lowering<'_, '_> {
    fn selection(
        &self,
        set: &SelectionSet<'_, String>,
        on: Option<&str>,
        out: &mut Vec<Field>,
        depth: usize,
    ) -> Result<(), Invalid> {
        if depth > MAX_FRAGMENT_DEPTH {
            return Err(Invalid("Fragment spreads are nested too deeply".into()));
        }
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    let mut selection = Vec::new();
                    self.selection(&f.selection_set, None, &mut selection, depth)?;
                    out.push(Field {
                        name: f.name.clone(),
                        key: f.alias.clone().unwrap_or_else(|| f.name.clone()),
                        args: f
                            .arguments
                            .iter()
                            .map(|(k, v)| (k.clone(), json_of(v, self.variables)))
                            .collect(),
                        on: on.map(str::to_string),
                        selection,
                    });
                }
                Selection::InlineFragment(inline) => {
                    let condition = match &inline.type_condition {
                        Some(TypeCondition::On(t)) => Some(t.as_str()),
                        None => on,
                    };
                    self.selection(&inline.selection_set, condition, out, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    let fragment = self
                        .fragments
                        .get(spread.fragment_name.as_str())
                        .ok_or_else(|| {
                            Invalid(format!(
                                "Fragment {} was used, but not defined",
                                spread.fragment_name
                            ))
                        })?;
                    let TypeCondition::On(t) = &fragment.type_condition;
                    self.selection(&fragment.selection_set, Some(t.as_str()), out, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// An argument as JSON, variables substituted (an unknown variable is null).
fn json_of(value: &GqlValue<'_, String>, variables: &Map<String, Value>) -> Value {
    match value {
        GqlValue::Variable(name) => variables.get(name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        GqlValue::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        GqlValue::String(s) => Value::String(s.clone()),
        GqlValue::Boolean(b) => Value::Bool(*b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => Value::String(e.clone()),
        GqlValue::List(items) => items.iter().map(|v| json_of(v, variables)).collect(),
        GqlValue::Object(fields) => fields
            .iter()
            .map(|(k, v)| (k.clone(), json_of(v, variables)))
            .collect::<Map<_, _>>()
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_fragments_and_aliases_are_lowered() {
        let text = r#"
            query Page($n: Int = 5, $after: String) {
              recent: orders(first: $n, after: $after, query: "updated_at:>'2026-01-01'") {
                edges { node { ...OrderBits } }
              }
            }
            fragment OrderBits on Order { id name }
        "#;
        let mut vars = Map::new();
        vars.insert("after".into(), Value::String("abc".into()));
        let op = operation(text, &vars, None).unwrap();
        assert_eq!(op.kind, Kind::Query);
        let orders = &op.fields[0];
        assert_eq!(
            (orders.name.as_str(), orders.key.as_str()),
            ("orders", "recent")
        );
        assert_eq!(orders.arg_u64("first"), Some(5));
        assert_eq!(orders.arg_str("after"), Some("abc"));
        let node = orders.child("edges").unwrap().child("node").unwrap();
        let names: Vec<&str> = node.selection.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "name"]);
        assert_eq!(node.selection[0].on.as_deref(), Some("Order"));
        assert!(operation("{ orders(first: ", &Map::new(), None).is_err());
    }
}
