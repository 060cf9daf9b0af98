//! Analysis over parsed metadata.
