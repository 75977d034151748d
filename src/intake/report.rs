//! Narrative self-evaluation reports (自评报告) read by the phrasing these reports share.
