//! The one error type of the template language, worded as CloudFormation
//! words its `ValidationError` messages.

/// What went wrong with a template, its parameters or an intrinsic function.
///
/// `Display` (and [`TemplateError::message`]) is CloudFormation's exact text,
/// ready to be returned as the message of a `ValidationError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The body is not well-formed YAML (1-based line and column).
    #[error("Template format error: YAML not well-formed. (line {line}, column {column})")]
    YamlSyntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The body is not well-formed JSON (1-based line and column).
    #[error("Template format error: JSON not well-formed. (line {line}, column {column})")]
    JsonSyntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// The template's structure is invalid; the text follows "Template format error: ".
    #[error("Template format error: {0}")]
    Format(String),
    /// An intrinsic function is misused; the text follows "Template error: ".
    #[error("Template error: {0}")]
    Intrinsic(String),
    /// A parameter value is missing or violates its declaration (full AWS text).
    #[error("{0}")]
    Parameter(String),
    /// `Ref`/`Fn::GetAtt` of a resource that has no physical id or attribute
    /// yet: the engine must create it first (not a template mistake).
    #[error("Resource {logical_id} is not available yet")]
    NotYetAvailable {
        /// Logical id of the resource that is not created yet.
        logical_id: String,
    },
    /// A `Fn::` key CloudFormation does not know (its text says "Template Error").
    #[error(
        "Template Error: Encountered unsupported function: {0} Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr]"
    )]
    UnsupportedFunction(String),
    /// Resources that wait for each other (CloudFormation words it without a prefix).
    #[error("Circular dependency between resources: [{}]", .0.join(", "))]
    CircularDependency(Vec<String>),
    /// `Fn::ImportValue` of a name no stack exports (AWS text).
    #[error("No export named {0} found")]
    ExportNotFound(String),
}

impl TemplateError {
    /// CloudFormation's exact message for this error.
    pub fn message(&self) -> String {
        self.to_string()
    }

    pub(crate) fn format(text: impl Into<String>) -> Self {
        TemplateError::Format(text.into())
    }

    pub(crate) fn intrinsic(text: impl Into<String>) -> Self {
        TemplateError::Intrinsic(text.into())
    }

    pub(crate) fn unresolved(names: &[String], block: &str) -> Self {
        TemplateError::Format(format!(
            "Unresolved resource dependencies [{}] in the {block} block of the template",
            names.join(", ")
        ))
    }
}
