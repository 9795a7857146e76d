//! A protocol-neutral value tree: what a service returns before a protocol
//! encodes it.
//!
//! It keeps the distinctions the wire formats need and JSON alone would lose:
//! member order (Query XML is ordered), timestamps (epoch seconds in JSON, a
//! tagged number in CBOR, ISO 8601 in XML) and blobs (base64 in JSON and XML,
//! byte strings in CBOR).

/// One value of an operation's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Blob(Vec<u8>),
    List(Vec<Value>),
    /// A structure or map, in member order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// An empty structure, to build with [`Value::with`].
    pub fn structure() -> Value {
        Value::Map(Vec::new())
    }

    /// Adds a member to a structure; builder style keeps handlers readable.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Value {
        if let Value::Map(members) = &mut self {
            members.push((name.to_owned(), value.into()));
        }
        self
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Value {
        Value::String(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Value {
        Value::String(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Value {
        Value::Integer(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Value {
        Value::Float(value)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(values: Vec<T>) -> Value {
        Value::List(values.into_iter().map(Into::into).collect())
    }
}
