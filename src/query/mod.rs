//! Questions over the permanent record of human visits: filters, and the reports they give.
//! Shared by `stats` and the dashboard.

pub mod filter;
pub mod goal;
pub mod report;
