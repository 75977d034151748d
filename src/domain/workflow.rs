//! The review workflow: which action moves a record from which status to which.
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::record::Status;

/// A review action (审核操作).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 提交: draft or returned → submitted; blocked by error findings
    Submit,
    /// 退回: submitted → returned; needs a comment
    Return,
    /// 审核通过: submitted → approved
    Approve,
    /// 公开: approved → published
    Publish,
    /// 重新打开: approved or published → draft (admin)
    Reopen,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Return => "return",
            Self::Approve => "approve",
            Self::Publish => "publish",
            Self::Reopen => "reopen",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Published => "published",
        }
    }

    /// The Chinese name (`labels=zh` exports).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Submitted => "已提交",
            Self::Returned => "已退回",
            Self::Approved => "已审核",
            Self::Published => "已公开",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Draft, Self::Submitted, Self::Returned, Self::Approved, Self::Published]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether the record's content may be replaced (drafts and returned records only;
    /// approved and published ones are frozen until reopened).
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Returned)
    }
}

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// The action does not apply to a record in this status.
    NotAllowed { action: Action, status: Status },
    /// `return` needs a comment saying what to fix.
    CommentRequired,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAllowed { action, status } => {
                write!(f, "`{}` is not possible for a record in status `{}`", action.as_str(), status.as_str())
            }
            Self::CommentRequired => f.write_str("`return` needs a comment saying what to fix"),
        }
    }
}

/// The status after `action`, or why it cannot be taken.
pub fn next_status(status: Status, action: Action, comment: Option<&str>) -> Result<Status, TransitionError> {
    use Action::*;
    use Status::*;
    if action == Return && comment.is_none_or(|c| c.trim().is_empty()) {
        return Err(TransitionError::CommentRequired);
    }
    match (status, action) {
        (Draft | Returned, Submit) => Ok(Submitted),
        (Submitted, Return) => Ok(Returned),
        (Submitted, Approve) => Ok(Approved),
        (Approved, Publish) => Ok(Published),
        (Approved | Published, Reopen) => Ok(Draft),
        (status, action) => Err(TransitionError::NotAllowed { action, status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use Status::*;

    #[test]
    fn the_review_path_runs_draft_to_published() {
        let mut status = Draft;
        for action in [Submit, Approve, Publish] {
            status = next_status(status, action, None).unwrap();
        }
        assert_eq!(status, Published);
        assert_eq!(next_status(Published, Reopen, None), Ok(Draft));
    }

    #[test]
    fn a_returned_record_can_be_fixed_and_resubmitted() {
        assert_eq!(next_status(Submitted, Return, Some("基本支出合计不符")), Ok(Returned));
        assert!(Returned.is_editable());
        assert_eq!(next_status(Returned, Submit, None), Ok(Submitted));
    }

    #[test]
    fn return_needs_a_comment() {
        assert_eq!(next_status(Submitted, Return, None), Err(TransitionError::CommentRequired));
        assert_eq!(next_status(Submitted, Return, Some("  ")), Err(TransitionError::CommentRequired));
    }

    #[test]
    fn forbidden_paths_are_refused() {
        for (status, action) in [
            (Draft, Approve),
            (Draft, Publish),
            (Draft, Reopen),
            (Submitted, Submit),
            (Submitted, Publish),
            (Returned, Approve),
            (Approved, Submit),
            (Approved, Approve),
            (Published, Publish),
            (Published, Submit),
        ] {
            assert_eq!(next_status(status, action, Some("x")), Err(TransitionError::NotAllowed { action, status }));
        }
        assert!(!Approved.is_editable() && !Published.is_editable() && !Submitted.is_editable());
    }
}
