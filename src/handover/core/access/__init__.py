"""Access to personal records: the access log's entries in the transparency log."""
