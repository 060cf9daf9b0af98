//! State names and kinds from the serialization proxies at the start of state files. Placeholder: being written.
