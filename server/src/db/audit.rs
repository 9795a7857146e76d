//! The `audit_log` table and the one API every mutation records itself
//! through: `db.audit().record(AuditEntry { .. })`.
//!
//! Hooking a new mutation in (e.g. threshold changes, attack simulations):
//!
//! ```ignore
//! let result = self.do_the_change(&request).await;          // Result<T, AppError>
//! let user = crate::auth::current_user();
//! self.db.audit().record(AuditEntry::of_result(user, actions::THRESHOLD_CHANGE, &alarm_name, &result)).await;
//! result
//! ```
//!
//! The caller names the user (for a request, `auth::current_user()`:
//! the session's user, or "local (no password)"), so this repository does
//! not reach into the request. Recording never fails the mutation it
//! records: a failed insert is logged and the result passes on.

use crate::clock::now_ms;
use keywatch_app::api::audit::AuditRecord;
use keywatch_app::error::AppError;
use sqlx::SqlitePool;

use super::DbError;
use crate::clock::rfc3339;

/// The actions the console records, by area. Other areas add theirs here.
pub mod actions {
    /// A change set executed: a section's stack created or updated.
    pub const LAB_DEPLOY: &str = "lab.deploy";
    /// The lab torn down (started; its steps are on the Teardown page).
    pub const LAB_TEARDOWN: &str = "lab.teardown";
    /// One section's stack deleted from its page (to deploy it again).
    pub const LAB_DELETE_SECTION: &str = "lab.delete-section";
    /// A lab deployed by hand adopted: Keywatch manages its stacks from then on.
    pub const LAB_ADOPT: &str = "lab.adopt";
    /// Something teardown left behind (an RDS final snapshot) deleted.
    pub const LEFTOVER_REMOVE: &str = "lab.remove-leftover";
    /// An alarm's threshold (or evaluation settings) changed.
    pub const THRESHOLD_CHANGE: &str = "threshold.change";
    /// The Testing page's round trip: one record encrypted and decrypted
    /// through the lab's application.
    pub const ROUND_TRIP: &str = "attack.round-trip";
    /// An attack simulation run against the lab.
    pub const ATTACK_SIMULATION: &str = "attack.simulate";
    /// A logging-stack detection switched on, off or retuned.
    pub const DETECTION_CHANGE: &str = "detection.change";
    /// An alarm's response playbook set, changed or removed.
    pub const RESPONSE_PLAYBOOK: &str = "response.playbook";
    /// A response recorded for an alarm episode (its mode decides what follows).
    pub const RESPONSE_START: &str = "response.start";
    /// A response's AWS calls made: the role contained, the key disabled.
    pub const RESPONSE_RUN: &str = "response.run";
    /// A response approved or refused in the console.
    pub const RESPONSE_DECIDE: &str = "response.decide";
    /// A response undone: the policies deleted, the key enabled again.
    pub const RESPONSE_REVERT: &str = "response.revert";
    /// A maintenance window opened or ended on an alarm's page.
    pub const MAINTENANCE_WINDOW: &str = "maintenance.window";
    /// An alarm's actions disabled because a maintenance window opened.
    pub const MAINTENANCE_MUTE: &str = "maintenance.mute";
    /// An alarm's actions enabled again because its windows closed.
    pub const MAINTENANCE_UNMUTE: &str = "maintenance.unmute";
    /// A running attack simulation stopped from the Testing page.
    pub const ATTACK_STOP: &str = "attack.stop";
    pub const SUBSCRIBER_ADD: &str = "subscriber.add";
    pub const SUBSCRIBER_REMOVE: &str = "subscriber.remove";
    pub const SUBSCRIBER_RESEND: &str = "subscriber.resend-confirmation";
    pub const SUBSCRIBER_CONFIRM: &str = "subscriber.confirm";
    /// SNS asked the console's HTTP(S) endpoint to confirm a subscription.
    pub const SNS_ENDPOINT_CONFIRM: &str = "sns-endpoint.confirm";
    pub const HISTORY_RETENTION: &str = "history.retention";
    /// The console switched to another Region or profile.
    pub const CONNECTION_CHANGE: &str = "connection.change";
    pub const LOGIN: &str = "auth.login";
    pub const LOGOUT: &str = "auth.logout";
    pub const PASSWORD_SET: &str = "auth.set-password";
}

/// How a recorded action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    Succeeded,
    /// Tried and failed (AWS or Keywatch said no, or broke).
    Failed,
    /// Not tried: bad input, a wrong password, a rate limit.
    Refused,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Succeeded => "succeeded",
            AuditOutcome::Failed => "failed",
            AuditOutcome::Refused => "refused",
        }
    }
}

/// One mutation to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The session's user, or "local (no password)".
    pub user: String,
    /// One of [`actions`].
    pub action: &'static str,
    /// What the action was done to (a stack, topic, masked endpoint, setting).
    pub target: String,
    pub outcome: AuditOutcome,
    /// What users may read about the outcome (never internal detail).
    pub detail: Option<String>,
}

/// Longest target or detail stored: input that reached the log is kept
/// readable, not whole.
const MAX_TEXT: usize = 500;

impl AuditEntry {
    /// An entry by `user`.
    pub fn new(user: String, action: &'static str, target: impl Into<String>, outcome: AuditOutcome) -> AuditEntry {
        AuditEntry { user, action, target: target.into(), outcome, detail: None }
    }

    /// An entry for a mutation's result: succeeded, refused (invalid input,
    /// conflict) or failed, with the error's user-facing text as detail.
    pub fn of_result<T>(
        user: String,
        action: &'static str,
        target: impl Into<String>,
        result: &Result<T, AppError>,
    ) -> AuditEntry {
        let (outcome, detail) = match result {
            Ok(_) => (AuditOutcome::Succeeded, None),
            Err(error @ (AppError::InvalidInput { .. } | AppError::Conflict(_) | AppError::NotFound(_))) => {
                (AuditOutcome::Refused, Some(error.to_string()))
            }
            Err(error) => (AuditOutcome::Failed, Some(error.to_string())),
        };
        AuditEntry { detail, ..AuditEntry::new(user, action, target, outcome) }
    }

    /// The same entry with `detail`.
    pub fn with_detail(self, detail: impl Into<String>) -> AuditEntry {
        AuditEntry { detail: Some(detail.into()), ..self }
    }
}

/// Queries on `audit_log`.
pub struct AuditLog<'a> {
    pool: &'a SqlitePool,
}

impl<'a> AuditLog<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        AuditLog { pool }
    }

    /// Records `entry` now. A failure is logged, not returned: the
    /// mutation already happened and its result must reach the user.
    pub async fn record(&self, entry: AuditEntry) {
        if let Err(error) = self.insert(&entry, now_ms()).await {
            tracing::error!(%error, action = entry.action, target = %entry.target, "audit record could not be stored");
        }
    }

    /// Stores `entry` at `at_ms`; returns its id.
    pub async fn insert(&self, entry: &AuditEntry, at_ms: i64) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO audit_log (at_ms, user, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)
             RETURNING id",
        )
        .bind(at_ms)
        .bind(clip(&entry.user))
        .bind(entry.action)
        .bind(clip(&entry.target))
        .bind(entry.outcome.as_str())
        .bind(entry.detail.as_deref().map(clip))
        .fetch_one(self.pool)
        .await?)
    }

    /// Records older than `before` (all when `None`), newest first.
    pub async fn page(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>, DbError> {
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, String, Option<String>)>(
            "SELECT id, at_ms, user, action, target, outcome, detail FROM audit_log
             WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, at_ms, user, action, target, outcome, detail)| AuditRecord {
                id,
                at: rfc3339(at_ms),
                user,
                action,
                target,
                outcome,
                detail,
            })
            .collect())
    }
}

/// At most [`MAX_TEXT`] characters; control characters, bidirectional
/// controls and invisible separators shown as `\u{..}` escapes, so an entry
/// can neither forge a line nor display reordered text (CVE-2021-42574's
/// "Trojan Source" characters).
fn clip(text: &str) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_or_invisible(c) { out.extend(c.escape_unicode()) } else { out.push(c) }
    }
    out
}

/// Unicode's bidirectional formatting characters (UAX #9: the embeddings,
/// overrides and isolates, and the implicit marks), zero-width characters,
/// the line and paragraph separators, and the byte-order mark.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://www.unicode.org/reports/tr9/#Directional_Formatting_Characters
    #[test]
    fn bidirectional_controls_are_escaped() {
        assert_eq!(clip("pattern1\u{202E}lmy.esab"), "pattern1\\u{202e}lmy.esab");
        assert_eq!(clip("a\u{2066}b\u{2069}\u{200F}c"), "a\\u{2066}b\\u{2069}\\u{200f}c");
        assert_eq!(clip("Zürich ✓"), "Zürich ✓");
    }

    #[test]
    fn stored_text_is_clipped_and_control_characters_escaped() {
        assert_eq!(clip("stack\nforged line"), "stack\\u{a}forged line");
        let long = "x".repeat(MAX_TEXT + 10);
        assert_eq!(clip(&long).chars().count(), MAX_TEXT + 1);
    }

    #[test]
    fn results_map_to_outcomes() {
        let refused: Result<(), AppError> = Err(AppError::InvalidInput { field: None, message: "bad".into() });
        assert_eq!(
            AuditEntry::of_result("u".to_owned(), actions::LAB_DEPLOY, "s", &refused).outcome,
            AuditOutcome::Refused
        );
        let failed: Result<(), AppError> = Err(AppError::Unavailable("down".into()));
        let entry = AuditEntry::of_result("u".to_owned(), actions::LAB_DEPLOY, "s", &failed);
        assert_eq!((entry.outcome, entry.detail.as_deref()), (AuditOutcome::Failed, Some("down")));
        assert_eq!(
            AuditEntry::of_result("u".to_owned(), actions::LAB_DEPLOY, "s", &Ok(())).outcome,
            AuditOutcome::Succeeded
        );
    }
}
