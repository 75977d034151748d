//! Who may see and do what (API.md "Roles"). Pure rules; the HTTP side is `crate::auth`.
//!
//! - anonymous: published records, and aggregates and coverage over them;
//! - submitter (one township): its own records in any status, plus published ones; creates and
//!   edits its drafts and returned records and submits them;
//! - reviewer (a region subtree): everything under its region, plus published ones; returns,
//!   approves and publishes there;
//! - admin: everything, tokens, reopen.
//!
//! A record the caller may not see answers 404, exactly as a missing one; a record it may see
//! but not change answers 403.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::workflow::Action;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Anonymous,
    Submitter,
    Reviewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Anonymous, Role::Submitter, Role::Reviewer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Submitter => "submitter",
            Self::Reviewer => "reviewer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// Which records a caller's queries cover, as a SQL filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Every record (admin).
    All,
    /// Published records only (anonymous; and the default, so a query that forgets to ask
    /// shows the least).
    #[default]
    Published,
    /// Published records, and every record under this region code prefix.
    PublishedOrUnder(String),
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The caller must present a token (401).
    NeedsToken,
    /// The caller may not see the record: answered exactly as a missing one (404).
    Hidden,
    /// The caller sees the record or region but may not do this (403).
    Forbidden(String),
}

/// A caller: its role, and for submitters and reviewers the region code prefix it acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    pub scope: Option<String>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Self { role: Role::Anonymous, scope: None }
    }

    /// Whether `region_code` lies in the caller's own region (everywhere for admin, nowhere
    /// for anonymous).
    pub fn in_scope(&self, region_code: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Anonymous => false,
            Role::Submitter | Role::Reviewer => self.scope.as_deref().is_some_and(|s| region_code.starts_with(s)),
        }
    }

    /// Whether the caller may read a record of `region_code` in `status`.
    pub fn sees(&self, region_code: &str, status: &str) -> bool {
        status == "published" || self.in_scope(region_code)
    }

    pub fn visibility(&self) -> Visibility {
        match (self.role, &self.scope) {
            (Role::Admin, _) => Visibility::All,
            (Role::Anonymous, _) | (_, None) => Visibility::Published,
            (_, Some(scope)) => Visibility::PublishedOrUnder(scope.clone()),
        }
    }

    /// Reading a record: hidden ones answer as missing.
    pub fn may_read(&self, region_code: &str, status: &str) -> Result<(), Denied> {
        if self.sees(region_code, status) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Actions that need a token but no particular record (validate, revisions).
    pub fn require_token(&self) -> Result<(), Denied> {
        match self.role {
            Role::Anonymous => Err(Denied::NeedsToken),
            _ => Ok(()),
        }
    }

    /// Admin-only actions: tokens.
    pub fn require_admin(&self) -> Result<(), Denied> {
        self.require_token()?;
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(Denied::Forbidden(format!("only admin tokens may do this, not {}", self.role.as_str()))),
        }
    }

    /// Reading a record's history or running the rules for a region: the caller's own region.
    pub fn may_inspect(&self, region_code: &str, status: Option<&str>) -> Result<(), Denied> {
        self.require_token()?;
        if let Some(status) = status {
            if !self.sees(region_code, status) {
                return Err(Denied::Hidden);
            }
        }
        if self.in_scope(region_code) {
            Ok(())
        } else {
            Err(Denied::Forbidden(format!("region {region_code} is outside this token's region")))
        }
    }

    /// Creating, replacing, deleting or batch-loading a record of `region_code`; `status` is
    /// the stored record's, when there is one.
    pub fn may_edit(&self, region_code: &str, status: Option<&str>) -> Result<(), Denied> {
        self.require_token()?;
        if let Some(status) = status {
            if !self.sees(region_code, status) {
                return Err(Denied::Hidden);
            }
        }
        match self.role {
            Role::Admin => Ok(()),
            Role::Submitter if self.in_scope(region_code) => Ok(()),
            Role::Submitter => Err(Denied::Forbidden(format!("region {region_code} is outside this token's township"))),
            _ => Err(Denied::Forbidden(format!("{} tokens may not create or edit records", self.role.as_str()))),
        }
    }

    /// A review action on a record of `region_code` in `status`.
    pub fn may_act(&self, action: Action, region_code: &str, status: &str) -> Result<(), Denied> {
        self.require_token()?;
        if !self.sees(region_code, status) {
            return Err(Denied::Hidden);
        }
        let allowed = match action {
            Action::Submit => matches!(self.role, Role::Submitter | Role::Admin),
            Action::Return | Action::Approve | Action::Publish => matches!(self.role, Role::Reviewer | Role::Admin),
            Action::Reopen => self.role == Role::Admin,
        };
        if !allowed {
            return Err(Denied::Forbidden(format!("{} tokens may not {}", self.role.as_str(), action.as_str())));
        }
        if self.in_scope(region_code) {
            Ok(())
        } else {
            Err(Denied::Forbidden(format!("region {region_code} is outside this token's region")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, scope: Option<&str>) -> Principal {
        Principal { role, scope: scope.map(str::to_owned) }
    }

    #[test]
    fn anonymous_sees_only_published_and_does_nothing() {
        let anonymous = Principal::anonymous();
        assert!(anonymous.sees("430482104", "published"));
        assert!(!anonymous.sees("430482104", "approved"));
        assert_eq!(anonymous.visibility(), Visibility::Published);
        assert_eq!(anonymous.may_edit("430482104", None), Err(Denied::NeedsToken));
        assert_eq!(anonymous.may_act(Action::Submit, "430482104", "published"), Err(Denied::NeedsToken));
    }

    #[test]
    fn submitters_edit_and_submit_in_their_township_only() {
        let submitter = who(Role::Submitter, Some("430482104"));
        assert!(submitter.may_edit("430482104", Some("draft")).is_ok());
        assert_eq!(submitter.may_edit("430482105", Some("draft")), Err(Denied::Hidden));
        assert!(matches!(submitter.may_edit("430482105", Some("published")), Err(Denied::Forbidden(_))));
        assert!(matches!(submitter.may_edit("430482105", None), Err(Denied::Forbidden(_))));
        assert!(submitter.may_act(Action::Submit, "430482104", "draft").is_ok());
        assert!(matches!(submitter.may_act(Action::Approve, "430482104", "submitted"), Err(Denied::Forbidden(_))));
        assert_eq!(submitter.visibility(), Visibility::PublishedOrUnder("430482104".into()));
    }

    #[test]
    fn reviewers_review_their_subtree_and_never_edit() {
        let reviewer = who(Role::Reviewer, Some("430482"));
        assert!(reviewer.sees("430482104", "submitted"));
        assert!(!reviewer.sees("430481100", "submitted"));
        assert!(reviewer.may_act(Action::Approve, "430482104", "submitted").is_ok());
        assert_eq!(reviewer.may_act(Action::Approve, "430481100", "submitted"), Err(Denied::Hidden));
        assert!(matches!(reviewer.may_act(Action::Submit, "430482104", "draft"), Err(Denied::Forbidden(_))));
        assert!(matches!(reviewer.may_act(Action::Reopen, "430482104", "approved"), Err(Denied::Forbidden(_))));
        assert!(matches!(reviewer.may_edit("430482104", Some("draft")), Err(Denied::Forbidden(_))));
    }

    #[test]
    fn admins_do_everything() {
        let admin = who(Role::Admin, None);
        assert_eq!(admin.visibility(), Visibility::All);
        assert!(admin.may_act(Action::Reopen, "110101001", "published").is_ok());
        assert!(admin.may_edit("110101001", Some("draft")).is_ok());
        assert!(admin.require_admin().is_ok());
        assert!(matches!(who(Role::Reviewer, Some("43")).require_admin(), Err(Denied::Forbidden(_))));
    }
}
