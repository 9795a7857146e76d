//! The setup wizard's pages: the lab at a glance, one page per section that
//! deploys a stack (`/lab/<slug>`), Testing (`/lab/testing`), and teardown.

pub mod overview;
pub mod section;
pub mod teardown;
pub mod testing;

use keywatch_domain::lab::LabSection;

/// The page of a section.
pub fn section_href(section: LabSection) -> String {
    format!("/lab/{}", section.slug())
}
